//! llm-d Benchmark Report v0.2 (reference/bench-formats.md §3.7), read as a bench result and
//! written back with dcgm-sol's results in its `results.observability` slot. The report is the
//! only format that records TP and the accelerator in a standard place. Its window, `run.time`,
//! is only as good as the converter that filled it: start/end and the ISO duration are checked
//! against each other.

use serde_json::{Map, Value};

use crate::context::{Context, RequestRate, UnboundedRate};
use crate::window::{Window, WindowConfidence};

use super::context_keys::{ContextSlot, fill_slot, load_label, reconcile_length};
use super::json_fields::{Field, check_span, describe_value};
use super::local_time::{WallClock, read_wall_clock};
use super::yaml::{non_finite_float, parse_yaml, to_yaml};
use super::{BenchError, BenchFormat, BenchReadOptions, BenchRun};

/// Report schema versions this reader knows.
const VERSIONS: [&str; 3] = ["0.1", "0.2", "0.2.1"];

/// How the report is named in the errors of [`llmd_with_observability`], which gets no file
/// name (the caller adds the path).
const REPORT: &str = "llm-d benchmark report";

/// `run.time` start/end and `duration` agree when they differ by at most this many seconds
/// plus [`DURATION_TOLERANCE`] of the duration.
const DURATION_SLACK_S: f64 = 1.0;
const DURATION_TOLERANCE: f64 = 0.01;

/// `scenario.load.standardized` fields with a fixed meaning.
const LOAD_FIELDS: [(&[&str], ContextSlot); 3] = [
    (&["input_seq_len", "value"], ContextSlot::InputLen),
    (&["output_seq_len", "value"], ContextSlot::OutputLen),
    (&["rate_qps"], ContextSlot::RequestRate),
];

/// `scenario.stack[].standardized` fields of an inference engine (`tool_version` is read
/// apart: llm-d writes a container image there).
const ENGINE_FIELDS: [(&[&str], ContextSlot); 7] = [
    (&["model", "name"], ContextSlot::Model),
    (&["accelerator", "model"], ContextSlot::Hardware),
    (
        &["accelerator", "parallelism", "tp"],
        ContextSlot::TensorParallel,
    ),
    (
        &["accelerator", "parallelism", "dp"],
        ContextSlot::DataParallel,
    ),
    (
        &["accelerator", "parallelism", "pp"],
        ContextSlot::PipelineParallel,
    ),
    (
        &["accelerator", "parallelism", "ep"],
        ContextSlot::ExpertParallel,
    ),
    (&["tool"], ContextSlot::Engine),
];

/// Engine fields kept in `extra` as written.
const ENGINE_EXTRA: [(&[&str], &str); 3] = [
    (&["role"], "engine.role"),
    (&["replicas"], "engine.replicas"),
    (&["accelerator", "count"], "engine.accelerator_count"),
];

/// `results.request_performance.aggregate` fields.
const RESULT_FIELDS: [(&[&str], ContextSlot); 4] = [
    (&["requests", "total"], ContextSlot::NumPrompts),
    (&["requests", "failures"], ContextSlot::Failed),
    (
        &["throughput", "output_token_rate", "mean"],
        ContextSlot::OutputTokensPerS,
    ),
    (
        &["throughput", "request_rate", "mean"],
        ContextSlot::RequestsPerS,
    ),
];

/// Signature: a known `version` and a `run` block next to `scenario` or `results` (the
/// partial reports inference-perf writes per stage carry no `scenario`).
pub(crate) fn is_llmd_report(value: &Value) -> bool {
    let version = match value.get("version") {
        Some(Value::String(version)) => version.clone(),
        Some(Value::Number(version)) => version.to_string(),
        _ => return false,
    };
    let is_object = |key| value.get(key).is_some_and(Value::is_object);
    VERSIONS.contains(&version.as_str())
        && is_object("run")
        && (is_object("scenario") || is_object("results"))
}

