//! The metric-source abstraction: one trait, several implementations (recorded scrapes, a
//! Prometheus-compatible API, …). The maths never knows which one delivered the series.

use crate::catalog::{self, FieldKind, Quantity};
use crate::correlation::QueryRecord;
use crate::scope::Scope;
use crate::series::RawSeries;
use crate::time::format_utc_millis;
use crate::window::Window;

/// What to fetch for one cell.
#[derive(Debug, Clone)]
pub struct FetchRequest<'a> {
    /// Metric names (every catalog name; sources return the ones that exist).
    pub metrics: Vec<&'static str>,
    /// Workload scope.
    pub scope: &'a Scope,
    /// Measurement window.
    pub window: &'a Window,
    /// Extra time fetched on each side so the samples covering the window edges are included, s.
    pub margin_s: f64,
}

impl<'a> FetchRequest<'a> {
    /// A request for every metric in the catalog.
    pub fn all_catalog_metrics(
        scope: &'a Scope,
        window: &'a Window,
        margin_s: f64,
    ) -> FetchRequest<'a> {
        FetchRequest {
            metrics: catalog::all_metric_names().collect(),
            scope,
            window,
            margin_s,
        }
    }

    /// The time range fetched: `[start − margin, end + margin]`.
    pub fn range_s(&self) -> (f64, f64) {
        (
            self.window.start_s - self.margin_s,
            self.window.end_s + self.margin_s,
        )
    }
}

/// What a source returns.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    /// Raw series (scope applied, samples within the fetched range).
    pub series: Vec<RawSeries>,
    /// Source description for `captured_sources`, e.g. `recorded_scrapes:cells/c064/dcgm-scrapes.prom`.
    pub captured_source: String,
    /// Queries fired (or, for recorded data, the equivalent raw-sample queries).
    pub queries: Vec<QueryRecord>,
}

/// A place DCGM series come from.
pub trait MetricSource {
    /// Error type of the source.
    type Error: std::error::Error + Send + Sync + 'static;
    /// Fetches the raw samples of the requested metrics over the request's range.
    fn fetch(&self, request: &FetchRequest) -> Result<Fetched, Self::Error>;
}

/// The PromQL that returns the raw samples of `selector` over the request's range: a range
/// selector evaluated at the range end (`sel[<range>s] @ <end>`), never a resampled query.
pub fn raw_sample_promql(selector: &str, request: &FetchRequest) -> String {
    let (start, end) = request.range_s();
    format!("{selector}[{}s] @ {end:.3}", (end - start).ceil() as u64)
}

/// Unit label of a metric for provenance.
pub fn unit_label(metric: &str) -> &'static str {
    match catalog::lookup(metric).map(|(spec, _)| spec.kind) {
        Some(FieldKind::Ratio) => "ratio",
        Some(FieldKind::BytesPerSecond) => "bytes_per_s",
        Some(FieldKind::BusyFraction) => "busy_fraction",
        Some(FieldKind::Counter) => "counter",
        Some(FieldKind::ClockMhz) => "mhz",
        Some(FieldKind::PowerW) => "w",
        None => "unknown",
    }
}

/// Whether a metric is a DEV fallback standing in for a PROF resource.
pub fn is_fallback_metric(metric: &str) -> bool {
    catalog::lookup(metric).is_some_and(|(spec, _)| {
        matches!(
            spec.quantity,
            Quantity::MemCopyUtil | Quantity::GpuUtil | Quantity::NvlinkBandwidthTotal
        )
    })
}

/// Provenance records for `metrics` (one per scope alternative), answered by `source`.
pub fn query_records(metrics: &[&str], request: &FetchRequest, source: &str) -> Vec<QueryRecord> {
    let eval_time_utc = format_utc_millis(request.range_s().1);
    metrics
        .iter()
        .flat_map(|metric| {
            request
                .scope
                .promql_selectors(metric)
                .into_iter()
                .map(move |selector| (metric.to_string(), selector))
        })
        .map(|(metric, selector)| QueryRecord {
            peak_key: None,
            promql: raw_sample_promql(&selector, request),
            unit: unit_label(&metric).to_string(),
            is_fallback: is_fallback_metric(&metric),
            metric,
            eval_time_utc: eval_time_utc.clone(),
            source: source.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::WindowConfidence;

    #[test]
    fn raw_sample_query_spans_the_window_with_margins() {
        let window = Window {
            start_s: 1000.0,
            end_s: 1120.0,
            source: "t".into(),
            confidence: WindowConfidence::Exact,
            timezone_assumption: None,
            resolution_s: None,
            full_span_s: None,
        };
        let scope = Scope {
            namespace: Some("inference".into()),
            ..Scope::default()
        };
        let request = FetchRequest::all_catalog_metrics(&scope, &window, 45.0);
        // Range [955, 1165] → 210 s evaluated at 1165.
        assert_eq!(raw_sample_promql("M", &request), "M[210s] @ 1165.000");
        let records = query_records(&["DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL"], &request, "test");
        assert_eq!(
            records.len(),
            2,
            "namespace and exported_namespace spellings"
        );
        assert!(records[0].is_fallback);
        assert_eq!(records[0].unit, "bytes_per_s");
        assert_eq!(
            records[1].promql,
            "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL{exported_namespace=\"inference\"}[210s] @ 1165.000"
        );
    }
}
