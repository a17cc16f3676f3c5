//! Evaluation: a [`Measurement`] divided by the ceilings in force, plus the context, warnings,
//! attribution and next lever — the `dcgm_correlation.json` of one cell.

mod attribution;
mod lever;
mod observability;
mod rows;
mod schema;
mod table;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::assemble::assemble;
use crate::catalog::FieldKind;
use crate::ceilings::{Ceilings, CeilingsError};
use crate::context::Context;
use crate::measure::{EnergySource, MeasureInput, Measurement, Resource, Tier, measure};
use crate::scope::Scope;
use crate::series::RawSeries;
use crate::time::{format_utc_millis, format_utc_seconds};
use crate::validity::link_rate_limits;
use crate::window::Window;

pub use attribution::{KernelCategories, KernelsError, resource_of_role};
pub use observability::llmd_observability;
pub use rows::STRAGGLER_BELOW_MEDIAN;
pub use schema::*;
pub use table::render_table;

/// Where the samples came from and which queries (or equivalent PromQL) produced them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// Sources, e.g. `recorded_scrapes:cells/c064/dcgm-scrapes.prom`.
    pub captured_sources: Vec<String>,
    /// Queries.
    pub queries: Vec<QueryRecord>,
    /// Scope used.
    pub scope: Scope,
}

/// The ceilings row chosen and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HwSelection {
    /// Row key as the user or bench named it (may be an alias such as `b200_sm100`).
    pub hw_key: String,
    /// `--hw-key`, `bench context`, `atlas.jsonl`, `modelName label`.
    pub source: String,
}

/// Why a cell cannot be evaluated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// The ceilings lookup failed (unknown hw key, bad tensor peak).
    #[error(transparent)]
    Ceilings(#[from] CeilingsError),
    /// No resource produced data: nothing to report.
    #[error("no usable DCGM data in the window {window}: {detail}")]
    NoData {
        /// The window, UTC.
        window: String,
        /// What was found instead.
        detail: String,
    },
    /// Neither a flag, the bench context nor the series name the hardware.
    #[error("cannot tell which GPU this is: pass --hw-key (known keys: {known})")]
    UnknownHardware {
        /// Known keys.
        known: String,
    },
}

/// Chooses the ceilings row: `--hw-key`, else the bench context's, else the series' `modelName`.
/// Returns the selection and a loud warning when the named row and the series disagree.
pub fn select_hardware(
    ceilings: &Ceilings,
    explicit: Option<&str>,
    context: &Context,
    model_names: &[String],
) -> Result<(HwSelection, Option<String>), EvalError> {
    let matched = model_names.iter().find_map(|name| {
        ceilings
            .match_model_name(name, None)
            .map(|m| (name.clone(), m))
    });
    let named = explicit
        .map(|k| (k.to_string(), "--hw-key"))
        .or_else(|| context.hw_key.clone().map(|k| (k, "bench context")));
    let Some((key, source)) = named.or_else(|| {
        matched
            .as_ref()
            .map(|(_, m)| (m.key.clone(), "modelName label"))
    }) else {
        let known = ceilings
            .rows()
            .iter()
            .map(|r| r.key.clone())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(EvalError::UnknownHardware { known });
    };
    let row = ceilings.row(&key)?;
    let warning = matched.and_then(|(name, m)| {
        let same = ceilings.row(&m.key).map(|r| r.key == row.key).unwrap_or(false);
        (!same).then(|| {
            format!(
                "HARDWARE MISMATCH: ceilings `{key}` ({}) applied to series whose modelName is `{name}` (matches `{}`) — every %SoL below uses the wrong peaks unless the exporter label is wrong",
                row.hw_name.as_deref().unwrap_or("?"),
                m.key
            )
        })
    });
    Ok((
        HwSelection {
            hw_key: key,
            source: source.to_string(),
        },
        warning,
    ))
}

