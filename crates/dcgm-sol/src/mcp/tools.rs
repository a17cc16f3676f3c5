//! The tools: each is one verb of this binary with a fixed set of arguments, a description that
//! opens with what it reads or writes, and the matching MCP annotations.

use serde_json::{Value, json};

use super::fields::{Field, Kind, Placement, input_schema};

/// What a tool does to its surroundings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Effect {
    /// Reads only.
    Reads,
    /// Writes files inside the campaigns directory.
    Writes {
        /// May replace or remove what is there (else it only adds).
        destructive: bool,
        /// A second identical call changes nothing more.
        idempotent: bool,
    },
}

/// One tool.
#[derive(Debug, Clone)]
pub struct Tool {
    /// Tool name.
    pub name: &'static str,
    /// Human title.
    pub title: &'static str,
    /// Starts with "Reads only: …" or "Writes: …".
    pub description: &'static str,
    /// Reads or writes.
    pub effect: Effect,
    /// Talks to a server outside this machine's files (a Prometheus-compatible API).
    pub open_world: bool,
    /// The verb's words and fixed flags on the command line.
    pub verb: &'static [&'static str],
    /// Its arguments.
    pub fields: Vec<Field>,
    /// Top-level fields of the result worth naming in `outputSchema`.
    pub output: &'static [(&'static str, &'static str)],
}

impl Tool {
    /// The `tools/list` entry.
    pub fn listing(&self) -> Value {
        let (read_only, destructive, idempotent) = match self.effect {
            Effect::Reads => (true, false, true),
            Effect::Writes {
                destructive,
                idempotent,
            } => (false, destructive, idempotent),
        };
        // Descriptions only, no types: the schema documents the result without ever making a
        // client reject one.
        let output_properties: serde_json::Map<String, Value> = self
            .output
            .iter()
            .map(|(name, meaning)| (name.to_string(), json!({"description": meaning})))
            .collect();
        json!({
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": input_schema(&self.fields),
            "outputSchema": {"type": "object", "properties": output_properties},
            "annotations": {
                "title": self.title,
                "readOnlyHint": read_only,
                "destructiveHint": destructive,
                "idempotentHint": idempotent,
                "openWorldHint": self.open_world,
            },
        })
    }
}

const fn flag(name: &'static str, kind: Kind, flag: &'static str, what: &'static str) -> Field {
    Field::new(name, kind, Placement::Flag(flag), what)
}

const TEXT: Kind = Kind::Text;
const SWITCH: Kind = Kind::Switch;
const PATH: Kind = Kind::Path { default: None };

const CAMPAIGN: Field = flag(
    "campaign",
    TEXT,
    "--campaign",
    "Campaign slug: a directory directly under the campaigns directory.",
);
const CELL_ID: Field = flag(
    "cell_id",
    TEXT,
    "--cell-id",
    "Cell id: a directory under <campaign>/cells.",
);
const CEILINGS: Field = flag(
    "ceilings",
    PATH,
    "--ceilings",
    "Ceilings file (sol-ceilings.yaml format) instead of the one the server found (configs/sol-ceilings.yaml above the campaign, else the built-in table).",
);

const ALL_CELLS: Field = flag(
    "all_cells",
    SWITCH,
    "--all-cells",
    "Every cell of the campaign (instead of cell_id); the result lists each cell under `cells`.",
);
const N_GPUS: Field = flag(
    "n_gpus",
    Kind::Integer { minimum: 1 },
    "--n-gpus",
    "Expected GPU count, the %SoL denominator (default: TP × DP × PP from the bench context).",
);

const EVAL: [Field; 3] = [
    flag(
        "hw_key",
        TEXT,
        "--hw-key",
        "Ceilings row, e.g. h100_sxm, h200_sxm, b200_sm100 (default: the bench context's, else the GPUs' modelName).",
    ),
    flag(
        "tensor_peak",
        TEXT,
        "--tensor-peak",
        "Tensor peak key, e.g. fp8_dense_pflops (default: from the quantisation in the bench context).",
    ),
    flag(
        "kernels_json",
        PATH,
        "--kernels-json",
        "Profiler categories for the per-category attribution (default: the cell's kernels.json).",
    ),
];

