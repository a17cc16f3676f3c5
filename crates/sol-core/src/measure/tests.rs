//! Hand-derived checks of the measurement layer.

use super::*;
use crate::assemble::assemble;
use crate::series::{RawSeries, Sample};
use crate::test_support::window;

fn gpu_labels(uuid: &str) -> Vec<(String, String)> {
    vec![
        ("UUID".into(), uuid.into()),
        ("Hostname".into(), "n1".into()),
        ("gpu".into(), uuid[4..].into()),
    ]
}

/// A series sampled every `step_s` from `from_s` to `to_s` inclusive with `value(t)`.
fn series(
    metric: &str,
    uuid: &str,
    from_s: f64,
    to_s: f64,
    step_s: f64,
    value: impl Fn(f64) -> f64,
) -> RawSeries {
    let mut samples = Vec::new();
    let mut t = from_s;
    while t <= to_s + 1e-9 {
        samples.push(Sample {
            t_s: t,
            value: value(t),
        });
        t += step_s;
    }
    RawSeries {
        metric: metric.into(),
        labels: gpu_labels(uuid).into_iter().collect(),
        samples,
    }
}

fn measure_series(all: &[RawSeries], w: &Window, expected: Option<u32>) -> Measurement {
    let assembly = assemble(all);
    measure(&MeasureInput {
        assembly: &assembly,
        window: w,
        expected_gpus: expected.map(|n| (n, "--n-gpus".to_string())),
        default_interval_s: 15.0,
    })
}

fn resource(m: &Measurement, r: Resource) -> &ResourceMeasurement {
    m.resources.iter().find(|x| x.resource == r).unwrap()
}

#[test]
fn constant_ratio_integrates_to_value_times_window() {
    // DRAM 0.5 every 10 s from t=90 to 210 on two GPUs; window [100, 200].
    // Per GPU: samples at 110..200 cover (100, 200] fully → ∫ = 0.5 × 100 = 50, covered 100 s.
    let w = window(100.0, 200.0);
    let all = [
        series(
            "DCGM_FI_PROF_DRAM_ACTIVE",
            "GPU-0",
            90.0,
            210.0,
            10.0,
            |_| 0.5,
        ),
        series(
            "DCGM_FI_PROF_DRAM_ACTIVE",
            "GPU-1",
            90.0,
            210.0,
            10.0,
            |_| 0.5,
        ),
    ];
    let m = measure_series(&all, &w, Some(2));
    assert_eq!(m.scrape_interval_s, 10.0);
    let hbm = resource(&m, Resource::Hbm);
    assert_eq!(hbm.tier, Tier::Prof);
    for gpu in &hbm.per_gpu {
        assert!((gpu.full.integral - 50.0).abs() < 1e-9);
        assert_eq!(gpu.full.covered_s, 100.0);
    }
    // Constant data: shifting the window by ±10 s changes nothing → bounds [0.5, 0.5].
    // ∫ over both GPUs: 2 × 0.5 × 100 s = 100 whatever the shift.
    let [lo, hi] = hbm.edge_integrals.unwrap();
    assert!((lo - 100.0).abs() < 1e-9 && (hi - 100.0).abs() < 1e-9);
    assert_eq!(resource(&m, Resource::Nvlink).tier, Tier::Absent);
}

#[test]
fn gap_lowers_coverage_and_missing_gpu_raises_the_denominator() {
    // GPU-0 reports at 110..130 and 180..200 (10 s steps): the 50 s hole (130, 180] exceeds two
    // intervals, so the sample at 180 covers only (170, 180]. Covered: (100,130] = 30 s plus
    // (170,200] = 30 s = 60 s → coverage 60 %.
    let w = window(100.0, 200.0);
    let mut s = series(
        "DCGM_FI_PROF_DRAM_ACTIVE",
        "GPU-0",
        110.0,
        200.0,
        10.0,
        |_| 0.4,
    );
    s.samples.retain(|x| x.t_s <= 130.0 || x.t_s >= 180.0);
    let m = measure_series(&[s], &w, Some(4));
    assert_eq!(m.gpus_expected.n_gpus, 4);
    assert_eq!(m.gpus_seen.len(), 1);
    let gpu = &resource(&m, Resource::Hbm).per_gpu[0];
    assert!((gpu.full.covered_s - 60.0).abs() < 1e-9);
    assert!((gpu.full.integral - 0.4 * 60.0).abs() < 1e-9);
}

