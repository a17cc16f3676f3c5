//! Benchmark result readers: the measurement window and the context of each run a bench file
//! records (DESIGN.md §2 "Window and context", reference/bench-formats.md).
//!
//! Pure: the caller reads the file and passes its name and text, and resolves the timezone for
//! naive local times. The format is recognised by content, never by file name.

mod aiperf;
mod atlas;
mod context_keys;
mod guidellm;
mod inference_perf;
mod json_fields;
mod llmd;
mod llmperf;
mod local_time;
mod perfbench;
mod python_json;
mod sglang;
mod sniff;
mod vllm;
mod yaml;

pub use atlas::{AtlasRecord, read_atlas};
pub use llmd::llmd_with_observability;

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context::Context;
use crate::time::{TimeError, check_epoch_seconds, format_utc_millis};
use crate::window::{Window, WindowConfidence};

use json_fields::Field;
use sniff::{Detected, Unreadable};

/// A bench result format this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BenchFormat {
    /// The seed's bundle `inference_perfbench_v1.json` (`.bench.captured_at` +
    /// `.bench.duration_effective_s`).
    PerfbenchV1,
    /// vLLM `bench serve --save-result` JSON: one object, appended objects or a sweep array.
    VllmBenchServe,
    /// GuideLLM `benchmarks.json`: one run per generative benchmark.
    #[serde(rename = "guidellm")]
    GuideLlm,
    /// NVIDIA AIPerf: the `profile_export_aiperf.json` summary, or the per-request records of
    /// `profile_export.jsonl` (one run for the whole file).
    Aiperf,
    /// SGLang `python -m sglang.bench_serving` JSONL: one run per line, no timestamps.
    SglangBenchServing,
    /// LLMPerf `*_summary.json`.
    #[serde(rename = "llmperf")]
    LlmPerf,
    /// kubernetes-sigs/inference-perf lifecycle report (`stage_<N>_lifecycle_metrics.json`),
    /// alone or read with its report directory ([`read_bench_files`]).
    InferencePerf,
    /// llm-d Benchmark Report (v0.1, v0.2, v0.2.1) in YAML or JSON, including inference-perf's
    /// per-stage partial reports.
    LlmdBenchmarkReport,
}

impl BenchFormat {
    /// Every supported format, in the order error messages list them.
    pub const ALL: [BenchFormat; 8] = [
        BenchFormat::PerfbenchV1,
        BenchFormat::VllmBenchServe,
        BenchFormat::GuideLlm,
        BenchFormat::Aiperf,
        BenchFormat::SglangBenchServing,
        BenchFormat::LlmPerf,
        BenchFormat::InferencePerf,
        BenchFormat::LlmdBenchmarkReport,
    ];

    /// Stable identifier, as serialised (`perfbench_v1`, `vllm_bench_serve`, `guidellm`,
    /// `aiperf`, `sglang_bench_serving`, `llmperf`, `inference_perf`, `llmd_benchmark_report`).
    pub fn id(self) -> &'static str {
        match self {
            BenchFormat::PerfbenchV1 => "perfbench_v1",
            BenchFormat::VllmBenchServe => "vllm_bench_serve",
            BenchFormat::GuideLlm => "guidellm",
            BenchFormat::Aiperf => "aiperf",
            BenchFormat::SglangBenchServing => "sglang_bench_serving",
            BenchFormat::LlmPerf => "llmperf",
            BenchFormat::InferencePerf => "inference_perf",
            BenchFormat::LlmdBenchmarkReport => "llmd_benchmark_report",
        }
    }

    /// What a user would recognise the format by.
    pub fn description(self) -> &'static str {
        match self {
            BenchFormat::PerfbenchV1 => {
                "inference_perfbench_v1.json bundle (.bench.captured_at + .bench.duration_effective_s)"
            }
            BenchFormat::VllmBenchServe => "vLLM `bench serve --save-result` JSON",
            BenchFormat::GuideLlm => "GuideLLM benchmarks.json",
            BenchFormat::Aiperf => {
                "AIPerf profile_export_aiperf.json (or the per-request profile_export.jsonl)"
            }
            BenchFormat::SglangBenchServing => "SGLang `bench_serving` JSONL",
            BenchFormat::LlmPerf => "LLMPerf *_summary.json",
            BenchFormat::InferencePerf => {
                "inference-perf stage_<N>_lifecycle_metrics.json (with its report directory)"
            }
            BenchFormat::LlmdBenchmarkReport => "llm-d Benchmark Report v0.2 (YAML or JSON)",
        }
    }
}

