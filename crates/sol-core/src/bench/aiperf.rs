//! NVIDIA AIPerf (reference/bench-formats.md §3.5): the `profile_export_aiperf.json` summary,
//! whose metric blocks are `{unit, avg, …}` and whose `min_request_timestamp` /
//! `max_response_timestamp` are wall-clock epoch nanoseconds; and the per-request records of
//! `profile_export.jsonl`, whose `request_start_ns` / `request_end_ns` are wall-clock too.

use serde_json::Value;

use crate::context::Context;
use crate::time::check_epoch_seconds;
use crate::window::{Window, WindowConfidence};

use super::context_keys::{
    ContextSlot, fill_mean_lengths, fill_slot, load_label, reconcile_length, slot_for_key,
};
use super::json_fields::{Field, check_span};
use super::local_time::read_wall_clock;
use super::{BenchError, BenchFormat, BenchReadOptions, BenchRun};

/// Units per second, for the time units AIPerf writes in a metric block's `unit` (dividing by
/// an exact power of ten rounds once; multiplying by 1e-9 would round twice).
const UNITS_PER_SECOND: [(&str, f64); 5] = [
    ("ns", 1e9),
    ("us", 1e6),
    ("ms", 1e3),
    ("s", 1.0),
    ("sec", 1.0),
];

/// Summary fields read into typed context fields. Generated tokens: `total_osl` counts
/// reasoning tokens too, so it comes before `total_output_tokens`.
const SUMMARY_FIELDS: [(&[&str], ContextSlot); 12] = [
    (
        &["input_config", "loadgen", "concurrency"],
        ContextSlot::Concurrency,
    ),
    (
        &["input_config", "loadgen", "request_rate"],
        ContextSlot::RequestRate,
    ),
    (
        &["input_config", "loadgen", "request_count"],
        ContextSlot::NumPrompts,
    ),
    (
        &["input_config", "input", "prompt", "input_tokens", "mean"],
        ContextSlot::InputLen,
    ),
    (
        &["input_config", "input", "prompt", "output_tokens", "mean"],
        ContextSlot::OutputLen,
    ),
    (&["request_count", "avg"], ContextSlot::Completed),
    (&["error_request_count", "avg"], ContextSlot::Failed),
    (&["total_isl", "avg"], ContextSlot::TotalInputTokens),
    (&["total_osl", "avg"], ContextSlot::TotalOutputTokens),
    (
        &["total_output_tokens", "avg"],
        ContextSlot::TotalOutputTokens,
    ),
    (
        &["output_token_throughput", "avg"],
        ContextSlot::OutputTokensPerS,
    ),
    (&["request_throughput", "avg"], ContextSlot::RequestsPerS),
];

/// Load-generator settings kept as written.
const LOADGEN_EXTRA_KEYS: [&str; 2] = ["arrival_pattern", "warmup_request_count"];

/// The phase whose requests make the measured window (the others are warm-up).
const PROFILING_PHASE: &str = "profiling";

/// Signature of the summary: the AIPerf version, or metric blocks next to `input_config.loadgen`.
pub(crate) fn is_aiperf_summary(value: &Value) -> bool {
    let has_metric_block = value
        .as_object()
        .is_some_and(|members| members.values().any(is_metric_block));
    value.get("aiperf_version").is_some()
        || (value
            .pointer("/input_config/loadgen")
            .is_some_and(Value::is_object)
            && has_metric_block)
}

fn is_metric_block(value: &Value) -> bool {
    value.get("unit").is_some_and(Value::is_string) && value.get("avg").is_some()
}

/// Signature of a per-request record: `metadata.request_start_ns`.
pub(crate) fn is_aiperf_record(value: &Value) -> bool {
    value.pointer("/metadata/request_start_ns").is_some()
}

