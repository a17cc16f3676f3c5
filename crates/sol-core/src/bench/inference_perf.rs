//! kubernetes-sigs/inference-perf report directories (reference/bench-formats.md §3.3). The
//! lifecycle reports (`stage_<N>_lifecycle_metrics.json`, `summary_lifecycle_metrics.json`) hold
//! the load and the results but no wall-clock time: request times are `perf_counter` readings.
//! The stage's epoch bounds reach a file only in the llm-d partial report newer versions write
//! per stage (`inference-perf.partial.stage_<N>.yaml`, `run.time`). `config.yaml` adds the
//! claimed model and the configured load.

use serde_json::Value;

use crate::context::Context;
use crate::time::MIN_PLAUSIBLE_EPOCH_S;
use crate::window::{Window, WindowConfidence};

use super::context_keys::{
    ContextSlot, fill_slot, fill_total_from_mean, load_label, reconcile_length,
};
use super::json_fields::{Field, check_span};
use super::local_time::read_wall_clock;
use super::sniff::Documents;
use super::{BenchError, BenchFormat, BenchReadOptions, BenchRun, llmd};

/// What inference-perf's llm-d partial reports start their `run.uid` with (then the stage).
const PARTIAL_UID_PREFIX: &str = "inference-perf-stage-";

/// The stage number in a report file name (`stage_3_lifecycle_metrics.json`).
const STAGE_MARKER: &str = "stage_";

/// Lifecycle fields read into typed context fields.
const LIFECYCLE_FIELDS: [(&[&str], ContextSlot); 9] = [
    (
        &["load_summary", "requested_rate"],
        ContextSlot::RequestRate,
    ),
    (&["load_summary", "concurrency"], ContextSlot::Concurrency),
    (&["load_summary", "count"], ContextSlot::NumPrompts),
    (&["successes", "count"], ContextSlot::Completed),
    (&["failures", "count"], ContextSlot::Failed),
    (
        &["successes", "prompt_tokens", "total"],
        ContextSlot::TotalInputTokens,
    ),
    (
        &["successes", "output_tokens", "total"],
        ContextSlot::TotalOutputTokens,
    ),
    (
        &["successes", "throughput", "output_tokens_per_sec"],
        ContextSlot::OutputTokensPerS,
    ),
    (
        &["successes", "throughput", "requests_per_sec"],
        ContextSlot::RequestsPerS,
    ),
];

/// `config.yaml` fields read into typed context fields.
const CONFIG_FIELDS: [(&[&str], ContextSlot); 6] = [
    (&["server", "model_name"], ContextSlot::Model),
    (&["server", "type"], ContextSlot::Engine),
    (&["data", "type"], ContextSlot::Dataset),
    (
        &["data", "input_distribution", "mean"],
        ContextSlot::InputLen,
    ),
    (
        &["data", "output_distribution", "mean"],
        ContextSlot::OutputLen,
    ),
    (
        &["data", "shared_prefix", "output_len"],
        ContextSlot::OutputLen,
    ),
];

/// `config.yaml` settings kept in `extra` as written.
const CONFIG_EXTRA: [(&[&str], &str); 4] = [
    (&["api", "type"], "api.type"),
    (&["load", "type"], "load.type"),
    (&["server", "ignore_eos"], "server.ignore_eos"),
    (
        &["load", "sweep", "stage_duration"],
        "configured_stage_duration_s",
    ),
];

/// Signature of a lifecycle report: `load_summary.count` next to `successes` (the Prometheus
/// stage report has the same keys with an empty `load_summary`).
pub(crate) fn is_lifecycle_report(value: &Value) -> bool {
    value.pointer("/load_summary/count").is_some()
        && value.get("successes").is_some_and(Value::is_object)
}

/// A stage report (not the all-stage summary): only stages record the requested rate.
fn is_stage_report(value: &Value) -> bool {
    value.pointer("/load_summary/requested_rate").is_some()
}

