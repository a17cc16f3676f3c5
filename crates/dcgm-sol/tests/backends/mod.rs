//! Harness of the real-backend tests: synthetic exporter data ([`scenario`]), real Prometheus
//! and VictoriaMetrics servers ([`server`]) reached over a minimal HTTP client ([`http`]), and
//! runs of the `dcgm-sol` binary with their comparisons ([`run`]).

pub mod http;
pub mod proxy;
pub mod run;
pub mod scenario;
pub mod server;

use scenario::Scenario;
use server::{PrometheusServer, VictoriaMetricsServer};

/// A Prometheus-compatible store the tests load a scenario into.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    /// Prometheus 2.x, backfilled with promtool from OpenMetrics (seconds).
    Prometheus,
    /// VictoriaMetrics single node, imported from Prometheus text (milliseconds).
    VictoriaMetrics,
}

/// A running backend holding a scenario.
pub enum Running {
    /// Prometheus.
    Prometheus(PrometheusServer),
    /// VictoriaMetrics.
    VictoriaMetrics(VictoriaMetricsServer),
}

impl Backend {
    /// Starts the backend loaded with `scenario`, each in the format it ingests. `None` when
    /// its binaries are missing and backends are not required (the test is skipped).
    pub fn start(self, scenario: &Scenario) -> Option<Running> {
        match self {
            Backend::Prometheus => {
                PrometheusServer::start(&scenario.openmetrics()).map(Running::Prometheus)
            }
            Backend::VictoriaMetrics => {
                VictoriaMetricsServer::start(&scenario.prometheus_text_ms())
                    .map(Running::VictoriaMetrics)
            }
        }
    }
}

impl Running {
    /// Base URL for `--prometheus`.
    pub fn url(&self) -> String {
        match self {
            Running::Prometheus(server) => server.url(),
            Running::VictoriaMetrics(server) => server.url(),
        }
    }

    /// `127.0.0.1:<port>` for direct queries.
    pub fn addr(&self) -> &str {
        match self {
            Running::Prometheus(server) => server.addr(),
            Running::VictoriaMetrics(server) => server.addr(),
        }
    }
}
