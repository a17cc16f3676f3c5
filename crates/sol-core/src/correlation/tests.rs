//! Hand-derived checks of the evaluation: measurement ÷ built-in ceilings.

use super::*;
use crate::ceilings::Ceilings;
use crate::series::{RawSeries, Sample};
use crate::test_support::window;
use crate::window::Window;

/// `metric` on GPU `uuid` every 10 s over [90, 210] (window [100, 200] in most tests).
fn series(metric: &str, uuid: &str, model: &str, value: f64) -> RawSeries {
    let labels = [
        ("UUID", uuid),
        ("Hostname", "n1"),
        ("gpu", &uuid[4..]),
        ("modelName", model),
    ];
    RawSeries {
        metric: metric.into(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        samples: (9..=21)
            .map(|i| Sample {
                t_s: f64::from(i) * 10.0,
                value,
            })
            .collect(),
    }
}

struct Case {
    series: Vec<RawSeries>,
    window: Window,
    expected_gpus: Option<u32>,
    hw_key: &'static str,
    context: Context,
    kernels: Option<KernelCategories>,
}

impl Case {
    fn new(hw_key: &'static str, series: Vec<RawSeries>) -> Case {
        Case {
            series,
            window: window(100.0, 200.0),
            expected_gpus: Some(1),
            hw_key,
            context: Context::default(),
            kernels: None,
        }
    }

    fn run(&self) -> Result<Correlation, EvalError> {
        let ceilings = Ceilings::builtin().unwrap();
        let cell = measure_cell(
            &CellData {
                series: &self.series,
                window: &self.window,
                expected_gpus: self.expected_gpus.map(|n| (n, "--n-gpus".to_string())),
                hw_key: Some(self.hw_key),
                context: &self.context,
            },
            &ceilings,
        )?;
        evaluate(&EvalInput {
            cell_id: "c1",
            measurement: &cell.measurement,
            ceilings: &ceilings,
            hardware: &cell.hardware,
            context: &self.context,
            tensor_peak: None,
            provenance: &Provenance::default(),
            kernels: self.kernels.as_ref().map(|k| (k, "cells/c1/kernels.json")),
            ncu_evidence: false,
            extra_warnings: &cell.warnings,
        })
    }
}

const H100: &str = "NVIDIA H100 80GB HBM3";

fn close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() < 1e-3,
        "{what}: {actual} vs {expected}"
    );
}

