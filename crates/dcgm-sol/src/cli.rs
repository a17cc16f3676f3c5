//! Command-line flags (clap). Nothing here reaches the core: commands turn these into core
//! inputs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    /// Pre-flight: which DCGM metrics, labels, tiers, hosts and GPUs are in scope, and how many
    /// series (read-only, nothing written).
    Probe(Box<ProbeArgs>),
    /// Compute %SoL for one cell (or every cell) from a Prometheus-compatible API or recorded
    /// scrapes.
    Correlate(Box<CorrelateArgs>),
    /// Rebuild dcgm_correlation.json from a frozen snapshot (dcgm_frozen_v1).
    Fold(FoldArgs),
    /// Write the campaign report (report/index.html, one SVG per chart) and report_status.json.
    Render(CampaignArgs),
    /// Patch the "Workload-level SoL" table of the campaign's sol-summary.md.
    Summary(CampaignArgs),
    /// Publish the campaign's results to the Parquet lake (campaign_v1, dcgm_sol_v1).
    Publish(PublishArgs),
    /// Run a bench command while scraping dcgm-exporter(s) directly (no Prometheus needed),
    /// then correlate the cell.
    Record(Box<RecordArgs>),
    /// Serve the verbs as Model Context Protocol tools to a coding agent over stdio (JSON-RPC,
    /// one message per line); every path stays inside --campaigns-dir.
    Mcp(McpArgs),
}

/// `mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// Offer only the tools that read (ceilings, probe, plan): the writing ones are not served.
    #[arg(long)]
    pub read_only: bool,
}

/// `record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// dcgm-exporter metrics URL (repeatable), e.g. `http://node-1:9400/metrics`.
    #[arg(long = "exporter", required = true, value_name = "URL")]
    pub exporters: Vec<String>,
    /// Campaign slug (created under --campaigns-dir when missing).
    #[arg(long)]
    pub campaign: String,
    /// Cell id (created when missing).
    #[arg(long)]
    pub cell_id: String,
    /// Scrape interval: `1s`, `500ms`, `2.5` (seconds).
    #[arg(long, default_value = "1s", value_parser = parse_interval)]
    pub interval: std::time::Duration,
    /// Only record; do not correlate the cell afterwards.
    #[arg(long)]
    pub no_correlate: bool,
    /// Hardware and peaks for the correlate step.
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Expected GPU count for the correlate step (default: TP × DP × PP from the bench context).
    #[arg(long)]
    pub n_gpus: Option<u32>,
    /// Timezone of naive local bench times for the correlate step.
    #[arg(long)]
    pub timezone: Option<String>,
    /// The bench command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// Shortest and longest scrape interval `record` accepts.
const INTERVAL_BOUNDS_S: (f64, f64) = (0.1, 3600.0);

/// `1s`, `500ms`, `1.5s`, `2m` or a plain number of seconds.
fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let trimmed = text.trim();
    let seconds = match trimmed.parse::<f64>() {
        Ok(seconds) => seconds,
        Err(_) => trimmed
            .parse::<jiff::SignedDuration>()
            .map_err(|e| format!("`{text}` is not a duration (`1s`, `500ms`, `2.5`): {e}"))?
            .as_secs_f64(),
    };
    let (low, high) = INTERVAL_BOUNDS_S;
    if !(low..=high).contains(&seconds) {
        return Err(format!(
            "`{text}` is outside {low} s … {high} s; dcgm-exporter refreshes every few seconds at most"
        ));
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}

/// `publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Campaign slug (a directory under --campaigns-dir).
    #[arg(long)]
    pub campaign: String,
    /// Lake directory (created when missing).
    #[arg(long, default_value = "lake")]
    pub lake: PathBuf,
    /// When the campaign's partition exists: refuse, replace it atomically, or add a file.
    #[arg(long, value_enum, default_value_t = IfExistsArg::Error)]
    pub if_exists: IfExistsArg,
    /// Refuse a campaign where some cell has no usable dcgm_correlation.json.
    #[arg(long)]
    pub strict: bool,
}

/// `--if-exists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IfExistsArg {
    /// Refuse.
    Error,
    /// Replace the partition (old or new, never a mix).
    Overwrite,
    /// Add this publish's rows beside the earlier ones.
    Append,
}

