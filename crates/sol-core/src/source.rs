//! The metric-source abstraction: one trait, several implementations (recorded scrapes, a
//! Prometheus-compatible API, …). The maths never knows which one delivered the series.

use crate::catalog::{self, FieldKind, Quantity};
use crate::correlation::QueryRecord;
use crate::integrate::median_interval_s;
use crate::scope::{Placement, Scope};
use crate::series::RawSeries;
use crate::time::format_utc_millis;
use crate::window::Window;

/// Seconds fetched beyond each window edge, in scrape intervals: enough to hold the samples that
/// cover the window's edges.
pub const MARGIN_INTERVALS: f64 = 3.0;

/// Longest range one cell may fetch, s. Benchmark cells run minutes to hours; a longer range is
/// a wrong `--start/--end` (or a nonsensical scrape interval) and would plan thousands of queries.
pub const MAX_FETCH_RANGE_S: f64 = 7.0 * 86_400.0;

/// A fetched range no cell can have.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the range to fetch, {start} → {end} ({hours:.1} h with margins), is longer than the 7-day limit of one cell: check the window (--start/--end or the bench file)"
)]
pub struct RangeTooLong {
    /// Range start, UTC.
    pub start: String,
    /// Range end, UTC.
    pub end: String,
    /// Its length, h.
    pub hours: f64,
}

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
    /// Labels carrying host and UUID, when a probe found them (server-side placement filters).
    pub placement: Placement,
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
            placement: Placement::default(),
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

    /// This request with its margin widened to [`MARGIN_INTERVALS`] scrape intervals of the data
    /// when that is wider: a source whose series are scraped less often than expected still
    /// delivers the samples covering the window's edges.
    pub fn widened_to_interval(&self, interval_s: Option<f64>) -> FetchRequest<'a> {
        let mut wider = self.clone();
        if let Some(interval_s) = interval_s.filter(|i| i.is_finite() && *i > 0.0) {
            wider.margin_s = wider.margin_s.max(MARGIN_INTERVALS * interval_s);
        }
        wider
    }

    /// Refuses a range longer than [`MAX_FETCH_RANGE_S`].
    pub fn check_range(&self) -> Result<(), RangeTooLong> {
        let (start_s, end_s) = self.range_s();
        if end_s - start_s <= MAX_FETCH_RANGE_S {
            return Ok(());
        }
        Err(RangeTooLong {
            start: format_utc_millis(start_s),
            end: format_utc_millis(end_s),
            hours: (end_s - start_s) / 3600.0,
        })
    }

    /// Series selectors listing every requested metric in scope (one per metric and scope
    /// spelling, with its metric), without range: what a series listing (`/api/v1/series`)
    /// matches. Host and UUID items are left out — which labels carry them is what the listing
    /// finds out.
    pub fn listing_selectors(&self) -> Vec<(&'static str, String)> {
        self.metrics
            .iter()
            .flat_map(|&metric| {
                self.scope
                    .promql_selectors(metric, &Placement::default())
                    .into_iter()
                    .map(move |selector| (metric, selector))
            })
            .collect()
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
    /// What the source said about its answers (a server's partial-data warnings, …).
    pub warnings: Vec<String>,
}

/// A place DCGM series come from.
pub trait MetricSource {
    /// Error type of the source.
    type Error: std::error::Error + Send + Sync + 'static;
    /// Fetches the raw samples of the requested metrics over the request's range.
    fn fetch(&self, request: &FetchRequest) -> Result<Fetched, Self::Error>;
}

/// The typical scrape interval of fetched series: the median of their median sample spacings.
pub fn typical_interval_s(series: &[RawSeries]) -> Option<f64> {
    let mut spacings: Vec<f64> = series
        .iter()
        .filter_map(|s| median_interval_s(&s.samples))
        .collect();
    spacings.sort_by(f64::total_cmp);
    spacings.get(spacings.len() / 2).copied()
}

/// Longest range one query covers; longer windows are split so responses stay bounded.
pub const MAX_QUERY_RANGE_S: f64 = 3600.0;

/// One raw-sample query: a range selector `promql` evaluated as an instant query at
/// `eval_time_s` (the `time` parameter; VictoriaMetrics 1.79 ignores an `@` modifier).
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedQuery {
    /// Metric it fetches.
    pub metric: String,
    /// `metric{scope}[<range>s]`.
    pub promql: String,
    /// Evaluation time, epoch s.
    pub eval_time_s: f64,
}

