//! `campaign_v1`: one row per published campaign — grounding and rigor, the context its cells
//! share, the best and median %SoL of each resource with its ceiling key, and energy per token.

use std::collections::BTreeSet;

use sol_core::correlation::Correlation;
use sol_core::measure::Resource;
use sol_core::report::status::ReportStatus;

use crate::cell_table::{count_i64, seconds_to_us};
use crate::columns::{Column, Value};
use crate::publish::{PublishMeta, Published, publish_columns};

impl Published for CampaignRow {
    fn meta(&self) -> &PublishMeta {
        &self.meta
    }
}

/// Table (directory) name.
pub const TABLE: &str = "campaign_v1";

/// One resource across the campaign's cells (full-window prof-tier %SoL figures).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSummary {
    /// Cells with a %SoL figure for the resource.
    pub cells: i64,
    /// Highest full-window %SoL.
    pub best_sol_pct: Option<f64>,
    /// The cell it came from (the first in cell order on a tie).
    pub best_cell_id: Option<String>,
    /// Median full-window %SoL (mean of the two middle values for an even count).
    pub median_sol_pct: Option<f64>,
    /// Highest steady-state %SoL.
    pub best_steady_state_sol_pct: Option<f64>,
    /// Ceiling keys the figures divide by (distinct, sorted, `, `-joined).
    pub ceiling_key: Option<String>,
}

/// The campaign row.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignRow {
    /// Who published, when.
    pub meta: PublishMeta,
    /// Earliest window start of the published cells, µs since the epoch.
    pub captured_start_us: Option<i64>,
    /// Latest window end, µs since the epoch.
    pub captured_end_us: Option<i64>,
    /// Cells in the campaign directory.
    pub cells_total: i64,
    /// Cells with a readable dcgm_correlation.json (the published ones).
    pub cells_grounded: i64,
    /// Every cell has a readable result.
    pub dcgm_grounded: bool,
    /// The least rigorous cell's rung.
    pub sol_rigor: String,
    /// Cells left out, each `"<cell>: <reason>"`.
    pub omitted_cells: Vec<String>,
    /// Distinct values across the cells, sorted and `, `-joined.
    pub hw_key: Option<String>,
    /// Distinct model names.
    pub model: Option<String>,
    /// Distinct quantisations.
    pub quant: Option<String>,
    /// Distinct engines.
    pub engine: Option<String>,
    /// TP when every cell that knows it agrees.
    pub tensor_parallel: Option<i64>,
    /// DP when every cell agrees.
    pub data_parallel: Option<i64>,
    /// PP when every cell agrees.
    pub pipeline_parallel: Option<i64>,
    /// GPUs per cell when every cell agrees.
    pub n_gpus: Option<i64>,
    /// Lowest configured concurrency.
    pub concurrency_min: Option<i64>,
    /// Highest configured concurrency.
    pub concurrency_max: Option<i64>,
    /// Per resource, in [`Resource::ALL`] order.
    pub resources: Vec<(Resource, ResourceSummary)>,
    /// Energy of the cells with a complete energy-per-token figure, J.
    pub energy_j: Option<f64>,
    /// Their output tokens.
    pub output_tokens: Option<i64>,
    /// `energy_j ÷ output_tokens`.
    pub joules_per_output_token: Option<f64>,
    /// Cells that figure covers.
    pub energy_cells: i64,
    /// What a reader must know (mixed context, gaps).
    pub notes: Vec<String>,
}

