//! Recorded dcgm-exporter `/metrics` text: parsed into timestamped series.
//!
//! Two dialects, told apart by the last non-blank line:
//! - **OpenMetrics** ends with `# EOF`; timestamps are epoch seconds (decimals allowed). This is
//!   what `promtool tsdb create-blocks-from openmetrics` accepts and what `dcgm-sol record` writes.
//! - **Prometheus text** has no `# EOF`; timestamps are integer epoch milliseconds (the
//!   VictoriaMetrics import body); successive scrapes are appended, repeating every series.
//!
//! The parser keeps every value as written, DCGM blank sentinels included: dropping them is the
//! validity step's job. `# TYPE` is recorded for information only. Samples without a timestamp
//! (every live exporter scrape) are returned apart; the recorded-scrapes source refuses them.
//!
//! Lines are scanned as bytes and borrowed from the input; a series already seen costs one hash
//! lookup on its label set as written, so large recordings parse without per-sample allocation.

mod error;
mod grouping;
mod label_set;
mod line;
mod timestamp;

use std::collections::BTreeMap;

pub use error::{ScrapeError, ScrapeErrorKind};

use crate::labels::Labels;
use crate::series::{RawSeries, Sample};
use grouping::SeriesTable;
use label_set::decode_label_set;
use line::{Line, is_eof_marker, parse_line};
use timestamp::epoch_seconds;

/// Which text dialect a recording is in; it fixes the timestamp unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpositionFormat {
    /// Ends with `# EOF`; timestamps in epoch seconds.
    OpenMetrics,
    /// No `# EOF`; timestamps in epoch milliseconds.
    PrometheusText,
}

/// A sample that carried no timestamp (as every live exporter scrape does).
#[derive(Debug, Clone, PartialEq)]
pub struct UntimestampedSample {
    /// Metric name.
    pub metric: String,
    /// Decoded labels (empty-valued labels left out).
    pub labels: Labels,
    /// Value as written.
    pub value: f64,
}

/// Everything read from one exposition text.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedScrapes {
    /// Dialect, from the presence of a final `# EOF`.
    pub format: ExpositionFormat,
    /// Timestamped samples, one series per (metric, labels), ordered by metric name then labels;
    /// samples in ascending time, equal timestamps (duplicates included) in input order.
    pub series: Vec<RawSeries>,
    /// Samples without a timestamp that were kept, in input order.
    pub untimestamped: Vec<UntimestampedSample>,
    /// Samples without a timestamp read, kept or not.
    pub untimestamped_count: usize,
    /// Metric family → type from `# TYPE` lines (the last one wins); informational only.
    pub declared_types: BTreeMap<String, String>,
    /// Number of sample lines, timestamped or not.
    pub sample_count: usize,
}

/// Parses exposition text in either dialect (see the module documentation).
///
/// Accepts CRLF line endings, blank lines, any `#` comment, blanks after label commas, trailing
/// commas, `{}`, the escapes `\\` `\"` `\n`, `NaN`/`+Inf`/`-Inf`, integers beyond 2^53 (as the
/// nearest f64) and OpenMetrics exemplars (ignored). Fails on the first malformed line.
pub fn parse_exposition(text: &str) -> Result<ParsedScrapes, ScrapeError> {
    let mut reader = ExpositionReader::new(detect_format(text));
    for line in text.split('\n') {
        reader.push_line(line, &|_, _| true)?;
    }
    Ok(reader.finish())
}

/// Reads exposition text line by line — the whole text, or a file streamed from disk — keeping
/// only the samples a filter wants: memory follows what is kept, not the input's size. Every
/// line is still checked, and counted in [`ParsedScrapes::sample_count`].
#[derive(Debug)]
pub struct ExpositionReader {
    format: ExpositionFormat,
    table: SeriesTable,
    untimestamped: Vec<UntimestampedSample>,
    untimestamped_count: usize,
    declared_types: BTreeMap<String, String>,
    sample_count: usize,
    lines_read: usize,
    eof_seen: bool,
}

