//! `correlate --split-runs`: the real GuideLLM sweep file (two benchmarks, constant 2 and 4
//! req/s) in one cell with one recording of the whole sweep becomes two cells, each measured
//! over its own benchmark's window.
//!
//! Windows from the fixture (`measure_start_time` → `measure_end_time`):
//! run 0: 1786678148.2526348 → 1786678153.2722828; run 1: 1786678163.568684 → 1786678166.087296.
//! The recording: one H200, a scrape every second from t = 1786678140 to 1786678175;
//! DRAM_ACTIVE 0.3 up to t = 1786678158, 0.7 from t = 1786678159. A scrape at t describes
//! (t − 1, t], so run 0 is covered by 0.3 only and run 1 by 0.7 only: HBM %SoL 30 and 70 (on
//! Hopper DRAM_ACTIVE is already the share of peak bandwidth).

mod common;

use std::fs;

use common::{Scratch, repo_root};

const CAMPAIGN: &str = "sweep";

fn recording() -> String {
    let labels = "gpu=\"0\",UUID=\"GPU-00000000-1111-2222-3333-444444444444\",modelName=\"NVIDIA H200\",Hostname=\"node-1\"";
    let mut text = String::from("# TYPE DCGM_FI_PROF_DRAM_ACTIVE gauge\n");
    for t in 1_786_678_140_u64..=1_786_678_175 {
        let value = if t <= 1_786_678_158 { 0.3 } else { 0.7 };
        text.push_str(&format!(
            "DCGM_FI_PROF_DRAM_ACTIVE{{{labels}}} {value} {t}\n"
        ));
    }
    text.push_str("# EOF\n");
    text
}

fn sweep_campaign() -> Scratch {
    let scratch = Scratch::empty();
    let cell = scratch.cell(CAMPAIGN, "g");
    fs::create_dir_all(&cell).unwrap();
    fs::copy(
        repo_root().join("testdata/shared-fixtures/bench/guidellm-benchmarks-v2.json"),
        cell.join("benchmarks.json"),
    )
    .unwrap();
    fs::write(cell.join("dcgm-scrapes.prom"), recording()).unwrap();
    scratch
}

#[test]
fn a_sweep_file_becomes_one_cell_per_run() {
    let scratch = sweep_campaign();
    let output = scratch
        .cmd(&[
            "correlate",
            "--campaign",
            CAMPAIGN,
            "--cell-id",
            "g",
            "--split-runs",
            "--hw-key",
            "h200_sxm",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for (cell, expected_pct, start_s) in [
        ("g.run0", 30.0, 1_786_678_148.2526348),
        ("g.run1", 70.0, 1_786_678_163.568684),
    ] {
        let result = scratch.read_json(&scratch.cell(CAMPAIGN, cell).join("dcgm_correlation.json"));
        let sol = common::row(&result, "hbm")["sol_pct"].as_f64().unwrap();
        common::assert_close(sol, expected_pct, 1e-9, cell);
        common::assert_close(
            result["window"]["start_s"].as_f64().unwrap(),
            start_s,
            1e-3,
            cell,
        );
        assert_eq!(result["cell_id"], cell);
    }
    // The original cell is a container now: `--all-cells` and the report see the two runs.
    assert!(
        scratch
            .cell(CAMPAIGN, "g")
            .join("dcgm-split.json")
            .is_file()
    );
    let all = scratch
        .cmd(&[
            "correlate",
            "--campaign",
            CAMPAIGN,
            "--all-cells",
            "--hw-key",
            "h200_sxm",
        ])
        .output()
        .unwrap();
    assert!(
        all.status.success(),
        "{}",
        String::from_utf8_lossy(&all.stderr)
    );
    let render = scratch
        .cmd(&["--json", "render", "--campaign", CAMPAIGN])
        .output()
        .unwrap();
    assert!(render.status.success());
    let status: serde_json::Value = serde_json::from_slice(&render.stdout).unwrap();
    assert_eq!(status["cells_total"], 2);
    assert_eq!(status["dcgm_grounded"], true);
}

#[test]
fn without_split_a_sweep_cell_says_how_to_choose() {
    let scratch = sweep_campaign();
    let output = scratch
        .cmd(&[
            "correlate",
            "--campaign",
            CAMPAIGN,
            "--cell-id",
            "g",
            "--hw-key",
            "h200_sxm",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("holds 2 runs"), "{stderr}");
    assert!(stderr.contains("--split-runs"), "{stderr}");
}