/// What a cell's measurement needs: the raw series and the choices around them.
#[derive(Debug, Clone)]
pub struct CellData<'a> {
    /// Raw series from the source (scope applied).
    pub series: &'a [RawSeries],
    /// The window.
    pub window: &'a Window,
    /// Expected GPU count and where it came from.
    pub expected_gpus: Option<(u32, String)>,
    /// `--hw-key`.
    pub hw_key: Option<&'a str>,
    /// Context descriptor (its `hw_key` is the next choice).
    pub context: &'a Context,
}

/// A measured cell, ready for [`evaluate`].
#[derive(Debug, Clone)]
pub struct MeasuredCell {
    /// The measurement.
    pub measurement: Measurement,
    /// The ceilings row chosen.
    pub hardware: HwSelection,
    /// Loud warnings found on the way (hardware mismatch).
    pub warnings: Vec<String>,
}

/// Raw series → measurement: identity and validity ([`assemble`]), the hardware row (flag,
/// context, `modelName`), byte rates above twice the row's link peaks rejected, then
/// [`measure`]. Every source goes through here.
pub fn measure_cell(data: &CellData, ceilings: &Ceilings) -> Result<MeasuredCell, EvalError> {
    let mut assembly = assemble(data.series);
    let (hardware, mismatch) =
        select_hardware(ceilings, data.hw_key, data.context, &assembly.model_names())?;
    let row = ceilings.row(&hardware.hw_key)?;
    let mut warnings: Vec<String> = mismatch.into_iter().collect();
    if assembly.conflicting_duplicates > 0 {
        warnings.push(format!(
            "DUPLICATE SAMPLES: {} timestamp(s) of one GPU carried different values (duplicate series, or a series the source gave twice); the largest was kept — check the recording or the server",
            assembly.conflicting_duplicates
        ));
    }
    for (quantity, limit) in link_rate_limits(row) {
        let dropped = assembly.reject_above(quantity, limit);
        if dropped > 0 {
            warnings.push(format!(
                "IMPLAUSIBLE RATES: {dropped} {quantity:?} sample(s) above twice the link's peak ({:.3e} B/s) dropped as corrupt",
                limit
            ));
        }
    }
    let measurement = measure(&MeasureInput {
        assembly: &assembly,
        window: data.window,
        expected_gpus: data.expected_gpus.clone(),
        default_interval_s: ceilings.dcgm_config().expected_scrape_interval_s,
    });
    Ok(MeasuredCell {
        measurement,
        hardware,
        warnings,
    })
}

/// Everything evaluation needs.
#[derive(Debug, Clone)]
pub struct EvalInput<'a> {
    /// Cell id.
    pub cell_id: &'a str,
    /// The measurement.
    pub measurement: &'a Measurement,
    /// Ceilings in force.
    pub ceilings: &'a Ceilings,
    /// Row chosen.
    pub hardware: &'a HwSelection,
    /// Context descriptor.
    pub context: &'a Context,
    /// `--tensor-peak KEY`.
    pub tensor_peak: Option<&'a str>,
    /// Sources and queries.
    pub provenance: &'a Provenance,
    /// kernels.json categories and its path.
    pub kernels: Option<(&'a KernelCategories, &'a str)>,
    /// ncu reports present in the cell (rigor L4).
    pub ncu_evidence: bool,
    /// Warnings found before evaluation (e.g. hardware mismatch).
    pub extra_warnings: &'a [String],
}

/// Below this coverage on every row the window does not match the data: no result.
pub const MIN_WINDOW_COVERAGE_PCT: f64 = 1.0;
/// Coverage below this on a PROF row earns a warning.
pub const LOW_COVERAGE_PCT: f64 = 80.0;
/// Fewer in-window samples than this per GPU earns a warning.
pub const MIN_SAMPLES_PER_GPU: usize = 5;

