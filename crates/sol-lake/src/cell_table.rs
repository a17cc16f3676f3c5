//! `dcgm_sol_v1`: one row per cell × resource — the full context, the window, the tier, the
//! %SoL figures with their ceiling key, the measured rate per GPU, coverage and notes. Every
//! value is the one in the cell's `dcgm_correlation.json`.

use serde::Serialize;
use sol_core::correlation::{Correlation, ResourceRow};
use sol_core::report::html::descriptor;
use sol_core::time::parse_instant;

use crate::LakeError;
use crate::columns::{Column, Value};
use crate::publish::{PublishMeta, Published, publish_columns};

impl Published for CellResource<'_> {
    fn meta(&self) -> &PublishMeta {
        self.meta
    }
}

/// Table (directory) name.
pub const TABLE: &str = "dcgm_sol_v1";

/// One row: a resource row of a cell's result.
pub struct CellResource<'a> {
    /// Who published, when.
    pub meta: &'a PublishMeta,
    /// The cell's result.
    pub result: &'a Correlation,
    /// The resource row.
    pub row: &'a ResourceRow,
    /// Steady span start, µs since the epoch (parsed once per cell).
    pub steady_start_us: Option<i64>,
    /// Steady span end, µs since the epoch.
    pub steady_end_us: Option<i64>,
}

/// The rows of a set of results, cell by cell in the given order, resources in result order.
pub fn rows<'a>(
    meta: &'a PublishMeta,
    results: &[&'a Correlation],
) -> Result<Vec<CellResource<'a>>, LakeError> {
    let mut rows = Vec::new();
    for &result in results {
        let steady = &result.window.steady_state;
        let (steady_start_us, steady_end_us) = if steady.detected {
            (
                Some(instant_us(
                    result,
                    "window.steady_state.start_utc",
                    &steady.start_utc,
                )?),
                Some(instant_us(
                    result,
                    "window.steady_state.end_utc",
                    &steady.end_utc,
                )?),
            )
        } else {
            (None, None)
        };
        rows.extend(result.resources.iter().map(|row| CellResource {
            meta,
            result,
            row,
            steady_start_us,
            steady_end_us,
        }));
    }
    Ok(rows)
}

fn instant_us(result: &Correlation, field: &'static str, text: &str) -> Result<i64, LakeError> {
    parse_instant(text)
        .map(seconds_to_us)
        .map_err(|_| LakeError::BadInstant {
            cell_id: result.cell_id.clone(),
            field,
            value: text.to_string(),
        })
}

/// Epoch seconds to whole microseconds (the results carry millisecond precision).
pub fn seconds_to_us(seconds: f64) -> i64 {
    (seconds * 1e6).round() as i64
}

/// The serde name of an enum value (`prof`, `hbm`, `derived`, …).
pub fn serde_name(value: impl Serialize) -> Option<String> {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
}

/// The columns of `dcgm_sol_v1`, in file order.
pub fn columns<'a>() -> Vec<Column<CellResource<'a>>> {
    type Row<'r, 'a> = &'r CellResource<'a>;
    let mut columns = publish_columns();
    columns.extend([
        Column::required(
            "cell_id",
            "Cell within the campaign.",
            Value::text(|r: Row| Some(r.result.cell_id.clone())),
        ),
        Column::required(
            "result_path",
            "The result file the row comes from, relative to the campaign directory.",
            Value::text(|r: Row| Some(format!("cells/{}/dcgm_correlation.json", r.result.cell_id))),
        ),
        Column::required(
            "context_descriptor",
            "The full-context descriptor in one line (model, quant, parallelism, engine, load, GPUs, window).",
            Value::text(|r: Row| Some(descriptor(r.result))),
        ),
        Column::required(
            "context_json",
            "The cell's whole context object as JSON (serving config and extra keys included).",
            Value::text(|r: Row| serde_json::to_string(&r.result.context).ok()),
        ),
    ]);
    columns.extend(context_columns());
    columns.extend(window_columns());
    columns.extend(resource_columns());
    columns.extend(cell_outcome_columns());
    columns
}