/// The campaign row from its readable results (cell order) and the report status of all cells.
pub fn row(meta: &PublishMeta, results: &[&Correlation], status: &ReportStatus) -> CampaignRow {
    let mut notes = Vec::new();
    let distinct = |values: Vec<Option<String>>, what: &str, notes: &mut Vec<String>| {
        let set: BTreeSet<String> = values.into_iter().flatten().collect();
        if set.len() > 1 {
            notes.push(format!("cells differ in {what}: {}", joined(&set)));
        }
        (!set.is_empty()).then(|| joined(&set))
    };
    let unanimous = |values: Vec<Option<u32>>, what: &str, notes: &mut Vec<String>| {
        // Unknown in some cells is not a disagreement.
        let set: BTreeSet<u32> = values.into_iter().flatten().collect();
        match set.len() {
            0 => None,
            1 => set.into_iter().next().map(i64::from),
            _ => {
                notes.push(format!("cells differ in {what}: left NULL"));
                None
            }
        }
    };
    let hw_key = distinct(
        results.iter().map(|r| Some(r.hw_key.clone())).collect(),
        "hw_key",
        &mut notes,
    );
    let model = distinct(
        results.iter().map(|r| r.context.model.clone()).collect(),
        "model",
        &mut notes,
    );
    let quant = distinct(
        results.iter().map(|r| r.context.quant.clone()).collect(),
        "quant",
        &mut notes,
    );
    let engine = distinct(
        results.iter().map(|r| r.context.engine.clone()).collect(),
        "engine",
        &mut notes,
    );
    let tensor_parallel = unanimous(
        results.iter().map(|r| r.context.tensor_parallel).collect(),
        "tensor_parallel",
        &mut notes,
    );
    let data_parallel = unanimous(
        results.iter().map(|r| r.context.data_parallel).collect(),
        "data_parallel",
        &mut notes,
    );
    let pipeline_parallel = unanimous(
        results
            .iter()
            .map(|r| r.context.pipeline_parallel)
            .collect(),
        "pipeline_parallel",
        &mut notes,
    );
    let n_gpus = unanimous(
        results.iter().map(|r| Some(r.n_gpus)).collect(),
        "n_gpus",
        &mut notes,
    );
    let concurrencies: Vec<i64> = results
        .iter()
        .filter_map(|r| r.context.concurrency.map(i64::from))
        .collect();
    let energy = energy_per_token(results);
    if energy.cells > 0 && energy.cells < results.len() as i64 {
        notes.push(format!(
            "energy per token covers {} of {} cells (the others lack energy data for some GPU or a token count)",
            energy.cells,
            results.len()
        ));
    }
    if !status.dcgm_grounded {
        notes.push(format!(
            "NOT DCGM-GROUNDED: {} of {} cells have a result; see omitted_cells",
            status.cells_with_result, status.cells_total
        ));
    }
    CampaignRow {
        meta: meta.clone(),
        captured_start_us: results
            .iter()
            .map(|r| seconds_to_us(r.window.start_s))
            .min(),
        captured_end_us: results.iter().map(|r| seconds_to_us(r.window.end_s)).max(),
        cells_total: status.cells_total as i64,
        cells_grounded: status.cells_with_result as i64,
        dcgm_grounded: status.dcgm_grounded,
        sol_rigor: status.sol_rigor.clone(),
        omitted_cells: status
            .omitted
            .iter()
            .filter_map(|o| Some(format!("{}: {}", o.cell_id.as_ref()?, o.reason)))
            .collect(),
        hw_key,
        model,
        quant,
        engine,
        tensor_parallel,
        data_parallel,
        pipeline_parallel,
        n_gpus,
        concurrency_min: concurrencies.iter().copied().min(),
        concurrency_max: concurrencies.iter().copied().max(),
        resources: Resource::ALL
            .iter()
            .map(|&resource| (resource, summarise(resource, results)))
            .collect(),
        energy_j: energy.energy_j,
        output_tokens: energy.output_tokens,
        joules_per_output_token: energy.joules_per_output_token,
        energy_cells: energy.cells,
        notes,
    }
}

