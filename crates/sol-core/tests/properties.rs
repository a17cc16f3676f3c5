//! Property tests of the math and the parsers (proptest, stable Rust):
//! - integration is additive over a split window;
//! - a cell's %SoL does not depend on the order of its series, nor on a series given twice;
//! - measured bytes scale linearly with the values;
//! - valid ratios never give a %SoL outside 0–100;
//! - no parser panics on arbitrary input.
//!
//! Fuzzing (`cargo fuzz`) needs a nightly toolchain for libFuzzer's sanitizer flags; this
//! machine has stable only, so the parsers are exercised here instead (see README "Reliability").

use proptest::prelude::*;
use sol_core::bench::{BenchReadOptions, read_bench};
use sol_core::ceilings::Ceilings;
use sol_core::context::Context;
use sol_core::correlation::{
    CellData, Correlation, EvalInput, KernelCategories, Provenance, evaluate, measure_cell,
};
use sol_core::frozen::FrozenSnapshot;
use sol_core::integrate::Spans;
use sol_core::labels::Labels;
use sol_core::promapi::parse_response;
use sol_core::report::status::parse_result;
use sol_core::scope::Scope;
use sol_core::scrape::parse_exposition;
use sol_core::series::{RawSeries, Sample};
use sol_core::window::{Window, WindowConfidence};

/// Window start, epoch s (2026-11-20T14:30:00Z).
const T0: f64 = 1_795_185_000.0;
/// Samples per series: one a second from T0 − 5 s; the window is [T0, T0 + 60 s].
const SAMPLES: usize = 71;

fn window() -> Window {
    Window {
        start_s: T0,
        end_s: T0 + 60.0,
        source: "property test".into(),
        confidence: WindowConfidence::Exact,
        timezone_assumption: None,
        resolution_s: None,
        full_span_s: None,
    }
}