fn context_columns<'a>() -> Vec<Column<CellResource<'a>>> {
    type Row<'r, 'a> = &'r CellResource<'a>;
    vec![
        Column::required(
            "hw_key",
            "Ceilings row the %SoL divides by (`h200_sxm`, …).",
            Value::text(|r: Row| Some(r.result.hw_key.clone())),
        ),
        Column::optional(
            "hw_name",
            "Display name of that row.",
            Value::text(|r: Row| r.result.hardware.hw_name.clone()),
        ),
        Column::optional(
            "hardware",
            "Hardware as the bench or atlas describes it.",
            Value::text(|r: Row| r.result.context.hardware.clone()),
        ),
        Column::optional(
            "model",
            "Model name or path as the bench reports it.",
            Value::text(|r: Row| r.result.context.model.clone()),
        ),
        Column::optional(
            "quant",
            "Weight / compute precision (`bf16`, `fp8`, `nvfp4`, …).",
            Value::text(|r: Row| r.result.context.quant.clone()),
        ),
        Column::optional(
            "kv_cache_dtype",
            "KV-cache dtype.",
            Value::text(|r: Row| r.result.context.kv_cache_dtype.clone()),
        ),
        Column::optional(
            "tensor_parallel",
            "Tensor-parallel degree.",
            Value::int64(|r: Row| r.result.context.tensor_parallel.map(i64::from)),
        ),
        Column::optional(
            "data_parallel",
            "Data-parallel degree.",
            Value::int64(|r: Row| r.result.context.data_parallel.map(i64::from)),
        ),
        Column::optional(
            "pipeline_parallel",
            "Pipeline-parallel degree.",
            Value::int64(|r: Row| r.result.context.pipeline_parallel.map(i64::from)),
        ),
        Column::optional(
            "expert_parallel",
            "Expert-parallel degree.",
            Value::int64(|r: Row| r.result.context.expert_parallel.map(i64::from)),
        ),
        Column::optional(
            "engine",
            "Serving engine (`vllm`, `sglang`, `trtllm`, …).",
            Value::text(|r: Row| r.result.context.engine.clone()),
        ),
        Column::optional(
            "engine_version",
            "Engine version.",
            Value::text(|r: Row| r.result.context.engine_version.clone()),
        ),
        Column::optional(
            "bench_tool",
            "Bench tool that wrote the result file.",
            Value::text(|r: Row| r.result.context.bench_tool.clone()),
        ),
        Column::optional(
            "dataset",
            "Dataset name.",
            Value::text(|r: Row| r.result.context.dataset.clone()),
        ),
        Column::optional(
            "input_len_tokens",
            "Input sequence length, tokens (configured, else mean measured).",
            Value::float(|r: Row| r.result.context.input_len_tokens),
        ),
        Column::optional(
            "output_len_tokens",
            "Output sequence length, tokens (configured, else mean measured).",
            Value::float(|r: Row| r.result.context.output_len_tokens),
        ),
        Column::optional(
            "concurrency",
            "Configured concurrency (max in-flight requests).",
            Value::int64(|r: Row| r.result.context.concurrency.map(i64::from)),
        ),
        Column::optional(
            "request_rate_per_s",
            "Configured arrival rate, requests/s; +Infinity for an unbounded (`inf`) rate.",
            Value::float(|r: Row| {
                r.result.context.request_rate.map(|rate| match rate {
                    sol_core::context::RequestRate::PerSecond(per_s) => per_s,
                    sol_core::context::RequestRate::Unbounded(_) => f64::INFINITY,
                })
            }),
        ),
        Column::optional(
            "num_prompts",
            "Requests the run was asked to send.",
            Value::int64(|r: Row| r.result.context.num_prompts.and_then(count_i64)),
        ),
        Column::optional(
            "completed_requests",
            "Requests completed.",
            Value::int64(|r: Row| r.result.context.completed.and_then(count_i64)),
        ),
        Column::optional(
            "failed_requests",
            "Requests failed.",
            Value::int64(|r: Row| r.result.context.failed.and_then(count_i64)),
        ),
        Column::optional(
            "output_tokens",
            "Output tokens over the run.",
            Value::int64(|r: Row| r.result.context.total_output_tokens.and_then(count_i64)),
        ),
        Column::optional(
            "output_tokens_per_s",
            "Output token throughput reported by the bench, tokens/s.",
            Value::float(|r: Row| r.result.context.output_tokens_per_s),
        ),
        Column::optional(
            "requests_per_s",
            "Request throughput reported by the bench, requests/s.",
            Value::float(|r: Row| r.result.context.requests_per_s),
        ),
        Column::optional(
            "cache_state",
            "`warm` or `cold` when known.",
            Value::text(|r: Row| r.result.context.cache_state.clone()),
        ),
    ]
}

