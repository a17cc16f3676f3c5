//! `fold` of a frozen snapshot written by the seed (schema `dcgm_frozen_v1`, no `dcgm_sol`
//! extension): the seed fields of the resulting dcgm_correlation.json hold the seed's values,
//! with the seed's own ceilings file and with the built-in table; a broken snapshot is refused
//! with exit 2 naming the file and the field, and nothing is written.
//!
//! The snapshot (`tests/data/seed-frozen.yaml`): 8 GPUs, 2026-03-02 10:00:00 → 10:23:00 UTC, so
//! duration = 23 min × 60 = 1380 s and GPU-seconds = 1380 × 8 = 11 040; HBM DRAM_ACTIVE 0.155,
//! NVLink 4e8 B/s per GPU, tensor PIPE_TENSOR_ACTIVE 0.018 against nvfp4_dense_pflops.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{Scratch, assert_close, row};

const SEED_FROZEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/seed-frozen.yaml");
const SEED_CEILINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/seed-ceilings.yaml");
const CAMPAIGN: &str = "seed";
const CELL: &str = "c1";

/// A campaign with one empty cell, as a seed user folds into.
fn seed_campaign() -> Scratch {
    let scratch = Scratch::empty();
    fs::create_dir_all(scratch.cell(CAMPAIGN, CELL)).unwrap();
    scratch
}

/// `dcgm-sol fold` of `frozen` into the cell, plus `extra` flags.
fn fold(scratch: &Scratch, frozen: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "fold",
        "--campaign",
        CAMPAIGN,
        "--cell-id",
        CELL,
        "--frozen-yaml",
        frozen.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    scratch.cmd(&args).output().unwrap()
}

/// Writes the seed snapshot with `from` replaced by `to` next to the campaign (not in the cell).
fn damaged_snapshot(scratch: &Scratch, from: &str, to: &str) -> PathBuf {
    let text = fs::read_to_string(SEED_FROZEN).unwrap();
    assert!(text.contains(from), "the damage `{from}` must apply");
    let path = scratch.path().join("damaged-frozen.yaml");
    fs::write(&path, text.replacen(from, to, 1)).unwrap();
    path
}

/// Folds the seed snapshot successfully and returns the written dcgm_correlation.json, after
/// checking that `--json` printed the same document.
fn fold_seed(scratch: &Scratch, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let output = fold(scratch, Path::new(SEED_FROZEN), &args);
    assert!(
        output.status.success(),
        "fold failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let written = scratch.read_json(&scratch.cell(CAMPAIGN, CELL).join("dcgm_correlation.json"));
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        printed, written,
        "--json stdout differs from the written file"
    );
    written
}

fn number(value: &serde_json::Value, what: &str) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {value}"))
}

/// |actual − expected| within a relative 1e-9 (float noise of a product of three factors).
fn assert_relative(actual: &serde_json::Value, expected: f64, what: &str) {
    assert_close(number(actual, what), expected, expected.abs() * 1e-9, what);
}

/// A failing fold: exit `code`, every needle in stderr, no panic, nothing written in the cell.
fn assert_refused(scratch: &Scratch, output: &Output, code: i32, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "panic:\n{stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "stderr lacks `{needle}`:\n{stderr}"
        );
    }
    let written: Vec<_> = fs::read_dir(scratch.cell(CAMPAIGN, CELL))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(written.is_empty(), "the cell holds {written:?}");
}

