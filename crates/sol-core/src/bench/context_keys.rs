//! The common key names (and their aliases) that bench files and free-form metadata use for the
//! context descriptor, and how each one fills a [`Context`] field.

use std::fmt::Debug;

use crate::context::{Context, RequestRate, UnboundedRate};

use super::BenchError;
use super::json_fields::Field;

/// A [`Context`] field that a key can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContextSlot {
    Model,
    Hardware,
    HwKey,
    Quant,
    KvCacheDtype,
    TensorParallel,
    DataParallel,
    PipelineParallel,
    ExpertParallel,
    Engine,
    EngineVersion,
    Image,
    Dataset,
    InputLen,
    OutputLen,
    Concurrency,
    RequestRate,
    NumPrompts,
    Completed,
    Failed,
    TotalInputTokens,
    TotalOutputTokens,
    OutputTokensPerS,
    RequestsPerS,
    CacheState,
}

/// Key names in order of preference: when two keys fill one field, the earlier one wins.
pub(crate) const CONTEXT_KEYS: &[(&str, ContextSlot)] = &[
    ("model", ContextSlot::Model),
    ("model_id", ContextSlot::Model),
    ("model_name", ContextSlot::Model),
    ("hardware", ContextSlot::Hardware),
    ("gpu", ContextSlot::Hardware),
    ("gpu_type", ContextSlot::Hardware),
    ("accelerator", ContextSlot::Hardware),
    ("hw_key", ContextSlot::HwKey),
    ("quant", ContextSlot::Quant),
    ("quantization", ContextSlot::Quant),
    ("dtype", ContextSlot::Quant),
    ("kv_cache_dtype", ContextSlot::KvCacheDtype),
    ("tp", ContextSlot::TensorParallel),
    ("tensor_parallel", ContextSlot::TensorParallel),
    ("tensor_parallel_size", ContextSlot::TensorParallel),
    ("tp_size", ContextSlot::TensorParallel),
    ("dp", ContextSlot::DataParallel),
    ("data_parallel", ContextSlot::DataParallel),
    ("data_parallel_size", ContextSlot::DataParallel),
    ("dp_size", ContextSlot::DataParallel),
    ("pp", ContextSlot::PipelineParallel),
    ("pipeline_parallel", ContextSlot::PipelineParallel),
    ("pipeline_parallel_size", ContextSlot::PipelineParallel),
    ("pp_size", ContextSlot::PipelineParallel),
    ("ep", ContextSlot::ExpertParallel),
    ("expert_parallel", ContextSlot::ExpertParallel),
    ("expert_parallel_size", ContextSlot::ExpertParallel),
    ("ep_size", ContextSlot::ExpertParallel),
    ("engine", ContextSlot::Engine),
    ("engine_version", ContextSlot::EngineVersion),
    ("image", ContextSlot::Image),
    ("container_image", ContextSlot::Image),
    ("dataset", ContextSlot::Dataset),
    ("dataset_name", ContextSlot::Dataset),
    ("input_len", ContextSlot::InputLen),
    ("isl", ContextSlot::InputLen),
    ("input_len_tokens", ContextSlot::InputLen),
    ("output_len", ContextSlot::OutputLen),
    ("osl", ContextSlot::OutputLen),
    ("output_len_tokens", ContextSlot::OutputLen),
    ("concurrency", ContextSlot::Concurrency),
    ("max_concurrency", ContextSlot::Concurrency),
    ("request_rate", ContextSlot::RequestRate),
    ("num_prompts", ContextSlot::NumPrompts),
    ("num_requests", ContextSlot::NumPrompts),
    ("completed", ContextSlot::Completed),
    ("failed", ContextSlot::Failed),
    ("total_input_tokens", ContextSlot::TotalInputTokens),
    ("total_output_tokens", ContextSlot::TotalOutputTokens),
    ("output_throughput_tok_s", ContextSlot::OutputTokensPerS),
    ("output_throughput", ContextSlot::OutputTokensPerS),
    ("output_tokens_per_s", ContextSlot::OutputTokensPerS),
    ("request_throughput_req_s", ContextSlot::RequestsPerS),
    ("request_throughput", ContextSlot::RequestsPerS),
    ("requests_per_s", ContextSlot::RequestsPerS),
    ("cache_state", ContextSlot::CacheState),
];

/// Keeps a key no reader field claims: its scalar text in `context.extra`, and the typed context
/// field its name maps to when it has one (a value of the wrong type there is a note, not an
/// error: the text is kept).
pub(crate) fn keep_extra(
    context: &mut Context,
    key: &str,
    member: &Field,
    notes: &mut Vec<String>,
) {
    let Some(text) = member.scalar_text() else {
        return;
    };
    context.extra.insert(key.to_string(), text);
    if let Some(slot) = slot_for_key(key)
        && let Err(error) = fill_slot(context, slot, member, notes)
    {
        notes.push(format!("{error} (kept in extra only)"));
    }
}