fn window_columns<'a>() -> Vec<Column<CellResource<'a>>> {
    type Row<'r, 'a> = &'r CellResource<'a>;
    vec![
        Column::required(
            "window_start",
            "Start of the measured window.",
            Value::timestamp_us(|r: Row| Some(seconds_to_us(r.result.window.start_s))),
        ),
        Column::required(
            "window_end",
            "End of the measured window.",
            Value::timestamp_us(|r: Row| Some(seconds_to_us(r.result.window.end_s))),
        ),
        Column::required(
            "duration_s",
            "Window length, s.",
            Value::float(|r: Row| Some(r.result.duration_s)),
        ),
        Column::required(
            "window_source",
            "Where the window's bounds came from (file and field).",
            Value::text(|r: Row| Some(r.result.window.source.clone())),
        ),
        Column::required(
            "window_confidence",
            "`exact`, `derived` or `external`.",
            Value::text(|r: Row| serde_name(r.result.window.confidence)),
        ),
        Column::optional(
            "steady_start",
            "Start of the detected steady span (NULL when none was detected).",
            Value::timestamp_us(|r: Row| r.steady_start_us),
        ),
        Column::optional(
            "steady_end",
            "End of the detected steady span.",
            Value::timestamp_us(|r: Row| r.steady_end_us),
        ),
        Column::required(
            "scrape_interval_s",
            "Scrape interval seen in the data, s.",
            Value::float(|r: Row| Some(r.result.scrape_interval_s)),
        ),
        Column::required(
            "n_gpus",
            "GPUs in the %SoL denominator (expected count).",
            Value::int64(|r: Row| Some(i64::from(r.result.n_gpus))),
        ),
        Column::required(
            "gpus_seen",
            "GPUs with data in the window.",
            Value::int64(|r: Row| Some(i64::from(r.result.gpus.seen))),
        ),
        Column::required(
            "gpus_missing",
            "Expected GPUs without data.",
            Value::int64(|r: Row| Some(i64::from(r.result.gpus.missing))),
        ),
    ]
}

fn resource_columns<'a>() -> Vec<Column<CellResource<'a>>> {
    type Row<'r, 'a> = &'r CellResource<'a>;
    vec![
        Column::required(
            "resource",
            "`hbm`, `tensor`, `nvlink`, `pcie` or `c2c`.",
            Value::text(|r: Row| serde_name(r.row.resource)),
        ),
        Column::required(
            "tier",
            "`prof` (byte-grounded profiling fields), `counter` (busy-time bound), `invalid` or `absent`.",
            Value::text(|r: Row| serde_name(r.row.tier)),
        ),
        Column::required(
            "metric",
            "DCGM metric the row integrates.",
            Value::text(|r: Row| Some(r.row.metric.clone())),
        ),
        Column::required(
            "ceiling_key",
            "`<hw_key>.<peak_key>`: the peak every %SoL of the row divides by.",
            Value::text(|r: Row| Some(r.row.ceiling.clone())),
        ),
        Column::required(
            "peak_key",
            "Peak key within the ceilings row.",
            Value::text(|r: Row| Some(r.row.peak_key.clone())),
        ),
        Column::required(
            "peak_per_gpu",
            "Peak per GPU in `peak_per_gpu_units`.",
            Value::float(|r: Row| Some(r.row.peak_per_gpu)),
        ),
        Column::required(
            "peak_per_gpu_units",
            "Units of `peak_per_gpu` (`TB/s`, `GB/s`, `TFLOPS`, `PFLOPS`).",
            Value::text(|r: Row| Some(r.row.peak_per_gpu_units.clone())),
        ),
        Column::optional(
            "sol_pct",
            "Workload %SoL over the full window (0–100; NULL outside the prof tier).",
            Value::float(|r: Row| r.row.sol_pct),
        ),
        Column::optional(
            "sol_pct_lower_bound",
            "Lower edge bound of `sol_pct` (partial scrape intervals at the window's edges).",
            Value::float(|r: Row| r.row.sol_pct_bounds.map(|b| b[0])),
        ),
        Column::optional(
            "sol_pct_upper_bound",
            "Upper edge bound of `sol_pct`.",
            Value::float(|r: Row| r.row.sol_pct_bounds.map(|b| b[1])),
        ),
        Column::optional(
            "steady_state_sol_pct",
            "%SoL over the steady span.",
            Value::float(|r: Row| r.row.steady_state_sol_pct),
        ),
        Column::optional(
            "busy_time_upper_bound_pct",
            "Counter tier: share of time busy, an upper bound on %SoL, never a %SoL.",
            Value::float(|r: Row| r.row.busy_time_upper_bound_pct),
        ),
        Column::optional(
            "measured_bytes_per_s_per_gpu",
            "Bandwidth rows: measured bytes/s per GPU over the window.",
            Value::float(|r: Row| r.row.measured_bytes_per_s),
        ),
        Column::optional(
            "measured_tflops_per_gpu",
            "Tensor row: measured TFLOPS per GPU over the window.",
            Value::float(|r: Row| r.row.measured_tflops_avg),
        ),
        Column::optional(
            "max_direction_sol_pct",
            "Links: the busiest direction of the busiest GPU, % of the per-direction peak.",
            Value::float(|r: Row| r.row.per_direction.as_ref()?.max_direction_sol_pct),
        ),
        Column::required(
            "coverage_pct",
            "Covered GPU-time ÷ (duration × n_gpus), %.",
            Value::float(|r: Row| Some(r.row.coverage_pct)),
        ),
        Column::optional(
            "gpu_min_pct",
            "Lowest per-GPU value, % of peak.",
            Value::float(|r: Row| r.row.spread.as_ref().map(|s| s.min_pct)),
        ),
        Column::optional(
            "gpu_median_pct",
            "Median per-GPU value, % of peak.",
            Value::float(|r: Row| r.row.spread.as_ref().map(|s| s.median_pct)),
        ),
        Column::optional(
            "gpu_max_pct",
            "Highest per-GPU value, % of peak.",
            Value::float(|r: Row| r.row.spread.as_ref().map(|s| s.max_pct)),
        ),
        Column::required(
            "notes",
            "The row's notes (unit assumptions, corrections).",
            Value::text_list(|r: Row| r.row.notes.clone()),
        ),
    ]
}