/// Evaluates a measurement into a cell result.
pub fn evaluate(input: &EvalInput) -> Result<Correlation, EvalError> {
    let m = input.measurement;
    let row = input.ceilings.row(&input.hardware.hw_key)?;
    let duration_s = m.window.duration_s();
    let n_gpus = m.gpus_expected.n_gpus;
    let tensor_choice = row.tensor_peak(input.tensor_peak, input.context.quant.as_deref())?;
    let tensor_peak = row
        .peak(&tensor_choice.peak_key)
        .map(|p| (p, tensor_choice.assumption.clone()));
    let gpu_indexes: BTreeMap<String, String> = m
        .gpus_seen
        .iter()
        .filter_map(|g| g.gpu_index.clone().map(|i| (g.key.display_name(), i)))
        .collect();
    let steady_duration_s = m
        .steady_state
        .detected
        .then_some(m.steady_state.end_s - m.steady_state.start_s)
        .filter(|d| *d > 0.0);
    let ctx = rows::RowContext {
        row,
        n_gpus,
        duration_s,
        steady_duration_s,
        tensor_peak,
        memory_clock_max: m.memory_clock_max.as_ref(),
        gpu_indexes: &gpu_indexes,
    };
    let mut warnings: Vec<String> = input.extra_warnings.to_vec();
    let mut notes = m.notes.clone();
    notes.extend(m.metrics_used.iter().filter_map(|metric| {
        crate::catalog::unit_assumption(metric).map(|note| format!("{metric}: {note}"))
    }));
    let mut resources = Vec::new();
    for measured in &m.resources {
        match rows::peak_for(measured.resource, &ctx) {
            Some(peak) => {
                let mut resource_row = rows::resource_row(measured, peak, &ctx);
                if measured.resource == Resource::Tensor {
                    resource_row.precision =
                        tensor_choice.precision.map(|p| p.as_str().to_string());
                    resource_row
                        .notes
                        .insert(0, tensor_choice.assumption.clone());
                }
                resources.push(resource_row);
            }
            None if matches!(measured.tier, Tier::Prof | Tier::Counter) => notes.push(format!(
                "{} traffic measured but ceilings row `{}` has no {} peak: no %SoL row",
                measured.resource.label(),
                row.key,
                measured.resource.label()
            )),
            None => {}
        }
    }
    let group_level = group_level(&resources);
    let best_coverage_pct = resources
        .iter()
        .filter(|r| matches!(r.tier, Tier::Prof | Tier::Counter))
        .map(|r| r.coverage_pct)
        .fold(0.0, f64::max);
    if group_level != "absent" && best_coverage_pct < MIN_WINDOW_COVERAGE_PCT {
        return Err(EvalError::NoData {
            window: format!(
                "{} – {}",
                format_utc_seconds(m.window.start_s),
                format_utc_seconds(m.window.end_s)
            ),
            detail: format!(
                "the data cover only {best_coverage_pct:.2} % of the window — the window does not match the recording (check --start/--end, the bench file's window and the timezone)"
            ),
        });
    }
    if group_level == "absent" {
        return Err(EvalError::NoData {
            window: format!(
                "{} – {}",
                format_utc_seconds(m.window.start_s),
                format_utc_seconds(m.window.end_s)
            ),
            detail: no_data_detail(m, &input.provenance.captured_sources),
        });
    }
    collect_warnings(input, &resources, duration_s, &mut warnings);
    let energy = energy_info(m, input.context, m.gpus_expected.n_gpus);
    let attribution = input
        .kernels
        .map(|(kernels, _)| {
            attribution::attribute(kernels, &resources, input.ceilings, row, duration_s)
        })
        .unwrap_or_default();
    let rigor = rigor(group_level, !attribution.is_empty(), input.ncu_evidence);
    let next_lever = lever::next_lever(&resources, input.context, &warnings, &m.steady_state);
    let queries = queries_with_peak_keys(&input.provenance.queries, &resources);
    Ok(Correlation {
        schema_version: SCHEMA_VERSION,
        captured_sources: input.provenance.captured_sources.clone(),
        hw_key: input.hardware.hw_key.clone(),
        sweep_start_utc: format_utc_seconds(m.window.start_s),
        sweep_end_utc: format_utc_seconds(m.window.end_s),
        duration_s,
        n_gpus,
        dcgm_group_level: group_level.to_string(),
        scrape_interval_s: m.scrape_interval_s,
        exporter_update_interval_s: m.exporter_update_interval_s,
        short_sweep_warning: duration_s < input.ceilings.dcgm_config().min_sweep_seconds,
        resources,
        queries,
        dry_run: false,
        power_watts_per_gpu: energy.mean_power_w_per_gpu,
        nodes: m.nodes.clone(),
        namespace: input.provenance.scope.namespace.clone(),
        pod_label_selector: input.provenance.scope.selector_text(),
        per_category_attribution: attribution,
        kernels_json_path: input.kernels.map(|(_, path)| path.to_string()),
        tool: ToolInfo {
            name: "dcgm-sol".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
        cell_id: input.cell_id.to_string(),
        hardware: HardwareInfo {
            hw_key: input.hardware.hw_key.clone(),
            hw_name: row.hw_name.clone(),
            hw_key_source: input.hardware.source.clone(),
            ceilings_origin: row.origin.clone(),
            model_names_seen: model_names(m),
            model_name_match: model_names(m)
                .iter()
                .find_map(|name| input.ceilings.match_model_name(name, None))
                .map(|found| found.key),
        },
        window: window_info(m),
        context: input.context.clone(),
        gpus: GpuSummary {
            expected: m.gpus_expected.expected,
            expected_source: m.gpus_expected.source.clone(),
            seen: u32::try_from(m.gpus_seen.len()).unwrap_or(u32::MAX),
            missing: m
                .gpus_expected
                .expected
                .saturating_sub(u32::try_from(m.gpus_seen.len()).unwrap_or(u32::MAX)),
            seen_gpus: m
                .gpus_seen
                .iter()
                .map(|g| SeenGpu {
                    gpu: g.key.display_name(),
                    gpu_index: g.gpu_index.clone(),
                    model_name: g.model_name.clone(),
                })
                .collect(),
        },
        energy,
        activity: activity_rows(m),
        warnings,
        notes,
        validity: validity_info(m),
        sol_rigor: rigor.to_string(),
        next_lever,
        scope: input.provenance.scope.clone(),
    })
}

/// The rungs of the rigor ladder, least rigorous first.
pub const RIGOR_LEVELS: [&str; 4] = ["L1", "L2", "L3", "L4"];

/// The warning for a row whose %SoL exceeds its ceiling.
pub fn above_peak_warning(row: &ResourceRow) -> Option<String> {
    let pct = row.sol_pct.filter(|p| *p > 100.0)?;
    Some(format!(
        "ABOVE PEAK: {} reads {pct:.1} % of {} — the peak is too low for this GPU or the data are wrong",
        row.resource.label(),
        row.ceiling
    ))
}

/// The rung of the rigor ladder (DESIGN.md): L3 needs byte-grounded PROF data, L4 adds ncu
/// evidence; without PROF data the cell is only as good as its profiler view — L2 with a
/// per-category attribution, else L1 (busy-time counters ground nothing).
fn rigor(group_level: &str, has_attribution: bool, ncu_evidence: bool) -> &'static str {
    match (group_level == "prof", ncu_evidence, has_attribution) {
        (true, true, _) => "L4",
        (true, false, _) => "L3",
        (false, _, true) => "L2",
        (false, _, false) => "L1",
    }
}

