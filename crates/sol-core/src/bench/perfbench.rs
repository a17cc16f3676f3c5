//! The seed's bundle `inference_perfbench_v1.json`: one wall-clock anchor (`captured_at`) plus
//! the effective duration, and a loosely structured context spread over a few sections.

use jiff::tz::TimeZone;
use serde_json::Value;

use crate::context::Context;
use crate::window::{Window, WindowConfidence};

use super::context_keys::{CONTEXT_KEYS, fill_slot, slot_for_key};
use super::json_fields::Field;
use super::local_time::read_wall_clock;
use super::{BenchError, BenchFormat, BenchReadOptions, BenchRun};

/// The `schema_version` the seed writes; also the context's `bench_tool`.
const SCHEMA_VERSION: &str = "inference_perfbench_v1";

/// Sections holding context, in order of preference; the top level is read after them.
const CONTEXT_SECTIONS: [&str; 4] = ["deploy", "bench", "workload", "config"];

/// Where the window anchor may be, in order of preference.
const ANCHOR_PATHS: [&[&str]; 3] = [
    &["bench", "captured_at"],
    &["captured_at"],
    &["bench", UTC_ANCHOR_KEY],
];

/// The anchor key whose name says UTC: a naive value there is read as UTC whatever timezone the
/// caller passed.
const UTC_ANCHOR_KEY: &str = "captured_at_utc";

/// Where the effective duration may be, in order of preference.
const DURATION_PATHS: [&[&str]; 2] = [
    &["bench", "duration_effective_s"],
    &["duration_effective_s"],
];

/// Keys that make the window, not the context.
const WINDOW_KEYS: [&str; 3] = ["captured_at", "captured_at_utc", "duration_effective_s"];

/// Key of the serving-flag map copied into [`Context::serving_config`].
const SERVING_CONFIG_KEY: &str = "serving_config";

/// Signature: the schema version, or the window fields where the seed puts them.
pub(crate) fn is_perfbench_bundle(value: &Value) -> bool {
    let bench_has_window_key = value
        .get("bench")
        .is_some_and(|bench| WINDOW_KEYS.iter().any(|key| bench.get(key).is_some()));
    value.get("schema_version").and_then(Value::as_str) == Some(SCHEMA_VERSION)
        || bench_has_window_key
        || value.get("duration_effective_s").is_some()
}

/// Reads the bundle's single run.
pub(crate) fn read_bundle(
    root: &Field,
    options: &BenchReadOptions,
) -> Result<BenchRun, BenchError> {
    let mut notes = Vec::new();
    let (window, duration_s) = read_window(root, options, &mut notes)?;
    let context = read_context(root, &mut notes)?;
    let label = match root.get("cell_id") {
        Some(cell_id) => cell_id.text()?,
        None => SCHEMA_VERSION.to_string(),
    };
    Ok(BenchRun {
        format: BenchFormat::PerfbenchV1,
        index: 0,
        label,
        window: Some(window),
        duration_s: Some(duration_s),
        context,
        notes,
    })
}

fn read_window(
    root: &Field,
    options: &BenchReadOptions,
    notes: &mut Vec<String>,
) -> Result<(Window, f64), BenchError> {
    let anchor = first_present(root, &ANCHOR_PATHS)?;
    let duration = first_present(root, &DURATION_PATHS)?;
    let duration_s = duration.positive_duration_s()?;
    let (anchor_s, timezone_assumption) = read_anchor(&anchor, options, notes)?;
    let (start_s, end_s, source) = if options.captured_at_is_end {
        notes.push(format!(
            "{} taken as the window END (captured-at-is-end)",
            anchor.path()
        ));
        let source = format!("{} (end) - {}", anchor.path(), duration.path());
        (anchor_s - duration_s, anchor_s, source)
    } else {
        notes.push(format!(
            "{} taken as the window START (the default); bundles that wrote it at the end \
             need captured-at-is-end",
            anchor.path()
        ));
        let source = format!("{} (start) + {}", anchor.path(), duration.path());
        (anchor_s, anchor_s + duration_s, source)
    };
    let window = Window {
        start_s,
        end_s,
        source: format!("{}: {source}", root.file()),
        confidence: WindowConfidence::Derived,
        timezone_assumption,
        resolution_s: None,
        full_span_s: None,
    };
    Ok((window, duration_s))
}

