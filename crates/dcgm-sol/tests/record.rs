//! `record` end to end: a loopback dcgm-exporter built from the real H100 fixture
//! (testdata/shared-fixtures/dcgm-exporter/h100x8-pod-labels.prom, 8 GPUs) plus a
//! `DCGM_FI_PROF_DRAM_ACTIVE` series per GPU whose value the exporter refreshes every 3 s and
//! holds in between, with a 1.5 s outage mid-run; a wrapped script that sleeps, writes a vLLM
//! result into the cell and exits 3. Checked: the journal, the OpenMetrics file (with the real
//! `promtool`), the window, the exit code and the HBM %SoL against the exporter's schedule.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Scratch, repo_root};
use serde_json::Value;

/// The exporter refreshes every this many seconds.
const REFRESH_S: f64 = 3.0;
/// DRAM_ACTIVE published by refresh k: 0.4 for even k, 0.8 for odd k.
fn dram_active(k: i64) -> f64 {
    if k.rem_euclid(2) == 0 { 0.4 } else { 0.8 }
}
/// The exporter does not answer in [start, end) seconds after it started.
const OUTAGE_S: (f64, f64) = (13.2, 14.7);

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// A loopback dcgm-exporter: the fixture's series plus DRAM_ACTIVE per GPU, refreshed on a
/// fixed schedule from `started_s`.
struct Exporter {
    url: String,
    started_s: f64,
    stop: Arc<AtomicBool>,
}

