//! `dcgm_correlation.json`: a strict superset of the seed's schema_version 1. Every seed field
//! keeps its name and meaning (`measured_bytes_per_s` and `measured_tflops_avg` per GPU,
//! `sol_pct` 0–100); everything else is ours. Serialised through `serde_json::Value` so keys come
//! out sorted and the file diffs cleanly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::measure::{MeasuredUnit, Resource, Tier};
use crate::scope::Scope;
use crate::window::WindowConfidence;

/// The seed's schema version, kept.
pub const SCHEMA_VERSION: u32 = 1;

/// One cell's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correlation {
    // ---- seed fields ----
    /// Always 1.
    pub schema_version: u32,
    /// Where the samples came from (`recorded_scrapes:cells/c064/dcgm-scrapes.prom`, …).
    pub captured_sources: Vec<String>,
    /// Ceilings row used.
    pub hw_key: String,
    /// Window start, whole seconds UTC.
    pub sweep_start_utc: String,
    /// Window end, whole seconds UTC.
    pub sweep_end_utc: String,
    /// Window length, seconds.
    pub duration_s: f64,
    /// GPUs in the denominator.
    pub n_gpus: u32,
    /// Best tier that produced data: `prof`, `counter` or `absent`.
    pub dcgm_group_level: String,
    /// Median sample spacing seen, seconds.
    pub scrape_interval_s: f64,
    /// Exporter refresh interval when slower than the scrapes (values held across scrapes and
    /// integrated once each), seconds; null when every scrape carried a fresh value.
    pub exporter_update_interval_s: Option<f64>,
    /// Window shorter than `dcgm_config.min_sweep_seconds`.
    pub short_sweep_warning: bool,
    /// One row per resource with a ceiling.
    pub resources: Vec<ResourceRow>,
    /// Every query (or its equivalent PromQL for recorded data) behind the numbers.
    pub queries: Vec<QueryRecord>,
    /// True when nothing was queried.
    pub dry_run: bool,
    /// Mean board power per GPU over the window, W.
    pub power_watts_per_gpu: Option<f64>,
    /// Hosts the GPUs are on.
    pub nodes: Vec<String>,
    /// Workload namespace scope, if any.
    pub namespace: Option<String>,
    /// Label selector scope, if any.
    pub pod_label_selector: Option<String>,
    /// Page 6b: per-category attribution from kernels.json.
    pub per_category_attribution: Vec<CategoryAttribution>,
    /// kernels.json used, if any.
    pub kernels_json_path: Option<String>,
    // ---- ours ----
    /// Tool and version that wrote the file.
    pub tool: ToolInfo,
    /// The cell.
    pub cell_id: String,
    /// Hardware identification and the ceilings used.
    pub hardware: HardwareInfo,
    /// The window with its provenance and the steady span.
    pub window: WindowInfo,
    /// Full-context descriptor.
    pub context: Context,
    /// Expected, seen and missing GPUs.
    pub gpus: GpuSummary,
    /// Energy, power and tokens per joule.
    pub energy: EnergyInfo,
    /// Activity context (not SoL).
    pub activity: Vec<ActivityRow>,
    /// What must be read before trusting the numbers.
    pub warnings: Vec<String>,
    /// Everything else worth knowing.
    pub notes: Vec<String>,
    /// Values dropped or clamped by the validity rules.
    pub validity: ValidityInfo,
    /// Rigor ladder position: `L3` (DCGM-grounded) or `L4` (plus ncu evidence).
    pub sol_rigor: String,
    /// Ranked next levers.
    pub next_lever: NextLever,
    /// Scope the series were selected with.
    pub scope: Scope,
}

/// Tool identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// `dcgm-sol`.
    pub name: String,
    /// Crate version.
    pub version: String,
}