/// The context field a key fills, if it is one of [`CONTEXT_KEYS`].
pub(crate) fn slot_for_key(key: &str) -> Option<ContextSlot> {
    CONTEXT_KEYS
        .iter()
        .find(|(name, _)| *name == key)
        .map(|(_, slot)| *slot)
}

/// Sets `slot` from `field` unless an earlier key already set it; a differing later value is
/// kept out and reported in `notes`. A value of the wrong type is an error.
pub(crate) fn fill_slot(
    context: &mut Context,
    slot: ContextSlot,
    field: &Field,
    notes: &mut Vec<String>,
) -> Result<(), BenchError> {
    let path = field.path();
    match slot {
        ContextSlot::Model => keep_first(&mut context.model, field.text()?, path, notes),
        ContextSlot::Hardware => keep_first(&mut context.hardware, field.text()?, path, notes),
        ContextSlot::HwKey => keep_first(&mut context.hw_key, field.text()?, path, notes),
        ContextSlot::Quant => keep_first(&mut context.quant, field.text()?, path, notes),
        ContextSlot::KvCacheDtype => {
            keep_first(&mut context.kv_cache_dtype, field.text()?, path, notes)
        }
        ContextSlot::TensorParallel => {
            keep_first(&mut context.tensor_parallel, field.degree()?, path, notes)
        }
        ContextSlot::DataParallel => {
            keep_first(&mut context.data_parallel, field.degree()?, path, notes)
        }
        ContextSlot::PipelineParallel => {
            keep_first(&mut context.pipeline_parallel, field.degree()?, path, notes)
        }
        ContextSlot::ExpertParallel => {
            keep_first(&mut context.expert_parallel, field.degree()?, path, notes)
        }
        ContextSlot::Engine => keep_first(&mut context.engine, field.text()?, path, notes),
        ContextSlot::EngineVersion => {
            keep_first(&mut context.engine_version, field.text()?, path, notes)
        }
        ContextSlot::Image => keep_first(&mut context.image, field.text()?, path, notes),
        ContextSlot::Dataset => keep_first(&mut context.dataset, field.text()?, path, notes),
        ContextSlot::InputLen => keep_first(
            &mut context.input_len_tokens,
            token_length(field)?,
            path,
            notes,
        ),
        ContextSlot::OutputLen => keep_first(
            &mut context.output_len_tokens,
            token_length(field)?,
            path,
            notes,
        ),
        ContextSlot::Concurrency => {
            keep_first(&mut context.concurrency, field.degree()?, path, notes)
        }
        ContextSlot::RequestRate => {
            keep_first(&mut context.request_rate, request_rate(field)?, path, notes)
        }
        ContextSlot::NumPrompts => {
            keep_first(&mut context.num_prompts, field.count()?, path, notes)
        }
        ContextSlot::Completed => keep_first(&mut context.completed, field.count()?, path, notes),
        ContextSlot::Failed => keep_first(&mut context.failed, field.count()?, path, notes),
        ContextSlot::TotalInputTokens => {
            keep_first(&mut context.total_input_tokens, field.count()?, path, notes)
        }
        ContextSlot::TotalOutputTokens => keep_first(
            &mut context.total_output_tokens,
            field.count()?,
            path,
            notes,
        ),
        ContextSlot::OutputTokensPerS => keep_first(
            &mut context.output_tokens_per_s,
            rate_value(field)?,
            path,
            notes,
        ),
        ContextSlot::RequestsPerS => {
            keep_first(&mut context.requests_per_s, rate_value(field)?, path, notes)
        }
        ContextSlot::CacheState => keep_first(&mut context.cache_state, field.text()?, path, notes),
    }
    Ok(())
}

/// A request arrival rate: a positive number of requests per second, or `"inf"`.
fn request_rate(field: &Field) -> Result<RequestRate, BenchError> {
    const EXPECTED: &str = "a positive number of requests per second or \"inf\"";
    if field.value().as_str().map(str::trim) == Some("inf") {
        return Ok(RequestRate::Unbounded(UnboundedRate::Inf));
    }
    let per_second = field.number().map_err(|_| field.wrong_type(EXPECTED))?;
    if per_second > 0.0 {
        Ok(RequestRate::PerSecond(per_second))
    } else {
        Err(field.wrong_type(EXPECTED))
    }
}

/// A sequence length in tokens: positive.
fn token_length(field: &Field) -> Result<f64, BenchError> {
    let tokens = field.number()?;
    if tokens > 0.0 {
        Ok(tokens)
    } else {
        Err(field.wrong_type("a positive number of tokens"))
    }
}

