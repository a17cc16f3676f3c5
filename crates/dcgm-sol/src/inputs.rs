//! Reading a cell's inputs: the campaign and its ceilings, the bench result (window and
//! context), atlas.jsonl, kernels.json, the scope flags — and the cells' results for the report.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use sol_core::bench::{
    BenchError, BenchReadOptions, BenchRun, read_atlas, read_bench, window_from_mtime,
};
use sol_core::ceilings::Ceilings;
use sol_core::context::Context;
use sol_core::correlation::KernelCategories;
use sol_core::record::RecordManifest;
use sol_core::report::status::{CellInput, ReportCell, parse_result};
use sol_core::scope::{Scope, parse_selector};
use sol_core::time::parse_instant;
use sol_core::window::{Window, WindowConfidence};
use sol_io::{BenchRunRef, CampaignDir, CellDir, PERFBENCH_FILE, read_text};

use crate::cli::{EvalArgs, GlobalArgs, ScopeArgs, WindowArgs};
use crate::exit::{AppError, input};

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
pub fn display_path(campaign: &CampaignDir, path: &Path) -> String {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    real.strip_prefix(&campaign.path)
        .map_or_else(|_| path.display().to_string(), |p| p.display().to_string())
}

/// The atlas.jsonl context of a cell, if the campaign has one.
pub fn atlas_context(campaign: &CampaignDir, cell_id: &str) -> Result<Option<Context>, AppError> {
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

/// A cell's bench file read: every run, the file, and the run a split-off cell stands for.
pub struct BenchRuns {
    /// Every run of the file.
    pub runs: Vec<BenchRun>,
    /// The file.
    pub path: PathBuf,
    /// For a cell split off a multi-run file: its run.
    pub pinned_index: Option<usize>,
}

/// Finds and reads the cell's bench file (for a cell split off another, that cell's file).
/// `None` when the cell has no bench file at all.
pub fn bench_runs(
    campaign: &CampaignDir,
    cell: &CellDir,
    args: &WindowArgs,
) -> Result<Option<BenchRuns>, AppError> {
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
    let reference = match (&args.bench_file, cell.bench_run_ref()) {
        (None, Some(path)) => Some(read_bench_run_ref(&path)?),
        _ => None,
    };
    // An explicit file, the split-off run's file, or the seed's bundle by name must read; other
    // JSON in the cell is tried in name order and skipped only when it is not a bench result.
    let explicit = match &reference {
        Some(reference) => Some(
            campaign
                .cell(&reference.from_cell)
                .map_err(input)?
                .file(&reference.bench_file),
        ),
        None => args
            .bench_file
            .clone()
            .or_else(|| Some(cell.file(PERFBENCH_FILE)).filter(|p| p.exists())),
    };
    let pinned_index = reference.map(|r| r.index);
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
    Ok(Some(BenchRuns {
        runs,
        path,
        pinned_index,
    }))
}

/// The cell's recorded scrapes: its own, else (for a cell split off another) that cell's — one
/// recording of a whole sweep serves every run.
pub fn cell_recording(campaign: &CampaignDir, cell: &CellDir) -> Result<Option<PathBuf>, AppError> {
    if let Some(path) = cell.scrapes() {
        return Ok(Some(path));
    }
    let Some(reference) = cell.bench_run_ref() else {
        return Ok(None);
    };
    let from = read_bench_run_ref(&reference)?.from_cell;
    Ok(campaign.cell(&from).map_err(input)?.scrapes())
}

fn read_bench_run_ref(path: &Path) -> Result<BenchRunRef, AppError> {
    let text = read_text(path).map_err(input)?;
    serde_json::from_str(&text).map_err(|e| {
        input(anyhow!(
            "{}: not a dcgm-sol run reference ({e}); delete the cell and split again with --split-runs",
            path.display()
        ))
    })
}

/// The run a cell stands for, from its bench file.
struct ChosenRun {
    run: BenchRun,
    path: PathBuf,
    /// The file's last run: the only one its modification time can date.
    last_in_file: bool,
}

/// The cell's bench run: `--bench-index`, the split-off cell's run, or the file's only run.
fn bench_run(
    campaign: &CampaignDir,
    cell: &CellDir,
    args: &WindowArgs,
) -> Result<Option<ChosenRun>, AppError> {
    let Some(BenchRuns {
        runs,
        path,
        pinned_index,
    }) = bench_runs(campaign, cell, args)?
    else {
        return Ok(None);
    };
    let last_index = runs.iter().map(|r| r.index).max();
    let run = match (args.bench_index.or(pinned_index), runs.len()) {
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
                "{} holds {} runs ({listing}); choose one with --bench-index, or make each its own cell with --split-runs",
                path.display(),
                runs.len()
            )));
        }
    };
    Ok(Some(ChosenRun {
        last_in_file: Some(run.index) == last_index,
        run,
        path,
    }))
}