/// Reads the report's single run.
pub(crate) fn read_report(
    root: &Field,
    options: &BenchReadOptions,
) -> Result<BenchRun, BenchError> {
    let mut notes = Vec::new();
    let (window, duration_s) = read_run_time(root, options, &mut notes)?;
    let mut context = Context {
        bench_index: Some(0),
        ..Context::default()
    };
    read_load(root, &mut context, &mut notes)?;
    read_engine(root, &mut context, &mut notes)?;
    read_results(root, &mut context, &mut notes)?;
    for key in ["uid", "eid"] {
        if let Some(text) = root.get_path(&["run", key]).and_then(|f| f.scalar_text()) {
            context.extra.insert(format!("run.{key}"), text);
        }
    }
    let label = run_label(&context);
    Ok(BenchRun {
        format: BenchFormat::LlmdBenchmarkReport,
        index: 0,
        label,
        window: Some(window),
        duration_s: Some(duration_s),
        context,
        notes,
    })
}

/// `run.time.{start, end}` bounded by `run.time.duration`: when the span disagrees with the
/// duration, the window is the duration ending at `end` (the tools' wall-clock stamp is written
/// at the end: vLLM's `date`, LLMPerf's `timestamp`).
fn read_run_time(
    root: &Field,
    options: &BenchReadOptions,
    notes: &mut Vec<String>,
) -> Result<(Window, f64), BenchError> {
    let time_path = format!("{}.time", root.key_path("run"));
    let missing = || BenchError::MissingField {
        file: root.file().to_string(),
        field: format!("{time_path}.start"),
        also_accepted: vec![format!("{time_path}.end")],
    };
    let time = root.get_path(&["run", "time"]).ok_or_else(missing)?;
    let clock = |key| {
        time.get(key)
            .map(|field| read_wall_clock(&field, options.timezone.as_ref()).map(|c| (field, c)))
            .transpose()
    };
    let (start, end) = (clock("start")?, clock("end")?);
    let duration = time
        .get("duration")
        .map(|field| iso_duration_s(&field).map(|duration_s| (field, duration_s)))
        .transpose()?;
    let ending_at =
        |end: &Field, end_clock: &WallClock, duration: &Field, duration_s: f64| Bounds {
            start_s: end_clock.epoch_s - duration_s,
            end_s: end_clock.epoch_s,
            source: format!("{}: {} - {}", root.file(), end.path(), duration.path()),
        };
    let bounds = match (&start, &end, &duration) {
        (Some((start, start_clock)), Some((end, end_clock)), duration) => {
            check_span(start, start_clock.epoch_s, end, end_clock.epoch_s)?;
            let span_s = end_clock.epoch_s - start_clock.epoch_s;
            match duration {
                Some((duration, duration_s))
                    if (span_s - duration_s).abs()
                        > DURATION_SLACK_S + DURATION_TOLERANCE * duration_s =>
                {
                    notes.push(format!(
                        "{} .. {} spans {span_s:.3} s but {} says {duration_s:.3} s: the window \
                         is the duration ending at {}",
                        start.path(),
                        end.path(),
                        duration.path(),
                        end.path()
                    ));
                    ending_at(end, end_clock, duration, *duration_s)
                }
                _ => Bounds {
                    start_s: start_clock.epoch_s,
                    end_s: end_clock.epoch_s,
                    source: format!("{}: {} .. {}", root.file(), start.path(), end.path()),
                },
            }
        }
        (_, Some((end, end_clock)), Some((duration, duration_s))) => {
            ending_at(end, end_clock, duration, *duration_s)
        }
        (Some((start, start_clock)), None, Some((duration, duration_s))) => Bounds {
            start_s: start_clock.epoch_s,
            end_s: start_clock.epoch_s + duration_s,
            source: format!("{}: {} + {}", root.file(), start.path(), duration.path()),
        },
        _ => return Err(missing()),
    };
    let clocks: Vec<&WallClock> = start.iter().chain(end.iter()).map(|(_, c)| c).collect();
    for clock in &clocks {
        notes.extend(clock.notes.iter().cloned());
    }
    notes.push(
        "run.time is as good as the converter that wrote the report (vLLM: the 1 s `date`; \
         GuideLLM and inference-perf: epoch times)"
            .to_string(),
    );
    let window = Window {
        start_s: bounds.start_s,
        end_s: bounds.end_s,
        source: bounds.source,
        confidence: WindowConfidence::Derived,
        timezone_assumption: clocks
            .iter()
            .find_map(|clock| clock.timezone_assumption.clone()),
        resolution_s: None,
        full_span_s: None,
    };
    let duration_s = duration.map_or(window.duration_s(), |(_, duration_s)| duration_s);
    Ok((window, duration_s))
}