#[test]
fn seed_snapshot_with_the_seed_ceilings_holds_the_seed_values() {
    let scratch = seed_campaign();
    let result = fold_seed(&scratch, &["--ceilings", SEED_CEILINGS]);
    assert_eq!(result["schema_version"], 1);
    assert_eq!(result["hw_key"], "b200_sm100");
    assert_eq!(result["n_gpus"], 8);
    assert_eq!(result["sweep_start_utc"], "2026-03-02T10:00:00Z");
    assert_eq!(result["sweep_end_utc"], "2026-03-02T10:23:00Z");
    // 10:23:00 − 10:00:00 = 23 × 60 = 1380 s.
    assert_eq!(result["duration_s"], 1380.0);
    assert_eq!(result["dcgm_group_level"], "prof");
    assert_eq!(result["scrape_interval_s"], 15.0);
    // 1380 s ≥ dcgm_config.min_sweep_seconds 60.
    assert_eq!(result["short_sweep_warning"], false);
    assert_eq!(result["power_watts_per_gpu"], 712.5);
    assert_eq!(result["dry_run"], false);
    let sources = result["captured_sources"].to_string();
    assert!(sources.contains("seed-frozen.yaml"), "{sources}");
    assert!(
        result["hardware"]["ceilings_origin"]
            .to_string()
            .contains("seed-ceilings.yaml")
    );

    let hbm = row(&result, "hbm");
    assert_eq!(hbm["peak_key"], "hbm3e_tbps");
    assert_eq!(hbm["ceiling"], "b200_sm100.hbm3e_tbps");
    assert_eq!(hbm["metric"], "DCGM_FI_PROF_DRAM_ACTIVE");
    assert_eq!(hbm["is_fallback"], false);
    assert_eq!(hbm["n_gpus"], 8);
    // 0.155 × 100 = 15.5 %.
    assert_relative(&hbm["sol_pct"], 15.5, "HBM sol_pct");
    // 0.155 × 8.0 TB/s = 0.155 × 8e12 = 1.24e12 B/s per GPU.
    assert_relative(&hbm["measured_bytes_per_s"], 1.24e12, "HBM B/s");
    // 1.24e12 B/s × 11 040 GPU·s = 13 689.6e12 = 1.368 96e16 B.
    assert_relative(&hbm["measured_bytes_total"], 1.368_96e16, "HBM bytes");
    assert_eq!(hbm["peak_per_gpu"], 8.0);
    assert_eq!(hbm["peak_per_gpu_units"], "TB/s");
    // 8.0 TB/s × 8 GPUs = 64 TB/s.
    assert_relative(&hbm["peak_aggregate"], 64.0, "HBM aggregate");
    assert!(hbm["measured_tflops_avg"].is_null());

    let nvlink = row(&result, "nvlink");
    assert_eq!(nvlink["peak_key"], "nvlink5_tbps");
    assert_eq!(nvlink["ceiling"], "b200_sm100.nvlink5_tbps");
    // 4e8 / 1.8e12 × 100 = 0.0222… %; the output keeps 4 decimals (0.0222), hence ±5e-5.
    assert_close(
        number(&nvlink["sol_pct"], "NVLink sol_pct"),
        4e8 / 1.8e12 * 100.0,
        5e-5,
        "NVLink sol_pct",
    );
    assert_relative(&nvlink["measured_bytes_per_s"], 4e8, "NVLink B/s");
    // 4e8 B/s × 11 040 GPU·s = 4.416e12 B.
    assert_relative(&nvlink["measured_bytes_total"], 4.416e12, "NVLink bytes");
    assert_eq!(nvlink["peak_per_gpu"], 1.8);
    // 1.8 TB/s × 8 = 14.4 TB/s.
    assert_relative(&nvlink["peak_aggregate"], 14.4, "NVLink aggregate");

    let tensor = row(&result, "tensor");
    assert_eq!(tensor["peak_key"], "nvfp4_dense_pflops");
    assert_eq!(tensor["ceiling"], "b200_sm100.nvfp4_dense_pflops");
    // 0.018 × 100 = 1.8 %.
    assert_relative(&tensor["sol_pct"], 1.8, "tensor sol_pct");
    // 0.018 × 9.0 PFLOPS = 0.018 × 9000 TFLOPS = 162 TFLOPS per GPU.
    assert_relative(&tensor["measured_tflops_avg"], 162.0, "tensor TFLOPS");
    assert_eq!(tensor["peak_per_gpu"], 9.0);
    assert_eq!(tensor["peak_per_gpu_units"], "PFLOPS");
    // 9.0 PFLOPS × 8 = 72 PFLOPS.
    assert_relative(&tensor["peak_aggregate"], 72.0, "tensor aggregate");
    assert!(tensor["measured_bytes_total"].is_null());

    // The seed's recorded query travels unchanged.
    let queries = result["queries"].as_array().unwrap();
    assert!(
        queries.iter().any(|q| q["peak_key"] == "hbm3e_tbps"
            && q["promql"] == "avg by (gpu) (DCGM_FI_PROF_DRAM_ACTIVE{namespace=\"inference\"})"),
        "{queries:?}"
    );
}

