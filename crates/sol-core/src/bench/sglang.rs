//! SGLang `python -m sglang.bench_serving` JSONL (reference/bench-formats.md §3.2): each run
//! appends one line. No line records a time: the duration is a perf_counter span, so the window
//! must come from the command line, a wrapper, or the file's modification time (last line only).

use serde_json::Value;

use crate::context::{Context, RequestRate};

use super::context_keys::{ContextSlot, fill_mean_lengths, fill_slot};
use super::json_fields::Field;
use super::{BenchError, BenchFormat, BenchRun};

/// Keys read into typed context fields. `concurrency` is NOT the configured level: SGLang
/// writes the mean number of requests in flight there (kept as `effective_concurrency`).
const TYPED_KEYS: [(&str, ContextSlot); 7] = [
    ("dataset_name", ContextSlot::Dataset),
    ("max_concurrency", ContextSlot::Concurrency),
    ("completed", ContextSlot::Completed),
    ("total_input_tokens", ContextSlot::TotalInputTokens),
    ("total_output_tokens", ContextSlot::TotalOutputTokens),
    ("output_throughput", ContextSlot::OutputTokensPerS),
    ("request_throughput", ContextSlot::RequestsPerS),
];

/// The configured lengths of the random datasets.
const RANDOM_LENGTH_KEYS: [(&str, ContextSlot); 2] = [
    ("random_input_len", ContextSlot::InputLen),
    ("random_output_len", ContextSlot::OutputLen),
];

/// Configuration keys kept in `extra` as written.
const EXTRA_KEYS: [&str; 5] = [
    "backend",
    "random_range_ratio",
    "sharegpt_output_len",
    "tag",
    "accept_length",
];

/// Newer lines carry the SGLang server's `/get_server_info` (null for other servers).
const SERVER_INFO_KEYS: [(&str, ContextSlot); 6] = [
    ("model_path", ContextSlot::Model),
    ("tp_size", ContextSlot::TensorParallel),
    ("dp_size", ContextSlot::DataParallel),
    ("pp_size", ContextSlot::PipelineParallel),
    ("ep_size", ContextSlot::ExpertParallel),
    ("version", ContextSlot::EngineVersion),
];

/// Datasets whose `random_*_len` is the workload; for the others (sharegpt, …) those keys are
/// unused CLI defaults.
const RANDOM_DATASET_PREFIX: &str = "random";

/// Signature: `total_output_tokens_retokenized`, and no vLLM `date`.
pub(crate) fn is_sglang_run(value: &Value) -> bool {
    value.get("total_output_tokens_retokenized").is_some() && value.get("date").is_none()
}

/// Reads every line; `index` is the line's position among the file's runs.
pub(crate) fn read_runs(lines: &[Field]) -> Result<Vec<BenchRun>, BenchError> {
    let last_index = lines.len().saturating_sub(1);
    lines
        .iter()
        .enumerate()
        .map(|(index, line)| read_run(line, index, index == last_index))
        .collect()
}

fn read_run(line: &Field, index: usize, is_last: bool) -> Result<BenchRun, BenchError> {
    if !is_sglang_run(line.value()) {
        return Err(BenchError::MissingField {
            file: line.file().to_string(),
            field: line.key_path("total_output_tokens_retokenized"),
            also_accepted: Vec::new(),
        });
    }
    let duration_s = line.require("duration")?.positive_duration_s()?;
    let mut notes = vec![if is_last {
        "SGLang records no time: give --start/--end, or take the window from the file's \
         modification time (this is the file's last line)"
            .to_string()
    } else {
        format!(
            "SGLang records no time: give --start/--end; the file's modification time dates \
             only its last line, not this one ({})",
            line.path()
        )
    }];
    let mut context = Context {
        bench_tool: Some("sglang".to_string()),
        bench_index: Some(index),
        ..Context::default()
    };
    for (key, slot) in TYPED_KEYS {
        if let Some(field) = line.get(key) {
            fill_slot(&mut context, slot, &field, &mut notes)?;
        }
    }
    read_request_rate(line, &mut context, &mut notes)?;
    for key in EXTRA_KEYS {
        if let Some(text) = line.get(key).and_then(|field| field.scalar_text()) {
            context.extra.insert(key.to_string(), text);
        }
    }
    if let Some(mean_in_flight) = line.get("concurrency").and_then(|f| f.scalar_text()) {
        context
            .extra
            .insert("effective_concurrency".to_string(), mean_in_flight);
    }
    read_server_info(line, &mut context, &mut notes)?;
    read_lengths(line, &mut context, &mut notes)?;
    let label = run_label(&context);
    Ok(BenchRun {
        format: BenchFormat::SglangBenchServing,
        index,
        label,
        window: None,
        duration_s: Some(duration_s),
        context,
        notes,
    })
}

