//! vLLM `bench serve --save-result` JSON (and the legacy `benchmark_serving.py`): one object
//! per run, written after the run with a naive local `date` and a perf_counter `duration`.

use jiff::civil;
use serde_json::Value;

use crate::context::{Context, RequestRate};
use crate::time::TimeError;
use crate::window::{Window, WindowConfidence};

use super::context_keys::{ContextSlot, fill_mean_lengths, fill_slot, keep_extra};
use super::json_fields::Field;
use super::local_time::resolve_local_time;
use super::{BenchError, BenchFormat, BenchReadOptions, BenchRun};

/// The `strftime` layout of `date` (`20250530-203916`).
const DATE_FORMAT: &str = "%Y%m%d-%H%M%S";

/// Keys vLLM writes with a fixed meaning, read into typed context fields.
const TYPED_KEYS: [(&str, ContextSlot); 10] = [
    ("model_id", ContextSlot::Model),
    ("num_prompts", ContextSlot::NumPrompts),
    ("max_concurrency", ContextSlot::Concurrency),
    ("request_rate", ContextSlot::RequestRate),
    ("completed", ContextSlot::Completed),
    ("failed", ContextSlot::Failed),
    ("total_input_tokens", ContextSlot::TotalInputTokens),
    ("total_output_tokens", ContextSlot::TotalOutputTokens),
    ("output_throughput", ContextSlot::OutputTokensPerS),
    ("request_throughput", ContextSlot::RequestsPerS),
];

/// Keys that make the window.
const WINDOW_KEYS: [&str; 2] = ["date", "duration"];

/// Result metrics that are not context (latency statistics are matched by pattern). The
/// misspelled `request_goodput:` is what mid-2025 builds wrote.
const RESULT_KEYS: [&str; 6] = [
    "request_goodput",
    "request_goodput:",
    "total_token_throughput",
    "max_output_tokens_per_s",
    "rtfx",
    "spec_decode_acceptance_rate",
];

/// Signature: `date` shaped `YYYYMMDD-HHMMSS` plus `duration` and `completed`.
pub(crate) fn is_vllm_run(value: &Value) -> bool {
    let Some(date) = value.get("date").and_then(Value::as_str) else {
        return false;
    };
    // A damaged `date` still makes a vLLM result when vLLM's own keys are there: the reader
    // then names `.date` instead of calling the file unknown.
    let vllm_keys = ["backend", "endpoint_type", "tokenizer_id", "model_id"]
        .iter()
        .any(|key| value.get(key).is_some());
    (is_vllm_date(date) || vllm_keys)
        && value.get("duration").is_some()
        && value.get("completed").is_some()
}

/// `^\d{8}-\d{6}$` with ASCII digits only.
fn is_vllm_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 15
        && bytes.iter().enumerate().all(|(position, byte)| {
            if position == 8 {
                *byte == b'-'
            } else {
                byte.is_ascii_digit()
            }
        })
}

/// `mean_ttft_ms`, `p99_itl_ms`, `p99.9_e2el_ms`, … (`--percentile-metrics`/`--metric-percentiles`).
fn is_latency_statistic(key: &str) -> bool {
    let Some((statistic, metric)) = key
        .strip_suffix("_ms")
        .and_then(|body| body.split_once('_'))
    else {
        return false;
    };
    let is_percentile = statistic
        .strip_prefix('p')
        .is_some_and(|percent| percent.parse::<f64>().is_ok());
    (is_percentile || matches!(statistic, "mean" | "median" | "std"))
        && matches!(metric, "ttft" | "tpot" | "itl" | "e2el")
}

/// Reads one run; `index` is its position among the file's runs.
pub(crate) fn read_run(
    run: &Field,
    index: usize,
    options: &BenchReadOptions,
) -> Result<BenchRun, BenchError> {
    let mut notes = Vec::new();
    let (window, duration_s) = read_window(run, options, &mut notes)?;
    let mut context = Context {
        bench_tool: Some("vllm".to_string()),
        bench_index: Some(index),
        ..Context::default()
    };
    for (key, slot) in TYPED_KEYS {
        if let Some(field) = run.get(key) {
            fill_slot(&mut context, slot, &field, &mut notes)?;
        }
    }
    read_free_keys(run, &mut context, &mut notes)?;
    // vLLM stores no configured ISL/OSL unless `--metadata input_len=…` gave one.
    fill_mean_lengths(&mut context, &mut notes);
    let label = run_label(&context);
    Ok(BenchRun {
        format: BenchFormat::VllmBenchServe,
        index,
        label,
        window: Some(window),
        duration_s: Some(duration_s),
        context,
        notes,
    })
}