/// A resource row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceRow {
    // ---- seed fields ----
    /// Peak key in the ceilings row.
    pub peak_key: String,
    /// DCGM metric(s) behind the row, `+`-joined for pairs.
    pub metric: String,
    /// True when a DEV fallback field produced it.
    pub is_fallback: bool,
    /// GPUs in the denominator.
    pub n_gpus: u32,
    /// Bytes moved over the window by all GPUs.
    pub measured_bytes_total: Option<f64>,
    /// Bytes per second per GPU (averaged over the `n_gpus`).
    pub measured_bytes_per_s: Option<f64>,
    /// TFLOPS per GPU (tensor rows).
    pub measured_tflops_avg: Option<f64>,
    /// Peak per GPU in `peak_per_gpu_units`.
    pub peak_per_gpu: f64,
    /// TB/s, GB/s, PFLOPS, TFLOPS.
    pub peak_per_gpu_units: String,
    /// Peak per GPU in base units: B/s for bandwidth, FLOP/s (op/s) for compute.
    pub peak_per_gpu_base: f64,
    /// Peak × n_gpus, same units.
    pub peak_aggregate: f64,
    /// Measured / (peak × duration × n_gpus) × 100; null in the counter tier for HBM/tensor.
    pub sol_pct: Option<f64>,
    /// Caveats.
    pub notes: Vec<String>,
    // ---- ours ----
    /// Resource.
    pub resource: Resource,
    /// `<hw_key>.<peak_key>`.
    pub ceiling: String,
    /// Which data tier.
    pub tier: Tier,
    /// Unit of the measured values.
    pub unit: MeasuredUnit,
    /// `sol_pct` with the window shifted by −/+ one scrape interval (edge alignment bound).
    pub sol_pct_bounds: Option<[f64; 2]>,
    /// Mean over covered GPU-time (excludes gaps and missing GPUs), % of peak.
    pub sol_pct_of_covered_time: Option<f64>,
    /// `sol_pct` over the steady span.
    pub steady_state_sol_pct: Option<f64>,
    /// Tensor: the value before SM-clock correction.
    pub sol_pct_uncorrected: Option<f64>,
    /// Tensor/HBM clock correction applied.
    pub clock_correction: Option<ClockCorrection>,
    /// Tensor: the precision whose peak is used.
    pub precision: Option<String>,
    /// Counter tier: share of time busy, an upper bound on %SoL, never a SoL.
    pub busy_time_upper_bound_pct: Option<f64>,
    /// Links: per-direction figures.
    pub per_direction: Option<PerDirection>,
    /// Covered GPU-time / (duration × n_gpus), %.
    pub coverage_pct: f64,
    /// Per GPU.
    pub per_gpu: Vec<GpuRow>,
    /// Min/max across GPUs.
    pub spread: Option<Spread>,
    /// `[seconds since window start, % of peak]` (busy % in the counter tier).
    pub timeseries: Vec<[f64; 2]>,
}

/// A clock correction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockCorrection {
    /// Clock measured (`DCGM_FI_DEV_SM_CLOCK` or `…_MEM_CLOCK`).
    pub clock: String,
    /// Activity-weighted mean of that clock, MHz.
    pub mean_clock_mhz: Option<f64>,
    /// Clock the peak is quoted at, MHz.
    pub reference_mhz: f64,
    /// `tensor_peak_clock_mhz`, `boost_mhz` or `mem_clock_max_mhz`.
    pub reference: String,
    /// corrected / uncorrected.
    pub factor: f64,
}

/// Per-direction link figures (DCGM reports TX and RX separately).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerDirection {
    /// Unidirectional peak per GPU, B/s.
    pub peak_per_direction_bytes_per_s: f64,
    /// TX bytes/s per GPU (null when TX is not exported).
    pub tx_bytes_per_s: Option<f64>,
    /// RX bytes/s per GPU (null when RX is not exported).
    pub rx_bytes_per_s: Option<f64>,
    /// TX % of the per-direction peak.
    pub tx_sol_pct: Option<f64>,
    /// RX % of the per-direction peak.
    pub rx_sol_pct: Option<f64>,
    /// The busiest direction of the busiest GPU, % of the per-direction peak.
    pub max_direction_sol_pct: Option<f64>,
    /// The GPU with that busiest direction.
    pub max_direction_gpu: Option<String>,
}