#[test]
fn tensor_carries_the_clock_product_and_links_their_directions() {
    // Tensor 0.5 at SM clock 1830 MHz every 10 s; window [100, 200] → ∫ tensor = 50,
    // ∫ tensor × clock = 0.5 × 1830 × 100 = 91 500.
    // NVLink TX 1e11 B/s and RX 2e11 B/s → ∫ TX = 1e13 B, ∫ RX = 2e13 B, primary 3e13 B.
    let w = window(100.0, 200.0);
    let all = [
        series(
            "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
            "GPU-0",
            90.0,
            210.0,
            10.0,
            |_| 0.5,
        ),
        series("DCGM_FI_DEV_SM_CLOCK", "GPU-0", 90.0, 210.0, 10.0, |_| {
            1830.0
        }),
        series(
            "DCGM_FI_PROF_NVLINK_TX_BYTES",
            "GPU-0",
            90.0,
            210.0,
            10.0,
            |_| 1e11,
        ),
        series(
            "DCGM_FI_PROF_NVLINK_RX_BYTES",
            "GPU-0",
            90.0,
            210.0,
            10.0,
            |_| 2e11,
        ),
    ];
    let m = measure_series(&all, &w, Some(1));
    let tensor = &resource(&m, Resource::Tensor).per_gpu[0].full;
    assert!((tensor.integral - 50.0).abs() < 1e-9);
    assert!((tensor.scaled_integral.unwrap() - 91_500.0).abs() < 1e-6);
    let link = &resource(&m, Resource::Nvlink).per_gpu[0].full;
    assert!((link.integral - 3e13).abs() < 1.0);
    assert!((link.tx_integral.unwrap() - 1e13).abs() < 1.0);
    assert!((link.rx_integral.unwrap() - 2e13).abs() < 1.0);
    assert_eq!(resource(&m, Resource::Nvlink).unit, MeasuredUnit::BytesPerS);
}

#[test]
fn dev_nvlink_bandwidth_is_integrated_as_a_rate_in_its_unit() {
    // 449 reads 100 000 (units of 1000 KiB/s) = 1.024e11 B/s; over 100 s → 1.024e13 B.
    // A rate() over it would read ~0 for a constant value; we integrate the value itself.
    let w = window(100.0, 200.0);
    let all = [series(
        "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL",
        "GPU-0",
        90.0,
        210.0,
        10.0,
        |_| 100_000.0,
    )];
    let m = measure_series(&all, &w, Some(1));
    let nvlink = resource(&m, Resource::Nvlink);
    assert_eq!(nvlink.tier, Tier::Counter);
    assert!((nvlink.per_gpu[0].full.integral - 1.024e13).abs() < 1.0);
}

#[test]
fn all_zero_prof_while_busy_is_invalid_not_zero() {
    let w = window(100.0, 200.0);
    let all = [
        series(
            "DCGM_FI_PROF_DRAM_ACTIVE",
            "GPU-0",
            90.0,
            210.0,
            10.0,
            |_| 0.0,
        ),
        series(
            "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
            "GPU-0",
            90.0,
            210.0,
            10.0,
            |_| 0.0,
        ),
        series("DCGM_FI_DEV_GPU_UTIL", "GPU-0", 90.0, 210.0, 10.0, |_| {
            100.0
        }),
        series(
            "DCGM_FI_DEV_MEM_COPY_UTIL",
            "GPU-0",
            90.0,
            210.0,
            10.0,
            |_| 40.0,
        ),
    ];
    let m = measure_series(&all, &w, Some(1));
    assert_eq!(m.invalid_prof_gpus, vec!["n1/GPU-0".to_string()]);
    // HBM falls back to the busy-time bound (MEM_COPY_UTIL 40 % → ∫ 0.4 × 100 = 40).
    let hbm = resource(&m, Resource::Hbm);
    assert_eq!(hbm.tier, Tier::Counter);
    assert_eq!(hbm.unit, MeasuredUnit::BusyFraction);
    assert!((hbm.per_gpu[0].full.integral - 40.0).abs() < 1e-9);
    assert!(hbm.notes.iter().any(|n| n.contains("invalid")));
}