/// A whole campaign.
#[derive(Debug, Args)]
pub struct CampaignArgs {
    /// Campaign slug (a directory under --campaigns-dir).
    #[arg(long)]
    pub campaign: String,
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

/// The measurement window: from the cell's bench result, or given.
#[derive(Debug, Args, Clone)]
pub struct WindowArgs {
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
}

/// Where the DCGM series come from.
#[derive(Debug, Args, Clone)]
pub struct SourceArgs {
    /// Recorded exporter scrapes (default: the cell's dcgm-scrapes.prom when no Prometheus URL
    /// is given).
    #[arg(long, conflicts_with = "prometheus")]
    pub scrapes: Option<PathBuf>,
    /// Prometheus-compatible API base URL, path prefix included (Prometheus, Thanos, Mimir
    /// `…/prometheus`, VictoriaMetrics `…/select/<tenant>/prometheus`); else $PROMETHEUS_URL.
    #[arg(long)]
    pub prometheus: Option<String>,
    /// File holding a bearer token; else $PROMETHEUS_BEARER_TOKEN.
    #[arg(long)]
    pub bearer_token_file: Option<PathBuf>,
    /// Basic-auth user (password from --basic-auth-password-file or
    /// $PROMETHEUS_BASIC_AUTH_PASSWORD).
    #[arg(long)]
    pub basic_auth_user: Option<String>,
    /// File holding the basic-auth password.
    #[arg(long, requires = "basic_auth_user")]
    pub basic_auth_password_file: Option<PathBuf>,
    /// Extra request header `Name: value` (repeatable), e.g. `X-Scope-OrgID: tenant` for Mimir.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// PEM file of a CA to trust besides the public roots.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Do not verify the server's TLS certificate (test setups only).
    #[arg(long)]
    pub insecure_skip_verify: bool,
    /// Seconds before one HTTP request times out.
    #[arg(long, default_value_t = 30.0)]
    pub timeout_s: f64,
    /// Refuse to query more series than this (the probe counts them first).
    #[arg(long, default_value_t = sol_core::probe::DEFAULT_MAX_SERIES)]
    pub max_series: usize,
    /// Query even above --max-series.
    #[arg(long)]
    pub force: bool,
}

/// Which series belong to the workload.
#[derive(Debug, Args, Clone)]
pub struct ScopeArgs {
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
    /// A bench file holding several runs (a GuideLLM sweep, appended vLLM runs) becomes one
    /// cell per run, `<cell>.run<index>`, each correlated on its own.
    #[arg(long, conflicts_with = "bench_index")]
    pub split_runs: bool,
    /// Parallel cells with --all-cells (default: twice the cores — each cell ends in fsynced
    /// writes, and another cell computes meanwhile).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Hardware and peaks.
    #[command(flatten)]
    pub eval: EvalArgs,
    /// The window.
    #[command(flatten)]
    pub window: WindowArgs,
    /// The source.
    #[command(flatten)]
    pub source: SourceArgs,
    /// The scope.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Expected GPU count (default: TP × DP × PP from the bench context).
    #[arg(long)]
    pub n_gpus: Option<u32>,
    /// Print the queries that would run and read nothing (not even the probe).
    #[arg(long)]
    pub dry_run: bool,
    /// When the cell's bench file is an llm-d Benchmark Report, also write a copy of it with
    /// the result in `results.observability` (`<report>.with-dcgm-sol.yaml`, in the cell).
    #[arg(long, conflicts_with = "dry_run")]
    pub emit_llmd: bool,
}

/// `probe`.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Campaign whose cell gives the window (else --start/--end).
    #[arg(long, requires = "cell_id")]
    pub campaign: Option<String>,
    /// Cell whose bench result gives the window.
    #[arg(long, requires = "campaign")]
    pub cell_id: Option<String>,
    /// The window.
    #[command(flatten)]
    pub window: WindowArgs,
    /// The source.
    #[command(flatten)]
    pub source: SourceArgs,
    /// The scope.
    #[command(flatten)]
    pub scope: ScopeArgs,
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