/// One GPU in a row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuRow {
    /// `host/UUID`.
    pub gpu: String,
    /// Exporter `gpu` index.
    pub gpu_index: Option<String>,
    /// Mean over this GPU's covered time, % of peak (busy % in the counter tier).
    pub value_pct: Option<f64>,
    /// Covered share of the window, %.
    pub coverage_pct: f64,
    /// Samples that overlapped the window.
    pub samples: usize,
    /// Why its data were not used.
    pub invalid: Option<String>,
}

/// Spread across GPUs (a TP straggler must be visible).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Lowest per-GPU value, %.
    pub min_pct: f64,
    /// GPU with the lowest value.
    pub min_gpu: String,
    /// Highest per-GPU value, %.
    pub max_pct: f64,
    /// GPU with the highest value.
    pub max_gpu: String,
    /// Median per-GPU value, %.
    pub median_pct: f64,
}

/// A query behind the numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryRecord {
    /// Peak key of the row it fed (null for context metrics).
    pub peak_key: Option<String>,
    /// Metric name.
    pub metric: String,
    /// PromQL (for recorded data: the equivalent query a live source fires).
    pub promql: String,
    /// `ratio`, `bytes_per_s`, `busy_fraction`, `counter`, `mhz`, `w`.
    pub unit: String,
    /// DEV fallback field.
    pub is_fallback: bool,
    /// Evaluation time (the window end plus one interval), UTC.
    pub eval_time_utc: String,
    /// Which source answered.
    pub source: String,
}

/// Page 6b row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryAttribution {
    /// Profiler category (`NCCL`, `GEMM`, …).
    pub category: String,
    /// Profiler samples in the category.
    pub samples: f64,
    /// Share of samples, 0..1.
    pub time_share: f64,
    /// Share × window, seconds.
    pub time_s: f64,
    /// `<hw_key>.<peak_key>` it is compared with.
    pub ceiling: Option<String>,
    /// `bandwidth` or `compute`.
    pub bound: String,
    /// Seed semantics: the workload total × time share (bytes or TFLOP).
    pub attributed: Option<f64>,
    /// `bytes` or `tflop`.
    pub attributed_units: String,
    /// %SoL the category would reach if all of the resource's traffic happened during its own
    /// time (the workload %SoL ÷ time share). Above 100 means the resource was also busy outside
    /// the category's time.
    pub sol_pct_if_exclusive: Option<f64>,
    /// Caveats.
    pub notes: Vec<String>,
}

/// Hardware identification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HardwareInfo {
    /// Ceilings row used.
    pub hw_key: String,
    /// Its display name.
    pub hw_name: Option<String>,
    /// How the row was chosen (`--hw-key`, `bench context`, `modelName`).
    pub hw_key_source: String,
    /// File the row came from, or `built-in`.
    pub ceilings_origin: String,
    /// `modelName` values on the series.
    pub model_names_seen: Vec<String>,
    /// Row the series' model name matches, when known.
    pub model_name_match: Option<String>,
}

/// Window with provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowInfo {
    /// Start, RFC 3339 UTC (ms).
    pub start_utc: String,
    /// End, RFC 3339 UTC (ms).
    pub end_utc: String,
    /// Start, epoch seconds.
    pub start_s: f64,
    /// End, epoch seconds.
    pub end_s: f64,
    /// Where the bounds came from.
    pub source: String,
    /// exact / derived / external.
    pub confidence: WindowConfidence,
    /// Timezone assumed for naive times.
    pub timezone_assumption: Option<String>,
    /// Anchor resolution, s.
    pub resolution_s: Option<f64>,
    /// Samples per GPU and resource inside the window (minimum over PROF rows).
    pub min_samples_in_window: Option<usize>,
    /// Steady span.
    pub steady_state: SteadyInfo,
}

