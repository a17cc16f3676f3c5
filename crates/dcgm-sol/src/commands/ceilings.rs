//! `dcgm-sol ceilings [list | show KEY]`.

use anyhow::anyhow;
use sol_core::ceilings::{render_list, render_row};

use crate::cli::{CeilingsAction, CeilingsArgs, GlobalArgs};
use crate::exit::{AppError, input, runtime};
use crate::inputs::{ceilings_for, open_campaign};
use crate::output::{print_stdout, sorted_json};

pub fn run(global: &GlobalArgs, args: &CeilingsArgs) -> Result<(), AppError> {
    let campaign = args
        .campaign
        .as_deref()
        .map(|slug| open_campaign(global, slug))
        .transpose()?;
    let ceilings = ceilings_for(global, campaign.as_ref())?;
    let text = match &args.action {
        None | Some(CeilingsAction::List) => {
            if global.json {
                sorted_json(&ceilings).map_err(runtime)?
            } else {
                render_list(&ceilings)
            }
        }
        Some(CeilingsAction::Show { key }) => {
            let row = ceilings.row(key).map_err(|e| input(anyhow!("{e}")))?;
            if global.json {
                sorted_json(row).map_err(runtime)?
            } else {
                render_row(&ceilings, row)
            }
        }
    };
    print_stdout(&text);
    Ok(())
}
