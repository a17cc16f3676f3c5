//! `correlate` on damaged input (DESIGN.md §5 exit codes, §8 "Reliability"): each case copies the
//! example campaign, damages one thing, and checks the exit code (2 input or usage, 1 runtime),
//! that stderr names the file/field and what to do, that nothing panicked, and that no result,
//! snapshot or temporary file was left in the cell — nor anywhere outside it.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{Scratch, copy_tree};

const CAMPAIGN: &str = "h200-tp8-sweep";
/// The cell the cases damage: perfbench bundle, 8 H200s, window 2026-11-20T14:00:00Z + 120 s.
const CELL: &str = "c008";
/// A real exporter scrape: samples without timestamps.
const UNTIMESTAMPED_SCRAPE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/shared-fixtures/dcgm-exporter/h100x8-pod-labels.prom"
);
/// A real GuideLLM report holding two benchmarks (constant 2 and 4 req/s).
const GUIDELLM_TWO_RUNS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/shared-fixtures/bench/guidellm-benchmarks-v2.json"
);
/// DCGM_INT64_NOT_SUPPORTED (0x7ffffffffffffff0 + 2), above both blank thresholds.
const INT64_NOT_SUPPORTED: &str = "9223372036854775794";
/// The DCGM FP64 blank, 2^47, as the exporter prints a double.
const FP64_BLANK: &str = "140737488355328.000000";

/// `dcgm-sol correlate --campaign h200-tp8-sweep --cell-id <cell_id> <extra>`.
fn correlate(scratch: &Scratch, cell_id: &str, extra: &[&str]) -> Output {
    let mut args = vec!["correlate", "--campaign", CAMPAIGN, "--cell-id", cell_id];
    args.extend_from_slice(extra);
    scratch.cmd(&args).output().unwrap()
}

/// The damaged cell's directory.
fn cell(scratch: &Scratch) -> PathBuf {
    scratch.cell(CAMPAIGN, CELL)
}

/// No result, no snapshot and no temporary file of an atomic write in `dir`.
fn assert_nothing_written(dir: &Path) {
    for entry in fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            name != "dcgm_correlation.json" && name != "dcgm-frozen.yaml",
            "{} holds {name}",
            dir.display()
        );
        assert!(
            !name.starts_with(".dcgm-sol-"),
            "temporary file {name} left in {}",
            dir.display()
        );
    }
}

/// The contract of a refused run: exit `code`, every needle in stderr, no panic, and nothing
/// written in any of `dirs`.
fn assert_refused(output: &Output, code: i32, needles: &[&str], dirs: &[&Path]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(!stderr.contains("panicked"), "panic:\n{stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "stderr lacks `{needle}`:\n{stderr}"
        );
    }
    for dir in dirs {
        assert_nothing_written(dir);
    }
}

/// Rewrites the cell's perfbench bundle through `edit`.
fn edit_bundle(scratch: &Scratch, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = cell(scratch).join("inference_perfbench_v1.json");
    let mut bundle = scratch.read_json(&path);
    edit(&mut bundle);
    fs::write(&path, serde_json::to_string_pretty(&bundle).unwrap()).unwrap();
}

/// The cell's recorded scrapes with every sample value replaced by `value` (timestamps kept).
fn scrapes_with_every_value(scratch: &Scratch, value: &str) -> String {
    let text = fs::read_to_string(cell(scratch).join("dcgm-scrapes.prom")).unwrap();
    let mut replaced = 0;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            if line.starts_with('#') || line.is_empty() {
                return line.to_string();
            }
            // `name{labels} value timestamp`, split from the right: label values may hold spaces.
            let mut parts = line.rsplitn(3, ' ');
            let timestamp = parts.next().unwrap();
            let _value = parts.next().unwrap();
            let series = parts.next().unwrap();
            replaced += 1;
            format!("{series} {value} {timestamp}")
        })
        .collect();
    assert!(replaced > 1000, "only {replaced} samples replaced");
    lines.join("\n") + "\n"
}

