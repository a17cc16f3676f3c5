//! LLMPerf `*_summary.json` (reference/bench-formats.md §3.6): flat keys, an integer epoch
//! `timestamp` taken when the results were assembled (≈ the end, 1 s resolution) and no recorded
//! duration: it is derived from the completed requests and their per-minute rate.

use serde_json::Value;

use crate::context::Context;
use crate::window::{Window, WindowConfidence};

use super::context_keys::{
    ContextSlot, fill_slot, fill_total_from_mean, keep_extra, reconcile_length,
};
use super::json_fields::Field;
use super::{BenchError, BenchFormat, BenchRun};

/// The `version` every LLMPerf summary carries.
const SCHEMA_VERSION: &str = "2023-08-31";

/// Prefix of the result keys (metrics, not context).
const RESULTS_PREFIX: &str = "results_";

/// Keys read into typed context fields.
const TYPED_KEYS: [(&str, ContextSlot); 8] = [
    ("model", ContextSlot::Model),
    ("num_concurrent_requests", ContextSlot::Concurrency),
    ("mean_input_tokens", ContextSlot::InputLen),
    ("mean_output_tokens", ContextSlot::OutputLen),
    ("results_num_requests_started", ContextSlot::NumPrompts),
    ("results_num_completed_requests", ContextSlot::Completed),
    ("results_number_errors", ContextSlot::Failed),
    (
        "results_mean_output_throughput_token_per_s",
        ContextSlot::OutputTokensPerS,
    ),
];

/// The schema version and the window anchor: not context.
const WINDOW_KEYS: [&str; 2] = ["version", "timestamp"];

/// Completed requests and their rate per minute: the duration is their ratio.
const COMPLETED_KEY: &str = "results_num_completed_requests";
const COMPLETED_PER_MIN_KEY: &str = "results_num_completed_requests_per_min";

/// Signature: `version` `2023-08-31` and flattened `results_*` keys.
pub(crate) fn is_llmperf_summary(value: &Value) -> bool {
    value.get("version").and_then(Value::as_str) == Some(SCHEMA_VERSION)
        && value
            .as_object()
            .is_some_and(|members| members.keys().any(|key| key.starts_with(RESULTS_PREFIX)))
}

/// Reads the summary's single run.
pub(crate) fn read_summary(root: &Field) -> Result<BenchRun, BenchError> {
    let mut notes = Vec::new();
    let (window, duration_s) = read_window(root, &mut notes)?;
    let mut context = Context {
        bench_tool: Some("llmperf".to_string()),
        bench_index: Some(0),
        ..Context::default()
    };
    for (key, slot) in TYPED_KEYS {
        if let Some(field) = root.get(key) {
            fill_slot(&mut context, slot, &field, &mut notes)?;
        }
    }
    let per_min = root.require(COMPLETED_PER_MIN_KEY)?.number()?;
    context.requests_per_s = Some(per_min / 60.0);
    read_free_keys(root, &mut context, &mut notes)?;
    read_token_counts(root, &mut context, &mut notes)?;
    let label = match context.concurrency {
        Some(concurrency) => format!("concurrency {concurrency}"),
        None => "concurrency not recorded".to_string(),
    };
    Ok(BenchRun {
        format: BenchFormat::LlmPerf,
        index: 0,
        label,
        window: Some(window),
        duration_s: Some(duration_s),
        context,
        notes,
    })
}

/// End = `timestamp`; duration = completed / (completed per minute) × 60 s.
fn read_window(root: &Field, notes: &mut Vec<String>) -> Result<(Window, f64), BenchError> {
    let timestamp = root.require("timestamp")?;
    let end_s = timestamp.epoch_s()?;
    let completed = root.require(COMPLETED_KEY)?;
    let per_min = root.require(COMPLETED_PER_MIN_KEY)?;
    let duration_s = completed.count()? as f64 / per_min.number()? * 60.0;
    if !(duration_s.is_finite() && duration_s > 0.0) {
        return Err(BenchError::NonPositiveDuration {
            file: root.file().to_string(),
            field: format!("{} / {} × 60", completed.path(), per_min.path()),
            duration_s,
        });
    }
    notes.push(format!(
        "{} is taken when the results are assembled (≈ the end, 1 s resolution); the duration \
         {duration_s:.3} s = {} / {} × 60 counts completed requests only",
        timestamp.path(),
        completed.path(),
        per_min.path()
    ));
    let window = Window {
        start_s: end_s - duration_s,
        end_s,
        source: format!(
            "{}: {} (end) - {} / {} × 60",
            root.file(),
            timestamp.path(),
            completed.path(),
            per_min.path()
        ),
        confidence: WindowConfidence::Derived,
        timezone_assumption: None,
        resolution_s: Some(1.0),
        full_span_s: None,
    };
    Ok((window, duration_s))
}

/// `--metadata` keys, sampling parameters and the other configuration keys go to `extra`;
/// common names also fill their context field (a value that does not fit is a note).
fn read_free_keys(
    root: &Field,
    context: &mut Context,
    notes: &mut Vec<String>,
) -> Result<(), BenchError> {
    for (key, member) in root.members()? {
        let is_known = key.starts_with(RESULTS_PREFIX)
            || WINDOW_KEYS.contains(&key)
            || TYPED_KEYS.iter().any(|(typed, _)| *typed == key);
        if !is_known {
            keep_extra(context, key, &member, notes);
        }
    }
    Ok(())
}

