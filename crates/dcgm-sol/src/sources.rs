//! Where a cell's DCGM series come from: recorded scrapes (a file) or a Prometheus-compatible
//! API. Both deliver raw series for the same computation; the live one is probed first.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::anyhow;
use sol_core::correlation::QueryRecord;
use sol_core::labels::{GpuKey, Labels};
use sol_core::probe::{ProbeReport, build_report};
use sol_core::source::{
    FetchRequest, Fetched, MetricSource, PlannedQuery, listing_records, query_records,
    typical_interval_s,
};
use sol_io::{CampaignDir, CellDir, RecordedScrapes};
use sol_prom::{
    Auth, PromClient, PromConfig, PromError, PrometheusSource, Secret, interval_lookback_s,
    interval_selector, parse_header, probe_scrape_interval, probe_series,
};

use crate::cli::SourceArgs;
use crate::exit::{AppError, input, runtime};
use crate::inputs::{cell_recording, display_path};

/// Environment variable naming the API when no flag does.
const URL_VARIABLE: &str = "PROMETHEUS_URL";
/// Environment variable holding a bearer token when no file is given.
const TOKEN_VARIABLE: &str = "PROMETHEUS_BEARER_TOKEN";
/// Environment variable holding the basic-auth password when no file is given.
const PASSWORD_VARIABLE: &str = "PROMETHEUS_BASIC_AUTH_PASSWORD";

/// Longest `--timeout-s` accepted: a day (a larger one is a typo, and retries multiply it).
const MAX_TIMEOUT: Duration = Duration::from_secs(86_400);

/// The source of one cell.
pub enum CellSource {
    /// A recorded scrapes file.
    Recorded(RecordedScrapes),
    /// A Prometheus-compatible API, probed before the data queries.
    Live(Box<LiveSource>),
}

/// A Prometheus-compatible API and the probe's bound.
pub struct LiveSource {
    source: PrometheusSource,
    max_series: usize,
    force: bool,
}

/// What a probe found and the requests it took.
pub struct Probed {
    /// The judgement.
    pub report: ProbeReport,
    /// Requests fired (none for a recorded source).
    pub queries: Vec<QueryRecord>,
    /// What the server said about its answers.
    pub warnings: Vec<String>,
}

impl CellSource {
    /// The source the flags name for a cell. Precedence: `--scrapes`, `--prometheus`, the
    /// cell's recorded scrapes, `$PROMETHEUS_URL` — a cell's own recording beats an ambient
    /// environment variable.
    pub fn for_cell(
        args: &SourceArgs,
        campaign: &CampaignDir,
        cell: &CellDir,
    ) -> Result<CellSource, AppError> {
        if let Some(path) = &args.scrapes {
            return Ok(CellSource::Recorded(recorded(campaign, path)));
        }
        if let Some(url) = &args.prometheus {
            return live(args, url);
        }
        if let Some(path) = cell_recording(campaign, cell)? {
            return Ok(CellSource::Recorded(recorded(campaign, &path)));
        }
        match env_text(URL_VARIABLE) {
            Some(url) => live(args, &url),
            None => Err(input(anyhow!(
                "cell `{}`: no metric source — no {} in {}, no --scrapes FILE, no --prometheus URL and no ${URL_VARIABLE}",
                cell.id,
                sol_io::SCRAPES_FILE,
                cell.path.display()
            ))),
        }
    }

    /// The source the flags name when there is no cell (`probe --start/--end`).
    pub fn from_flags(args: &SourceArgs) -> Result<CellSource, AppError> {
        if let Some(path) = &args.scrapes {
            return Ok(CellSource::Recorded(RecordedScrapes {
                display_name: path.display().to_string(),
                path: path.clone(),
            }));
        }
        match args.prometheus.clone().or_else(|| env_text(URL_VARIABLE)) {
            Some(url) => live(args, &url),
            None => Err(input(anyhow!(
                "give a source: --prometheus URL (or ${URL_VARIABLE}) or --scrapes FILE"
            ))),
        }
    }

    /// How provenance names the source.
    pub fn captured_source(&self) -> String {
        match self {
            CellSource::Recorded(r) => format!("recorded_scrapes:{}", r.display_name),
            CellSource::Live(l) => l.source.captured_source(),
        }
    }