impl fmt::Display for BenchFormat {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.id())
    }
}

/// One run (one benchmark cell's load point) read from a bench file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchRun {
    /// Format the file was recognised as.
    pub format: BenchFormat,
    /// Position of the run in the file (GuideLLM `benchmarks[]` index, vLLM object order, SGLang
    /// line order, inference-perf stage number).
    pub index: usize,
    /// Short human label: the cell id, `30 req/s`, `constant 2 req/s`, …
    pub label: String,
    /// The measurement window; `None` for formats that record no absolute time (SGLang,
    /// inference-perf without its partial report): see [`window_from_mtime`].
    pub window: Option<Window>,
    /// The run's measured duration in seconds as the tool recorded it (or derived it, said in
    /// `notes`), whether or not it gave a window.
    pub duration_s: Option<f64>,
    /// Everything the file records about the workload and deployment.
    pub context: Context,
    /// Assumptions and oddities worth showing next to the result (timezone assumed, a client
    /// cap that is not the load level, a configured length far from the measured one, …).
    pub notes: Vec<String>,
}

/// Choices the caller makes for reading a bench file.
#[derive(Debug, Clone, Default)]
pub struct BenchReadOptions {
    /// The perfbench bundle's `captured_at` is the END of the window (older bundles), not the
    /// start.
    pub captured_at_is_end: bool,
    /// Timezone of naive local times (vLLM's `date`, AIPerf's offset-less ISO times): `--timezone`,
    /// else the machine's. `None` reads them as UTC and records that assumption.
    pub timezone: Option<jiff::tz::TimeZone>,
}

/// Why a bench file gave no runs. Every variant names the file and, where one is at fault, the
/// field as a JSON path (`.bench.duration_effective_s`, `[1].date`), and says what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// An atlas describes one cell twice, differently.
    #[error(
        "{file}: cell `{cell_id}` is described twice, differently (lines {} and {}): a duplicate line makes its context ambiguous; keep one line per cell",
        lines[0], lines[1]
    )]
    DuplicateCell {
        /// The atlas file.
        file: String,
        /// The cell.
        cell_id: String,
        /// Both lines, 1-based.
        lines: [usize; 2],
    },
    /// The window a format's fields give is not a time any clock shows.
    #[error(
        "{file}: the window from {origin} is impossible: {reason}; fix the field, or give the window with --start/--end"
    )]
    ImpossibleWindow {
        /// Bench file name.
        file: String,
        /// Where the window came from (file and fields).
        origin: String,
        /// Why.
        reason: String,
    },
    /// A key the window is read from appears twice in one object.
    #[error(
        "{file}: duplicate key `{key}` in one object, and the window is read from it: the window is ambiguous; keep the right value, or give the window with --start/--end"
    )]
    DuplicateKey {
        /// Bench file name.
        file: String,
        /// The key.
        key: String,
    },
    /// Looks like JSON but does not parse.
    #[error(
        "{file}: not valid JSON at line {line}, column {column}: {message}; \
         check that the bench wrote the file completely"
    )]
    NotJson {
        /// Bench file name.
        file: String,
        /// 1-based line of the syntax error.
        line: usize,
        /// 1-based column of the syntax error.
        column: usize,
        /// The parser's description.
        message: String,
    },
    /// A document that must be YAML (a report to write into) does not parse.
    #[error("{file}: not a readable YAML document: {message}")]
    NotYaml {
        /// What the document is.
        file: String,
        /// The parser's description, with line and column.
        message: String,
    },
    /// Not one of the supported formats.
    #[error(
        "{file}: not a supported benchmark result ({found}); supported: {supported}; \
         for other tools give the window with --start/--end",
        supported = supported_formats()
    )]
    UnknownFormat {
        /// Bench file name.
        file: String,
        /// What the content looks like.
        found: String,
    },
    /// A recognised file that holds no run to read; `problem` says what to give instead.
    #[error("{file}: {problem}")]
    NoRun {
        /// Bench file name.
        file: String,
        /// What is missing and what to do.
        problem: String,
    },
    /// A required field is absent (or `null`).
    #[error(
        "{file}: missing field `{field}`{also}; add it, or give the window with --start/--end",
        also = also_accepted_suffix(also_accepted)
    )]
    MissingField {
        /// Bench file name.
        file: String,
        /// JSON path of the preferred field.
        field: String,
        /// Other paths that would have been accepted instead.
        also_accepted: Vec<String>,
    },
    /// A field holds a value of the wrong type or range.
    #[error("{file}: `{field}` is {found}, expected {expected}; correct it in the file")]
    WrongType {
        /// Bench file name.
        file: String,
        /// JSON path of the field.
        field: String,
        /// What the field should hold.
        expected: &'static str,
        /// What it holds.
        found: String,
    },
    /// A time field is not a usable wall-clock time (unparseable, or a monotonic reading).
    #[error(
        "{file}: `{field}`: {problem}; the window needs wall-clock times: give it with \
         --start/--end"
    )]
    BadTime {
        /// Bench file name.
        file: String,
        /// JSON path of the field.
        field: String,
        /// What is wrong with the value.
        problem: TimeError,
    },
    /// A duration that is zero or negative.
    #[error(
        "{file}: `{field}` = {duration_s} s is not a positive duration; correct it or give the \
         window with --start/--end"
    )]
    NonPositiveDuration {
        /// Bench file name.
        file: String,
        /// JSON path of the field.
        field: String,
        /// The value found.
        duration_s: f64,
    },
    /// An end time that does not come after its start time.
    #[error(
        "{file}: `{end_field}` ({end}) does not come after `{start_field}` ({start}); \
         correct the file or give the window with --start/--end",
        end = format_utc_millis(*end_s),
        start = format_utc_millis(*start_s)
    )]
    EndBeforeStart {
        /// Bench file name.
        file: String,
        /// JSON path of the start.
        start_field: String,
        /// JSON path of the end.
        end_field: String,
        /// Start, epoch seconds.
        start_s: f64,
        /// End, epoch seconds.
        end_s: f64,
    },
    /// The updated report could not be written as YAML.
    #[error("{file}: cannot write the report as YAML: {message}")]
    YamlOutput {
        /// What the document is.
        file: String,
        /// The serialiser's description.
        message: String,
    },
}

