//! The recorded-scrapes source: exporter text with per-sample timestamps in a file (OpenMetrics
//! in seconds ending with `# EOF`, or appended Prometheus text in milliseconds), as written by
//! `dcgm-sol record`. No server needed.

use std::path::{Path, PathBuf};

use sol_core::catalog;
use sol_core::scrape::{ExpositionReader, ParsedScrapes, ScrapeError, format_of_last_line};
use sol_core::source::{
    FetchRequest, Fetched, MetricSource, RangeTooLong, query_records, raw_sample_plan,
    typical_interval_s,
};

use crate::read::{InputError, for_each_line, last_line};

/// Longest scrape interval the first pass allows for: samples farther than
/// [`MARGIN_INTERVALS`](sol_core::source::MARGIN_INTERVALS) such intervals from the window are
/// dropped while the file streams, before the data's own interval is known.
const MAX_PLAUSIBLE_INTERVAL_S: f64 = 600.0;

/// A recorded source that cannot deliver.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// Unreadable file.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Exporter text that does not parse.
    #[error("{path}: {error}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's error (line and excerpt).
        error: ScrapeError,
    },
    /// No samples at all.
    #[error(
        "{path}: holds no samples (empty or only comments); record the exporter during the run with `dcgm-sol record`"
    )]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// Samples without timestamps: a single live scrape, not a recording.
    #[error(
        "{path}: {untimestamped} samples carry no timestamp — a plain /metrics scrape has no time; record with `dcgm-sol record` or add epoch timestamps to every sample"
    )]
    NoTimestamps {
        /// The file.
        path: PathBuf,
        /// Samples without a timestamp.
        untimestamped: usize,
    },
    /// The window (widened to the recording's scrape interval) is longer than a cell can be.
    #[error("{path}: {error}")]
    Range {
        /// The file.
        path: PathBuf,
        /// The range refused.
        error: RangeTooLong,
    },
}

/// Recorded scrapes in a file.
#[derive(Debug, Clone)]
pub struct RecordedScrapes {
    /// The file.
    pub path: PathBuf,
    /// How it is named in provenance (relative to the campaign when possible).
    pub display_name: String,
}

/// Streams a recorded scrapes file, keeping catalog metrics in scope and range: memory follows
/// the samples near the window, not the file's size.
pub fn load_recorded_scrapes(
    source: &RecordedScrapes,
    request: &FetchRequest,
) -> Result<Fetched, SourceError> {
    let path: &Path = &source.path;
    let (from_s, to_s) = request
        .widened_to_interval(Some(MAX_PLAUSIBLE_INTERVAL_S))
        .range_s();
    let parsed = stream_exposition(path, &|metric, t_s| {
        request.metrics.contains(&metric) && t_s >= from_s && t_s <= to_s
    })?;
    if parsed.sample_count == 0 {
        return Err(SourceError::Empty {
            path: path.to_path_buf(),
        });
    }
    if parsed.untimestamped_count > 0 {
        return Err(SourceError::NoTimestamps {
            path: path.to_path_buf(),
            untimestamped: parsed.untimestamped_count,
        });
    }
    let known: Vec<_> = parsed
        .series
        .into_iter()
        .filter(|s| request.metrics.contains(&s.metric.as_str()))
        .collect();
    // As a live source does: the margin follows the interval the data shows, the range is cut
    // first and the scope applied to what is left.
    let request = &request.widened_to_interval(typical_interval_s(&known));
    request.check_range().map_err(|error| SourceError::Range {
        path: path.to_path_buf(),
        error,
    })?;
    let (from_s, to_s) = request.range_s();
    let in_range: Vec<_> = known
        .into_iter()
        .filter_map(|mut s| {
            s.samples.retain(|x| x.t_s >= from_s && x.t_s <= to_s);
            (!s.samples.is_empty()).then_some(s)
        })
        .collect();
    let series = request.scope.select(in_range);
    let mut present: Vec<&'static str> = series
        .iter()
        .filter_map(|s| catalog::lookup(&s.metric).map(|(_, name)| name.name))
        .collect();
    present.sort_unstable();
    present.dedup();
    let captured_source = format!("recorded_scrapes:{}", source.display_name);
    let queries = query_records(&raw_sample_plan(request, &present), &captured_source);
    Ok(Fetched {
        series,
        captured_source,
        queries,
        warnings: Vec::new(),
    })
}

/// Reads an exposition file line by line, keeping the samples `keep` wants.
fn stream_exposition(
    path: &Path,
    keep: &dyn Fn(&str, f64) -> bool,
) -> Result<ParsedScrapes, SourceError> {
    let mut reader = ExpositionReader::new(format_of_last_line(&last_line(path)?));
    for_each_line(path, |line| {
        reader
            .push_line(line, keep)
            .map_err(|error| SourceError::Parse {
                path: path.to_path_buf(),
                error,
            })
    })?;
    Ok(reader.finish())
}

impl MetricSource for RecordedScrapes {
    type Error = SourceError;

    fn fetch(&self, request: &FetchRequest) -> Result<Fetched, SourceError> {
        load_recorded_scrapes(self, request)
    }
}