fn cell_outcome_columns<'a>() -> Vec<Column<CellResource<'a>>> {
    type Row<'r, 'a> = &'r CellResource<'a>;
    vec![
        Column::optional(
            "energy_j",
            "Energy of all GPUs with data over the window, J.",
            Value::float(|r: Row| r.result.energy.energy_j_total),
        ),
        Column::optional(
            "mean_power_w_per_gpu",
            "Mean board power per GPU, W.",
            Value::float(|r: Row| r.result.energy.mean_power_w_per_gpu),
        ),
        Column::optional(
            "joules_per_output_token",
            "Energy per output token, J (only when every expected GPU has energy data).",
            Value::float(|r: Row| r.result.energy.joules_per_output_token),
        ),
        Column::optional(
            "output_tokens_per_joule",
            "Output tokens per joule.",
            Value::float(|r: Row| r.result.energy.tokens_per_joule),
        ),
        Column::required(
            "sol_rigor",
            "Rigor of the cell: L1 counter tier, L2 counter + attribution, L3 DCGM-grounded, L4 with ncu evidence.",
            Value::text(|r: Row| Some(r.result.sol_rigor.clone())),
        ),
        Column::optional(
            "bounding_resource",
            "Resource closest to its ceiling (prof rows only).",
            Value::text(|r: Row| r.result.next_lever.bounding_resource.and_then(serde_name)),
        ),
        Column::optional(
            "next_lever",
            "The first lever of the next-lever frontier.",
            Value::text(|r: Row| {
                r.result
                    .next_lever
                    .frontier
                    .first()
                    .map(|l| l.lever.clone())
            }),
        ),
        Column::required(
            "warnings",
            "The cell's warnings, in full.",
            Value::text_list(|r: Row| r.result.warnings.clone()),
        ),
        Column::required(
            "tool_version",
            "dcgm-sol version that computed the result.",
            Value::text(|r: Row| Some(r.result.tool.version.clone())),
        ),
    ]
}

