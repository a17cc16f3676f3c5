//! One cell, end to end: bench file → window + context → metric source → measurement →
//! evaluation → atomic writes. Shared by `correlate` (one cell or all) and `fold`.

use std::path::Path;

use anyhow::{Context as _, anyhow};
use sol_core::bench::{BenchFormat, llmd_with_observability, sniff};
use sol_core::ceilings::Ceilings;
use sol_core::context::Context;
use sol_core::correlation::{
    CellData, Correlation, EvalError, EvalInput, HwSelection, Provenance, evaluate,
    llmd_observability, measure_cell,
};
use sol_core::frozen::{FrozenExtension, FrozenSnapshot};
use sol_core::measure::Measurement;
use sol_core::source::{FetchRequest, MARGIN_INTERVALS, query_records, raw_sample_plan};
use sol_core::window::{Window, future_window_warning};
use sol_io::{
    CampaignDir, CellDir, LLMD_WITH_SOL_SUFFIX, OUTPUT_CORRELATION, OUTPUT_FROZEN, read_text,
    write_atomic,
};

use crate::cli::{CorrelateArgs, EvalArgs};
use crate::exit::{AppError, input, runtime};
use crate::inputs::{atlas_context, cell_window_and_context, display_path, kernels_of, scope_of};
use crate::output::sorted_json;
use crate::sources::CellSource;

fn eval_error(error: EvalError) -> AppError {
    match error {
        EvalError::NoData { .. } => runtime(error),
        other => input(other),
    }
}

/// What a cell's evaluation needs beyond the measurement.
struct Evaluation<'a> {
    cell: &'a CellDir,
    campaign: &'a CampaignDir,
    ceilings: &'a Ceilings,
    hardware: HwSelection,
    context: Context,
    provenance: Provenance,
    extra_warnings: Vec<String>,
    eval: &'a EvalArgs,
}

fn evaluate_cell(
    e: &Evaluation,
    measurement: &Measurement,
    tensor_peak: Option<&str>,
) -> Result<Correlation, AppError> {
    let kernels = kernels_of(e.campaign, e.cell, e.eval)?;
    evaluate(&EvalInput {
        cell_id: &e.cell.id,
        measurement,
        ceilings: e.ceilings,
        hardware: &e.hardware,
        context: &e.context,
        tensor_peak,
        provenance: &e.provenance,
        kernels: kernels.as_ref().map(|(k, p)| (k, p.as_str())),
        ncu_evidence: e.cell.has_ncu_evidence(),
        extra_warnings: &e.extra_warnings,
    })
    .map_err(eval_error)
}

