//! The newer bench formats end to end, on the real fixtures of testdata/shared-fixtures/bench:
//! an SGLang JSONL (no timestamps: the window is the last run's duration ending at the file's
//! modification time, flagged `external`) and an llm-d Benchmark Report v0.2 (window from
//! `run.time`, and `--emit-llmd` writing our numbers into `results.observability`).
//!
//! Each cell gets a recording of one H200 whose DRAM_ACTIVE is constant over the window, so the
//! expected HBM %SoL is that constant × 100 (on Hopper DRAM_ACTIVE is the share of peak).

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use common::{Scratch, repo_root};
use serde_json::Value;

const CAMPAIGN: &str = "formats";

/// A recording of one H200: DRAM_ACTIVE `value` every second over `[from_s, to_s]`.
fn recording(from_s: u64, to_s: u64, value: f64) -> String {
    let labels = "gpu=\"0\",UUID=\"GPU-00000000-1111-2222-3333-444444444444\",modelName=\"NVIDIA H200\",Hostname=\"node-1\"";
    let mut text = String::from("# TYPE DCGM_FI_PROF_DRAM_ACTIVE gauge\n");
    for t in from_s..=to_s {
        text.push_str(&format!(
            "DCGM_FI_PROF_DRAM_ACTIVE{{{labels}}} {value} {t}\n"
        ));
    }
    text.push_str("# EOF\n");
    text
}

fn cell_with(scratch: &Scratch, cell: &str, fixture: &str, name: &str) -> std::path::PathBuf {
    let dir = scratch.cell(CAMPAIGN, cell);
    fs::create_dir_all(&dir).unwrap();
    let target = dir.join(name);
    fs::copy(
        repo_root()
            .join("testdata/shared-fixtures/bench")
            .join(fixture),
        &target,
    )
    .unwrap();
    target
}

fn correlate(scratch: &Scratch, cell: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "correlate",
        "--campaign",
        CAMPAIGN,
        "--cell-id",
        cell,
        "--hw-key",
        "h200_sxm",
        "--n-gpus",
        "1",
    ];
    args.extend_from_slice(extra);
    scratch.cmd(&args).output().unwrap()
}

fn result(scratch: &Scratch, cell: &str) -> Value {
    scratch.read_json(&scratch.cell(CAMPAIGN, cell).join("dcgm_correlation.json"))
}

fn set_mtime(path: &Path, epoch_s: u64) {
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(UNIX_EPOCH + Duration::from_secs(epoch_s))
        .unwrap();
}

#[test]
fn sglang_last_run_is_windowed_by_the_file_mtime_and_flagged_external() {
    let scratch = Scratch::empty();
    let file = cell_with(
        &scratch,
        "s",
        "sglang-bench-serving-llama33-70b-h200.jsonl",
        "bench_serving.jsonl",
    );
    // The file was last written at T = 2026-11-20T14:30:00Z = 1795185000; its last line (run 6)
    // lasted 313.96794493007474 s, so its window is [T − 313.968, T]. The recording covers
    // T − 500 … T + 10 s at DRAM_ACTIVE 0.4 → HBM 40 %.
    let t = 1_795_185_000;
    fs::write(
        scratch.cell(CAMPAIGN, "s").join("dcgm-scrapes.prom"),
        recording(t - 500, t + 10, 0.4),
    )
    .unwrap();
    set_mtime(&file, t);
    let output = correlate(&scratch, "s", &["--bench-index", "6"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("modification time"),
        "a loud warning: {stderr}"
    );
    let result = result(&scratch, "s");
    assert_eq!(result["window"]["confidence"], "external");
    common::assert_close(
        result["window"]["end_s"].as_f64().unwrap(),
        t as f64,
        1e-6,
        "end",
    );
    common::assert_close(
        result["window"]["start_s"].as_f64().unwrap(),
        t as f64 - 313.967_944_930_074_74,
        1e-6,
        "start",
    );
    common::assert_close(
        common::row(&result, "hbm")["sol_pct"].as_f64().unwrap(),
        40.0,
        1e-9,
        "HBM",
    );
    assert_eq!(result["context"]["bench_tool"], "sglang");

    // An earlier line: the mtime does not date it, so the window must be given.
    let output = correlate(&scratch, "s", &["--bench-index", "0"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--start and --end"), "{stderr}");
}

#[test]
fn llmd_report_is_read_and_emitted_with_our_numbers_in_observability() {
    let scratch = Scratch::empty();
    cell_with(
        &scratch,
        "l",
        "llmd-benchmark-report-v0.2-example.yaml",
        "benchmark_report.yaml",
    );
    // run.time.end 2025-11-05T18:17:03Z = 1762366623; duration 49.97 s before it. Recording
    // end − 100 … end + 10 s at DRAM_ACTIVE 0.5 → HBM 50 %.
    let end = 1_762_366_623;
    fs::write(
        scratch.cell(CAMPAIGN, "l").join("dcgm-scrapes.prom"),
        recording(end - 100, end + 10, 0.5),
    )
    .unwrap();
    let output = correlate(&scratch, "l", &["--emit-llmd"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result = result(&scratch, "l");
    assert_eq!(result["window"]["end_s"], end as f64);
    common::assert_close(
        common::row(&result, "hbm")["sol_pct"].as_f64().unwrap(),
        50.0,
        1e-9,
        "HBM",
    );
    let emitted = scratch
        .cell(CAMPAIGN, "l")
        .join("benchmark_report.with-dcgm-sol.yaml");
    // The report keeps its `.inf` (unbounded concurrency), which a JSON value cannot hold: quote
    // it for this check.
    let text = fs::read_to_string(&emitted)
        .unwrap()
        .replace(": .inf", ": '.inf'");
    let report: Value = serde_saphyr::from_str(&text).unwrap();
    let ours = &report["results"]["observability"]["dcgm_sol"];
    assert_eq!(ours["source"], "cells/l/dcgm_correlation.json");
    let hbm = ours["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "hbm")
        .unwrap();
    assert_eq!(hbm["ceiling_key"], "h200_sxm.hbm3e_tbps");
    common::assert_close(hbm["sol_pct"].as_f64().unwrap(), 50.0, 1e-9, "emitted HBM");
    // The rest of the report is the original's.
    assert_eq!(report["run"]["user"], "namasluk");
    // The emitted copy is never taken for the cell's bench file.
    let again = correlate(&scratch, "l", &[]);
    assert!(again.status.success());
}

#[test]
fn emit_llmd_on_another_format_is_refused() {
    let scratch = Scratch::with_example();
    let output = scratch
        .cmd(&[
            "correlate",
            "--campaign",
            "h200-tp8-sweep",
            "--cell-id",
            "c008",
            "--emit-llmd",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("is not an llm-d Benchmark Report"),
        "{stderr}"
    );
}
