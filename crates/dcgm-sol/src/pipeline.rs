//! One cell, end to end: bench file → window + context → metric source → measurement →
//! evaluation → atomic writes. Shared by `correlate` (one cell or all) and `fold`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use sol_core::bench::{BenchError, BenchReadOptions, BenchRun, read_atlas, read_bench};
use sol_core::ceilings::Ceilings;
use sol_core::context::Context;
use sol_core::correlation::{
    CellData, Correlation, EvalError, EvalInput, HwSelection, KernelCategories, Provenance,
    evaluate, measure_cell,
};
use sol_core::frozen::{FrozenExtension, FrozenSnapshot};
use sol_core::measure::Measurement;
use sol_core::scope::{Scope, parse_selector};
use sol_core::source::{FetchRequest, Fetched, MetricSource};
use sol_core::time::parse_instant;
use sol_core::window::{Window, WindowConfidence};
use sol_io::{
    CampaignDir, CellDir, OUTPUT_CORRELATION, OUTPUT_FROZEN, PERFBENCH_FILE, RecordedScrapes,
    read_text, write_atomic,
};

use crate::cli::{CorrelateArgs, EvalArgs, GlobalArgs};
use crate::exit::{AppError, input, runtime};
use crate::output::sorted_json;

/// Seconds fetched beyond each window edge, in scrape intervals (covers the edge samples).
const MARGIN_INTERVALS: f64 = 3.0;

/// Opens the campaign directory (confined to --campaigns-dir).
pub fn open_campaign(global: &GlobalArgs, slug: &str) -> Result<CampaignDir, AppError> {
    CampaignDir::open(&global.campaigns_dir, slug).map_err(input)
}

/// The ceilings in force for a campaign.
pub fn ceilings_for(
    global: &GlobalArgs,
    campaign: Option<&CampaignDir>,
) -> Result<Ceilings, AppError> {
    let env_value = std::env::var("SOL_CEILINGS_YAML").ok();
    let choice = sol_io::load_ceilings(
        global.ceilings.as_deref(),
        env_value.as_deref(),
        campaign.map(|c| c.path.as_path()),
    )
    .map_err(input)?;
    for warning in choice.ceilings.warnings() {
        tracing::warn!("{warning}");
    }
    tracing::info!(
        "ceilings: {} ({})",
        choice
            .file
            .as_ref()
            .map_or("built-in".to_string(), |f| f.display().to_string()),
        choice.found_by
    );
    Ok(choice.ceilings)
}

/// A path as shown in results: relative to the campaign when inside it.
fn display_path(campaign: &CampaignDir, path: &Path) -> String {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    real.strip_prefix(&campaign.path)
        .map_or_else(|_| path.display().to_string(), |p| p.display().to_string())
}

/// The atlas.jsonl context of a cell, if the campaign has one.
fn atlas_context(campaign: &CampaignDir, cell_id: &str) -> Result<Option<Context>, AppError> {
    let Some(path) = campaign.atlas_path() else {
        return Ok(None);
    };
    let text = read_text(&path).map_err(input)?;
    let records = read_atlas(&path.display().to_string(), &text).map_err(input)?;
    Ok(records
        .into_iter()
        .find(|r| r.cell_id == cell_id)
        .map(|r| r.context))
}

fn timezone(name: Option<&str>) -> Result<Option<jiff::tz::TimeZone>, AppError> {
    match name {
        Some(name) => jiff::tz::TimeZone::get(name).map(Some).map_err(|e| {
            input(anyhow!(
                "--timezone {name}: {e} (use an IANA name such as UTC or Europe/Berlin)"
            ))
        }),
        None => Ok(jiff::tz::TimeZone::try_system().ok()),
    }
}

/// Finds and reads the cell's bench run. `None` when the cell has no bench file at all.
fn bench_run(
    cell: &CellDir,
    args: &CorrelateArgs,
) -> Result<Option<(BenchRun, PathBuf)>, AppError> {
    let options = BenchReadOptions {
        captured_at_is_end: args.captured_at_is_end,
        timezone: timezone(args.timezone.as_deref())?,
    };
    let read = |path: &Path| -> Result<Result<Vec<BenchRun>, BenchError>, AppError> {
        let text = read_text(path).map_err(input)?;
        let file_name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(read_bench(&file_name, &text, &options))
    };
    // An explicit file, or the seed's bundle by name, must read; other JSON in the cell is tried
    // in name order and skipped only when it is not a bench result at all.
    let explicit = args
        .bench_file
        .clone()
        .or_else(|| Some(cell.file(PERFBENCH_FILE)).filter(|p| p.is_file()));
    let (runs, path) = match explicit {
        Some(path) => (
            read(&path)?.map_err(|e| input(anyhow!("{}: {e}", path.display())))?,
            path,
        ),
        None => {
            let mut broken = Vec::new();
            let mut found = None;
            for path in cell.bench_candidates().map_err(input)? {
                match read(&path)? {
                    Ok(runs) => {
                        found = Some((runs, path));
                        break;
                    }
                    Err(BenchError::UnknownFormat { .. }) => {
                        tracing::info!("{}: not a bench result, skipped", path.display())
                    }
                    Err(e) => broken.push(format!("{}: {e}", path.display())),
                }
            }
            match (found, broken.is_empty()) {
                (Some(found), _) => found,
                (None, true) => return Ok(None),
                (None, false) => {
                    return Err(input(anyhow!(
                        "no readable bench result in the cell: {}",
                        broken.join("; ")
                    )));
                }
            }
        }
    };
    let run = match (args.bench_index, runs.len()) {
        (Some(index), _) => runs.into_iter().find(|r| r.index == index).ok_or_else(|| {
            input(anyhow!(
                "{}: no run with --bench-index {index}",
                path.display()
            ))
        })?,
        (None, 1) => runs
            .into_iter()
            .next()
            .ok_or_else(|| input(anyhow!("{}: no runs", path.display())))?,
        (None, _) => {
            let listing = runs
                .iter()
                .map(|r| format!("{}: {}", r.index, r.label))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(input(anyhow!(
                "{} holds {} runs ({listing}); choose one with --bench-index",
                path.display(),
                runs.len()
            )));
        }
    };
    Ok(Some((run, path)))
}