#[test]
fn bench_file_that_is_not_json_names_the_file() {
    let scratch = Scratch::with_example();
    let bundle = cell(&scratch).join("inference_perfbench_v1.json");
    let text = fs::read_to_string(&bundle).unwrap();
    // Truncated mid-file: the message points at the incomplete write; not JSON at all: it lists
    // the supported formats and the --start/--end way out.
    let cases = [
        (&text[..300], "not valid JSON"),
        ("not json at all\n", "--start/--end"),
    ];
    for (damaged, advice) in cases {
        fs::write(&bundle, damaged).unwrap();
        let output = correlate(&scratch, CELL, &["--bench-file", bundle.to_str().unwrap()]);
        assert_refused(
            &output,
            2,
            &["inference_perfbench_v1.json", advice],
            &[&cell(&scratch)],
        );
    }
}

#[test]
fn bundle_without_duration_names_the_field() {
    let scratch = Scratch::with_example();
    edit_bundle(&scratch, |b| {
        b["bench"]
            .as_object_mut()
            .unwrap()
            .remove("duration_effective_s")
            .unwrap();
    });
    let output = correlate(&scratch, CELL, &[]);
    assert_refused(
        &output,
        2,
        &[
            "inference_perfbench_v1.json",
            ".bench.duration_effective_s",
            "--start/--end",
        ],
        &[&cell(&scratch)],
    );
}

#[test]
fn bundle_with_unusable_window_fields_names_the_field() {
    let cases: [(&str, serde_json::Value); 4] = [
        ("duration_effective_s", serde_json::json!(-5)),
        ("duration_effective_s", serde_json::json!(0)),
        ("duration_effective_s", serde_json::json!("abc")),
        ("captured_at", serde_json::json!("yesterday")),
    ];
    for (field, value) in cases {
        let scratch = Scratch::with_example();
        edit_bundle(&scratch, |b| b["bench"][field] = value.clone());
        let output = correlate(&scratch, CELL, &[]);
        let field_path = format!(".bench.{field}");
        assert_refused(
            &output,
            2,
            &["inference_perfbench_v1.json", &field_path],
            &[&cell(&scratch)],
        );
    }
}

#[test]
fn unknown_hw_key_lists_the_known_keys() {
    let scratch = Scratch::with_example();
    let output = correlate(&scratch, CELL, &["--hw-key", "h900_nope"]);
    assert_refused(
        &output,
        2,
        &[
            "h900_nope",
            "h100_sxm",
            "h200_sxm",
            "b200_hgx",
            "gb300_nvl72",
        ],
        &[&cell(&scratch)],
    );
}

#[test]
fn cell_id_that_climbs_out_is_refused_and_nothing_is_written_there() {
    let scratch = Scratch::with_example();
    let campaign = scratch.path().join(CAMPAIGN);
    // A complete cell at cells/../x: were `../x` followed, correlate would succeed and write.
    let escaped = campaign.join("x");
    copy_tree(&cell(&scratch), &escaped);
    let output = correlate(&scratch, "../x", &[]);
    assert_refused(&output, 2, &["../x"], &[&escaped, &campaign]);
}

#[test]
fn absolute_cell_id_is_refused_and_nothing_is_written_there() {
    let scratch = Scratch::with_example();
    let outside = scratch.path().join("outside-cell");
    copy_tree(&cell(&scratch), &outside);
    let output = correlate(&scratch, outside.to_str().unwrap(), &[]);
    assert_refused(&output, 2, &["outside-cell"], &[&outside]);

    let output = correlate(&scratch, "/etc", &[]);
    assert_refused(&output, 2, &["/etc"], &[]);
    assert!(!Path::new("/etc/dcgm_correlation.json").exists());
}

#[cfg(unix)]
#[test]
fn symlinked_cell_pointing_outside_is_refused_and_nothing_is_written_there() {
    let scratch = Scratch::with_example();
    let outside = scratch.path().join("outside-cell");
    copy_tree(&cell(&scratch), &outside);
    let cells = scratch.path().join(CAMPAIGN).join("cells");
    std::os::unix::fs::symlink(&outside, cells.join("evil")).unwrap();
    let output = correlate(&scratch, "evil", &[]);
    assert_refused(&output, 2, &["evil", "outside"], &[&outside]);
}