fn supported_formats() -> String {
    BenchFormat::ALL
        .iter()
        .map(|format| format.description())
        .collect::<Vec<_>>()
        .join(", ")
}

fn also_accepted_suffix(also_accepted: &[String]) -> String {
    if also_accepted.is_empty() {
        String::new()
    } else {
        let quoted: Vec<String> = also_accepted
            .iter()
            .map(|path| format!("`{path}`"))
            .collect();
        format!(" (also accepted: {})", quoted.join(", "))
    }
}

/// The format of a bench file's content, if it is one this module reads.
pub fn sniff(text: &str) -> Option<BenchFormat> {
    let documents = sniff::parse_documents(text).ok()?;
    sniff::detect(&documents).map(|detected| detected.format())
}

/// Reads every run of a bench file: its window, context and notes. `file_name` is only used to
/// name the file in sources and errors (and, for inference-perf, to number the stage).
pub fn read_bench(
    file_name: &str,
    text: &str,
    options: &BenchReadOptions,
) -> Result<Vec<BenchRun>, BenchError> {
    let (documents, repeated) = sniff::parse_documents_noting_repeats(text)
        .map_err(|unreadable| unreadable_error(file_name, unreadable))?;
    let detected = sniff::detect(&documents).ok_or_else(|| BenchError::UnknownFormat {
        file: file_name.to_string(),
        found: sniff::describe_documents(&documents),
    })?;
    let mut runs = read_detected(file_name, &detected, options)?;
    for window in runs.iter().filter_map(|run| run.window.as_ref()) {
        // Each format checks its own fields; a start or end no clock can show (a duration of
        // 1e308 s, a start before 1970) is caught here for all of them.
        for bound in [window.start_s, window.end_s] {
            if let Err(error) = check_epoch_seconds(bound) {
                return Err(BenchError::ImpossibleWindow {
                    file: file_name.to_string(),
                    origin: window.source.clone(),
                    reason: error.to_string(),
                });
            }
        }
    }
    for key in repeated {
        // A repeated key the window was read from makes the window ambiguous; any other one
        // (AIPerf writes `time_to_first_token` twice in its records) is a note.
        let feeds_window = runs.iter().any(|run| {
            run.window
                .as_ref()
                .is_some_and(|w| w.source.contains(key.as_str()))
        });
        if feeds_window {
            return Err(BenchError::DuplicateKey {
                file: file_name.to_string(),
                key,
            });
        }
        for run in &mut runs {
            run.notes.push(format!(
                "`{key}` appears twice in an object of the file; the last value was read"
            ));
        }
    }
    Ok(runs)
}

