//! The live path's failure modes, auth and headers, end to end: the real `dcgm-sol` binary
//! against a real Prometheus (a real VictoriaMetrics for the cluster-style prefix), through the
//! loopback proxy of backends/proxy.rs where a test needs a gateway or a misbehaving server.
//! Without the servers' binaries a test is skipped, unless `SOL_REQUIRE_BACKENDS=1`.
//!
//! Data: the `one_host` scenario of real_backends.rs — host A's GPUs 0 and 1 (loads g = 0, 1)
//! under the legacy PROF names, scraped every 15 s throughout — over the scenario window
//! (T0 + 67.5, T0 + 247.5], 180 s. Its hand values (real_backends.rs, module table and
//! `check_one_host`): a field linear in the scrape number k averages its value at k = 11 over
//! that window, so per GPU HBM = DRAM_ACTIVE 0.455 + 0.01 g → 45.5 + g %, tensor (0.35 + 0.01 g)
//! × clock factor 1647/1830 = 0.9 → 31.5 + 0.9 g %, NVLink (180e9 + 18e9 g) / 900e9 → 20 + 2 g %,
//! PCIe (9.6e9 + 1.28e9 g) / 128e9 → 7.5 + g %, power 433 + 10 g W. Over g = 0, 1: HBM
//! (45.5 + 46.5)/2 = 46, tensor (31.5 + 32.4)/2 = 31.95, NVLink (20 + 22)/2 = 21, PCIe
//! (7.5 + 8.5)/2 = 8, energy 180 × (433 + 443) = 157 680 J.

// Each test crate uses its own part of the shared harness.
#[allow(dead_code)]
mod backends;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use backends::Backend;
use backends::proxy::{Proxy, Recorded, Rules, base64};
use backends::run::{
    SAMPLE_FIELDS, Source, assert_agree, assert_close, assert_pct, correlate, number, row,
};
use backends::scenario::{
    Exporter, Gpu, Load, PROF_LEGACY, Scenario, WINDOW_END_S, WINDOW_START_S,
};
use serde_json::Value;
use tempfile::TempDir;

const CAMPAIGN: &str = "live";
const CELL: &str = "cell";
const HOST_A: &str = "ip-100-64-171-120.ec2.internal";

/// The real_backends.rs `one_host` GPUs: host A's GPUs 0 and 1 (UUIDs of fixture
/// h100x8-pod-labels.prom) reading loads g = 0 and 1.
fn one_host_gpus() -> [Gpu; 2] {
    [
        Gpu {
            host: HOST_A,
            index: 0,
            uuid: "GPU-22dbdd79-f55a-92a8-aa39-322198e72ed6",
            load: Load { g: 0 },
        },
        Gpu {
            host: HOST_A,
            index: 1,
            uuid: "GPU-289275cb-a907-ab73-9a95-058ae119f62d",
            load: Load { g: 1 },
        },
    ]
}

/// Both GPUs' exporters, every legacy PROF field at every scrape: 11 fields × 2 GPUs = 22
/// series.
fn one_host() -> Scenario {
    let mut scenario = Scenario::default();
    for gpu in one_host_gpus() {
        scenario.exporter(PROF_LEGACY, gpu.load, |_| {
            Some(gpu.labels(Exporter::Legacy))
        });
    }
    scenario
}

