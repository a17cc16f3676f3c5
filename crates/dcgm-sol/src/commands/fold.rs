//! `dcgm-sol fold`: a frozen snapshot back into dcgm_correlation.json.

use anyhow::anyhow;
use sol_core::correlation::render_table;

use crate::cli::{FoldArgs, GlobalArgs};
use crate::exit::{AppError, input, runtime};
use crate::inputs::{ceilings_for, open_campaign};
use crate::output::{print_stdout, sorted_json};
use crate::pipeline::fold_cell;

pub fn run(global: &GlobalArgs, args: &FoldArgs) -> Result<(), AppError> {
    let cell_id = args
        .cell
        .cell_id
        .as_deref()
        .ok_or_else(|| input(anyhow!("fold needs --cell-id")))?;
    let campaign = open_campaign(global, &args.cell.campaign)?;
    let ceilings = ceilings_for(global, Some(&campaign))?;
    let result = fold_cell(&campaign, cell_id, &args.frozen_yaml, &args.eval, &ceilings)?;
    let text = if global.json {
        sorted_json(&result).map_err(runtime)?
    } else {
        render_table(&result)
    };
    print_stdout(&text);
    Ok(())
}