/// A window's bounds and the fields they came from.
struct Bounds {
    start_s: f64,
    end_s: f64,
    source: String,
}

/// An ISO 8601 duration `PnDTnHnMnS` in seconds; any number of decimals (inference-perf and
/// llm-d write up to 14, more than the 9 `jiff` accepts).
fn iso_duration_s(field: &Field) -> Result<f64, BenchError> {
    const EXPECTED: &str = "an ISO 8601 duration such as PT49.97S";
    let text = field
        .value()
        .as_str()
        .ok_or_else(|| field.wrong_type(EXPECTED))?;
    let seconds = parse_iso_duration_s(text).ok_or_else(|| field.wrong_type(EXPECTED))?;
    if seconds > 0.0 {
        Ok(seconds)
    } else {
        Err(BenchError::NonPositiveDuration {
            file: field.file().to_string(),
            field: field.path().to_string(),
            duration_s: seconds,
        })
    }
}

fn parse_iso_duration_s(text: &str) -> Option<f64> {
    let body = text.trim().strip_prefix('P')?;
    let (date_part, time_part) = match body.split_once('T') {
        Some((date_part, time_part)) if !time_part.is_empty() => (date_part, time_part),
        Some(_) => return None,
        None => (body, ""),
    };
    let parts: [(&str, &[(char, f64)]); 2] = [
        (date_part, &[('D', 86_400.0)]),
        (time_part, &[('H', 3_600.0), ('M', 60.0), ('S', 1.0)]),
    ];
    let mut seconds = 0.0;
    let mut components = 0;
    for (mut rest, units) in parts {
        for (unit, seconds_per_unit) in units {
            if let Some((number, after)) = rest.split_once(*unit) {
                let value = number.parse::<f64>().ok().filter(|value| {
                    value.is_finite()
                        && *value >= 0.0
                        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
                })?;
                seconds += value * seconds_per_unit;
                components += 1;
                rest = after;
            }
        }
        if !rest.is_empty() {
            return None;
        }
    }
    (components > 0).then_some(seconds)
}

fn read_load(
    root: &Field,
    context: &mut Context,
    notes: &mut Vec<String>,
) -> Result<(), BenchError> {
    let Some(load) = root.get_path(&["scenario", "load", "standardized"]) else {
        context.bench_tool = Some("llm-d benchmark report".to_string());
        return Ok(());
    };
    let tool = match load.get("tool") {
        Some(tool) => tool.text()?,
        None => "llm-d benchmark report".to_string(),
    };
    context.bench_tool = Some(tool);
    if let Some(version) = load.get("tool_version") {
        context.bench_tool_version = Some(version.text()?);
    }
    if let Some(stage) = load.get("stage") {
        context.extra.insert("stage".to_string(), stage.text()?);
    }
    for (path, slot) in LOAD_FIELDS {
        let Some(field) = load.get_path(path) else {
            continue;
        };
        if slot == ContextSlot::RequestRate && is_positive_infinity(&field) {
            context.request_rate = Some(RequestRate::Unbounded(UnboundedRate::Inf));
        } else {
            fill_slot(context, slot, &field, notes)?;
        }
    }
    if let Some(concurrency) = load.get("concurrency") {
        if is_positive_infinity(&concurrency) {
            notes.push(format!(
                "{} is .inf: no concurrency limit, so concurrency is left unset",
                concurrency.path()
            ));
        } else {
            fill_slot(context, ContextSlot::Concurrency, &concurrency, notes)?;
        }
    }
    Ok(())
}

