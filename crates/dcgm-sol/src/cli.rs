//! Command-line flags (clap). Nothing here reaches the core: commands turn these into core
//! inputs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Workload speed-of-light (%SoL) from NVIDIA DCGM exporter metrics over a benchmark cell's window.
#[derive(Debug, Parser)]
#[command(name = "dcgm-sol", version, about, propagate_version = true)]
pub struct Cli {
    /// Flags every verb takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The verb.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every verb takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Directory holding campaigns.
    #[arg(
        long,
        global = true,
        default_value = "campaigns",
        env = "SOL_CAMPAIGNS_DIR"
    )]
    pub campaigns_dir: PathBuf,
    /// Ceilings file (seed sol-ceilings.yaml format); else $SOL_CEILINGS_YAML, else
    /// configs/sol-ceilings.yaml above the campaign, else the built-in table.
    #[arg(long, global = true)]
    pub ceilings: Option<PathBuf>,
    /// Machine-readable result on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// More logging on stderr (-v, -vv).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// Verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The ceilings in force and where they came from.
    Ceilings(CeilingsArgs),
    /// Compute %SoL for one cell (or every cell) from recorded scrapes.
    Correlate(Box<CorrelateArgs>),
    /// Rebuild dcgm_correlation.json from a frozen snapshot (dcgm_frozen_v1).
    Fold(FoldArgs),
}

/// `ceilings`.
#[derive(Debug, Args)]
pub struct CeilingsArgs {
    /// `list` (default) or `show`.
    #[command(subcommand)]
    pub action: Option<CeilingsAction>,
    /// Campaign whose configs/sol-ceilings.yaml walk-up applies.
    #[arg(long)]
    pub campaign: Option<String>,
}

/// `ceilings` actions.
#[derive(Debug, Subcommand)]
pub enum CeilingsAction {
    /// One line per hardware row.
    List,
    /// Every peak of one row with units, roles, DCGM mapping and sources.
    Show {
        /// Row key or alias (`h100_sxm`, `b200_sm100`).
        key: String,
    },
}

/// Which cell.
#[derive(Debug, Args)]
pub struct CellArgs {
    /// Campaign slug (a directory under --campaigns-dir).
    #[arg(long)]
    pub campaign: String,
    /// Cell id (a directory under <campaign>/cells).
    #[arg(long)]
    pub cell_id: Option<String>,
}

/// Hardware and denominator choices shared by correlate and fold.
#[derive(Debug, Args, Clone)]
pub struct EvalArgs {
    /// Ceilings row (`h100_sxm`, `b200_sm100`); default: the bench context's, else the series'
    /// modelName.
    #[arg(long)]
    pub hw_key: Option<String>,
    /// Tensor peak key (`fp8_dense_pflops`); default: from the quant in the bench context.
    #[arg(long)]
    pub tensor_peak: Option<String>,
    /// profiler categories for page 6b (default: the cell's kernels.json).
    #[arg(long)]
    pub kernels_json: Option<PathBuf>,
}

/// `correlate`.
#[derive(Debug, Args)]
pub struct CorrelateArgs {
    /// Which cell.
    #[command(flatten)]
    pub cell: CellArgs,
    /// Every cell of the campaign, in parallel.
    #[arg(long, conflicts_with = "cell_id")]
    pub all_cells: bool,
    /// Parallel cells with --all-cells (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Hardware and peaks.
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Recorded exporter scrapes (default: the cell's dcgm-scrapes.prom).
    #[arg(long)]
    pub scrapes: Option<PathBuf>,
    /// Bench result file (default: the cell's inference_perfbench_v1.json, else any sniffable
    /// bench JSON in the cell).
    #[arg(long)]
    pub bench_file: Option<PathBuf>,
    /// Which run of a multi-run bench file (GuideLLM benchmark, appended vLLM runs).
    #[arg(long)]
    pub bench_index: Option<usize>,
    /// Window start (RFC 3339 or epoch seconds); overrides the bench file. Needs --end.
    #[arg(long, requires = "end")]
    pub start: Option<String>,
    /// Window end (RFC 3339 or epoch seconds). Needs --start.
    #[arg(long, requires = "start")]
    pub end: Option<String>,
    /// The perfbench bundle's captured_at is the END of the sweep (older bundles).
    #[arg(long)]
    pub captured_at_is_end: bool,
    /// Timezone of naive local bench times (vLLM `date`), IANA name; default: this machine's.
    #[arg(long)]
    pub timezone: Option<String>,
    /// Expected GPU count (default: TP × DP × PP from the bench context).
    #[arg(long)]
    pub n_gpus: Option<u32>,
    /// Workload namespace (matches `namespace` or `exported_namespace`).
    #[arg(long)]
    pub namespace: Option<String>,
    /// Label selector `k=v,k2=~re,...` (each item also matches `exported_<k>`).
    #[arg(long)]
    pub selector: Option<String>,
    /// Host (repeatable).
    #[arg(long = "host")]
    pub hosts: Vec<String>,
    /// GPU UUID (repeatable).
    #[arg(long = "gpu-uuid")]
    pub gpu_uuids: Vec<String>,
    /// Print the queries that would run and read nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `fold`.
#[derive(Debug, Args)]
pub struct FoldArgs {
    /// Which cell.
    #[command(flatten)]
    pub cell: CellArgs,
    /// Frozen snapshot (dcgm_frozen_v1 YAML).
    #[arg(long)]
    pub frozen_yaml: PathBuf,
    /// Hardware and peaks (override the snapshot's).
    #[command(flatten)]
    pub eval: EvalArgs,
}
