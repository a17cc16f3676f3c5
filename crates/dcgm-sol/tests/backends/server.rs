//! Real Prometheus and VictoriaMetrics servers for one test (reference/rust-stack.md §4–§6):
//! loaded with the test's samples, listening on a free 127.0.0.1 port, killed on drop.
//!
//! When a binary is missing the test is skipped with a message, unless `SOL_REQUIRE_BACKENDS=1`
//! (CI), where a missing backend is a failure.

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::http;

/// How long a server may take to answer its readiness probe (it takes ~0.1 s).
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long imported samples may take to become queryable after a flush.
const VISIBLE_TIMEOUT: Duration = Duration::from_secs(10);
const POLL_EVERY: Duration = Duration::from_millis(50);
/// Attempts at starting a server: a free port picked by binding :0 can be taken before the
/// server binds it.
const START_ATTEMPTS: usize = 3;

/// A Prometheus serving blocks backfilled with `promtool` from an OpenMetrics text.
pub struct PrometheusServer {
    server: Server,
    // Dropped after the server is killed (field order).
    _dir: TempDir,
}

impl PrometheusServer {
    /// Backfills `openmetrics` (seconds, `# EOF`) and starts Prometheus on its blocks. `None`
    /// when the binaries are missing and backends are not required.
    pub fn start(openmetrics: &str) -> Option<PrometheusServer> {
        if !available("Prometheus", &["promtool", "prometheus"]) {
            return None;
        }
        let dir = scratch_dir();
        let input = dir.path().join("dcgm.om");
        let data = dir.path().join("data");
        fs::write(&input, openmetrics).expect("write the OpenMetrics file");
        let backfill = Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&input)
            .arg(&data)
            .output()
            .expect("run promtool");
        assert!(
            backfill.status.success(),
            "promtool tsdb create-blocks-from openmetrics failed: {}",
            String::from_utf8_lossy(&backfill.stderr)
        );
        // No scrape targets: the server holds only the backfilled blocks.
        let config = dir.path().join("prometheus.yml");
        fs::write(
            &config,
            "global:\n  scrape_interval: 15s\nscrape_configs: []\n",
        )
        .expect("write the Prometheus config");
        let server = Server::start(&dir.path().join("server.log"), "/-/ready", |port| {
            let mut command = Command::new("prometheus");
            command
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.tsdb.path={}", data.display()))
                // Retention counts from the newest block; 10 y keeps any fixed test epoch.
                .arg("--storage.tsdb.retention.time=10y")
                .arg(format!("--web.listen-address=127.0.0.1:{port}"));
            command
        });
        Some(PrometheusServer { server, _dir: dir })
    }

    /// Base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> &str {
        &self.server.addr
    }
}

/// A single-node VictoriaMetrics holding samples imported in Prometheus text format.
pub struct VictoriaMetricsServer {
    server: Server,
    // Dropped after the server is killed (field order).
    _dir: TempDir,
}

impl VictoriaMetricsServer {
    /// Starts VictoriaMetrics, imports `prometheus_text_ms` (millisecond stamps), flushes it and
    /// waits until every sample line is queryable. `None` when the binary is missing and
    /// backends are not required.
    pub fn start(prometheus_text_ms: &str) -> Option<VictoriaMetricsServer> {
        if !available("VictoriaMetrics", &["victoria-metrics"]) {
            return None;
        }
        let dir = scratch_dir();
        let data = dir.path().join("vmdata");
        let server = Server::start(&dir.path().join("server.log"), "/health", |port| {
            let mut command = Command::new("victoria-metrics");
            command
                .arg(format!("-storageDataPath={}", data.display()))
                .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
                // The default (1 month, from the wall clock) silently drops older samples.
                .arg("-retentionPeriod=100y");
            command
        });
        let addr = server.addr.clone();
        let import = http::post(
            &addr,
            "/api/v1/import/prometheus",
            prometheus_text_ms.as_bytes(),
        )
        .expect("import into VictoriaMetrics");
        assert_eq!(import.status, 204, "import refused: {}", import.body);
        let flush = http::get(&addr, "/internal/force_flush").expect("force_flush");
        assert_eq!(flush.status, 200, "force_flush: {}", flush.body);
        let expected = sample_lines(prometheus_text_ms);
        assert!(
            wait_until(VISIBLE_TIMEOUT, || exported_samples(&addr) == expected),
            "VictoriaMetrics shows {} of the {expected} imported samples after {VISIBLE_TIMEOUT:?}",
            exported_samples(&addr)
        );
        // Samples written into the past may sit behind cached query results (VictoriaMetrics
        // docs on backfilling): start the test from a clean cache.
        let reset = http::get(&addr, "/internal/resetRollupResultCache").expect("reset cache");
        assert_eq!(reset.status, 200, "resetRollupResultCache: {}", reset.body);
        Some(VictoriaMetricsServer { server, _dir: dir })
    }