/// Flags of every single-cell run beyond the source: the scenario window, the BF16 dense peak
/// (as real_backends.rs) and the GPU count.
fn cell_flags() -> Vec<String> {
    [
        "--start",
        &WINDOW_START_S.to_string(),
        "--end",
        &WINDOW_END_S.to_string(),
        "--tensor-peak",
        "bf16_dense_pflops",
        "--n-gpus",
        "2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

// ------------------------------------------------------------------------------ running it

/// Environment variables that would steer a run: removed from every run; a test sets the ones
/// it exercises.
const AMBIENT: [&str; 6] = [
    "PROMETHEUS_URL",
    "PROMETHEUS_BEARER_TOKEN",
    "PROMETHEUS_BASIC_AUTH_PASSWORD",
    "SOL_CEILINGS_YAML",
    "SOL_CAMPAIGNS_DIR",
    "DCGM_SOL_LOG",
];

/// A scratch campaigns directory holding campaign `live` with empty cells.
struct Scratch {
    dir: TempDir,
}

impl Scratch {
    fn new(cells: &[&str]) -> Scratch {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        for cell in cells {
            fs::create_dir_all(dir.path().join(CAMPAIGN).join("cells").join(cell))
                .expect("create a cell");
        }
        Scratch { dir }
    }

    fn cell(&self, id: &str) -> PathBuf {
        self.dir.path().join(CAMPAIGN).join("cells").join(id)
    }

    /// `dcgm-sol --campaigns-dir <dir> <args>` with `env` set and nothing ambient.
    fn dcgm_sol(&self, args: &[String], env: &[(&str, &str)]) -> Output {
        let mut command = Command::cargo_bin("dcgm-sol").expect("the dcgm-sol binary");
        for variable in AMBIENT {
            command.env_remove(variable);
        }
        command
            .env("TZ", "UTC")
            .envs(env.iter().copied())
            .arg("--campaigns-dir")
            .arg(self.dir.path())
            .args(args);
        command.output().expect("run dcgm-sol")
    }
}

/// One finished `dcgm-sol` run and the cell it wrote into.
struct Run {
    scratch: Scratch,
    output: Output,
}

/// `dcgm-sol --json correlate` of one fresh cell over the scenario window, reading `url`, with
/// `extra` flags and `env`.
fn correlate_cell(url: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let scratch = Scratch::new(&[CELL]);
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
    args.extend(cell_flags());
    args.extend(["--prometheus".to_string(), url.to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let output = scratch.dcgm_sol(&args, env);
    Run { scratch, output }
}

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// The printed result of a successful run, which is also the cell's dcgm_correlation.json
    /// (and the snapshot was written).
    fn result(&self) -> Value {
        assert!(
            self.output.status.success(),
            "dcgm-sol failed ({}): {}",
            self.output.status,
            self.stderr()
        );
        let printed: Value = serde_json::from_slice(&self.output.stdout).expect("JSON on stdout");
        let [json, yaml] = self.written();
        let file: Value = serde_json::from_str(&json).expect("dcgm_correlation.json is JSON");
        assert_eq!(printed, file, "stdout and dcgm_correlation.json differ");
        assert!(yaml.contains("dcgm_frozen_v1"), "snapshot: {yaml}");
        printed
    }

    /// dcgm_correlation.json and dcgm-frozen.yaml of the cell.
    fn written(&self) -> [String; 2] {
        let cell = self.scratch.cell(CELL);
        ["dcgm_correlation.json", "dcgm-frozen.yaml"].map(|name| {
            fs::read_to_string(cell.join(name))
                .unwrap_or_else(|e| panic!("{name} not written: {e}"))
        })
    }

    /// A refused run: exit `code`, every needle in stderr, no panic, and the cell left empty
    /// (no result, no snapshot, no temporary file of an atomic write).
    fn assert_refused(&self, code: i32, needles: &[&str]) {
        let stderr = self.stderr();
        assert_eq!(
            self.output.status.code(),
            Some(code),
            "stdout:\n{}\nstderr:\n{stderr}",
            self.stdout()
        );
        assert!(!stderr.contains("panicked"), "panic:\n{stderr}");
        for needle in needles {
            assert!(
                stderr.contains(needle),
                "stderr lacks `{needle}`:\n{stderr}"
            );
        }
        let left: Vec<String> = fs::read_dir(self.scratch.cell(CELL))
            .expect("read the cell")
            .map(|e| {
                e.expect("a cell entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert!(left.is_empty(), "a refused run left {left:?} in the cell");
    }

    /// `secret` appears in none of stdout, stderr, dcgm_correlation.json, dcgm-frozen.yaml.
    fn assert_never_shows(&self, secret: &str) {
        let [json, yaml] = self.written();
        for (what, text) in [
            ("stdout", self.stdout()),
            ("stderr", self.stderr()),
            ("dcgm_correlation.json", json),
            ("dcgm-frozen.yaml", yaml),
        ] {
            assert!(!text.contains(secret), "{what} shows the secret");
        }
    }
}

/// A file holding `text` plus a newline (as `echo` writes it), outside the campaigns directory.
fn secret_file(dir: &TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    fs::write(&path, format!("{text}\n")).expect("write the secret file");
    path.display().to_string()
}

/// A 127.0.0.1 port nothing listens on (bound, read, released).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

// ------------------------------------------------------------------------ checking results

/// Workload figures of one cell.
struct Expected {
    duration_s: f64,
    hbm_pct: f64,
    tensor_pct: f64,
    nvlink_pct: f64,
    pcie_pct: f64,
    energy_j: f64,
}

/// The one-host figures over the scenario window (module doc).
const ONE_HOST: Expected = Expected {
    duration_s: 180.0,
    hbm_pct: 46.0,
    tensor_pct: 31.95,
    nvlink_pct: 21.0,
    pcie_pct: 8.0,
    energy_j: 157_680.0,
};

fn check(result: &Value, expected: &Expected) {
    assert_eq!(result["hw_key"], "h100_sxm", "hardware from modelName");
    assert_eq!(result["dcgm_group_level"], "prof");
    assert_eq!(result["n_gpus"], 2);
    assert_eq!(result["gpus"]["seen"], 2);
    assert_close(
        number(&result["duration_s"], "duration"),
        expected.duration_s,
        1e-9,
        "duration s",
    );
    assert_pct(&row(result, "hbm")["sol_pct"], expected.hbm_pct, "HBM");
    assert_pct(
        &row(result, "tensor")["sol_pct"],
        expected.tensor_pct,
        "tensor",
    );
    assert_pct(
        &row(result, "nvlink")["sol_pct"],
        expected.nvlink_pct,
        "NVLink",
    );
    assert_pct(&row(result, "pcie")["sol_pct"], expected.pcie_pct, "PCIe");
    assert_close(
        number(&result["energy"]["energy_j_total"], "energy"),
        expected.energy_j,
        0.5e-3 + 1e-9,
        "energy J",
    );
}

/// The endpoints a read-only client may use (DESIGN.md §2): `GET`/`POST` on
/// `/api/v1/{query,query_range,series,labels,label/*/values,metadata,status/buildinfo}`.
fn is_read_only(request: &Recorded, prefix: &str) -> bool {
    let Some(endpoint) = request
        .path()
        .strip_prefix(prefix)
        .and_then(|p| p.strip_prefix("/api/v1/"))
    else {
        return false;
    };
    let listed = [
        "query",
        "query_range",
        "series",
        "labels",
        "metadata",
        "status/buildinfo",
    ]
    .contains(&endpoint);
    let label_values = endpoint
        .strip_prefix("label/")
        .and_then(|rest| rest.strip_suffix("/values"))
        .is_some_and(|name| !name.is_empty() && !name.contains('/'));
    matches!(request.method.as_str(), "GET" | "POST") && (listed || label_values)
}

/// Every request was a read on an allowed endpoint under `prefix`, and there were some.
fn assert_read_only(requests: &[Recorded], prefix: &str) {
    assert!(!requests.is_empty(), "no request reached the proxy");
    for request in requests {
        assert!(
            is_read_only(request, prefix),
            "not a read-only API request: {} {}",
            request.method,
            request.target
        );
    }
}

/// The request is the probe's listing, `POST <prefix>/api/v1/series`.
fn is_listing(request: &Recorded, prefix: &str) -> bool {
    request.method == "POST" && request.path() == format!("{prefix}/api/v1/series")
}

// ------------------------------------------------------------------------------------ tests

#[test]
fn the_proxy_encodes_basic_auth_as_rfc_4648_base64() {
    // RFC 4648 §10 test vectors.
    for (plain, encoded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
    }
}

#[test]
fn an_unreachable_server_exits_1_naming_the_url() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let run = correlate_cell(&url, &[], &[]);
    // The first request is the probe's listing; connection refused is retried (1 + 3 attempts).
    run.assert_refused(
        1,
        &[
            &format!("{url}/api/v1/series"),
            "cannot reach the server after 4 attempt(s)",
        ],
    );
}

#[test]
fn server_errors_are_retried_and_the_run_agrees_with_a_direct_one() {
    let Some(server) = Backend::Prometheus.start(&one_host()) else {
        return;
    };
    let flags = ["--tensor-peak", "bf16_dense_pflops", "--n-gpus", "2"];
    let direct = correlate(&flags, Source::Server(server.url()));
    let passthrough = Proxy::start(server.addr(), Rules::default());
    correlate_cell(&passthrough.url(), &[], &[]).result();
    let flaky = Proxy::start(server.addr(), Rules::default().fail_first(2, 500));
    let result = correlate_cell(&flaky.url(), &[], &[]).result();
    check(&result, &ONE_HOST);
    assert_agree(&direct, &result, &SAMPLE_FIELDS, &[]);
    // The listing failed twice and passed on the third attempt: three identical listings, then
    // exactly the requests of an undisturbed run.
    let seen = flaky.requests();
    assert!(
        seen[..3]
            .iter()
            .all(|r| is_listing(r, "") && r.body == seen[0].body)
    );
    assert_eq!(seen.len(), passthrough.requests().len() + 2);
    assert_read_only(&seen, "");
}

#[test]
fn a_rejected_query_exits_2_naming_the_url_and_the_promql() {
    let Some(server) = Backend::Prometheus.start(&one_host()) else {
        return;
    };
    let proxy = Proxy::start(server.addr(), Rules::default().reject_queries());
    let run = correlate_cell(&proxy.url(), &[], &[]);
    let queries: Vec<Recorded> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.path() == "/api/v1/query")
        .collect();
    // A 400 is not retried: one query, the first after the listing.
    assert_eq!(queries.len(), 1, "{queries:?}");
    let promql = queries[0]
        .form_value("query")
        .expect("a `query` form field");
    run.assert_refused(
        2,
        &[
            &format!("{}/api/v1/query", proxy.url()),
            &promql,
            "injected rejection",
        ],
    );
}

#[test]
fn a_slow_server_times_out_with_exit_1_within_seconds() {
    let Some(server) = Backend::Prometheus.start(&one_host()) else {
        return;
    };
    let proxy = Proxy::start(
        server.addr(),
        Rules::default().delay(Duration::from_secs(3)),
    );
    let started = Instant::now();
    let run = correlate_cell(&proxy.url(), &["--timeout-s", "0.5"], &[]);
    let elapsed = started.elapsed();
    run.assert_refused(
        1,
        &[
            &format!("{}/api/v1/series", proxy.url()),
            "timed out: no complete answer within 0.5 s after 4 attempt(s)",
            "raise the timeout",
        ],
    );
    // 4 attempts × 0.5 s + backoff 0.25 + 0.5 + 1 s = 3.75 s; far below the 4 × 3 s a
    // timeout-less client would wait.
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
    assert_eq!(proxy.requests().len(), 4, "1 attempt + 3 retries");
}

#[test]
fn a_bearer_token_authenticates_and_never_shows() {
    let Some(server) = Backend::Prometheus.start(&one_host()) else {
        return;
    };
    const TOKEN: &str = "tok-5f3a9c1e-live-failures-bearer";
    // The gateway quotes a refused token back in its 403 body.
    let proxy = Proxy::start(
        server.addr(),
        Rules::default().require_bearer(TOKEN).echo_refused_values(),
    );
    correlate_cell(&proxy.url(), &[], &[]).assert_refused(2, &["HTTP 401", "auth refused"]);
    let secrets = tempfile::tempdir().expect("a directory for secrets");
    const WRONG: &str = "tok-wrong-2b8d40f7";
    let wrong_file = secret_file(&secrets, "wrong-token", WRONG);
    let wrong = correlate_cell(&proxy.url(), &["--bearer-token-file", &wrong_file], &[]);
    wrong.assert_refused(
        2,
        &[
            "HTTP 403",
            "auth refused",
            "wrong authorization header: ***",
        ],
    );
    assert!(
        !wrong.stderr().contains(WRONG) && !wrong.stdout().contains(WRONG),
        "the echoed token shows: {}",
        wrong.stderr()
    );

    let token_file = secret_file(&secrets, "token", TOKEN);
    let from_file = correlate_cell(&proxy.url(), &["--bearer-token-file", &token_file], &[]);
    let from_env = correlate_cell(&proxy.url(), &[], &[("PROMETHEUS_BEARER_TOKEN", TOKEN)]);
    for run in [&from_file, &from_env] {
        check(&run.result(), &ONE_HOST);
        run.assert_never_shows(TOKEN);
    }
    let authorised = proxy
        .requests()
        .iter()
        .filter(|r| r.header("authorization") == Some(format!("Bearer {TOKEN}").as_str()))
        .count();
    assert!(authorised > 2, "the successful runs sent the token");
}

#[test]
fn basic_auth_authenticates_and_the_password_never_shows() {
    let Some(server) = Backend::Prometheus.start(&one_host()) else {
        return;
    };
    const USER: &str = "sol-reader";
    const PASSWORD: &str = "pw-3c9e71d2-live-failures-basic";
    let proxy = Proxy::start(
        server.addr(),
        Rules::default().require_basic(USER, PASSWORD),
    );
    correlate_cell(&proxy.url(), &[], &[]).assert_refused(2, &["HTTP 401", "auth refused"]);

    let secrets = tempfile::tempdir().expect("a directory for secrets");
    let password_file = secret_file(&secrets, "password", PASSWORD);
    let from_file = correlate_cell(
        &proxy.url(),
        &[
            "--basic-auth-user",
            USER,
            "--basic-auth-password-file",
            &password_file,
        ],
        &[],
    );
    let from_env = correlate_cell(
        &proxy.url(),
        &["--basic-auth-user", USER],
        &[("PROMETHEUS_BASIC_AUTH_PASSWORD", PASSWORD)],
    );
    // The header carries base64("sol-reader:" + password): neither form may show.
    let encoded = base64(format!("{USER}:{PASSWORD}").as_bytes());
    for run in [&from_file, &from_env] {
        check(&run.result(), &ONE_HOST);
        run.assert_never_shows(PASSWORD);
        run.assert_never_shows(&encoded);
    }
}

#[test]
fn mimir_style_prefix_and_tenant_header() {
    let Some(server) = Backend::Prometheus.start(&one_host()) else {
        return;
    };
    let mimir = Proxy::start(
        server.addr(),
        Rules::default()
            .prefix("/prometheus")
            .require_header("X-Scope-OrgID", "tenant-a"),
    );
    let tenant = ["--header", "X-Scope-OrgID: tenant-a"];
    check(
        &correlate_cell(&mimir.url(), &tenant, &[]).result(),
        &ONE_HOST,
    );
    let seen = mimir.requests();
    assert_read_only(&seen, "/prometheus");
    assert!(
        seen.iter()
            .all(|r| r.header("x-scope-orgid") == Some("tenant-a")),
        "every request carries the tenant"
    );

    correlate_cell(&mimir.url(), &[], &[]).assert_refused(2, &["HTTP 401", "X-Scope-OrgID"]);
    // The URL without the prefix: nothing serves the API there.
    let bare = mimir.url().replace("/prometheus", "");
    correlate_cell(&bare, &tenant, &[]).assert_refused(2, &["HTTP 404", "path prefix"]);
}

#[test]
fn victoria_metrics_cluster_style_prefix() {
    let Some(server) = Backend::VictoriaMetrics.start(&one_host()) else {
        return;
    };
    let vmselect = Proxy::start(
        server.addr(),
        Rules::default().prefix("/select/0/prometheus"),
    );
    assert!(vmselect.url().ends_with("/select/0/prometheus"));
    check(
        &correlate_cell(&vmselect.url(), &[], &[]).result(),
        &ONE_HOST,
    );
    assert_read_only(&vmselect.requests(), "/select/0/prometheus");
}

#[test]
fn probe_and_correlate_only_read() {
    let Some(server) = Backend::Prometheus.start(&one_host()) else {
        return;
    };
    let proxy = Proxy::start(server.addr(), Rules::default());
    let scratch = Scratch::new(&[]);
    let mut probe: Vec<String> = ["probe", "--prometheus", &proxy.url()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    probe.extend(cell_flags().into_iter().take(4));
    let probed = scratch.dcgm_sol(&probe, &[]);
    assert!(
        probed.status.success(),
        "{}",
        String::from_utf8_lossy(&probed.stderr)
    );
    correlate_cell(&proxy.url(), &[], &[]).result();
    let seen = proxy.requests();
    assert_read_only(&seen, "");
    // The probe and the correlate both list first; data comes from raw-sample queries.
    assert!(seen.iter().filter(|r| is_listing(r, "")).count() >= 2);
    assert!(seen.iter().any(|r| r.path() == "/api/v1/query"));
}

#[test]
fn server_warnings_are_flagged_in_the_result() {
    let Some(server) = Backend::Prometheus.start(&one_host()) else {
        return;
    };
    const PARTIAL: &str = "partial response: store x down";
    let proxy = Proxy::start(server.addr(), Rules::default().warn(PARTIAL));
    let result = correlate_cell(&proxy.url(), &[], &[]).result();
    // The same samples, flagged.
    check(&result, &ONE_HOST);
    let flagged = result["warnings"].as_array().is_some_and(|warnings| {
        warnings
            .iter()
            .filter_map(Value::as_str)
            .any(|w| w.starts_with("SOURCE WARNING") && w.contains(PARTIAL))
    });
    assert!(
        flagged,
        "no SOURCE WARNING naming it: {:#}",
        result["warnings"]
    );
}

#[test]
fn too_many_series_exit_1_before_the_data_queries_unless_forced() {
    let Some(server) = Backend::Prometheus.start(&one_host()) else {
        return;
    };
    let proxy = Proxy::start(server.addr(), Rules::default());
    // 11 PROF fields × 2 GPUs = 22 series in scope, above 3.
    correlate_cell(&proxy.url(), &["--max-series", "3"], &[])
        .assert_refused(1, &["22 series", "--max-series 3", "--force"]);
    // Only the probe ran: the listing and the scrape-interval query.
    let probe_only = proxy.requests();
    assert_eq!(probe_only.len(), 2, "{probe_only:?}");
    assert!(is_listing(&probe_only[0], ""));
    let forced = correlate_cell(&proxy.url(), &["--max-series", "3", "--force"], &[]);
    check(&forced.result(), &ONE_HOST);
}

#[test]
fn dry_run_fires_nothing_and_lists_the_queries() {
    let Some(server) = Backend::Prometheus.start(&one_host()) else {
        return;
    };
    let proxy = Proxy::start(server.addr(), Rules::default());
    let scratch = Scratch::new(&[CELL]);
    let mut args: Vec<String> = ["correlate", "--campaign", CAMPAIGN, "--cell-id", CELL]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(cell_flags());
    args.extend(["--prometheus".into(), proxy.url(), "--dry-run".into()]);
    let output = scratch.dcgm_sol(&args, &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(proxy.requests().len(), 0, "a dry run sent requests");
    let queries: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("query"))
        .collect();
    for metric in [
        "DCGM_FI_PROF_DRAM_ACTIVE",
        "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
    ] {
        assert!(
            queries.iter().any(|q| q.contains(metric)),
            "no query of {metric}:\n{stdout}"
        );
    }
    assert_eq!(
        fs::read_dir(scratch.cell(CELL)).expect("the cell").count(),
        0
    );
}

/// A perfbench bundle whose window starts at `start_utc` and lasts `duration_s`.
fn write_bundle(cell: &Path, start_utc: &str, duration_s: f64) {
    let bundle = serde_json::json!({
        "schema_version": "inference_perfbench_v1",
        "bench": {"captured_at": start_utc, "duration_effective_s": duration_s},
    });
    fs::write(cell.join("inference_perfbench_v1.json"), bundle.to_string())
        .expect("write the bench bundle");
}

#[test]
fn all_cells_correlate_each_over_its_own_bench_window() {
    let Some(server) = Backend::Prometheus.start(&one_host()) else {
        return;
    };
    let scratch = Scratch::new(&["c1", "c2"]);
    // T0 = 1 790 000 000 = 2026-09-21T14:13:20Z; both windows start at T0 + 67.5 s
    // (14:14:27.5Z). c1 lasts 180 s: the scenario window. c2 lasts 90 s: (T0 + 67.5, T0 + 157.5].
    write_bundle(&scratch.cell("c1"), "2026-09-21T14:14:27.500Z", 180.0);
    write_bundle(&scratch.cell("c2"), "2026-09-21T14:14:27.500Z", 90.0);
    let args: Vec<String> = [
        "--json",
        "correlate",
        "--campaign",
        CAMPAIGN,
        "--all-cells",
        "--tensor-peak",
        "bf16_dense_pflops",
        "--n-gpus",
        "2",
        "--prometheus",
        &server.url(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let output = scratch.dcgm_sol(&args, &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read = |cell: &str| -> Value {
        let text = fs::read_to_string(scratch.cell(cell).join("dcgm_correlation.json"))
            .unwrap_or_else(|e| panic!("{cell}: no dcgm_correlation.json: {e}"));
        serde_json::from_str(&text).expect("dcgm_correlation.json is JSON")
    };
    let c1 = read("c1");
    check(&c1, &ONE_HOST);
    // c2, 90 s: scrape 5's span (60, 75] gives 7.5 s, scrapes 6–10 15 s each, scrape 11's
    // (150, 165] 7.5 s. Σw·k = 37.5 + 15 × 40 + 82.5 = 720 = 90 × 8: a linear field averages its
    // k = 8 value. Σw·(−1)^k = −7.5 + 15 − 7.5 = 0 and Σw·k·(−1)^k = −37.5 + 15 × 8 − 82.5 = 0,
    // so the clock factor stays 1647/1830 = 0.9. Per GPU at k = 8:
    // - DRAM 0.400 + 0.01 g + 0.04 → HBM 44 and 45 %, mean 44.5;
    // - tensor (0.335 + 0.01 g) × 0.9 → 30.15 and 31.05 %, mean 30.6;
    // - NVLink TX 116.1e9 + 7.2e9 + 9e9 g, RX 48.5e9 + 4e9 + 9e9 g → 175.8e9 and 193.8e9 B/s,
    //   mean 184.8e9 of 900e9;
    // - PCIe TX 5.3e9 + 0.8e9 + 0.64e9 g, RX 2.65e9 + 0.4e9 + 0.64e9 g → 9.15e9 and 10.43e9 B/s,
    //   mean 9.79e9 of 128e9;
    // - power 400 + 10 g + 24 W → energy 90 × (424 + 434) = 77 220 J.
    let c2 = read("c2");
    check(
        &c2,
        &Expected {
            duration_s: 90.0,
            hbm_pct: 44.5,
            tensor_pct: 30.6,
            nvlink_pct: 184.8e9 / 900e9 * 100.0,
            pcie_pct: 9.79e9 / 128e9 * 100.0,
            energy_j: 77_220.0,
        },
    );
    for (cell, result) in [("c1", &c1), ("c2", &c2)] {
        let source = result["window"]["source"].as_str().unwrap_or_default();
        assert!(
            source.contains("inference_perfbench_v1.json"),
            "{cell}: window from {source}"
        );
    }
}