impl Exporter {
    fn start(outage: bool) -> Exporter {
        let fixture = fs::read_to_string(
            repo_root().join("testdata/shared-fixtures/dcgm-exporter/h100x8-pod-labels.prom"),
        )
        .unwrap();
        // One DRAM_ACTIVE line per GPU, with the label set of that GPU's GPU_UTIL line.
        let gpus: Vec<String> = fixture
            .lines()
            .filter_map(|l| l.strip_prefix("DCGM_FI_DEV_GPU_UTIL{"))
            .map(|l| l[..l.rfind('}').unwrap()].to_string())
            .collect();
        assert_eq!(gpus.len(), 8);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/metrics", listener.local_addr().unwrap());
        let started_s = now_s();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let since_s = now_s() - started_s;
                if outage && since_s >= OUTAGE_S.0 && since_s < OUTAGE_S.1 {
                    drop(stream); // no answer at all
                    continue;
                }
                let k = (since_s / REFRESH_S).floor() as i64;
                let mut body = fixture.clone();
                body.push_str("# TYPE DCGM_FI_PROF_DRAM_ACTIVE gauge\n");
                for labels in &gpus {
                    body.push_str(&format!(
                        "DCGM_FI_PROF_DRAM_ACTIVE{{{labels}}} {}\n",
                        dram_active(k)
                    ));
                }
                answer(stream, &body);
            }
        });
        Exporter {
            url,
            started_s,
            stop,
        }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn answer(mut stream: TcpStream, body: &str) {
    stream.set_nonblocking(false).unwrap();
    let mut request = [0u8; 4096];
    let _ = stream.read(&mut request);
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn cell_dir(scratch: &Scratch) -> PathBuf {
    scratch.cell("rec", "c1")
}

/// The mean of DRAM_ACTIVE over [start, end] when the value published at refresh k (at
/// `started + 3k + lag`, as first seen by a scrape `lag` s after the refresh) describes the 3 s
/// before it — the DCGM semantics the tool integrates with. Exact piecewise integral.
fn expected_mean(exporter_started_s: f64, lag_s: f64, start_s: f64, end_s: f64) -> f64 {
    let published = |k: i64| exporter_started_s + REFRESH_S * k as f64 + lag_s;
    let first = ((start_s - exporter_started_s - lag_s) / REFRESH_S).floor() as i64;
    let mut integral = 0.0;
    let mut k = first;
    while published(k - 1) < end_s {
        // Refresh k's value covers (published(k − 1), published(k)].
        let from = published(k - 1).max(start_s);
        let to = published(k).min(end_s);
        if to > from {
            integral += dram_active(k) * (to - from);
        }
        k += 1;
    }
    integral / (end_s - start_s)
}

#[test]
fn expected_mean_by_hand() {
    // Started at 0, lag 0: refresh 1 (0.8) covers (0, 3], refresh 2 (0.4) covers (3, 6].
    // Over [1.5, 4.5]: 0.8 × 1.5 + 0.4 × 1.5 = 1.8 → 0.6.
    assert!((expected_mean(0.0, 0.0, 1.5, 4.5) - 0.6).abs() < 1e-12);
    // Lag 0.5 moves the boundary to 3.5: 0.8 × 2 + 0.4 × 1 = 2.0 → 0.6667.
    assert!((expected_mean(0.0, 0.5, 1.5, 4.5) - 2.0 / 3.0).abs() < 1e-12);
}

#[test]
fn records_journals_writes_openmetrics_and_correlates_with_the_commands_exit_code() {
    let exporter = Exporter::start(true);
    let scratch = Scratch::empty();
    let prepared = scratch.path().join("vllm-result.json");
    // A vLLM result for the run (its naive `date` gives only a derived window, so the run's
    // exact recorded window must win).
    let mut vllm: Value = serde_json::from_str(
        &fs::read_to_string(
            repo_root()
                .join("testdata/shared-fixtures/bench/vllm-bench-serve-newer-keys-2026-07.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let end = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(40);
    vllm["date"] = end.strftime("%Y%m%d-%H%M%S").to_string().into();
    vllm["duration"] = 39.0.into();
    fs::write(&prepared, vllm.to_string()).unwrap();
    let target = cell_dir(&scratch).join("vllm-result.json");
    let output = scratch
        .cmd(&[
            "record",
            "--exporter",
            &exporter.url,
            "--campaign",
            "rec",
            "--cell-id",
            "c1",
            "--interval",
            "500ms",
            "--timezone",
            "UTC",
            "--",
            "sh",
            "-c",
            "sleep 39; cp \"$1\" \"$2\"; exit 3",
            "sh",
            prepared.to_str().unwrap(),
            target.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    // The command's exit code passes through; correlate still ran.
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let cell = cell_dir(&scratch);

    // The manifest: the command's window, its exit code, the outage as gaps.
    let manifest: Value = scratch.read_json(&cell.join("dcgm-record.json"));
    let (start_s, end_s) = (
        manifest["started_s"].as_f64().unwrap(),
        manifest["ended_s"].as_f64().unwrap(),
    );
    assert!(
        (end_s - start_s - 39.0).abs() < 1.5,
        "window {start_s} → {end_s}"
    );
    assert!(start_s > exporter.started_s);
    assert_eq!(manifest["exit_code"], 3);
    let gaps = manifest["gaps"].as_array().unwrap();
    // 1.5 s of outage at 0.5 s ticks: 2 to 4 failed scrapes.
    assert!((2..=4).contains(&gaps.len()), "{gaps:?}");
    for gap in gaps {
        let at = gap["at_s"].as_f64().unwrap() - exporter.started_s;
        assert!(
            at > OUTAGE_S.0 - 0.3 && at < OUTAGE_S.1 + 0.3,
            "gap at +{at} s"
        );
    }

    // The journal: one line per attempt, the first before the command started and the last
    // after it ended.
    let journal = fs::read_to_string(cell.join("dcgm-scrapes.journal")).unwrap();
    let entries: Vec<Value> = journal
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let bodies = entries.iter().filter(|e| e.get("body").is_some()).count();
    assert_eq!(bodies, manifest["scrapes"].as_u64().unwrap() as usize);
    assert_eq!(entries.len() - bodies, gaps.len());
    // 39 s at 0.5 s: about 78 ticks plus the first and the final scrape.
    assert!(
        (70..=84).contains(&entries.len()),
        "{} entries",
        entries.len()
    );
    let times: Vec<f64> = entries
        .iter()
        .map(|e| e["taken_at_s"].as_f64().unwrap())
        .collect();
    assert!(times[0] < start_s && *times.last().unwrap() > end_s);

    // The OpenMetrics file is what promtool backfills.
    let scrapes = cell.join("dcgm-scrapes.prom");
    assert!(fs::read_to_string(&scrapes).unwrap().ends_with("# EOF\n"));
    promtool_accepts(&scrapes);

    // The result: the recorded window, and HBM %SoL = 100 × mean DRAM_ACTIVE (Hopper: already
    // the share of peak bandwidth), each 3 s value integrated once over the 3 s before the
    // refresh that published it. The scrapes see a refresh 0 to 0.5 s after it happens; the
    // schedule's mean for both extremes brackets the answer.
    let result = scratch.read_json(&cell.join("dcgm_correlation.json"));
    assert!(
        result["window"]["source"]
            .as_str()
            .unwrap()
            .starts_with("dcgm-sol record"),
        "{}",
        result["window"]["source"]
    );
    assert_eq!(result["window"]["confidence"], "exact");
    assert_eq!(result["exporter_update_interval_s"], 3.0);
    let hbm = common::row(&result, "hbm");
    let sol = hbm["sol_pct"].as_f64().unwrap();
    let low = 100.0 * expected_mean(exporter.started_s, 0.0, start_s, end_s);
    let high = 100.0 * expected_mean(exporter.started_s, 0.5, start_s, end_s);
    let (low, high) = (low.min(high) - 0.05, low.max(high) + 0.05);
    assert!(
        sol >= low && sol <= high,
        "HBM {sol} % outside [{low}, {high}]"
    );
    // Context came from the vLLM result the command wrote.
    assert_eq!(result["context"]["bench_tool"], "vllm");
}

/// `promtool tsdb create-blocks-from openmetrics` takes the file.
fn promtool_accepts(file: &Path) {
    let Ok(version) = Command::new("promtool").arg("--version").output() else {
        assert!(
            std::env::var("SOL_REQUIRE_BACKENDS").as_deref() != Ok("1"),
            "promtool is required (SOL_REQUIRE_BACKENDS=1): install the Debian package prometheus"
        );
        eprintln!("promtool not installed: OpenMetrics check skipped");
        return;
    };
    assert!(version.status.success());
    let blocks = tempfile::tempdir().unwrap();
    let output = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(file)
        .arg(blocks.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "promtool refused {}: {}",
        file.display(),
        stderr(&output)
    );
}

#[test]
fn sigint_sent_to_record_reaches_the_command() {
    let exporter = Exporter::start(false);
    let scratch = Scratch::empty();
    let marker = scratch.path().join("got-sigint");
    let mut record = Command::new(assert_cmd::cargo::cargo_bin("dcgm-sol"))
        .arg("--campaigns-dir")
        .arg(scratch.path())
        .args([
            "record",
            "--exporter",
            &exporter.url,
            "--campaign",
            "rec",
            "--cell-id",
            "c1",
            "--interval",
            "200ms",
            "--no-correlate",
            "--",
            "sh",
            "-c",
            "sleep 30 & child=$!; trap 'kill $child; echo got > \"$1\"; exit 130' INT; wait",
            "sh",
        ])
        .arg(&marker)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Let it start the command, then interrupt record itself (as `kill -INT` would).
    std::thread::sleep(Duration::from_millis(1500));
    let pid = rustix::process::Pid::from_child(&record);
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let status = record.wait().unwrap();
    assert_eq!(status.code(), Some(130), "the command's exit code");
    assert_eq!(fs::read_to_string(&marker).unwrap().trim(), "got");
    let manifest: Value = scratch.read_json(&cell_dir(&scratch).join("dcgm-record.json"));
    assert_eq!(manifest["exit_code"], 130);
    let mut err = String::new();
    record
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn an_exporter_that_never_answers_fails_after_the_command_with_what_was_tried() {
    let scratch = Scratch::empty();
    // A port nothing listens on.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/metrics", closed.local_addr().unwrap());
    drop(closed);
    let output = scratch
        .cmd(&[
            "record",
            "--exporter",
            &url,
            "--campaign",
            "rec",
            "--cell-id",
            "c1",
            "--interval",
            "200ms",
            "--",
            "sh",
            "-c",
            "sleep 0.5",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no exporter answered"),
        "{}",
        stderr(&output)
    );
    let manifest: Value = scratch.read_json(&cell_dir(&scratch).join("dcgm-record.json"));
    assert!(!manifest["gaps"].as_array().unwrap().is_empty());
}

#[test]
fn bad_exporter_urls_and_cell_ids_are_refused_before_anything_runs() {
    let scratch = Scratch::empty();
    let marker = scratch.path().join("ran");
    for (exporter, cell, expected) in [
        (
            "node-1:9400/metrics",
            "c1",
            "give an http:// or https:// URL",
        ),
        (
            "http://user:pw@node-1:9400/metrics",
            "c1",
            "credentials is refused",
        ),
        (
            "http://127.0.0.1:9/metrics",
            "../x",
            "cell id `../x` is not allowed",
        ),
    ] {
        let output = scratch
            .cmd(&[
                "record",
                "--exporter",
                exporter,
                "--campaign",
                "rec",
                "--cell-id",
                cell,
                "--",
                "touch",
            ])
            .arg(&marker)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(stderr(&output).contains(expected), "{}", stderr(&output));
        assert!(!stderr(&output).contains("pw"), "secret echoed");
        assert!(!marker.exists(), "the command must not run");
    }
}