fn is_prometheus_report(value: &Value) -> bool {
    value.get("load_summary").is_some_and(Value::is_object)
        && !is_lifecycle_report(value)
        && value.get("successes").is_some_and(Value::is_object)
}

fn is_config(value: &Value) -> bool {
    let is_object = |key| value.get(key).is_some_and(Value::is_object);
    is_object("load") && (is_object("server") || is_object("api"))
}

fn is_per_request_record(value: &Value) -> bool {
    value.get("start_time").is_some()
        && value.get("end_time").is_some()
        && ["request", "info", "error"]
            .iter()
            .any(|key| value.get(key).is_some())
}

fn is_stage_partial(value: &Value) -> bool {
    llmd::is_llmd_report(value)
        && value
            .pointer("/run/uid")
            .and_then(Value::as_str)
            .is_some_and(|uid| uid.starts_with(PARTIAL_UID_PREFIX))
}

/// What an inference-perf file that yields no run on its own is, for an unknown-format error.
pub(crate) fn describe_piece(value: &Value) -> Option<&'static str> {
    if is_config(value) {
        Some(
            "an inference-perf config.yaml: read it together with the report's \
             stage_<N>_lifecycle_metrics.json files",
        )
    } else if is_prometheus_report(value) {
        Some(
            "an inference-perf Prometheus stage report (engine metrics, no load summary): read \
             the lifecycle report of the same stage",
        )
    } else if is_per_request_record(value) {
        Some(
            "inference-perf per-request records (perf_counter times, no stage): read the stage \
             lifecycle reports",
        )
    } else {
        None
    }
}

/// The stage number in a file name (`stage_3_…`, `…partial.stage_3.yaml`).
fn stage_in_file_name(file_name: &str) -> Option<usize> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let after = &base[base.find(STAGE_MARKER)? + STAGE_MARKER.len()..];
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The stage of a partial report: from its `run.uid` (`inference-perf-stage-3-1a2b…`), else
/// its file name.
fn partial_stage(partial: &Field) -> Option<usize> {
    partial
        .value()
        .pointer("/run/uid")
        .and_then(Value::as_str)
        .and_then(|uid| uid.strip_prefix(PARTIAL_UID_PREFIX))
        .and_then(|rest| rest.split('-').next())
        .and_then(|stage| stage.parse().ok())
        .or_else(|| stage_in_file_name(partial.file()))
}

/// Reads one lifecycle report on its own: no window, the measured duration kept.
pub(crate) fn read_lifecycle_file(root: &Field) -> Result<BenchRun, BenchError> {
    let stage = stage_in_file_name(root.file()).filter(|_| is_stage_report(root.value()));
    let mut run = read_lifecycle(root, stage, Context::default(), Vec::new())?;
    run.notes.push(format!(
        "inference-perf writes no wall-clock time in its lifecycle reports: give --start/--end, \
         read the report directory together (inference-perf.partial.stage_<N>.yaml holds the \
         stage's epoch bounds), or take the window from {}'s modification time",
        root.file()
    ));
    Ok(run)
}

/// One lifecycle report as a run without a window; `stage` numbers it. `configured` holds what
/// `config.yaml` says (configured lengths come before the measured means), with its `notes`.
fn read_lifecycle(
    root: &Field,
    stage: Option<usize>,
    configured: Context,
    mut notes: Vec<String>,
) -> Result<BenchRun, BenchError> {
    let index = stage.unwrap_or(0);
    let mut context = Context {
        bench_tool: Some("inference-perf".to_string()),
        bench_index: Some(index),
        ..configured
    };
    for (path, slot) in LIFECYCLE_FIELDS {
        if let Some(field) = root.get_path(path) {
            fill_slot(&mut context, slot, &field, &mut notes)?;
        }
    }
    if let Some(achieved) = root.get_path(&["load_summary", "achieved_rate"]) {
        context
            .extra
            .insert("achieved_rate".to_string(), achieved.number()?.to_string());
    }
    read_lengths(root, &mut context, &mut notes)?;
    let duration_s = read_duration(root, &mut notes)?;
    let label = match stage {
        Some(stage) => format!("stage {stage}: {}", load_label(&context)),
        None => format!("all stages: {}", load_label(&context)),
    };
    Ok(BenchRun {
        format: BenchFormat::InferencePerf,
        index,
        label,
        window: None,
        duration_s,
        context,
        notes,
    })
}