    /// Whether the source is probed before its data is fetched.
    pub fn probes_first(&self) -> bool {
        matches!(self, CellSource::Live(_))
    }

    /// The pre-flight: which catalog metrics, labels, tiers, hosts and GPUs are in the
    /// request's scope and range, and how many series. A live source lists series (one
    /// request) and reads one series' scrape interval; a recording is read whole.
    pub fn probe(&self, request: &FetchRequest, max_series: usize) -> Result<Probed, AppError> {
        match self {
            CellSource::Recorded(r) => {
                let fetched = r.fetch(request).map_err(input)?;
                let (listed, interval_s) = listing_of(fetched.series);
                Ok(Probed {
                    report: build_report(&listed, request.scope, max_series, interval_s),
                    queries: Vec::new(),
                    warnings: Vec::new(),
                })
            }
            CellSource::Live(l) => l.probe(request, max_series),
        }
    }

    /// Fetches the request's raw samples. A live source probes first and refuses a scope above
    /// the series bound unless forced.
    pub fn fetch(&self, request: &FetchRequest) -> Result<Fetched, AppError> {
        match self {
            // Every failure of a recorded source is a problem with the file: exit 2.
            CellSource::Recorded(r) => r.fetch(request).map_err(input),
            CellSource::Live(l) => l.fetch(request),
        }
    }

    /// The refusal when a probe found more series than allowed (`--force` lifts it).
    pub fn check_bound(report: &ProbeReport, force: bool) -> Result<(), AppError> {
        if report.over_limit && !force {
            return Err(runtime(anyhow!(
                "{} series in scope exceed --max-series {}: narrow the scope (--namespace, --selector, --host, --gpu-uuid) or pass --force",
                report.series_total,
                report.max_series
            )));
        }
        Ok(())
    }
}

impl LiveSource {
    fn probe(&self, request: &FetchRequest, max_series: usize) -> Result<Probed, AppError> {
        let client = &self.source.client;
        let captured = self.source.captured_source();
        let listed = probe_series(client, request).map_err(prom_error)?;
        let mut queries = listing_records(request, &captured);
        // A series of the scope shows the scrape interval (host/UUID items apply here); one of
        // another GPU is tried when it has too few samples (an exporter restarted near the end).
        let (_, end_s) = request.range_s();
        let lookback_s = interval_lookback_s(request.range_s());
        let mut interval_s = None;
        for (metric, labels) in interval_candidates(&listed.series, request) {
            queries.extend(query_records(
                &[PlannedQuery {
                    metric: metric.to_string(),
                    promql: interval_selector(metric, labels, lookback_s),
                    eval_time_s: end_s,
                }],
                &captured,
            ));
            interval_s = probe_scrape_interval(client, metric, labels, end_s, lookback_s)
                .map_err(prom_error)?;
            if interval_s.is_some() {
                break;
            }
        }
        Ok(Probed {
            report: build_report(&listed.series, request.scope, max_series, interval_s),
            queries,
            warnings: listed.warnings,
        })
    }

    fn fetch(&self, request: &FetchRequest) -> Result<Fetched, AppError> {
        let probed = self.probe(request, self.max_series)?;
        let report = &probed.report;
        CellSource::check_bound(report, self.force)?;
        if report.series_total == 0 {
            return Err(runtime(anyhow!(
                "{}: {}",
                self.source.captured_source(),
                report.notes.join("; ")
            )));
        }
        let data_scope = report.data_scope(request.scope);
        // The margin must reach the sample covering each window edge at the interval seen.
        let data_request = FetchRequest {
            metrics: report.metrics_present(),
            scope: &data_scope,
            placement: report.placement(),
            ..request.widened_to_interval(report.scrape_interval_s)
        };
        data_request.check_range().map_err(runtime)?;
        let mut fetched = self.source.fetch(&data_request).map_err(prom_error)?;
        fetched.series = request.scope.select(fetched.series);
        fetched.queries = probed.queries.into_iter().chain(fetched.queries).collect();
        fetched.warnings = probed
            .warnings
            .into_iter()
            .chain(fetched.warnings)
            .collect();
        fetched.warnings.sort();
        fetched.warnings.dedup();
        Ok(fetched)
    }
}