const WINDOW: [Field; 6] = [
    flag(
        "bench_file",
        PATH,
        "--bench-file",
        "Bench result file (default: the cell's own).",
    ),
    flag(
        "bench_index",
        Kind::Integer { minimum: 0 },
        "--bench-index",
        "Which run of a multi-run bench file.",
    ),
    flag(
        "start",
        TEXT,
        "--start",
        "Window start, RFC 3339 or epoch seconds; overrides the bench file; needs end.",
    ),
    flag(
        "end",
        TEXT,
        "--end",
        "Window end, RFC 3339 or epoch seconds; needs start.",
    ),
    flag(
        "captured_at_is_end",
        SWITCH,
        "--captured-at-is-end",
        "The perfbench bundle's captured_at is the end of the sweep (older bundles).",
    ),
    flag(
        "timezone",
        TEXT,
        "--timezone",
        "IANA timezone of naive local bench times, e.g. UTC (default: the server machine's).",
    ),
];

const SOURCE: [Field; 2] = [
    flag(
        "prometheus",
        TEXT,
        "--prometheus",
        "Prometheus-compatible API base URL, path prefix included (Prometheus, Thanos, Mimir, VictoriaMetrics); credentials come from the server's environment (PROMETHEUS_BEARER_TOKEN, …). Excludes scrapes.",
    ),
    flag(
        "scrapes",
        PATH,
        "--scrapes",
        "Recorded exporter scrapes with timestamps (default: the cell's dcgm-scrapes.prom when no prometheus is given). Excludes prometheus.",
    ),
];

const LIMITS: [Field; 3] = [
    flag(
        "timeout_s",
        Kind::Number,
        "--timeout-s",
        "Seconds before one HTTP request times out (default 30).",
    ),
    flag(
        "max_series",
        Kind::Integer { minimum: 1 },
        "--max-series",
        "Refuse to query more series than this, counted by the probe first (default 1000).",
    ),
    flag("force", SWITCH, "--force", "Query even above max_series."),
];

const SCOPE: [Field; 4] = [
    flag(
        "namespace",
        TEXT,
        "--namespace",
        "Workload namespace (matches namespace or exported_namespace).",
    ),
    flag(
        "selector",
        TEXT,
        "--selector",
        "Label selector k=v,k2=~re (each item also matches exported_<k>).",
    ),
    flag("host", Kind::TextList, "--host", "Hosts whose GPUs count."),
    flag(
        "gpu_uuid",
        Kind::TextList,
        "--gpu-uuid",
        "GPU UUIDs that count.",
    ),
];

/// Result fields of correlate and fold (dcgm_correlation.json).
const CORRELATION_OUTPUT: &[(&str, &str)] = &[
    ("cell_id", "The cell."),
    (
        "context",
        "The full-context descriptor: model, quant, KV dtype, TP/DP/PP, engine, dataset, ISL/OSL, concurrency, requests, tokens, bench file.",
    ),
    (
        "window",
        "The measured window with its source and confidence.",
    ),
    (
        "resources",
        "Per resource (hbm, tensor, nvlink, pcie, c2c): sol_pct, its ceiling key (`ceiling`, e.g. h200_sxm.hbm3e_tbps), bounds, steady-state %SoL, coverage, per-GPU rows.",
    ),
    (
        "next_lever",
        "The bounding resource and the ranked frontier of levers, each with its expected unlock and gate.",
    ),
    ("warnings", "What makes the numbers less certain."),
    (
        "queries",
        "Every request or recorded-scrape read, with its evaluation time.",
    ),
    (
        "cells",
        "With all_cells (or split runs): one entry per cell with ok, exit_code, error and result.",
    ),
];

