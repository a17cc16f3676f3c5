//! Recognising a bench result by its content, never by its file name (reference/bench-formats.md
//! §2): parse the text as one JSON value, a JSON array, or newline-separated JSON objects, then
//! match each format's signature.

use serde_json::Value;

use super::BenchFormat;
use super::json_fields::describe_value;
use super::{guidellm, perfbench, vllm};

/// The JSON documents of a bench file.
#[derive(Debug)]
pub(crate) enum Documents {
    /// One top-level value.
    One(Value),
    /// A JSON array, or several concatenated values (vLLM `--append-result`).
    Several(Vec<Value>),
}

/// Why a text yields no JSON documents.
#[derive(Debug)]
pub(crate) enum Unreadable {
    /// Nothing but whitespace.
    Empty,
    /// Does not start like JSON at all (YAML, CSV, a log): not a format we read.
    NotJsonText { first_line: String },
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
}

impl Detected<'_> {
    /// The recognised format.
    pub(crate) fn format(&self) -> BenchFormat {
        match self {
            Detected::PerfbenchV1(_) => BenchFormat::PerfbenchV1,
            Detected::VllmBenchServe { .. } => BenchFormat::VllmBenchServe,
            Detected::GuideLlm(_) => BenchFormat::GuideLlm,
        }
    }
}

/// Parses `text` as JSON documents.
pub(crate) fn parse_documents(text: &str) -> Result<Documents, Unreadable> {
    let body = text.trim_start_matches('\u{feff}');
    let trimmed = body.trim_start();
    if trimmed.is_empty() {
        return Err(Unreadable::Empty);
    }
    if !trimmed.starts_with(['{', '[']) {
        let first_line = trimmed.lines().next().unwrap_or_default();
        return Err(Unreadable::NotJsonText {
            first_line: first_line.chars().take(40).collect(),
        });
    }
    let values = serde_json::Deserializer::from_str(body)
        .into_iter::<Value>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(Unreadable::Syntax)?;
    Ok(match <[Value; 1]>::try_from(values) {
        Ok([Value::Array(items)]) => Documents::Several(items),
        Ok([value]) => Documents::One(value),
        Err(values) => Documents::Several(values),
    })
}

/// Matches the documents against each supported format's signature.
pub(crate) fn detect(documents: &Documents) -> Option<Detected<'_>> {
    match documents {
        Documents::One(value) if guidellm::is_guidellm_report(value) => {
            Some(Detected::GuideLlm(value))
        }
        Documents::One(value) if vllm::is_vllm_run(value) => Some(Detected::VllmBenchServe {
            runs: std::slice::from_ref(value),
            several: false,
        }),
        Documents::One(value) if perfbench::is_perfbench_bundle(value) => {
            Some(Detected::PerfbenchV1(value))
        }
        // Appended vLLM runs or a sweep `summary.json`; a later object that is not a vLLM run
        // is reported by the reader with its position, which helps more than "unknown format".
        Documents::Several(values) if values.first().is_some_and(vllm::is_vllm_run) => {
            Some(Detected::VllmBenchServe {
                runs: values,
                several: true,
            })
        }
        _ => None,
    }
}

/// What the documents look like, for an unknown-format error.
pub(crate) fn describe_documents(documents: &Documents) -> String {
    match documents {
        Documents::One(value) => describe_top_level(value),
        Documents::Several(values) => match values.first() {
            Some(first) => format!(
                "{} JSON documents; the first is {}",
                values.len(),
                describe_top_level(first)
            ),
            None => "an empty JSON array".to_string(),
        },
    }
}

fn describe_top_level(value: &Value) -> String {
    const SHOWN_KEYS: usize = 8;
    match value.as_object() {
        Some(object) => {
            let keys: Vec<&str> = object.keys().take(SHOWN_KEYS).map(String::as_str).collect();
            let more = if object.len() > SHOWN_KEYS {
                ", …"
            } else {
                ""
            };
            format!("a JSON object with keys {}{more}", keys.join(", "))
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
    fn empty_yaml_and_broken_json_are_told_apart() {
        assert!(matches!(parse_documents(" \n"), Err(Unreadable::Empty)));
        assert!(matches!(
            parse_documents("version: '0.2'\nrun: {}"),
            Err(Unreadable::NotJsonText { first_line }) if first_line == "version: '0.2'"
        ));
        let Err(Unreadable::Syntax(error)) = parse_documents("{\n  \"date\": \"2025") else {
            panic!("a truncated object is a syntax error");
        };
        assert_eq!(error.line(), 2);
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