/// YAML's `.inf`, carried as its spelling (see `yaml.rs`).
fn is_positive_infinity(field: &Field) -> bool {
    field.value().as_str().and_then(non_finite_float) == Some(f64::INFINITY)
}

/// The first inference engine of `scenario.stack`: model, accelerator and parallelism.
fn read_engine(
    root: &Field,
    context: &mut Context,
    notes: &mut Vec<String>,
) -> Result<(), BenchError> {
    let Some(stack) = root.get_path(&["scenario", "stack"]) else {
        return Ok(());
    };
    let engines: Vec<Field> = stack
        .elements()?
        .into_iter()
        .filter_map(|(_, component)| component.get("standardized"))
        .filter(|standardized| {
            standardized
                .get("kind")
                .and_then(|kind| kind.value().as_str().map(str::to_string))
                == Some("inference_engine".to_string())
        })
        .collect();
    let Some(engine) = engines.first() else {
        return Ok(());
    };
    if engines.len() > 1 {
        let roles: Vec<String> = engines
            .iter()
            .filter_map(|engine| engine.get("role").and_then(|role| role.scalar_text()))
            .collect();
        notes.push(format!(
            "{} inference engines in scenario.stack (roles: {}): the context describes the \
             first, {}",
            engines.len(),
            roles.join(", "),
            engine.path()
        ));
    }
    for (path, slot) in ENGINE_FIELDS {
        if let Some(field) = engine.get_path(path) {
            fill_slot(context, slot, &field, notes)?;
        }
    }
    if let Some(tool_version) = engine.get("tool_version") {
        // `ghcr.io/llm-d/llm-d-cuda:0.3.1` names an image; `0.11.2` a version.
        let slot = if tool_version.text()?.contains('/') {
            ContextSlot::Image
        } else {
            ContextSlot::EngineVersion
        };
        fill_slot(context, slot, &tool_version, notes)?;
    }
    for (path, key) in ENGINE_EXTRA {
        if let Some(text) = engine.get_path(path).and_then(|field| field.scalar_text()) {
            context.extra.insert(key.to_string(), text);
        }
    }
    if let Some(replicas) = engine.get("replicas") {
        let replicas = replicas.count()?;
        if replicas > 1 {
            notes.push(format!(
                "{replicas} replicas of this engine: TP × DP × PP counts the GPUs of one \
                 replica; pass the GPU count of the whole deployment if all replicas served \
                 the run"
            ));
        }
    }
    Ok(())
}

fn read_results(
    root: &Field,
    context: &mut Context,
    notes: &mut Vec<String>,
) -> Result<(), BenchError> {
    let Some(aggregate) = root.get_path(&["results", "request_performance", "aggregate"]) else {
        return Ok(());
    };
    for (path, slot) in RESULT_FIELDS {
        if let Some(field) = aggregate.get_path(path) {
            fill_slot(context, slot, &field, notes)?;
        }
    }
    if let (Some(total), Some(failures)) = (context.num_prompts, context.failed) {
        context.completed = total.checked_sub(failures);
    }
    let measured = [
        (
            "input length",
            "input_length",
            &mut context.input_len_tokens,
        ),
        (
            "output length",
            "output_length",
            &mut context.output_len_tokens,
        ),
    ];
    for (what, key, length) in measured {
        if let Some(mean) = aggregate.get_path(&["requests", key, "mean"]) {
            reconcile_length(what, length, mean.number()?, mean.path(), notes);
        }
    }
    Ok(())
}