/// Newer reports give the token totals; older ones only the per-request means.
fn read_lengths(
    root: &Field,
    context: &mut Context,
    notes: &mut Vec<String>,
) -> Result<(), BenchError> {
    let completed = context.completed.unwrap_or(0);
    let completed_path = root.key_path("successes.count");
    let measured = [
        (
            "input length",
            ["prompt_tokens", "prompt_len"],
            &mut context.total_input_tokens,
            &mut context.input_len_tokens,
        ),
        (
            "output length",
            ["output_tokens", "output_len"],
            &mut context.total_output_tokens,
            &mut context.output_len_tokens,
        ),
    ];
    for (what, keys, total, length) in measured {
        let Some(mean) = keys
            .iter()
            .find_map(|key| root.get_path(&["successes", key, "mean"]))
        else {
            continue;
        };
        fill_total_from_mean(total, &mean, completed, &completed_path, notes)?;
        reconcile_length(what, length, mean.number()?, mean.path(), notes);
    }
    Ok(())
}

/// `benchmark_time_seconds` (newer: first request start to last request end); else
/// `load_summary.send_duration` (first to last dispatch, without the drain of the last requests),
/// which older all-stage summaries lack.
fn read_duration(root: &Field, notes: &mut Vec<String>) -> Result<Option<f64>, BenchError> {
    if let Some(benchmark_time) = root.get("benchmark_time_seconds") {
        return benchmark_time.positive_duration_s().map(Some);
    }
    let Some(send_duration) = root.get_path(&["load_summary", "send_duration"]) else {
        notes.push(format!(
            "{} records no duration (neither benchmark_time_seconds nor \
             load_summary.send_duration)",
            root.file()
        ));
        return Ok(None);
    };
    notes.push(format!(
        "duration = {}: first to last request dispatch, without the drain of the requests \
         still in flight",
        send_duration.path()
    ));
    send_duration.positive_duration_s().map(Some)
}

/// The inference-perf files among a directory's files, gathered to be read together.
#[derive(Debug, Default)]
pub(crate) struct ReportDirectory<'a> {
    lifecycles: Vec<Field<'a>>,
    configs: Vec<Field<'a>>,
    partials: Vec<Field<'a>>,
    /// Files recognised but not used, with why.
    unused: Vec<String>,
    first_piece: Option<&'a str>,
}

impl<'a> ReportDirectory<'a> {
    /// Keeps `documents` if they are an inference-perf report file; says whether they were.
    pub(crate) fn take(&mut self, file: &'a str, documents: &'a Documents) -> bool {
        let taken = match documents {
            Documents::One(value) | Documents::Yaml(value) => {
                let field = Field::root(file, value);
                if is_lifecycle_report(value) {
                    self.lifecycles.push(field);
                } else if is_stage_partial(value) {
                    self.partials.push(field);
                } else if is_config(value) {
                    self.configs.push(field);
                } else if is_prometheus_report(value) {
                    self.unused.push(format!(
                        "{file} not read: Prometheus engine metrics, not the load"
                    ));
                } else {
                    return false;
                }
                true
            }
            Documents::Several(values) => match values.first() {
                Some(first) if is_per_request_record(first) => {
                    self.unused.push(per_request_note(file, first));
                    true
                }
                _ => false,
            },
        };
        if taken {
            self.first_piece.get_or_insert(file);
        }
        taken
    }