#[test]
fn seed_snapshot_with_the_builtin_table_resolves_the_b200_sm100_alias() {
    let scratch = seed_campaign();
    let result = fold_seed(&scratch, &[]);
    assert_eq!(result["hw_key"], "b200_sm100");
    assert_eq!(result["hardware"]["hw_name"], "NVIDIA B200");
    assert!(
        result["hardware"]["ceilings_origin"]
            .to_string()
            .contains("built-in")
    );
    let hbm = row(&result, "hbm");
    // DRAM_ACTIVE is a ratio of peak: the peak does not change the percentage, 0.155 × 100.
    assert_relative(&hbm["sol_pct"], 15.5, "HBM sol_pct");
    // HGX B200: 7.7 TB/s; 0.155 × 7.7e12 = 1.1935e12 B/s per GPU.
    assert_eq!(hbm["peak_per_gpu"], 7.7);
    assert_relative(&hbm["measured_bytes_per_s"], 1.1935e12, "HBM B/s");
    // 1.1935e12 × 11 040 = 13 176.24e12 = 1.317 624e16 B.
    assert_relative(&hbm["measured_bytes_total"], 1.317_624e16, "HBM bytes");
    // 7.7 × 8 = 61.6 TB/s.
    assert_relative(&hbm["peak_aggregate"], 61.6, "HBM aggregate");
    // NVLink 5 is 1.8 TB/s in both tables: 4e8 × 11 040 = 4.416e12 B.
    let nvlink = row(&result, "nvlink");
    assert_eq!(nvlink["peak_per_gpu"], 1.8);
    assert_relative(&nvlink["measured_bytes_total"], 4.416e12, "NVLink bytes");
    assert_relative(&row(&result, "tensor")["sol_pct"], 1.8, "tensor sol_pct");
}

#[test]
fn snapshot_without_hw_key_is_refused_naming_the_field_and_file() {
    let scratch = seed_campaign();
    let frozen = damaged_snapshot(&scratch, "hw_key: b200_sm100\n", "");
    let output = fold(&scratch, &frozen, &["--ceilings", SEED_CEILINGS]);
    assert_refused(&scratch, &output, 2, &["hw_key", "damaged-frozen.yaml"]);
}

#[test]
fn snapshot_peak_key_missing_from_the_row_is_refused_naming_it() {
    let scratch = seed_campaign();
    let frozen = damaged_snapshot(&scratch, "peak_key: nvlink5_tbps", "peak_key: nvlink9_tbps");
    let output = fold(&scratch, &frozen, &["--ceilings", SEED_CEILINGS]);
    assert_refused(
        &scratch,
        &output,
        2,
        &["nvlink9_tbps", "b200_sm100", "damaged-frozen.yaml"],
    );
}

#[test]
fn snapshot_ending_before_it_starts_is_refused() {
    let scratch = seed_campaign();
    let frozen = damaged_snapshot(
        &scratch,
        "sweep_end_utc: \"2026-03-02T10:23:00Z\"",
        "sweep_end_utc: \"2026-03-02T09:37:00Z\"",
    );
    let output = fold(&scratch, &frozen, &["--ceilings", SEED_CEILINGS]);
    assert_refused(
        &scratch,
        &output,
        2,
        &["sweep_end_utc", "damaged-frozen.yaml"],
    );
}