/// Reads the files of one result directory together, each given as (file name, text): an
/// inference-perf report directory gives one run per stage, its `config.yaml` adding context
/// and its `inference-perf.partial.stage_<N>.yaml` the stage's wall-clock window. Files of
/// another supported format add their own runs; files of no known format are skipped and
/// named in every run's notes. One file alone reads exactly as [`read_bench`].
pub fn read_bench_files(
    files: &[(&str, &str)],
    options: &BenchReadOptions,
) -> Result<Vec<BenchRun>, BenchError> {
    if let [(file_name, text)] = files {
        return read_bench(file_name, text, options);
    }
    let mut parsed = Vec::new();
    let mut skipped = Vec::new();
    for (file_name, text) in files {
        match sniff::parse_documents(text) {
            Ok(documents) => parsed.push((*file_name, documents)),
            Err(Unreadable::Syntax(error)) => {
                return Err(unreadable_error(file_name, Unreadable::Syntax(error)));
            }
            Err(unreadable) => skipped.push(format!(
                "{file_name} not read: {}",
                sniff::describe_unreadable(&unreadable)
            )),
        }
    }
    let mut directory = inference_perf::ReportDirectory::default();
    let mut runs = Vec::new();
    for (file_name, documents) in &parsed {
        if directory.take(file_name, documents) {
            continue;
        }
        match sniff::detect(documents) {
            Some(detected) => runs.extend(read_detected(file_name, &detected, options)?),
            None => skipped.push(format!(
                "{file_name} not read: {}",
                sniff::describe_documents(documents)
            )),
        }
    }
    runs.extend(directory.read_runs(options)?);
    if runs.is_empty() {
        return Err(no_run_among(files, &directory));
    }
    for run in &mut runs {
        run.notes.extend(skipped.iter().cloned());
    }
    Ok(runs)
}

/// Why a set of files gave no run: inference-perf pieces without their lifecycle reports, or
/// nothing recognisable at all.
fn no_run_among(files: &[(&str, &str)], directory: &inference_perf::ReportDirectory) -> BenchError {
    const LIFECYCLE_MISSING: &str = "inference-perf report files without any \
        stage_<N>_lifecycle_metrics.json or summary_lifecycle_metrics.json: read them with the \
        report's lifecycle files, or give the window with --start/--end";
    match directory.first_piece() {
        Some(file) => BenchError::NoRun {
            file: file.to_string(),
            problem: LIFECYCLE_MISSING.to_string(),
        },
        None => BenchError::UnknownFormat {
            file: files
                .iter()
                .map(|(file_name, _)| *file_name)
                .collect::<Vec<_>>()
                .join(", "),
            found: "none of these files is a benchmark result".to_string(),
        },
    }
}

/// A window for a run whose file records no absolute time (SGLang, inference-perf): the run is
/// taken to end at the file's modification time, `[mtime − duration, mtime]`, confidence
/// `external`. Valid only for the run that finished last in the file (an appended JSONL line
/// dates only the last line) and only if the file was not written or copied later. `None` when
/// the run recorded no duration or the mtime is not a plausible epoch.
pub fn window_from_mtime(run: &BenchRun, file_name: &str, mtime_epoch_s: f64) -> Option<Window> {
    let duration_s = run.duration_s.filter(|duration_s| *duration_s > 0.0)?;
    let end_s = check_epoch_seconds(mtime_epoch_s).ok()?;
    Some(Window {
        start_s: end_s - duration_s,
        end_s,
        source: format!(
            "{file_name}: file modification time (taken as the run's end) - the run's duration \
             {duration_s} s; the file may have been written or copied after the run ended, \
             which moves the window late"
        ),
        confidence: WindowConfidence::External,
        timezone_assumption: None,
        resolution_s: None,
        full_span_s: None,
    })
}

