//! The Prometheus-compatible HTTP API source of `dcgm-sol` (Prometheus, Thanos, Grafana Mimir,
//! VictoriaMetrics).
//!
//! Read-only: only the query and metadata endpoints are ever requested, queries as POST form
//! bodies. Credentials live in [`Secret`]s that print as `***`; a base URL carrying `user:pass@`
//! is refused, so no URL shown anywhere (messages, provenance) can hold one.
//!
//! - [`PromClient`]: requests with timeout, retries and errors that say what to do.
//! - [`PrometheusSource`]: the core's raw-sample plan as a `MetricSource`.
//! - [`probe_series`] / [`probe_scrape_interval`]: what the pre-flight probe judges.

mod client;
mod config;
mod error;
#[cfg(test)]
mod fake_server;
mod parallel;
mod probe;
mod secret;
mod source;

pub use client::{Answer, PromClient};
pub use config::{
    Auth, DEFAULT_BACKOFF_BASE, DEFAULT_RETRIES, DEFAULT_TIMEOUT, MAX_BACKOFF, PromConfig,
    parse_header,
};
pub use error::{PromError, Target};
pub use probe::{
    MAX_INTERVAL_LOOKBACK_S, MIN_INTERVAL_LOOKBACK_S, ProbeData, interval_lookback_s,
    interval_selector, probe_scrape_interval, probe_series,
};
pub use secret::Secret;
pub use source::{DEFAULT_MAX_PARALLEL, PrometheusSource};