/// `request_rate` is a number, `"inf"` (Python's `Infinity`, rewritten on parsing) or, for
/// trace replay, `"trace"`: a value that is no rate stays in `extra` with a note.
fn read_request_rate(
    line: &Field,
    context: &mut Context,
    notes: &mut Vec<String>,
) -> Result<(), BenchError> {
    let Some(rate) = line.get("request_rate") else {
        return Ok(());
    };
    if let Err(error) = fill_slot(context, ContextSlot::RequestRate, &rate, notes) {
        context
            .extra
            .insert("request_rate".to_string(), rate.text()?);
        notes.push(format!("{error} (kept in extra only)"));
    }
    Ok(())
}

fn read_server_info(
    line: &Field,
    context: &mut Context,
    notes: &mut Vec<String>,
) -> Result<(), BenchError> {
    let Some(server_info) = line.get("server_info") else {
        return Ok(());
    };
    if !server_info.value().is_object() {
        return Ok(());
    }
    context.engine = Some("sglang".to_string());
    for (key, slot) in SERVER_INFO_KEYS {
        if let Some(field) = server_info.get(key) {
            fill_slot(context, slot, &field, notes)?;
        }
    }
    Ok(())
}

/// `random_*_len` are the configured lengths of the random datasets only; for the others they
/// are unused CLI defaults and the measured means stand in.
fn read_lengths(
    line: &Field,
    context: &mut Context,
    notes: &mut Vec<String>,
) -> Result<(), BenchError> {
    let is_random = context
        .dataset
        .as_deref()
        .is_some_and(|dataset| dataset.starts_with(RANDOM_DATASET_PREFIX));
    if is_random {
        for (key, slot) in RANDOM_LENGTH_KEYS {
            if let Some(field) = line.get(key) {
                fill_slot(context, slot, &field, notes)?;
            }
        }
        if let Some(ratio) = line.get("random_range_ratio") {
            let ratio = ratio.number()?;
            if ratio < 1.0 {
                notes.push(format!(
                    "random_range_ratio {ratio}: request lengths were drawn between {ratio} × \
                     and 1 × the configured lengths, so the measured means sit below them"
                ));
            }
        }
    } else if line.get("random_input_len").is_some() {
        notes.push(format!(
            "random_input_len and random_output_len are unused CLI defaults for dataset {}: \
             the measured means are used",
            context.dataset.as_deref().unwrap_or("(not recorded)")
        ));
    }
    fill_mean_lengths(context, notes);
    Ok(())
}