/// Fills each query's `peak_key` with the row its metric fed.
fn queries_with_peak_keys(queries: &[QueryRecord], rows: &[ResourceRow]) -> Vec<QueryRecord> {
    queries
        .iter()
        .map(|q| {
            let mut q = q.clone();
            if q.peak_key.is_none() {
                q.peak_key = rows
                    .iter()
                    .find(|r| r.metric.split('+').any(|m| m == q.metric))
                    .map(|r| r.peak_key.clone());
            }
            q
        })
        .collect()
}

fn group_level(rows: &[ResourceRow]) -> &'static str {
    if rows.iter().any(|r| r.tier == Tier::Prof) {
        "prof"
    } else if rows.iter().any(|r| r.tier == Tier::Counter) {
        "counter"
    } else {
        "absent"
    }
}

fn no_data_detail(m: &Measurement, sources: &[String]) -> String {
    let from = sources.join(", ");
    let rejected: usize = m.validity.rejected.values().flat_map(|r| r.values()).sum();
    if rejected > 0 && m.gpus_seen.is_empty() {
        return format!(
            "every value from {from} was rejected ({rejected} NaN, blank-sentinel or out-of-range values)"
        );
    }
    if m.gpus_seen.is_empty() {
        return format!(
            "{from} holds no series of a DCGM metric the tool uses inside the scope (check the scope flags and that the file or server has data)"
        );
    }
    if !m.invalid_prof_gpus.is_empty() {
        return format!(
            "PROF counters read all-zero while GPU_UTIL > 0 on {} (held by another profiler?) and no fallback field exists",
            m.invalid_prof_gpus.join(", ")
        );
    }
    let rejected_note = if rejected > 0 {
        format!(
            "{rejected} values from {from} were rejected (NaN, blank sentinels, out of range) and "
        )
    } else {
        String::new()
    };
    format!(
        "{rejected_note}{} GPU(s) in scope have no HBM/tensor/NVLink/PCIe samples inside the window — does the window match the data? usable metrics: {}",
        m.gpus_seen.len(),
        m.metrics_used.join(", ")
    )
}