#[test]
fn energy_from_counter_with_a_reset_and_power_mean() {
    // Window [100, 200]; power 500 W every 10 s; energy counter (mJ) rises 5 000 000 mJ (5 kJ)
    // per 10 s but resets to 0 at t=150 and reads 2 500 000 then (counted from zero).
    // Segments (100,110]..(140,150]: the (140,150] one is the reset → +2.5 kJ; the other nine
    // full segments inside (100,200] → 9 × 5 kJ = 45 kJ; total 47.5 kJ. Power mean 500 W.
    let w = window(100.0, 200.0);
    let counter = |t: f64| {
        if t < 150.0 {
            (t - 90.0) * 500_000.0
        } else {
            (t - 145.0) * 500_000.0
        }
    };
    let all = [
        series(
            "DCGM_FI_DEV_POWER_USAGE",
            "GPU-0",
            90.0,
            210.0,
            10.0,
            |_| 500.0,
        ),
        series(
            "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
            "GPU-0",
            90.0,
            210.0,
            10.0,
            counter,
        ),
    ];
    let m = measure_series(&all, &w, Some(1));
    let gpu = &m.energy.per_gpu[0];
    assert_eq!(gpu.mean_power_w, Some(500.0));
    assert_eq!(gpu.energy_source, Some(EnergySource::Counter));
    assert_eq!(gpu.counter_resets, 1);
    assert!(
        (gpu.energy_j.unwrap() - 47_500.0).abs() < 1e-6,
        "{:?}",
        gpu.energy_j
    );
    // ∫power = 50 kJ differs from 47.5 kJ by 5 % < 10 %: no cross-check note.
    assert!(!m.energy.notes.iter().any(|n| n.contains("differ")));
}

#[test]
fn steady_span_trims_a_ramp() {
    // DRAM ramps 0 → 0.6 over (100, 130] then holds: samples every 10 s read interval averages
    // 0.1, 0.3, 0.5 at 110, 120, 130, then 0.6. Threshold 0.51 → first steady sample t=140,
    // span (130, 200]. Steady ∫ = 0.6 × 70 = 42.
    let w = window(100.0, 200.0);
    let ramp = |t: f64| {
        if t <= 100.0 {
            0.0
        } else if t >= 140.0 {
            0.6
        } else {
            0.6 * ((t - 100.0) / 10.0 * 2.0 - 1.0) / 6.0
        }
    };
    let all = [series(
        "DCGM_FI_PROF_DRAM_ACTIVE",
        "GPU-0",
        90.0,
        210.0,
        10.0,
        ramp,
    )];
    let m = measure_series(&all, &w, Some(1));
    assert!(m.steady_state.detected);
    assert_eq!(
        (m.steady_state.start_s, m.steady_state.end_s),
        (130.0, 200.0)
    );
    let steady = resource(&m, Resource::Hbm).per_gpu[0]
        .steady
        .as_ref()
        .unwrap();
    assert!((steady.integral - 42.0).abs() < 1e-9);
}

#[test]
fn unknown_expectation_uses_gpus_seen_with_a_note() {
    let w = window(100.0, 200.0);
    let m = measure_series(
        &[series(
            "DCGM_FI_PROF_DRAM_ACTIVE",
            "GPU-0",
            90.0,
            210.0,
            10.0,
            |_| 0.5,
        )],
        &w,
        None,
    );
    assert_eq!(m.gpus_expected.n_gpus, 1);
    assert!(m.notes.iter().any(|n| n.contains("cannot be detected")));
}

