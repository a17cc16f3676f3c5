//! What the pre-flight probe needs from the server: the series in scope (one request) and the
//! scrape interval of one of them. Judging them is the core's job (`sol_core::probe`).

use sol_core::integrate::median_interval_s;
use sol_core::labels::Labels;
use sol_core::scope::escape_promql_string;
use sol_core::source::FetchRequest;

use crate::client::PromClient;
use crate::error::PromError;

/// Shortest look back of the scrape-interval query, s (two samples of a 60 s exporter).
pub const MIN_INTERVAL_LOOKBACK_S: f64 = 120.0;
/// Longest look back of the scrape-interval query, s (one query chunk).
pub const MAX_INTERVAL_LOOKBACK_S: f64 = 3600.0;

/// The series listed by the probe.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProbeData {
    /// Label sets, each with `__name__`, sorted.
    pub series: Vec<Labels>,
    /// HTTP requests it took (retries included).
    pub requests: usize,
    /// The server's warnings (partial data, …).
    pub warnings: Vec<String>,
}

/// Lists the series of `request.metrics` in the request's scope over `request.range_s()`: ONE
/// `/api/v1/series` request with a `match[]` per metric and scope spelling. Host and UUID items
/// are not sent (which labels carry them is what the probe finds out); the core applies them.
pub fn probe_series(client: &PromClient, request: &FetchRequest) -> Result<ProbeData, PromError> {
    let matchers: Vec<String> = request
        .listing_selectors()
        .into_iter()
        .map(|(_, selector)| selector)
        .collect();
    let (start_s, end_s) = request.range_s();
    let before = client.requests_made();
    let answer = client.series(&matchers, start_s, end_s)?;
    let mut series = answer.data;
    series.sort();
    Ok(ProbeData {
        series,
        requests: client.requests_made() - before,
        warnings: answer.warnings,
    })
}

/// The look back of the scrape-interval query for a fetched range `(start_s, end_s)`: the
/// range, within [`MIN_INTERVAL_LOOKBACK_S`, `MAX_INTERVAL_LOOKBACK_S`].
pub fn interval_lookback_s((start_s, end_s): (f64, f64)) -> f64 {
    (end_s - start_s).clamp(MIN_INTERVAL_LOOKBACK_S, MAX_INTERVAL_LOOKBACK_S)
}

/// The median sample spacing of one series over the `lookback_s` before `end_s` (one
/// raw-sample query, [`interval_selector`]); `None` when it has fewer than two samples there.
/// Samples a server returns outside that span are ignored, so the answer never exceeds it.
pub fn probe_scrape_interval(
    client: &PromClient,
    metric: &str,
    labels: &Labels,
    end_s: f64,
    lookback_s: f64,
) -> Result<Option<f64>, PromError> {
    let answer = client.raw_samples(&interval_selector(metric, labels, lookback_s), end_s)?;
    let span = (end_s - lookback_s)..=end_s;
    Ok(answer.series.iter().find_map(|series| {
        let inside: Vec<_> = series
            .samples
            .iter()
            .filter(|s| span.contains(&s.t_s))
            .copied()
            .collect();
        median_interval_s(&inside)
    }))
}