/// `stage 3: 10 req/s`, `concurrency 64`, …
fn run_label(context: &Context) -> String {
    let load = load_label(context);
    match context.extra.get("stage") {
        Some(stage) => format!("stage {stage}: {load}"),
        None => load,
    }
}

/// The llm-d report `report_yaml` (YAML or JSON) with `results.observability` set to
/// `observability` (`results` is created when absent; nothing else changes). The output is
/// YAML holding the same data: comments are not kept, mapping keys come out in sorted order,
/// and strings that look like numbers or booleans are quoted.
pub fn llmd_with_observability(
    report_yaml: &str,
    observability: &Value,
) -> Result<String, BenchError> {
    let mut report = parse_yaml(report_yaml).map_err(|error| BenchError::NotYaml {
        file: REPORT.to_string(),
        message: error
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
    })?;
    if !is_llmd_report(&report) {
        return Err(not_a_report(describe_value(&report)));
    }
    let Value::Object(members) = &mut report else {
        return Err(not_a_report(describe_value(&report)));
    };
    let results = members
        .entry("results")
        .or_insert_with(|| Value::Object(Map::new()));
    if results.is_null() {
        *results = Value::Object(Map::new());
    }
    let Some(results) = results.as_object_mut() else {
        return Err(BenchError::WrongType {
            file: REPORT.to_string(),
            field: ".results".to_string(),
            expected: "a mapping",
            found: describe_value(results),
        });
    };
    results.insert("observability".to_string(), observability.clone());
    to_yaml(&report).map_err(|error| BenchError::YamlOutput {
        file: REPORT.to_string(),
        message: error.to_string(),
    })
}