/// Reads the summary's single run.
pub(crate) fn read_summary(
    root: &Field,
    options: &BenchReadOptions,
) -> Result<BenchRun, BenchError> {
    let mut notes = Vec::new();
    let (window, span_is_the_run) = read_summary_window(root, options, &mut notes)?;
    let duration_s = match root.get("benchmark_duration") {
        Some(block) => Some(block_seconds(&block, None)?.positive_seconds()?),
        None => span_is_the_run.then(|| window.duration_s()),
    };
    let context = read_summary_context(root, &mut notes)?;
    if root
        .get("was_cancelled")
        .is_some_and(|cancelled| cancelled.value().as_bool() == Some(true))
    {
        notes.push("the run was cancelled (was_cancelled: true): it may have stopped early".into());
    }
    let label = match root.get_path(&["run_info", "run_label"]) {
        Some(run_label) => run_label.text()?,
        None => load_label(&context),
    };
    Ok(BenchRun {
        format: BenchFormat::Aiperf,
        index: 0,
        label,
        window: Some(window),
        duration_s,
        context,
        notes,
    })
}

/// The exact epoch-ns bounds when present; else the ISO run times, else the telemetry span
/// (both naive local times in older exporters). Also says whether the window spans the run
/// itself (not the telemetry collection around it).
fn read_summary_window(
    root: &Field,
    options: &BenchReadOptions,
    notes: &mut Vec<String>,
) -> Result<(Window, bool), BenchError> {
    let exact_bounds = (
        root.get("min_request_timestamp"),
        root.get("max_response_timestamp"),
    );
    if let (Some(first_request), Some(last_response)) = exact_bounds {
        let start = block_seconds(&first_request, Some("ns"))?;
        let end = block_seconds(&last_response, Some("ns"))?;
        let start_s = start.epoch_s()?;
        let end_s = end.epoch_s()?;
        check_span(&start.field, start_s, &end.field, end_s)?;
        let window = Window {
            start_s,
            end_s,
            source: format!(
                "{}: {} .. {} (wall-clock epoch)",
                root.file(),
                start.field.path(),
                end.field.path()
            ),
            confidence: WindowConfidence::Exact,
            timezone_assumption: None,
            resolution_s: None,
            full_span_s: None,
        };
        return Ok((window, true));
    }
    let iso_bounds = [
        (
            &["start_time"][..],
            &["end_time"][..],
            "the run's start_time/end_time",
        ),
        (
            &["telemetry_data", "summary", "start_time"][..],
            &["telemetry_data", "summary", "end_time"][..],
            "the GPU-telemetry collection span, not the request span: it may include start-up \
             and warm-up; min_request_timestamp/max_response_timestamp (absent here) are exact",
        ),
    ];
    for (index, (start_path, end_path, what)) in iso_bounds.into_iter().enumerate() {
        let (Some(start), Some(end)) = (root.get_path(start_path), root.get_path(end_path)) else {
            continue;
        };
        let start_clock = read_wall_clock(&start, options.timezone.as_ref())?;
        let end_clock = read_wall_clock(&end, options.timezone.as_ref())?;
        check_span(&start, start_clock.epoch_s, &end, end_clock.epoch_s)?;
        notes.push(format!("window from {what}"));
        if start_clock.timezone_assumption.is_some() {
            notes.push(format!(
                "{} has no UTC offset: older AIPerf exporters wrote the benchmark host's local \
                 time there (newer ones UTC); it was read as {}",
                start.path(),
                start_clock
                    .timezone_assumption
                    .as_deref()
                    .unwrap_or_default()
            ));
        }
        notes.extend(start_clock.notes);
        let window = Window {
            start_s: start_clock.epoch_s,
            end_s: end_clock.epoch_s,
            source: format!("{}: {} .. {}", root.file(), start.path(), end.path()),
            confidence: WindowConfidence::Derived,
            timezone_assumption: start_clock.timezone_assumption,
            resolution_s: None,
            full_span_s: None,
        };
        return Ok((window, index == 0));
    }
    Err(BenchError::MissingField {
        file: root.file().to_string(),
        field: format!("{}.avg", root.key_path("min_request_timestamp")),
        also_accepted: vec![
            root.key_path("start_time"),
            format!("{}.summary.start_time", root.key_path("telemetry_data")),
        ],
    })
}

