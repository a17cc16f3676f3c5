//! The Prometheus-compatible API as a [`MetricSource`]: the core's raw-sample plan, fired with
//! bounded parallelism, answers merged back into one series per metric and label set.

use std::collections::BTreeMap;

use sol_core::labels::Labels;
use sol_core::series::{RawSeries, Sample};
use sol_core::source::{FetchRequest, Fetched, MetricSource, query_records, raw_sample_plan};

use crate::client::PromClient;
use crate::error::PromError;
use crate::parallel::map_bounded;

/// Default number of queries in flight.
pub const DEFAULT_MAX_PARALLEL: usize = 4;

/// A live source: one server, a bound on concurrent queries.
#[derive(Debug)]
pub struct PrometheusSource {
    /// The server.
    pub client: PromClient,
    /// Queries in flight at most (0 counts as 1).
    pub max_parallel: usize,
}

impl PrometheusSource {
    /// A source with [`DEFAULT_MAX_PARALLEL`] queries in flight.
    pub fn new(client: PromClient) -> PrometheusSource {
        PrometheusSource {
            client,
            max_parallel: DEFAULT_MAX_PARALLEL,
        }
    }

    /// How provenance names this source: `prometheus:<base url>` (never with credentials).
    pub fn captured_source(&self) -> String {
        format!("prometheus:{}", self.client.base_url())
    }
}

impl MetricSource for PrometheusSource {
    type Error = PromError;

    /// Fetches the raw samples of `request.metrics`: one instant query per planned query,
    /// chunks and scope spellings of one series merged, the scope applied, samples trimmed to
    /// the request's range. The answers' distinct warnings (partial data, …) come along, sorted.
    fn fetch(&self, request: &FetchRequest) -> Result<Fetched, PromError> {
        let plan = raw_sample_plan(request, &request.metrics);
        let answers = map_bounded(&plan, self.max_parallel, |query| {
            self.client.raw_samples(&query.promql, query.eval_time_s)
        })?;
        let mut warnings: Vec<String> = answers
            .iter()
            .flat_map(|answer| answer.warnings.iter().cloned())
            .collect();
        warnings.sort();
        warnings.dedup();
        let parts = plan
            .iter()
            .zip(answers)
            .flat_map(|(query, answer)| answer.series.into_iter().map(|s| (&query.metric, s)));
        let (start_s, end_s) = request.range_s();
        let series = trim(request.scope.select(merge(parts)), start_s, end_s);
        let captured_source = self.captured_source();
        Ok(Fetched {
            series,
            queries: query_records(&plan, &captured_source),
            captured_source,
            warnings,
        })
    }
}

/// One series per (metric, labels): samples of every chunk and spelling concatenated, sorted,
/// exact duplicates (chunk boundaries, a series matched by two spellings: same time, same value)
/// dropped. Two values at one time are kept for the measurement to merge and flag. A series
/// whose server dropped `__name__` takes the planned query's metric.
fn merge<'a>(parts: impl IntoIterator<Item = (&'a String, RawSeries)>) -> Vec<RawSeries> {
    let mut by_identity: BTreeMap<(String, Labels), Vec<Sample>> = BTreeMap::new();
    for (planned_metric, series) in parts {
        let metric = if series.metric.is_empty() {
            planned_metric.clone()
        } else {
            series.metric
        };
        by_identity
            .entry((metric, series.labels))
            .or_default()
            .extend(series.samples);
    }
    by_identity
        .into_iter()
        .map(|((metric, labels), mut samples)| {
            // Servers answer in time order: sorting (and its scratch copy) only when not.
            if !samples.is_sorted_by(|a, b| a.t_s <= b.t_s) {
                samples.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
            }
            samples.dedup_by(|later, earlier| {
                later.t_s == earlier.t_s && later.value.to_bits() == earlier.value.to_bits()
            });
            RawSeries {
                metric,
                labels,
                samples,
            }
        })
        .collect()
}