/// A count as int64; NULL for the (impossible in practice) count beyond 2^63 rather than a
/// wrapped number.
pub fn count_i64(value: u64) -> Option<i64> {
    i64::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::encode_parquet;
    use crate::test_support::{example_cells, meta};
    use arrow_array::{Array, Float64Array, StringArray, TimestampMicrosecondArray};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn results(cells: &[sol_core::report::status::ReportCell]) -> Vec<&Correlation> {
        cells.iter().filter_map(|c| c.result()).collect()
    }

    #[test]
    fn one_row_per_cell_and_resource_with_the_json_values() {
        let cells = example_cells();
        let meta = meta();
        let rows = rows(&meta, &results(&cells)).unwrap();
        // 4 cells × 4 resources (HBM, tensor, NVLink, PCIe; H200 has no C2C row).
        assert_eq!(rows.len(), 16);
        let bytes = encode_parquet(TABLE, &columns(), &rows).unwrap();
        let batch = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
            .unwrap()
            .build()
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let text = |name: &str, row: usize| {
            let column = batch.column_by_name(name).unwrap();
            column
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .value(row)
                .to_string()
        };
        let float = |name: &str, row: usize| {
            let column = batch.column_by_name(name).unwrap();
            let array = column.as_any().downcast_ref::<Float64Array>().unwrap();
            (!array.is_null(row)).then(|| array.value(row))
        };
        let instant = |name: &str, row: usize| {
            let column = batch.column_by_name(name).unwrap();
            let array = column
                .as_any()
                .downcast_ref::<TimestampMicrosecondArray>()
                .unwrap();
            (!array.is_null(row)).then(|| array.value(row))
        };
        // Row 12 is c128's first resource row: HBM (cells in order, 4 rows each).
        assert_eq!(
            (text("cell_id", 12), text("resource", 12)),
            ("c128".into(), "hbm".into())
        );
        assert_eq!(text("ceiling_key", 12), "h200_sxm.hbm3e_tbps");
        assert_eq!(text("tier", 12), "prof");
        assert_eq!(float("sol_pct", 12), Some(69.6808));
        assert_eq!(float("steady_state_sol_pct", 12), Some(77.7395));
        assert_eq!(
            float("measured_bytes_per_s_per_gpu", 12),
            Some(3_344_676_950_000.0)
        );
        assert_eq!(float("measured_tflops_per_gpu", 12), None);
        // 3.34467695e12 B/s ÷ 4.8e12 B/s = 69.68 % — the per-GPU rate and the %SoL agree.
        assert!((3_344_676_950_000.0 / 4.8e12 * 100.0 - 69.6808_f64).abs() < 1e-3);
        // c128's window: 2026-11-20T14:30:00Z = 1795185000 s; steady span from 14:30:15Z.
        assert_eq!(instant("window_start", 12), Some(1_795_185_000_000_000));
        assert_eq!(instant("steady_start", 12), Some(1_795_185_015_000_000));
        assert_eq!(instant("steady_end", 12), Some(1_795_185_110_000_000));
        assert_eq!(text("window_confidence", 12), "derived");
        assert_eq!(text("result_path", 12), "cells/c128/dcgm_correlation.json");
        assert!(text("context_descriptor", 12).contains("concurrency 128"));
        assert_eq!(float("request_rate_per_s", 12), None);
        // Row 13 is c128's tensor row: TFLOPS per GPU, never bytes.
        assert_eq!(text("resource", 13), "tensor");
        assert_eq!(float("measured_bytes_per_s_per_gpu", 13), None);
        assert!(float("measured_tflops_per_gpu", 13).is_some());
    }

    #[test]
    fn a_broken_steady_instant_names_the_cell_and_field() {
        let mut cells = example_cells();
        if let sol_core::report::status::CellInput::Result(result) = &mut cells[1].input {
            result.window.steady_state.start_utc = "yesterday".into();
        }
        let meta = meta();
        let error = rows(&meta, &results(&cells)).err().unwrap();
        assert_eq!(
            error.to_string(),
            "cell c032: window.steady_state.start_utc `yesterday` is not an RFC 3339 instant; re-run correlate"
        );
    }

    #[test]
    fn unbounded_request_rate_is_infinite() {
        let mut cells = example_cells();
        // c032's vLLM result records `"request_rate": "inf"`; give c008 a finite rate.
        if let sol_core::report::status::CellInput::Result(result) = &mut cells[0].input {
            result.context.request_rate = Some(sol_core::context::RequestRate::PerSecond(2.5));
        }
        let meta = meta();
        let rows = rows(&meta, &results(&cells)).unwrap();
        let columns = columns();
        let rate = columns
            .iter()
            .find(|c| c.name == "request_rate_per_s")
            .unwrap();
        let crate::columns::Value::Float(read) = &rate.value else {
            panic!("request_rate_per_s is a double")
        };
        assert_eq!(read(&rows[0]), Some(2.5));
        assert_eq!(read(&rows[4]), Some(f64::INFINITY));
        assert_eq!(read(&rows[8]), None, "c064 records no rate");
    }
}