/// Steady span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SteadyInfo {
    /// Found.
    pub detected: bool,
    /// Start, RFC 3339 UTC.
    pub start_utc: String,
    /// End, RFC 3339 UTC.
    pub end_utc: String,
    /// Length, s.
    pub duration_s: f64,
    /// Signal quantity.
    pub signal: String,
    /// Rule.
    pub method: String,
    /// Outcome in words.
    pub summary: String,
    /// Too many dips to call it steady.
    pub unsteady: bool,
}

/// GPUs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuSummary {
    /// Expected count.
    pub expected: u32,
    /// Where it came from.
    pub expected_source: String,
    /// Seen count.
    pub seen: u32,
    /// Expected − seen, when positive.
    pub missing: u32,
    /// Seen GPUs.
    pub seen_gpus: Vec<SeenGpu>,
}

/// A seen GPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeenGpu {
    /// `host/UUID`.
    pub gpu: String,
    /// Exporter `gpu` index.
    pub gpu_index: Option<String>,
    /// `modelName`.
    pub model_name: Option<String>,
}

/// Energy and power.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyInfo {
    /// Span integrated, UTC.
    pub span_start_utc: String,
    /// Span integrated, UTC.
    pub span_end_utc: String,
    /// Which span.
    pub span_source: String,
    /// Energy of all GPUs with data, J.
    pub energy_j_total: Option<f64>,
    /// `counter`, `power_integral` or `mixed`.
    pub energy_source: Option<String>,
    /// GPUs with an energy figure.
    pub gpus_with_energy: u32,
    /// Mean board power per GPU over the window, W.
    pub mean_power_w_per_gpu: Option<f64>,
    /// Output tokens of the run.
    pub output_tokens: Option<u64>,
    /// Output tokens per joule (all GPUs).
    pub tokens_per_joule: Option<f64>,
    /// Joules per output token.
    pub joules_per_output_token: Option<f64>,
    /// Per GPU: `[gpu, mean W, J]`.
    pub per_gpu: Vec<GpuEnergyRow>,
    /// Caveats.
    pub notes: Vec<String>,
}

/// One GPU's energy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuEnergyRow {
    /// `host/UUID`.
    pub gpu: String,
    /// Mean board power, W.
    pub mean_power_w: Option<f64>,
    /// Energy, J.
    pub energy_j: Option<f64>,
    /// `counter` or `power_integral`.
    pub energy_source: Option<String>,
}

/// An activity metric (context, not SoL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityRow {
    /// Quantity name.
    pub quantity: String,
    /// `ratio`, `busy_fraction`, `clock_mhz`.
    pub kind: String,
    /// Mean across GPUs (% for ratios/busy, MHz for clocks).
    pub mean: f64,
    /// Lowest per-GPU mean.
    pub min: f64,
    /// Highest per-GPU mean.
    pub max: f64,
    /// `%` or `MHz`.
    pub units: String,
}

/// Validity summary.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ValidityInfo {
    /// quantity → reason → values rejected.
    pub rejected: BTreeMap<String, BTreeMap<String, usize>>,
    /// quantity → ratios clamped from (1, 1.5] to 1.
    pub clamped: BTreeMap<String, usize>,
    /// GPUs whose PROF data were invalid.
    pub invalid_prof_gpus: Vec<String>,
}

/// The ranked frontier of what to try next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextLever {
    /// Resource closest to its ceiling (PROF rows only).
    pub bounding_resource: Option<Resource>,
    /// Its %SoL.
    pub bounding_sol_pct: Option<f64>,
    /// `steady state` or `full window`.
    pub basis: String,
    /// One-line reading of the cell.
    pub verdict: String,
    /// Levers, best first.
    pub frontier: Vec<Lever>,
}

/// One lever, stated as a hypothesis with the measurement that decides it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lever {
    /// 1 = try first.
    pub rank: u32,
    /// What to change.
    pub lever: String,
    /// Which way.
    pub direction: String,
    /// Rough size of the expected unlock.
    pub expected_unlock: String,
    /// The re-measured number that proves or refutes it.
    pub gate: String,
    /// Why this rule fired.
    pub rationale: String,
}
