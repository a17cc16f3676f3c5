//! `dcgm-sol summary`: rewrites the "Workload-level SoL" table of the campaign's
//! `sol-summary.md` in place (created when absent); everything else in the file is kept byte
//! for byte, and a second run changes nothing.

use anyhow::{Context as _, anyhow};
use sol_core::report::status::cell_omission;
use sol_core::summary::{SummaryCell, patch_with_outcome, render_section};
use sol_io::{InputError, read_text, write_atomic};

use crate::cli::{CampaignArgs, GlobalArgs};
use crate::exit::{AppError, input, runtime};
use crate::inputs::{cell_results, open_campaign};
use crate::output::print_stdout;

/// The file patched, in the campaign directory.
const SUMMARY_FILE: &str = "sol-summary.md";

pub fn run(global: &GlobalArgs, args: &CampaignArgs) -> Result<(), AppError> {
    let campaign = open_campaign(global, &args.campaign)?;
    let cells = cell_results(&campaign)?;
    let result_paths: Vec<String> = cells
        .iter()
        .map(|c| format!("cells/{}/{}", c.cell_id, sol_io::OUTPUT_CORRELATION))
        .collect();
    let rows: Vec<SummaryCell> = cells
        .iter()
        .zip(&result_paths)
        .filter_map(|(cell, path)| {
            cell.result().map(|result| SummaryCell {
                cell_id: &cell.cell_id,
                result_path: path,
                result,
            })
        })
        .collect();
    let unreadable: Vec<(String, String)> = cells
        .iter()
        .filter_map(|cell| {
            cell_omission(cell).map(|o| (cell.cell_id.clone(), format!("{} — {}", o.reason, o.fix)))
        })
        .collect();
    if rows.is_empty() {
        return Err(runtime(anyhow!(
            "campaign `{}`: no cell has a usable dcgm_correlation.json; run `dcgm-sol correlate --campaign {} --all-cells` first",
            campaign.slug,
            campaign.slug
        )));
    }
    let path = campaign.path.join(SUMMARY_FILE);
    let existing = match read_text(&path) {
        Ok(text) => Some(text),
        Err(InputError::NotFound { .. }) => None,
        Err(error) => return Err(input(error)),
    };
    let outcome = patch_with_outcome(existing.as_deref(), &render_section(&rows, &unreadable));
    for note in &outcome.notes {
        tracing::warn!("{}: {note}", path.display());
    }
    let changed = existing.as_deref() != Some(outcome.text.as_str());
    if changed {
        write_atomic(&path, outcome.text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))
            .map_err(runtime)?;
    }
    let verb = match (changed, existing.is_some()) {
        (false, _) => "unchanged",
        (true, true) => "updated",
        (true, false) => "created",
    };
    let message = if global.json {
        serde_json::json!({
            "path": path,
            "status": verb,
            "placement": outcome.placement.to_string(),
            "notes": outcome.notes,
            "cells": rows.len(),
            "unreadable": unreadable.len(),
        })
        .to_string()
            + "\n"
    } else {
        format!(
            "{}: {verb} — {} ({} cells, {} without a usable result)\n",
            path.display(),
            outcome.placement,
            rows.len(),
            unreadable.len()
        )
    };
    print_stdout(&message);
    Ok(())
}