#[cfg(unix)]
#[test]
fn all_cells_refuses_only_the_escaping_cell() {
    let scratch = Scratch::with_example();
    let outside = scratch.path().join("outside-cell");
    copy_tree(&cell(&scratch), &outside);
    let cells = scratch.path().join(CAMPAIGN).join("cells");
    std::os::unix::fs::symlink(&outside, cells.join("evil")).unwrap();
    let output = scratch
        .cmd(&[
            "correlate",
            "--campaign",
            CAMPAIGN,
            "--all-cells",
            "--timezone",
            "UTC",
        ])
        .output()
        .unwrap();
    assert_refused(&output, 2, &["cell evil", "outside"], &[&outside]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("5 cells: 4 ok, 1 failed"), "{stdout}");
    for id in ["c008", "c032", "c064", "c128"] {
        let result = scratch.cell(CAMPAIGN, id).join("dcgm_correlation.json");
        assert!(result.is_file(), "{id} not written");
    }
}

#[test]
fn exporter_scrape_without_timestamps_says_how_to_record() {
    let scratch = Scratch::with_example();
    let output = correlate(&scratch, CELL, &["--scrapes", UNTIMESTAMPED_SCRAPE]);
    assert_refused(
        &output,
        2,
        &["h100x8-pod-labels.prom", "timestamp", "dcgm-sol record"],
        &[&cell(&scratch)],
    );
}

#[test]
fn scrapes_syntax_error_names_the_file_and_line() {
    let scratch = Scratch::with_example();
    let scrapes = cell(&scratch).join("dcgm-scrapes.prom");
    let text = fs::read_to_string(&scrapes).unwrap();
    // Lines 1–2 are HELP and TYPE; line 3 is the first sample. Cut its label set open.
    let mut lines: Vec<&str> = text.lines().collect();
    assert!(lines[2].starts_with("DCGM_FI_DEV_SM_CLOCK{gpu=\"0\""));
    lines[2] = "DCGM_FI_DEV_SM_CLOCK{gpu=\"0\" 345 1795183170";
    fs::write(&scrapes, lines.join("\n") + "\n").unwrap();
    let output = correlate(&scratch, CELL, &[]);
    assert_refused(
        &output,
        2,
        &["dcgm-scrapes.prom", "line 3"],
        &[&cell(&scratch)],
    );
}

#[test]
fn window_a_day_away_from_the_data_is_a_runtime_failure() {
    let scratch = Scratch::with_example();
    // The recording covers 2026-11-20 14:00–14:02 (plus margins); one day later it holds nothing.
    let output = correlate(
        &scratch,
        CELL,
        &[
            "--start",
            "2026-11-21T14:00:00Z",
            "--end",
            "2026-11-21T14:02:00Z",
        ],
    );
    assert_refused(
        &output,
        1,
        &["window", "2026-11-21T14:00:00Z"],
        &[&cell(&scratch)],
    );
}

#[test]
fn all_nan_values_fail_without_a_result() {
    let scratch = Scratch::with_example();
    let nan = scrapes_with_every_value(&scratch, "NaN");
    fs::write(cell(&scratch).join("dcgm-scrapes.prom"), nan).unwrap();
    let output = correlate(&scratch, CELL, &[]);
    assert_refused(&output, 1, &["no usable DCGM data"], &[&cell(&scratch)]);
}

#[test]
fn all_int64_sentinel_values_fail_without_a_result() {
    let scratch = Scratch::with_example();
    let blank = scrapes_with_every_value(&scratch, INT64_NOT_SUPPORTED);
    fs::write(cell(&scratch).join("dcgm-scrapes.prom"), blank).unwrap();
    let output = correlate(&scratch, CELL, &[]);
    assert_refused(&output, 1, &["no usable DCGM data"], &[&cell(&scratch)]);
}

#[test]
fn empty_scrapes_file_fails_without_a_result() {
    let scratch = Scratch::with_example();
    for empty in ["", "# EOF\n"] {
        fs::write(cell(&scratch).join("dcgm-scrapes.prom"), empty).unwrap();
        let output = correlate(&scratch, CELL, &[]);
        // An empty recording is a bad input file: exit 2, naming the file and what to do.
        assert_refused(
            &output,
            2,
            &["dcgm-scrapes.prom", "no samples", "dcgm-sol record"],
            &[&cell(&scratch)],
        );
    }
}

