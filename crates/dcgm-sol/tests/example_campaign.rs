//! The README's first command on the shipped example campaign, checked against the generator's
//! ground truth (computed in Python from the samples it wrote, independently of this code).

mod common;

use std::fs;

use common::{Scratch, assert_close, row};

fn ground_truth() -> serde_json::Value {
    let text = fs::read_to_string(common::example_campaign().join("GROUND_TRUTH.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Mean over the 8 GPUs of a ground-truth per-GPU figure.
fn gpu_mean(cell: &serde_json::Value, field: &str, metric: Option<&str>) -> f64 {
    let gpus = cell["gpus"].as_object().unwrap();
    let values: Vec<f64> = gpus
        .values()
        .map(|g| match metric {
            Some(m) => g[field][m].as_f64().unwrap(),
            None => g[field].as_f64().unwrap(),
        })
        .collect();
    values.iter().sum::<f64>() / values.len() as f64
}

#[test]
fn all_cells_match_the_ground_truth() {
    let scratch = Scratch::with_example();
    let output = scratch
        .cmd(&[
            "correlate",
            "--campaign",
            "h200-tp8-sweep",
            "--all-cells",
            "--timezone",
            "UTC",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("4 cells: 4 ok, 0 failed"), "{stdout}");
    let truth = ground_truth();
    for cell_id in ["c008", "c032", "c064", "c128"] {
        let cell_dir = scratch.cell("h200-tp8-sweep", cell_id);
        assert!(
            cell_dir.join("dcgm-frozen.yaml").is_file(),
            "{cell_id}: no frozen snapshot"
        );
        let result = scratch.read_json(&cell_dir.join("dcgm_correlation.json"));
        let cell = &truth["cells"][cell_id];
        assert_eq!(result["hw_key"], "h200_sxm");
        assert_eq!(result["n_gpus"], 8, "TP 8 from the bench context");
        assert_eq!(result["dcgm_group_level"], "prof");
        assert_close(
            result["window"]["start_s"].as_f64().unwrap(),
            cell["window"]["start_epoch_s"].as_f64().unwrap(),
            1e-3,
            "window start",
        );
        // Hopper: HBM %SoL = mean DRAM_ACTIVE × 100 over all 8 GPUs (all fully covered).
        let dram = gpu_mean(cell, "prof_mean", Some("DCGM_FI_PROF_DRAM_ACTIVE"));
        assert_close(
            row(&result, "hbm")["sol_pct"].as_f64().unwrap(),
            dram * 100.0,
            1e-3,
            &format!("{cell_id} HBM"),
        );
        // Tensor: mean(TENSOR_ACTIVE × SM_CLOCK) / 1830 MHz (H200 tensor_peak_clock_mhz) × 100,
        // against the FP8 dense peak (quant fp8 in the bench context).
        let product = gpu_mean(cell, "tensor_active_x_sm_clock_mhz_mean", None);
        let tensor = row(&result, "tensor");
        assert_close(
            tensor["sol_pct"].as_f64().unwrap(),
            product / 1830.0 * 100.0,
            1e-3,
            &format!("{cell_id} tensor"),
        );
        assert_eq!(tensor["peak_key"], "fp8_dense_pflops");
        assert_close(
            tensor["sol_pct_uncorrected"].as_f64().unwrap(),
            gpu_mean(cell, "prof_mean", Some("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE")) * 100.0,
            1e-3,
            "uncorrected",
        );
        // NVLink: (TX + RX) / 0.9 TB/s bidirectional per GPU.
        let tx = gpu_mean(cell, "prof_mean", Some("DCGM_FI_PROF_NVLINK_TX_BYTES"));
        let rx = gpu_mean(cell, "prof_mean", Some("DCGM_FI_PROF_NVLINK_RX_BYTES"));
        let nvlink = row(&result, "nvlink");
        assert_close(
            nvlink["measured_bytes_per_s"].as_f64().unwrap(),
            tx + rx,
            (tx + rx) * 1e-9,
            "NVLink B/s",
        );
        assert_close(
            nvlink["sol_pct"].as_f64().unwrap(),
            (tx + rx) / 0.9e12 * 100.0,
            1e-3,
            "NVLink %SoL",
        );
        assert_close(
            nvlink["per_direction"]["tx_sol_pct"].as_f64().unwrap(),
            tx / 0.45e12 * 100.0,
            1e-3,
            "NVLink TX",
        );
        // Energy: Σ counter deltas over the window.
        let energy: f64 = cell["gpus"]
            .as_object()
            .unwrap()
            .values()
            .map(|g| g["energy_delta_j"].as_f64().unwrap())
            .sum();
        assert_close(
            result["energy"]["energy_j_total"].as_f64().unwrap(),
            energy,
            0.01,
            "energy",
        );
        assert_eq!(result["energy"]["energy_source"], "counter");
        // Steady state: the generator ramps 15 s and drains 10 s.
        let start = result["window"]["start_s"].as_f64().unwrap();
        let steady = &result["window"]["steady_state"];
        assert_eq!(steady["detected"], true, "{cell_id}");
        let steady_start = steady["start_utc"].as_str().unwrap();
        let steady_start_s = steady_start.parse::<jiff::Timestamp>().unwrap().as_second() as f64;
        assert!(
            (steady_start_s - (start + 15.0)).abs() <= 5.0,
            "{cell_id} steady start {steady_start}"
        );
        assert!(
            row(&result, "hbm")["steady_state_sol_pct"]
                .as_f64()
                .unwrap()
                > row(&result, "hbm")["sol_pct"].as_f64().unwrap()
        );
    }
    let c128 = scratch.read_json(
        &scratch
            .cell("h200-tp8-sweep", "c128")
            .join("dcgm_correlation.json"),
    );
    let warnings: Vec<&str> = c128["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings.iter().any(|w| w.starts_with("UNSTEADY WINDOW")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("STRAGGLER") && w.contains("HBM")),
        "{warnings:?}"
    );
}

#[test]
fn fold_of_the_written_snapshot_reproduces_the_result_byte_for_byte() {
    let scratch = Scratch::with_example();
    scratch
        .cmd(&[
            "correlate",
            "--campaign",
            "h200-tp8-sweep",
            "--cell-id",
            "c064",
        ])
        .assert()
        .success();
    let cell = scratch.cell("h200-tp8-sweep", "c064");
    let original = fs::read_to_string(cell.join("dcgm_correlation.json")).unwrap();
    let frozen = cell.join("dcgm-frozen.yaml");
    fs::remove_file(cell.join("dcgm_correlation.json")).unwrap();
    scratch
        .cmd(&[
            "fold",
            "--campaign",
            "h200-tp8-sweep",
            "--cell-id",
            "c064",
            "--frozen-yaml",
            frozen.to_str().unwrap(),
        ])
        .assert()
        .success();
    let folded = fs::read_to_string(cell.join("dcgm_correlation.json")).unwrap();
    assert!(
        original == folded,
        "fold output differs from correlate output"
    );
}

#[test]
fn dry_run_lists_queries_and_writes_nothing() {
    let scratch = Scratch::with_example();
    let assert = scratch
        .cmd(&[
            "correlate",
            "--campaign",
            "h200-tp8-sweep",
            "--cell-id",
            "c008",
            "--dry-run",
            "--namespace",
            "inference",
        ])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    // One raw-sample query per catalog metric and namespace spelling, nothing fired.
    let queries: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("query    "))
        .collect();
    let metrics: std::collections::BTreeSet<&str> =
        queries.iter().filter_map(|q| q.split('{').next()).collect();
    assert!(
        metrics.len() > 20,
        "every catalog metric is planned: {metrics:?}"
    );
    assert_eq!(queries.len(), 2 * metrics.len(), "{stdout}");
    assert!(
        queries.contains(&"DCGM_FI_PROF_DRAM_ACTIVE{namespace=\"inference\"}[210s]"),
        "{stdout}"
    );
    assert!(
        queries.contains(&"DCGM_FI_PROF_DRAM_ACTIVE{exported_namespace=\"inference\"}[210s]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("GPUs     8 (bench context TP×DP×PP)"),
        "{stdout}"
    );
    assert!(
        !scratch
            .cell("h200-tp8-sweep", "c008")
            .join("dcgm_correlation.json")
            .exists()
    );
}

#[test]
fn a_window_beside_the_load_is_flagged_as_misaligned() {
    // Reading c064's captured_at (the start, 14:20:00) as the END puts the window on
    // [14:18:00, 14:20:00], where the GPUs idle; the load starts right after it.
    let scratch = Scratch::with_example();
    let output = scratch
        .cmd(&[
            "--json",
            "correlate",
            "--campaign",
            "h200-tp8-sweep",
            "--cell-id",
            "c064",
            "--captured-at-is-end",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let warnings: Vec<&str> = result["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings.iter().any(|w| w.starts_with("WINDOW MISALIGNED?")),
        "{warnings:?}"
    );
}