fn collect_warnings(
    input: &EvalInput,
    rows: &[ResourceRow],
    duration_s: f64,
    warnings: &mut Vec<String>,
) {
    let m = input.measurement;
    let ctx = input.context;
    let min_sweep_s = input.ceilings.dcgm_config().min_sweep_seconds;
    if duration_s < min_sweep_s {
        warnings.push(format!(
            "SHORT WINDOW: {duration_s:.1} s is below dcgm_config.min_sweep_seconds ({min_sweep_s} s); edge effects of the {:.0} s scrape interval dominate",
            m.scrape_interval_s
        ));
    }
    if let (Some(prompts), Some(concurrency)) = (ctx.num_prompts, ctx.concurrency)
        && prompts < 2 * u64::from(concurrency)
    {
        warnings.push(format!(
            "UNSTEADY WINDOW: num_prompts {prompts} < 2 × concurrency {concurrency}: ramp-up and drain dominate the window; read the steady-state %SoL"
        ));
    }
    if m.steady_state.unsteady {
        warnings.push(format!("UNSTEADY LOAD: {}", m.steady_state.summary));
    }
    let seen = u32::try_from(m.gpus_seen.len()).unwrap_or(u32::MAX);
    if seen < m.gpus_expected.expected {
        warnings.push(format!(
            "MISSING GPUS: {} of {} expected GPUs ({}) have no data; they count as idle in the denominator",
            m.gpus_expected.expected - seen,
            m.gpus_expected.expected,
            m.gpus_expected.source
        ));
    }
    if seen > m.gpus_expected.expected {
        warnings.push(format!(
            "EXTRA GPUS: {seen} GPUs in scope but {} expected ({}): the scope holds GPUs outside the deployment — narrow it with --host/--gpu-uuid/--selector; the denominator uses {seen}",
            m.gpus_expected.expected,
            m.gpus_expected.source
        ));
    }
    if let Some(alignment) = m.alignment.as_ref().filter(|a| a.suspicious) {
        let margin =
            |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{:.1} %", v * 100.0));
        warnings.push(format!(
            "WINDOW MISALIGNED? {} averages {:.1} % inside the window but {} before and {} after it: check captured_at start/end (--captured-at-is-end) and the timezone",
            alignment.signal,
            alignment.inside_mean * 100.0,
            margin(alignment.before_mean),
            margin(alignment.after_mean)
        ));
    }
    for row in rows {
        warnings.extend(above_peak_warning(row));
        if let Some(note) = row.notes.iter().find(|n| n.starts_with("INCOMPLETE")) {
            warnings.push(format!("{}: {note}", row.resource.label()));
        }
    }
    if !m.invalid_prof_gpus.is_empty() {
        warnings.push(format!(
            "INVALID PROF DATA on {}: DRAM/tensor activity all-zero while GPU_UTIL > 0 (Nsight/another profiler held the counters?)",
            m.invalid_prof_gpus.join(", ")
        ));
    }
    for row in rows.iter().filter(|r| r.tier == Tier::Prof) {
        if row.coverage_pct < LOW_COVERAGE_PCT {
            warnings.push(format!(
                "LOW COVERAGE: {} data cover {:.1} % of GPU-time in the window",
                row.resource.label(),
                row.coverage_pct
            ));
        }
        let fewest = row
            .per_gpu
            .iter()
            .filter(|g| g.invalid.is_none() && g.samples > 0)
            .map(|g| g.samples)
            .min();
        if let Some(fewest) = fewest.filter(|n| *n < MIN_SAMPLES_PER_GPU) {
            warnings.push(format!(
                "FEW SAMPLES: {} has only {fewest} sample(s) per GPU in the window; run the exporter with a shorter collect interval (-c 1000) or lengthen the cell",
                row.resource.label()
            ));
        }
        if let Some(spread) = &row.spread
            && spread.median_pct > 0.0
            && spread.min_pct < rows::STRAGGLER_BELOW_MEDIAN * spread.median_pct
        {
            let index = row
                .per_gpu
                .iter()
                .find(|g| g.gpu == spread.min_gpu)
                .and_then(|g| g.gpu_index.as_deref());
            let who = index.map_or_else(
                || spread.min_gpu.clone(),
                |i| format!("gpu {i} ({})", spread.min_gpu),
            );
            warnings.push(format!(
                "STRAGGLER: {} on {who} reads {:.1} % vs a median of {:.1} % across GPUs",
                row.resource.label(),
                spread.min_pct,
                spread.median_pct
            ));
        }
    }
}