/// A metric block's `avg` converted to seconds by its `unit` (`default_unit` when it has none).
struct BlockSeconds<'a> {
    field: Field<'a>,
    seconds: f64,
}

impl BlockSeconds<'_> {
    fn epoch_s(&self) -> Result<f64, BenchError> {
        check_epoch_seconds(self.seconds).map_err(|problem| self.field.bad_time(problem))
    }

    fn positive_seconds(&self) -> Result<f64, BenchError> {
        if self.seconds > 0.0 {
            Ok(self.seconds)
        } else {
            Err(BenchError::NonPositiveDuration {
                file: self.field.file().to_string(),
                field: self.field.path().to_string(),
                duration_s: self.seconds,
            })
        }
    }
}

fn block_seconds<'a>(
    block: &Field<'a>,
    default_unit: Option<&str>,
) -> Result<BlockSeconds<'a>, BenchError> {
    let average = block.require("avg")?;
    let unit = match block.get("unit") {
        Some(unit) => unit.text()?,
        None => default_unit
            .ok_or_else(|| BenchError::MissingField {
                file: block.file().to_string(),
                field: block.key_path("unit"),
                also_accepted: Vec::new(),
            })?
            .to_string(),
    };
    let units_per_second = UNITS_PER_SECOND
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, units)| *units)
        .ok_or_else(|| {
            block
                .get("unit")
                .unwrap_or_else(|| block.clone())
                .wrong_type("a time unit (ns, us, ms, s or sec)")
        })?;
    let seconds = match average.value().as_u64() {
        Some(nanoseconds) if unit == "ns" => nanoseconds_s(nanoseconds),
        _ => average.number()? / units_per_second,
    };
    Ok(BlockSeconds {
        seconds,
        field: average,
    })
}

fn read_summary_context(root: &Field, notes: &mut Vec<String>) -> Result<Context, BenchError> {
    let mut context = Context {
        bench_tool: Some("aiperf".to_string()),
        bench_index: Some(0),
        ..Context::default()
    };
    if let Some(version) = root.get("aiperf_version") {
        context.bench_tool_version = Some(version.text()?);
    }
    if let Some(models) = root.get_path(&["input_config", "endpoint", "model_names"]) {
        let models = models.elements()?;
        if let Some((_, first)) = models.first() {
            fill_slot(&mut context, ContextSlot::Model, first, notes)?;
        }
        if models.len() > 1 {
            notes.push(format!(
                "{} models were benchmarked together; the context names the first",
                models.len()
            ));
        }
    }
    for (path, slot) in SUMMARY_FIELDS {
        if let Some(field) = root.get_path(path) {
            fill_slot(&mut context, slot, &field, notes)?;
        }
    }
    for key in LOADGEN_EXTRA_KEYS {
        if let Some(text) = root
            .get_path(&["input_config", "loadgen", key])
            .and_then(|field| field.scalar_text())
        {
            context.extra.insert(key.to_string(), text);
        }
    }
    read_variation(root, &mut context, notes)?;
    read_telemetry_gpus(root, &mut context, notes)?;
    let measured_lengths = [
        (
            "input length",
            "input_sequence_length",
            &mut context.input_len_tokens,
        ),
        (
            "output length",
            "output_sequence_length",
            &mut context.output_len_tokens,
        ),
    ];
    for (what, metric, configured) in measured_lengths {
        if let Some(mean) = root.get_path(&[metric, "avg"]) {
            reconcile_length(what, configured, mean.number()?, mean.path(), notes);
        }
    }
    Ok(context)
}