fn window_from_flags(args: &CorrelateArgs) -> Result<Option<Window>, AppError> {
    let (Some(start), Some(end)) = (&args.start, &args.end) else {
        return Ok(None);
    };
    let start_s = parse_instant(start).map_err(|e| input(anyhow!("--start: {e}")))?;
    let end_s = parse_instant(end).map_err(|e| input(anyhow!("--end: {e}")))?;
    if end_s <= start_s {
        return Err(input(anyhow!("--end {end} is not after --start {start}")));
    }
    Ok(Some(Window {
        start_s,
        end_s,
        source: "--start/--end".to_string(),
        confidence: WindowConfidence::External,
        timezone_assumption: None,
        resolution_s: None,
        full_span_s: None,
    }))
}

fn scope_of(args: &CorrelateArgs) -> Result<Scope, AppError> {
    Ok(Scope {
        namespace: args.namespace.clone(),
        selector: args
            .selector
            .as_deref()
            .map(parse_selector)
            .transpose()
            .map_err(|e| input(anyhow!("--selector: {e}")))?
            .unwrap_or_default(),
        hosts: args.hosts.clone(),
        gpu_uuids: args.gpu_uuids.clone(),
    })
}

fn kernels_of(
    campaign: &CampaignDir,
    cell: &CellDir,
    eval: &EvalArgs,
) -> Result<Option<(KernelCategories, String)>, AppError> {
    let Some(path) = eval.kernels_json.clone().or_else(|| cell.kernels()) else {
        return Ok(None);
    };
    let text = read_text(&path).map_err(input)?;
    let kernels = KernelCategories::from_json(&text)
        .map_err(|e| input(anyhow!("{}: {e}", path.display())))?;
    Ok(Some((kernels, display_path(campaign, &path))))
}

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
}

/// `correlate` for one cell.
pub fn correlate_cell(
    args: &CorrelateArgs,
    campaign: &CampaignDir,
    cell_id: &str,
    ceilings: &Ceilings,
) -> Result<CellOutcome, AppError> {
    let cell = campaign.cell(cell_id).map_err(input)?;
    let run = bench_run(&cell, args)?;
    let mut context = run
        .as_ref()
        .map(|(r, _)| r.context.clone())
        .unwrap_or_default();
    if let Some((r, path)) = &run {
        context
            .bench_file
            .get_or_insert_with(|| display_path(campaign, path));
        context.bench_index.get_or_insert(r.index);
    }
    if let Some(atlas) = atlas_context(campaign, cell_id)? {
        context.fill_from(&atlas);
    }
    let window = match (
        window_from_flags(args)?,
        run.as_ref().and_then(|(r, _)| r.window.clone()),
    ) {
        (Some(flags), _) => flags,
        (None, Some(window)) => window,
        (None, None) => {
            let why = if run.is_some() {
                "its bench file records no absolute time"
            } else {
                "it has no supported bench result file"
            };
            return Err(input(anyhow!(
                "cell `{cell_id}`: {why}; give the window with --start and --end"
            )));
        }
    };
    let scope = scope_of(args)?;
    let scrapes_path = args
        .scrapes
        .clone()
        .or_else(|| cell.scrapes())
        .ok_or_else(|| {
            input(anyhow!(
                "cell `{cell_id}`: no metric source — no {} in {} and no --scrapes FILE",
                sol_io::SCRAPES_FILE,
                cell.path.display()
            ))
        })?;
    let source = RecordedScrapes {
        display_name: display_path(campaign, &scrapes_path),
        path: scrapes_path,
    };
    let margin_s = MARGIN_INTERVALS * ceilings.dcgm_config().expected_scrape_interval_s;
    let request = FetchRequest::all_catalog_metrics(&scope, &window, margin_s);
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
        let captured = format!("recorded_scrapes:{}", source.display_name);
        return Ok(CellOutcome::DryRun(Box::new(Plan {
            cell_id: cell_id.to_string(),
            dry_run: true,
            queries: sol_core::source::query_records(
                &sol_core::source::raw_sample_plan(&request, &request.metrics),
                &captured,
            ),
            source: captured,
            window,
            expected_gpus: expected,
            hw_key,
        })));
    }
    // Every failure of a recorded source is a problem with the file: exit 2.
    let fetched: Fetched = source.fetch(&request).map_err(input)?;
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
        extra_warnings: measured.warnings,
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
    Ok(CellOutcome::Done(Box::new(result)))
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
    let (measurement, hardware, context, provenance, extra_warnings, tensor_peak) =
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