pub fn window_from_flags(args: &WindowArgs) -> Result<Option<Window>, AppError> {
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

pub fn scope_of(args: &ScopeArgs) -> Result<Scope, AppError> {
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

pub fn kernels_of(
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

/// A cell's window and context: the bench result (or `--start/--end`), atlas.jsonl filling
/// what the bench file lacks.
pub fn cell_window_and_context(
    campaign: &CampaignDir,
    cell: &CellDir,
    args: &WindowArgs,
) -> Result<(Window, Context), AppError> {
    let run = bench_run(campaign, cell, args)?;
    let mut context = run
        .as_ref()
        .map(|chosen| chosen.run.context.clone())
        .unwrap_or_default();
    if let Some(chosen) = &run {
        context
            .bench_file
            .get_or_insert_with(|| display_path(campaign, &chosen.path));
        context.bench_index.get_or_insert(chosen.run.index);
    }
    if let Some(atlas) = atlas_context(campaign, &cell.id)? {
        context.fill_from(&atlas);
    }
    // The bench file's own window when it is exact; else the run `record` timed; else whatever
    // the bench file gives; else (SGLang, inference-perf: a duration but no clock time) the
    // duration ending at the file's modification time, flagged `external`.
    let window = match (
        window_from_flags(args)?,
        run.as_ref().and_then(|chosen| chosen.run.window.clone()),
        recorded_window(cell)?,
    ) {
        (Some(flags), _, _) => flags,
        (None, Some(bench), _) if bench.confidence == WindowConfidence::Exact => bench,
        (None, _, Some(recorded)) => recorded,
        (None, Some(bench), None) => bench,
        (None, None, None) if let Some(window) = run.as_ref().and_then(mtime_window) => {
            tracing::warn!(
                "cell `{}`: {}; pass --start/--end, or run the bench under `dcgm-sol record`, for a window you can trust",
                cell.id,
                window.source
            );
            window
        }
        (None, None, None) => {
            let why = if run.is_some() {
                "its bench file records no absolute time nor a duration".to_string()
            } else {
                no_bench_file(cell)
            };
            return Err(input(anyhow!(
                "cell `{}`: {why}; give the window with --start and --end",
                cell.id
            )));
        }
    };
    Ok((window, context))
}

/// A run's duration ending at its file's modification time — only for the file's last run
/// (a JSON Lines file is modified when its last line is appended).
fn mtime_window(chosen: &ChosenRun) -> Option<Window> {
    if !chosen.last_in_file {
        return None;
    }
    let (run, path) = (&chosen.run, &chosen.path);
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    let mtime_s = modified
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs_f64();
    let name = path.file_name()?.to_string_lossy();
    window_from_mtime(run, &name, mtime_s)
}

/// Why a cell has no bench result: the files that were tried and what each is.
fn no_bench_file(cell: &CellDir) -> String {
    let tried: Vec<String> = cell
        .bench_candidates()
        .unwrap_or_default()
        .iter()
        .filter_map(|path| {
            let text = read_text(path).ok()?;
            let name = path.file_name()?.to_string_lossy().into_owned();
            read_bench(&name, &text, &BenchReadOptions::default())
                .err()
                .map(|e| e.to_string())
        })
        .collect();
    if tried.is_empty() {
        "it has no supported bench result file".to_string()
    } else {
        format!(
            "none of its files is a supported bench result ({})",
            tried.join("; ")
        )
    }
}

/// The window of the command `record` ran in the cell, when it did.
fn recorded_window(cell: &CellDir) -> Result<Option<Window>, AppError> {
    let path = cell.file(sol_io::RECORD_MANIFEST);
    if !path.is_file() {
        return Ok(None);
    }
    let text = read_text(&path).map_err(input)?;
    let manifest: RecordManifest = serde_json::from_str(&text).map_err(|e| {
        input(anyhow!(
            "{}: not a dcgm-sol record manifest ({e}); delete it or re-run record",
            path.display()
        ))
    })?;
    Ok(Some(manifest.window()))
}

/// Every cell of a campaign with its dcgm_correlation.json read (or why it cannot be), in cell
/// order: what `render` and `summary` show.
pub fn cell_results(campaign: &CampaignDir) -> Result<Vec<ReportCell>, AppError> {
    let ids = campaign.cell_ids().map_err(input)?;
    ids.into_iter()
        .map(|cell_id| {
            let cell = campaign.cell(&cell_id).map_err(input)?;
            let path = cell.file(sol_io::OUTPUT_CORRELATION);
            let input = if !path.exists() {
                CellInput::NoResult
            } else {
                match read_text(&path) {
                    Ok(text) => parse_result(&text).map_or_else(CellInput::Unreadable, |result| {
                        CellInput::Result(Box::new(result))
                    }),
                    Err(error) => CellInput::Unreadable(error.to_string()),
                }
            };
            Ok(ReportCell { cell_id, input })
        })
        .collect()
}