/// A sweep point (`run_info.variation_values`, e.g. `{"phases.profiling.concurrency": 40}`):
/// kept in `extra`, and a parameter whose last path segment is a context key fills it.
fn read_variation(
    root: &Field,
    context: &mut Context,
    notes: &mut Vec<String>,
) -> Result<(), BenchError> {
    let Some(values) = root.get_path(&["run_info", "variation_values"]) else {
        return Ok(());
    };
    for (parameter, value) in values.members()? {
        let Some(text) = value.scalar_text() else {
            continue;
        };
        context.extra.insert(format!("variation.{parameter}"), text);
        let last_segment = parameter.rsplit('.').next().unwrap_or(parameter);
        if let Some(slot) = slot_for_key(last_segment) {
            fill_slot(context, slot, &value, notes)?;
        }
    }
    Ok(())
}

/// GPU names seen by AIPerf's telemetry: the hardware when they agree.
fn read_telemetry_gpus(
    root: &Field,
    context: &mut Context,
    notes: &mut Vec<String>,
) -> Result<(), BenchError> {
    let Some(endpoints) = root.get_path(&["telemetry_data", "endpoints"]) else {
        return Ok(());
    };
    let mut names = Vec::new();
    for (_, endpoint) in endpoints.members()? {
        let Some(gpus) = endpoint.get("gpus") else {
            continue;
        };
        for (_, gpu) in gpus.members()? {
            if let Some(name) = gpu.get("gpu_name") {
                names.push(name.text()?);
            }
        }
    }
    let Some(first) = names.first() else {
        return Ok(());
    };
    context
        .extra
        .insert("telemetry_gpu_count".to_string(), names.len().to_string());
    if names.iter().all(|name| name == first) {
        context.hardware = Some(first.clone());
        notes.push(format!(
            "hardware {first} is the GPU model AIPerf's telemetry endpoints reported \
             (telemetry_gpu_count {}); those need not be exactly the GPUs that served the run",
            names.len()
        ));
    } else {
        notes.push(format!(
            "AIPerf telemetry saw different GPU models ({}): hardware left unset",
            names.join(", ")
        ));
    }
    Ok(())
}

/// Reads the per-request records of one run (`profile_export.jsonl`) as that run: the window
/// spans the profiling-phase requests; warm-up requests widen only `full_span_s`.
pub(crate) fn read_records(file: &str, records: &[Field]) -> Result<BenchRun, BenchError> {
    let mut spans = RecordSpans::default();
    let mut context = Context {
        bench_tool: Some("aiperf".to_string()),
        bench_index: Some(0),
        ..Context::default()
    };
    let (mut completed, mut failed) = (0_u64, 0_u64);
    let (mut input_tokens, mut output_tokens) = (0_u64, 0_u64);
    for record in records {
        let metadata = record.require("metadata")?;
        let start = metadata.require("request_start_ns")?;
        let end = metadata.require("request_end_ns")?;
        let start_ns = epoch_nanoseconds(&start)?;
        let end_ns = epoch_nanoseconds(&end)?;
        if end_ns <= start_ns {
            return Err(BenchError::EndBeforeStart {
                file: file.to_string(),
                start_field: start.path().to_string(),
                end_field: end.path().to_string(),
                start_s: nanoseconds_s(start_ns),
                end_s: nanoseconds_s(end_ns),
            });
        }
        let phase = match metadata
            .get("benchmark_phase")
            .or_else(|| metadata.get("credit_phase"))
        {
            Some(phase) => phase.text()?,
            None => PROFILING_PHASE.to_string(),
        };
        let profiling = phase == PROFILING_PHASE;
        spans.add(start_ns, end_ns, profiling);
        if !profiling {
            continue;
        }
        if record.get("error").is_some() {
            failed += 1;
            continue;
        }
        completed += 1;
        let lengths = [
            ("input_sequence_length", &mut input_tokens),
            ("output_sequence_length", &mut output_tokens),
        ];
        for (metric, total) in lengths {
            if let Some(value) = record.get_path(&["metrics", metric, "value"]) {
                *total += value.count()?;
            }
        }
    }
    let Some((start_ns, end_ns)) = spans.profiling else {
        return Err(BenchError::NoRun {
            file: file.to_string(),
            problem: format!(
                "all {} AIPerf records are warm-up requests (benchmark_phase is not \
                 \"{PROFILING_PHASE}\"): give the run's profile_export_aiperf.json or the \
                 window with --start/--end",
                records.len()
            ),
        });
    };
    let mut notes = vec![format!(
        "window from {} profiling request records ({} warm-up records only in full_span_s); \
         per-request records name no model or load level: the run's profile_export_aiperf.json \
         holds both",
        spans.profiling_count,
        records.len() - spans.profiling_count
    )];
    if spans.profiling_count == 1 {
        notes.push("a single request record: the window spans that one request only".into());
    }
    context.completed = Some(completed);
    context.failed = Some(failed);
    context.total_input_tokens = Some(input_tokens);
    context.total_output_tokens = Some(output_tokens);
    fill_mean_lengths(&mut context, &mut notes);
    let full_span_s = spans
        .all
        .filter(|all| *all != (start_ns, end_ns))
        .map(|(first_ns, last_ns)| [nanoseconds_s(first_ns), nanoseconds_s(last_ns)]);
    let (start_s, end_s) = (nanoseconds_s(start_ns), nanoseconds_s(end_ns));
    Ok(BenchRun {
        format: BenchFormat::Aiperf,
        index: 0,
        label: match spans.profiling_count {
            1 => "1 request".to_string(),
            count => format!("{count} requests"),
        },
        window: Some(Window {
            start_s,
            end_s,
            source: format!(
                "{file}: earliest metadata.request_start_ns .. latest metadata.request_end_ns of \
                 the profiling records (wall-clock epoch ns)"
            ),
            confidence: WindowConfidence::Exact,
            timezone_assumption: None,
            resolution_s: None,
            full_span_s,
        }),
        // From the integer nanoseconds: f64 epoch seconds keep only ~0.2 µs.
        duration_s: Some(nanoseconds_s(end_ns - start_ns)),
        context,
        notes,
    })
}