#[cfg(unix)]
#[test]
fn read_only_cell_fails_at_runtime_and_leaves_nothing_behind() {
    use std::os::unix::fs::PermissionsExt;
    let scratch = Scratch::with_example();
    let cell = cell(&scratch);
    fs::set_permissions(&cell, fs::Permissions::from_mode(0o555)).unwrap();
    // Root ignores directory permissions: probe by writing before asserting anything.
    let probe = cell.join("write-probe");
    if fs::write(&probe, b"").is_ok() {
        fs::remove_file(&probe).unwrap();
        fs::set_permissions(&cell, fs::Permissions::from_mode(0o755)).unwrap();
        eprintln!("skipped: this user can write into a 0555 directory (root)");
        return;
    }
    let output = correlate(&scratch, CELL, &[]);
    // Restore before asserting so the temporary directory can be removed either way.
    fs::set_permissions(&cell, fs::Permissions::from_mode(0o755)).unwrap();
    assert_refused(&output, 1, &["dcgm-frozen.yaml"], &[&cell]);
}

#[test]
fn start_without_end_is_a_usage_error() {
    let scratch = Scratch::with_example();
    let output = correlate(&scratch, CELL, &["--start", "2026-11-20T14:00:00Z"]);
    assert_refused(&output, 2, &["--end", "Usage"], &[&cell(&scratch)]);
}

#[test]
fn unusable_window_and_scope_flags_are_input_errors() {
    let cases: [(&[&str], &str); 6] = [
        (&["--n-gpus", "0"], "--n-gpus"),
        (&["--start", "yesterday", "--end", "today"], "--start"),
        (
            &[
                "--start",
                "2026-11-20T14:02:00Z",
                "--end",
                "2026-11-20T14:00:00Z",
            ],
            "is not after --start",
        ),
        (&["--selector", "bad"], "--selector"),
        // 25 years would plan ~220 000 one-hour queries per metric.
        (
            &[
                "--start",
                "2001-01-01T00:00:00Z",
                "--end",
                "2026-11-20T14:00:00Z",
            ],
            "longer than the 7-day limit",
        ),
        (&["--tensor-peak", "nope_pflops"], "nope_pflops"),
    ];
    for (flags, needle) in cases {
        let scratch = Scratch::with_example();
        let output = correlate(&scratch, CELL, flags);
        assert_refused(&output, 2, &[needle], &[&cell(&scratch)]);
    }
}

#[test]
fn unusable_live_source_flags_are_input_errors_before_any_request() {
    // Nothing listens on these hosts: each case must be refused before a request is sent.
    let cases: [(&[&str], &[&str]); 9] = [
        (&["--prometheus", "ftp://x"], &["ftp://x", "http"]),
        (
            &["--prometheus", "http://h/api/v1"],
            &["drop the trailing /api/v1"],
        ),
        (
            &["--prometheus", "http://h", "--basic-auth-user", "u"],
            &[
                "--basic-auth-password-file",
                "$PROMETHEUS_BASIC_AUTH_PASSWORD",
            ],
        ),
        (
            &["--prometheus", "http://h", "--timeout-s", "0"],
            &["--timeout-s"],
        ),
        (
            &["--prometheus", "http://h", "--timeout-s", "1e20"],
            &["at most 86400"],
        ),
        (
            &["--prometheus", "http://h", "--timeout-s", "NaN"],
            &["--timeout-s"],
        ),
        (
            &["--prometheus", "http://h", "--header", "bad"],
            &["--header", "Name: value"],
        ),
        (
            &[
                "--prometheus",
                "http://h",
                "--bearer-token-file",
                "/no/such/token",
            ],
            &["/no/such/token"],
        ),
        (
            &["--prometheus", "http://h", "--scrapes", "x.prom"],
            &["--scrapes", "Usage"],
        ),
    ];
    for (flags, needles) in cases {
        let scratch = Scratch::with_example();
        let output = correlate(&scratch, CELL, flags);
        assert_refused(&output, 2, needles, &[&cell(&scratch)]);
    }
}