/// Most series whose scrape interval the probe reads before giving up.
const INTERVAL_CANDIDATES: usize = 3;

/// In-scope catalog series of distinct GPUs, as `(metric, labels)`: whose interval to read.
fn interval_candidates<'a>(
    listed: &'a [Labels],
    request: &FetchRequest,
) -> Vec<(&'a str, &'a Labels)> {
    let mut gpus_seen = Vec::new();
    let mut candidates = Vec::new();
    for labels in listed {
        let Some(metric) = labels.get("__name__") else {
            continue;
        };
        let gpu = GpuKey::from_labels(labels).map(|k| k.identity());
        if request.metrics.contains(&metric.as_str())
            && request.scope.matches_placement(labels)
            && !gpus_seen.contains(&gpu)
        {
            gpus_seen.push(gpu);
            candidates.push((metric.as_str(), labels));
        }
        if candidates.len() == INTERVAL_CANDIDATES {
            break;
        }
    }
    candidates
}

/// Label sets with `__name__` of fetched series, and their typical scrape interval.
fn listing_of(series: Vec<sol_core::series::RawSeries>) -> (Vec<Labels>, Option<f64>) {
    let interval_s = typical_interval_s(&series);
    let listed = series
        .into_iter()
        .map(|s| {
            let mut labels = s.labels;
            labels.insert("__name__".to_string(), s.metric);
            labels
        })
        .collect();
    (listed, interval_s)
}

/// A server or transport failure: a bad URL, setting or query is the user's input (exit 2);
/// an unreachable, failing or slow server is a runtime failure (exit 1).
fn prom_error(error: PromError) -> AppError {
    if error.is_input_error() {
        input(error)
    } else {
        runtime(error)
    }
}

/// A non-empty environment variable.
fn env_text(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The live source the flags configure. Nothing is sent: a dry run builds it too.
fn live(args: &SourceArgs, url: &str) -> Result<CellSource, AppError> {
    let mut config = PromConfig::new(url);
    config.timeout = Duration::try_from_secs_f64(args.timeout_s)
        .ok()
        .filter(|t| !t.is_zero() && *t <= MAX_TIMEOUT)
        .ok_or_else(|| {
            input(anyhow!(
                "--timeout-s {}: give a number of seconds above 0 and at most {}",
                args.timeout_s,
                MAX_TIMEOUT.as_secs()
            ))
        })?;
    config.auth = auth(args)?;
    config.headers = args
        .headers
        .iter()
        .map(|h| parse_header(h))
        .collect::<Result<_, _>>()
        .map_err(input)?;
    config.ca_file = args.ca_file.clone();
    config.insecure_skip_verify = args.insecure_skip_verify;
    let client = PromClient::new(&config).map_err(prom_error)?;
    for warning in client.warnings() {
        tracing::warn!("{warning}");
    }
    Ok(CellSource::Live(Box::new(LiveSource {
        source: PrometheusSource::new(client),
        max_series: args.max_series,
        force: args.force,
    })))
}

/// Credentials from files, else from the environment.
fn auth(args: &SourceArgs) -> Result<Auth, AppError> {
    let secret = |file: &Option<PathBuf>, variable: &str| -> Result<Option<Secret>, AppError> {
        match file {
            Some(path) => Secret::from_file(path).map(Some).map_err(input),
            None => Ok(env_text(variable).map(Secret::new)),
        }
    };
    // Flags beat the environment: a basic-auth user ignores an ambient token.
    if let Some(user) = &args.basic_auth_user {
        let password =
            secret(&args.basic_auth_password_file, PASSWORD_VARIABLE)?.ok_or_else(|| {
                input(anyhow!(
                    "--basic-auth-user {user}: give --basic-auth-password-file FILE or ${PASSWORD_VARIABLE}"
                ))
            })?;
        return Ok(Auth::Basic {
            user: user.clone(),
            password,
        });
    }
    Ok(secret(&args.bearer_token_file, TOKEN_VARIABLE)?.map_or(Auth::None, Auth::Bearer))
}

fn recorded(campaign: &CampaignDir, path: &Path) -> RecordedScrapes {
    RecordedScrapes {
        display_name: display_path(campaign, path),
        path: path.to_path_buf(),
    }
}