/// Earliest start and latest end (epoch ns), over the profiling records and over all records.
#[derive(Default)]
struct RecordSpans {
    profiling: Option<(u64, u64)>,
    all: Option<(u64, u64)>,
    profiling_count: usize,
}

impl RecordSpans {
    fn add(&mut self, start_ns: u64, end_ns: u64, profiling: bool) {
        let widen = |span: Option<(u64, u64)>| match span {
            Some((first_ns, last_ns)) => Some((first_ns.min(start_ns), last_ns.max(end_ns))),
            None => Some((start_ns, end_ns)),
        };
        self.all = widen(self.all);
        if profiling {
            self.profiling = widen(self.profiling);
            self.profiling_count += 1;
        }
    }
}

/// Wall-clock epoch nanoseconds; a monotonic reading (below 1e18 ns) is refused.
fn epoch_nanoseconds(field: &Field) -> Result<u64, BenchError> {
    let nanoseconds = field.count()?;
    check_epoch_seconds(nanoseconds_s(nanoseconds)).map_err(|problem| field.bad_time(problem))?;
    Ok(nanoseconds)
}

/// Seconds from integer nanoseconds, whole seconds and fraction apart: one rounding, so an
/// epoch keeps its full f64 precision (~0.2 µs) instead of losing the integer's low bits first.
fn nanoseconds_s(nanoseconds: u64) -> f64 {
    const PER_SECOND: u64 = 1_000_000_000;
    (nanoseconds / PER_SECOND) as f64 + (nanoseconds % PER_SECOND) as f64 / 1e9
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;
    use serde_json::json;

    use crate::bench::read_bench;
    use crate::time::TimeError;

    use super::*;

    const RECORD: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/shared-fixtures/bench/aiperf-profile-export-record.json"
    ));
    const SUMMARY: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/shared-fixtures/bench/aiperf-profile-export-summary-excerpt.json"
    ));

    fn read_one(text: &str, options: &BenchReadOptions) -> Result<BenchRun, BenchError> {
        let mut runs = read_bench("profile_export.json", text, options)?;
        assert_eq!(runs.len(), 1);
        Ok(runs.remove(0))
    }

    /// The summary excerpt with `edit` applied to its JSON.
    fn summary_with(edit: impl FnOnce(&mut Value)) -> String {
        let mut summary: Value = serde_json::from_str(SUMMARY).unwrap();
        edit(&mut summary);
        summary.to_string()
    }

    /// The record fixture re-timed and re-phased, as one compact JSONL line.
    fn record_line(start_ns: u64, end_ns: u64, phase: &str) -> String {
        let mut record: Value = serde_json::from_str(RECORD).unwrap();
        record["metadata"]["request_start_ns"] = json!(start_ns);
        record["metadata"]["request_end_ns"] = json!(end_ns);
        record["metadata"]["benchmark_phase"] = json!(phase);
        record.to_string()
    }

    #[test]
    fn a_record_is_an_exact_window_of_one_request() {
        let run = read_one(RECORD, &BenchReadOptions::default()).unwrap();
        let window = run.window.as_ref().unwrap();
        // request_start_ns 1759813207532900363 ns = 1_759_813_207 s + 0.532_900_363 s;
        // request_end_ns 1759813207838764604 ns = 1_759_813_207 s + 0.838_764_604 s (an f64
        // epoch keeps ~0.2 µs, so the fractions are compared to 1 µs).
        assert!((window.start_s - 1_759_813_207.0 - 0.532_900_363).abs() < 1e-6);
        assert!((window.end_s - 1_759_813_207.0 - 0.838_764_604).abs() < 1e-6);
        assert_eq!(window.confidence, WindowConfidence::Exact);
        assert_eq!(window.full_span_s, None);
        // 838_764_604 − 532_900_363 = 305_864_241 ns, from the integers.
        assert_eq!(run.duration_s, Some(0.305_864_241));
        assert_eq!(run.label, "1 request");
        assert_eq!(run.context.completed, Some(1));
        assert_eq!(run.context.failed, Some(0));
        // input_sequence_length 550, output_sequence_length 9.
        assert_eq!(run.context.total_input_tokens, Some(550));
        assert_eq!(run.context.total_output_tokens, Some(9));
        assert_eq!(run.context.input_len_tokens, Some(550.0));
        assert_eq!(run.context.model, None);
        assert!(
            run.notes
                .iter()
                .any(|note| note.contains("a single request record"))
        );
    }

    #[test]
    fn jsonl_records_window_the_profiling_phase_and_keep_warm_up_in_the_full_span() {
        const T0: u64 = 1_800_000_000_000_000_000; // 1.8e9 s in ns
        let lines = [
            record_line(T0, T0 + 500_000_000, "warmup"),
            record_line(T0 + 1_000_000_000, T0 + 3_000_000_000, PROFILING_PHASE),
            record_line(T0 + 2_000_000_000, T0 + 4_250_000_000, PROFILING_PHASE),
        ];
        let run = read_one(&lines.join("\n"), &BenchReadOptions::default()).unwrap();
        let window = run.window.unwrap();
        // Profiling: first start T0 + 1 s, last end T0 + 4.25 s; with warm-up from T0.
        assert_eq!((window.start_s, window.end_s), (1.8e9 + 1.0, 1.8e9 + 4.25));
        assert_eq!(window.full_span_s, Some([1.8e9, 1.8e9 + 4.25]));
        assert_eq!(run.duration_s, Some(3.25));
        assert_eq!(run.label, "2 requests");
        // Two profiling records of 550 input and 9 output tokens each.
        assert_eq!(run.context.total_input_tokens, Some(1100));
        assert_eq!(run.context.total_output_tokens, Some(18));
        let warm_up_only = record_line(T0, T0 + 1, "warmup");
        let error = read_one(&warm_up_only, &BenchReadOptions::default()).unwrap_err();
        assert!(matches!(error, BenchError::NoRun { .. }), "{error}");
        assert!(error.to_string().contains("profile_export_aiperf.json"));
    }

    #[test]
    fn malformed_records_are_refused_with_their_path() {
        const T0: u64 = 1_800_000_000_000_000_000;
        let reversed = [
            record_line(T0, T0 + 10, PROFILING_PHASE),
            record_line(T0 + 10, T0, PROFILING_PHASE),
        ];
        let error = read_one(&reversed.join("\n"), &BenchReadOptions::default()).unwrap_err();
        assert!(matches!(
            &error,
            BenchError::EndBeforeStart { start_field, .. }
                if start_field == "[1].metadata.request_start_ns"
        ));
        // 353_399.7 s of perf_counter in ns: no epoch.
        let monotonic = record_line(353_399_700_000_000, 353_399_800_000_000, PROFILING_PHASE);
        let error = read_one(&monotonic, &BenchReadOptions::default()).unwrap_err();
        assert!(matches!(
            error,
            BenchError::BadTime {
                problem: TimeError::NotAnEpoch(_),
                ..
            }
        ));
        let mut missing: Value = serde_json::from_str(RECORD).unwrap();
        missing["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("request_end_ns");
        let error = read_one(&missing.to_string(), &BenchReadOptions::default()).unwrap_err();
        assert_eq!(
            error,
            BenchError::MissingField {
                file: "profile_export.json".into(),
                field: ".metadata.request_end_ns".into(),
                also_accepted: vec![],
            }
        );
    }

    #[test]
    fn summary_excerpt_falls_back_to_the_naive_telemetry_span() {
        let run = read_one(SUMMARY, &BenchReadOptions::default()).unwrap();
        let window = run.window.as_ref().unwrap();
        // 2025-11-07 is 20399 days after 1970-01-01: 1_762_473_600 s. 13:38:54.793124 adds
        // 49_134.793124 s, 13:43:13.730640 adds 49_393.73064 s (read as UTC: no timezone given).
        assert!((window.start_s - 1_762_522_734.793_124).abs() < 1e-6);
        assert!((window.end_s - 1_762_522_993.730_64).abs() < 1e-6);
        assert_eq!(window.confidence, WindowConfidence::Derived);
        assert_eq!(
            window.timezone_assumption.as_deref(),
            Some("UTC (no timezone given)")
        );
        assert_eq!(
            window.source,
            "profile_export.json: .telemetry_data.summary.start_time .. \
             .telemetry_data.summary.end_time"
        );
        // The telemetry span is not the run's duration, and no benchmark_duration is given.
        assert_eq!(run.duration_s, None);
        assert!(
            run.notes
                .iter()
                .any(|note| note.contains("GPU-telemetry collection span"))
        );
        // In UTC+01 the same naive times are one hour earlier.
        let options = BenchReadOptions {
            timezone: Some(TimeZone::fixed(jiff::tz::offset(1))),
            ..BenchReadOptions::default()
        };
        let shifted = read_one(SUMMARY, &options).unwrap().window.unwrap();
        assert!((shifted.start_s - (1_762_522_734.793_124 - 3600.0)).abs() < 1e-6);
    }

    #[test]
    fn summary_excerpt_context() {
        let run = read_one(SUMMARY, &BenchReadOptions::default()).unwrap();
        let context = &run.context;
        assert_eq!(context.bench_tool.as_deref(), Some("aiperf"));
        assert_eq!(context.model.as_deref(), Some("Qwen/Qwen3-0.6B"));
        assert_eq!(context.concurrency, Some(1));
        assert_eq!(context.num_prompts, Some(64));
        assert_eq!(context.requests_per_s, Some(0.2504302580624667));
        assert_eq!(context.output_tokens_per_s, Some(50.08213863971112));
        assert_eq!(
            context.hardware.as_deref(),
            Some("NVIDIA RTX 6000 Ada Generation")
        );
        assert_eq!(
            context
                .extra
                .get("warmup_request_count")
                .map(String::as_str),
            Some("1")
        );
        assert_eq!(run.label, "concurrency 1");
    }

    #[test]
    fn epoch_nanosecond_bounds_are_exact() {
        let text = summary_with(|summary| {
            summary["min_request_timestamp"] =
                json!({"unit": "ns", "avg": 1_800_000_000_250_000_000_u64});
            summary["max_response_timestamp"] =
                json!({"unit": "ns", "avg": 1_800_000_256_000_000_000_u64});
            summary["benchmark_duration"] = json!({"unit": "sec", "avg": 255.75});
            summary["aiperf_version"] = json!("0.3.0");
            summary["run_info"] = json!({"run_label": "concurrency_1",
                "variation_values": {"phases.profiling.concurrency": 1}});
        });
        let run = read_one(&text, &BenchReadOptions::default()).unwrap();
        let window = run.window.unwrap();
        // 1_800_000_000_250_000_000 ns = 1.8e9 + 0.25 s; 1_800_000_256_000_000_000 ns = +256 s.
        assert_eq!(
            (window.start_s, window.end_s),
            (1.8e9 + 0.25, 1.8e9 + 256.0)
        );
        assert_eq!(window.confidence, WindowConfidence::Exact);
        assert_eq!(
            window.source,
            "profile_export.json: .min_request_timestamp.avg .. .max_response_timestamp.avg \
             (wall-clock epoch)"
        );
        assert_eq!(run.duration_s, Some(255.75));
        assert_eq!(run.label, "concurrency_1");
        assert_eq!(run.context.bench_tool_version.as_deref(), Some("0.3.0"));
        assert_eq!(
            run.context
                .extra
                .get("variation.phases.profiling.concurrency")
                .map(String::as_str),
            Some("1")
        );
    }

    #[test]
    fn missing_reversed_and_monotonic_summary_bounds_are_refused() {
        let no_times = summary_with(|summary| {
            summary.as_object_mut().unwrap().remove("telemetry_data");
        });
        let error = read_one(&no_times, &BenchReadOptions::default()).unwrap_err();
        assert_eq!(
            error,
            BenchError::MissingField {
                file: "profile_export.json".into(),
                field: ".min_request_timestamp.avg".into(),
                also_accepted: vec![
                    ".start_time".into(),
                    ".telemetry_data.summary.start_time".into()
                ],
            }
        );
        let reversed = summary_with(|summary| {
            summary["min_request_timestamp"] = json!({"unit": "ns", "avg": 1.8e18 + 1e9});
            summary["max_response_timestamp"] = json!({"unit": "ns", "avg": 1.8e18});
        });
        let error = read_one(&reversed, &BenchReadOptions::default()).unwrap_err();
        assert!(
            matches!(error, BenchError::EndBeforeStart { .. }),
            "{error}"
        );
        let monotonic = summary_with(|summary| {
            summary["min_request_timestamp"] = json!({"unit": "ns", "avg": 353_399.7e9});
            summary["max_response_timestamp"] = json!({"unit": "ns", "avg": 353_499.7e9});
        });
        let error = read_one(&monotonic, &BenchReadOptions::default()).unwrap_err();
        assert!(
            matches!(&error, BenchError::BadTime { field, .. } if field == ".min_request_timestamp.avg"),
            "{error}"
        );
        let odd_unit = summary_with(|summary| {
            summary["min_request_timestamp"] = json!({"unit": "fortnights", "avg": 1.0});
            summary["max_response_timestamp"] = json!({"unit": "ns", "avg": 1.8e18});
        });
        let error = read_one(&odd_unit, &BenchReadOptions::default()).unwrap_err();
        assert!(
            matches!(&error, BenchError::WrongType { field, .. } if field == ".min_request_timestamp.unit"),
            "{error}"
        );
    }

    #[test]
    fn signatures() {
        assert!(is_aiperf_summary(&serde_json::from_str(SUMMARY).unwrap()));
        assert!(!is_aiperf_record(&serde_json::from_str(SUMMARY).unwrap()));
        assert!(is_aiperf_record(&serde_json::from_str(RECORD).unwrap()));
        assert!(is_aiperf_summary(&json!({"aiperf_version": "0.3.0"})));
        // A loadgen section alone is not enough.
        assert!(!is_aiperf_summary(
            &json!({"input_config": {"loadgen": {}}})
        ));
    }
}