/// End = `date` in the client's timezone; start = end − `duration`.
fn read_window(
    run: &Field,
    options: &BenchReadOptions,
    notes: &mut Vec<String>,
) -> Result<(Window, f64), BenchError> {
    let date = run.require("date")?;
    let date_text = date
        .value()
        .as_str()
        .ok_or_else(|| date.wrong_type("a string"))?;
    let local = civil::DateTime::strptime(DATE_FORMAT, date_text)
        .map_err(|_| date.bad_time(TimeError::Unparseable(date_text.to_string())))?;
    let end = resolve_local_time(local, options.timezone.as_ref())
        .map_err(|problem| date.bad_time(problem))?;
    let duration = run.require("duration")?;
    let duration_s = duration.positive_duration_s()?;
    notes.extend(end.notes);
    notes.push(format!(
        "{} is written after the run and its metric computation, truncated to 1 s: the run \
         ended up to 1 s after it, or earlier by the post-processing time",
        date.path()
    ));
    let window = Window {
        start_s: end.epoch_s - duration_s,
        end_s: end.epoch_s,
        source: format!(
            "{}: {} (end, client local time) - {}",
            run.file(),
            date.path(),
            duration.path()
        ),
        confidence: WindowConfidence::Derived,
        timezone_assumption: Some(end.timezone_assumption),
        resolution_s: Some(1.0),
        full_span_s: None,
    };
    Ok((window, duration_s))
}

/// Every other scalar key (`--metadata KEY=VALUE` strings, sweep parameters, `backend`,
/// `burstiness`, …) goes to `extra` as written; common names also fill their context field.
/// Metadata is free text, so a value that does not fit its field is a note, not an error.
fn read_free_keys(
    run: &Field,
    context: &mut Context,
    notes: &mut Vec<String>,
) -> Result<(), BenchError> {
    for (key, member) in run.members()? {
        let is_known = WINDOW_KEYS.contains(&key)
            || TYPED_KEYS.iter().any(|(typed, _)| *typed == key)
            || RESULT_KEYS.contains(&key)
            || is_latency_statistic(key);
        if !is_known {
            keep_extra(context, key, &member, notes);
        }
    }
    Ok(())
}