    /// The first inference-perf file taken, to name in an error when none gives a run.
    pub(crate) fn first_piece(&self) -> Option<&'a str> {
        self.first_piece
    }

    /// One run per stage lifecycle report (the all-stage summary only when no stage report is
    /// there), windowed by the stage's partial report when present. Without lifecycle reports
    /// the partial reports are read as llm-d reports.
    pub(crate) fn read_runs(
        &self,
        options: &BenchReadOptions,
    ) -> Result<Vec<BenchRun>, BenchError> {
        if self.lifecycles.is_empty() {
            let mut runs = Vec::new();
            for partial in &self.partials {
                let mut run = llmd::read_report(partial, options)?;
                run.context.bench_file = Some(partial.file().to_string());
                runs.push(run);
            }
            return Ok(self.with_unused_notes(runs));
        }
        let (config_context, config_notes) = self.read_config()?;
        let has_stages = self
            .lifecycles
            .iter()
            .any(|lifecycle| is_stage_report(lifecycle.value()));
        let mut runs = Vec::new();
        let mut skipped = Vec::new();
        for lifecycle in &self.lifecycles {
            let is_stage = is_stage_report(lifecycle.value());
            if has_stages && !is_stage {
                skipped.push(format!(
                    "{} not read as a run: it sums all stages",
                    lifecycle.file()
                ));
                continue;
            }
            let stage = if is_stage {
                stage_in_file_name(lifecycle.file())
            } else {
                None
            };
            let mut configured = config_context.clone();
            let mut notes = config_notes.clone();
            self.read_stage_config(stage, &mut configured, &mut notes)?;
            let mut run = read_lifecycle(lifecycle, stage, configured, notes)?;
            match self.partial_of(stage) {
                Some(partial) => run.window = Some(partial_window(partial, &mut run.notes)?),
                None => run.notes.push(format!(
                    "inference-perf writes no wall-clock time in {} (request times are \
                     perf_counter readings) and no inference-perf.partial.stage_<N>.yaml gives \
                     this stage's epoch bounds: give --start/--end, or take the window from the \
                     file's modification time",
                    lifecycle.file()
                )),
            }
            run.context.bench_file = Some(lifecycle.file().to_string());
            runs.push(run);
        }
        runs.sort_by_key(|run| run.index);
        for run in &mut runs {
            run.notes.extend(skipped.iter().cloned());
        }
        Ok(self.with_unused_notes(runs))
    }

    fn with_unused_notes(&self, mut runs: Vec<BenchRun>) -> Vec<BenchRun> {
        for run in &mut runs {
            run.notes.extend(self.unused.iter().cloned());
        }
        runs
    }

    fn partial_of(&self, stage: Option<usize>) -> Option<&Field<'a>> {
        let stage = stage?;
        self.partials
            .iter()
            .find(|partial| partial_stage(partial) == Some(stage))
    }

    /// The context every stage shares, from the first `config.yaml`.
    fn read_config(&self) -> Result<(Context, Vec<String>), BenchError> {
        let mut context = Context::default();
        let mut notes = Vec::new();
        let Some(config) = self.configs.first() else {
            return Ok((context, notes));
        };
        if self.configs.len() > 1 {
            notes.push(format!(
                "{} config files: the context comes from {}",
                self.configs.len(),
                config.file()
            ));
        }
        for (path, slot) in CONFIG_FIELDS {
            if let Some(field) = config.get_path(path) {
                fill_slot(&mut context, slot, &field, &mut notes)?;
            }
        }
        for (path, key) in CONFIG_EXTRA {
            if let Some(text) = config.get_path(path).and_then(|field| field.scalar_text()) {
                context.extra.insert(key.to_string(), text);
            }
        }
        read_shared_prefix_length(config, &mut context, &mut notes)?;
        if let Some(model) = config.get_path(&["server", "model_name"]) {
            notes.push(format!(
                "model from {}: {} is the name the client sent, which the server need not serve \
                 under that name",
                config.file(),
                model.path()
            ));
        }
        if let Some(sweep) = config.get_path(&["load", "sweep"]) {
            let setting = |key| {
                sweep
                    .get(key)
                    .and_then(|field| field.scalar_text())
                    .unwrap_or_else(|| "?".to_string())
            };
            notes.push(format!(
                "stages generated by a {} sweep of {} stages, {} s each: each stage's rate is \
                 its lifecycle report's load_summary.requested_rate",
                setting("type"),
                setting("num_stages"),
                setting("stage_duration")
            ));
        }
        Ok((context, notes))
    }

    /// The configured load of stage `stage` (`load.stages[stage]`).
    fn read_stage_config(
        &self,
        stage: Option<usize>,
        context: &mut Context,
        notes: &mut Vec<String>,
    ) -> Result<(), BenchError> {
        let Some(stage_config) = stage.and_then(|stage| {
            self.configs
                .first()
                .and_then(|config| config.get_path(&["load", "stages"]))
                .and_then(|stages| stages.at(stage))
        }) else {
            return Ok(());
        };
        let settings = [
            ("rate", ContextSlot::RequestRate),
            ("concurrency_level", ContextSlot::Concurrency),
            ("num_requests", ContextSlot::NumPrompts),
        ];
        for (key, slot) in settings {
            if let Some(field) = stage_config.get(key) {
                fill_slot(context, slot, &field, notes)?;
            }
        }
        if let Some(duration) = stage_config.get("duration") {
            context.extra.insert(
                "configured_stage_duration_s".to_string(),
                duration.positive_duration_s()?.to_string(),
            );
        }
        Ok(())
    }
}