/// A throughput: non-negative.
fn rate_value(field: &Field) -> Result<f64, BenchError> {
    let per_second = field.number()?;
    if per_second >= 0.0 {
        Ok(per_second)
    } else {
        Err(field.wrong_type("a non-negative rate"))
    }
}

fn keep_first<T: PartialEq + Debug>(
    slot: &mut Option<T>,
    value: T,
    path: &str,
    notes: &mut Vec<String>,
) {
    match slot {
        None => *slot = Some(value),
        Some(kept) if *kept != value => notes.push(format!(
            "{path} = {value:?} ignored: an earlier field already gave {kept:?}"
        )),
        Some(_) => {}
    }
}

/// Where no sequence length is configured, takes the measured mean and says where it came from
/// (`measured_from`); where one is configured, notes a measured mean more than 10 % away, e.g. an
/// output length that was only a cap (`max_tokens` without `ignore_eos`).
pub(crate) fn reconcile_length(
    what: &str,
    configured_tokens: &mut Option<f64>,
    measured_mean_tokens: f64,
    measured_from: &str,
    notes: &mut Vec<String>,
) {
    const TOLERANCE: f64 = 0.10;
    match *configured_tokens {
        None => {
            *configured_tokens = Some(measured_mean_tokens);
            notes.push(format!(
                "{what} is the measured mean {measured_from} = {measured_mean_tokens:.1} tokens \
                 (no configured length in the file)"
            ));
        }
        Some(configured) => {
            let ratio = measured_mean_tokens / configured;
            if (ratio - 1.0).abs() > TOLERANCE {
                notes.push(format!(
                    "configured {what} {configured} tokens but the measured mean is \
                     {measured_mean_tokens:.1} tokens ({:+.0} %)",
                    (ratio - 1.0) * 100.0
                ));
            }
        }
    }
}

/// Reconciles the lengths with their means over the completed requests, from the token totals
/// (see [`reconcile_length`]).
pub(crate) fn fill_mean_lengths(context: &mut Context, notes: &mut Vec<String>) {
    let Some(completed) = context.completed.filter(|completed| *completed > 0) else {
        return;
    };
    let lengths = [
        (
            "input length",
            "total_input_tokens",
            context.total_input_tokens,
            &mut context.input_len_tokens,
        ),
        (
            "output length",
            "total_output_tokens",
            context.total_output_tokens,
            &mut context.output_len_tokens,
        ),
    ];
    for (what, total_key, total, configured) in lengths {
        if let Some(total) = total {
            let measured_from = format!("{total_key} / completed = {total} / {completed}");
            let mean = total as f64 / completed as f64;
            reconcile_length(what, configured, mean, &measured_from, notes);
        }
    }
}

/// `2 req/s`, `concurrency 8`, `2 req/s, concurrency 8`, or `load not recorded`.
pub(crate) fn load_label(context: &Context) -> String {
    let rate = match context.request_rate {
        Some(RequestRate::PerSecond(per_second)) => Some(format!("{per_second} req/s")),
        Some(RequestRate::Unbounded(_)) => Some("inf req/s".to_string()),
        None => None,
    };
    let concurrency = context
        .concurrency
        .map(|concurrency| format!("concurrency {concurrency}"));
    match (rate, concurrency) {
        (Some(rate), Some(concurrency)) => format!("{rate}, {concurrency}"),
        (Some(load), None) | (None, Some(load)) => load,
        (None, None) => "load not recorded".to_string(),
    }
}

/// Fills a token total the file does not record from its per-request mean (`mean = total /
/// requests`, so the product is the total up to rounding), and says how it was obtained.
pub(crate) fn fill_total_from_mean(
    total_tokens: &mut Option<u64>,
    mean: &Field,
    requests: u64,
    requests_path: &str,
    notes: &mut Vec<String>,
) -> Result<(), BenchError> {
    if total_tokens.is_some() || requests == 0 {
        return Ok(());
    }
    let mean_tokens = token_count_mean(mean)?;
    let recovered = (mean_tokens * requests as f64).round();
    // Finite and ≥ 0 here; `as` saturates, and real totals are far below 2^64.
    *total_tokens = Some(recovered as u64);
    notes.push(format!(
        "{recovered} tokens in total = {} × {requests_path} = {mean_tokens} × {requests} \
         (the file records no total)",
        mean.path()
    ));
    Ok(())
}