/// The first of `paths` present in the bundle, or an error naming the preferred one.
fn first_present<'a>(root: &Field<'a>, paths: &[&[&str]]) -> Result<Field<'a>, BenchError> {
    paths
        .iter()
        .find_map(|path| root.get_path(path))
        .ok_or_else(|| {
            let mut dotted = paths.iter().map(|path| format!(".{}", path.join(".")));
            BenchError::MissingField {
                file: root.file().to_string(),
                field: dotted.next().unwrap_or_default(),
                also_accepted: dotted.collect(),
            }
        })
}

/// The anchor in epoch seconds: RFC 3339, epoch seconds (number or string), or a naive local
/// time read in the caller's timezone, or in UTC under `captured_at_utc` (then the assumption
/// is returned for the window).
fn read_anchor(
    anchor: &Field,
    options: &BenchReadOptions,
    notes: &mut Vec<String>,
) -> Result<(f64, Option<String>), BenchError> {
    let timezone = if anchor.path().ends_with(UTC_ANCHOR_KEY) {
        Some(&TimeZone::UTC)
    } else {
        options.timezone.as_ref()
    };
    let wall_clock = read_wall_clock(anchor, timezone)?;
    notes.extend(wall_clock.notes);
    Ok((wall_clock.epoch_s, wall_clock.timezone_assumption))
}

/// Context from every section under the common key names; other scalar keys go to `extra`
/// as `section.key` (top-level keys unprefixed).
fn read_context(root: &Field, notes: &mut Vec<String>) -> Result<Context, BenchError> {
    let mut sections = Vec::new();
    for name in CONTEXT_SECTIONS {
        if let Some(section) = root.get(name) {
            if !section.value().is_object() {
                return Err(section.wrong_type("an object"));
            }
            sections.push((Some(name), section));
        }
    }
    sections.push((None, root.clone()));

    let mut context = Context {
        bench_tool: Some(SCHEMA_VERSION.to_string()),
        ..Context::default()
    };
    // Key-major order, so a preferred key name beats an alias wherever each one sits.
    for (key, slot) in CONTEXT_KEYS {
        for (_, section) in &sections {
            if let Some(field) = section.get(key) {
                fill_slot(&mut context, *slot, &field, notes)?;
            }
        }
    }
    for (prefix, section) in &sections {
        for (key, member) in section.members()? {
            if key == SERVING_CONFIG_KEY {
                for (flag, value) in member.members()? {
                    let text = value
                        .scalar_text()
                        .unwrap_or_else(|| value.value().to_string());
                    context
                        .serving_config
                        .entry(flag.to_string())
                        .or_insert(text);
                }
                continue;
            }
            let is_section = prefix.is_none() && CONTEXT_SECTIONS.contains(&key);
            if is_section || WINDOW_KEYS.contains(&key) || slot_for_key(key).is_some() {
                continue;
            }
            if let Some(text) = member.scalar_text() {
                let name = match prefix {
                    Some(section) => format!("{section}.{key}"),
                    None => key.to_string(),
                };
                context.extra.insert(name, text);
            }
        }
    }
    Ok(context)
}

#[cfg(test)]
mod tests {
    use crate::bench::read_bench;
    use crate::context::RequestRate;
    use crate::time::TimeError;

    use super::*;