/// A shared-prefix prompt is the system prompt plus the question.
fn read_shared_prefix_length(
    config: &Field,
    context: &mut Context,
    notes: &mut Vec<String>,
) -> Result<(), BenchError> {
    let part = |key| config.get_path(&["data", "shared_prefix", key]);
    let (Some(system_prompt), Some(question)) = (part("system_prompt_len"), part("question_len"))
    else {
        return Ok(());
    };
    if context.input_len_tokens.is_none() {
        let (system_prompt_tokens, question_tokens) = (system_prompt.count()?, question.count()?);
        let tokens = system_prompt_tokens + question_tokens;
        context.input_len_tokens = Some(tokens as f64);
        notes.push(format!(
            "configured input length {tokens} = {} + {} = {system_prompt_tokens} + \
             {question_tokens}",
            system_prompt.path(),
            question.path()
        ));
    }
    Ok(())
}

/// The stage's epoch bounds from inference-perf's partial report (`time.time()` when the stage
/// started and ended).
fn partial_window(partial: &Field, notes: &mut Vec<String>) -> Result<Window, BenchError> {
    let time = partial
        .get_path(&["run", "time"])
        .ok_or_else(|| BenchError::MissingField {
            file: partial.file().to_string(),
            field: ".run.time.start".to_string(),
            also_accepted: Vec::new(),
        })?;
    let start = time.require("start")?;
    let end = time.require("end")?;
    // The partial writes UTC with an offset; a naive time would be read as UTC and noted.
    let start_clock = read_wall_clock(&start, None)?;
    let end_clock = read_wall_clock(&end, None)?;
    check_span(&start, start_clock.epoch_s, &end, end_clock.epoch_s)?;
    notes.extend(start_clock.notes);
    notes.push(format!(
        "window = the stage's wall-clock bounds from {}",
        partial.file()
    ));
    Ok(Window {
        start_s: start_clock.epoch_s,
        end_s: end_clock.epoch_s,
        source: format!("{}: {} .. {}", partial.file(), start.path(), end.path()),
        confidence: WindowConfidence::Exact,
        timezone_assumption: start_clock.timezone_assumption,
        resolution_s: None,
        full_span_s: None,
    })
}