/// Reads the runs of a recognised file and names the file in each run's context.
fn read_detected(
    file_name: &str,
    detected: &Detected,
    options: &BenchReadOptions,
) -> Result<Vec<BenchRun>, BenchError> {
    let root = |value| Field::root(file_name, value);
    let mut runs = match detected {
        Detected::PerfbenchV1(bundle) => vec![perfbench::read_bundle(&root(bundle), options)?],
        Detected::GuideLlm(report) => guidellm::read_report(&root(report))?,
        Detected::VllmBenchServe { runs, several } => document_fields(file_name, runs, *several)
            .iter()
            .enumerate()
            .map(|(index, run)| vllm::read_run(run, index, options))
            .collect::<Result<Vec<_>, _>>()?,
        Detected::AiperfSummary(summary) => vec![aiperf::read_summary(&root(summary), options)?],
        Detected::AiperfRecords { records, several } => {
            vec![aiperf::read_records(
                file_name,
                &document_fields(file_name, records, *several),
            )?]
        }
        Detected::SglangBenchServing { runs, several } => {
            sglang::read_runs(&document_fields(file_name, runs, *several))?
        }
        Detected::LlmPerf(summary) => vec![llmperf::read_summary(&root(summary))?],
        Detected::InferencePerfLifecycle(lifecycle) => {
            vec![inference_perf::read_lifecycle_file(&root(lifecycle))?]
        }
        Detected::LlmdReport(report) => vec![llmd::read_report(&root(report), options)?],
    };
    for run in &mut runs {
        run.context.bench_file = Some(file_name.to_string());
    }
    Ok(runs)
}

/// One field per document: the root when the file holds a single one, `[i]` otherwise.
fn document_fields<'a>(file_name: &'a str, values: &'a [Value], several: bool) -> Vec<Field<'a>> {
    values
        .iter()
        .enumerate()
        .map(|(index, value)| {
            if several {
                Field::document(file_name, index, value)
            } else {
                Field::root(file_name, value)
            }
        })
        .collect()
}