fn write_json(cell: &CellDir, result: &Correlation) -> Result<(), AppError> {
    let path = cell.file(OUTPUT_CORRELATION);
    let text = sorted_json(result).map_err(runtime)?;
    write_atomic(&path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
        .map_err(runtime)
}

/// The result of `correlate --dry-run` for one cell: what would be read.
pub enum CellOutcome {
    /// Computed and written.
    Done(Box<Correlation>),
    /// Planned only.
    DryRun(Box<Plan>),
}

/// What `correlate --dry-run` resolves for a cell without reading any data.
#[derive(Debug, serde::Serialize)]
pub struct Plan {
    /// Cell.
    pub cell_id: String,
    /// Always true.
    pub dry_run: bool,
    /// The source that would be read.
    pub source: String,
    /// The window and where it came from.
    pub window: Window,
    /// Expected GPU count and its source (`None`: the GPUs seen will be used).
    pub expected_gpus: Option<(u32, String)>,
    /// Hardware row named by the flags or the bench context (`None`: from `modelName`).
    pub hw_key: Option<String>,
    /// The raw-sample queries.
    pub queries: Vec<sol_core::correlation::QueryRecord>,
    /// What the real run does beyond these queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `correlate` for one cell.
pub fn correlate_cell(
    args: &CorrelateArgs,
    campaign: &CampaignDir,
    cell_id: &str,
    ceilings: &Ceilings,
) -> Result<CellOutcome, AppError> {
    let cell = campaign.cell(cell_id).map_err(input)?;
    let (window, context) = cell_window_and_context(campaign, &cell, &args.window)?;
    let scope = scope_of(&args.scope)?;
    let source = CellSource::for_cell(&args.source, campaign, &cell)?;
    let margin_s = MARGIN_INTERVALS * ceilings.dcgm_config().expected_scrape_interval_s;
    let request = FetchRequest::all_catalog_metrics(&scope, &window, margin_s);
    request.check_range().map_err(input)?;
    let expected = args
        .n_gpus
        .map(|n| (n, "--n-gpus".to_string()))
        .or_else(|| {
            context
                .expected_gpus()
                .map(|n| (n, "bench context TP×DP×PP".to_string()))
        });
    if expected.as_ref().is_some_and(|(n, _)| *n == 0) {
        return Err(input(anyhow!("--n-gpus must be at least 1")));
    }
    if args.dry_run {
        // Everything that does not need data is resolved and checked: a bad hardware key fails
        // here as it would in the real run.
        let hw_key = args.eval.hw_key.clone().or_else(|| context.hw_key.clone());
        if let Some(key) = &hw_key {
            ceilings.row(key).map_err(input)?;
        }
        let captured = source.captured_source();
        return Ok(CellOutcome::DryRun(Box::new(Plan {
            cell_id: cell_id.to_string(),
            dry_run: true,
            queries: query_records(&raw_sample_plan(&request, &request.metrics), &captured),
            source: captured,
            window,
            expected_gpus: expected,
            hw_key,
            note: source.probes_first().then(|| {
                "the run first lists the series in scope (one /api/v1/series request, refused above --max-series) and reads one series' scrape interval; metrics absent in scope are then not queried, a workload scope is queried by the UUIDs it matched, and host/UUID items move into the queries on the labels the listing found".to_string()
            }),
        })));
    }
    let fetched = source.fetch(&request)?;
    let measured = measure_cell(
        &CellData {
            series: &fetched.series,
            window: &window,
            expected_gpus: expected,
            hw_key: args.eval.hw_key.as_deref(),
            context: &context,
        },
        ceilings,
    )
    .map_err(eval_error)?;
    let evaluation = Evaluation {
        cell: &cell,
        campaign,
        ceilings,
        hardware: measured.hardware,
        context,
        provenance: Provenance {
            captured_sources: vec![fetched.captured_source],
            queries: fetched.queries,
            scope,
        },
        extra_warnings: measured
            .warnings
            .into_iter()
            .chain(future_window_warning(window.end_s, now_s()))
            .chain(
                fetched
                    .warnings
                    .iter()
                    .map(|w| format!("SOURCE WARNING: the server said: {w}")),
            )
            .collect(),
        eval: &args.eval,
    };
    let result = evaluate_cell(
        &evaluation,
        &measured.measurement,
        args.eval.tensor_peak.as_deref(),
    )?;
    // The result first: a failure writing the snapshot leaves a current result, never a
    // snapshot newer than the result it belongs to.
    write_json(&cell, &result)?;
    let frozen = FrozenSnapshot::of_result(
        &result,
        FrozenExtension {
            cell_id: cell_id.to_string(),
            hardware: evaluation.hardware.clone(),
            context: evaluation.context.clone(),
            tensor_peak: args.eval.tensor_peak.clone(),
            provenance: evaluation.provenance.clone(),
            extra_warnings: evaluation.extra_warnings.clone(),
            measurement: measured.measurement,
        },
    );
    let frozen_path = cell.file(OUTPUT_FROZEN);
    let yaml = frozen.to_yaml().map_err(runtime)?;
    write_atomic(&frozen_path, yaml.as_bytes())
        .with_context(|| format!("writing {}", frozen_path.display()))
        .map_err(runtime)?;
    if args.emit_llmd {
        let written = emit_llmd(&cell, &result)?;
        tracing::info!("wrote {}", written.display());
    }
    Ok(CellOutcome::Done(Box::new(result)))
}

/// Writes a copy of the cell's llm-d Benchmark Report with the result in
/// `results.observability`, beside it in the cell.
fn emit_llmd(cell: &CellDir, result: &Correlation) -> Result<std::path::PathBuf, AppError> {
    let bench = result.context.bench_file.as_deref().ok_or_else(|| {
        input(anyhow!(
            "--emit-llmd: cell `{}` has no bench file to add the result to",
            cell.id
        ))
    })?;
    // The context names the file as the reader saw it: its name in the cell.
    let name = Path::new(bench).file_name().unwrap_or_default();
    let path = cell.path.join(name);
    let text = read_text(&path).map_err(input)?;
    if sniff(&text) != Some(BenchFormat::LlmdBenchmarkReport) {
        return Err(input(anyhow!(
            "--emit-llmd: {} is not an llm-d Benchmark Report; the option only applies to those",
            path.display()
        )));
    }
    let observability = llmd_observability(
        result,
        &format!("cells/{}/{}", cell.id, sol_io::OUTPUT_CORRELATION),
    );
    let report = llmd_with_observability(&text, &observability)
        .map_err(|e| input(anyhow!("{}: {e}", path.display())))?;
    let stem = path
        .file_stem()
        .map_or_else(|| "llmd-report".into(), |s| s.to_string_lossy());
    let out = cell.file(&format!("{stem}{LLMD_WITH_SOL_SUFFIX}"));
    write_atomic(&out, report.as_bytes())
        .with_context(|| format!("writing {}", out.display()))
        .map_err(runtime)?;
    Ok(out)
}

/// This machine's clock, epoch seconds.
fn now_s() -> f64 {
    jiff::Timestamp::now().as_millisecond() as f64 / 1000.0
}

/// `fold`: a frozen snapshot back into the cell's dcgm_correlation.json.
pub fn fold_cell(
    campaign: &CampaignDir,
    cell_id: &str,
    frozen_path: &Path,
    eval: &EvalArgs,
    ceilings: &Ceilings,
) -> Result<Correlation, AppError> {
    let cell = campaign.cell(cell_id).map_err(input)?;
    let text = read_text(frozen_path).map_err(input)?;
    let snapshot = FrozenSnapshot::from_yaml(&text)
        .map_err(|e| input(anyhow!("{}: {e}", frozen_path.display())))?;
    let origin = display_path(campaign, frozen_path);
    let (measurement, hardware, context, provenance, mut extra_warnings, tensor_peak) =
        match snapshot.dcgm_sol.clone() {
            Some(ext) => (
                ext.measurement,
                ext.hardware,
                ext.context,
                ext.provenance,
                ext.extra_warnings,
                ext.tensor_peak,
            ),
            None => {
                let row = ceilings
                    .row(&snapshot.hw_key)
                    .map_err(|e| input(anyhow!("{}: hw_key: {e}", frozen_path.display())))?;
                let seed = snapshot
                    .seed_fold(&origin, row)
                    .map_err(|e| input(anyhow!("{}: {e}", frozen_path.display())))?;
                let mut context = atlas_context(campaign, cell_id)?.unwrap_or_default();
                context
                    .hw_key
                    .get_or_insert_with(|| snapshot.hw_key.clone());
                (
                    seed.measurement,
                    seed.hardware,
                    context,
                    seed.provenance,
                    Vec::new(),
                    seed.tensor_peak,
                )
            }
        };
    extra_warnings.extend(future_window_warning(measurement.window.end_s, now_s()));
    let hardware = match &eval.hw_key {
        Some(key) => HwSelection {
            hw_key: key.clone(),
            source: "--hw-key".to_string(),
        },
        None => hardware,
    };
    let evaluation = Evaluation {
        cell: &cell,
        campaign,
        ceilings,
        hardware,
        context,
        provenance,
        extra_warnings,
        eval,
    };
    let tensor_peak = eval.tensor_peak.clone().or(tensor_peak);
    let result = evaluate_cell(&evaluation, &measurement, tensor_peak.as_deref())?;
    write_json(&cell, &result)?;
    Ok(result)
}
