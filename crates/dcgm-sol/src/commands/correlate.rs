//! `dcgm-sol correlate`: one cell, or every cell in parallel with a progress bar.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::anyhow;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use sol_core::correlation::{Correlation, render_table};
use sol_core::time::format_utc_millis;

use crate::cli::{CorrelateArgs, GlobalArgs};
use crate::exit::{AppError, input, runtime};
use crate::inputs::{ceilings_for, open_campaign};
use crate::output::{print_stdout, sorted_json};
use crate::pipeline::{CellOutcome, Plan, correlate_cell};
use crate::split::split_runs;

/// `--json` shape of `--all-cells`.
#[derive(Serialize)]
struct CellReport<'a> {
    cell_id: &'a str,
    ok: bool,
    exit_code: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a Correlation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<&'a Plan>,
}

pub fn run(global: &GlobalArgs, args: &CorrelateArgs) -> Result<(), AppError> {
    let campaign = open_campaign(global, &args.cell.campaign)?;
    let ceilings = ceilings_for(global, Some(&campaign))?;
    let mut cell_ids = match (&args.cell.cell_id, args.all_cells) {
        (Some(id), false) => vec![id.clone()],
        (None, true) => campaign.cell_ids().map_err(input)?,
        _ => return Err(input(anyhow!("give --cell-id ID or --all-cells"))),
    };
    if args.split_runs {
        cell_ids = split_runs(&campaign, &cell_ids, &args.window)?;
    }
    if cell_ids.is_empty() {
        return Err(input(anyhow!("campaign `{}` has no cells", campaign.slug)));
    }
    let outcomes = run_cells(&cell_ids, args.jobs, |id| {
        correlate_cell(args, &campaign, id, &ceilings)
    });
    report(global, args, &cell_ids, outcomes)
}

/// Runs `work` for every cell with bounded parallelism; results keep the cells' order.
fn run_cells<F>(
    cell_ids: &[String],
    jobs: Option<usize>,
    work: F,
) -> Vec<Result<CellOutcome, AppError>>
where
    F: Fn(&str) -> Result<CellOutcome, AppError> + Sync,
{
    if cell_ids.len() == 1 {
        return vec![work(&cell_ids[0])];
    }
    let workers = jobs
        .unwrap_or_else(|| {
            // A cell waits on its durable writes for a share of its time: two per core keep the
            // cores busy (measured in scripts/bench_all_cells.py).
            2 * std::thread::available_parallelism().map_or(1, usize::from)
        })
        .clamp(1, cell_ids.len());
    let progress =
        ProgressBar::with_draw_target(Some(cell_ids.len() as u64), ProgressDrawTarget::stderr());
    progress.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} cells {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<CellOutcome, AppError>>>> =
        cell_ids.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(id) = cell_ids.get(index) else { break };
                    let outcome = work(id);
                    if let Ok(mut slot) = slots[index].lock() {
                        *slot = Some(outcome);
                    }
                    progress.set_message(id.clone());
                    progress.inc(1);
                }
            });
        }
    });
    progress.finish_and_clear();
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner().ok().flatten().unwrap_or_else(|| {
                Err(runtime(anyhow!(
                    "worker stopped before finishing this cell"
                )))
            })
        })
        .collect()
}

fn report(
    global: &GlobalArgs,
    args: &CorrelateArgs,
    cell_ids: &[String],
    outcomes: Vec<Result<CellOutcome, AppError>>,
) -> Result<(), AppError> {
    let single = cell_ids.len() == 1 && !args.all_cells;
    if single {
        let outcome = outcomes
            .into_iter()
            .next()
            .ok_or_else(|| runtime(anyhow!("no outcome")))?;
        return print_outcome(global, &outcome?);
    }
    let mut worst: Option<AppError> = None;
    let mut text = String::new();
    let mut reports = Vec::new();
    for (id, outcome) in cell_ids.iter().zip(&outcomes) {
        match outcome {
            Ok(CellOutcome::Done(result)) => {
                text.push_str(&render_table(result));
                text.push('\n');
                reports.push(CellReport {
                    cell_id: id,
                    ok: true,
                    exit_code: 0,
                    error: None,
                    result: Some(result),
                    plan: None,
                });
            }
            Ok(CellOutcome::DryRun(plan)) => {
                text.push_str(&render_plan(plan));
                reports.push(CellReport {
                    cell_id: id,
                    ok: true,
                    exit_code: 0,
                    error: None,
                    result: None,
                    plan: Some(plan),
                });
            }
            Err(error) => {
                text.push_str(&format!("cell {id}: error: {:#}\n\n", error.error()));
                reports.push(CellReport {
                    cell_id: id,
                    ok: false,
                    exit_code: error.code(),
                    error: Some(format!("{:#}", error.error())),
                    result: None,
                    plan: None,
                });
            }
        }
    }
    let failed: Vec<(&String, &AppError)> = cell_ids
        .iter()
        .zip(&outcomes)
        .filter_map(|(id, o)| o.as_ref().err().map(|e| (id, e)))
        .collect();
    text.push_str(&format!(
        "{} cells: {} ok, {} failed\n",
        cell_ids.len(),
        cell_ids.len() - failed.len(),
        failed.len()
    ));
    print_stdout(&if global.json {
        sorted_json(&reports).map_err(runtime)?
    } else {
        text
    });
    for (id, error) in failed {
        let code = error.code();
        let summary = anyhow!("cell {id} failed: {:#}", error.error());
        let replace = worst.as_ref().is_none_or(|w| code > w.code());
        if replace {
            worst = Some(if code == crate::exit::INPUT_ERROR {
                input(summary)
            } else {
                runtime(summary)
            });
        }
    }
    worst.map_or(Ok(()), Err)
}

fn print_outcome(global: &GlobalArgs, outcome: &CellOutcome) -> Result<(), AppError> {
    let text = match outcome {
        CellOutcome::Done(result) => {
            if global.json {
                sorted_json(result.as_ref()).map_err(runtime)?
            } else {
                render_table(result)
            }
        }
        CellOutcome::DryRun(plan) => {
            if global.json {
                sorted_json(plan.as_ref()).map_err(runtime)?
            } else {
                render_plan(plan)
            }
        }
    };
    print_stdout(&text);
    Ok(())
}

/// The human form of a dry run: what was resolved and the queries that would run.
fn render_plan(plan: &Plan) -> String {
    let w = &plan.window;
    let mut text = format!("dry run for cell {}: nothing is read\n", plan.cell_id);
    text.push_str(&format!(
        "  window   {} → {} ({:.1} s, {:?}; {})\n",
        format_utc_millis(w.start_s),
        format_utc_millis(w.end_s),
        w.duration_s(),
        w.confidence,
        w.source
    ));
    let gpus = plan.expected_gpus.as_ref().map_or(
        "unknown — the GPUs seen will be used".to_string(),
        |(n, why)| format!("{n} ({why})"),
    );
    text.push_str(&format!("  GPUs     {gpus}\n"));
    text.push_str(&format!(
        "  hardware {}\n",
        plan.hw_key
            .as_deref()
            .unwrap_or("from the series' modelName")
    ));
    text.push_str(&format!(
        "  source   {} (host/UUID scope applied to the answer)\n",
        plan.source
    ));
    if let Some(note) = &plan.note {
        text.push_str(&format!("  first    {note}\n"));
    }
    for q in &plan.queries {
        text.push_str(&format!("  query    {}\n", q.promql));
    }
    text
}
