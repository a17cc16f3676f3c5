//! Running the real `dcgm-sol` binary on a scenario, reading its dcgm_correlation.json, and
//! checking two results against each other or against hand-derived numbers.

use std::fs;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

use super::scenario::{WINDOW_END_S, WINDOW_START_S};

/// Campaign and cell every run writes into (a fresh campaigns directory per run).
const CAMPAIGN: &str = "backends";
const CELL: &str = "cell";

/// Where `correlate` reads the samples from.
pub enum Source {
    /// Exposition text with timestamps (either dialect) as a recorded-scrapes file
    /// (`--scrapes`).
    Recording(String),
    /// A Prometheus-compatible server at this base URL (`--prometheus URL`).
    Server(String),
}

/// A scratch campaigns directory holding one empty cell.
pub struct Campaigns {
    dir: TempDir,
}

impl Campaigns {
    /// A fresh campaigns directory with the cell created.
    pub fn new() -> Campaigns {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        fs::create_dir_all(dir.path().join(CAMPAIGN).join("cells").join(CELL))
            .expect("create the cell");
        Campaigns { dir }
    }

    /// `dcgm-sol --campaigns-dir <dir> <args>` with a fixed environment (no ambient ceilings,
    /// campaigns or Prometheus settings).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::cargo_bin("dcgm-sol").expect("the dcgm-sol binary");
        for variable in [
            "SOL_CEILINGS_YAML",
            "SOL_CAMPAIGNS_DIR",
            "PROMETHEUS_URL",
            "PROMETHEUS_BEARER_TOKEN",
        ] {
            command.env_remove(variable);
        }
        command
            .env("TZ", "UTC")
            .arg("--campaigns-dir")
            .arg(self.dir.path())
            .args(args);
        command
    }
}

/// The window flags of every run.
pub fn window_flags() -> Vec<String> {
    vec![
        "--start".to_string(),
        WINDOW_START_S.to_string(),
        "--end".to_string(),
        WINDOW_END_S.to_string(),
    ]
}

/// `dcgm-sol --json correlate` on the scenario window through `source`, with `flags` added;
/// the printed dcgm_correlation.json. Panics with stderr when the run fails.
pub fn correlate(flags: &[&str], source: Source) -> Value {
    let campaigns = Campaigns::new();
    let mut args: Vec<String> = [
        "--json",
        "correlate",
        "--campaign",
        CAMPAIGN,
        "--cell-id",
        CELL,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(window_flags());
    match source {
        Source::Recording(text) => {
            let path = campaigns.dir.path().join("dcgm-scrapes.txt");
            fs::write(&path, text).expect("write the scrapes file");
            args.push("--scrapes".to_string());
            args.push(path.display().to_string());
        }
        Source::Server(url) => {
            args.push("--prometheus".to_string());
            args.push(url);
        }
    }
    args.extend(flags.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = campaigns.command(&args).output().expect("run dcgm-sol");
    assert!(
        output.status.success(),
        "dcgm-sol {} failed ({}): {}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("correlate --json prints JSON")
}

/// The resource row (`hbm`, `tensor`, `nvlink`, `pcie`) of a result.
pub fn row<'a>(result: &'a Value, resource: &str) -> &'a Value {
    result["resources"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["resource"] == resource))
        .unwrap_or_else(|| panic!("no {resource} row in {result:#}"))
}

/// The per-GPU entry of a resource row for `host/UUID`.
pub fn gpu_row<'a>(row: &'a Value, gpu: &str) -> &'a Value {
    row["per_gpu"]
        .as_array()
        .and_then(|gpus| gpus.iter().find(|g| g["gpu"] == gpu))
        .unwrap_or_else(|| panic!("no per-GPU entry for {gpu} in {row:#}"))
}

/// A number of the result.
pub fn number(value: &Value, what: &str) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {value}"))
}

/// `dcgm-sol` rounds every percentage to 4 decimals: a hand value matches within half a step.
pub fn assert_pct(value: &Value, expected_pct: f64, what: &str) {
    assert_close(number(value, what), expected_pct, 0.5e-4 + 1e-9, what);
}

/// |actual − expected| ≤ tolerance.
pub fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual} vs hand-derived {expected} (±{tolerance})"
    );
}

/// Top-level fields of dcgm_correlation.json that depend only on the samples: two sources of the
/// same samples must agree on all of them (provenance — captured_sources, queries, notes — is
/// the source's own).
pub const SAMPLE_FIELDS: [&str; 14] = [
    "resources",
    "energy",
    "gpus",
    "nodes",
    "n_gpus",
    "hw_key",
    "dcgm_group_level",
    "scrape_interval_s",
    "exporter_update_interval_s",
    "duration_s",
    "power_watts_per_gpu",
    "activity",
    "window",
    "warnings",
];

/// Relative tolerance of the agreement between two sources of the same samples.
pub const AGREEMENT: f64 = 1e-9;

/// Asserts that `top_level` fields of two results agree: same structure and strings, numbers
/// within [`AGREEMENT`] relative. Object keys in `ignored` are skipped at any depth.
pub fn assert_agree(expected: &Value, actual: &Value, top_level: &[&str], ignored: &[&str]) {
    for key in top_level {
        assert!(expected.get(key).is_some(), "no `{key}` in {expected:#}");
        compare(&expected[key], &actual[key], key, ignored);
    }
}

fn compare(expected: &Value, actual: &Value, path: &str, ignored: &[&str]) {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            assert!(
                (a - b).abs() <= AGREEMENT * a.abs().max(b.abs()),
                "{path}: {a} vs {b}"
            );
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}: lengths differ: {a:?} vs {b:?}");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                compare(x, y, &format!("{path}[{i}]"), ignored);
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            let keys = |o: &serde_json::Map<String, Value>| -> Vec<String> {
                o.keys()
                    .filter(|k| !ignored.contains(&k.as_str()))
                    .cloned()
                    .collect()
            };
            assert_eq!(keys(a), keys(b), "{path}: keys differ");
            for key in keys(a) {
                compare(&a[&key], &b[&key], &format!("{path}.{key}"), ignored);
            }
        }
        _ => assert_eq!(expected, actual, "{path}"),
    }
}