fn model_names(m: &Measurement) -> Vec<String> {
    let mut names: Vec<String> = m
        .gpus_seen
        .iter()
        .filter_map(|g| g.model_name.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

fn window_info(m: &Measurement) -> WindowInfo {
    let w = &m.window;
    let steady = &m.steady_state;
    let min_samples = m
        .resources
        .iter()
        .filter(|r| r.tier == Tier::Prof)
        .flat_map(|r| {
            r.per_gpu
                .iter()
                .filter(|g| g.invalid.is_none() && g.full.samples > 0)
                .map(|g| g.full.samples)
        })
        .min();
    WindowInfo {
        start_utc: format_utc_millis(w.start_s),
        end_utc: format_utc_millis(w.end_s),
        start_s: w.start_s,
        end_s: w.end_s,
        source: w.source.clone(),
        confidence: w.confidence,
        timezone_assumption: w.timezone_assumption.clone(),
        resolution_s: w.resolution_s,
        min_samples_in_window: min_samples,
        steady_state: SteadyInfo {
            detected: steady.detected,
            start_utc: format_utc_millis(steady.start_s),
            end_utc: format_utc_millis(steady.end_s),
            duration_s: steady.end_s - steady.start_s,
            signal: steady.signal.clone(),
            method: steady.method.clone(),
            summary: steady.summary.clone(),
            unsteady: steady.unsteady,
        },
    }
}

fn energy_info(m: &Measurement, context: &Context, expected_gpus: u32) -> EnergyInfo {
    let e = &m.energy;
    let with_energy: Vec<f64> = e.per_gpu.iter().filter_map(|g| g.energy_j).collect();
    let sources: Vec<EnergySource> = e.per_gpu.iter().filter_map(|g| g.energy_source).collect();
    let energy_source = match (
        sources.first(),
        sources.iter().all(|s| Some(s) == sources.first()),
    ) {
        (None, _) => None,
        (Some(EnergySource::Counter), true) => Some("counter".to_string()),
        (Some(EnergySource::PowerIntegral), true) => Some("power_integral".to_string()),
        (Some(_), false) => Some("mixed".to_string()),
    };
    let mut notes = e.notes.clone();
    let energy_j_total = (!with_energy.is_empty()).then(|| with_energy.iter().sum::<f64>());
    // Tokens per joule needs every GPU of the deployment: a GPU without energy data (or
    // missing altogether) would make the figure look better than it is.
    let complete = !with_energy.is_empty() && with_energy.len() >= expected_gpus as usize;
    if energy_j_total.is_some() && !complete {
        notes.push(format!(
            "energy known for {} of {} expected GPUs: energy_j_total leaves the others out and tokens per joule is not computed",
            with_energy.len(),
            expected_gpus
        ));
    }
    let powers: Vec<f64> = e.per_gpu.iter().filter_map(|g| g.mean_power_w).collect();
    let output_tokens = context.total_output_tokens;
    let usable_total = energy_j_total.filter(|j| *j > 0.0 && complete);
    EnergyInfo {
        span_start_utc: format_utc_millis(e.span_s[0]),
        span_end_utc: format_utc_millis(e.span_s[1]),
        span_source: e.span_source.clone(),
        energy_j_total: energy_j_total.map(|j| rows::round(j, 3)),
        energy_source,
        gpus_with_energy: u32::try_from(with_energy.len()).unwrap_or(u32::MAX),
        mean_power_w_per_gpu: (!powers.is_empty())
            .then(|| rows::round(powers.iter().sum::<f64>() / powers.len() as f64, 3)),
        output_tokens,
        tokens_per_joule: output_tokens
            .zip(usable_total)
            .map(|(t, j)| rows::round(t as f64 / j, 6)),
        joules_per_output_token: output_tokens
            .filter(|t| *t > 0)
            .zip(usable_total)
            .map(|(t, j)| rows::round(j / t as f64, 6)),
        per_gpu: e
            .per_gpu
            .iter()
            .map(|g| GpuEnergyRow {
                gpu: g.gpu.display_name(),
                mean_power_w: g.mean_power_w.map(|w| rows::round(w, 3)),
                energy_j: g.energy_j.map(|j| rows::round(j, 3)),
                energy_source: g.energy_source.map(|s| match s {
                    EnergySource::Counter => "counter".to_string(),
                    EnergySource::PowerIntegral => "power_integral".to_string(),
                }),
            })
            .collect(),
        notes,
    }
}

fn activity_rows(m: &Measurement) -> Vec<ActivityRow> {
    m.activity
        .iter()
        .map(|a| {
            let (scale, units, kind) = match a.kind {
                FieldKind::ClockMhz => (1.0, "MHz", "clock_mhz"),
                FieldKind::BusyFraction => (100.0, "%", "busy_fraction"),
                _ => (100.0, "%", "ratio"),
            };
            let values = a.per_gpu.iter().map(|g| g.mean * scale);
            ActivityRow {
                quantity: format!("{:?}", a.quantity),
                kind: kind.to_string(),
                mean: rows::round(a.mean * scale, 4),
                min: rows::round(values.clone().fold(f64::INFINITY, f64::min), 4),
                max: rows::round(values.fold(f64::NEG_INFINITY, f64::max), 4),
                units: units.to_string(),
            }
        })
        .collect()
}

fn validity_info(m: &Measurement) -> ValidityInfo {
    ValidityInfo {
        rejected: m
            .validity
            .rejected
            .iter()
            .map(|(q, reasons)| {
                (
                    format!("{q:?}"),
                    reasons
                        .iter()
                        .map(|(r, n)| (format!("{r:?}"), *n))
                        .collect(),
                )
            })
            .collect(),
        clamped: m
            .validity
            .clamped
            .iter()
            .map(|(q, n)| (format!("{q:?}"), *n))
            .collect(),
        invalid_prof_gpus: m.invalid_prof_gpus.clone(),
    }
}

/// The row used as HBM when a caller needs it by role (tests, table).
pub fn row_of(correlation: &Correlation, resource: Resource) -> Option<&ResourceRow> {
    correlation
        .resources
        .iter()
        .find(|r| r.resource == resource)
}

#[cfg(test)]
mod tests;
