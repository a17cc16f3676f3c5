//! End-to-end runs on the real exporter fixtures, turned into recordings by stamping repeated
//! scrapes (the fixtures are single `/metrics` outputs without timestamps). Appended Prometheus
//! text with millisecond stamps: the format `dcgm-sol` reads besides OpenMetrics.

mod common;

use std::fs;
use std::path::PathBuf;

use common::{Scratch, assert_close, row};

/// First scrape, epoch seconds; scrapes every 10 s, 13 of them (t0 … t0 + 120 s).
const T0_S: u64 = 1_795_000_000;

/// Repeats a fixture's sample lines as 13 scrapes with millisecond timestamps.
fn recording(fixture: &str) -> String {
    let text = fs::read_to_string(
        common::repo_root()
            .join("testdata/shared-fixtures/dcgm-exporter")
            .join(fixture),
    )
    .unwrap();
    let mut out = String::new();
    for scrape in 0..13u64 {
        let t_ms = (T0_S + scrape * 10) * 1000;
        for line in text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            out.push_str(&format!("{line} {t_ms}\n"));
        }
    }
    out
}

/// A campaign `fx` with an empty cell holding the recording; returns the scrapes path.
fn cell_with_recording(scratch: &Scratch, cell: &str, fixture: &str) -> PathBuf {
    let dir = scratch.cell("fx", cell);
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dcgm-scrapes.prom");
    fs::write(&path, recording(fixture)).unwrap();
    path
}

fn window_args() -> Vec<String> {
    // Window [t0 + 10, t0 + 110]: every span inside is covered by the repeated scrapes.
    vec![
        "--start".into(),
        (T0_S + 10).to_string(),
        "--end".into(),
        (T0_S + 110).to_string(),
    ]
}

fn run_json(scratch: &Scratch, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--json", "correlate", "--campaign", "fx"];
    args.extend_from_slice(extra);
    let window = window_args();
    args.extend(window.iter().map(String::as_str));
    let output = scratch.cmd(&args).output().unwrap();
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a100_mig_fixture_reproduces_the_dcgm_user_guide_tensor_check() {
    let scratch = Scratch::empty();
    cell_with_recording(&scratch, "a100", "a100-mig-prof.prom");
    let result = run_json(
        &scratch,
        &[
            "--cell-id",
            "a100",
            "--hw-key",
            "a100_sxm4_40gb",
            "--n-gpus",
            "1",
            "--tensor-peak",
            "bf16_dense_pflops",
        ],
    );
    // GPU-level PIPE_TENSOR_ACTIVE 0.929260 at SM clock 1215 MHz; A100 dense 312 TFLOPS quoted at
    // 1410 MHz: 0.92926 × 1215 / 1410 = 0.800743 → 80.0743 %, × 312 = 249.83 TFLOPS — the DCGM
    // user guide's dcgmproftester reading of 250–254 TFLOPS. The GI series (0.930433) is not added.
    let tensor = row(&result, "tensor");
    assert_close(
        tensor["sol_pct"].as_f64().unwrap(),
        80.0743,
        1e-3,
        "tensor %SoL",
    );
    assert_close(
        tensor["measured_tflops_avg"].as_f64().unwrap(),
        249.83,
        0.01,
        "TFLOPS",
    );
    assert_close(
        tensor["sol_pct_uncorrected"].as_f64().unwrap(),
        92.926,
        1e-3,
        "uncorrected",
    );
    // Pre-Hopper DRAM 0.690789 at MEM_CLOCK 1215 = the row's mem_clock_max 1215 → 69.0789 %.
    assert_close(
        row(&result, "hbm")["sol_pct"].as_f64().unwrap(),
        69.0789,
        1e-3,
        "HBM",
    );
    // PCIe 33 011 804 + 97 863 601 = 130 875 405 B/s vs 64 GB/s bidirectional (Gen4) = 0.2045 %.
    let pcie = row(&result, "pcie");
    assert_close(
        pcie["measured_bytes_per_s"].as_f64().unwrap(),
        130_875_405.0,
        1e-3,
        "PCIe B/s",
    );
    assert_close(pcie["sol_pct"].as_f64().unwrap(), 0.2045, 1e-4, "PCIe %SoL");
    assert_eq!(
        result["gpus"]["seen"], 1,
        "GPU-level and GI series are one GPU"
    );
}

#[test]
fn vgpu_fixture_without_prof_reports_busy_time_bounds_only() {
    let scratch = Scratch::empty();
    cell_with_recording(&scratch, "vgpu", "a100-vgpu-no-prof.prom");
    let result = run_json(&scratch, &["--cell-id", "vgpu", "--n-gpus", "1"]);
    // modelName "GRID A100-40C" resolves to the A100 40 GB row through the vGPU alias.
    assert_eq!(result["hw_key"], "a100_sxm4_40gb");
    assert_eq!(result["hardware"]["hw_key_source"], "modelName label");
    assert_eq!(result["dcgm_group_level"], "counter");
    let hbm = row(&result, "hbm");
    assert_eq!(hbm["tier"], "counter");
    assert!(hbm["sol_pct"].is_null());
    assert_close(
        hbm["busy_time_upper_bound_pct"].as_f64().unwrap(),
        0.0,
        1e-9,
        "MEM_COPY_UTIL 0 %",
    );
    assert_eq!(row(&result, "tensor")["tier"], "counter");
}

#[test]
fn l40s_idle_fixture_reads_near_zero_with_gddr_correction() {
    let scratch = Scratch::empty();
    cell_with_recording(&scratch, "l40s", "l40s-default-helm.prom");
    let result = run_json(&scratch, &["--cell-id", "l40s", "--n-gpus", "1"]);
    assert_eq!(result["hw_key"], "l40s");
    // Idle DRAM_ACTIVE 0.000131 on GDDR6 with ECC: × 8/9 = 0.00011644 → 0.011644 %.
    assert_close(
        row(&result, "hbm")["sol_pct"].as_f64().unwrap(),
        0.0116,
        1e-4,
        "idle HBM",
    );
    // No NVLink on L40S: the row has no NVLink peak and the fixture no NVLink series.
    assert!(
        result["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["resource"] != "nvlink")
    );
}
