//! `correlate --split-runs`: a cell whose bench file holds several runs (a GuideLLM sweep,
//! appended vLLM runs) becomes one cell per run. Each new cell `<cell>.run<index>` holds only a
//! reference to the run (`dcgm-bench-run.json`); the bench file and any recording stay in the
//! original cell, which is marked a container (`dcgm-split.json`) and left out of cell listings.

use anyhow::{Context as _, anyhow};
use sol_io::{BENCH_RUN_REF, BenchRunRef, CampaignDir, SPLIT_MARKER, write_atomic};

use crate::cli::WindowArgs;
use crate::exit::{AppError, input, runtime};
use crate::inputs::{BenchRuns, bench_runs};

/// The cells to correlate once every multi-run cell of `cell_ids` is split: each such cell is
/// replaced by its run cells; the others stay.
pub fn split_runs(
    campaign: &CampaignDir,
    cell_ids: &[String],
    window: &WindowArgs,
) -> Result<Vec<String>, AppError> {
    let mut out = Vec::new();
    for id in cell_ids {
        let cell = campaign.cell(id).map_err(input)?;
        let Some(BenchRuns {
            runs,
            path,
            pinned_index: None,
        }) = bench_runs(campaign, &cell, window)?
        else {
            out.push(id.clone());
            continue;
        };
        if runs.len() < 2 {
            out.push(id.clone());
            continue;
        }
        let bench_file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| input(anyhow!("{}: not a file name", path.display())))?;
        let mut children = Vec::new();
        for run in &runs {
            let child_id = format!("{id}.run{}", run.index);
            let child = campaign.new_cell(&child_id).map_err(input)?;
            let reference = BenchRunRef {
                from_cell: id.clone(),
                bench_file: bench_file.clone(),
                index: run.index,
                label: run.label.clone(),
            };
            write_json(&child.file(BENCH_RUN_REF), &reference)?;
            children.push(child_id);
        }
        write_json(
            &cell.file(SPLIT_MARKER),
            &serde_json::json!({ "bench_file": bench_file, "runs": children }),
        )?;
        tracing::info!(
            "cell {id}: {} runs of {bench_file} split into cells {}",
            runs.len(),
            children.join(", ")
        );
        out.extend(children);
    }
    Ok(out)
}

fn write_json(path: &std::path::Path, value: &impl serde::Serialize) -> Result<(), AppError> {
    let text = crate::output::sorted_json(value).map_err(runtime)?;
    write_atomic(path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
        .map_err(runtime)
}
