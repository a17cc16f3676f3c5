//! `publish` end to end: the example campaign's results published to a lake and read back with
//! DuckDB (PyPI `duckdb`, the Python module; `scripts/test.sh` installs it into `.venv`).
//!
//! The cells hold the example campaign's results as correlate writes them
//! (testdata/report/h200-tp8-sweep/c0xx.json: 4 cells × 4 resources — HBM, tensor, NVLink,
//! PCIe — so 16 dcgm_sol_v1 rows and 1 campaign_v1 row per publish). Expected values are read
//! from those JSON files, never from the tool's output.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Scratch, repo_root};
use serde_json::{Value, json};

const CAMPAIGN: &str = "h200-tp8-sweep";
const CELLS: [&str; 4] = ["c008", "c032", "c064", "c128"];

/// The example campaign with each cell's result in place.
fn published_campaign() -> Scratch {
    let scratch = Scratch::with_example();
    for cell in CELLS {
        fs::copy(
            result_source(cell),
            scratch.cell(CAMPAIGN, cell).join("dcgm_correlation.json"),
        )
        .unwrap();
    }
    scratch
}

fn result_source(cell: &str) -> PathBuf {
    repo_root().join(format!("testdata/report/{CAMPAIGN}/{cell}.json"))
}

fn lake(scratch: &Scratch) -> PathBuf {
    scratch.path().join("lake")
}

fn publish(scratch: &Scratch, campaign: &str, extra: &[&str]) -> Output {
    let lake = lake(scratch);
    let mut args = vec![
        "publish",
        "--campaign",
        campaign,
        "--lake",
        lake.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    scratch.cmd(&args).output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "publish failed: {}",
        stderr(output)
    );
}

/// Python with the `duckdb` module: `$SOL_DUCKDB_PYTHON`, the repo's `.venv`, or `python3`.
/// `None` (test skipped) when there is none, unless SOL_REQUIRE_BACKENDS=1.
fn duckdb_python() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("SOL_DUCKDB_PYTHON").map(PathBuf::from),
        Some(repo_root().join(".venv/bin/python")),
        Some(PathBuf::from("python3")),
    ];
    let found = candidates.into_iter().flatten().find(|python| {
        Command::new(python)
            .args(["-c", "import duckdb"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        assert!(
            std::env::var("SOL_REQUIRE_BACKENDS").as_deref() != Ok("1"),
            "the Python module duckdb is required (SOL_REQUIRE_BACKENDS=1): run scripts/test.sh, which installs it into .venv"
        );
        eprintln!("duckdb not installed: lake read-back skipped");
    }
    found
}

/// Runs `sql` in DuckDB; returns `{"columns": [...], "types": [...], "rows": [[...], ...]}`
/// with timestamps as epoch microseconds (so nothing depends on DuckDB's text formats).
fn duckdb(python: &Path, sql: &str) -> Value {
    const SCRIPT: &str = r#"
import datetime, json, sys, duckdb
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
rel = con.sql(sys.argv[1])
def plain(v):
    if isinstance(v, datetime.datetime):
        return round(v.timestamp() * 1_000_000)
    if isinstance(v, float) and v != v:
        return "NaN"
    if isinstance(v, float) and v in (float("inf"), float("-inf")):
        return str(v)
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v
print(json.dumps({
    "columns": rel.columns,
    "types": [str(t) for t in rel.types],
    "rows": [[plain(v) for v in row] for row in rel.fetchall()],
}))
"#;
    let output = Command::new(python)
        .args(["-c", SCRIPT, sql])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "duckdb failed on {sql}: {}",
        stderr(&output)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `read_parquet` over every partition of a table.
fn table(scratch: &Scratch, name: &str) -> String {
    format!(
        "read_parquet('{}/{name}/*/*.parquet', hive_partitioning = true)",
        lake(scratch).display()
    )
}

/// Rows of a query as objects keyed by column name.
fn records(answer: &Value) -> Vec<serde_json::Map<String, Value>> {
    let columns: Vec<&str> = answer["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    answer["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|c| c.to_string())
                .zip(row.as_array().unwrap().iter().cloned())
                .collect()
        })
        .collect()
}

fn count(python: &Path, scratch: &Scratch, name: &str) -> u64 {
    let answer = duckdb(
        python,
        &format!("SELECT count(*) FROM {}", table(scratch, name)),
    );
    answer["rows"][0][0].as_u64().unwrap()
}

fn partition_files(scratch: &Scratch, name: &str) -> Vec<String> {
    let dir = lake(scratch)
        .join(name)
        .join(format!("campaign={CAMPAIGN}"));
    let mut files: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

/// Every file under the lake with its bytes: the lake's whole state.
fn lake_state(scratch: &Scratch) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push((path.clone(), fs::read(&path).unwrap()));
            }
        }
    }
    let mut state = Vec::new();
    walk(&lake(scratch), &mut state);
    state.sort();
    state
}