/// Why the per-request file gives no window: its times are monotonic (and carry no stage).
fn per_request_note(file: &str, first: &Value) -> String {
    let start = first.get("start_time").and_then(Value::as_f64);
    match start {
        Some(start) if start < MIN_PLAUSIBLE_EPOCH_S => format!(
            "{file} not read: its start_time/end_time are perf_counter readings (the first is \
             {start}), monotonic, not wall clock, and name no stage"
        ),
        _ => format!("{file} not read: per-request times name no stage"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::bench::{read_bench, read_bench_files};
    use crate::context::RequestRate;
    use crate::time::TimeError;

    use super::*;

    const LIFECYCLE: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/shared-fixtures/bench/inference-perf-stage_0_lifecycle_metrics.json"
    ));
    const CONFIG: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/shared-fixtures/bench/inference-perf-demo-config.yaml"
    ));

    fn options() -> BenchReadOptions {
        BenchReadOptions::default()
    }

    fn lifecycle_with(edit: impl FnOnce(&mut Value)) -> String {
        let mut lifecycle: Value = serde_json::from_str(LIFECYCLE).unwrap();
        edit(&mut lifecycle);
        lifecycle.to_string()
    }

    /// A partial report for `stage` with the given `run.time` bounds.
    fn partial(stage: usize, start: &str, end: &str) -> String {
        format!(
            "version: '0.2'\nrun:\n  uid: inference-perf-stage-{stage}-0a1b2c3d\n  time:\n    \
             start: '{start}'\n    end: '{end}'\n    duration: PT60.000S\nresults: {{}}\n"
        )
    }

    #[test]
    fn a_lifecycle_report_alone_has_no_window_but_its_duration() {
        let runs = read_bench("stage_0_lifecycle_metrics.json", LIFECYCLE, &options()).unwrap();
        let run = &runs[0];
        assert_eq!(run.window, None);
        // load_summary.send_duration as written.
        assert_eq!(run.duration_s, Some(58.51001774193719));
        assert_eq!(run.index, 0);
        assert_eq!(run.label, "stage 0: 1 req/s");
        let context = &run.context;
        assert_eq!(context.bench_tool.as_deref(), Some("inference-perf"));
        assert_eq!(context.request_rate, Some(RequestRate::PerSecond(1.0)));
        assert_eq!(context.num_prompts, Some(60));
        assert_eq!(context.completed, Some(60));
        assert_eq!(context.failed, Some(0));
        // prompt_len.mean 204.1 × 60 successes = 12246; output_len.mean 63.15 × 60 = 3789.
        assert_eq!(context.total_input_tokens, Some(12_246));
        assert_eq!(context.total_output_tokens, Some(3_789));
        assert_eq!(context.input_len_tokens, Some(204.1));
        assert_eq!(context.output_tokens_per_s, Some(64.23350089997027));
        assert!(
            run.notes
                .iter()
                .any(|note| note.contains("no wall-clock time"))
        );
    }

    #[test]
    fn the_stage_number_comes_from_the_file_name() {
        let runs = read_bench(
            "reports/stage_3_lifecycle_metrics.json",
            LIFECYCLE,
            &options(),
        );
        assert_eq!(runs.unwrap()[0].index, 3);
        assert_eq!(
            stage_in_file_name("inference-perf.partial.stage_12.yaml"),
            Some(12)
        );
        assert_eq!(stage_in_file_name("summary_lifecycle_metrics.json"), None);
    }

    #[test]
    fn newer_reports_give_totals_and_the_benchmark_time() {
        let text = lifecycle_with(|lifecycle| {
            lifecycle["benchmark_time_seconds"] = json!(59.25);
            lifecycle["successes"]["prompt_tokens"] = json!({"total": 12_300.0, "mean": 205.0});
            lifecycle["load_summary"]["concurrency"] = json!(8);
        });
        let run = read_bench("stage_0_lifecycle_metrics.json", &text, &options())
            .unwrap()
            .remove(0);
        assert_eq!(run.duration_s, Some(59.25));
        assert_eq!(run.context.total_input_tokens, Some(12_300));
        assert_eq!(run.context.concurrency, Some(8));
        assert_eq!(run.label, "stage 0: 1 req/s, concurrency 8");
    }

    #[test]
    fn the_config_adds_model_engine_and_configured_lengths() {
        let files = [
            ("config.yaml", CONFIG),
            ("stage_0_lifecycle_metrics.json", LIFECYCLE),
        ];
        let run = read_bench_files(&files, &options()).unwrap().remove(0);
        let context = &run.context;
        assert_eq!(
            context.model.as_deref(),
            Some("meta-llama/Meta-Llama-3-8B-Instruct")
        );
        assert_eq!(context.engine.as_deref(), Some("vllm"));
        assert_eq!(context.dataset.as_deref(), Some("shared_prefix"));
        // system_prompt_len 128 + question_len 64 = 192 input tokens; output_len 64.
        assert_eq!(context.input_len_tokens, Some(192.0));
        assert_eq!(context.output_len_tokens, Some(64.0));
        assert_eq!(
            context
                .extra
                .get("configured_stage_duration_s")
                .map(String::as_str),
            Some("60")
        );
        assert!(
            run.notes
                .iter()
                .any(|note| note.contains("linear sweep of 7 stages"))
        );
        assert!(
            run.notes
                .iter()
                .any(|note| note.contains("the name the client sent"))
        );
    }

    #[test]
    fn partial_reports_window_their_stage_and_the_summary_is_skipped() {
        let stage_3 = lifecycle_with(|lifecycle| {
            lifecycle["load_summary"]["requested_rate"] = json!(5.0);
        });
        let summary = lifecycle_with(|lifecycle| {
            lifecycle["load_summary"] = json!({"count": 120});
        });
        let partial_3 = partial(3, "2025-11-05T18:03:00+00:00", "2025-11-05T18:04:00+00:00");
        let files = [
            ("stage_0_lifecycle_metrics.json", LIFECYCLE),
            ("stage_3_lifecycle_metrics.json", stage_3.as_str()),
            ("summary_lifecycle_metrics.json", summary.as_str()),
            ("inference-perf.partial.stage_3.yaml", partial_3.as_str()),
        ];
        let runs = read_bench_files(&files, &options()).unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!((runs[0].index, runs[1].index), (0, 3));
        assert_eq!(runs[0].window, None);
        let window = runs[1].window.as_ref().unwrap();
        // 2025-11-05T00:00Z = 1_762_300_800; 18:03:00 adds 64_980 s, 18:04:00 adds 65_040 s.
        assert_eq!(
            (window.start_s, window.end_s),
            (1_762_365_780.0, 1_762_365_840.0)
        );
        assert_eq!(window.confidence, WindowConfidence::Exact);
        assert_eq!(runs[1].label, "stage 3: 5 req/s");
        assert!(
            runs[0].notes.iter().any(|note| note
                == "summary_lifecycle_metrics.json not read as a run: it sums all stages")
        );
        // Without stage reports, the summary is the run.
        let only_summary = [
            ("summary_lifecycle_metrics.json", summary.as_str()),
            ("config.yaml", CONFIG),
        ];
        let runs = read_bench_files(&only_summary, &options()).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].label, "all stages: load not recorded");
    }

    #[test]
    fn partial_reports_without_lifecycles_read_as_llmd_reports() {
        let partial_0 = partial(0, "2025-11-05T18:00:00Z", "2025-11-05T18:01:00Z");
        let files = [
            ("inference-perf.partial.stage_0.yaml", partial_0.as_str()),
            ("config.yaml", CONFIG),
        ];
        let runs = read_bench_files(&files, &options()).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].format, BenchFormat::LlmdBenchmarkReport);
        // 18:00:00 and 18:01:00 on 2025-11-05: 1_762_300_800 + 64_800 and + 64_860.
        let window = runs[0].window.as_ref().unwrap();
        assert_eq!(
            (window.start_s, window.end_s),
            (1_762_365_600.0, 1_762_365_660.0)
        );
    }

    #[test]
    fn monotonic_per_request_times_are_noted_not_used() {
        let per_request =
            r#"[{"start_time": 5123.25, "end_time": 5123.75, "request": "x", "error": null}]"#;
        let files = [
            ("stage_0_lifecycle_metrics.json", LIFECYCLE),
            ("per_request_lifecycle_metrics.json", per_request),
        ];
        let run = read_bench_files(&files, &options()).unwrap().remove(0);
        assert_eq!(run.window, None);
        assert!(run.notes.iter().any(|note| note.starts_with(
            "per_request_lifecycle_metrics.json not read: its start_time/end_time \
                          are perf_counter readings (the first is 5123.25), monotonic"
        )));
        // On its own it is no bench result, and says what to read instead.
        let error = read_bench(
            "per_request_lifecycle_metrics.json",
            per_request,
            &options(),
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("read the stage lifecycle reports"),
            "{error}"
        );
    }

    #[test]
    fn malformed_stage_files_are_refused() {
        let no_duration = lifecycle_with(|lifecycle| {
            lifecycle["load_summary"]
                .as_object_mut()
                .unwrap()
                .remove("send_duration");
        });
        let run = read_bench("stage_0_lifecycle_metrics.json", &no_duration, &options())
            .unwrap()
            .remove(0);
        assert_eq!(run.duration_s, None);
        assert!(
            run.notes
                .iter()
                .any(|note| note.contains("records no duration"))
        );
        let negative = lifecycle_with(|lifecycle| {
            lifecycle["load_summary"]["send_duration"] = json!(-1.5);
        });
        assert!(matches!(
            read_bench("stage_0_lifecycle_metrics.json", &negative, &options()).unwrap_err(),
            BenchError::NonPositiveDuration { ref field, .. } if field == ".load_summary.send_duration"
        ));
        let no_time = "version: '0.2'\nrun:\n  uid: inference-perf-stage-0-0a1b2c3d\nresults: {}\n";
        let files = [
            ("stage_0_lifecycle_metrics.json", LIFECYCLE),
            ("inference-perf.partial.stage_0.yaml", no_time),
        ];
        assert!(matches!(
            read_bench_files(&files, &options()).unwrap_err(),
            BenchError::MissingField { ref field, .. } if field == ".run.time.start"
        ));
        let reversed = partial(0, "2025-11-05T18:01:00Z", "2025-11-05T18:00:00Z");
        let files = [
            ("stage_0_lifecycle_metrics.json", LIFECYCLE),
            ("inference-perf.partial.stage_0.yaml", reversed.as_str()),
        ];
        assert!(matches!(
            read_bench_files(&files, &options()).unwrap_err(),
            BenchError::EndBeforeStart { ref file, .. } if file == "inference-perf.partial.stage_0.yaml"
        ));
        // The 1970 dates of inference-perf PR #461 (run.time built from monotonic stamps).
        let epoch_1970 = partial(0, "1970-01-01T01:25:23Z", "1970-01-01T01:26:23Z");
        let files = [
            ("stage_0_lifecycle_metrics.json", LIFECYCLE),
            ("inference-perf.partial.stage_0.yaml", epoch_1970.as_str()),
        ];
        assert!(matches!(
            read_bench_files(&files, &options()).unwrap_err(),
            BenchError::BadTime { problem: TimeError::NotAnEpoch(_), ref field, .. }
                if field == ".run.time.start"
        ));
    }
}