/// Broken JSON is [`BenchError::NotJson`]; an empty text, or one that is neither JSON nor a YAML
/// mapping, is simply not a format we read.
fn unreadable_error(file_name: &str, unreadable: Unreadable) -> BenchError {
    match unreadable {
        Unreadable::Syntax(error) => {
            let (line, column) = (error.line(), error.column());
            let full = error.to_string();
            // serde_json appends the position, which the message already states.
            let position = format!(" at line {line} column {column}");
            let message = full.strip_suffix(&position).unwrap_or(&full).to_string();
            BenchError::NotJson {
                file: file_name.to_string(),
                line,
                column,
                message,
            }
        }
        other => BenchError::UnknownFormat {
            file: file_name.to_string(),
            found: sniff::describe_unreadable(&other),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE_DIR: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/shared-fixtures/bench"
    );

    /// Every bench fixture and what reading it must give: format (`None`: refused as unknown),
    /// run count, and the window confidence of every run (`None`: no window in the file).
    const FIXTURES: [(&str, Option<BenchFormat>, usize, Option<WindowConfidence>); 13] = [
        (
            "aiperf-profile-export-record.json",
            Some(BenchFormat::Aiperf),
            1,
            Some(WindowConfidence::Exact),
        ),
        (
            "aiperf-profile-export-summary-excerpt.json",
            Some(BenchFormat::Aiperf),
            1,
            Some(WindowConfidence::Derived),
        ),
        (
            "guidellm-benchmarks-v2.json",
            Some(BenchFormat::GuideLlm),
            2,
            Some(WindowConfidence::Exact),
        ),
        ("inference-perf-demo-config.yaml", None, 0, None),
        (
            "inference-perf-stage_0_lifecycle_metrics.json",
            Some(BenchFormat::InferencePerf),
            1,
            None,
        ),
        (
            "inference-perf-stage_0_prometheus_metrics.json",
            None,
            0,
            None,
        ),
        (
            "llmd-benchmark-report-v0.2-example.yaml",
            Some(BenchFormat::LlmdBenchmarkReport),
            1,
            Some(WindowConfidence::Derived),
        ),
        (
            "llmperf-summary-tinyllama.json",
            Some(BenchFormat::LlmPerf),
            1,
            Some(WindowConfidence::Derived),
        ),
        (
            "sglang-bench-serving-llama33-70b-h200.jsonl",
            Some(BenchFormat::SglangBenchServing),
            7,
            None,
        ),
        (
            "vllm-bench-serve-l40s-2025-05-inf.json",
            Some(BenchFormat::VllmBenchServe),
            1,
            Some(WindowConfidence::Derived),
        ),
        (
            "vllm-bench-serve-l40s-2025-05.json",
            Some(BenchFormat::VllmBenchServe),
            1,
            Some(WindowConfidence::Derived),
        ),
        (
            "vllm-bench-serve-newer-keys-2026-07.json",
            Some(BenchFormat::VllmBenchServe),
            1,
            Some(WindowConfidence::Derived),
        ),
        ("SOURCES.md", None, 0, None),
    ];

    #[test]
    fn every_fixture_reads_or_is_refused_as_unknown() {
        let on_disk = std::fs::read_dir(FIXTURE_DIR).unwrap().count();
        assert_eq!(
            on_disk,
            FIXTURES.len(),
            "a fixture is missing from FIXTURES"
        );
        for (name, format, run_count, confidence) in FIXTURES {
            let text = std::fs::read_to_string(format!("{FIXTURE_DIR}/{name}")).unwrap();
            assert_eq!(sniff(&text), format, "{name}");
            let result = read_bench(name, &text, &BenchReadOptions::default());
            match format {
                Some(format) => {
                    let runs = result.unwrap_or_else(|error| panic!("{name}: {error}"));
                    assert_eq!(runs.len(), run_count, "{name}");
                    for run in runs {
                        assert_eq!(run.format, format);
                        assert_eq!(run.context.bench_file.as_deref(), Some(name));
                        let run_confidence = run.window.as_ref().map(|window| window.confidence);
                        assert_eq!(run_confidence, confidence, "{name}");
                        // A run without a window still carries its duration.
                        assert!(run.window.is_some() || run.duration_s.is_some(), "{name}");
                    }
                }
                None => {
                    let error = result.unwrap_err();
                    assert!(
                        matches!(&error, BenchError::UnknownFormat { file, .. } if file == name),
                        "{name}: {error}"
                    );
                    let message = error.to_string();
                    for supported in BenchFormat::ALL {
                        assert!(message.contains(supported.description()), "{message}");
                    }
                }
            }
        }
    }

    #[test]
    fn unknown_format_says_what_it_found() {
        // A YAML mapping that is no llm-d report: `run` is empty.
        let error = read_bench(
            "x.yaml",
            "version: '0.2'\nrun:\n",
            &BenchReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(
            error,
            BenchError::UnknownFormat {
                file: "x.yaml".into(),
                found: "a YAML mapping with keys run, version".into(),
            }
        );
        let error = read_bench(
            "profile_export_aiperf.csv",
            "Metric,avg,min\nRequest Latency (ms),3652.14,3517.1\n",
            &BenchReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(
            error,
            BenchError::UnknownFormat {
                file: "profile_export_aiperf.csv".into(),
                found: "content that is neither JSON nor a YAML mapping, starting \
                        \"Metric,avg,min\""
                    .into(),
            }
        );
        let error = read_bench(
            "x.json",
            "{\"load_summary\": {}}",
            &BenchReadOptions::default(),
        )
        .unwrap_err();
        assert!(error.to_string().starts_with(
            "x.json: not a supported benchmark result (a JSON object with keys load_summary); \
             supported: inference_perfbench_v1.json bundle"
        ));
        assert!(matches!(
            read_bench("e.json", "  \n", &BenchReadOptions::default()),
            Err(BenchError::UnknownFormat { found, .. }) if found == "an empty file"
        ));
    }

    #[test]
    fn truncated_json_is_not_json_with_its_position() {
        let text = "{\"date\": \"20250530-203916\",\n \"duration\": 40.5";
        let error = read_bench("r.json", text, &BenchReadOptions::default()).unwrap_err();
        let BenchError::NotJson { file, line, .. } = &error else {
            panic!("expected NotJson, got {error:?}");
        };
        assert_eq!((file.as_str(), *line), ("r.json", 2));
        // Line 2 is ` "duration": 40.5`: the text ends at its 17th character.
        assert_eq!(
            error.to_string(),
            "r.json: not valid JSON at line 2, column 17: EOF while parsing an object; check \
             that the bench wrote the file completely"
        );
    }

    #[test]
    fn format_ids_display_and_serde_agree() {
        for format in BenchFormat::ALL {
            let serialised = serde_json::to_string(&format).unwrap();
            assert_eq!(serialised, format!("\"{format}\""));
            let back: BenchFormat = serde_json::from_str(&serialised).unwrap();
            assert_eq!(back, format);
        }
        assert_eq!(BenchFormat::GuideLlm.to_string(), "guidellm");
        assert_eq!(BenchFormat::LlmPerf.to_string(), "llmperf");
        assert_eq!(
            serde_json::to_string(&BenchFormat::SglangBenchServing).unwrap(),
            "\"sglang_bench_serving\""
        );
    }

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{FIXTURE_DIR}/{name}")).unwrap()
    }

    #[test]
    fn window_from_mtime_ends_at_the_mtime() {
        let text = fixture("sglang-bench-serving-llama33-70b-h200.jsonl");
        let runs = read_bench("out.jsonl", &text, &BenchReadOptions::default()).unwrap();
        let last = &runs[6];
        // The last line's duration is 313.96794493007474 s; mtime 1_762_366_623.5 (an arbitrary
        // epoch) → start 1_762_366_623.5 − 313.96794493007474 = 1_762_366_309 + 0.532_055_07.
        let window = window_from_mtime(last, "out.jsonl", 1_762_366_623.5).unwrap();
        assert_eq!(window.end_s, 1_762_366_623.5);
        assert!((window.start_s - 1_762_366_309.0 - 0.532_055_07).abs() < 1e-6);
        assert_eq!(window.confidence, WindowConfidence::External);
        assert!(
            window
                .source
                .starts_with("out.jsonl: file modification time")
        );
        assert!(
            window
                .source
                .contains("written or copied after the run ended")
        );
        // No duration, or an mtime that is no epoch: no window.
        let no_duration = BenchRun {
            duration_s: None,
            ..last.clone()
        };
        assert_eq!(window_from_mtime(&no_duration, "out.jsonl", 1.8e9), None);
        assert_eq!(window_from_mtime(last, "out.jsonl", 12_345.0), None);
        assert_eq!(window_from_mtime(last, "out.jsonl", f64::NAN), None);
    }

    const STAGE_PARTIAL: &str = "version: '0.2'
run:
  uid: inference-perf-stage-0-1a2b3c4d
  time:
    start: '2025-11-05T18:00:42.250000+00:00'
    end: '2025-11-05T18:01:42.750000+00:00'
    duration: PT60.500S
results:
  request_performance: {}
";

    #[test]
    fn a_report_directory_reads_as_one_run_per_stage() {
        let config = fixture("inference-perf-demo-config.yaml");
        let lifecycle = fixture("inference-perf-stage_0_lifecycle_metrics.json");
        let prometheus = fixture("inference-perf-stage_0_prometheus_metrics.json");
        let files = [
            ("config.yaml", config.as_str()),
            ("stage_0_lifecycle_metrics.json", lifecycle.as_str()),
            ("stage_0_prometheus_metrics.json", prometheus.as_str()),
            ("notes.txt", "started the run by hand"),
        ];
        let runs = read_bench_files(&files, &BenchReadOptions::default()).unwrap();
        assert_eq!(runs.len(), 1);
        let run = &runs[0];
        assert_eq!(run.format, BenchFormat::InferencePerf);
        assert_eq!(run.window, None);
        assert_eq!(
            run.context.bench_file.as_deref(),
            Some("stage_0_lifecycle_metrics.json")
        );
        assert_eq!(
            run.context.model.as_deref(),
            Some("meta-llama/Meta-Llama-3-8B-Instruct")
        );
        for skipped in [
            "stage_0_prometheus_metrics.json not read",
            "notes.txt not read",
        ] {
            assert!(
                run.notes.iter().any(|note| note.starts_with(skipped)),
                "{skipped}"
            );
        }
        // With the stage's partial report, the stage has its wall-clock window: 2025-11-05 is
        // 20397 days after 1970-01-01 (1_762_300_800 s); 18:00:42.25 adds 64_842.25 s and
        // 18:01:42.75 adds 64_902.75 s.
        let with_partial = [
            ("config.yaml", config.as_str()),
            ("stage_0_lifecycle_metrics.json", lifecycle.as_str()),
            ("inference-perf.partial.stage_0.yaml", STAGE_PARTIAL),
        ];
        let runs = read_bench_files(&with_partial, &BenchReadOptions::default()).unwrap();
        assert_eq!(runs.len(), 1);
        let window = runs[0].window.as_ref().unwrap();
        assert_eq!(
            (window.start_s, window.end_s),
            (1_762_365_642.25, 1_762_365_702.75)
        );
        assert_eq!(window.confidence, WindowConfidence::Exact);
        assert_eq!(
            window.source,
            "inference-perf.partial.stage_0.yaml: .run.time.start .. .run.time.end"
        );
    }

    #[test]
    fn a_directory_without_runs_says_what_is_missing() {
        let config = fixture("inference-perf-demo-config.yaml");
        let prometheus = fixture("inference-perf-stage_0_prometheus_metrics.json");
        let pieces = [
            ("config.yaml", config.as_str()),
            ("p.json", prometheus.as_str()),
        ];
        let error = read_bench_files(&pieces, &BenchReadOptions::default()).unwrap_err();
        assert!(
            matches!(&error, BenchError::NoRun { file, .. } if file == "config.yaml"),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .contains("stage_<N>_lifecycle_metrics.json")
        );
        let strangers = [("a.txt", "hello"), ("b.csv", "x,y\n1,2\n")];
        let error = read_bench_files(&strangers, &BenchReadOptions::default()).unwrap_err();
        assert_eq!(
            error,
            BenchError::UnknownFormat {
                file: "a.txt, b.csv".into(),
                found: "none of these files is a benchmark result".into(),
            }
        );
        // A broken JSON file is an error, not a skipped file.
        let broken = [("a.json", "{\"load_summary\": "), ("b.txt", "hello")];
        assert!(matches!(
            read_bench_files(&broken, &BenchReadOptions::default()),
            Err(BenchError::NotJson { .. })
        ));
    }

    #[test]
    fn one_file_or_files_of_other_formats_read_as_themselves() {
        let llmperf = fixture("llmperf-summary-tinyllama.json");
        let sglang = fixture("sglang-bench-serving-llama33-70b-h200.jsonl");
        let one = read_bench_files(
            &[("s.json", llmperf.as_str())],
            &BenchReadOptions::default(),
        );
        assert_eq!(
            one.unwrap(),
            read_bench("s.json", &llmperf, &BenchReadOptions::default()).unwrap()
        );
        let both = [("s.json", llmperf.as_str()), ("o.jsonl", sglang.as_str())];
        let runs = read_bench_files(&both, &BenchReadOptions::default()).unwrap();
        // 1 LLMPerf run + 7 SGLang lines.
        assert_eq!(runs.len(), 8);
        assert_eq!(runs[0].format, BenchFormat::LlmPerf);
        assert_eq!(runs[7].context.bench_file.as_deref(), Some("o.jsonl"));
    }

    #[test]
    fn error_messages_name_the_file_field_and_remedy() {
        let missing = BenchError::MissingField {
            file: "b.json".into(),
            field: ".bench.captured_at".into(),
            also_accepted: vec![".captured_at".into()],
        };
        assert_eq!(
            missing.to_string(),
            "b.json: missing field `.bench.captured_at` (also accepted: `.captured_at`); add it, \
             or give the window with --start/--end"
        );
        let reversed = BenchError::EndBeforeStart {
            file: "g.json".into(),
            start_field: ".s".into(),
            end_field: ".e".into(),
            start_s: 1_795_824_001.0,
            end_s: 1_795_824_000.0,
        };
        assert_eq!(
            reversed.to_string(),
            "g.json: `.e` (2026-11-28T00:00:00.000Z) does not come after `.s` \
             (2026-11-28T00:00:01.000Z); correct the file or give the window with --start/--end"
        );
    }
}
