//! `dcgm-sol probe`: the pre-flight — which DCGM metrics, labels, tiers, hosts and GPUs are in
//! scope, and how many series — before any data query. Reads, never writes.

use anyhow::anyhow;
use sol_core::probe::render_probe;
use sol_core::source::{FetchRequest, MARGIN_INTERVALS};

use crate::cli::{GlobalArgs, ProbeArgs};
use crate::exit::{AppError, input, runtime};
use crate::inputs::{
    ceilings_for, cell_window_and_context, open_campaign, scope_of, window_from_flags,
};
use crate::output::{print_stdout, sorted_json};
use crate::sources::CellSource;

pub fn run(global: &GlobalArgs, args: &ProbeArgs) -> Result<(), AppError> {
    let (window, source, ceilings) = match (&args.campaign, &args.cell_id) {
        (Some(slug), Some(cell_id)) => {
            let campaign = open_campaign(global, slug)?;
            let cell = campaign.cell(cell_id).map_err(input)?;
            let (window, _) = cell_window_and_context(&campaign, &cell, &args.window)?;
            let source = CellSource::for_cell(&args.source, &campaign, &cell)?;
            (window, source, ceilings_for(global, Some(&campaign))?)
        }
        _ => {
            let window = window_from_flags(&args.window)?.ok_or_else(|| {
                input(anyhow!(
                    "probe needs a window: --campaign and --cell-id, or --start and --end"
                ))
            })?;
            (
                window,
                CellSource::from_flags(&args.source)?,
                ceilings_for(global, None)?,
            )
        }
    };
    let scope = scope_of(&args.scope)?;
    let margin_s = MARGIN_INTERVALS * ceilings.dcgm_config().expected_scrape_interval_s;
    let request = FetchRequest::all_catalog_metrics(&scope, &window, margin_s);
    request.check_range().map_err(input)?;
    let probed = source.probe(&request, args.source.max_series)?;
    for warning in &probed.warnings {
        tracing::warn!("{}: {warning}", source.captured_source());
    }
    let text = if global.json {
        sorted_json(&probed.report).map_err(runtime)?
    } else {
        render_probe(&probed.report)
    };
    print_stdout(&text);
    CellSource::check_bound(&probed.report, args.source.force)
}