/// A mean token count: finite and non-negative.
fn token_count_mean(field: &Field) -> Result<f64, BenchError> {
    let tokens = field.number()?;
    if tokens >= 0.0 {
        Ok(tokens)
    } else {
        Err(field.wrong_type("a non-negative number of tokens"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_key_is_listed_once() {
        for (index, (key, _)) in CONTEXT_KEYS.iter().enumerate() {
            assert!(
                CONTEXT_KEYS[index + 1..]
                    .iter()
                    .all(|(other, _)| other != key),
                "{key} listed twice"
            );
        }
    }

    #[test]
    fn aliases_fill_the_same_field_and_the_first_value_wins() {
        let doc = json!({"tensor_parallel": 8, "tp": "4", "quant": "fp8", "dtype": "fp8"});
        let root = Field::root("f.json", &doc);
        let mut context = Context::default();
        let mut notes = Vec::new();
        for key in ["tensor_parallel", "tp", "quant", "dtype"] {
            let slot = slot_for_key(key).unwrap();
            fill_slot(&mut context, slot, &root.get(key).unwrap(), &mut notes).unwrap();
        }
        assert_eq!(context.tensor_parallel, Some(8));
        assert_eq!(context.quant.as_deref(), Some("fp8"));
        // Only the differing TP is reported; the equal quant is not.
        assert_eq!(
            notes,
            vec![".tp = 4 ignored: an earlier field already gave 8".to_string()]
        );
    }

    #[test]
    fn wrong_types_are_errors_naming_the_field() {
        let doc = json!({"tp": "eight"});
        let root = Field::root("f.json", &doc);
        let error = fill_slot(
            &mut Context::default(),
            ContextSlot::TensorParallel,
            &root.get("tp").unwrap(),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(matches!(error, BenchError::WrongType { field, .. } if field == ".tp"));
    }

    #[test]
    fn request_rate_reads_numbers_numeric_strings_and_inf() {
        let doc = json!({"a": 30.0, "b": "2.5", "c": "inf", "d": 0, "e": "fast"});
        let root = Field::root("f.json", &doc);
        let rate = |key| request_rate(&root.get(key).unwrap());
        assert_eq!(rate("a").unwrap(), RequestRate::PerSecond(30.0));
        assert_eq!(rate("b").unwrap(), RequestRate::PerSecond(2.5));
        assert_eq!(
            rate("c").unwrap(),
            RequestRate::Unbounded(UnboundedRate::Inf)
        );
        assert!(rate("d").is_err());
        assert!(rate("e").is_err());
    }

    #[test]
    fn measured_length_fills_a_gap_and_checks_a_configured_one() {
        let mut notes = Vec::new();
        // 239959 / 900 = 266.62 measured vs 500 configured: −46.7 % → noted, configured kept.
        let mut output_len = Some(500.0);
        reconcile_length(
            "output length",
            &mut output_len,
            239_959.0 / 900.0,
            "x",
            &mut notes,
        );
        assert_eq!(output_len, Some(500.0));
        assert_eq!(
            notes,
            vec![
                "configured output length 500 tokens but the measured mean is 266.6 tokens (-47 %)"
            ]
        );
        // 899100 / 900 = 999 vs 1000: −0.1 % → no note.
        let mut input_len = Some(1000.0);
        reconcile_length(
            "input length",
            &mut input_len,
            899_100.0 / 900.0,
            "x",
            &mut notes,
        );
        assert_eq!(notes.len(), 1);
        // Nothing configured: 39800 / 199 = 200 measured is taken, with its provenance.
        let mut unset = None;
        reconcile_length("input length", &mut unset, 200.0, "39800 / 199", &mut notes);
        assert_eq!(unset, Some(200.0));
        assert_eq!(
            notes[1],
            "input length is the measured mean 39800 / 199 = 200.0 tokens (no configured length in the file)"
        );
    }

    #[test]
    fn totals_come_from_means_only_when_missing() {
        let doc = json!({"mean": 99.44, "negative": -1.0});
        let root = Field::root("f.json", &doc);
        let mean = root.get("mean").unwrap();
        let mut notes = Vec::new();
        // 99.44 × 50 = 4972 (99.44 × 50 = 99 × 50 + 0.44 × 50 = 4950 + 22).
        let mut total = None;
        fill_total_from_mean(&mut total, &mean, 50, ".completed", &mut notes).unwrap();
        assert_eq!(total, Some(4972));
        assert_eq!(
            notes,
            vec![
                "4972 tokens in total = .mean × .completed = 99.44 × 50 (the file records no total)"
            ]
        );
        let mut recorded = Some(7);
        fill_total_from_mean(&mut recorded, &mean, 50, ".completed", &mut notes).unwrap();
        assert_eq!(recorded, Some(7));
        let mut none_completed = None;
        fill_total_from_mean(&mut none_completed, &mean, 0, ".completed", &mut notes).unwrap();
        assert_eq!(none_completed, None);
        assert_eq!(notes.len(), 1);
        let negative = root.get("negative").unwrap();
        assert!(fill_total_from_mean(&mut None, &negative, 5, ".c", &mut notes).is_err());
    }
}