    /// Base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> &str {
        &self.server.addr
    }
}

/// Sample lines of an exposition text (everything but comments and blank lines).
fn sample_lines(text: &str) -> usize {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .count()
}

/// Samples VictoriaMetrics exports for every series (0 while the server cannot say).
fn exported_samples(addr: &str) -> usize {
    let target = format!(
        "/api/v1/export?{}",
        http::query_string(&[("match[]", "{__name__=~\".+\"}")])
    );
    let Ok(response) = http::get(addr, &target) else {
        return 0;
    };
    response
        .body
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|series| series["timestamps"].as_array().map(Vec::len))
        .sum()
}

/// A running server process; killed on drop.
struct Server {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Server {
    /// Starts `command_for(port)` on a free port, logging to `log`, and waits until
    /// `ready_path` answers 200.
    fn start(log: &Path, ready_path: &str, command_for: impl Fn(u16) -> Command) -> Server {
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let child = command_for(port)
                .stdout(Stdio::null())
                .stderr(File::create(log).expect("create the server log"))
                .spawn()
                .expect("spawn the server");
            let mut server = Server {
                child,
                addr: format!("127.0.0.1:{port}"),
                log: log.to_path_buf(),
            };
            if server.wait_ready(ready_path) {
                return server;
            }
            // Exited early (port taken?): dropping it reaps it; retry on another port.
        }
        panic!(
            "server did not become ready in {START_ATTEMPTS} attempts; last log:\n{}",
            fs::read_to_string(log).unwrap_or_default()
        );
    }

    /// True once `ready_path` answers 200; false if the process exits first. Panics (with the
    /// log) when it neither exits nor becomes ready in time.
    fn wait_ready(&mut self, ready_path: &str) -> bool {
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if http::get(&self.addr, ready_path).is_ok_and(|r| r.status == 200) {
                return true;
            }
            sleep(POLL_EVERY);
        }
        panic!(
            "no answer on {}{ready_path} after {READY_TIMEOUT:?}; log:\n{}",
            self.addr,
            fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn scratch_dir() -> TempDir {
    tempfile::tempdir().expect("create a temporary directory")
}

/// A port nothing listens on right now (bind :0, read it, release it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// Polls `done` until it holds (true) or `timeout` passes (false).
fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if done() {
            return true;
        }
        sleep(POLL_EVERY);
    }
    false
}

/// Whether a backend's binaries are on PATH. Missing: a skip message, or a panic under
/// `SOL_REQUIRE_BACKENDS=1`.
fn available(backend: &str, binaries: &[&str]) -> bool {
    let missing: Vec<&str> = binaries.iter().copied().filter(|b| !on_path(b)).collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "{backend} test skipped: {} not on PATH (Debian packages `prometheus` / `victoria-metrics`; scripts/test.sh installs them)",
        missing.join(", ")
    );
    assert!(
        std::env::var("SOL_REQUIRE_BACKENDS").as_deref() != Ok("1"),
        "SOL_REQUIRE_BACKENDS=1: {message}"
    );
    eprintln!("{message}");
    false
}

fn on_path(binary: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| is_executable(&dir.join(binary)))
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