/// Keeps the samples within `[start_s, end_s]`, and the series that still have one.
fn trim(series: Vec<RawSeries>, start_s: f64, end_s: f64) -> Vec<RawSeries> {
    series
        .into_iter()
        .filter_map(|mut s| {
            s.samples.retain(|p| (start_s..=end_s).contains(&p.t_s));
            (!s.samples.is_empty()).then_some(s)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PromConfig;
    use crate::fake_server::{FakeServer, Reply};
    use sol_core::scope::{Placement, Scope};
    use sol_core::window::{Window, WindowConfidence};
    use std::time::Duration;

    /// 2026-11-28T00:00:00Z.
    const START_S: f64 = 1_795_824_000.0;

    fn window(start_s: f64, end_s: f64) -> Window {
        Window {
            start_s,
            end_s,
            source: "test".into(),
            confidence: WindowConfidence::Exact,
            timezone_assumption: None,
            resolution_s: None,
            full_span_s: None,
        }
    }

    fn source_of(server: &FakeServer, max_parallel: usize) -> PrometheusSource {
        let mut config = PromConfig::new(server.url("/prometheus"));
        config.retries = 0;
        PrometheusSource {
            client: PromClient::new(&config).unwrap(),
            max_parallel,
        }
    }

    /// A matrix answer: `(labels JSON, [(offset from START_S, value)])` per series.
    fn matrix(series: &[(&str, &[(f64, &str)])], warnings: &str) -> String {
        let entries: Vec<String> = series
            .iter()
            .map(|(labels, points)| {
                let values: Vec<String> = points
                    .iter()
                    .map(|(offset, value)| format!("[{},\"{value}\"]", START_S + offset))
                    .collect();
                format!(r#"{{"metric":{labels},"values":[{}]}}"#, values.join(","))
            })
            .collect();
        format!(
            r#"{{"status":"success","data":{{"resultType":"matrix","result":[{}]}},"warnings":[{warnings}]}}"#,
            entries.join(",")
        )
    }

    #[test]
    fn a_two_chunk_fetch_merges_filters_trims_and_records_its_queries() {
        const GPU_A: &str =
            r#"{"__name__":"DCGM_FI_PROF_DRAM_ACTIVE","Hostname":"n1","UUID":"GPU-a","gpu":"0"}"#;
        // The second chunk's server dropped __name__ (as a function would).
        const GPU_A_NAMELESS: &str = r#"{"Hostname":"n1","UUID":"GPU-a","gpu":"0"}"#;
        const GPU_B: &str =
            r#"{"__name__":"DCGM_FI_PROF_DRAM_ACTIVE","Hostname":"n2","UUID":"GPU-b","gpu":"0"}"#;
        let server = FakeServer::start(|_, request| {
            let time = request.form_value("time").unwrap();
            match time.as_str() {
                // Chunk 1, evaluated at START + 3600: one sample 5 s before the window.
                "1795827600.000" => Reply::new(
                    200,
                    matrix(
                        &[
                            (GPU_A, &[(-5.0, "0.3"), (1800.0, "0.4"), (3600.0, "0.5")]),
                            (GPU_B, &[(1800.0, "0.9")]),
                        ],
                        "",
                    ),
                ),
                // Chunk 2, evaluated at START + 7200: the 3600 s boundary sample again.
                "1795831200.000" => Reply::new(
                    200,
                    matrix(
                        &[
                            (
                                GPU_A_NAMELESS,
                                &[(3600.0, "0.5"), (5400.0, "0.6"), (7200.0, "0.7")],
                            ),
                            (GPU_B, &[(5400.0, "0.9")]),
                        ],
                        r#""partial response""#,
                    ),
                ),
                other => Reply::new(400, format!("unexpected time {other}")),
            }
        });
        let source = source_of(&server, 4);
        let scope = Scope {
            hosts: vec!["n1".into()],
            ..Scope::default()
        };
        // 7200 s with no margin: two chunks of 3600 s (MAX_QUERY_RANGE_S).
        let w = window(START_S, START_S + 7200.0);
        let request = FetchRequest {
            metrics: vec!["DCGM_FI_PROF_DRAM_ACTIVE"],
            scope: &scope,
            window: &w,
            margin_s: 0.0,
            placement: Placement::default(),
        };
        let fetched = source.fetch(&request).unwrap();
        // GPU-b is on n2: filtered out after the fetch (no placement label known yet). GPU-a:
        // the -5 s sample is outside [START, START + 7200]; the 3600 s sample is kept once.
        assert_eq!(fetched.series.len(), 1);
        let gpu_a = &fetched.series[0];
        assert_eq!(gpu_a.metric, "DCGM_FI_PROF_DRAM_ACTIVE");
        assert_eq!(gpu_a.labels["UUID"], "GPU-a");
        assert!(!gpu_a.labels.contains_key("__name__"));
        let points: Vec<(f64, f64)> = gpu_a
            .samples
            .iter()
            .map(|s| (s.t_s - START_S, s.value))
            .collect();
        assert_eq!(
            points,
            vec![(1800.0, 0.4), (3600.0, 0.5), (5400.0, 0.6), (7200.0, 0.7)]
        );
        assert_eq!(fetched.warnings, vec!["partial response".to_string()]);
        // Two requests, one per chunk, and two provenance records with their evaluation times.
        assert_eq!(source.client.requests_made(), 2);
        let requests = server.requests();
        assert!(requests.iter().all(|r| r.path == "/prometheus/api/v1/query"
            && r.form_value("query").as_deref() == Some("DCGM_FI_PROF_DRAM_ACTIVE[3600s]")));
        let expected_source = format!("prometheus:{}", server.url("/prometheus"));
        assert_eq!(fetched.captured_source, expected_source);
        let eval_times: Vec<&str> = fetched
            .queries
            .iter()
            .map(|q| q.eval_time_utc.as_str())
            .collect();
        assert_eq!(
            eval_times,
            vec!["2026-11-28T01:00:00.000Z", "2026-11-28T02:00:00.000Z"]
        );
        assert!(
            fetched
                .queries
                .iter()
                .all(|q| q.source == expected_source
                    && q.promql == "DCGM_FI_PROF_DRAM_ACTIVE[3600s]")
        );
    }

    #[test]
    fn no_more_than_max_parallel_queries_are_in_flight() {
        let server = FakeServer::start(|_, _| {
            Reply::new(200, matrix(&[], "")).delayed(Duration::from_millis(50))
        });
        let source = source_of(&server, 2);
        let scope = Scope::default();
        let w = window(START_S, START_S + 60.0);
        let request = FetchRequest {
            metrics: vec!["M0", "M1", "M2", "M3", "M4", "M5"],
            scope: &scope,
            window: &w,
            margin_s: 0.0,
            placement: Placement::default(),
        };
        let fetched = source.fetch(&request).unwrap();
        // Six metrics × one spelling × one chunk = six queries, each answered after 50 ms:
        // two at a time, never three.
        assert!(fetched.series.is_empty());
        assert_eq!(fetched.queries.len(), 6);
        assert_eq!(server.requests().len(), 6);
        assert_eq!(server.peak_in_flight(), 2);
    }

    #[test]
    fn a_failed_query_fails_the_fetch() {
        let server = FakeServer::start(|n, _| match n {
            0 => Reply::new(200, matrix(&[], "")),
            _ => Reply::new(
                200,
                r#"{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}"#,
            ),
        });
        let source = source_of(&server, 1);
        let scope = Scope::default();
        let w = window(START_S, START_S + 60.0);
        let request = FetchRequest::all_catalog_metrics(&scope, &w, 0.0);
        let error = source.fetch(&request).unwrap_err();
        assert!(matches!(error, PromError::UnusableAnswer { .. }), "{error}");
        // One worker stops at the first failure: the 2nd of the catalog's queries.
        assert_eq!(server.requests().len(), 2);
    }

    fn series(metric: &str, gpu: &str, points: &[(f64, f64)]) -> RawSeries {
        RawSeries {
            metric: metric.into(),
            labels: [("gpu".to_string(), gpu.to_string())].into(),
            samples: points
                .iter()
                .map(|&(t_s, value)| Sample { t_s, value })
                .collect(),
        }
    }

    #[test]
    fn chunks_merge_sorted_without_duplicate_timestamps() {
        let planned = "M".to_string();
        // Chunk 2 arrives first; 20 s is on the boundary and comes back in both chunks.
        let merged = merge([
            (&planned, series("M", "0", &[(20.0, 0.2), (30.0, 0.3)])),
            (&planned, series("M", "0", &[(10.0, 0.1), (20.0, 0.2)])),
            (&planned, series("", "1", &[(10.0, 0.5)])),
        ]);
        assert_eq!(merged.len(), 2);
        assert_eq!(
            merged[0],
            series("M", "0", &[(10.0, 0.1), (20.0, 0.2), (30.0, 0.3)])
        );
        // The server dropped __name__: the planned metric names it.
        assert_eq!(merged[1], series("M", "1", &[(10.0, 0.5)]));
    }

    #[test]
    fn trimming_keeps_the_closed_range_and_drops_emptied_series() {
        let trimmed = trim(
            vec![
                series(
                    "M",
                    "0",
                    &[(5.0, 1.0), (10.0, 1.0), (20.0, 1.0), (21.0, 1.0)],
                ),
                series("M", "1", &[(30.0, 1.0)]),
            ],
            10.0,
            20.0,
        );
        assert_eq!(trimmed, vec![series("M", "0", &[(10.0, 1.0), (20.0, 1.0)])]);
    }
}