fn joined(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

fn summarise(resource: Resource, results: &[&Correlation]) -> ResourceSummary {
    let rows: Vec<(&str, &sol_core::correlation::ResourceRow)> = results
        .iter()
        .flat_map(|r| {
            r.resources
                .iter()
                .filter(move |row| row.resource == resource)
                .map(move |row| (r.cell_id.as_str(), row))
        })
        .collect();
    let figures: Vec<(&str, f64)> = rows
        .iter()
        .filter_map(|(cell, row)| Some((*cell, row.sol_pct?)))
        .collect();
    let best = figures
        .iter()
        .fold(None::<(&str, f64)>, |best, &(cell, pct)| match best {
            Some((_, top)) if top >= pct => best,
            _ => Some((cell, pct)),
        });
    let ceilings: BTreeSet<String> = rows
        .iter()
        .filter(|(_, row)| row.sol_pct.is_some())
        .map(|(_, row)| row.ceiling.clone())
        .collect();
    ResourceSummary {
        cells: figures.len() as i64,
        best_sol_pct: best.map(|(_, pct)| pct),
        best_cell_id: best.map(|(cell, _)| cell.to_string()),
        median_sol_pct: median(figures.iter().map(|(_, pct)| *pct).collect()),
        best_steady_state_sol_pct: rows
            .iter()
            .filter_map(|(_, row)| row.steady_state_sol_pct)
            .fold(None, |top: Option<f64>, pct| {
                Some(top.map_or(pct, |t| t.max(pct)))
            }),
        ceiling_key: (!ceilings.is_empty()).then(|| joined(&ceilings)),
    }
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

struct EnergyPerToken {
    energy_j: Option<f64>,
    output_tokens: Option<i64>,
    joules_per_output_token: Option<f64>,
    cells: i64,
}

/// Σ energy ÷ Σ output tokens over the cells whose own energy-per-token figure exists (every
/// expected GPU has energy data and the token count is known) — a token-weighted mean.
fn energy_per_token(results: &[&Correlation]) -> EnergyPerToken {
    let complete: Vec<(f64, u64)> = results
        .iter()
        .filter(|r| r.energy.joules_per_output_token.is_some())
        .filter_map(|r| Some((r.energy.energy_j_total?, r.energy.output_tokens?)))
        .collect();
    let energy_j: f64 = complete.iter().map(|(j, _)| j).sum();
    let tokens: u64 = complete.iter().map(|(_, t)| t).sum();
    let any = !complete.is_empty() && tokens > 0;
    EnergyPerToken {
        energy_j: any.then_some(energy_j),
        output_tokens: if any { count_i64(tokens) } else { None },
        joules_per_output_token: any.then(|| energy_j / tokens as f64),
        cells: if any { complete.len() as i64 } else { 0 },
    }
}

/// The columns of `campaign_v1`, in file order.
pub fn columns() -> Vec<Column<CampaignRow>> {
    type Row<'r> = &'r CampaignRow;
    let mut columns = publish_columns();
    columns.extend([
        Column::optional(
            "captured_start",
            "Earliest window start among the published cells.",
            Value::timestamp_us(|r: Row| r.captured_start_us),
        ),
        Column::optional(
            "captured_end",
            "Latest window end among the published cells.",
            Value::timestamp_us(|r: Row| r.captured_end_us),
        ),
        Column::required(
            "cells_total",
            "Cells in the campaign directory.",
            Value::int64(|r: Row| Some(r.cells_total)),
        ),
        Column::required(
            "cells_grounded",
            "Cells with a readable dcgm_correlation.json (the ones published to dcgm_sol_v1).",
            Value::int64(|r: Row| Some(r.cells_grounded)),
        ),
        Column::required(
            "dcgm_grounded",
            "Every cell of the campaign has a DCGM result.",
            Value::bool(|r: Row| Some(r.dcgm_grounded)),
        ),
        Column::required(
            "sol_rigor",
            "The least rigorous cell's rung: L1 counter tier or no result, L2 counter + attribution, L3 DCGM-grounded, L4 with ncu evidence.",
            Value::text(|r: Row| Some(r.sol_rigor.clone())),
        ),
        Column::required(
            "omitted_cells",
            "Cells without a usable result, each `<cell>: <reason>`.",
            Value::text_list(|r: Row| r.omitted_cells.clone()),
        ),
        Column::optional(
            "hw_key",
            "Ceilings row of the cells (distinct values `, `-joined when they differ).",
            Value::text(|r: Row| r.hw_key.clone()),
        ),
        Column::optional(
            "model",
            "Model (distinct values `, `-joined when they differ).",
            Value::text(|r: Row| r.model.clone()),
        ),
        Column::optional(
            "quant",
            "Quantisation (distinct values `, `-joined when they differ).",
            Value::text(|r: Row| r.quant.clone()),
        ),
        Column::optional(
            "engine",
            "Serving engine (distinct values `, `-joined when they differ).",
            Value::text(|r: Row| r.engine.clone()),
        ),
        Column::optional(
            "tensor_parallel",
            "TP degree (NULL when unknown or when cells differ).",
            Value::int64(|r: Row| r.tensor_parallel),
        ),
        Column::optional(
            "data_parallel",
            "DP degree (NULL when unknown or when cells differ).",
            Value::int64(|r: Row| r.data_parallel),
        ),
        Column::optional(
            "pipeline_parallel",
            "PP degree (NULL when unknown or when cells differ).",
            Value::int64(|r: Row| r.pipeline_parallel),
        ),
        Column::optional(
            "n_gpus",
            "GPUs per cell (NULL when cells differ).",
            Value::int64(|r: Row| r.n_gpus),
        ),
        Column::optional(
            "concurrency_min",
            "Lowest configured concurrency of the sweep.",
            Value::int64(|r: Row| r.concurrency_min),
        ),
        Column::optional(
            "concurrency_max",
            "Highest configured concurrency of the sweep.",
            Value::int64(|r: Row| r.concurrency_max),
        ),
    ]);
    for resource in Resource::ALL {
        columns.extend(resource_columns(resource));
    }
    columns.extend([
        Column::optional(
            "energy_j",
            "Energy of the cells counted in `joules_per_output_token`, J.",
            Value::float(|r: Row| r.energy_j),
        ),
        Column::optional(
            "output_tokens",
            "Output tokens of those cells.",
            Value::int64(|r: Row| r.output_tokens),
        ),
        Column::optional(
            "joules_per_output_token",
            "Energy per output token over those cells (Σ energy ÷ Σ tokens), J.",
            Value::float(|r: Row| r.joules_per_output_token),
        ),
        Column::required(
            "energy_cells",
            "Cells with a complete energy-per-token figure.",
            Value::int64(|r: Row| Some(r.energy_cells)),
        ),
        Column::required(
            "notes",
            "What a reader must know: cells that differ in context, partial energy, missing grounding.",
            Value::text_list(|r: Row| r.notes.clone()),
        ),
        Column::required(
            "tool_version",
            "dcgm-sol version that published the row.",
            Value::text(|r: Row| Some(r.meta.tool_version.clone())),
        ),
    ]);
    columns
}

fn summary_of(row: &CampaignRow, resource: Resource) -> Option<&ResourceSummary> {
    row.resources
        .iter()
        .find(|(r, _)| *r == resource)
        .map(|(_, summary)| summary)
}

/// `<resource>_best_sol_pct` and its companions for one resource.
fn resource_columns(resource: Resource) -> Vec<Column<CampaignRow>> {
    let key = resource.key();
    vec![
        Column::required(
            format!("{key}_cells"),
            format!("Cells with a {key} %SoL figure (prof tier)."),
            Value::int64(move |r: &CampaignRow| {
                Some(summary_of(r, resource).map_or(0, |s| s.cells))
            }),
        ),
        Column::optional(
            format!("{key}_best_sol_pct"),
            format!("Highest full-window {key} %SoL of the campaign (0–100)."),
            Value::float(move |r: &CampaignRow| summary_of(r, resource)?.best_sol_pct),
        ),
        Column::optional(
            format!("{key}_best_cell_id"),
            format!("Cell of `{key}_best_sol_pct`."),
            Value::text(move |r: &CampaignRow| summary_of(r, resource)?.best_cell_id.clone()),
        ),
        Column::optional(
            format!("{key}_median_sol_pct"),
            format!("Median full-window {key} %SoL across the cells."),
            Value::float(move |r: &CampaignRow| summary_of(r, resource)?.median_sol_pct),
        ),
        Column::optional(
            format!("{key}_best_steady_state_sol_pct"),
            format!("Highest steady-state {key} %SoL."),
            Value::float(move |r: &CampaignRow| summary_of(r, resource)?.best_steady_state_sol_pct),
        ),
        Column::optional(
            format!("{key}_ceiling_key"),
            format!("`<hw_key>.<peak_key>` the {key} figures divide by."),
            Value::text(move |r: &CampaignRow| summary_of(r, resource)?.ceiling_key.clone()),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{example_cells, meta};
    use sol_core::report::status::{CellInput, ReportCell, report_status};

    #[test]
    fn example_campaign_row_by_hand() {
        let cells = example_cells();
        let status = report_status("h200-tp8-sweep", &cells, Vec::new());
        let results: Vec<&Correlation> = cells.iter().filter_map(ReportCell::result).collect();
        let row = row(&meta(), &results, &status);
        // Windows: c008 starts 14:00:00Z, c128 ends 14:32:00Z on 2026-11-20 (epoch 1795183200 s
        // and 1795185120 s: 1795185000 is c128's start, 14:30, and 14:00 is 1800 s earlier).
        assert_eq!(row.captured_start_us, Some(1_795_183_200_000_000));
        assert_eq!(row.captured_end_us, Some(1_795_185_120_000_000));
        assert_eq!((row.cells_total, row.cells_grounded), (4, 4));
        assert!(row.dcgm_grounded);
        assert_eq!(row.sol_rigor, "L3");
        assert_eq!(row.hw_key.as_deref(), Some("h200_sxm"));
        assert_eq!(row.tensor_parallel, Some(8));
        assert_eq!(row.n_gpus, Some(8));
        assert_eq!(
            (row.concurrency_min, row.concurrency_max),
            (Some(8), Some(128))
        );
        assert!(row.notes.is_empty(), "{:?}", row.notes);
        let hbm = &row.resources[0];
        assert_eq!(hbm.0, Resource::Hbm);
        // HBM full-window %SoL per cell: 30.463, 49.4533, 60.9736, 69.6808 → best c128, median
        // the mean of the middle two: (49.4533 + 60.9736) / 2 = 55.21345.
        assert_eq!(hbm.1.best_sol_pct, Some(69.6808));
        assert_eq!(hbm.1.best_cell_id.as_deref(), Some("c128"));
        assert!((hbm.1.median_sol_pct.unwrap() - 55.21345).abs() < 1e-9);
        assert_eq!(hbm.1.best_steady_state_sol_pct, Some(77.7395));
        assert_eq!(hbm.1.ceiling_key.as_deref(), Some("h200_sxm.hbm3e_tbps"));
        assert_eq!(hbm.1.cells, 4);
        // No C2C link on H200: no figure at all.
        let c2c = &row.resources[4];
        assert_eq!(
            (c2c.0, c2c.1.cells, c2c.1.best_sol_pct),
            (Resource::C2c, 0, None)
        );
        // Energy: 342969.035 + 454029.574 + 532852.18 + 593431.805 = 1923282.594 J over
        // 131072 + 262144 + 262144 + 102400 = 757760 output tokens.
        assert_eq!(row.energy_cells, 4);
        assert_eq!(row.output_tokens, Some(757_760));
        assert!((row.energy_j.unwrap() - 1_923_282.594).abs() < 1e-6);
        assert!((row.joules_per_output_token.unwrap() - 1_923_282.594 / 757_760.0).abs() < 1e-12);
    }

    #[test]
    fn gaps_and_mixed_context_are_recorded() {
        let mut cells = example_cells();
        cells.push(ReportCell {
            cell_id: "c256".into(),
            input: CellInput::NoResult,
        });
        if let CellInput::Result(result) = &mut cells[0].input {
            result.context.tensor_parallel = Some(4);
            result.context.model = Some("other/model".into());
            result.energy.joules_per_output_token = None;
        }
        let status = report_status("h200-tp8-sweep", &cells, Vec::new());
        let results: Vec<&Correlation> = cells.iter().filter_map(ReportCell::result).collect();
        let row = row(&meta(), &results, &status);
        assert!(!row.dcgm_grounded);
        assert_eq!((row.cells_total, row.cells_grounded), (5, 4));
        assert_eq!(row.sol_rigor, "L1");
        assert_eq!(row.omitted_cells, vec!["c256: no dcgm_correlation.json"]);
        assert_eq!(row.tensor_parallel, None, "TP 4 and 8: no single value");
        assert_eq!(
            row.model.as_deref(),
            Some("meta-llama/Llama-3.3-70B-Instruct, other/model")
        );
        // c008 dropped from energy per token: (454029.574 + 532852.18 + 593431.805) J over
        // (262144 + 262144 + 102400) tokens.
        assert_eq!(row.energy_cells, 3);
        assert!((row.joules_per_output_token.unwrap() - 1_580_313.559 / 626_688.0).abs() < 1e-12);
        let notes = row.notes.join("\n");
        for expected in [
            "cells differ in model",
            "cells differ in tensor_parallel",
            "energy per token covers 3 of 4 cells",
            "NOT DCGM-GROUNDED: 4 of 5 cells",
        ] {
            assert!(notes.contains(expected), "{expected} not in {notes}");
        }
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }
}
