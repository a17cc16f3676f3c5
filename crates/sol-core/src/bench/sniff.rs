//! Recognising a bench result by its content, never by its file name (reference/bench-formats.md
//! §2): parse the text as one JSON value, a JSON array, newline-separated JSON objects (JSONL),
//! or one YAML mapping, then match each format's signature.

use serde_json::Value;

use super::BenchFormat;
use super::json_fields::describe_value;
use super::python_json::replace_non_finite_literals;
use super::yaml::parse_yaml;
use super::{aiperf, guidellm, inference_perf, llmd, llmperf, perfbench, sglang, vllm};
use crate::unique_keys::values_noting_duplicates;

/// The documents of a bench file.
#[derive(Debug)]
pub(crate) enum Documents {
    /// One top-level JSON value.
    One(Value),
    /// A JSON array, or several concatenated values (vLLM `--append-result`, JSONL).
    Several(Vec<Value>),
    /// One YAML mapping (llm-d reports, inference-perf `config.yaml`).
    Yaml(Value),
}

/// Why a text yields no documents.
#[derive(Debug)]
pub(crate) enum Unreadable {
    /// Nothing but whitespace.
    Empty,
    /// Neither JSON nor a YAML mapping (CSV, a log, broken YAML): not a format we read.
    NotStructured {
        /// The text's first line, cut to 40 characters.
        first_line: String,
        /// The YAML parser's complaint, when it had one.
        yaml_problem: Option<String>,
    },
    /// Starts like JSON but breaks: a truncated or hand-damaged result file.
    Syntax(serde_json::Error),
}

