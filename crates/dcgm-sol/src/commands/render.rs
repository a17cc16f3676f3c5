//! `dcgm-sol render`: the campaign report — `report/index.html`, one SVG per chart — and
//! `report_status.json`. Cells without a usable result are listed, not fatal; only a campaign
//! with nothing to show fails.

use std::fs;
use std::path::Path;

use anyhow::{Context as _, anyhow};
use sol_core::report::html::render_report;
use sol_io::{write_atomic, write_atomic_batch};

use crate::cli::{CampaignArgs, GlobalArgs};
use crate::exit::{AppError, input, runtime};
use crate::inputs::{cell_results, open_campaign};
use crate::output::{print_stdout, sorted_json};

/// Directory of the report inside the campaign.
const REPORT_DIR: &str = "report";
/// The status file beside it.
const STATUS_FILE: &str = "report_status.json";

pub fn run(global: &GlobalArgs, args: &CampaignArgs) -> Result<(), AppError> {
    let campaign = open_campaign(global, &args.campaign)?;
    let cells = cell_results(&campaign)?;
    let report = render_report(&campaign.slug, &cells, env!("CARGO_PKG_VERSION"));
    let dir = campaign.path.join(REPORT_DIR);
    fs::create_dir_all(&dir)
        .with_context(|| format!("creating {}", dir.display()))
        .map_err(runtime)?;
    // The report directory must be the campaign's own: a symlink out of it would have the
    // report written over whatever it points at.
    let resolved = fs::canonicalize(&dir)
        .with_context(|| format!("resolving {}", dir.display()))
        .map_err(runtime)?;
    if !resolved.starts_with(&campaign.path) {
        return Err(input(anyhow!(
            "{} resolves to {}, outside the campaign {}: refused; make it a plain directory",
            dir.display(),
            resolved.display(),
            campaign.path.display()
        )));
    }
    // Charts first and the page after them, the status last: a reader never finds a page
    // pointing at charts that are not there yet.
    write_atomic_batch(
        &dir,
        report
            .charts
            .iter()
            .map(|c| (c.file_name.as_str(), c.svg.as_bytes())),
    )
    .with_context(|| format!("writing the charts into {}", dir.display()))
    .map_err(runtime)?;
    remove_stale_charts(&dir, report.charts.iter().map(|c| c.file_name.as_str()))?;
    let index = dir.join("index.html");
    write(&index, report.html.as_bytes())?;
    let status_text = sorted_json(&report.status).map_err(runtime)?;
    write(&campaign.path.join(STATUS_FILE), status_text.as_bytes())?;
    let status = &report.status;
    print_stdout(&if global.json {
        status_text
    } else {
        format!(
            "report: {} ({} of {} cells, {} charts)\nstatus: {} · DCGM-grounded: {} · rigor {} · {} omission(s)\n",
            index.display(),
            status.cells_with_result,
            status.cells_total,
            report.charts.len(),
            campaign.path.join(STATUS_FILE).display(),
            if status.dcgm_grounded { "yes" } else { "no" },
            status.sol_rigor,
            status.omitted.len()
        )
    });
    if status.cells_with_result == 0 {
        return Err(runtime(anyhow!(
            "campaign `{}`: no cell has a usable dcgm_correlation.json, so the report shows nothing; run `dcgm-sol correlate --campaign {} --all-cells` first (the completeness section of {} lists each cell)",
            campaign.slug,
            campaign.slug,
            index.display()
        )));
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    write_atomic(path, bytes)
        .with_context(|| format!("writing {}", path.display()))
        .map_err(runtime)
}

/// Removes SVGs a previous render wrote for cells or views that are gone.
fn remove_stale_charts<'a>(
    dir: &Path,
    current: impl Iterator<Item = &'a str>,
) -> Result<(), AppError> {
    let current: Vec<&str> = current.collect();
    let entries = fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))
        .map_err(runtime)?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".svg") && !current.contains(&name.as_str()) {
            fs::remove_file(entry.path())
                .with_context(|| format!("removing the stale chart {}", entry.path().display()))
                .map_err(runtime)?;
        }
    }
    Ok(())
}