/// The query [`probe_scrape_interval`] fires: `metric{label="value",…}[<lookback>s]`, values
/// escaped, on every label whose name PromQL accepts unquoted (a UTF-8 name of Prometheus 3
/// would not parse on older servers; the other labels still single the series out).
pub fn interval_selector(metric: &str, labels: &Labels, lookback_s: f64) -> String {
    let matchers: Vec<String> = labels
        .iter()
        .filter(|(name, _)| name.as_str() != "__name__" && is_plain_label_name(name))
        .map(|(name, value)| format!("{name}=\"{}\"", escape_promql_string(value)))
        .collect();
    format!(
        "{metric}{{{}}}[{}s]",
        matchers.join(","),
        lookback_s.ceil() as u64
    )
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`: a label name PromQL accepts without quotes.
fn is_plain_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PromConfig;
    use crate::fake_server::{FakeServer, Reply};
    use sol_core::scope::{Placement, Scope};
    use sol_core::window::{Window, WindowConfidence};

    /// 2026-11-28T00:00:00Z.
    const START_S: f64 = 1_795_824_000.0;

    fn client_of(server: &FakeServer) -> PromClient {
        let mut config = PromConfig::new(server.url(""));
        config.retries = 0;
        PromClient::new(&config).unwrap()
    }

    #[test]
    fn one_series_request_lists_every_metric_and_spelling() {
        let server = FakeServer::start(|_, _| {
            Reply::new(
                200,
                r#"{"status":"success","data":[{"__name__":"DCGM_FI_PROF_DRAM_ACTIVE","UUID":"GPU-b"},{"__name__":"DCGM_FI_DEV_GPU_UTIL","UUID":"GPU-a"}]}"#,
            )
        });
        let client = client_of(&server);
        let scope = Scope {
            namespace: Some("inference".into()),
            hosts: vec!["n1".into()],
            ..Scope::default()
        };
        let window = Window {
            start_s: START_S,
            end_s: START_S + 600.0,
            source: "test".into(),
            confidence: WindowConfidence::Exact,
            timezone_assumption: None,
            resolution_s: None,
            full_span_s: None,
        };
        let request = FetchRequest {
            metrics: vec!["DCGM_FI_PROF_DRAM_ACTIVE", "DCGM_FI_DEV_GPU_UTIL"],
            scope: &scope,
            window: &window,
            margin_s: 30.0,
            placement: Placement::default(),
        };
        let probe = probe_series(&client, &request).unwrap();
        assert_eq!(probe.requests, 1);
        // Sorted: label sets compare key by key, ("UUID","GPU-a") < ("UUID","GPU-b").
        assert_eq!(probe.series[0]["__name__"], "DCGM_FI_DEV_GPU_UTIL");
        assert_eq!(probe.series[1]["__name__"], "DCGM_FI_PROF_DRAM_ACTIVE");
        let form = server.requests()[0].form();
        let values = |key: &str| -> Vec<&str> {
            form.iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        // 2 metrics × 2 namespace spellings; the host is not sent (placement unknown).
        assert_eq!(
            values("match[]"),
            vec![
                r#"DCGM_FI_PROF_DRAM_ACTIVE{namespace="inference"}"#,
                r#"DCGM_FI_PROF_DRAM_ACTIVE{exported_namespace="inference"}"#,
                r#"DCGM_FI_DEV_GPU_UTIL{namespace="inference"}"#,
                r#"DCGM_FI_DEV_GPU_UTIL{exported_namespace="inference"}"#,
            ]
        );
        // The window ± 30 s margin.
        assert_eq!(values("start"), vec!["1795823970.000"]);
        assert_eq!(values("end"), vec!["1795824630.000"]);
    }

    #[test]
    fn the_scrape_interval_is_the_median_spacing_of_one_series() {
        // Samples 100, 85, 70, 40, 25, 10 s before the end: spacings 15, 15, 30 (a missed
        // scrape), 15, 15 → sorted 15, 15, 15, 15, 30 → median 15. A sample far outside the
        // look back (a misbehaving server) must not stretch it.
        let server = FakeServer::start(|n, _| {
            let offsets: &[f64] = if n == 0 {
                &[-1e6, -100.0, -85.0, -70.0, -40.0, -25.0, -10.0]
            } else {
                &[-10.0]
            };
            let values: Vec<String> = offsets
                .iter()
                .map(|o| format!("[{},\"0.5\"]", START_S + 600.0 + o))
                .collect();
            Reply::new(
                200,
                format!(
                    r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{"UUID":"GPU-a"}},"values":[{}]}}]}}}}"#,
                    values.join(",")
                ),
            )
        });
        let client = client_of(&server);
        let labels: Labels = [("__name__", "DCGM_FI_PROF_DRAM_ACTIVE"), ("UUID", "GPU-a")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let end_s = START_S + 600.0;
        let interval =
            probe_scrape_interval(&client, "DCGM_FI_PROF_DRAM_ACTIVE", &labels, end_s, 120.0);
        assert_eq!(interval.unwrap(), Some(15.0));
        let request = &server.requests()[0];
        assert_eq!(
            request.form_value("query").as_deref(),
            Some(r#"DCGM_FI_PROF_DRAM_ACTIVE{UUID="GPU-a"}[120s]"#)
        );
        assert_eq!(
            request.form_value("time").as_deref(),
            Some("1795824600.000")
        );
        // A single sample has no spacing.
        let single =
            probe_scrape_interval(&client, "DCGM_FI_PROF_DRAM_ACTIVE", &labels, end_s, 120.0);
        assert_eq!(single.unwrap(), None);
    }

    #[test]
    fn the_interval_selector_names_every_plain_label_escaped() {
        // `k8s.pod.name` (a Prometheus 3 UTF-8 name) would not parse unquoted: left out.
        let labels: Labels = [
            ("__name__", "DCGM_FI_PROF_DRAM_ACTIVE"),
            ("UUID", "GPU-a"),
            ("k8s.pod.name", "vllm-0"),
            ("pod", "say \"hi\""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            interval_selector("DCGM_FI_PROF_DRAM_ACTIVE", &labels, 600.0),
            r#"DCGM_FI_PROF_DRAM_ACTIVE{UUID="GPU-a",pod="say \"hi\""}[600s]"#
        );
    }

    #[test]
    fn the_look_back_follows_the_range_within_bounds() {
        // A 690 s range looks back 690 s; 30 s → 120 s; a day → one 3600 s chunk.
        assert_eq!(interval_lookback_s((0.0, 690.0)), 690.0);
        assert_eq!(interval_lookback_s((0.0, 30.0)), 120.0);
        assert_eq!(interval_lookback_s((0.0, 86_400.0)), 3600.0);
    }
}
