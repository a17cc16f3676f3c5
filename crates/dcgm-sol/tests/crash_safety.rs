//! Nothing lost: concurrent runs on one cell and runs killed (SIGKILL) at random points leave
//! either the previous output or a complete new one — never a torn, interleaved or missing
//! file — for `correlate` (dcgm_correlation.json) and `publish --if-exists overwrite` (lake
//! partitions).

mod common;

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Scratch;

const CAMPAIGN: &str = "h200-tp8-sweep";
const CELL: &str = "c008";
/// Kills per test: enough to land before, during and after the write.
const KILLS: u32 = 24;

fn binary() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("dcgm-sol")
}

/// The binary with `args`, as a child process (no output captured).
fn spawn(scratch: &Scratch, args: &[&str]) -> Child {
    Command::new(binary())
        .arg("--campaigns-dir")
        .arg(scratch.path())
        .args(["-q"])
        .args(args)
        .env("TZ", "UTC")
        .env_remove("PROMETHEUS_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn correlate_args(extra: &[&'static str]) -> Vec<&'static str> {
    let mut args = vec!["correlate", "--campaign", CAMPAIGN, "--cell-id", CELL];
    args.extend_from_slice(extra);
    args
}

/// Deterministic delays spread over `[0, span]` (a fixed linear congruential sequence, so a
/// failure reproduces).
fn delays(span: Duration, count: u32) -> Vec<Duration> {
    let mut state: u64 = 0x005e_ed0f_d1ce;
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            span.mul_f64((state >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect()
}

/// Runs to completion and returns how long it took.
fn timed_run(scratch: &Scratch, args: &[&str]) -> Duration {
    let began = Instant::now();
    let status = spawn(scratch, args).wait().unwrap();
    assert!(status.success(), "{args:?} failed");
    began.elapsed()
}

fn kill_after(mut child: Child, delay: Duration) {
    std::thread::sleep(delay);
    let _ = child.kill(); // SIGKILL; an already finished child is fine
    let _ = child.wait();
}

#[test]
fn correlate_killed_at_random_points_leaves_the_old_result_or_the_new_one() {
    let scratch = Scratch::with_example();
    let result_path = scratch.cell(CAMPAIGN, CELL).join("dcgm_correlation.json");
    // The new result, as an uninterrupted run writes it.
    let span = timed_run(&scratch, &correlate_args(&["--timezone", "UTC"]));
    let new = fs::read_to_string(&result_path).unwrap();
    // An older result that differs from it: another tensor peak.
    timed_run(
        &scratch,
        &correlate_args(&["--timezone", "UTC", "--tensor-peak", "bf16_dense_pflops"]),
    );
    let old = fs::read_to_string(&result_path).unwrap();
    assert_ne!(old, new);
    let (mut kept_old, mut got_new) = (0, 0);
    for delay in delays(span.mul_f64(1.2), KILLS) {
        let child = spawn(&scratch, &correlate_args(&["--timezone", "UTC"]));
        kill_after(child, delay);
        let now = fs::read_to_string(&result_path).expect("the result file is never missing");
        if now == old {
            kept_old += 1;
        } else {
            assert_eq!(
                now, new,
                "killed after {delay:?}: neither the old nor the new result"
            );
            got_new += 1;
            // Back to the old one for the next kill.
            fs::write(&result_path, &old).unwrap();
        }
    }
    assert_eq!(kept_old + got_new, KILLS);
    assert!(kept_old > 0, "no kill landed before the write");
}

#[test]
fn two_correlate_runs_on_one_cell_at_once_leave_one_complete_result() {
    let scratch = Scratch::with_example();
    let result_path = scratch.cell(CAMPAIGN, CELL).join("dcgm_correlation.json");
    let fp8 = correlate_args(&["--timezone", "UTC"]);
    let bf16 = correlate_args(&["--timezone", "UTC", "--tensor-peak", "bf16_dense_pflops"]);
    timed_run(&scratch, &fp8);
    let from_fp8 = fs::read_to_string(&result_path).unwrap();
    timed_run(&scratch, &bf16);
    let from_bf16 = fs::read_to_string(&result_path).unwrap();
    for _ in 0..6 {
        let (a, b) = (spawn(&scratch, &fp8), spawn(&scratch, &bf16));
        for mut child in [a, b] {
            assert!(child.wait().unwrap().success());
        }
        let now = fs::read_to_string(&result_path).unwrap();
        assert!(
            now == from_fp8 || now == from_bf16,
            "an interleaved or torn result"
        );
        let frozen = fs::read_to_string(scratch.cell(CAMPAIGN, CELL).join("dcgm-frozen.yaml"));
        assert!(frozen.is_ok(), "the snapshot is there");
    }
}

/// A partition's files: name and bytes, sorted by name.
type PartitionFiles = Vec<(String, Vec<u8>)>;

/// The lake's `<table>/campaign=<slug>` partitions, by table.
fn partitions(lake: &Path) -> Vec<(String, PartitionFiles)> {
    ["campaign_v1", "dcgm_sol_v1"]
        .iter()
        .map(|table| {
            let dir = lake.join(table).join(format!("campaign={CAMPAIGN}"));
            let mut files: PartitionFiles = fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{} missing: {e}", dir.display()))
                .map(|e| {
                    let e = e.unwrap();
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        fs::read(e.path()).unwrap(),
                    )
                })
                .collect();
            files.sort();
            (table.to_string(), files)
        })
        .collect()
}

#[test]
fn publish_overwrite_killed_at_random_points_leaves_each_partition_old_or_new() {
    let scratch = Scratch::with_example();
    let results = common::repo_root().join("testdata/report/h200-tp8-sweep");
    for cell in ["c008", "c032", "c064", "c128"] {
        fs::copy(
            results.join(format!("{cell}.json")),
            scratch.cell(CAMPAIGN, cell).join("dcgm_correlation.json"),
        )
        .unwrap();
    }
    let lake = scratch.path().join("lake");
    let lake_arg = lake.to_str().unwrap().to_string();
    let args = [
        "publish",
        "--campaign",
        CAMPAIGN,
        "--lake",
        lake_arg.as_str(),
        "--if-exists",
        "overwrite",
    ];
    let span = timed_run(&scratch, &args);
    for delay in delays(span.mul_f64(1.2), KILLS) {
        let before = partitions(&lake);
        kill_after(spawn(&scratch, &args), delay);
        let after = partitions(&lake);
        for ((table, old), (_, now)) in before.iter().zip(&after) {
            // One complete Parquet file per partition: the old one or a new one, never both,
            // never none, never a torn one.
            assert_eq!(now.len(), 1, "{table} after a kill at {delay:?}: {now:?}");
            let (name, bytes) = &now[0];
            assert!(name.ends_with(".parquet"));
            assert!(
                bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"),
                "{table}: torn file"
            );
            if now != old {
                assert_ne!(name, &old[0].0, "{table}: same name, different bytes");
            }
        }
    }
    // A publish after all that still works and the lake holds one publish per partition.
    timed_run(&scratch, &args);
    let ids: Vec<String> = partitions(&lake)
        .iter()
        .map(|(_, files)| files[0].0.clone())
        .collect();
    assert_eq!(ids[0], ids[1], "both tables from the same (last) publish");
}