/// The raw-sample queries for `metrics`: per metric, per scope spelling, per chunk of at most
/// [`MAX_QUERY_RANGE_S`] of the fetched range. Chunks meet exactly; a sample on a boundary may
/// come back twice and is merged like any duplicate.
pub fn raw_sample_plan(request: &FetchRequest, metrics: &[&str]) -> Vec<PlannedQuery> {
    let (start, end) = request.range_s();
    let chunks = ((end - start) / MAX_QUERY_RANGE_S).ceil().max(1.0) as usize;
    let step = (end - start) / chunks as f64;
    let mut plan = Vec::new();
    for metric in metrics {
        for selector in request.scope.promql_selectors(metric, &request.placement) {
            for chunk in 0..chunks {
                let eval_time_s = start + step * (chunk + 1) as f64;
                plan.push(PlannedQuery {
                    metric: metric.to_string(),
                    promql: format!("{selector}[{}s]", step.ceil() as u64),
                    eval_time_s,
                });
            }
        }
    }
    plan
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

/// `unit` of a provenance record that lists series (`/api/v1/series` over the fetched range,
/// recorded at the range end) rather than reading samples.
pub const SERIES_LISTING_UNIT: &str = "series_listing";

/// Provenance records of the series listing of `request` (one per selector) answered by
/// `source`.
pub fn listing_records(request: &FetchRequest, source: &str) -> Vec<QueryRecord> {
    let (_, end_s) = request.range_s();
    request
        .listing_selectors()
        .into_iter()
        .map(|(metric, selector)| QueryRecord {
            peak_key: None,
            metric: metric.to_string(),
            promql: selector,
            unit: SERIES_LISTING_UNIT.to_string(),
            is_fallback: is_fallback_metric(metric),
            eval_time_utc: format_utc_millis(end_s),
            source: source.to_string(),
        })
        .collect()
}

/// Provenance records of planned queries answered by `source`.
pub fn query_records(plan: &[PlannedQuery], source: &str) -> Vec<QueryRecord> {
    plan.iter()
        .map(|q| QueryRecord {
            peak_key: None,
            metric: q.metric.clone(),
            promql: q.promql.clone(),
            unit: unit_label(&q.metric).to_string(),
            is_fallback: is_fallback_metric(&q.metric),
            eval_time_utc: format_utc_millis(q.eval_time_s),
            source: source.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::window;

    #[test]
    fn plan_covers_the_range_per_metric_spelling_and_chunk() {
        let w = window(1000.0, 1120.0);
        let scope = Scope {
            namespace: Some("inference".into()),
            ..Scope::default()
        };
        let request = FetchRequest::all_catalog_metrics(&scope, &w, 45.0);
        // Range [955, 1165]: one 210 s chunk evaluated at 1165, two namespace spellings.
        let plan = raw_sample_plan(&request, &["DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL"]);
        assert_eq!(plan.len(), 2);
        assert_eq!(
            plan[1].promql,
            "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL{exported_namespace=\"inference\"}[210s]"
        );
        assert_eq!(plan[1].eval_time_s, 1165.0);
        let records = query_records(&plan, "test");
        assert!(records[0].is_fallback);
        assert_eq!(records[0].unit, "bytes_per_s");
        assert_eq!(records[0].eval_time_utc, format_utc_millis(1165.0));
    }

    #[test]
    fn long_ranges_are_chunked_without_gaps() {
        // A 3 h window plus 2 × 45 s margins = 10 890 s → 4 chunks of 2722.5 s (ceil 2723 s),
        // evaluated at 955 + 2722.5 k.
        let w = window(1000.0, 1000.0 + 3.0 * 3600.0);
        let scope = Scope::default();
        let request = FetchRequest::all_catalog_metrics(&scope, &w, 45.0);
        let plan = raw_sample_plan(&request, &["M"]);
        let times: Vec<f64> = plan.iter().map(|q| q.eval_time_s).collect();
        assert_eq!(times, vec![3677.5, 6400.0, 9122.5, 11845.0]);
        assert!(plan.iter().all(|q| q.promql == "M[2723s]"));
    }

    #[test]
    fn the_margin_widens_to_three_intervals_of_slow_scrapes() {
        let w = window(1000.0, 1120.0);
        let scope = Scope::default();
        let request = FetchRequest::all_catalog_metrics(&scope, &w, 45.0);
        // 60 s scrapes: 3 × 60 = 180 s > 45 s → range [820, 1300].
        assert_eq!(
            request.widened_to_interval(Some(60.0)).range_s(),
            (820.0, 1300.0)
        );
        // 1 s scrapes never narrow it; an unknown or nonsensical interval leaves it.
        for interval in [Some(1.0), None, Some(f64::NAN), Some(-5.0)] {
            assert_eq!(
                request.widened_to_interval(interval).range_s(),
                (955.0, 1165.0)
            );
        }
    }

    #[test]
    fn ranges_beyond_seven_days_are_refused() {
        let scope = Scope::default();
        // 7 days minus the two 45 s margins fits exactly: 604 800 s.
        let fits = window(0.0, 604_800.0 - 90.0);
        let request = FetchRequest::all_catalog_metrics(&scope, &fits, 45.0);
        assert_eq!(request.check_range(), Ok(()));
        let long = window(0.0, 604_800.0);
        let error = FetchRequest::all_catalog_metrics(&scope, &long, 45.0)
            .check_range()
            .unwrap_err();
        // 604 890 s = 168.025 h.
        assert!(error.to_string().contains("168.0 h"), "{error}");
        // An absurd interval widens a short window past the limit.
        let short = window(1000.0, 1120.0);
        let request = FetchRequest::all_catalog_metrics(&scope, &short, 45.0);
        assert!(
            request
                .widened_to_interval(Some(1e9))
                .check_range()
                .is_err()
        );
    }

    #[test]
    fn the_typical_interval_is_the_median_of_series_medians() {
        use crate::series::Sample;
        let series = |times: &[f64]| RawSeries {
            metric: "M".into(),
            labels: Default::default(),
            samples: times
                .iter()
                .map(|&t_s| Sample { t_s, value: 0.0 })
                .collect(),
        };
        // Medians 15, 15 and 30 (one series scraped every 30 s); a one-sample series has none.
        let all = [
            series(&[0.0, 15.0, 30.0]),
            series(&[0.0, 30.0, 60.0]),
            series(&[5.0, 20.0, 35.0, 50.0]),
            series(&[7.0]),
        ];
        assert_eq!(typical_interval_s(&all), Some(15.0));
        assert_eq!(typical_interval_s(&all[3..]), None);
    }
}