#[test]
fn snapshot_with_an_unknown_hw_key_lists_the_known_keys() {
    let scratch = seed_campaign();
    let frozen = damaged_snapshot(&scratch, "hw_key: b200_sm100", "hw_key: b900_nope");
    let output = fold(&scratch, &frozen, &[]);
    assert_refused(
        &scratch,
        &output,
        2,
        &["b900_nope", "hw_key", "h200_sxm", "b200_hgx", "--ceilings"],
    );
}

#[test]
fn snapshot_with_unusable_values_is_refused_naming_the_field() {
    let cases: [(&str, &str, &[&str]); 5] = [
        (
            "measured_avg: 0.155",
            "measured_avg: .nan",
            &["resources[0].measured_avg"],
        ),
        (
            "measured_avg: 0.018",
            "measured_avg: -0.018",
            &["resources[2].measured_avg"],
        ),
        ("n_gpus: 8", "n_gpus: 0", &["n_gpus"]),
        ("unit: ratio", "unit: percent", &["percent", "bytes_per_s"]),
        (
            "sweep_start_utc: \"2026-03-02T10:00:00Z\"",
            "sweep_start_utc: \"last tuesday\"",
            &["sweep_start_utc"],
        ),
    ];
    for (from, to, needles) in cases {
        let scratch = seed_campaign();
        let frozen = damaged_snapshot(&scratch, from, to);
        let output = fold(&scratch, &frozen, &["--ceilings", SEED_CEILINGS]);
        let mut needles = needles.to_vec();
        needles.push("damaged-frozen.yaml");
        assert_refused(&scratch, &output, 2, &needles);
    }
}

#[test]
fn snapshot_with_a_yaml_syntax_error_is_refused_naming_the_line() {
    let scratch = seed_campaign();
    // Lines 1–2 comments, 3–13 scalar fields and lists, 14 `resources:`, 15 the first resource.
    let frozen = damaged_snapshot(
        &scratch,
        "  - peak_key: hbm3e_tbps",
        "  - peak_key: [hbm3e_tbps",
    );
    let output = fold(&scratch, &frozen, &["--ceilings", SEED_CEILINGS]);
    assert_refused(&scratch, &output, 2, &["damaged-frozen.yaml", "line 15"]);
}

#[test]
fn missing_snapshot_file_is_refused_naming_it() {
    let scratch = seed_campaign();
    let missing = scratch.path().join("no-such-frozen.yaml");
    let output = fold(&scratch, &missing, &[]);
    assert_refused(&scratch, &output, 2, &["no-such-frozen.yaml"]);
}

#[test]
fn unwritable_result_path_fails_at_runtime_and_leaves_no_temporary_file() {
    let scratch = seed_campaign();
    let cell = scratch.cell(CAMPAIGN, CELL);
    // A directory where the result goes: the rename over it fails, for root too.
    fs::create_dir(cell.join("dcgm_correlation.json")).unwrap();
    let output = fold(&scratch, Path::new(SEED_FROZEN), &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("dcgm_correlation.json"), "{stderr}");
    let names: Vec<_> = fs::read_dir(&cell)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["dcgm_correlation.json".to_string()]);
    assert!(cell.join("dcgm_correlation.json").is_dir());
}

#[test]
fn a_seed_snapshot_keeps_its_nodes() {
    let scratch = seed_campaign();
    let result = fold_seed(&scratch, &["--ceilings", SEED_CEILINGS]);
    assert_eq!(result["nodes"], serde_json::json!(["b200-node-01"]));
}

#[test]
fn built_in_fold_keeps_the_snapshots_tensor_peak() {
    let scratch = seed_campaign();
    let result = fold_seed(&scratch, &[]);
    let tensor = row(&result, "tensor");
    assert_eq!(tensor["peak_key"], "nvfp4_dense_pflops");
    // B200 HGX nvfp4 dense 9 PFLOPS: 0.018 × 9000 = 162 TFLOPS.
    assert_relative(&tensor["measured_tflops_avg"], 162.0, "tensor TFLOPS");
}
