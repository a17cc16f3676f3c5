//! GuideLLM `benchmarks.json` (schema v2 from 0.7; v1 and 0.4 files with `scheduler_metrics`):
//! one run per generative benchmark, with exact epoch bounds of the measured span.

use serde_json::Value;

use crate::context::Context;
use crate::window::{Window, WindowConfidence};

use super::context_keys::{ContextSlot, fill_slot, reconcile_length};
use super::json_fields::{Field, check_span};
use super::{BenchError, BenchFormat, BenchRun};

/// `type_` of the benchmarks we read (embedding benchmarks have no token generation).
const GENERATIVE_BENCHMARK: &str = "generative_benchmark";

/// Report-level places of the model, in order of preference: v2 scenario spec, 0.4–0.6 `args`.
const REPORT_MODEL_PATHS: [&[&str]; 2] =
    [&["config", "spec", "backend", "model"], &["args", "model"]];

/// Per-benchmark counts and throughputs (successful requests only).
const BENCHMARK_FIELDS: [(&[&str], ContextSlot); 7] = [
    (
        &["scheduler_metrics", "requests_made", "total"],
        ContextSlot::NumPrompts,
    ),
    (
        &["scheduler_metrics", "requests_made", "successful"],
        ContextSlot::Completed,
    ),
    (
        &["scheduler_metrics", "requests_made", "errored"],
        ContextSlot::Failed,
    ),
    (
        &["metrics", "prompt_token_count", "successful", "total_sum"],
        ContextSlot::TotalInputTokens,
    ),
    (
        &["metrics", "output_token_count", "successful", "total_sum"],
        ContextSlot::TotalOutputTokens,
    ),
    (
        &["metrics", "output_tokens_per_second", "successful", "mean"],
        ContextSlot::OutputTokensPerS,
    ),
    (
        &["metrics", "requests_per_second", "successful", "mean"],
        ContextSlot::RequestsPerS,
    ),
];

/// Signature: a `benchmarks` array holding at least one generative benchmark.
pub(crate) fn is_guidellm_report(value: &Value) -> bool {
    value
        .get("benchmarks")
        .and_then(Value::as_array)
        .is_some_and(|benchmarks| benchmarks.iter().any(is_generative_benchmark))
}

fn is_generative_benchmark(benchmark: &Value) -> bool {
    benchmark.get("type_").and_then(Value::as_str) == Some(GENERATIVE_BENCHMARK)
}

/// Reads every generative benchmark of the report; `index` is its position in `benchmarks`.
pub(crate) fn read_report(root: &Field) -> Result<Vec<BenchRun>, BenchError> {
    let mut report_notes = Vec::new();
    let report_context = read_report_context(root, &mut report_notes)?;
    let mut runs = Vec::new();
    for (index, benchmark) in root.require("benchmarks")?.elements()? {
        if is_generative_benchmark(benchmark.value()) {
            runs.push(read_benchmark(&benchmark, index, &report_context)?);
        } else {
            report_notes.push(format!(
                "{} skipped: its type_ is not {GENERATIVE_BENCHMARK}",
                benchmark.path()
            ));
        }
    }
    for run in &mut runs {
        run.notes.extend(report_notes.iter().cloned());
    }
    Ok(runs)
}

/// Tool version, model and the configured synthetic-data lengths, shared by all benchmarks.
fn read_report_context(root: &Field, notes: &mut Vec<String>) -> Result<Context, BenchError> {
    let mut context = Context {
        bench_tool: Some("guidellm".to_string()),
        ..Context::default()
    };
    if let Some(version) = root.get_path(&["metadata", "guidellm_version"]) {
        context.bench_tool_version = Some(version.text()?);
    }
    for path in REPORT_MODEL_PATHS {
        if let Some(model) = root.get_path(path) {
            fill_slot(&mut context, ContextSlot::Model, &model, notes)?;
        }
    }
    let first_data = root
        .get_path(&["config", "spec", "data"])
        .and_then(|data| data.at(0))
        .filter(|data| data.value().is_object());
    if let Some(data) = first_data {
        let data_fields = [
            ("kind", ContextSlot::Dataset),
            ("prompt_tokens", ContextSlot::InputLen),
            ("output_tokens", ContextSlot::OutputLen),
        ];
        for (key, slot) in data_fields {
            if let Some(field) = data.get(key) {
                fill_slot(&mut context, slot, &field, notes)?;
            }
        }
    }
    Ok(context)
}

