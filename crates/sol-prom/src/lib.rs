//! The Prometheus-compatible HTTP API source of `dcgm-sol`.