#[test]
fn values_held_across_scrapes_are_integrated_once_each() {
    // Exporter refreshes every 30 s (collect interval), Prometheus scrapes every 10 s. Refresh k
    // (published at 30k) holds DRAM v_k = 0.1 + 0.001k for k ≤ 4 and 0.9 + 0.001k for k ≥ 5,
    // describing (30k − 30, 30k]. A scrape at t shows v_floor(t/30).
    // Window [30, 300] holds refreshes 2..10 exactly: ∫ = 30 × Σ_{k=2..10} v_k with
    // Σ_{k=2..4} = 0.102 + 0.103 + 0.104 = 0.309 and Σ_{k=5..10} = 6 × 0.9 + 0.045 = 5.445,
    // so ∫ = 30 × 5.754 = 172.62 over 270 s.
    // Per-scrape spans would attribute each value to the up-to-20 s after its refresh.
    let value = |t: f64| {
        let k = (t / 30.0).floor();
        if k <= 4.0 {
            0.1 + 0.001 * k
        } else {
            0.9 + 0.001 * k
        }
    };
    let w = window(30.0, 300.0);
    // Scrapes run to t = 610 so the 20 refreshes give enough changes to fit the grid.
    let m = measure_series(
        &[series(
            "DCGM_FI_PROF_DRAM_ACTIVE",
            "GPU-0",
            10.0,
            610.0,
            10.0,
            value,
        )],
        &w,
        Some(1),
    );
    assert_eq!(m.scrape_interval_s, 10.0);
    assert_eq!(m.exporter_update_interval_s, Some(30.0));
    let hbm = &resource(&m, Resource::Hbm).per_gpu[0].full;
    assert!((hbm.integral - 172.62).abs() < 1e-9, "{}", hbm.integral);
    assert!((hbm.covered_s - 270.0).abs() < 1e-9);
    assert!(
        m.notes
            .iter()
            .any(|n| n.contains("values held across scrapes"))
    );
}

#[test]
fn helm_default_cadence_thirty_second_refresh_fifteen_second_scrape() {
    // Exporter refresh every 30 s at 30k − offset; value v_k covers (30k − 30 − offset, 30k −
    // offset]: 0 up to k = 4, then a ramp 0.2, 0.4 and a 0.6 plateau, plus 0.001 on odd k (PROF
    // values never repeat exactly). Scrapes every 15 s. Window [120 − offset, 450 − offset] holds
    // refreshes 5..15: Σ base = 0.2 + 0.4 + 9 × 0.6 = 6.0, odd k 5,7,…,15 add 6 × 0.001 → 6.006;
    // mean = 6.006 × 30 / 330 = 0.546.
    let run = |offset: f64| {
        let value = |t: f64| {
            let k = ((t + offset) / 30.0).floor();
            let base = match k as i64 {
                ..=4 => 0.0,
                5 => 0.2,
                6 => 0.4,
                _ => 0.6,
            };
            base + if (k as i64) % 2 != 0 { 0.001 } else { 0.0 }
        };
        let w = window(120.0 - offset, 450.0 - offset);
        let m = measure_series(
            &[series(
                "DCGM_FI_PROF_DRAM_ACTIVE",
                "GPU-0",
                0.0,
                600.0,
                15.0,
                value,
            )],
            &w,
            Some(1),
        );
        assert_eq!(m.exporter_update_interval_s, Some(30.0));
        let hbm = &resource(&m, Resource::Hbm).per_gpu[0].full;
        (hbm.integral / 330.0, hbm.covered_s)
    };
    // Refreshes exactly at scrape times: the grid is recovered exactly.
    let (mean, covered) = run(0.0);
    assert!((mean - 0.546).abs() < 1e-12, "{mean}");
    assert!((covered - 330.0).abs() < 1e-9);
    // Refreshes 0.5 s before the scrapes that first show them: the fitted grid is 0.5 s late,
    // moving 0.5 s of each window edge to the neighbouring value — at most (0.201 + 0.601) ×
    // 0.5 / 330 = 0.0012 off.
    let (mean, _) = run(0.5);
    assert!((mean - 0.546).abs() < 0.0013, "{mean}");
}

#[test]
fn resource_keys_are_the_serialized_names() {
    for resource in Resource::ALL {
        assert_eq!(
            serde_json::to_string(&resource).unwrap(),
            format!("\"{}\"", resource.key())
        );
    }
}
