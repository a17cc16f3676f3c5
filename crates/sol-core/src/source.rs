//! The metric-source abstraction: one trait, several implementations (recorded scrapes, a
//! Prometheus-compatible API, …). The maths never knows which one delivered the series.

use crate::catalog::{self, Quantity};
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

    /// The time range fetched: the window — widened to the bench's full span (warm-up and drain,
    /// which energy per token covers) when it records one — plus the margin on each side.
    pub fn range_s(&self) -> (f64, f64) {
        let [start, end] = self
            .window
            .full_span_s
            .map_or([self.window.start_s, self.window.end_s], |[s, e]| {
                [s.min(self.window.start_s), e.max(self.window.end_s)]
            });
        (start - self.margin_s, end + self.margin_s)
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

/// Whether a metric is a DEV fallback standing in for a PROF resource.
pub fn is_fallback_metric(metric: &str) -> bool {
    catalog::lookup(metric).is_some_and(|(spec, _)| {
        matches!(
            spec.quantity,
            Quantity::MemCopyUtil | Quantity::GpuUtil | Quantity::NvlinkBandwidthTotal
        )
    })
}

/// Provenance of the raw-sample queries that fetch `metrics` for the request: one batched query
/// (`{__name__=~"A|B|…", <scope>}`) per scope alternative — the set a live source fires.
pub fn query_records(metrics: &[&str], request: &FetchRequest, source: &str) -> Vec<QueryRecord> {
    if metrics.is_empty() {
        return Vec::new();
    }
    let eval_time_utc = format_utc_millis(request.range_s().1);
    let names = metrics.join("|");
    request
        .scope
        .promql_selectors(&format!("__name__=~\"{names}\""))
        .into_iter()
        .map(|selector| QueryRecord {
            peak_key: None,
            metric: names.clone(),
            promql: raw_sample_promql(&selector, request),
            unit: "per metric (field catalog)".to_string(),
            is_fallback: metrics.iter().any(|m| is_fallback_metric(m)),
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
        let records = query_records(
            &[
                "DCGM_FI_PROF_DRAM_ACTIVE",
                "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL",
            ],
            &request,
            "test",
        );
        assert_eq!(records.len(), 2, "one batched query per namespace spelling");
        assert!(
            records[0].is_fallback,
            "the batch includes the DEV NVLink fallback"
        );
        assert_eq!(
            records[1].promql,
            "{__name__=~\"DCGM_FI_PROF_DRAM_ACTIVE|DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL\",exported_namespace=\"inference\"}[210s] @ 1165.000"
        );
    }
}