/// A recognised bench file, borrowing the documents that hold its runs.
#[derive(Debug)]
pub(crate) enum Detected<'a> {
    /// The seed's `inference_perfbench_v1.json` bundle.
    PerfbenchV1(&'a Value),
    /// vLLM runs; `several` when they came as an array or appended objects.
    VllmBenchServe { runs: &'a [Value], several: bool },
    /// A GuideLLM report.
    GuideLlm(&'a Value),
    /// An AIPerf `profile_export_aiperf.json` summary.
    AiperfSummary(&'a Value),
    /// AIPerf per-request records (`profile_export.jsonl`); `several` as for vLLM.
    AiperfRecords { records: &'a [Value], several: bool },
    /// SGLang `bench_serving` lines, one run each; `several` as for vLLM.
    SglangBenchServing { runs: &'a [Value], several: bool },
    /// An LLMPerf summary.
    LlmPerf(&'a Value),
    /// One inference-perf lifecycle report.
    InferencePerfLifecycle(&'a Value),
    /// An llm-d Benchmark Report (or an inference-perf partial of one).
    LlmdReport(&'a Value),
}

impl Detected<'_> {
    /// The recognised format.
    pub(crate) fn format(&self) -> BenchFormat {
        match self {
            Detected::PerfbenchV1(_) => BenchFormat::PerfbenchV1,
            Detected::VllmBenchServe { .. } => BenchFormat::VllmBenchServe,
            Detected::GuideLlm(_) => BenchFormat::GuideLlm,
            Detected::AiperfSummary(_) | Detected::AiperfRecords { .. } => BenchFormat::Aiperf,
            Detected::SglangBenchServing { .. } => BenchFormat::SglangBenchServing,
            Detected::LlmPerf(_) => BenchFormat::LlmPerf,
            Detected::InferencePerfLifecycle(_) => BenchFormat::InferencePerf,
            Detected::LlmdReport(_) => BenchFormat::LlmdBenchmarkReport,
        }
    }
}

/// Parses `text` as JSON documents, or else as one YAML mapping.
pub(crate) fn parse_documents(text: &str) -> Result<Documents, Unreadable> {
    parse_documents_noting_repeats(text).map(|(documents, _)| documents)
}

/// [`parse_documents`], with the keys some JSON object of the text names twice (the last value
/// is the one read; YAML documents report none).
pub(crate) fn parse_documents_noting_repeats(
    text: &str,
) -> Result<(Documents, Vec<String>), Unreadable> {
    let body = text.trim_start_matches('\u{feff}');
    let trimmed = body.trim_start();
    if trimmed.is_empty() {
        return Err(Unreadable::Empty);
    }
    if !trimmed.starts_with(['{', '[']) {
        return parse_yaml_mapping(trimmed).map(|documents| (documents, Vec::new()));
    }
    // Python's non-finite literals are read only where Python writes whole files of objects
    // (SGLang's JSONL); elsewhere a `NaN` is the syntax error it is, reported at its line.
    let (values, repeated) = match values_noting_duplicates(body) {
        Ok(parsed) => parsed,
        Err(error) => {
            let rewritten = replace_non_finite_literals(body);
            match values_noting_duplicates(&rewritten) {
                Ok((values, repeated))
                    if is_json_lines(body) && values.iter().all(Value::is_object) =>
                {
                    (values, repeated)
                }
                _ => return Err(Unreadable::Syntax(error)),
            }
        }
    };
    let documents = match <[Value; 1]>::try_from(values) {
        Ok([Value::Array(items)]) => Documents::Several(items),
        Ok([value]) => Documents::One(value),
        Err(values) => Documents::Several(values),
    };
    Ok((documents, repeated))
}

/// One object per line (JSON Lines, as SGLang writes): the first document ends on its first line.
fn is_json_lines(body: &str) -> bool {
    body.trim_start()
        .lines()
        .next()
        .is_some_and(|line| line.trim_end().ends_with('}'))
}

/// A YAML document is only a candidate when it is a mapping: a CSV or a log parses as one long
/// YAML string.
fn parse_yaml_mapping(trimmed: &str) -> Result<Documents, Unreadable> {
    let not_structured = |yaml_problem| Unreadable::NotStructured {
        first_line: trimmed
            .lines()
            .next()
            .unwrap_or_default()
            .chars()
            .take(40)
            .collect(),
        yaml_problem,
    };
    match parse_yaml(trimmed) {
        Ok(value) if value.is_object() => Ok(Documents::Yaml(value)),
        Ok(_) => Err(not_structured(None)),
        // The parser's message goes on with a snippet of the text; its first line says it all.
        Err(error) => Err(not_structured(
            error.to_string().lines().next().map(str::to_string),
        )),
    }
}

/// Matches the documents against each supported format's signature. The order matters where
/// signatures could overlap: specific keys (GuideLLM `benchmarks`, llm-d `version` + `run`,
/// vLLM `date`, LLMPerf `version`) before the looser AIPerf and perfbench shapes.
pub(crate) fn detect(documents: &Documents) -> Option<Detected<'_>> {
    match documents {
        // Tools that write YAML (llm-d, GuideLLM `kind=yaml`) write the same tree as in JSON.
        Documents::One(value) | Documents::Yaml(value) => detect_one(value),
        // A later document that does not match the first one's format is reported by the
        // reader with its position, which helps more than "unknown format".
        Documents::Several(values) => {
            let first = values.first()?;
            if vllm::is_vllm_run(first) {
                Some(Detected::VllmBenchServe {
                    runs: values,
                    several: true,
                })
            } else if sglang::is_sglang_run(first) {
                Some(Detected::SglangBenchServing {
                    runs: values,
                    several: true,
                })
            } else if aiperf::is_aiperf_record(first) {
                Some(Detected::AiperfRecords {
                    records: values,
                    several: true,
                })
            } else {
                None
            }
        }
    }
}

fn detect_one(value: &Value) -> Option<Detected<'_>> {
    let one = std::slice::from_ref(value);
    if guidellm::is_guidellm_report(value) {
        Some(Detected::GuideLlm(value))
    } else if llmd::is_llmd_report(value) {
        Some(Detected::LlmdReport(value))
    } else if vllm::is_vllm_run(value) {
        Some(Detected::VllmBenchServe {
            runs: one,
            several: false,
        })
    } else if llmperf::is_llmperf_summary(value) {
        Some(Detected::LlmPerf(value))
    } else if aiperf::is_aiperf_summary(value) {
        Some(Detected::AiperfSummary(value))
    } else if aiperf::is_aiperf_record(value) {
        Some(Detected::AiperfRecords {
            records: one,
            several: false,
        })
    } else if sglang::is_sglang_run(value) {
        Some(Detected::SglangBenchServing {
            runs: one,
            several: false,
        })
    } else if inference_perf::is_lifecycle_report(value) {
        Some(Detected::InferencePerfLifecycle(value))
    } else if perfbench::is_perfbench_bundle(value) {
        Some(Detected::PerfbenchV1(value))
    } else {
        None
    }
}

/// What the documents look like, for an unknown-format error.
pub(crate) fn describe_documents(documents: &Documents) -> String {
    match documents {
        Documents::One(value) => describe_top_level(value, "a JSON object"),
        Documents::Yaml(value) => describe_top_level(value, "a YAML mapping"),
        Documents::Several(values) => match values.first() {
            Some(first) => format!(
                "{} JSON documents; the first is {}",
                values.len(),
                describe_top_level(first, "a JSON object")
            ),
            None => "an empty JSON array".to_string(),
        },
    }
}

/// What an unreadable text looks like, for an unknown-format error or a skipped-file note.
pub(crate) fn describe_unreadable(unreadable: &Unreadable) -> String {
    match unreadable {
        Unreadable::Empty => "an empty file".to_string(),
        Unreadable::NotStructured {
            first_line,
            yaml_problem,
        } => {
            let why = match yaml_problem {
                Some(problem) => format!(" (as YAML: {problem})"),
                None => String::new(),
            };
            format!(
                "content that is neither JSON nor a YAML mapping{why}, starting \"{first_line}\""
            )
        }
        Unreadable::Syntax(error) => format!("broken JSON ({error})"),
    }
}

fn describe_top_level(value: &Value, container: &str) -> String {
    const SHOWN_KEYS: usize = 8;
    if let Some(piece) = inference_perf::describe_piece(value) {
        return piece.to_string();
    }
    match value.as_object() {
        Some(object) => {
            let keys: Vec<&str> = object.keys().take(SHOWN_KEYS).map(String::as_str).collect();
            let more = if object.len() > SHOWN_KEYS {
                ", …"
            } else {
                ""
            };
            format!("{container} with keys {}{more}", keys.join(", "))
        }
        None => describe_value(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_object_array_and_appended_objects() {
        assert!(matches!(
            parse_documents("{\"a\": 1}\n"),
            Ok(Documents::One(_))
        ));
        assert!(matches!(
            parse_documents("[{\"a\": 1}, {\"a\": 2}]"),
            Ok(Documents::Several(values)) if values.len() == 2
        ));
        assert!(matches!(
            parse_documents("{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3}"),
            Ok(Documents::Several(values)) if values.len() == 3
        ));
    }

    #[test]
    fn empty_yaml_text_and_broken_json_are_told_apart() {
        assert!(matches!(parse_documents(" \n"), Err(Unreadable::Empty)));
        assert!(matches!(
            parse_documents("version: '0.2'\nrun: {}"),
            Ok(Documents::Yaml(value)) if value["version"] == "0.2"
        ));
        // A log line is one YAML string, not a mapping.
        assert!(matches!(
            parse_documents("INFO starting benchmark"),
            Err(Unreadable::NotStructured { first_line, yaml_problem: None })
                if first_line == "INFO starting benchmark"
        ));
        let Err(Unreadable::NotStructured {
            yaml_problem: Some(problem),
            ..
        }) = parse_documents("a: [1, 2\nb: c")
        else {
            panic!("broken YAML is not structured");
        };
        assert!(problem.starts_with("error: line 2"), "{problem}");
        let Err(Unreadable::Syntax(error)) = parse_documents("{\n  \"date\": \"2025") else {
            panic!("a truncated object is a syntax error");
        };
        assert_eq!(error.line(), 2);
    }

    #[test]
    fn a_report_written_as_yaml_reads_like_its_json() {
        let json_text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/shared-fixtures/bench/guidellm-benchmarks-v2.json"
        ));
        let report: Value = serde_json::from_str(json_text).unwrap();
        let yaml_text = serde_saphyr::to_string(&report).unwrap();
        let documents = parse_documents(&yaml_text).unwrap();
        assert!(matches!(detect(&documents), Some(Detected::GuideLlm(_))));
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        assert!(matches!(
            parse_documents("\u{feff}{\"a\": 1}"),
            Ok(Documents::One(_))
        ));
    }

    #[test]
    fn unknown_objects_are_described_by_their_first_keys() {
        let documents = parse_documents("{\"b\": 1, \"a\": 2}").unwrap();
        assert!(detect(&documents).is_none());
        assert_eq!(
            describe_documents(&documents),
            "a JSON object with keys a, b"
        );
        let empty = parse_documents("[]").unwrap();
        assert_eq!(describe_documents(&empty), "an empty JSON array");
    }
}