/// `30 req/s`, `inf req/s, concurrency 64`, prefixed by `--label` when given.
fn run_label(context: &Context) -> String {
    let rate = match context.request_rate {
        Some(RequestRate::PerSecond(per_second)) => format!("{per_second} req/s"),
        Some(RequestRate::Unbounded(_)) => "inf req/s".to_string(),
        None => "rate not recorded".to_string(),
    };
    let load = match context.concurrency {
        Some(concurrency) => format!("{rate}, concurrency {concurrency}"),
        None => rate,
    };
    match context.extra.get("label") {
        Some(label) => format!("{label}: {load}"),
        None => load,
    }
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;

    use crate::bench::read_bench;
    use crate::context::UnboundedRate;

    use super::*;

    const L40S: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/shared-fixtures/bench/vllm-bench-serve-l40s-2025-05.json"
    ));
    const L40S_INF: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/shared-fixtures/bench/vllm-bench-serve-l40s-2025-05-inf.json"
    ));
    const NEWER_KEYS: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/shared-fixtures/bench/vllm-bench-serve-newer-keys-2026-07.json"
    ));

    /// 2025-05-30T20:39:16Z: 20238 days since 1970 (55 years with 14 leap days = 20089, plus
    /// 149 days from 1 January to 30 May) × 86400 = 1_748_563_200, + 20 h 39 min 16 s = 74_356 s.
    const L40S_DATE_AS_UTC_S: f64 = 1_748_637_556.0;

    fn utc() -> BenchReadOptions {
        BenchReadOptions {
            timezone: Some(TimeZone::UTC),
            ..BenchReadOptions::default()
        }
    }

    fn read_one(file: &str, text: &str, options: &BenchReadOptions) -> BenchRun {
        let mut runs = read_bench(file, text, options).unwrap();
        assert_eq!(runs.len(), 1);
        runs.remove(0)
    }

    #[test]
    fn l40s_window_ends_at_date_and_spans_duration() {
        let run = read_one("l40s.json", L40S, &utc());
        let window = run.window.unwrap();
        assert_eq!(window.end_s, L40S_DATE_AS_UTC_S);
        // duration 40.57259980900017 s → start 1_748_637_515.427400… (20:38:35.43Z, matching the
        // job log's start at 20:38:10 plus ≈ 25 s of client start-up).
        assert!((window.start_s - 1_748_637_515.427_4).abs() < 1e-6);
        assert_eq!(window.confidence, WindowConfidence::Derived);
        assert_eq!(window.resolution_s, Some(1.0));
        assert_eq!(window.timezone_assumption.as_deref(), Some("UTC"));
        assert_eq!(
            window.source,
            "l40s.json: .date (end, client local time) - .duration"
        );
        assert_eq!(run.label, "30 req/s");
    }

    #[test]
    fn date_is_read_in_the_given_timezone() {
        let options = BenchReadOptions {
            timezone: Some(TimeZone::get("America/New_York").unwrap()),
            ..BenchReadOptions::default()
        };
        let window = read_one("l40s.json", L40S, &options).window.unwrap();
        // New York is UTC−4 (EDT) on 2025-05-30: 20:39:16 local is 00:39:16Z on 31 May.
        assert_eq!(window.end_s, L40S_DATE_AS_UTC_S + 4.0 * 3600.0);
        assert_eq!(
            window.timezone_assumption.as_deref(),
            Some("America/New_York")
        );
    }

    #[test]
    fn no_timezone_assumes_utc_and_records_it() {
        let run = read_one("l40s.json", L40S, &BenchReadOptions::default());
        let window = run.window.unwrap();
        assert_eq!(window.end_s, L40S_DATE_AS_UTC_S);
        assert_eq!(
            window.timezone_assumption.as_deref(),
            Some("UTC (no timezone given)")
        );
        assert!(run.notes.iter().any(|note| note.contains("no timezone")));
    }

    #[test]
    fn l40s_context_maps_string_metadata_and_keeps_it_in_extra() {
        let context = read_one("l40s.json", L40S, &utc()).context;
        assert_eq!(context.bench_tool.as_deref(), Some("vllm"));
        assert_eq!(context.bench_index, Some(0));
        assert_eq!(
            context.model.as_deref(),
            Some("meta-llama/Llama-3.2-3B-Instruct")
        );
        assert_eq!(context.hardware.as_deref(), Some("4xNVIDIA_L40S"));
        // `"input_len": "1000"` and `"output_len": "500"` are strings in the file.
        assert_eq!(context.input_len_tokens, Some(1000.0));
        assert_eq!(context.output_len_tokens, Some(500.0));
        assert_eq!(
            context.extra.get("input_len").map(String::as_str),
            Some("1000")
        );
        assert_eq!(
            context.extra.get("gpu").map(String::as_str),
            Some("4xNVIDIA_L40S")
        );
        assert_eq!(
            context.extra.get("decode_replicas").map(String::as_str),
            Some("4")
        );
        assert_eq!(
            context.extra.get("burstiness").map(String::as_str),
            Some("1.0")
        );
        assert_eq!(
            context.extra.get("backend").map(String::as_str),
            Some("vllm")
        );
        assert_eq!(context.request_rate, Some(RequestRate::PerSecond(30.0)));
        assert_eq!(context.concurrency, None);
        assert_eq!(context.num_prompts, Some(900));
        assert_eq!(context.completed, Some(900));
        assert_eq!(context.failed, None);
        assert_eq!(context.total_input_tokens, Some(899_100));
        assert_eq!(context.total_output_tokens, Some(239_959));
        assert_eq!(context.output_tokens_per_s, Some(5914.311656872681));
        assert_eq!(context.requests_per_s, Some(22.182458216551215));
        // TP is not in this file: never guessed.
        assert_eq!(context.tensor_parallel, None);
        // Results, the misspelled goodput key and latency statistics are not context.
        for key in [
            "request_goodput:",
            "mean_ttft_ms",
            "p99_itl_ms",
            "duration",
            "date",
        ] {
            assert!(!context.extra.contains_key(key), "{key} in extra");
        }
    }

    #[test]
    fn configured_output_length_far_from_the_measured_mean_is_noted() {
        let run = read_one("l40s.json", L40S, &utc());
        // 239959 / 900 = 266.6 measured vs 500 configured; 899100 / 900 = 999 vs 1000 is close.
        let length_notes: Vec<&String> = run
            .notes
            .iter()
            .filter(|note| note.starts_with("configured"))
            .collect();
        assert_eq!(
            length_notes,
            vec![
                "configured output length 500 tokens but the measured mean is 266.6 tokens (-47 %)"
            ]
        );
    }

    #[test]
    fn inf_rate_string_is_unbounded() {
        let run = read_one("inf.json", L40S_INF, &utc());
        assert_eq!(
            run.context.request_rate,
            Some(RequestRate::Unbounded(UnboundedRate::Inf))
        );
        let window = run.window.unwrap();
        // 20250530-204006 is 50 s after 20:39:16 → 1_748_637_606; duration 20.918269691000205 s.
        assert_eq!(window.end_s, L40S_DATE_AS_UTC_S + 50.0);
        assert!((window.start_s - (1_748_637_606.0 - 20.918_269_691)).abs() < 1e-6);
        assert_eq!(run.label, "inf req/s");
    }

    #[test]
    fn newer_keys_use_measured_means_without_configured_lengths() {
        let run = read_one("newer.json", NEWER_KEYS, &utc());
        let context = &run.context;
        assert_eq!(context.model.as_deref(), Some("./Qwen2.5-VL-3B-Instruct"));
        assert_eq!(context.failed, Some(1));
        assert_eq!(context.completed, Some(199));
        // 39800 / 199 = 200 input tokens; 25472 / 199 = 128 output tokens (exactly).
        assert_eq!(context.input_len_tokens, Some(200.0));
        assert_eq!(context.output_len_tokens, Some(128.0));
        assert_eq!(
            context
                .extra
                .get("max_concurrent_requests")
                .map(String::as_str),
            Some("14")
        );
        assert_eq!(
            context.extra.get("endpoint_type").map(String::as_str),
            Some("openai")
        );
        for key in [
            "rtfx",
            "max_output_tokens_per_s",
            "request_goodput",
            "label",
        ] {
            assert!(!context.extra.contains_key(key), "{key} in extra");
        }
        // 2026-07-22T06:01:14Z: 2026-01-01 is 20454 days (56 years, 14 leap days) + 202 days
        // → 20656 × 86400 = 1_784_678_400, + 6 h 1 min 14 s (21_674 s) = 1_784_700_074.
        assert_eq!(run.window.unwrap().end_s, 1_784_700_074.0);
    }

    #[test]
    fn appended_runs_are_separate_runs_in_order() {
        let appended = format!("{L40S}\n{L40S_INF}");
        let runs = read_bench("results.json", &appended, &utc()).unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!((runs[0].index, runs[1].index), (0, 1));
        assert_eq!(runs[1].context.bench_index, Some(1));
        assert_eq!(runs[0].label, "30 req/s");
        assert_eq!(runs[1].label, "inf req/s");
        assert_eq!(
            runs[1].window.as_ref().unwrap().source,
            "results.json: [1].date (end, client local time) - [1].duration"
        );
        // A sweep summary.json holds the same objects as an array.
        let array = format!("[{}, {}]", L40S.trim(), L40S_INF.trim());
        assert_eq!(read_bench("summary.json", &array, &utc()).unwrap().len(), 2);
    }

    #[test]
    fn a_broken_later_run_is_named_by_position() {
        let appended =
            format!("{L40S}\n{{\"date\": \"20250530-2040\", \"duration\": 1, \"completed\": 1}}");
        let error = read_bench("results.json", &appended, &utc()).unwrap_err();
        assert_eq!(
            error,
            BenchError::BadTime {
                file: "results.json".into(),
                field: "[1].date".into(),
                problem: TimeError::Unparseable("20250530-2040".into()),
            }
        );
    }

    #[test]
    fn sweep_parameters_and_bad_metadata() {
        let text = r#"{"date": "20250530-203916", "duration": 10.0, "completed": 10,
            "label": "sweep", "max_concurrency": 64, "tensor_parallel_size": 4,
            "quantization": "fp8", "kv_cache_dtype": "fp8", "output_len": "lots"}"#;
        let run = read_one("run=0.json", text, &utc());
        assert_eq!(run.context.tensor_parallel, Some(4));
        assert_eq!(run.context.quant.as_deref(), Some("fp8"));
        assert_eq!(run.context.kv_cache_dtype.as_deref(), Some("fp8"));
        assert_eq!(run.context.concurrency, Some(64));
        assert_eq!(run.label, "sweep: rate not recorded, concurrency 64");
        // The unusable metadata value stays in extra and is noted, not fatal.
        assert_eq!(run.context.output_len_tokens, None);
        assert_eq!(
            run.context.extra.get("output_len").map(String::as_str),
            Some("lots")
        );
        assert!(run.notes.iter().any(|note| note.contains("`.output_len`")));
    }

    #[test]
    fn zero_duration_is_refused() {
        let text = r#"{"date": "20250530-203916", "duration": 0, "completed": 0}"#;
        let error = read_bench("r.json", text, &utc()).unwrap_err();
        assert!(matches!(
            error,
            BenchError::NonPositiveDuration { ref field, .. } if field == ".duration"
        ));
    }

    #[test]
    fn signature_helpers() {
        assert!(is_vllm_date("20250530-203916"));
        assert!(!is_vllm_date("2025-05-30 20:39"));
        // Non-ASCII digits (Arabic-Indic) do not count.
        assert!(!is_vllm_date("٢٠٢٥٠٥٣٠-203916"));
        assert!(is_latency_statistic("p99.9_e2el_ms"));
        assert!(is_latency_statistic("median_tpot_ms"));
        assert!(!is_latency_statistic("slo_ttft_ms"));
        assert!(!is_latency_statistic("mean_ttft"));
    }
}
