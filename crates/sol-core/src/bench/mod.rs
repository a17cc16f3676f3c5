//! Benchmark result readers: the measurement window and the context of each run a bench file
//! records (DESIGN.md §2 "Window and context", reference/bench-formats.md).
//!
//! Pure: the caller reads the file and passes its name and text, and resolves the timezone for
//! naive local times. The format is recognised by content, never by file name.

mod atlas;
mod context_keys;
mod guidellm;
mod json_fields;
mod local_time;
mod perfbench;
mod sniff;
mod vllm;

pub use atlas::{AtlasRecord, read_atlas};

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::time::{TimeError, format_utc_millis};
use crate::window::Window;

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
}

impl BenchFormat {
    /// Every supported format, in the order error messages list them.
    pub const ALL: [BenchFormat; 3] = [
        BenchFormat::PerfbenchV1,
        BenchFormat::VllmBenchServe,
        BenchFormat::GuideLlm,
    ];

    /// Stable identifier, as serialised (`perfbench_v1`, `vllm_bench_serve`, `guidellm`).
    pub fn id(self) -> &'static str {
        match self {
            BenchFormat::PerfbenchV1 => "perfbench_v1",
            BenchFormat::VllmBenchServe => "vllm_bench_serve",
            BenchFormat::GuideLlm => "guidellm",
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
    /// Position of the run in the file (GuideLLM `benchmarks[]` index, vLLM object order).
    pub index: usize,
    /// Short human label: the cell id, `30 req/s`, `constant 2 req/s`, …
    pub label: String,
    /// The measurement window; `None` for formats that record no absolute time.
    pub window: Option<Window>,
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
    /// Timezone of naive local times (vLLM's `date`): `--timezone`, else the machine's. `None`
    /// reads them as UTC and records that assumption.
    pub timezone: Option<jiff::tz::TimeZone>,
}

/// Why a bench file gave no runs. Every variant names the file and, where one is at fault, the
/// field as a JSON path (`.bench.duration_effective_s`, `[1].date`), and says what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
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
/// name the file in sources and errors.
pub fn read_bench(
    file_name: &str,
    text: &str,
    options: &BenchReadOptions,
) -> Result<Vec<BenchRun>, BenchError> {
    let documents = sniff::parse_documents(text)
        .map_err(|unreadable| unreadable_error(file_name, unreadable))?;
    let detected = sniff::detect(&documents).ok_or_else(|| BenchError::UnknownFormat {
        file: file_name.to_string(),
        found: sniff::describe_documents(&documents),
    })?;
    let mut runs = match detected {
        Detected::PerfbenchV1(bundle) => vec![perfbench::read_bundle(
            &Field::root(file_name, bundle),
            options,
        )?],
        Detected::GuideLlm(report) => guidellm::read_report(&Field::root(file_name, report))?,
        Detected::VllmBenchServe { runs, several } => runs
            .iter()
            .enumerate()
            .map(|(index, run)| {
                let field = if several {
                    Field::document(file_name, index, run)
                } else {
                    Field::root(file_name, run)
                };
                vllm::read_run(&field, index, options)
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    for run in &mut runs {
        run.context.bench_file = Some(file_name.to_string());
    }
    Ok(runs)
}

/// Broken JSON is [`BenchError::NotJson`]; an empty or non-JSON text is simply not a format we
/// read (YAML reports, for instance).
fn unreadable_error(file_name: &str, unreadable: Unreadable) -> BenchError {
    let unknown = |found: String| BenchError::UnknownFormat {
        file: file_name.to_string(),
        found,
    };
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
        Unreadable::Empty => unknown("an empty file".to_string()),
        Unreadable::NotJsonText { first_line } => unknown(format!(
            "content that is not JSON, starting \"{first_line}\""
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE_DIR: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/shared-fixtures/bench"
    );

    /// Every bench fixture and what reading it must give (`None`: refused as unknown format).
    /// AIPerf, SGLang, LLMPerf, inference-perf and llm-d come in a later issue.
    const FIXTURES: [(&str, Option<BenchFormat>, usize); 13] = [
        ("aiperf-profile-export-record.json", None, 0),
        ("aiperf-profile-export-summary-excerpt.json", None, 0),
        (
            "guidellm-benchmarks-v2.json",
            Some(BenchFormat::GuideLlm),
            2,
        ),
        ("inference-perf-demo-config.yaml", None, 0),
        ("inference-perf-stage_0_lifecycle_metrics.json", None, 0),
        ("inference-perf-stage_0_prometheus_metrics.json", None, 0),
        ("llmd-benchmark-report-v0.2-example.yaml", None, 0),
        ("llmperf-summary-tinyllama.json", None, 0),
        ("sglang-bench-serving-llama33-70b-h200.jsonl", None, 0),
        (
            "vllm-bench-serve-l40s-2025-05-inf.json",
            Some(BenchFormat::VllmBenchServe),
            1,
        ),
        (
            "vllm-bench-serve-l40s-2025-05.json",
            Some(BenchFormat::VllmBenchServe),
            1,
        ),
        (
            "vllm-bench-serve-newer-keys-2026-07.json",
            Some(BenchFormat::VllmBenchServe),
            1,
        ),
        ("SOURCES.md", None, 0),
    ];

    #[test]
    fn every_fixture_reads_or_is_refused_as_unknown() {
        let on_disk = std::fs::read_dir(FIXTURE_DIR).unwrap().count();
        assert_eq!(
            on_disk,
            FIXTURES.len(),
            "a fixture is missing from FIXTURES"
        );
        for (name, format, run_count) in FIXTURES {
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
                        assert!(run.window.is_some(), "{name}");
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
                found: "content that is not JSON, starting \"version: '0.2'\"".into(),
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