fn not_a_report(found: String) -> BenchError {
    BenchError::UnknownFormat {
        file: REPORT.to_string(),
        found: format!(
            "{found} without `version` 0.1/0.2/0.2.1 and a top-level `run` next to `scenario` or \
             `results`"
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::bench::{read_bench, sniff};
    use crate::time::TimeError;

    use super::*;

    const EXAMPLE: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/shared-fixtures/bench/llmd-benchmark-report-v0.2-example.yaml"
    ));

    /// 2025-11-05T00:00:00Z: 20397 days after 1970-01-01 × 86400 s.
    const NOV_5_2025_S: f64 = 1_762_300_800.0;

    fn read(text: &str) -> Result<BenchRun, BenchError> {
        let mut runs = read_bench("br.yaml", text, &BenchReadOptions::default())?;
        assert_eq!(runs.len(), 1);
        Ok(runs.remove(0))
    }

    /// A minimal report with the given `run.time` block (YAML flow mapping).
    fn report_with_time(time: &str) -> String {
        format!("version: '0.2'\nrun:\n  time: {time}\nresults: {{}}\n")
    }

    #[test]
    fn inconsistent_run_time_keeps_the_duration_ending_at_end() {
        let run = read(EXAMPLE).unwrap();
        let window = run.window.as_ref().unwrap();
        // end 18:17:03Z = 65_823 s into the day; start 18:00:42Z = 64_842 s: 981 s apart, but
        // duration PT49.97206788184121S → [end − 49.972…, end].
        assert_eq!(window.end_s, NOV_5_2025_S + 65_823.0);
        assert!((window.start_s - (NOV_5_2025_S + 65_823.0 - 49.972_067_881_841_21)).abs() < 1e-6);
        assert_eq!(run.duration_s, Some(49.97206788184121));
        assert_eq!(window.confidence, WindowConfidence::Derived);
        assert_eq!(window.source, "br.yaml: .run.time.end - .run.time.duration");
        assert!(run.notes.iter().any(|note| note.starts_with(
            ".run.time.start .. .run.time.end spans 981.000 s but .run.time.duration says 49.972 s"
        )));
    }

    #[test]
    fn example_context_has_tp_and_the_accelerator() {
        let run = read(EXAMPLE).unwrap();
        let context = &run.context;
        assert_eq!(context.bench_tool.as_deref(), Some("inference-perf"));
        assert_eq!(context.bench_tool_version.as_deref(), Some("0.3.0"));
        assert_eq!(context.model.as_deref(), Some("Qwen/Qwen3-0.6B"));
        assert_eq!(context.hardware.as_deref(), Some("NVIDIA-H100-80GB-HBM3"));
        assert_eq!(context.tensor_parallel, Some(8));
        assert_eq!(context.data_parallel, Some(1));
        assert_eq!(context.expected_gpus(), Some(8));
        assert_eq!(context.engine.as_deref(), Some("llm-d"));
        assert_eq!(
            context.image.as_deref(),
            Some("ghcr.io/llm-d/llm-d-cuda:0.3.1")
        );
        assert_eq!(context.input_len_tokens, Some(2148.0));
        assert_eq!(context.output_len_tokens, Some(1000.0));
        assert_eq!(context.request_rate, Some(RequestRate::PerSecond(10.0)));
        // `concurrency: .inf` is no limit.
        assert_eq!(context.concurrency, None);
        // requests.total 500, failures 0.
        assert_eq!(
            (context.num_prompts, context.completed, context.failed),
            (Some(500), Some(500), Some(0))
        );
        assert_eq!(
            context.extra.get("engine.replicas").map(String::as_str),
            Some("2")
        );
        assert_eq!(run.label, "stage 3: 10 req/s");
        assert!(
            run.notes
                .iter()
                .any(|note| note.starts_with("2 replicas of this engine"))
        );
    }

    #[test]
    fn consistent_and_partial_run_times() {
        // start 18:00:00Z, end 18:00:50Z, duration 50 s: consistent, start .. end.
        let consistent = report_with_time(
            "{start: '2025-11-05T18:00:00Z', end: '2025-11-05T18:00:50Z', duration: PT50S}",
        );
        let window = read(&consistent).unwrap().window.unwrap();
        assert_eq!(
            (window.start_s, window.end_s),
            (NOV_5_2025_S + 64_800.0, NOV_5_2025_S + 64_850.0)
        );
        assert_eq!(window.source, "br.yaml: .run.time.start .. .run.time.end");
        // Only end and duration (PT1M2.5S = 62.5 s).
        let end_only = report_with_time("{end: '2025-11-05T18:00:50Z', duration: PT1M2.5S}");
        let window = read(&end_only).unwrap().window.unwrap();
        assert_eq!(window.start_s, NOV_5_2025_S + 64_850.0 - 62.5);
        // Only start and duration.
        let start_only = report_with_time("{start: '2025-11-05T18:00:00Z', duration: PT10S}");
        let window = read(&start_only).unwrap().window.unwrap();
        assert_eq!(window.end_s, NOV_5_2025_S + 64_810.0);
    }

    #[test]
    fn missing_reversed_and_1970_run_times_are_refused() {
        let missing = "version: '0.2'\nrun: {uid: x}\nresults: {}\n";
        assert_eq!(
            read(missing).unwrap_err(),
            BenchError::MissingField {
                file: "br.yaml".into(),
                field: ".run.time.start".into(),
                also_accepted: vec![".run.time.end".into()],
            }
        );
        let end_without_duration = report_with_time("{end: '2025-11-05T18:00:50Z'}");
        assert!(matches!(
            read(&end_without_duration),
            Err(BenchError::MissingField { .. })
        ));
        let reversed =
            report_with_time("{start: '2025-11-05T18:00:50Z', end: '2025-11-05T18:00:00Z'}");
        assert!(matches!(
            read(&reversed),
            Err(BenchError::EndBeforeStart { .. })
        ));
        let epoch_1970 =
            report_with_time("{start: '1970-01-01T00:00:01Z', end: '1970-01-01T00:00:51Z'}");
        assert!(matches!(
            read(&epoch_1970),
            Err(BenchError::BadTime {
                problem: TimeError::NotAnEpoch(_),
                ..
            })
        ));
        let bad_duration = report_with_time("{end: '2025-11-05T18:00:50Z', duration: 50 s}");
        assert!(matches!(
            read(&bad_duration),
            Err(BenchError::WrongType { field, .. }) if field == ".run.time.duration"
        ));
    }

    #[test]
    fn iso_durations() {
        assert_eq!(
            parse_iso_duration_s("PT49.97206788184121S"),
            Some(49.97206788184121)
        );
        assert_eq!(parse_iso_duration_s("PT60.500S"), Some(60.5));
        // 1 h 2 min 3.5 s = 3600 + 120 + 3.5.
        assert_eq!(parse_iso_duration_s("PT1H2M3.5S"), Some(3723.5));
        // 1 day 1 s.
        assert_eq!(parse_iso_duration_s("P1DT1S"), Some(86_401.0));
        for bad in [
            "PT", "P", "49.9S", "PT-1S", "PT1S2M", "PT1e3S", "PTinfS", "P1W",
        ] {
            assert_eq!(parse_iso_duration_s(bad), None, "{bad}");
        }
    }

    #[test]
    fn json_reports_and_version_signatures() {
        let json_report = json!({"version": "0.2", "run": {"time": {
            "start": "2025-11-05T18:00:00Z", "end": "2025-11-05T18:00:50Z"}}, "scenario": {}});
        assert_eq!(
            sniff(&json_report.to_string()),
            Some(BenchFormat::LlmdBenchmarkReport)
        );
        assert!(is_llmd_report(
            &json!({"version": 0.2, "run": {}, "results": {}})
        ));
        assert!(!is_llmd_report(
            &json!({"version": "0.3", "run": {}, "results": {}})
        ));
        assert!(!is_llmd_report(&json!({"version": "0.2", "run": {}})));
    }

    #[test]
    fn observability_is_written_into_results_and_nothing_else_changes() {
        let observability = json!({"components": [{"component_label": "dcgm-sol",
            "aggregate": {"hbm_sol": {"units": "percent", "mean": 41.5}}}]});
        let written = llmd_with_observability(EXAMPLE, &observability).unwrap();
        let before = parse_yaml(EXAMPLE).unwrap();
        let after = parse_yaml(&written).unwrap();
        assert_eq!(after["results"]["observability"], observability);
        // Every other key keeps its data, `.inf` included.
        assert_eq!(after["scenario"], before["scenario"]);
        assert_eq!(after["run"], before["run"]);
        assert_eq!(
            after["results"]["request_performance"],
            before["results"]["request_performance"]
        );
        assert_eq!(
            after["scenario"]["load"]["standardized"]["concurrency"],
            ".inf"
        );
        assert_ne!(before["results"]["observability"], observability);
        // The report still reads as one.
        assert!(read(&written).is_ok());
    }

    #[test]
    fn observability_creates_results_and_refuses_what_is_no_report() {
        let observability = json!({"components": []});
        let no_results = "version: '0.2'\nrun: {uid: x}\nscenario: {}\n";
        let written = llmd_with_observability(no_results, &observability).unwrap();
        assert_eq!(
            parse_yaml(&written).unwrap()["results"],
            json!({"observability": {"components": []}})
        );
        let scalar_results = "version: '0.2'\nrun: {uid: x}\nscenario: {}\nresults: 5\n";
        assert_eq!(
            llmd_with_observability(scalar_results, &observability).unwrap_err(),
            BenchError::WrongType {
                file: REPORT.into(),
                field: ".results".into(),
                expected: "a mapping",
                found: "the number 5".into(),
            }
        );
        assert!(matches!(
            llmd_with_observability("version: '0.2'\nruns: {}\n", &observability),
            Err(BenchError::UnknownFormat { .. })
        ));
        assert!(matches!(
            llmd_with_observability("run: [1, 2\nversion: x", &observability),
            Err(BenchError::NotYaml { .. })
        ));
    }
}