/// `random 4 req/s`, `sharegpt inf req/s, concurrency 64`, prefixed by `tag` when given.
fn run_label(context: &Context) -> String {
    let rate = match (&context.request_rate, context.extra.get("request_rate")) {
        (Some(RequestRate::PerSecond(per_second)), _) => format!("{per_second} req/s"),
        (Some(RequestRate::Unbounded(_)), _) => "inf req/s".to_string(),
        (None, Some(written)) => format!("rate {written}"),
        (None, None) => "rate not recorded".to_string(),
    };
    let mut label = match &context.dataset {
        Some(dataset) => format!("{dataset} {rate}"),
        None => rate,
    };
    if let Some(concurrency) = context.concurrency {
        label.push_str(&format!(", concurrency {concurrency}"));
    }
    match context.extra.get("tag") {
        Some(tag) => format!("{tag}: {label}"),
        None => label,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::bench::{BenchReadOptions, read_bench};
    use crate::context::UnboundedRate;

    use super::*;

    const H200: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/shared-fixtures/bench/sglang-bench-serving-llama33-70b-h200.jsonl"
    ));

    fn read(text: &str) -> Result<Vec<BenchRun>, BenchError> {
        read_bench("out.jsonl", text, &BenchReadOptions::default())
    }

    /// The fixture's first line with `edit` applied, as one JSONL line.
    fn first_line_with(edit: impl FnOnce(&mut Value)) -> String {
        let mut line: Value = serde_json::from_str(H200.lines().next().unwrap()).unwrap();
        edit(&mut line);
        line.to_string()
    }

    #[test]
    fn one_run_per_line_in_line_order_without_a_window() {
        let runs = read(H200).unwrap();
        let labels: Vec<&str> = runs.iter().map(|run| run.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "random 1 req/s",
                "random 2 req/s",
                "random 4 req/s",
                "random 8 req/s",
                "random 16 req/s",
                "sharegpt 4 req/s",
                "sharegpt 8 req/s",
            ]
        );
        for (position, run) in runs.iter().enumerate() {
            assert_eq!(run.index, position);
            assert_eq!(run.context.bench_index, Some(position));
            assert_eq!(run.window, None);
        }
        // The `duration` of the first and last lines, as written.
        assert_eq!(runs[0].duration_s, Some(298.3675805060193));
        assert_eq!(runs[6].duration_s, Some(313.96794493007474));
        // Only the last line may be dated by the file's modification time.
        assert!(runs[6].notes[0].contains("this is the file's last line"));
        assert!(runs[0].notes[0].contains("dates only its last line"));
    }

    #[test]
    fn random_lines_use_the_configured_lengths() {
        let context = &read(H200).unwrap()[0].context;
        assert_eq!(context.bench_tool.as_deref(), Some("sglang"));
        assert_eq!(context.dataset.as_deref(), Some("random"));
        assert_eq!(context.request_rate, Some(RequestRate::PerSecond(1.0)));
        // max_concurrency is null: no concurrency limit.
        assert_eq!(context.concurrency, None);
        assert_eq!(context.completed, Some(300));
        assert_eq!(context.total_input_tokens, Some(152_612));
        assert_eq!(context.total_output_tokens, Some(160_347));
        assert_eq!(context.output_tokens_per_s, Some(537.4142851849319));
        assert_eq!(context.input_len_tokens, Some(1024.0));
        assert_eq!(context.output_len_tokens, Some(1024.0));
        assert_eq!(context.model, None);
        assert_eq!(
            context.extra.get("backend").map(String::as_str),
            Some("sglang")
        );
        let notes = &read(H200).unwrap()[0].notes;
        // 152612 / 300 = 508.7 against 1024 configured: −50 %.
        assert!(notes.iter().any(|note| note
            == "configured input length 1024 tokens but the measured mean is 508.7 tokens (-50 %)"));
    }

    #[test]
    fn sharegpt_lines_ignore_the_random_length_defaults() {
        let run = &read(H200).unwrap()[5];
        assert_eq!(run.context.dataset.as_deref(), Some("sharegpt"));
        // random_input_len 1024 is a CLI default here: 269081 / 1200 = 224.234… and
        // 226901 / 1200 = 189.084… are the measured means.
        let input = run.context.input_len_tokens.unwrap();
        let output = run.context.output_len_tokens.unwrap();
        assert!((input - 269_081.0 / 1200.0).abs() < 1e-9);
        assert!((output - 226_901.0 / 1200.0).abs() < 1e-9);
        assert!(
            run.notes
                .iter()
                .any(|note| note.contains("unused CLI defaults"))
        );
    }

    #[test]
    fn python_infinity_is_an_unbounded_rate() {
        let line = first_line_with(|line| line["request_rate"] = json!("PLACEHOLDER"))
            .replace("\"PLACEHOLDER\"", "Infinity");
        assert!(line.contains("\"request_rate\":Infinity"));
        let runs = read(&line).unwrap();
        assert_eq!(
            runs[0].context.request_rate,
            Some(RequestRate::Unbounded(UnboundedRate::Inf))
        );
        assert_eq!(runs[0].label, "random inf req/s");
    }

    #[test]
    fn trace_rates_tags_and_server_info() {
        let line = first_line_with(|line| {
            line["request_rate"] = json!("trace");
            line["tag"] = json!("h200-tp8");
            line["max_concurrency"] = json!(64);
            line["server_info"] = json!({"model_path": "meta-llama/Llama-3.3-70B-Instruct",
                "tp_size": 8, "dp_size": 1, "version": "0.4.6"});
        });
        let run = read(&line).unwrap().remove(0);
        assert_eq!(run.context.request_rate, None);
        assert_eq!(
            run.context.extra.get("request_rate").map(String::as_str),
            Some("trace")
        );
        assert_eq!(run.label, "h200-tp8: random rate trace, concurrency 64");
        assert_eq!(run.context.tensor_parallel, Some(8));
        assert_eq!(run.context.engine.as_deref(), Some("sglang"));
        assert_eq!(run.context.engine_version.as_deref(), Some("0.4.6"));
        assert_eq!(
            run.context.model.as_deref(),
            Some("meta-llama/Llama-3.3-70B-Instruct")
        );
    }

    #[test]
    fn missing_or_bad_durations_and_foreign_lines_are_refused() {
        let missing = first_line_with(|line| {
            line.as_object_mut().unwrap().remove("duration");
        });
        let text = format!("{}\n{missing}", H200.lines().next().unwrap());
        assert_eq!(
            read(&text).unwrap_err(),
            BenchError::MissingField {
                file: "out.jsonl".into(),
                field: "[1].duration".into(),
                also_accepted: vec![],
            }
        );
        let negative = first_line_with(|line| line["duration"] = json!(-3.0));
        assert!(matches!(
            read(&negative).unwrap_err(),
            BenchError::NonPositiveDuration { duration_s, .. } if duration_s == -3.0
        ));
        let foreign = format!("{}\n{{\"duration\": 1.0}}", H200.lines().next().unwrap());
        assert!(matches!(
            read(&foreign).unwrap_err(),
            BenchError::MissingField { field, .. } if field == "[1].total_output_tokens_retokenized"
        ));
    }
}