fn read_benchmark(
    benchmark: &Field,
    index: usize,
    report_context: &Context,
) -> Result<BenchRun, BenchError> {
    let mut notes = Vec::new();
    let window = read_window(benchmark, &mut notes)?;
    let mut context = Context {
        bench_index: Some(index),
        ..Context::default()
    };
    // The benchmark's own backend is what ran; the report-level model only fills a gap.
    if let Some(model) = benchmark.get_path(&["config", "backend", "model"]) {
        fill_slot(&mut context, ContextSlot::Model, &model, &mut notes)?;
    }
    let label = read_strategy(benchmark, &mut context, &mut notes)?;
    for (path, slot) in BENCHMARK_FIELDS {
        if let Some(field) = benchmark.get_path(path) {
            fill_slot(&mut context, slot, &field, &mut notes)?;
        }
    }
    if let Some(incomplete) =
        benchmark.get_path(&["scheduler_metrics", "requests_made", "incomplete"])
    {
        context.extra.insert(
            "requests_incomplete".to_string(),
            incomplete.count()?.to_string(),
        );
    }
    context.fill_from(report_context);
    let measured_lengths = [
        (
            "input length",
            "prompt_token_count",
            &mut context.input_len_tokens,
        ),
        (
            "output length",
            "output_token_count",
            &mut context.output_len_tokens,
        ),
    ];
    for (what, metric, configured) in measured_lengths {
        if let Some(mean) = benchmark.get_path(&["metrics", metric, "successful", "mean"]) {
            reconcile_length(what, configured, mean.number()?, mean.path(), &mut notes);
        }
    }
    Ok(BenchRun {
        format: BenchFormat::GuideLlm,
        index,
        label,
        duration_s: Some(window.duration_s()),
        window: Some(window),
        context,
        notes,
    })
}

/// The load level from `config.strategy`; returns the run's label (`constant 2 req/s`).
fn read_strategy(
    benchmark: &Field,
    context: &mut Context,
    notes: &mut Vec<String>,
) -> Result<String, BenchError> {
    let Some(strategy) = benchmark.get_path(&["config", "strategy"]) else {
        notes.push(format!(
            "{} has no config.strategy: the load level is unknown",
            benchmark.path()
        ));
        return Ok("strategy not recorded".to_string());
    };
    let kind = strategy.require("type_")?.text()?;
    context.extra.insert("strategy".to_string(), kind.clone());
    for key in ["worker_count", "rampup_duration"] {
        if let Some(text) = strategy.get(key).and_then(|field| field.scalar_text()) {
            context.extra.insert(format!("strategy.{key}"), text);
        }
    }
    match kind.as_str() {
        "synchronous" => {
            context.concurrency = Some(1);
            Ok(kind)
        }
        "concurrent" => {
            let streams = strategy.require("streams")?;
            fill_slot(context, ContextSlot::Concurrency, &streams, notes)?;
            Ok(format!("concurrent {} streams", streams.degree()?))
        }
        "throughput" => match strategy.get("max_concurrency") {
            Some(max_concurrency) => {
                fill_slot(context, ContextSlot::Concurrency, &max_concurrency, notes)?;
                Ok(format!(
                    "throughput, max concurrency {}",
                    max_concurrency.degree()?
                ))
            }
            None => Ok(kind),
        },
        "constant" | "poisson" => {
            let rate = strategy.require("rate")?;
            fill_slot(context, ContextSlot::RequestRate, &rate, notes)?;
            // For a rate-driven run the in-flight limit is a client safety cap, not the load.
            if let Some(cap) = strategy.get("max_concurrency") {
                let cap_value = cap.degree()?;
                context
                    .extra
                    .insert("client_max_concurrency".to_string(), cap_value.to_string());
                notes.push(format!(
                    "{} = {cap_value} is the client's cap for a {kind}-rate run, not the load \
                     level: concurrency is left unset",
                    cap.path()
                ));
            }
            Ok(format!("{kind} {} req/s", rate.number()?))
        }
        _ => {
            notes.push(format!(
                "strategy type `{kind}` is not one this reader knows: the load level is unset"
            ));
            Ok(kind)
        }
    }
}