fn labels(gpu: usize) -> Labels {
    [
        ("gpu", gpu.to_string()),
        ("UUID", format!("GPU-{gpu:08x}-0000-0000-0000-000000000000")),
        ("Hostname", "node-1".to_string()),
        ("modelName", "NVIDIA H100 80GB HBM3".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn series(metric: &str, gpu: usize, values: &[f64]) -> RawSeries {
    RawSeries {
        metric: metric.to_string(),
        labels: labels(gpu),
        samples: values
            .iter()
            .enumerate()
            .map(|(i, &value)| Sample {
                t_s: T0 - 5.0 + i as f64,
                value,
            })
            .collect(),
    }
}

/// Per GPU: DRAM_ACTIVE ratios and PCIe TX bytes/s.
fn cell_series(dram: &[Vec<f64>], pcie: &[Vec<f64>]) -> Vec<RawSeries> {
    let mut all = Vec::new();
    for (gpu, (d, p)) in dram.iter().zip(pcie).enumerate() {
        all.push(series("DCGM_FI_PROF_DRAM_ACTIVE", gpu, d));
        all.push(series("DCGM_FI_PROF_PCIE_TX_BYTES", gpu, p));
    }
    all
}

fn correlate(series: &[RawSeries], n_gpus: u32) -> Correlation {
    let ceilings = Ceilings::builtin().unwrap();
    let context = Context::default();
    let window = window();
    let data = CellData {
        series,
        window: &window,
        expected_gpus: Some((n_gpus, "property test".into())),
        hw_key: Some("h100_sxm"),
        context: &context,
    };
    let measured = measure_cell(&data, &ceilings).unwrap();
    let provenance = Provenance {
        captured_sources: Vec::new(),
        queries: Vec::new(),
        scope: Scope::default(),
    };
    evaluate(&EvalInput {
        cell_id: "p",
        measurement: &measured.measurement,
        ceilings: &ceilings,
        hardware: &measured.hardware,
        context: &context,
        tensor_peak: None,
        provenance: &provenance,
        kernels: None,
        ncu_evidence: false,
        extra_warnings: &[],
    })
    .unwrap()
}

fn row<'a>(result: &'a Correlation, resource: &str) -> &'a sol_core::correlation::ResourceRow {
    result
        .resources
        .iter()
        .find(|r| r.resource.key() == resource)
        .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// 1–4 GPUs, each with SAMPLES DRAM ratios in [0, 1] and PCIe rates up to 40 GB/s (below the
/// H100's per-direction peak, so none is rejected as implausible).
fn gpus() -> impl Strategy<Value = (Vec<Vec<f64>>, Vec<Vec<f64>>)> {
    (1usize..=4).prop_flat_map(|n| {
        (
            prop::collection::vec(prop::collection::vec(0.0f64..=1.0, SAMPLES), n),
            prop::collection::vec(prop::collection::vec(0.0f64..=4.0e10, SAMPLES), n),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn integration_is_additive_over_a_split_window(
        values in prop::collection::vec(-1.0e3f64..1.0e3, 2..50),
        a in 0.0f64..10.0,
        length in 0.1f64..60.0,
        split in 0.0f64..=1.0,
    ) {
        let samples: Vec<Sample> = values
            .iter()
            .enumerate()
            .map(|(i, &value)| Sample { t_s: i as f64 * 1.5, value })
            .collect();
        let spans = Spans::new(samples, 1.5);
        let (c, b) = (a + length, a + split * length);
        let whole = spans.integrate(a, c);
        let (left, right) = (spans.integrate(a, b), spans.integrate(b, c));
        prop_assert!(close(whole.integral, left.integral + right.integral));
        prop_assert!(close(whole.covered_s, left.covered_s + right.covered_s));
    }

    #[test]
    fn series_order_and_duplicates_do_not_change_the_result(
        (dram, pcie) in gpus(),
        rotation in 0usize..8,
        duplicate in 0usize..8,
    ) {
        let n = dram.len() as u32;
        let original = cell_series(&dram, &pcie);
        let mut shuffled = original.clone();
        shuffled.reverse();
        let len = shuffled.len();
        shuffled.rotate_left(rotation % len);
        shuffled.push(original[duplicate % len].clone());
        let (a, b) = (correlate(&original, n), correlate(&shuffled, n));
        for resource in ["hbm", "pcie"] {
            let (x, y) = (row(&a, resource), row(&b, resource));
            prop_assert_eq!(x.sol_pct.is_some(), y.sol_pct.is_some());
            if let (Some(x), Some(y)) = (x.sol_pct, y.sol_pct) {
                prop_assert!(close(x, y), "{resource}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn measured_bytes_scale_linearly_with_the_values(
        (dram, pcie) in gpus(),
        k in 0.01f64..=1.0,
    ) {
        let n = dram.len() as u32;
        let scaled: Vec<Vec<f64>> = pcie.iter().map(|v| v.iter().map(|x| x * k).collect()).collect();
        let (a, b) = (correlate(&cell_series(&dram, &pcie), n), correlate(&cell_series(&dram, &scaled), n));
        let (x, y) = (row(&a, "pcie").measured_bytes_per_s, row(&b, "pcie").measured_bytes_per_s);
        prop_assert!(x.is_some() && y.is_some());
        prop_assert!(close(x.unwrap() * k, y.unwrap()), "{x:?} × {k} vs {y:?}");
    }

    #[test]
    fn valid_ratios_never_leave_0_to_100(
        (dram, pcie) in gpus(),
        missing in 0u32..=2,
    ) {
        // Extra expected GPUs without data only lower the figure.
        let n = dram.len() as u32 + missing;
        let result = correlate(&cell_series(&dram, &pcie), n);
        let hbm = row(&result, "hbm");
        for value in [hbm.sol_pct, hbm.steady_state_sol_pct].into_iter().flatten() {
            prop_assert!((0.0..=100.0 + 1e-9).contains(&value), "HBM {value} %");
        }
        if let Some([low, high]) = hbm.sol_pct_bounds {
            prop_assert!(low <= high + 1e-9 && low >= -1e-9 && high <= 100.0 + 1e-9);
        }
    }

}

proptest! {
    // Parsing is cheap: many more cases.
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic_on_arbitrary_text(text in ".{0,400}") {
        let _ = parse_exposition(&text);
        let _ = read_bench("arbitrary.json", &text, &BenchReadOptions::default());
        let _ = parse_result(&text);
        let _ = parse_response(&text);
        let _ = KernelCategories::from_json(&text);
        let _ = FrozenSnapshot::from_yaml(&text);
        let _ = Ceilings::from_yaml(&text, "arbitrary.yaml");
    }

    #[test]
    fn parsers_never_panic_on_damaged_real_inputs(
        cut in 0.0f64..=1.0,
        flip in 0usize..10_000,
        byte in 0u8..=127,
    ) {
        // Real inputs truncated at any point, with one byte replaced anywhere.
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");
        for (name, parse) in [
            ("shared-fixtures/dcgm-exporter/h100x8-pod-labels.prom", 0),
            ("shared-fixtures/bench/guidellm-benchmarks-v2.json", 1),
            ("shared-fixtures/bench/vllm-bench-serve-l40s-2025-05.json", 1),
            ("report/h200-tp8-sweep/c128.json", 2),
        ] {
            let text = std::fs::read_to_string(format!("{root}/{name}")).unwrap();
            let mut bytes = text.into_bytes();
            bytes.truncate((bytes.len() as f64 * cut) as usize);
            if !bytes.is_empty() {
                let at = flip % bytes.len();
                bytes[at] = byte;
            }
            let damaged = String::from_utf8_lossy(&bytes);
            match parse {
                0 => { let _ = parse_exposition(&damaged); }
                1 => { let _ = read_bench(name, &damaged, &BenchReadOptions::default()); }
                _ => { let _ = parse_result(&damaged); }
            }
        }
    }
}