    /// The campaign example from the task brief, written inline.
    const BUNDLE: &str = r#"{ "schema_version": "inference_perfbench_v1", "cell_id": "c064",
      "deploy": { "model": "meta-llama/Llama-3.3-70B-Instruct", "hardware": "8x NVIDIA H200",
                  "hw_key": "h200_sxm", "engine": "vllm", "engine_version": "0.11.2",
                  "image": "vllm/vllm-openai:v0.11.2", "quant": "fp8", "kv_cache_dtype": "fp8",
                  "tensor_parallel": 8, "data_parallel": 1,
                  "serving_config": {"max_num_seqs": "256", "enable_chunked_prefill": "true"} },
      "bench": { "tool": "vllm bench serve", "captured_at": "2026-11-20T14:02:00Z",
                 "duration_effective_s": 120.0, "dataset": "random", "input_len": 2048,
                 "output_len": 512, "concurrency": 64, "num_prompts": 512, "completed": 512,
                 "failed": 0, "total_input_tokens": 1048576, "total_output_tokens": 262144,
                 "output_throughput_tok_s": 2184.5, "request_throughput_req_s": 4.27,
                 "cache_state": "warm" } }"#;

    /// 2026-11-20T14:02:00Z: 2026-11-28T00:00:00Z is 1_795_824_000 (time.rs), 8 days earlier
    /// is 1_795_824_000 − 8 × 86_400 = 1_795_132_800, plus 14 h 2 min (50_520 s).
    const CAPTURED_AT_S: f64 = 1_795_183_320.0;

    fn read(text: &str, options: &BenchReadOptions) -> Result<BenchRun, BenchError> {
        let mut runs = read_bench("inference_perfbench_v1.json", text, options)?;
        assert_eq!(runs.len(), 1);
        Ok(runs.remove(0))
    }

    #[test]
    fn captured_at_is_the_start_by_default() {
        let run = read(BUNDLE, &BenchReadOptions::default()).unwrap();
        let window = run.window.unwrap();
        // Start = captured_at; end = start + 120 s.
        assert_eq!(window.start_s, CAPTURED_AT_S);
        assert_eq!(window.end_s, CAPTURED_AT_S + 120.0);
        assert_eq!(window.confidence, WindowConfidence::Derived);
        assert_eq!(
            window.source,
            "inference_perfbench_v1.json: .bench.captured_at (start) + .bench.duration_effective_s"
        );
        assert_eq!(window.timezone_assumption, None);
        assert_eq!(run.label, "c064");
    }

    #[test]
    fn captured_at_is_end_flips_the_window() {
        let options = BenchReadOptions {
            captured_at_is_end: true,
            ..BenchReadOptions::default()
        };
        let window = read(BUNDLE, &options).unwrap().window.unwrap();
        // End = captured_at; start = end − 120 s = 1_795_183_200.
        assert_eq!(window.start_s, 1_795_183_200.0);
        assert_eq!(window.end_s, CAPTURED_AT_S);
        assert!(window.source.contains(".bench.captured_at (end) - "));
    }

    #[test]
    fn context_reads_every_section_and_keeps_the_rest_in_extra() {
        let run = read(BUNDLE, &BenchReadOptions::default()).unwrap();
        let context = run.context;
        assert_eq!(
            context.bench_tool.as_deref(),
            Some("inference_perfbench_v1")
        );
        assert_eq!(
            context.model.as_deref(),
            Some("meta-llama/Llama-3.3-70B-Instruct")
        );
        assert_eq!(context.hardware.as_deref(), Some("8x NVIDIA H200"));
        assert_eq!(context.hw_key.as_deref(), Some("h200_sxm"));
        assert_eq!(context.quant.as_deref(), Some("fp8"));
        assert_eq!(context.kv_cache_dtype.as_deref(), Some("fp8"));
        assert_eq!(context.tensor_parallel, Some(8));
        assert_eq!(context.data_parallel, Some(1));
        assert_eq!(context.expected_gpus(), Some(8));
        assert_eq!(context.engine.as_deref(), Some("vllm"));
        assert_eq!(context.engine_version.as_deref(), Some("0.11.2"));
        assert_eq!(context.image.as_deref(), Some("vllm/vllm-openai:v0.11.2"));
        assert_eq!(context.dataset.as_deref(), Some("random"));
        assert_eq!(context.input_len_tokens, Some(2048.0));
        assert_eq!(context.output_len_tokens, Some(512.0));
        assert_eq!(context.concurrency, Some(64));
        assert_eq!(context.num_prompts, Some(512));
        assert_eq!(context.completed, Some(512));
        assert_eq!(context.failed, Some(0));
        assert_eq!(context.total_input_tokens, Some(1_048_576));
        assert_eq!(context.total_output_tokens, Some(262_144));
        assert_eq!(context.output_tokens_per_s, Some(2184.5));
        assert_eq!(context.requests_per_s, Some(4.27));
        assert_eq!(context.cache_state.as_deref(), Some("warm"));
        assert_eq!(context.request_rate, None);
        assert_eq!(
            context
                .serving_config
                .get("max_num_seqs")
                .map(String::as_str),
            Some("256")
        );
        assert_eq!(context.serving_config.len(), 2);
        let extra: Vec<(&str, &str)> = context
            .extra
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect();
        assert_eq!(
            extra,
            vec![
                ("bench.tool", "vllm bench serve"),
                ("cell_id", "c064"),
                ("schema_version", "inference_perfbench_v1"),
            ]
        );
    }

    #[test]
    fn aliases_top_level_anchor_epoch_numbers_and_conflicts() {
        let text = r#"{ "captured_at": 1795183320, "duration_effective_s": "60",
            "config": {"tensor_parallel_size": "4", "max_concurrency": 16, "request_rate": "inf"},
            "workload": {"isl": 1024, "osl": 128, "dtype": "bf16", "concurrency": 32} }"#;
        let run = read(text, &BenchReadOptions::default()).unwrap();
        let window = run.window.unwrap();
        assert_eq!(window.start_s, CAPTURED_AT_S);
        assert_eq!(window.end_s, CAPTURED_AT_S + 60.0);
        assert_eq!(
            window.source,
            "inference_perfbench_v1.json: .captured_at (start) + .duration_effective_s"
        );
        let context = run.context;
        assert_eq!(context.tensor_parallel, Some(4));
        assert_eq!(context.input_len_tokens, Some(1024.0));
        assert_eq!(context.output_len_tokens, Some(128.0));
        assert_eq!(context.quant.as_deref(), Some("bf16"));
        assert_eq!(
            context.request_rate,
            Some(RequestRate::Unbounded(crate::context::UnboundedRate::Inf))
        );
        // `concurrency` is preferred over `max_concurrency`; the differing 16 is reported.
        assert_eq!(context.concurrency, Some(32));
        assert!(
            run.notes.iter().any(|note| note
                == ".config.max_concurrency = 16 ignored: an earlier field already gave 32"),
            "{:?}",
            run.notes
        );
        assert_eq!(run.label, "inference_perfbench_v1");
    }

    #[test]
    fn naive_anchor_uses_the_timezone_or_assumes_utc() {
        let text =
            r#"{"bench": {"captured_at": "2026-11-20T14:02:00", "duration_effective_s": 1}}"#;
        let window = read(text, &BenchReadOptions::default())
            .unwrap()
            .window
            .unwrap();
        assert_eq!(window.start_s, CAPTURED_AT_S);
        assert_eq!(
            window.timezone_assumption.as_deref(),
            Some("UTC (no timezone given)")
        );
        let berlin = BenchReadOptions {
            timezone: Some(TimeZone::get("Europe/Berlin").unwrap()),
            ..BenchReadOptions::default()
        };
        // Berlin is on CET (UTC+1) on 20 November: 14:02 local = 13:02Z.
        let window = read(text, &berlin).unwrap().window.unwrap();
        assert_eq!(window.start_s, CAPTURED_AT_S - 3600.0);
        assert_eq!(window.timezone_assumption.as_deref(), Some("Europe/Berlin"));
        // Under `captured_at_utc` the key itself says UTC, whatever timezone was passed.
        let text =
            r#"{"bench": {"captured_at_utc": "2026-11-20T14:02:00", "duration_effective_s": 1}}"#;
        let window = read(text, &berlin).unwrap().window.unwrap();
        assert_eq!(window.start_s, CAPTURED_AT_S);
        assert_eq!(window.timezone_assumption.as_deref(), Some("UTC"));
    }

    #[test]
    fn missing_duration_is_refused_naming_the_field() {
        let text = r#"{"schema_version": "inference_perfbench_v1",
                       "bench": {"captured_at": "2026-11-20T14:02:00Z"}}"#;
        let error = read(text, &BenchReadOptions::default()).unwrap_err();
        assert_eq!(
            error,
            BenchError::MissingField {
                file: "inference_perfbench_v1.json".into(),
                field: ".bench.duration_effective_s".into(),
                also_accepted: vec![".duration_effective_s".into()],
            }
        );
        assert!(error.to_string().contains("`.bench.duration_effective_s`"));
    }

    #[test]
    fn missing_anchor_names_all_accepted_places() {
        let text = r#"{"bench": {"duration_effective_s": 120}}"#;
        let error = read(text, &BenchReadOptions::default()).unwrap_err();
        assert_eq!(
            error,
            BenchError::MissingField {
                file: "inference_perfbench_v1.json".into(),
                field: ".bench.captured_at".into(),
                also_accepted: vec![".captured_at".into(), ".bench.captured_at_utc".into()],
            }
        );
    }

    #[test]
    fn zero_and_negative_durations_are_refused() {
        for (duration, expected_s) in [("0", 0.0), ("-5.5", -5.5)] {
            let text = format!(
                r#"{{"bench": {{"captured_at": "2026-11-20T14:02:00Z", "duration_effective_s": {duration}}}}}"#
            );
            let error = read(&text, &BenchReadOptions::default()).unwrap_err();
            assert_eq!(
                error,
                BenchError::NonPositiveDuration {
                    file: "inference_perfbench_v1.json".into(),
                    field: ".bench.duration_effective_s".into(),
                    duration_s: expected_s,
                }
            );
        }
    }

    #[test]
    fn monotonic_anchor_is_refused() {
        // 353399.7 s is a perf_counter reading (about 4 days of uptime), not an epoch.
        for anchor in ["353399.7", "\"353399.7\""] {
            let text =
                format!(r#"{{"bench": {{"captured_at": {anchor}, "duration_effective_s": 120}}}}"#);
            let error = read(&text, &BenchReadOptions::default()).unwrap_err();
            assert_eq!(
                error,
                BenchError::BadTime {
                    file: "inference_perfbench_v1.json".into(),
                    field: ".bench.captured_at".into(),
                    problem: TimeError::NotAnEpoch(353_399.7),
                }
            );
        }
    }

    #[test]
    fn garbage_anchor_and_wrong_context_types_are_refused() {
        let text = r#"{"bench": {"captured_at": "yesterday", "duration_effective_s": 120}}"#;
        let error = read(text, &BenchReadOptions::default()).unwrap_err();
        assert!(matches!(
            error,
            BenchError::BadTime {
                problem: TimeError::Unparseable(_),
                ..
            }
        ));
        let text = r#"{"bench": {"captured_at": "2026-11-20T14:02:00Z", "duration_effective_s": 120},
                       "deploy": {"tensor_parallel": "eight"}}"#;
        let error = read(text, &BenchReadOptions::default()).unwrap_err();
        assert!(matches!(
            error,
            BenchError::WrongType { ref field, .. } if field == ".deploy.tensor_parallel"
        ));
        let text = r#"{"bench": {"captured_at": "2026-11-20T14:02:00Z", "duration_effective_s": 120},
                       "deploy": "8xH200"}"#;
        let error = read(text, &BenchReadOptions::default()).unwrap_err();
        assert!(matches!(error, BenchError::WrongType { ref field, .. } if field == ".deploy"));
    }
}