/// Exact window: the measured span (warm-up and cool-down trimmed); the request span is kept as
/// `full_span_s` for energy.
fn read_window(benchmark: &Field, notes: &mut Vec<String>) -> Result<Window, BenchError> {
    let scheduler = benchmark.get("scheduler_metrics");
    let bounds = |start_key: &str, end_key: &str| {
        let scheduler = scheduler.as_ref()?;
        Some((scheduler.get(start_key)?, scheduler.get(end_key)?))
    };
    let (start, end) = match bounds("measure_start_time", "measure_end_time") {
        Some(measured) => measured,
        // Reports without measure bounds carry them as the benchmark's own start/end times.
        None => match (benchmark.get("start_time"), benchmark.get("end_time")) {
            (Some(start), Some(end)) => (start, end),
            _ => {
                return Err(BenchError::MissingField {
                    file: benchmark.file().to_string(),
                    field: format!(
                        "{}.measure_start_time",
                        benchmark.key_path("scheduler_metrics")
                    ),
                    also_accepted: vec![benchmark.key_path("start_time")],
                });
            }
        },
    };
    let (start_s, end_s) = ordered_span(&start, &end)?;
    let full_span_s = match bounds("request_start_time", "request_end_time") {
        Some((request_start, request_end)) => {
            let (first_s, last_s) = ordered_span(&request_start, &request_end)?;
            if first_s < start_s || last_s > end_s {
                notes.push(format!(
                    "measured span leaves out {:.3} s of warm-up and {:.3} s of cool-down; \
                     full_span_s covers all requests",
                    start_s - first_s,
                    last_s - end_s
                ));
            }
            Some([first_s, last_s])
        }
        None => None,
    };
    Ok(Window {
        start_s,
        end_s,
        source: format!("{}: {} .. {}", benchmark.file(), start.path(), end.path()),
        confidence: WindowConfidence::Exact,
        timezone_assumption: None,
        resolution_s: None,
        full_span_s,
    })
}