#[test]
fn published_rows_read_back_with_their_types_and_the_json_values() {
    let Some(python) = duckdb_python() else {
        return;
    };
    let scratch = published_campaign();
    assert_ok(&publish(&scratch, CAMPAIGN, &[]));

    // Types as DuckDB sees them.
    let detail = duckdb(
        &python,
        &format!("SELECT * FROM {} LIMIT 0", table(&scratch, "dcgm_sol_v1")),
    );
    let types: Vec<(String, String)> = detail["columns"]
        .as_array()
        .unwrap()
        .iter()
        .zip(detail["types"].as_array().unwrap())
        .map(|(c, t)| {
            (
                c.as_str().unwrap().to_string(),
                t.as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (column, expected) in [
        ("published_at", "TIMESTAMP WITH TIME ZONE"),
        ("window_start", "TIMESTAMP WITH TIME ZONE"),
        ("steady_start", "TIMESTAMP WITH TIME ZONE"),
        ("sol_pct", "DOUBLE"),
        ("measured_bytes_per_s_per_gpu", "DOUBLE"),
        ("n_gpus", "BIGINT"),
        ("schema_version", "INTEGER"),
        ("notes", "VARCHAR[]"),
        ("warnings", "VARCHAR[]"),
        ("cell_id", "VARCHAR"),
        ("campaign", "VARCHAR"),
    ] {
        assert!(
            types.contains(&(column.to_string(), expected.to_string())),
            "{column} is not {expected}: {types:?}"
        );
    }
    let campaign = duckdb(
        &python,
        &format!("SELECT * FROM {} LIMIT 0", table(&scratch, "campaign_v1")),
    );
    let campaign_types: Vec<&str> = campaign["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let campaign_columns: Vec<&str> = campaign["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let type_of =
        |name: &str| campaign_types[campaign_columns.iter().position(|c| *c == name).unwrap()];
    assert_eq!(type_of("dcgm_grounded"), "BOOLEAN");
    assert_eq!(type_of("captured_start"), "TIMESTAMP WITH TIME ZONE");
    assert_eq!(type_of("hbm_best_sol_pct"), "DOUBLE");

    // Row counts: 4 cells × 4 resources; one campaign row.
    assert_eq!(count(&python, &scratch, "dcgm_sol_v1"), 16);
    assert_eq!(count(&python, &scratch, "campaign_v1"), 1);

    // Every cell × resource row equals its dcgm_correlation.json.
    let rows = records(&duckdb(
        &python,
        &format!(
            "SELECT campaign, cell_id, resource, tier, ceiling_key, sol_pct, steady_state_sol_pct, \
             measured_bytes_per_s_per_gpu, measured_tflops_per_gpu, coverage_pct, n_gpus, \
             window_start, window_end, duration_s, sol_rigor, warnings, notes, model, concurrency, \
             joules_per_output_token \
             FROM {} ORDER BY cell_id, resource",
            table(&scratch, "dcgm_sol_v1")
        ),
    ));
    let mut compared = 0;
    for cell in CELLS {
        let result: Value =
            serde_json::from_str(&fs::read_to_string(result_source(cell)).unwrap()).unwrap();
        for resource in result["resources"].as_array().unwrap() {
            let row = rows
                .iter()
                .find(|r| r["cell_id"] == cell && r["resource"] == resource["resource"])
                .unwrap_or_else(|| panic!("no row for {cell} {}", resource["resource"]));
            let what = format!("{cell}/{}", resource["resource"]);
            assert_eq!(row["campaign"], CAMPAIGN, "{what}");
            assert_eq!(row["tier"], resource["tier"], "{what}");
            assert_eq!(row["ceiling_key"], resource["ceiling"], "{what}");
            for (column, field) in [
                ("sol_pct", "sol_pct"),
                ("steady_state_sol_pct", "steady_state_sol_pct"),
                ("measured_bytes_per_s_per_gpu", "measured_bytes_per_s"),
                ("measured_tflops_per_gpu", "measured_tflops_avg"),
                ("coverage_pct", "coverage_pct"),
            ] {
                assert_eq!(row[column], resource[field], "{what} {column}");
            }
            assert_eq!(row["n_gpus"], result["n_gpus"], "{what}");
            // The JSON's epoch seconds as µs.
            let us = |s: &Value| json!((s.as_f64().unwrap() * 1e6).round() as i64);
            assert_eq!(
                row["window_start"],
                us(&result["window"]["start_s"]),
                "{what}"
            );
            assert_eq!(row["window_end"], us(&result["window"]["end_s"]), "{what}");
            assert_eq!(row["duration_s"], result["duration_s"], "{what}");
            assert_eq!(row["sol_rigor"], result["sol_rigor"], "{what}");
            assert_eq!(row["warnings"], result["warnings"], "{what}");
            assert_eq!(row["notes"], resource["notes"], "{what}");
            assert_eq!(row["model"], result["context"]["model"], "{what}");
            assert_eq!(
                row["concurrency"], result["context"]["concurrency"],
                "{what}"
            );
            assert_eq!(
                row["joules_per_output_token"], result["energy"]["joules_per_output_token"],
                "{what}"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 16);

    // The campaign row: best HBM is c128's 69.6808 %; the median of 30.463, 49.4533, 60.9736
    // and 69.6808 is (49.4533 + 60.9736) / 2 = 55.21345.
    let campaign = records(&duckdb(
        &python,
        &format!(
            "SELECT campaign, cells_total, cells_grounded, dcgm_grounded, sol_rigor, \
             hbm_best_sol_pct, hbm_best_cell_id, hbm_median_sol_pct, hbm_ceiling_key, \
             captured_start, omitted_cells FROM {}",
            table(&scratch, "campaign_v1")
        ),
    ));
    let row = &campaign[0];
    assert_eq!(row["campaign"], CAMPAIGN);
    assert_eq!(
        (row["cells_total"].as_i64(), row["cells_grounded"].as_i64()),
        (Some(4), Some(4))
    );
    assert_eq!(row["dcgm_grounded"], true);
    assert_eq!(row["sol_rigor"], "L3");
    assert_eq!(row["hbm_best_sol_pct"], 69.6808);
    assert_eq!(row["hbm_best_cell_id"], "c128");
    assert!((row["hbm_median_sol_pct"].as_f64().unwrap() - 55.21345).abs() < 1e-9);
    assert_eq!(row["hbm_ceiling_key"], "h200_sxm.hbm3e_tbps");
    // c008's window starts at 2026-11-20T14:00:00Z = 1795183200 s.
    assert_eq!(row["captured_start"], 1_795_183_200_000_000_i64);
    assert_eq!(row["omitted_cells"], json!([]));
}

#[test]
fn a_glob_over_the_partitions_reads_every_campaign() {
    let Some(python) = duckdb_python() else {
        return;
    };
    let scratch = published_campaign();
    common::copy_tree(
        &scratch.path().join(CAMPAIGN),
        &scratch.path().join("b200-rerun"),
    );
    assert_ok(&publish(&scratch, CAMPAIGN, &[]));
    assert_ok(&publish(&scratch, "b200-rerun", &[]));
    let answer = duckdb(
        &python,
        &format!(
            "SELECT campaign, count(*) AS n, count(DISTINCT publish_id) AS runs \
             FROM read_parquet('{}/dcgm_sol_v1/**/*.parquet', hive_partitioning = true) \
             GROUP BY campaign ORDER BY campaign",
            lake(&scratch).display()
        ),
    );
    assert_eq!(
        answer["rows"],
        json!([["b200-rerun", 16, 1], [CAMPAIGN, 16, 1]])
    );
    // Joining the two tables on the publish run.
    let joined = duckdb(
        &python,
        &format!(
            "SELECT c.campaign, count(*) FROM {} c JOIN {} d USING (publish_id) \
             GROUP BY c.campaign ORDER BY c.campaign",
            table(&scratch, "campaign_v1"),
            table(&scratch, "dcgm_sol_v1")
        ),
    );
    assert_eq!(joined["rows"], json!([["b200-rerun", 16], [CAMPAIGN, 16]]));
}

#[test]
fn error_refuses_overwrite_replaces_append_adds() {
    let Some(python) = duckdb_python() else {
        return;
    };
    let scratch = published_campaign();
    assert_ok(&publish(&scratch, CAMPAIGN, &[]));
    let first = lake_state(&scratch);

    // error (the default): refused, exit 1, the lake byte-for-byte as it was.
    let refused = publish(&scratch, CAMPAIGN, &[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("already exists"),
        "{}",
        stderr(&refused)
    );
    assert!(
        stderr(&refused).contains("--if-exists overwrite"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(lake_state(&scratch), first);

    // overwrite, twice: still 16 + 1 rows, one file per partition, from the last run only.
    for _ in 0..2 {
        assert_ok(&publish(&scratch, CAMPAIGN, &["--if-exists", "overwrite"]));
        assert_eq!(count(&python, &scratch, "dcgm_sol_v1"), 16);
        assert_eq!(count(&python, &scratch, "campaign_v1"), 1);
        assert_eq!(partition_files(&scratch, "dcgm_sol_v1").len(), 1);
        assert_eq!(partition_files(&scratch, "campaign_v1").len(), 1);
    }
    let last = lake_state(&scratch);
    assert_ne!(last, first, "overwrite wrote a new publish");
    // No staging or temporary file is left where a reader could see it.
    assert!(
        last.iter()
            .all(|(path, _)| path.extension().is_some_and(|e| e == "parquet"))
    );

    // append: the rows double, two publish runs side by side.
    assert_ok(&publish(&scratch, CAMPAIGN, &["--if-exists", "append"]));
    assert_eq!(count(&python, &scratch, "dcgm_sol_v1"), 32);
    assert_eq!(count(&python, &scratch, "campaign_v1"), 2);
    let runs = duckdb(
        &python,
        &format!(
            "SELECT count(DISTINCT publish_id) FROM {}",
            table(&scratch, "dcgm_sol_v1")
        ),
    );
    assert_eq!(runs["rows"][0][0], 2);
}

#[test]
fn strict_refuses_an_ungrounded_campaign_and_the_default_records_the_gap() {
    let Some(python) = duckdb_python() else {
        return;
    };
    let scratch = published_campaign();
    // A fifth cell with a truncated result: not grounded.
    let broken = scratch.cell(CAMPAIGN, "c256");
    fs::create_dir_all(&broken).unwrap();
    fs::write(
        broken.join("dcgm_correlation.json"),
        "{\"schema_version\": 1,",
    )
    .unwrap();

    let refused = publish(&scratch, CAMPAIGN, &["--strict"]);
    assert_eq!(refused.status.code(), Some(1));
    let message = stderr(&refused);
    assert!(
        message.contains("not DCGM-grounded (4 of 5 cells"),
        "{message}"
    );
    assert!(message.contains("cell c256: invalid JSON"), "{message}");
    assert!(!lake(&scratch).exists(), "nothing written under --strict");

    let published = publish(&scratch, CAMPAIGN, &[]);
    assert_ok(&published);
    assert!(
        stderr(&published).contains("NOT DCGM-GROUNDED"),
        "{}",
        stderr(&published)
    );
    let campaign = records(&duckdb(
        &python,
        &format!(
            "SELECT dcgm_grounded, cells_total, cells_grounded, sol_rigor, omitted_cells, notes FROM {}",
            table(&scratch, "campaign_v1")
        ),
    ));
    let row = &campaign[0];
    assert_eq!(row["dcgm_grounded"], false);
    assert_eq!(
        (row["cells_total"].as_i64(), row["cells_grounded"].as_i64()),
        (Some(5), Some(4))
    );
    // A cell without a DCGM result is L1 on the ladder.
    assert_eq!(row["sol_rigor"], "L1");
    let omitted = row["omitted_cells"].as_array().unwrap();
    assert_eq!(omitted.len(), 1);
    assert!(
        omitted[0]
            .as_str()
            .unwrap()
            .starts_with("c256: invalid JSON"),
        "{omitted:?}"
    );
    assert_eq!(count(&python, &scratch, "dcgm_sol_v1"), 16);
}

#[test]
fn nothing_to_publish_and_unportable_slugs_are_refused() {
    // No cell has a result: exit 1, no lake.
    let scratch = Scratch::with_example();
    let output = publish(&scratch, CAMPAIGN, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("nothing to publish"),
        "{}",
        stderr(&output)
    );
    assert!(!lake(&scratch).exists());

    // A slug that would need Hive escaping: exit 2, naming the slug and the fix.
    let scratch = published_campaign();
    fs::rename(
        scratch.path().join(CAMPAIGN),
        scratch.path().join("sweep=1"),
    )
    .unwrap();
    let output = publish(&scratch, "sweep=1", &[]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("campaign slug `sweep=1` cannot name a lake partition"),
        "{message}"
    );
    assert!(!lake(&scratch).exists());
}