impl ExpositionReader {
    /// A reader for text in `format` (known up front: it fixes the timestamp unit; see
    /// [`format_of_last_line`]).
    pub fn new(format: ExpositionFormat) -> ExpositionReader {
        ExpositionReader {
            format,
            table: SeriesTable::default(),
            untimestamped: Vec::new(),
            untimestamped_count: 0,
            declared_types: BTreeMap::new(),
            sample_count: 0,
            lines_read: 0,
            eof_seen: false,
        }
    }

    /// Reads the next line (without its `\n`; a trailing `\r` is ignored). `keep(metric, t_s)`
    /// says whether a timestamped sample is kept; samples without a timestamp are kept when
    /// `keep(metric, NaN)` is true.
    pub fn push_line(
        &mut self,
        raw_line: &str,
        keep: &dyn Fn(&str, f64) -> bool,
    ) -> Result<(), ScrapeError> {
        self.lines_read += 1;
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let fail = |kind| ScrapeError::at(self.lines_read, kind, line);
        if self.eof_seen {
            if line.trim().is_empty() {
                return Ok(());
            }
            return Err(fail(ScrapeErrorKind::ContentAfterEof));
        }
        match parse_line(line).map_err(fail)? {
            Line::Blank | Line::Comment => {}
            Line::Eof => self.eof_seen = true,
            Line::Type { metric, kind } => {
                if self.declared_types.get(metric).map(String::as_str) != Some(kind) {
                    self.declared_types
                        .insert(metric.to_string(), kind.to_string());
                }
            }
            Line::Sample(sample) => {
                self.sample_count += 1;
                match sample.raw_timestamp {
                    Some(raw_timestamp) => {
                        let t_s = epoch_seconds(raw_timestamp, self.format).map_err(fail)?;
                        if keep(sample.metric, t_s) {
                            let value = sample.value;
                            self.table
                                .push(sample.metric, sample.raw_labels, Sample { t_s, value })
                                .map_err(fail)?;
                        }
                    }
                    None => {
                        self.untimestamped_count += 1;
                        if keep(sample.metric, f64::NAN) {
                            self.untimestamped.push(UntimestampedSample {
                                metric: sample.metric.to_string(),
                                labels: decode_label_set(sample.raw_labels).map_err(fail)?,
                                value: sample.value,
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Everything read.
    pub fn finish(self) -> ParsedScrapes {
        ParsedScrapes {
            format: self.format,
            series: self.table.into_sorted_series(),
            untimestamped: self.untimestamped,
            untimestamped_count: self.untimestamped_count,
            declared_types: self.declared_types,
            sample_count: self.sample_count,
        }
    }
}

/// The dialect of a text whose last non-blank line is `last_line`.
pub fn format_of_last_line(last_line: &str) -> ExpositionFormat {
    if is_eof_marker(last_line.trim_end()) {
        ExpositionFormat::OpenMetrics
    } else {
        ExpositionFormat::PrometheusText
    }
}

/// OpenMetrics when the last non-blank line is `# EOF`. Read from the tail so the unit is known
/// before the first timestamp (a streaming reader can seek to the end first).
fn detect_format(text: &str) -> ExpositionFormat {
    format_of_last_line(text.trim_end().rsplit('\n').next().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::TimeError;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../testdata/shared-fixtures/dcgm-exporter/",
                $name
            ))
        };
    }

    fn parse(text: &str) -> ParsedScrapes {
        parse_exposition(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn error_of(text: &str) -> ScrapeError {
        match parse_exposition(text) {
            Err(error) => error,
            Ok(parsed) => panic!("expected an error, parsed {parsed:?}"),
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn samples(pairs: &[(f64, f64)]) -> Vec<Sample> {
        pairs
            .iter()
            .map(|&(t_s, value)| Sample { t_s, value })
            .collect()
    }

    /// Two scrapes 15 s apart of SM_ACTIVE on gpu 0 and 1, OpenMetrics (seconds).
    const TWO_SCRAPES_OPENMETRICS: &str = "\
# HELP DCGM_FI_PROF_SM_ACTIVE SM active ratio.
# TYPE DCGM_FI_PROF_SM_ACTIVE gauge
DCGM_FI_PROF_SM_ACTIVE{gpu=\"0\"} 0.42 1793231941
DCGM_FI_PROF_SM_ACTIVE{gpu=\"1\"} 0.40 1793231941
DCGM_FI_PROF_SM_ACTIVE{gpu=\"0\"} 0.44 1793231956
DCGM_FI_PROF_SM_ACTIVE{gpu=\"1\"} 0.41 1793231956
# EOF
";

    /// The same data as appended Prometheus-text scrapes (milliseconds, HELP/TYPE repeated).
    const TWO_SCRAPES_PROMETHEUS_TEXT: &str = "\
# HELP DCGM_FI_PROF_SM_ACTIVE SM active ratio.
# TYPE DCGM_FI_PROF_SM_ACTIVE gauge
DCGM_FI_PROF_SM_ACTIVE{gpu=\"0\"} 0.42 1793231941000
DCGM_FI_PROF_SM_ACTIVE{gpu=\"1\"} 0.40 1793231941000
# HELP DCGM_FI_PROF_SM_ACTIVE SM active ratio.
# TYPE DCGM_FI_PROF_SM_ACTIVE gauge
DCGM_FI_PROF_SM_ACTIVE{gpu=\"0\"} 0.44 1793231956000
DCGM_FI_PROF_SM_ACTIVE{gpu=\"1\"} 0.41 1793231956000
";

    #[test]
    fn openmetrics_two_scrapes_of_two_series() {
        let parsed = parse(TWO_SCRAPES_OPENMETRICS);
        assert_eq!(parsed.format, ExpositionFormat::OpenMetrics);
        assert_eq!(parsed.sample_count, 4);
        assert!(parsed.untimestamped.is_empty());
        assert_eq!(parsed.declared_types["DCGM_FI_PROF_SM_ACTIVE"], "gauge");
        let expected = vec![
            RawSeries {
                metric: "DCGM_FI_PROF_SM_ACTIVE".into(),
                labels: labels(&[("gpu", "0")]),
                samples: samples(&[(1_793_231_941.0, 0.42), (1_793_231_956.0, 0.44)]),
            },
            RawSeries {
                metric: "DCGM_FI_PROF_SM_ACTIVE".into(),
                labels: labels(&[("gpu", "1")]),
                samples: samples(&[(1_793_231_941.0, 0.40), (1_793_231_956.0, 0.41)]),
            },
        ];
        assert_eq!(parsed.series, expected);
        // Blank lines after the marker change nothing.
        let padded = format!("{TWO_SCRAPES_OPENMETRICS}\n \t\n");
        assert_eq!(parse(&padded), parsed);
    }

    #[test]
    fn prometheus_text_in_milliseconds_gives_identical_series() {
        let from_seconds = parse(TWO_SCRAPES_OPENMETRICS);
        let from_millis = parse(TWO_SCRAPES_PROMETHEUS_TEXT);
        assert_eq!(from_millis.format, ExpositionFormat::PrometheusText);
        assert_eq!(from_millis.series, from_seconds.series);
        assert_eq!(from_millis.sample_count, 4);
    }

    #[test]
    fn crlf_line_endings_are_accepted() {
        let crlf = TWO_SCRAPES_OPENMETRICS.replace('\n', "\r\n");
        let parsed = parse(&crlf);
        assert_eq!(parsed.format, ExpositionFormat::OpenMetrics);
        assert_eq!(parsed.series, parse(TWO_SCRAPES_OPENMETRICS).series);
        // A final line without its newline keeps no stray `\r` either.
        let unterminated = "m{a=\"1\"} 2 1793231941000\r";
        assert_eq!(
            parse(unterminated).series[0].samples,
            samples(&[(1_793_231_941.0, 2.0)])
        );
    }

    #[test]
    fn out_of_order_and_duplicate_samples_are_sorted_and_kept() {
        let text = "\
m 3 1793231971
m 1 1793231941
m 2 1793231956
m 1 1793231941
# EOF
";
        let parsed = parse(text);
        assert_eq!(parsed.sample_count, 4);
        assert_eq!(
            parsed.series[0].samples,
            samples(&[
                (1_793_231_941.0, 1.0),
                (1_793_231_941.0, 1.0),
                (1_793_231_956.0, 2.0),
                (1_793_231_971.0, 3.0)
            ])
        );
    }

    #[test]
    fn escapes_sentinels_specials_and_exemplars_survive() {
        let text = "\
# UNIT m_bytes bytes
m{k=\"a\\\"b\\\\c\\nd\"} 9223372036854775794 1793231941.5
m{k=\"x\"} NaN 1793231941.5 # {trace_id=\"t\"} 1
m{k=\"y\"} -Inf 1793231941.5

# EOF
";
        let parsed = parse(text);
        let by_k = |k: &str| {
            parsed
                .series
                .iter()
                .find(|s| s.labels["k"] == k)
                .map(|s| s.samples[0])
                .unwrap()
        };
        // `a\"b\\c\nd` decodes to a"b\c<newline>d; the sentinel 2^63 - 14 rounds to 2^63.
        assert_eq!(by_k("a\"b\\c\nd").value, 9_223_372_036_854_775_808.0);
        assert_eq!(by_k("a\"b\\c\nd").t_s, 1_793_231_941.5);
        assert!(by_k("x").value.is_nan());
        assert_eq!(by_k("y").value, f64::NEG_INFINITY);
    }

    #[test]
    fn every_error_kind_names_its_line() {
        use ScrapeErrorKind::*;
        let header = "# TYPE m gauge\n";
        let cases: Vec<(String, usize, ScrapeErrorKind)> = vec![
            (format!("{header}m 1\n2m 1\n"), 3, BadMetricName),
            (format!("{header}m{{gpu.x=\"0\"}} 1\n"), 2, BadLabelName),
            (
                format!("{header}\nm{{a=\"1\",a=\"2\"}} 1\n"),
                3,
                DuplicateLabelName("a".into()),
            ),
            (
                format!("{header}m{{gpu \"0\"}} 1\n"),
                2,
                MalformedLabelSet("`=` after the label name"),
            ),
            (format!("{header}m{{gpu=\"0\n"), 2, UnterminatedLabelValue),
            (
                format!("{header}m{{gpu=\"\\0\"}} 1\n"),
                2,
                InvalidEscape('0'),
            ),
            (format!("{header}m{{gpu=\"0\"}}\n"), 2, MissingValue),
            (format!("{header}m one\n"), 2, BadValue),
            (format!("{header}m 1 soon\n"), 2, BadTimestamp),
            (format!("{header}m 1 1793231941000 2\n"), 2, TrailingText),
            (
                format!("{header}m 1 1793231941000\nm 1 1793231956\n"),
                3,
                SecondsWithoutEof,
            ),
            (
                format!("{header}m 1 1793231941\nm 1 1793231956000\n# EOF\n"),
                3,
                MillisecondsInOpenMetrics,
            ),
            (
                format!("{header}m 1 353399.7\n# EOF\n"),
                2,
                ImplausibleTimestamp(TimeError::NotAnEpoch(353_399.7)),
            ),
            // Two OpenMetrics recordings concatenated: the first `# EOF` ends the file.
            (
                format!("{header}m 1 1793231941\n# EOF\n\nm 2 1793231956\n# EOF\n"),
                5,
                ContentAfterEof,
            ),
            // A stray `# EOF` inside a Prometheus-text file.
            (
                format!("{header}m 1 1793231941000\n# EOF\nm 2 1793231956000\n"),
                4,
                ContentAfterEof,
            ),
            (
                format!("{header}# EOF\n# HELP m later\n# EOF\n"),
                3,
                ContentAfterEof,
            ),
        ];
        for (text, line, kind) in cases {
            let error = error_of(&text);
            assert_eq!((error.line, &error.kind), (line, &kind), "{text}");
        }
    }

    #[test]
    fn errors_quote_the_line() {
        let error = error_of("# TYPE m gauge\r\nDCGM_FI_PROF_DRAM_ACTIVE{gpu=\"0\r\n");
        assert_eq!(
            error.to_string(),
            "line 2: unterminated label value in: DCGM_FI_PROF_DRAM_ACTIVE{gpu=\"0"
        );
        let error = error_of("m 1 1793231941\n");
        assert_eq!(
            error.to_string(),
            "line 1: timestamps look like seconds: an OpenMetrics file must end with `# EOF` \
             in: m 1 1793231941"
        );
    }

    #[test]
    fn empty_text_is_an_empty_prometheus_text_file() {
        let parsed = parse("");
        assert_eq!(parsed.format, ExpositionFormat::PrometheusText);
        assert_eq!(parsed.sample_count, 0);
        assert!(parsed.series.is_empty() && parsed.untimestamped.is_empty());
    }

    // ---- real exporter fixtures (no timestamps: dcgm-exporter never emits them) ----

    /// (file, sample lines, `# TYPE` lines), counted with
    /// `grep -cv -e '^#' -e '^$'` and `grep -c '^# TYPE'`.
    const FIXTURE_COUNTS: [(&str, &str, usize, usize); 9] = [
        ("a100-mig-prof.prom", fixture!("a100-mig-prof.prom"), 21, 0),
        (
            "a100-vgpu-no-prof.prom",
            fixture!("a100-vgpu-no-prof.prom"),
            11,
            11,
        ),
        (
            "a100x4-prof-nvlink-zero.prom",
            fixture!("a100x4-prof-nvlink-zero.prom"),
            4,
            1,
        ),
        (
            "a30-mig-nvlink-counter.prom",
            fixture!("a30-mig-nvlink-counter.prom"),
            2,
            1,
        ),
        (
            "gb200x4-transcribed.prom",
            fixture!("gb200x4-transcribed.prom"),
            24,
            0,
        ),
        (
            "h100-mig-gi-pod-labels.prom",
            fixture!("h100-mig-gi-pod-labels.prom"),
            3,
            1,
        ),
        (
            "h100x8-pod-labels.prom",
            fixture!("h100x8-pod-labels.prom"),
            30,
            0,
        ),
        (
            "l40s-default-helm.prom",
            fixture!("l40s-default-helm.prom"),
            23,
            23,
        ),
        (
            "readme-sentinel-old-labels.prom",
            fixture!("readme-sentinel-old-labels.prom"),
            3,
            0,
        ),
    ];

    #[test]
    fn every_exporter_fixture_parses_as_untimestamped_prometheus_text() {
        for (name, text, sample_lines, type_lines) in FIXTURE_COUNTS {
            let parsed = parse(text);
            assert_eq!(parsed.format, ExpositionFormat::PrometheusText, "{name}");
            assert_eq!(parsed.sample_count, sample_lines, "{name}");
            assert_eq!(parsed.untimestamped.len(), sample_lines, "{name}");
            assert!(parsed.series.is_empty(), "{name}");
            // Every fixture declares each family once.
            assert_eq!(parsed.declared_types.len(), type_lines, "{name}");
        }
    }

    #[test]
    fn a100_mig_fixture_separates_gpu_level_and_instance_series() {
        let parsed = parse(fixture!("a100-mig-prof.prom"));
        let (instance, gpu_level): (Vec<_>, Vec<_>) = parsed
            .untimestamped
            .iter()
            .partition(|s| s.labels.contains_key("GPU_I_ID"));
        // Lines 1-17 are GPU-level, line 18 is blank, lines 19-22 carry GPU_I_ID="13".
        assert_eq!((gpu_level.len(), instance.len()), (17, 4));
        let tensor = |set: &[&UntimestampedSample]| {
            set.iter()
                .find(|s| s.metric == "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE")
                .map(|s| (s.value, s.labels.get("GPU_I_ID").cloned()))
                .unwrap()
        };
        assert_eq!(tensor(&gpu_level), (0.929_260, None));
        assert_eq!(tensor(&instance), (0.930_433, Some("13".to_string())));
        assert_eq!(
            gpu_level[0].labels,
            labels(&[
                ("gpu", "0"),
                ("UUID", "GPU-34319582-d595-d1c7-d1d2-179bcfa61660"),
                ("device", "nvidia0"),
                ("Hostname", "ub20-a100-k8s"),
            ])
        );
    }

    #[test]
    fn readme_fixture_keeps_the_sentinel_and_accepts_comma_space() {
        let parsed = parse(fixture!("readme-sentinel-old-labels.prom"));
        let temp = &parsed.untimestamped[2];
        assert_eq!(temp.metric, "DCGM_FI_DEV_MEMORY_TEMP");
        // 9223372036854775794 (NOT_SUPPORTED) parses to the nearest f64, 2^63.
        assert_eq!(temp.value, 2f64.powi(63));
        assert_eq!(
            temp.labels,
            labels(&[
                ("gpu", "0"),
                ("UUID", "GPU-604ac76c-d9cf-fef3-62e9-d92044ab6e52")
            ])
        );
        assert_eq!(parsed.untimestamped[0].value, 139.0);
    }

    #[test]
    fn l40s_fixture_records_types_and_large_counter_values() {
        let parsed = parse(fixture!("l40s-default-helm.prom"));
        assert_eq!(
            parsed.declared_types["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"],
            "counter"
        );
        assert_eq!(parsed.declared_types["DCGM_FI_PROF_DRAM_ACTIVE"], "gauge");
        let energy = parsed
            .untimestamped
            .iter()
            .find(|s| s.metric == "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION")
            .unwrap();
        assert_eq!(energy.value, 5_551_899_580.0);
        assert_eq!(energy.labels["DCGM_FI_DRIVER_VERSION"], "595.58.03");
    }

    #[test]
    fn h100_fixture_keeps_the_pod_labels_of_gpu_6_only() {
        let parsed = parse(fixture!("h100x8-pod-labels.prom"));
        let with_pod: Vec<&str> = parsed
            .untimestamped
            .iter()
            .filter(|s| s.labels.contains_key("pod"))
            .map(|s| s.labels["gpu"].as_str())
            .collect();
        // gpu 6 appears in GPU_TEMP, POWER_USAGE and GPU_UTIL (MEM_COPY_UTIL stops at gpu 5).
        assert_eq!(with_pod, ["6", "6", "6"]);
        let power_6 = parsed
            .untimestamped
            .iter()
            .find(|s| s.metric == "DCGM_FI_DEV_POWER_USAGE" && s.labels["gpu"] == "6")
            .unwrap();
        assert_eq!(power_6.value, 115.22);
        assert_eq!(power_6.labels["pod"], "vllm-agg-0-vllmdecodeworker-5fljt");
    }

    #[test]
    fn a_timestamped_recording_of_a_fixture_groups_its_scrapes() {
        // Two scrapes of the README fixture, stamped 15 s apart: 3 series × 2 samples.
        let stamp = |text: &str, t_ms: u64| {
            text.lines()
                .map(|line| format!("{line} {t_ms}\n"))
                .collect::<String>()
        };
        let readme = fixture!("readme-sentinel-old-labels.prom");
        let recording = stamp(readme, 1_793_231_941_000) + &stamp(readme, 1_793_231_956_000);
        let parsed = parse(&recording);
        assert_eq!(parsed.sample_count, 6);
        assert_eq!(parsed.series.len(), 3);
        // Sorted by metric name: MEMORY_TEMP < MEM_CLOCK ('O' 0x4F < '_' 0x5F) < SM_CLOCK.
        let names: Vec<&str> = parsed.series.iter().map(|s| s.metric.as_str()).collect();
        assert_eq!(
            names,
            [
                "DCGM_FI_DEV_MEMORY_TEMP",
                "DCGM_FI_DEV_MEM_CLOCK",
                "DCGM_FI_DEV_SM_CLOCK"
            ]
        );
        assert_eq!(
            parsed.series[2].samples,
            samples(&[(1_793_231_941.0, 139.0), (1_793_231_956.0, 139.0)])
        );
    }
}