#[test]
fn tensor_is_clock_corrected_against_the_quant_peak() {
    // TENSOR_ACTIVE 0.5 at SM clock 1600 MHz on H100 SXM (peak quoted at 1830 MHz):
    // 0.5 × 1600 / 1830 = 0.437158 → 43.7158 %; uncorrected 50 %; factor 1600/1830 = 0.874317.
    // quant fp8 → fp8_dense_pflops 1.9789 PF = 1978.9 TFLOPS → 0.4371585 × 1978.9 = 865.093 TFLOPS.
    let mut case = Case::new(
        "h100_sxm",
        vec![
            series("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "GPU-0", H100, 0.5),
            series("DCGM_FI_DEV_SM_CLOCK", "GPU-0", H100, 1600.0),
        ],
    );
    case.context.quant = Some("fp8".into());
    let result = case.run().unwrap();
    let tensor = row_of(&result, Resource::Tensor).unwrap();
    assert_eq!(tensor.peak_key, "fp8_dense_pflops");
    assert_eq!(tensor.ceiling, "h100_sxm.fp8_dense_pflops");
    close(tensor.sol_pct.unwrap(), 43.7158, "corrected");
    close(tensor.sol_pct_uncorrected.unwrap(), 50.0, "uncorrected");
    let correction = tensor.clock_correction.as_ref().unwrap();
    assert_eq!(
        (correction.reference_mhz, correction.reference.as_str()),
        (1830.0, "tensor_peak_clock_mhz")
    );
    close(correction.mean_clock_mhz.unwrap(), 1600.0, "mean clock");
    close(tensor.measured_tflops_avg.unwrap(), 865.093, "TFLOPS");
}

#[test]
fn corrected_tensor_above_the_quoted_clock_is_clamped_and_said() {
    // 0.95 × 1980 / 1830 = 1.0279 → clamped to 100 %.
    let result = Case::new(
        "h100_sxm",
        vec![
            series("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "GPU-0", H100, 0.95),
            series("DCGM_FI_DEV_SM_CLOCK", "GPU-0", H100, 1980.0),
        ],
    )
    .run()
    .unwrap();
    let tensor = row_of(&result, Resource::Tensor).unwrap();
    close(tensor.sol_pct.unwrap(), 100.0, "clamped");
    assert!(tensor.notes.iter().any(|n| n.contains("clamped")));
}

#[test]
fn a_missing_gpu_counts_as_idle_and_is_reported() {
    // One of two expected GPUs reports DRAM 0.5: 0.5 × 100 s / (100 s × 2) = 25 %; over the
    // covered GPU-time it is 50 %.
    let mut case = Case::new(
        "h100_sxm",
        vec![series("DCGM_FI_PROF_DRAM_ACTIVE", "GPU-0", H100, 0.5)],
    );
    case.expected_gpus = Some(2);
    let result = case.run().unwrap();
    let hbm = row_of(&result, Resource::Hbm).unwrap();
    assert_eq!(result.n_gpus, 2);
    close(hbm.sol_pct.unwrap(), 25.0, "strict");
    close(hbm.sol_pct_of_covered_time.unwrap(), 50.0, "covered");
    close(hbm.coverage_pct, 50.0, "coverage");
    // 0.25 × 3.35e12 B/s per GPU; × 100 s × 2 GPUs in total.
    close(hbm.measured_bytes_per_s.unwrap() / 1e12, 0.8375, "bytes/s");
    close(
        hbm.measured_bytes_total.unwrap() / 1e12,
        167.5,
        "bytes total",
    );
    assert!(
        result
            .warnings
            .iter()
            .any(|w| w.starts_with("MISSING GPUS: 1 of 2")),
        "{:?}",
        result.warnings
    );
    assert_eq!(result.gpus.missing, 1);
}

#[test]
fn nvlink_bytes_against_bidirectional_and_per_direction_peaks() {
    // TX 1e11 + RX 2e11 = 3e11 B/s vs 0.9e12 bidirectional → 33.333 %;
    // TX 1e11 / 0.45e12 = 22.222 %, RX 44.444 %, max 44.444 %. Total 3e11 × 100 s = 3e13 B.
    let result = Case::new(
        "h100_sxm",
        vec![
            series("DCGM_FI_PROF_NVLINK_TX_BYTES", "GPU-0", H100, 1e11),
            series("DCGM_FI_PROF_NVLINK_RX_BYTES", "GPU-0", H100, 2e11),
        ],
    )
    .run()
    .unwrap();
    let nvlink = row_of(&result, Resource::Nvlink).unwrap();
    assert_eq!(
        nvlink.metric,
        "DCGM_FI_PROF_NVLINK_TX_BYTES+DCGM_FI_PROF_NVLINK_RX_BYTES"
    );
    close(nvlink.sol_pct.unwrap(), 33.3333, "bidirectional");
    let per_direction = nvlink.per_direction.as_ref().unwrap();
    close(per_direction.tx_sol_pct.unwrap(), 22.2222, "tx");
    close(per_direction.rx_sol_pct.unwrap(), 44.4444, "rx");
    close(per_direction.max_direction_sol_pct.unwrap(), 44.4444, "max");
    close(nvlink.measured_bytes_total.unwrap() / 1e13, 3.0, "total");
    assert!(!nvlink.is_fallback);
}

#[test]
fn counter_tier_is_a_busy_bound_not_a_sol() {
    // MEM_COPY_UTIL 40 % with no DRAM_ACTIVE: sol_pct null, busy-time upper bound 40 %.
    let result = Case::new(
        "h100_sxm",
        vec![series("DCGM_FI_DEV_MEM_COPY_UTIL", "GPU-0", H100, 40.0)],
    )
    .run()
    .unwrap();
    let hbm = row_of(&result, Resource::Hbm).unwrap();
    assert_eq!(hbm.tier, Tier::Counter);
    assert!(hbm.is_fallback);
    assert_eq!(hbm.sol_pct, None);
    close(hbm.busy_time_upper_bound_pct.unwrap(), 40.0, "busy bound");
    assert_eq!(hbm.measured_bytes_per_s, None);
    assert_eq!(result.dcgm_group_level, "counter");
}

#[test]
fn short_window_and_unsteady_load_are_flagged() {
    // 30 s window < min_sweep_seconds 60; num_prompts 100 < 2 × concurrency 64.
    let mut case = Case::new(
        "h100_sxm",
        vec![series("DCGM_FI_PROF_DRAM_ACTIVE", "GPU-0", H100, 0.5)],
    );
    case.window = window(100.0, 130.0);
    case.context.num_prompts = Some(100);
    case.context.concurrency = Some(64);
    let result = case.run().unwrap();
    assert!(result.short_sweep_warning);
    assert!(
        result
            .warnings
            .iter()
            .any(|w| w.starts_with("SHORT WINDOW"))
    );
    assert!(
        result
            .warnings
            .iter()
            .any(|w| w.starts_with("UNSTEADY WINDOW"))
    );
}

#[test]
fn a_window_without_samples_is_an_error_not_zero() {
    let mut case = Case::new(
        "h100_sxm",
        vec![series("DCGM_FI_PROF_DRAM_ACTIVE", "GPU-0", H100, 0.5)],
    );
    case.window = window(10_000.0, 10_100.0);
    assert!(matches!(case.run(), Err(EvalError::NoData { .. })));
}

#[test]
fn ceilings_that_disagree_with_the_series_raise_a_loud_warning() {
    let result = Case::new(
        "b200_sm100",
        vec![series(
            "DCGM_FI_PROF_DRAM_ACTIVE",
            "GPU-0",
            "NVIDIA GB300",
            0.5,
        )],
    )
    .run()
    .unwrap();
    assert_eq!(
        result.hardware.model_name_match.as_deref(),
        Some("gb300_nvl72")
    );
    assert!(
        result
            .warnings
            .iter()
            .any(|w| w.starts_with("HARDWARE MISMATCH")),
        "{:?}",
        result.warnings
    );
    assert!(matches!(
        Case::new(
            "no_such_gpu",
            vec![series("DCGM_FI_PROF_DRAM_ACTIVE", "GPU-0", H100, 0.5)]
        )
        .run(),
        Err(EvalError::Ceilings(_))
    ));
}

#[test]
fn pre_hopper_dram_scales_with_the_memory_clock() {
    // A100 40 GB: DRAM_ACTIVE counts cycles at the current memory clock, peak at 1215 MHz.
    // 0.6 at 1215 MHz → 60 %; at 607.5 MHz → 0.6 × 607.5 / 1215 = 30 %.
    const A100: &str = "NVIDIA A100-SXM4-40GB";
    for (clock, expected) in [(1215.0, 60.0), (607.5, 30.0)] {
        let result = Case::new(
            "a100_sxm4_40gb",
            vec![
                series("DCGM_FI_PROF_DRAM_ACTIVE", "GPU-0", A100, 0.6),
                series("DCGM_FI_DEV_MEM_CLOCK", "GPU-0", A100, clock),
            ],
        )
        .run()
        .unwrap();
        close(
            row_of(&result, Resource::Hbm).unwrap().sol_pct.unwrap(),
            expected,
            "a100 hbm",
        );
    }
}

#[test]
fn gddr_with_ecc_reads_nine_eighths_high() {
    // L40S (GDDR6, ECC, CC 8.9): DRAM_ACTIVE 0.9 × 8/9 = 0.8 → 80 % (memory clock at its
    // observed maximum, so the clock scaling is 1).
    const L40S: &str = "NVIDIA L40S";
    let result = Case::new(
        "l40s",
        vec![
            series("DCGM_FI_PROF_DRAM_ACTIVE", "GPU-0", L40S, 0.9),
            series("DCGM_FI_DEV_MEM_CLOCK", "GPU-0", L40S, 9001.0),
        ],
    )
    .run()
    .unwrap();
    close(
        row_of(&result, Resource::Hbm).unwrap().sol_pct.unwrap(),
        80.0,
        "l40s hbm",
    );
}

#[test]
fn attribution_uses_time_shares_for_this_rows_keys() {
    // NVLink 33.333 % (as above), HBM DRAM 0.25 → 25 %. kernels: NCCL 30, GEMM 70 samples.
    // NCCL → NVLink (default for collectives): 33.333 / 0.3 = 111.111 % → above 100, with a note.
    // GEMM → HBM (default): 25 / 0.7 = 35.714 %; attributed bytes = 0.7 × total HBM bytes.
    let mut case = Case::new(
        "h100_sxm",
        vec![
            series("DCGM_FI_PROF_NVLINK_TX_BYTES", "GPU-0", H100, 1e11),
            series("DCGM_FI_PROF_NVLINK_RX_BYTES", "GPU-0", H100, 2e11),
            series("DCGM_FI_PROF_DRAM_ACTIVE", "GPU-0", H100, 0.25),
        ],
    );
    case.kernels =
        Some(KernelCategories::from_json(r#"{"per_category": {"NCCL": 30, "GEMM": 70}}"#).unwrap());
    let result = case.run().unwrap();
    let gemm = &result.per_category_attribution[0];
    assert_eq!(gemm.category, "GEMM");
    close(gemm.time_share, 0.7, "share");
    close(gemm.time_s, 70.0, "time");
    close(
        gemm.sol_pct_if_exclusive.unwrap(),
        35.7143,
        "gemm exclusive",
    );
    let hbm_total = row_of(&result, Resource::Hbm)
        .unwrap()
        .measured_bytes_total
        .unwrap();
    close(
        gemm.attributed.unwrap() / hbm_total,
        0.7,
        "attributed share",
    );
    let nccl = &result.per_category_attribution[1];
    assert_eq!(nccl.ceiling.as_deref(), Some("h100_sxm.nvlink4_tbps"));
    close(nccl.sol_pct_if_exclusive.unwrap(), 111.1111, "above 100");
    assert!(
        nccl.notes
            .iter()
            .any(|n| n.contains("outside this category"))
    );
    assert_eq!(
        result.kernels_json_path.as_deref(),
        Some("cells/c1/kernels.json")
    );
}

#[test]
fn next_lever_names_the_bound_and_a_gate() {
    let mut case = Case::new(
        "h100_sxm",
        vec![series("DCGM_FI_PROF_DRAM_ACTIVE", "GPU-0", H100, 0.85)],
    );
    case.context.quant = Some("bf16".into());
    let result = case.run().unwrap();
    let lever = &result.next_lever;
    assert_eq!(lever.bounding_resource, Some(Resource::Hbm));
    assert!(
        lever.verdict.starts_with("HBM-bound at 85.0 %"),
        "{}",
        lever.verdict
    );
    assert!(
        lever
            .frontier
            .iter()
            .any(|l| l.lever.starts_with("FP8 (or FP4"))
    );
    assert!(lever.frontier.iter().all(|l| !l.gate.is_empty()));
    assert_eq!(lever.frontier[0].rank, 1);
}

#[test]
fn the_busiest_direction_is_found_per_gpu() {
    // Two GPUs in a pipeline: GPU-0 sends 400 GB/s and receives nothing, GPU-1 receives 300.
    // Workload TX = 200 GB/s (44.4 % of 450 GB/s), but GPU-0's TX runs at 400 / 450 = 88.9 %.
    let mut case = Case::new(
        "h100_sxm",
        vec![
            series("DCGM_FI_PROF_NVLINK_TX_BYTES", "GPU-0", H100, 4e11),
            series("DCGM_FI_PROF_NVLINK_RX_BYTES", "GPU-0", H100, 0.0),
            series("DCGM_FI_PROF_NVLINK_TX_BYTES", "GPU-1", H100, 0.0),
            series("DCGM_FI_PROF_NVLINK_RX_BYTES", "GPU-1", H100, 3e11),
        ],
    );
    case.expected_gpus = Some(2);
    let result = case.run().unwrap();
    let directions = row_of(&result, Resource::Nvlink)
        .unwrap()
        .per_direction
        .clone()
        .unwrap();
    close(directions.tx_sol_pct.unwrap(), 44.4444, "workload tx");
    close(
        directions.max_direction_sol_pct.unwrap(),
        88.8889,
        "busiest direction",
    );
    assert_eq!(directions.max_direction_gpu.as_deref(), Some("n1/GPU-0"));
}

#[test]
fn a_missing_direction_is_null_and_flagged_not_zero() {
    // TX 45 GB/s only: bidirectional 45e9 / 0.9e12 = 5 % is a lower bound; RX is null.
    let result = Case::new(
        "h100_sxm",
        vec![series("DCGM_FI_PROF_NVLINK_TX_BYTES", "GPU-0", H100, 45e9)],
    )
    .run()
    .unwrap();
    let nvlink = row_of(&result, Resource::Nvlink).unwrap();
    close(nvlink.sol_pct.unwrap(), 5.0, "lower bound");
    assert_eq!(nvlink.per_direction.as_ref().unwrap().rx_bytes_per_s, None);
    assert!(
        result.warnings.iter().any(|w| w.contains("INCOMPLETE: RX")),
        "{:?}",
        result.warnings
    );
}

#[test]
fn invalid_gpus_leave_the_denominator() {
    // 8 H200s: GPUs 0–6 DRAM 0.5; GPU 7 DRAM and tensor all zero while GPU_UTIL is 100 %.
    // Over the 7 valid GPUs: 0.5 × 7 / 7 = 50 % (not 0.5 × 7 / 8 = 43.75 %).
    const H200: &str = "NVIDIA H200";
    let mut all: Vec<RawSeries> = (0..7)
        .map(|i| series("DCGM_FI_PROF_DRAM_ACTIVE", &format!("GPU-{i}"), H200, 0.5))
        .collect();
    all.push(series("DCGM_FI_PROF_DRAM_ACTIVE", "GPU-7", H200, 0.0));
    all.push(series(
        "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
        "GPU-7",
        H200,
        0.0,
    ));
    all.push(series("DCGM_FI_DEV_GPU_UTIL", "GPU-7", H200, 100.0));
    let mut case = Case::new("h200_sxm", all);
    case.expected_gpus = Some(8);
    let result = case.run().unwrap();
    let hbm = row_of(&result, Resource::Hbm).unwrap();
    close(hbm.sol_pct.unwrap(), 50.0, "valid GPUs only");
    assert_eq!(hbm.n_gpus, 7);
    assert!(
        result
            .warnings
            .iter()
            .any(|w| w.starts_with("INVALID PROF DATA"))
    );
}

#[test]
fn byte_rates_above_twice_the_link_peak_are_dropped() {
    // NVLink TX 45e9 B/s every 10 s, one corrupt 2e12 sample (> 2 × 0.45e12 = 0.9e12): dropped,
    // so the row reads 45e9 / 0.9e12 = 5 % (with it: (9 × 45e9 + 2e12) / 10 / 0.9e12 = 27 %).
    let mut tx = series("DCGM_FI_PROF_NVLINK_TX_BYTES", "GPU-0", H100, 45e9);
    tx.samples[5].value = 2e12;
    let result = Case::new("h100_sxm", vec![tx]).run().unwrap();
    let nvlink = row_of(&result, Resource::Nvlink).unwrap();
    close(nvlink.sol_pct.unwrap(), 5.0, "corrupt sample dropped");
    assert_eq!(result.validity.rejected["NvlinkTx"]["AboveLinkPeak"], 1);
    assert!(
        result
            .warnings
            .iter()
            .any(|w| w.starts_with("IMPLAUSIBLE RATES"))
    );
}

#[test]
fn rigor_needs_prof_data_for_l3() {
    // Byte-grounded PROF data: L3, L4 with ncu evidence. Counter tier (busy-time bounds) grounds
    // nothing: L2 when a profiler attribution exists, else L1.
    assert_eq!(rigor("prof", false, false), "L3");
    assert_eq!(rigor("prof", true, true), "L4");
    assert_eq!(rigor("counter", true, false), "L2");
    assert_eq!(rigor("counter", false, true), "L1");
    assert_eq!(rigor("absent", false, false), "L1");
}