/// Token totals from the measured per-request means (LLMPerf counts tokens with its own fixed
/// Llama tokenizer, not the served model's), checked against the configured means.
fn read_token_counts(
    root: &Field,
    context: &mut Context,
    notes: &mut Vec<String>,
) -> Result<(), BenchError> {
    let completed = context.completed.unwrap_or(0);
    let completed_path = root.key_path(COMPLETED_KEY);
    let measured = [
        (
            "input length",
            "results_number_input_tokens_mean",
            &mut context.total_input_tokens,
            &mut context.input_len_tokens,
        ),
        (
            "output length",
            "results_number_output_tokens_mean",
            &mut context.total_output_tokens,
            &mut context.output_len_tokens,
        ),
    ];
    for (what, key, total, length) in measured {
        let Some(mean) = root.get(key) else {
            continue;
        };
        fill_total_from_mean(total, &mean, completed, &completed_path, notes)?;
        reconcile_length(what, length, mean.number()?, mean.path(), notes);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::bench::{BenchReadOptions, read_bench};
    use crate::time::TimeError;

    use super::*;

    const TINYLLAMA: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/shared-fixtures/bench/llmperf-summary-tinyllama.json"
    ));

    fn read_with(edit: impl FnOnce(&mut Value)) -> Result<BenchRun, BenchError> {
        let mut summary: Value = serde_json::from_str(TINYLLAMA).unwrap();
        edit(&mut summary);
        let mut runs = read_bench(
            "s_summary.json",
            &summary.to_string(),
            &BenchReadOptions::default(),
        )?;
        Ok(runs.remove(0))
    }

    #[test]
    fn window_ends_at_the_timestamp_and_spans_the_derived_duration() {
        let run = read_with(|_| {}).unwrap();
        let window = run.window.as_ref().unwrap();
        assert_eq!(window.end_s, 1_789_148_187.0);
        // 50 / 202.3737797988183 × 60 = 3000 / 202.3737797988183: 202.3737797988183 × 14.8 =
        // 2995.1319, leaving 4.8681 / 202.37378 = 0.024055 → 14.824055 s; start ≈
        // 1_789_148_172.175_945 (SOURCES.md: ≈ [1789148172, 1789148187]).
        assert!((run.duration_s.unwrap() - 14.824_055).abs() < 1e-5);
        assert!((window.start_s - 1_789_148_172.175_945).abs() < 1e-5);
        assert_eq!(window.confidence, WindowConfidence::Derived);
        assert_eq!(window.resolution_s, Some(1.0));
        assert_eq!(
            window.source,
            "s_summary.json: .timestamp (end) - .results_num_completed_requests / \
             .results_num_completed_requests_per_min × 60"
        );
        assert_eq!(run.label, "concurrency 5");
    }

    #[test]
    fn context_and_token_totals() {
        let run = read_with(|_| {}).unwrap();
        let context = &run.context;
        assert_eq!(context.bench_tool.as_deref(), Some("llmperf"));
        assert_eq!(
            context.model.as_deref(),
            Some("tinyLlama/TinyLlama-1.1B-Chat-v1.0")
        );
        assert_eq!(context.concurrency, Some(5));
        assert_eq!(context.input_len_tokens, Some(256.0));
        assert_eq!(context.output_len_tokens, Some(100.0));
        assert_eq!(context.num_prompts, Some(50));
        assert_eq!(context.completed, Some(50));
        assert_eq!(context.failed, Some(0));
        // 259.78 × 50 = 12989 and 99.44 × 50 = 4972 tokens.
        assert_eq!(context.total_input_tokens, Some(12_989));
        assert_eq!(context.total_output_tokens, Some(4_972));
        assert_eq!(context.output_tokens_per_s, Some(335.40081105324157));
        // 202.3737797988183 per minute / 60 = 3.3728963… per second.
        assert!((context.requests_per_s.unwrap() - 3.372_896_33).abs() < 1e-8);
        assert_eq!(
            context
                .extra
                .get("additional_sampling_params_temperature")
                .map(String::as_str),
            Some("0.7")
        );
        // Results (min/max as strings among them) are not context.
        assert!(
            !context
                .extra
                .contains_key("results_number_input_tokens_min")
        );
        assert!(!context.extra.contains_key("timestamp"));
    }

    #[test]
    fn missing_monotonic_and_empty_runs_are_refused() {
        let missing = read_with(|summary| {
            summary.as_object_mut().unwrap().remove("timestamp");
        });
        assert_eq!(
            missing.unwrap_err(),
            BenchError::MissingField {
                file: "s_summary.json".into(),
                field: ".timestamp".into(),
                also_accepted: vec![],
            }
        );
        // `time.monotonic()` instead of `time.time()`.
        let monotonic = read_with(|summary| summary["timestamp"] = json!(35_339.0));
        assert!(matches!(
            monotonic.unwrap_err(),
            BenchError::BadTime {
                problem: TimeError::NotAnEpoch(_),
                ..
            }
        ));
        let nothing_completed =
            read_with(|summary| summary["results_num_completed_requests"] = json!(0));
        assert!(matches!(
            nothing_completed.unwrap_err(),
            BenchError::NonPositiveDuration { duration_s, .. } if duration_s == 0.0
        ));
        let no_rate =
            read_with(|summary| summary["results_num_completed_requests_per_min"] = json!(0.0));
        assert!(matches!(
            no_rate.unwrap_err(),
            BenchError::NonPositiveDuration { .. }
        ));
    }
}
