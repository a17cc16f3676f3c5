//! `dcgm-sol publish`: the campaign's results as rows of the Parquet lake — `campaign_v1` (one
//! row) and `dcgm_sol_v1` (one row per cell × resource) — in `<lake>/<table>/campaign=<slug>/`.

use anyhow::anyhow;
use serde::Serialize;
use sol_core::report::status::{ReportStatus, report_status};
use sol_lake::publish::{PublishMeta, Refusal, check_publishable, lake_files, partition_name};
use sol_lake::store::{IfExists, LakeStore, LocalLake};

use crate::cli::{GlobalArgs, IfExistsArg, PublishArgs};
use crate::exit::{AppError, input, runtime};
use crate::inputs::{cell_results, open_campaign};
use crate::output::{print_stdout, sorted_json};

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct PublishReport<'a> {
    campaign: &'a str,
    lake: String,
    publish_id: &'a str,
    if_exists: &'static str,
    dcgm_grounded: bool,
    sol_rigor: &'a str,
    cells_total: usize,
    cells_published: usize,
    cell_resource_rows: usize,
    partitions: &'a [String],
    files: &'a [String],
    replaced: &'a [String],
}

pub fn run(global: &GlobalArgs, args: &PublishArgs) -> Result<(), AppError> {
    let campaign = open_campaign(global, &args.campaign)?;
    let partition = partition_name(&campaign.slug).map_err(input)?;
    let cells = cell_results(&campaign)?;
    let status = report_status(&campaign.slug, &cells, Vec::new());
    check_publishable(&status, args.strict).map_err(|refusal| refused(&status, refusal))?;
    if !status.dcgm_grounded {
        tracing::warn!(
            "campaign `{}`: NOT DCGM-GROUNDED — only {} of {} cells have a usable dcgm_correlation.json; publishing with the gap recorded (campaign_v1.dcgm_grounded = false, omitted_cells lists them). Use --strict to refuse instead.\n{}",
            campaign.slug,
            status.cells_with_result,
            status.cells_total,
            omissions(&status)
        );
    }
    let published_at = jiff::Timestamp::now();
    let meta = PublishMeta {
        publish_id: uuid::Uuid::now_v7().to_string(),
        published_at_us: published_at.as_microsecond(),
        campaign_slug: campaign.slug.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let files = lake_files(&meta, &cells, &status).map_err(input)?;
    let store = LocalLake::new(&args.lake);
    let mode = match args.if_exists {
        IfExistsArg::Error => IfExists::Error,
        IfExistsArg::Overwrite => IfExists::Overwrite,
        IfExistsArg::Append => IfExists::Append,
    };
    let published = store
        .publish(&partition, &files, mode)
        .map_err(|error| runtime(anyhow!("publishing campaign `{}`: {error}", campaign.slug)))?;
    let cell_resource_rows = cells
        .iter()
        .filter_map(|c| c.result())
        .map(|r| r.resources.len())
        .sum();
    let report = PublishReport {
        campaign: &campaign.slug,
        lake: store.location(),
        publish_id: &meta.publish_id,
        if_exists: match mode {
            IfExists::Error => "error",
            IfExists::Overwrite => "overwrite",
            IfExists::Append => "append",
        },
        dcgm_grounded: status.dcgm_grounded,
        sol_rigor: &status.sol_rigor,
        cells_total: status.cells_total,
        cells_published: status.cells_with_result,
        cell_resource_rows,
        partitions: &published.partitions,
        files: &published.files,
        replaced: &published.replaced,
    };
    print_stdout(&if global.json {
        sorted_json(&report).map_err(runtime)?
    } else {
        format!(
            "published campaign {} to {} ({}): 1 campaign_v1 row, {} dcgm_sol_v1 rows from {} of {} cells · DCGM-grounded: {} · rigor {}\n{}\n",
            report.campaign,
            report.lake,
            report.if_exists,
            report.cell_resource_rows,
            report.cells_published,
            report.cells_total,
            if report.dcgm_grounded { "yes" } else { "NO" },
            report.sol_rigor,
            report
                .files
                .iter()
                .map(|f| format!("  {f}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    Ok(())
}

/// The cells left out, one per line.
fn omissions(status: &ReportStatus) -> String {
    status
        .omitted
        .iter()
        .map(|o| format!("  {}: {} — {}", o.what, o.reason, o.fix))
        .collect::<Vec<_>>()
        .join("\n")
}

fn refused(status: &ReportStatus, refusal: Refusal) -> AppError {
    let why = match refusal {
        Refusal::NothingToPublish => format!(
            "campaign `{}`: no cell has a usable dcgm_correlation.json, so there is nothing to publish; run `dcgm-sol correlate --campaign {} --all-cells` first",
            status.campaign, status.campaign
        ),
        Refusal::Ungrounded { grounded, total } => format!(
            "campaign `{}` is not DCGM-grounded ({grounded} of {total} cells have a usable result) and --strict refuses it; fix the cells below or publish without --strict to record the gap",
            status.campaign
        ),
    };
    runtime(anyhow!("{why}\n{}", omissions(status)))
}