/// Two epoch bounds, the end strictly after the start.
fn ordered_span(start: &Field, end: &Field) -> Result<(f64, f64), BenchError> {
    let start_s = start.epoch_s()?;
    let end_s = end.epoch_s()?;
    check_span(start, start_s, end, end_s)?;
    Ok((start_s, end_s))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::bench::{BenchReadOptions, read_bench};
    use crate::context::RequestRate;
    use crate::time::TimeError;

    use super::*;

    const REPORT_V2: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/shared-fixtures/bench/guidellm-benchmarks-v2.json"
    ));

    fn read(text: &str) -> Result<Vec<BenchRun>, BenchError> {
        read_bench("benchmarks.json", text, &BenchReadOptions::default())
    }

    /// A minimal report with one benchmark using `strategy` and measure bounds 1.8e9 → +10 s.
    fn report_with(strategy: Value, scheduler_metrics: Value) -> String {
        json!({
            "benchmarks": [{
                "type_": "generative_benchmark",
                "config": {"strategy": strategy},
                "scheduler_metrics": scheduler_metrics,
            }]
        })
        .to_string()
    }

    fn measured_ten_seconds() -> Value {
        json!({"measure_start_time": 1.8e9, "measure_end_time": 1.8e9 + 10.0})
    }

    #[test]
    fn v2_fixture_windows_are_the_measure_bounds() {
        let runs = read(REPORT_V2).unwrap();
        assert_eq!(runs.len(), 2);
        let first = runs[0].window.as_ref().unwrap();
        // Straight from benchmarks[0].scheduler_metrics: measure_start_time 1786678148.2526348,
        // measure_end_time 1786678153.2722828 (5.02 s); request bounds are the same values.
        assert_eq!(first.start_s, 1_786_678_148.252_634_8);
        assert_eq!(first.end_s, 1_786_678_153.272_282_8);
        assert_eq!(
            first.full_span_s,
            Some([1_786_678_148.252_634_8, 1_786_678_153.272_282_8])
        );
        assert_eq!(first.confidence, WindowConfidence::Exact);
        assert_eq!(
            first.source,
            "benchmarks.json: .benchmarks[0].scheduler_metrics.measure_start_time .. \
             .benchmarks[0].scheduler_metrics.measure_end_time"
        );
        let second = runs[1].window.as_ref().unwrap();
        // benchmarks[1]: 1786678163.568684 → 1786678166.087296.
        assert_eq!(second.start_s, 1_786_678_163.568_684);
        assert_eq!(second.end_s, 1_786_678_166.087_296);
        // Neither benchmark trimmed warm-up or cool-down, so no trimming note.
        assert!(!runs[0].notes.iter().any(|note| note.contains("warm-up")));
    }

    #[test]
    fn v2_fixture_context() {
        let runs = read(REPORT_V2).unwrap();
        assert_eq!(runs[0].label, "constant 2 req/s");
        assert_eq!(runs[1].label, "constant 4 req/s");
        let context = &runs[0].context;
        assert_eq!(context.bench_tool.as_deref(), Some("guidellm"));
        assert_eq!(context.bench_tool_version.as_deref(), Some("0.8.0.dev18"));
        assert_eq!(context.bench_index, Some(0));
        assert_eq!(context.model.as_deref(), Some("e2e-mock-model"));
        assert_eq!(context.dataset.as_deref(), Some("synthetic_text"));
        assert_eq!(context.request_rate, Some(RequestRate::PerSecond(2.0)));
        // max_concurrency 10240 is a client cap under a constant-rate strategy, not the load.
        assert_eq!(context.concurrency, None);
        assert_eq!(
            context
                .extra
                .get("client_max_concurrency")
                .map(String::as_str),
            Some("10240")
        );
        assert_eq!(
            context.extra.get("strategy").map(String::as_str),
            Some("constant")
        );
        assert_eq!(
            context
                .extra
                .get("strategy.worker_count")
                .map(String::as_str),
            Some("10")
        );
        assert_eq!(context.num_prompts, Some(2));
        assert_eq!(context.completed, Some(2));
        assert_eq!(context.failed, Some(0));
        assert_eq!(
            context.extra.get("requests_incomplete").map(String::as_str),
            Some("0")
        );
        // Configured synthetic data: prompt_tokens 32, output_tokens 8.
        assert_eq!(context.input_len_tokens, Some(32.0));
        assert_eq!(context.output_len_tokens, Some(8.0));
        // total_sum of the successful prompt (51 + 92) and output (8 + 8) token counts.
        assert_eq!(context.total_input_tokens, Some(143));
        assert_eq!(context.total_output_tokens, Some(16));
        assert_eq!(context.output_tokens_per_s, Some(3.1950675815128577));
        assert_eq!(context.requests_per_s, Some(0.39843430656414264));
        assert_eq!(context.tensor_parallel, None);
    }

    #[test]
    fn v2_fixture_notes_the_cap_and_the_multi_turn_prompt_length() {
        let notes = &read(REPORT_V2).unwrap()[0].notes;
        assert!(notes.iter().any(|note| note.starts_with(
            ".benchmarks[0].config.strategy.max_concurrency = 10240 is the client's cap"
        )));
        // Two-turn conversations with a 16-token prefix: the measured mean prompt is 71.5
        // tokens against the configured 32 (71.5 / 32 − 1 = +123 %).
        assert!(notes.iter().any(|note| note
            == "configured input length 32 tokens but the measured mean is 71.5 tokens (+123 %)"));
    }

    #[test]
    fn concurrency_comes_from_the_strategy_kind() {
        let cases = [
            (json!({"type_": "synchronous"}), Some(1), "synchronous"),
            (
                json!({"type_": "concurrent", "streams": 16}),
                Some(16),
                "concurrent 16 streams",
            ),
            (
                json!({"type_": "throughput", "max_concurrency": 128}),
                Some(128),
                "throughput, max concurrency 128",
            ),
            (
                json!({"type_": "throughput", "max_concurrency": null}),
                None,
                "throughput",
            ),
            (json!(null), None, "strategy not recorded"),
            (json!({"type_": "replay"}), None, "replay"),
            (
                json!({"type_": "poisson", "rate": 0.5, "max_concurrency": 512}),
                None,
                "poisson 0.5 req/s",
            ),
        ];
        for (strategy, concurrency, label) in cases {
            let runs = read(&report_with(strategy, measured_ten_seconds())).unwrap();
            assert_eq!(runs[0].context.concurrency, concurrency, "{label}");
            assert_eq!(runs[0].label, label);
        }
    }

    #[test]
    fn trimmed_warm_up_is_noted_and_the_request_span_kept() {
        let scheduler_metrics = json!({
            "request_start_time": 1.8e9 - 2.0, "measure_start_time": 1.8e9,
            "measure_end_time": 1.8e9 + 10.0, "request_end_time": 1.8e9 + 10.5,
        });
        let runs = read(&report_with(
            json!({"type_": "synchronous"}),
            scheduler_metrics,
        ))
        .unwrap();
        let window = runs[0].window.as_ref().unwrap();
        assert_eq!((window.start_s, window.end_s), (1.8e9, 1.8e9 + 10.0));
        assert_eq!(window.full_span_s, Some([1.8e9 - 2.0, 1.8e9 + 10.5]));
        assert!(runs[0].notes.iter().any(|note| note
            == "measured span leaves out 2.000 s of warm-up and 0.500 s of cool-down; \
                full_span_s covers all requests"));
    }

    #[test]
    fn older_reports_fall_back_to_the_benchmark_bounds() {
        let text = json!({"benchmarks": [
            {"type_": "embeddings_benchmark"},
            {"type_": "generative_benchmark", "start_time": 1.8e9, "end_time": 1.8e9 + 3.0,
             "scheduler_metrics": {"requests_made": {"total": 3, "successful": 3, "errored": 0}}},
        ], "args": {"model": "m"}})
        .to_string();
        let runs = read(&text).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].index, 1);
        assert_eq!(runs[0].context.model.as_deref(), Some("m"));
        let window = runs[0].window.as_ref().unwrap();
        assert_eq!((window.start_s, window.end_s), (1.8e9, 1.8e9 + 3.0));
        assert!(window.source.contains(".benchmarks[1].start_time"));
        assert!(
            runs[0]
                .notes
                .iter()
                .any(|note| note.starts_with(".benchmarks[0] skipped"))
        );
    }

    #[test]
    fn missing_monotonic_and_reversed_bounds_are_refused() {
        let missing = read(&report_with(json!({"type_": "synchronous"}), json!({}))).unwrap_err();
        assert_eq!(
            missing,
            BenchError::MissingField {
                file: "benchmarks.json".into(),
                field: ".benchmarks[0].scheduler_metrics.measure_start_time".into(),
                also_accepted: vec![".benchmarks[0].start_time".into()],
            }
        );
        let monotonic = json!({"measure_start_time": 5123.25, "measure_end_time": 5133.25});
        let error = read(&report_with(json!({"type_": "synchronous"}), monotonic)).unwrap_err();
        assert_eq!(
            error,
            BenchError::BadTime {
                file: "benchmarks.json".into(),
                field: ".benchmarks[0].scheduler_metrics.measure_start_time".into(),
                problem: TimeError::NotAnEpoch(5123.25),
            }
        );
        let reversed = json!({"measure_start_time": 1.8e9 + 1.0, "measure_end_time": 1.8e9});
        let error = read(&report_with(json!({"type_": "synchronous"}), reversed)).unwrap_err();
        assert!(matches!(error, BenchError::EndBeforeStart { .. }));
    }
}