#[test]
fn credentials_in_the_url_are_refused_without_echoing_them() {
    let scratch = Scratch::with_example();
    let output = correlate(
        &scratch,
        CELL,
        &["--prometheus", "http://reader:hunter2@prom:9090"],
    );
    assert_refused(
        &output,
        2,
        &["http://***@prom:9090", "basic-auth"],
        &[&cell(&scratch)],
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!all.contains("hunter2"), "the password leaked: {all}");
}

#[test]
fn a_cells_recording_beats_an_ambient_prometheus_url() {
    // $PROMETHEUS_URL points at a port nothing listens on: using it would fail the run.
    let scratch = Scratch::with_example();
    let output = scratch
        .cmd(&["correlate", "--campaign", CAMPAIGN, "--cell-id", CELL])
        .env("PROMETHEUS_URL", "http://127.0.0.1:1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result = scratch.read_json(&cell(&scratch).join("dcgm_correlation.json"));
    assert_eq!(
        result["captured_sources"][0],
        "recorded_scrapes:cells/c008/dcgm-scrapes.prom"
    );
}

#[test]
fn missing_scrapes_file_names_it() {
    let scratch = Scratch::with_example();
    let missing = scratch.path().join("no-such.prom");
    let output = correlate(&scratch, CELL, &["--scrapes", missing.to_str().unwrap()]);
    assert_refused(&output, 2, &["no-such.prom"], &[&cell(&scratch)]);
}

#[test]
fn guidellm_file_with_two_runs_lists_them() {
    let scratch = Scratch::with_example();
    let cell = cell(&scratch);
    fs::remove_file(cell.join("inference_perfbench_v1.json")).unwrap();
    fs::copy(GUIDELLM_TWO_RUNS, cell.join("benchmarks.json")).unwrap();
    let output = correlate(&scratch, CELL, &[]);
    assert_refused(
        &output,
        2,
        &["benchmarks.json", "2 runs", "0: ", "1: ", "--bench-index"],
        &[&cell],
    );
}

#[test]
fn malformed_kernels_json_names_it() {
    let scratch = Scratch::with_example();
    let cell = cell(&scratch);
    for damaged in [
        "{\"per_category\": {\"GEMM\": 412,\n",
        "{\"per_category\": {\"GEMM\": \"lots\"}}",
    ] {
        fs::write(cell.join("kernels.json"), damaged).unwrap();
        let output = correlate(&scratch, CELL, &[]);
        assert_refused(&output, 2, &["kernels.json", "per_category"], &[&cell]);
    }
    let outside = scratch.path().join("profile.json");
    fs::write(&outside, "[1, 2").unwrap();
    fs::remove_file(cell.join("kernels.json")).unwrap();
    let output = correlate(
        &scratch,
        CELL,
        &["--kernels-json", outside.to_str().unwrap()],
    );
    assert_refused(&output, 2, &["profile.json"], &[&cell]);
}

#[test]
fn a_discovered_bench_file_that_is_broken_is_named() {
    let scratch = Scratch::with_example();
    fs::write(
        cell(&scratch).join("inference_perfbench_v1.json"),
        "not json at all\n",
    )
    .unwrap();
    let output = correlate(&scratch, CELL, &[]);
    assert_refused(
        &output,
        2,
        &["inference_perfbench_v1.json"],
        &[&cell(&scratch)],
    );
    let c032 = scratch.cell(CAMPAIGN, "c032");
    let vllm = c032.join("vllm-bench-serve-c032.json");
    let text = fs::read_to_string(&vllm).unwrap();
    fs::write(&vllm, &text[..500]).unwrap();
    let output = correlate(&scratch, "c032", &["--timezone", "UTC"]);
    assert_refused(
        &output,
        2,
        &["vllm-bench-serve-c032.json", "not valid JSON"],
        &[&c032],
    );
}

#[test]
fn all_fp64_blank_values_fail_at_runtime_without_a_result() {
    // Every value is the FP64 blank 2^47, also on int64 byte-rate fields: all rejected, so
    // nothing is left to report — exit 1, saying the values were rejected.
    let scratch = Scratch::with_example();
    let blank = scrapes_with_every_value(&scratch, FP64_BLANK);
    fs::write(cell(&scratch).join("dcgm-scrapes.prom"), blank).unwrap();
    let output = correlate(&scratch, CELL, &[]);
    assert_refused(&output, 1, &["rejected"], &[&cell(&scratch)]);
}