/// The tools, in the order a campaign uses them; `read_only` keeps only those that read.
pub fn catalog(read_only: bool) -> Vec<Tool> {
    let correlate_fields = [
        &[CAMPAIGN.required(), CELL_ID, ALL_CELLS][..],
        &[
            flag(
                "split_runs",
                SWITCH,
                "--split-runs",
                "A bench file holding several runs becomes one cell per run, <cell>.run<index> (creates those cells).",
            ),
            flag(
                "jobs",
                Kind::Integer { minimum: 1 },
                "--jobs",
                "Parallel cells with all_cells (default: the number of cores).",
            ),
            N_GPUS,
        ],
        &EVAL,
        &WINDOW,
        &SOURCE,
        &LIMITS,
        &SCOPE,
        &[CEILINGS],
    ]
    .concat();
    let plan_fields = [
        &[CAMPAIGN.required(), CELL_ID, ALL_CELLS, N_GPUS][..],
        &EVAL,
        &WINDOW,
        &SOURCE,
        &SCOPE,
        &[CEILINGS],
    ]
    .concat();
    let probe_fields = [
        &[
            flag(
                "campaign",
                TEXT,
                "--campaign",
                "Campaign whose cell's bench result gives the window (with cell_id); else give start and end.",
            ),
            CELL_ID,
        ][..],
        &WINDOW,
        &SOURCE,
        &LIMITS,
        &SCOPE,
        &[CEILINGS],
    ]
    .concat();
    let tools = vec![
        Tool {
            name: "ceilings",
            title: "Hardware ceilings",
            description: "Reads only: the ceilings file or built-in table. Lists every hardware row (peak HBM, tensor, NVLink, PCIe per GPU, each with units and source), or with `key` every peak of one row. The ceiling key of a %SoL is <row>.<peak>, e.g. h200_sxm.hbm3e_tbps.",
            effect: Effect::Reads,
            open_world: false,
            verb: &["ceilings"],
            fields: vec![
                flag(
                    "campaign",
                    TEXT,
                    "--campaign",
                    "Campaign whose configs/sol-ceilings.yaml (found walking up) applies.",
                ),
                Field::new(
                    "key",
                    TEXT,
                    Placement::Trailing(&["show"]),
                    "Row key or alias (h100_sxm, b200_sm100): show that row's peaks instead of the list.",
                ),
                CEILINGS,
            ],
            output: &[
                ("rows", "The hardware rows (list)."),
                ("key", "The row (show)."),
                ("peaks", "Its peaks with units, roles, DCGM mapping and sources (show)."),
            ],
        },
        Tool {
            name: "probe",
            title: "Probe a metric source",
            description: "Reads only: the cell's bench result and the metric source — a Prometheus-compatible API (`POST /api/v1/series` and one raw-sample query; nothing written anywhere) or recorded scrapes. The pre-flight: which DCGM metrics and labels are in scope, the tier each resource will use (prof/counter/absent), hosts, GPUs, the scrape interval, and the series count against max_series (above it: a tool error unless force). correlate runs this same probe before any data query.",
            effect: Effect::Reads,
            open_world: true,
            verb: &["probe"],
            fields: probe_fields,
            output: &[
                ("metrics", "DCGM metrics present, with series counts."),
                ("resources", "Tier and metrics per resource."),
                ("series_total", "Series in scope."),
                ("over_limit", "Above max_series."),
                ("hosts", "Hosts in scope."),
                ("gpu_uuids", "GPUs in scope."),
                ("scrape_interval_s", "Scrape interval seen."),
            ],
        },
        Tool {
            name: "plan",
            title: "Plan a correlation (dry run)",
            description: "Reads only: the campaign's bench results and ceilings; sends no request (not even the probe) and writes nothing. The dry run of correlate: the window, expected GPUs, hardware row and the exact raw-sample PromQL with evaluation times that correlate would send. Exactly one of cell_id or all_cells.",
            effect: Effect::Reads,
            open_world: false,
            verb: &["correlate", "--dry-run"],
            fields: plan_fields,
            output: &[
                ("window", "The resolved window."),
                ("expected_gpus", "GPU count and where it came from."),
                ("hw_key", "Ceilings row."),
                ("queries", "The PromQL that would run, with evaluation times."),
                ("note", "What a live run does first (the probe)."),
                ("cells", "With all_cells: one entry per cell with its plan."),
            ],
        },
        Tool {
            name: "correlate",
            title: "Correlate a cell (%SoL)",
            description: "Writes: <campaign>/cells/<id>/dcgm_correlation.json and dcgm-frozen.yaml for each cell (replacing earlier ones; with split_runs also new cells <id>.run<index>), inside the campaigns directory. Reads the bench result and the DCGM series of the cell's window — from a Prometheus-compatible API (read-only requests; it runs the probe first and stops above max_series unless force) or recorded scrapes — and returns %SoL per resource with its ceiling key, the full-context descriptor and the next-lever frontier. Exactly one of cell_id or all_cells.",
            effect: Effect::Writes {
                destructive: true,
                idempotent: true,
            },
            open_world: true,
            verb: &["correlate"],
            fields: correlate_fields,
            output: CORRELATION_OUTPUT,
        },
        Tool {
            name: "fold",
            title: "Rebuild a result from its frozen snapshot",
            description: "Writes: <campaign>/cells/<cell_id>/dcgm_correlation.json (replacing it), inside the campaigns directory. Rebuilds the cell's result from a frozen snapshot (dcgm_frozen_v1: ours or the seed's) against the ceilings in force, without reading any series.",
            effect: Effect::Writes {
                destructive: true,
                idempotent: true,
            },
            open_world: false,
            verb: &["fold"],
            fields: [
                &[
                    CAMPAIGN.required(),
                    CELL_ID.required(),
                    flag(
                        "frozen_yaml",
                        PATH,
                        "--frozen-yaml",
                        "Frozen snapshot (dcgm_frozen_v1 YAML), e.g. <campaign>/cells/<id>/dcgm-frozen.yaml.",
                    )
                    .required(),
                ][..],
                &EVAL,
                &[CEILINGS],
            ]
            .concat(),
            output: CORRELATION_OUTPUT,
        },
        Tool {
            name: "render",
            title: "Render the campaign report",
            description: "Writes: <campaign>/report/index.html, one SVG per chart in <campaign>/report/ (stale charts removed) and <campaign>/report_status.json, inside the campaigns directory. Reads every cell's dcgm_correlation.json; cells without one are listed with the fix. Fails only when no cell has a result.",
            effect: Effect::Writes {
                destructive: true,
                idempotent: true,
            },
            open_world: false,
            verb: &["render"],
            fields: vec![CAMPAIGN.required()],
            output: &[
                ("dcgm_grounded", "Every plot-ready cell has its result."),
                ("sol_rigor", "The campaign's lowest rigor level (L1–L4)."),
                ("cells_total", "Cells in the campaign."),
                ("cells_with_result", "Cells shown."),
                ("omitted", "What is missing, why, and the fix."),
            ],
        },
        Tool {
            name: "summary",
            title: "Update the campaign summary table",
            description: "Writes: <campaign>/sol-summary.md, inside the campaigns directory — only its \"Workload-level SoL\" table (created when absent; the first run replaces the first table under an existing heading); every other byte stays and a second run changes nothing. Each row names its cell's result file and each figure its ceiling key.",
            effect: Effect::Writes {
                destructive: true,
                idempotent: true,
            },
            open_world: false,
            verb: &["summary"],
            fields: vec![CAMPAIGN.required()],
            output: &[
                ("path", "The file."),
                ("status", "created, updated or unchanged."),
                ("cells", "Rows written."),
                ("unreadable", "Cells without a usable result."),
            ],
        },
        Tool {
            name: "publish",
            title: "Publish to the Parquet lake",
            description: "Writes: Parquet files under <lake>/campaign_v1/campaign=<slug>/ and <lake>/dcgm_sol_v1/campaign=<slug>/, the lake being <campaigns dir>/lake unless `lake` names another directory inside the campaigns directory. if_exists=error (default) refuses an existing partition, overwrite swaps it atomically (replaces earlier rows), append adds rows beside earlier ones. A campaign with cells lacking a result is published with the gap recorded unless strict.",
            effect: Effect::Writes {
                destructive: true,
                idempotent: false,
            },
            open_world: false,
            verb: &["publish"],
            fields: vec![
                CAMPAIGN.required(),
                flag(
                    "lake",
                    Kind::Path {
                        default: Some("lake"),
                    },
                    "--lake",
                    "Lake directory (created when missing).",
                ),
                flag(
                    "if_exists",
                    Kind::OneOf(&["error", "overwrite", "append"]),
                    "--if-exists",
                    "When the campaign's partition exists: refuse (default), replace it atomically, or add rows.",
                ),
                flag(
                    "strict",
                    SWITCH,
                    "--strict",
                    "Refuse a campaign where some cell has no usable result.",
                ),
            ],
            output: &[
                ("lake", "The lake directory."),
                ("files", "Parquet files written."),
                ("partitions", "Partitions written."),
                ("replaced", "Partitions replaced (overwrite)."),
                ("cells_published", "Cells with rows."),
                ("cell_resource_rows", "dcgm_sol_v1 rows."),
                ("dcgm_grounded", "Every cell has a usable result."),
                ("publish_id", "Shared by both tables' rows."),
            ],
        },
    ];
    tools
        .into_iter()
        .filter(|tool| !read_only || tool.effect == Effect::Reads)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use clap::CommandFactory;

    use super::*;
    use crate::cli::Cli;

    /// The long flags the CLI accepts for `verb` (its own and the global ones).
    fn cli_flags(verb: &str) -> BTreeSet<String> {
        let mut cli = Cli::command();
        cli.build();
        let sub = cli
            .find_subcommand(verb)
            .unwrap_or_else(|| panic!("no verb {verb}"));
        sub.get_arguments()
            .chain(cli.get_arguments())
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect()
    }

    #[test]
    fn every_flag_a_tool_passes_is_one_its_verb_takes() {
        for tool in catalog(false) {
            let flags = cli_flags(tool.verb[0]);
            let fixed = tool.verb[1..].iter().copied();
            let mapped = tool.fields.iter().filter_map(|f| match f.placement {
                Placement::Flag(flag) => Some(flag),
                Placement::Trailing(_) => None,
            });
            for flag in fixed.chain(mapped) {
                assert!(
                    flags.contains(flag),
                    "{}: {flag} is not a flag of the verb",
                    tool.name
                );
            }
        }
    }

    #[test]
    fn descriptions_and_annotations_state_the_effect() {
        let tools = catalog(false);
        let names: Vec<&str> = tools.iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            [
                "ceilings",
                "probe",
                "plan",
                "correlate",
                "fold",
                "render",
                "summary",
                "publish"
            ]
        );
        for tool in &tools {
            let listing = tool.listing();
            let read_only = listing["annotations"]["readOnlyHint"].as_bool().unwrap();
            let prefix = if read_only {
                "Reads only: "
            } else {
                "Writes: "
            };
            assert!(tool.description.starts_with(prefix), "{}", tool.name);
            let fields: BTreeSet<&str> = tool.fields.iter().map(|f| f.name).collect();
            assert_eq!(
                fields.len(),
                tool.fields.len(),
                "{}: a field twice",
                tool.name
            );
        }
        let read_only: Vec<&str> = catalog(true).iter().map(|t| t.name).collect();
        assert_eq!(read_only, ["ceilings", "probe", "plan"]);
    }
}
