//! Synthetic dcgm-exporter data for the real-backend tests: one model of what the exporters
//! published, written as OpenMetrics (epoch seconds, families grouped, `# EOF`) for promtool and
//! `--scrapes`, and as Prometheus text with millisecond stamps for the VictoriaMetrics import.
//!
//! Time grid. Scrape `k` (k = 0..=21) happens at `T0_S + 15 k` and carries the DCGM average over
//! the 15 s before it, `(T0 + 15(k−1), T0 + 15k]`. The window `(T0 + 67.5, T0 + 247.5]` (180 s)
//! has both edges half-way between scrapes, so no sample sits on an edge (Prometheus 2.x and 3.x
//! disagree about samples exactly on a range boundary). It takes 7.5 s of scrape 5's span, all
//! of scrapes 6–16 (11 × 15 s) and 7.5 s of scrape 17's: weights `w_k` = 7.5, 15 × 11, 7.5.
//! Hence, over the window:
//! - a value linear in k, `a + b·k`, averages `a + 11 b`
//!   (Σ w_k·k = 7.5·5 + 15·(6 + … + 16) + 7.5·17 = 37.5 + 1815 + 127.5 = 1980 = 180 × 11);
//! - an alternating term `(−1)^k` averages 0 (−7.5 + 15·(6 even − 5 odd) − 7.5 = 0), and so does
//!   `k·(−1)^k` (−37.5 + 15·(6 − 7 + 8 − … + 16 = 11) − 127.5 = 0).
//!
//! Every field changes at every scrape (no values held across scrapes).

use std::collections::BTreeMap;

/// Scrape 0, epoch seconds: 2026-09-21T14:13:20Z. Fixed (the tests read no clock), in the past
/// (VictoriaMetrics refuses samples more than two days ahead of its clock) and far inside the
/// 10 y / 100 y retention the servers run with.
pub const T0_S: i64 = 1_790_000_000;
/// Seconds between scrapes.
pub const SCRAPE_INTERVAL_S: i64 = 15;
/// Scrapes k = 0..SCRAPES: a 45 s margin beyond each window edge plus slack.
pub const SCRAPES: u32 = 22;
/// Window start, epoch seconds (half-way between scrapes 4 and 5).
pub const WINDOW_START_S: f64 = T0_S as f64 + 67.5;
/// Window end, epoch seconds (half-way between scrapes 16 and 17).
pub const WINDOW_END_S: f64 = T0_S as f64 + 247.5;
/// Window length, s.
pub const WINDOW_S: f64 = WINDOW_END_S - WINDOW_START_S;

/// The time of scrape `k`, epoch seconds.
pub fn scrape_time_s(k: u32) -> i64 {
    T0_S + SCRAPE_INTERVAL_S * i64::from(k)
}

/// A label set in the exporter's order.
pub type Labels = Vec<(String, String)>;

/// What one GPU's DCGM fields read at scrape `k`. `g` shifts every field so that GPUs are told
/// apart in every per-GPU row. Window means (module doc: linear terms at k = 11, alternating
/// terms 0):
///
/// | field | at scrape k | window mean |
/// |---|---|---|
/// | DRAM_ACTIVE | 0.400 + 0.01 g + 0.005 k | 0.455 + 0.01 g |
/// | PIPE_TENSOR_ACTIVE | 0.295 + 0.01 g + 0.005 k | 0.350 + 0.01 g |
/// | SM_CLOCK | 1647 + 183·(−1)^k MHz (1830 / 1464) | 1647 = 0.9 × 1830 |
/// | NVLINK_TX_BYTES | 116.1e9 + 0.9e9 k + 9e9 g B/s | 126e9 + 9e9 g |
/// | NVLINK_RX_BYTES | 48.5e9 + 0.5e9 k + 9e9 g B/s | 54e9 + 9e9 g |
/// | PCIE_TX_BYTES | 5.3e9 + 0.1e9 k + 0.64e9 g B/s | 6.4e9 + 0.64e9 g |
/// | PCIE_RX_BYTES | 2.65e9 + 0.05e9 k + 0.64e9 g B/s | 3.2e9 + 0.64e9 g |
/// | POWER_USAGE | 400 + 10 g + 3 k W | 433 + 10 g |
/// | TOTAL_ENERGY_CONSUMPTION | rises 15 s × POWER(k) between scrapes k−1 and k | 180 × (433 + 10 g) J over the window |
/// | GPU_UTIL | 60 + 10 g + k % | 71 + 10 g |
/// | MEM_COPY_UTIL | 30 + 10 g + k % | 41 + 10 g |
/// | NVLINK_BANDWIDTH_TOTAL | 100 000 + 50 000 g + 1000 k × 1000 KiB/s | 111 000 + 50 000 g |
///
/// The tensor × clock product `(a + b k)(1647 + 183(−1)^k)` averages `1647 (a + 11 b)` since
/// both mixed terms vanish: clock-corrected tensor activity = 0.9 × (0.35 + 0.01 g).
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Shift of this GPU's values.
    pub g: u32,
}

/// Energy counter at scrape 0, mJ (a counter running since the driver loaded).
const ENERGY_AT_T0_MJ: u64 = 5_000_000_000;

impl Load {
    fn dram_ratio(self, k: u32) -> f64 {
        per_mille(400 + 10 * self.g + 5 * k)
    }

    fn tensor_ratio(self, k: u32) -> f64 {
        per_mille(295 + 10 * self.g + 5 * k)
    }

    fn sm_clock_mhz(self, k: u32) -> f64 {
        if k.is_multiple_of(2) { 1830.0 } else { 1464.0 }
    }

    fn nvlink_tx_bytes_per_s(self, k: u32) -> f64 {
        mega(116_100 + 900 * k + 9_000 * self.g)
    }

    fn nvlink_rx_bytes_per_s(self, k: u32) -> f64 {
        mega(48_500 + 500 * k + 9_000 * self.g)
    }

    fn pcie_tx_bytes_per_s(self, k: u32) -> f64 {
        mega(5_300 + 100 * k + 640 * self.g)
    }

    fn pcie_rx_bytes_per_s(self, k: u32) -> f64 {
        mega(2_650 + 50 * k + 640 * self.g)
    }

    fn power_w(self, k: u32) -> f64 {
        f64::from(400 + 10 * self.g + 3 * k)
    }

    /// E(k) = E(0) + Σ_{j=1..k} 15 s × POWER(j) = E(0) + 15 000 (k (400 + 10 g) + 3 k (k+1)/2) mJ.
    fn energy_mj(self, k: u32) -> f64 {
        let (k, g) = (u64::from(k), u64::from(self.g));
        let joules_per_15_s_sum = k * (400 + 10 * g) + 3 * k * (k + 1) / 2;
        (ENERGY_AT_T0_MJ + 1_000_000_000 * g + 15_000 * joules_per_15_s_sum) as f64
    }

    fn gpu_util_pct(self, k: u32) -> f64 {
        f64::from(60 + 10 * self.g + k)
    }

    fn mem_copy_util_pct(self, k: u32) -> f64 {
        f64::from(30 + 10 * self.g + k)
    }

    fn nvlink_bandwidth_total_1000_kib_per_s(self, k: u32) -> f64 {
        f64::from(100_000 + 50_000 * self.g + 1_000 * k)
    }
}

fn per_mille(n: u32) -> f64 {
    f64::from(n) / 1000.0
}

fn mega(n: u32) -> f64 {
    f64::from(n) * 1e6
}

/// One exported metric: its name and its value at scrape `k`, in the unit that name carries.
#[derive(Clone, Copy)]
pub struct Field {
    /// Metric name.
    pub metric: &'static str,
    value: fn(Load, u32) -> f64,
}

const fn field(metric: &'static str, value: fn(Load, u32) -> f64) -> Field {
    Field { metric, value }
}

/// The PROF exporter of DCGM 3.x / 4.x up to exporter 4.8 (legacy names and units).
pub const PROF_LEGACY: &[Field] = &[
    field("DCGM_FI_PROF_DRAM_ACTIVE", Load::dram_ratio),
    field("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", Load::tensor_ratio),
    field("DCGM_FI_DEV_SM_CLOCK", Load::sm_clock_mhz),
    field("DCGM_FI_PROF_NVLINK_TX_BYTES", Load::nvlink_tx_bytes_per_s),
    field("DCGM_FI_PROF_NVLINK_RX_BYTES", Load::nvlink_rx_bytes_per_s),
    field("DCGM_FI_PROF_PCIE_TX_BYTES", Load::pcie_tx_bytes_per_s),
    field("DCGM_FI_PROF_PCIE_RX_BYTES", Load::pcie_rx_bytes_per_s),
    field("DCGM_FI_DEV_POWER_USAGE", Load::power_w),
    field("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", Load::energy_mj),
    field("DCGM_FI_DEV_GPU_UTIL", Load::gpu_util_pct),
    field("DCGM_FI_DEV_MEM_COPY_UTIL", Load::mem_copy_util_pct),
];

/// The same fields under the DCGM 4.6 / 4.6.1 names of exporter 4.9, in their units: SM clock
/// in Hz, energy in J, GPU utilisation as a 0–1 ratio (NVLink and PCIe PROF names unchanged).
pub const PROF_DCGM4: &[Field] = &[
    field("DCGM_FI_PROF_DRAM_UTIL_RATIO", Load::dram_ratio),
    field("DCGM_FI_PROF_TENSOR_UTIL_RATIO", Load::tensor_ratio),
    field("DCGM_FI_DEV_SM_CLOCK_HERTZ", |l, k| l.sm_clock_mhz(k) * 1e6),
    field("DCGM_FI_PROF_NVLINK_TX_BYTES", Load::nvlink_tx_bytes_per_s),
    field("DCGM_FI_PROF_NVLINK_RX_BYTES", Load::nvlink_rx_bytes_per_s),
    field("DCGM_FI_PROF_PCIE_TX_BYTES", Load::pcie_tx_bytes_per_s),
    field("DCGM_FI_PROF_PCIE_RX_BYTES", Load::pcie_rx_bytes_per_s),
    field("DCGM_FI_DEV_BOARD_POWER_WATTS", Load::power_w),
    field("DCGM_FI_DEV_GPU_ENERGY_JOULES_TOTAL", |l, k| {
        l.energy_mj(k) / 1000.0
    }),
    field("DCGM_FI_DEV_GPU_UTIL_RATIO", |l, k| {
        l.gpu_util_pct(k) / 100.0
    }),
];

/// An exporter without the profiling module (vGPU, missing SYS_ADMIN): DEV fields only.
pub const DEV_ONLY: &[Field] = &[
    field("DCGM_FI_DEV_SM_CLOCK", Load::sm_clock_mhz),
    field("DCGM_FI_DEV_POWER_USAGE", Load::power_w),
    field("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", Load::energy_mj),
    field("DCGM_FI_DEV_GPU_UTIL", Load::gpu_util_pct),
    field("DCGM_FI_DEV_MEM_COPY_UTIL", Load::mem_copy_util_pct),
    field(
        "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL",
        Load::nvlink_bandwidth_total_1000_kib_per_s,
    ),
];

/// Fields dcgm-exporter declares `counter` (without a `_total` suffix; promtool stores the name
/// as written). Everything else is a `gauge`.
const DECLARED_COUNTERS: [&str; 3] = [
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
    "DCGM_FI_DEV_GPU_ENERGY_JOULES_TOTAL",
    "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL",
];

/// Everything the exporters published: series keyed by metric, then labels; samples ascending.
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    series: BTreeMap<(String, Labels), Vec<(i64, f64)>>,
}

impl Scenario {
    /// One GPU's exporter: every field of `fields` at each scrape `k` for which `labels_at(k)`
    /// gives the series' labels (`None`: not scraped, e.g. the exporter was restarting).
    pub fn exporter(
        &mut self,
        fields: &[Field],
        load: Load,
        labels_at: impl Fn(u32) -> Option<Labels>,
    ) {
        for k in 0..SCRAPES {
            let Some(labels) = labels_at(k) else { continue };
            for f in fields {
                self.push(f.metric, &labels, k, (f.value)(load, k));
            }
        }
    }

    /// One series with its own values at every scrape (MIG instance series).
    pub fn series(&mut self, metric: &str, labels: &Labels, value: impl Fn(u32) -> f64) {
        for k in 0..SCRAPES {
            self.push(metric, labels, k, value(k));
        }
    }

    fn push(&mut self, metric: &str, labels: &Labels, k: u32, value: f64) {
        self.series
            .entry((metric.to_string(), labels.clone()))
            .or_default()
            .push((scrape_time_s(k), value));
    }

    /// Every series: metric, labels, `(epoch s, value)` samples.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Labels, &[(i64, f64)])> {
        self.series
            .iter()
            .map(|((metric, labels), samples)| (metric.as_str(), labels, samples.as_slice()))
    }

    /// Number of series.
    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    /// OpenMetrics for `promtool tsdb create-blocks-from openmetrics` and `--scrapes`: per
    /// family `# HELP`, `# TYPE`, then its samples (ascending per series), epoch seconds, `\n`
    /// line endings, final `# EOF` (reference/rust-stack.md §4.2).
    pub fn openmetrics(&self) -> String {
        let mut text = self.exposition(|t_s| t_s.to_string());
        text.push_str("# EOF\n");
        text
    }

    /// Prometheus text with millisecond stamps, the VictoriaMetrics import body.
    pub fn prometheus_text_ms(&self) -> String {
        self.exposition(|t_s| (t_s * 1000).to_string())
    }

    fn exposition(&self, stamp: impl Fn(i64) -> String) -> String {
        let mut text = String::new();
        let mut family = "";
        for (metric, labels, samples) in self.iter() {
            if metric != family {
                let kind = if DECLARED_COUNTERS.contains(&metric) {
                    "counter"
                } else {
                    "gauge"
                };
                text.push_str(&format!("# HELP {metric} DCGM field {metric}.\n"));
                text.push_str(&format!("# TYPE {metric} {kind}\n"));
                family = metric;
            }
            let label_text = labels
                .iter()
                .map(|(name, value)| format!("{name}=\"{}\"", escape_label_value(value)))
                .collect::<Vec<_>>()
                .join(",");
            for (t_s, value) in samples {
                // `{}` prints an f64 as the shortest decimal that reads back to the same bits.
                text.push_str(&format!(
                    "{metric}{{{label_text}}} {value} {}\n",
                    stamp(*t_s)
                ));
            }
        }
        text
    }
}

fn escape_label_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The model name every test GPU reports (ceilings row `h100_sxm`).
pub const MODEL_NAME: &str = "NVIDIA H100 80GB HBM3";

/// Which exporter release rendered the labels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Exporter {
    /// Up to 4.5.2: `Hostname`, `DCGM_FI_DRIVER_VERSION` (the fixtures' label set).
    Legacy,
    /// 4.9: `hostname`, `DCGM_FI_SYSTEM_DRIVER_VERSION`.
    V4_9,
}

/// One physical test GPU.
#[derive(Debug, Clone)]
pub struct Gpu {
    /// Node name.
    pub host: &'static str,
    /// DCGM index on its node.
    pub index: u32,
    /// `GPU-…`.
    pub uuid: &'static str,
    /// What it reads.
    pub load: Load,
}

/// PCI bus ids by DCGM index (fixture `h100x8-pod-labels.prom`).
const PCI_BUS_IDS: [&str; 8] = [
    "00000000:53:00.0",
    "00000000:64:00.0",
    "00000000:75:00.0",
    "00000000:86:00.0",
    "00000000:97:00.0",
    "00000000:A8:00.0",
    "00000000:B9:00.0",
    "00000000:CA:00.0",
];

impl Gpu {
    /// `host/UUID`, as the result names a GPU.
    pub fn display_name(&self) -> String {
        format!("{}/{}", self.host, self.uuid)
    }

    /// The exporter's label set for this GPU, in its rendering order (reference/dcgm-fields.md
    /// §3): gpu, UUID, pci_bus_id, device, modelName, host, driver version.
    pub fn labels(&self, exporter: Exporter) -> Labels {
        let (host_label, driver_label) = match exporter {
            Exporter::Legacy => ("Hostname", "DCGM_FI_DRIVER_VERSION"),
            Exporter::V4_9 => ("hostname", "DCGM_FI_SYSTEM_DRIVER_VERSION"),
        };
        let pci_bus_id = PCI_BUS_IDS[self.index as usize % PCI_BUS_IDS.len()];
        [
            ("gpu", self.index.to_string()),
            ("UUID", self.uuid.to_string()),
            ("pci_bus_id", pci_bus_id.to_string()),
            ("device", format!("nvidia{}", self.index)),
            ("modelName", MODEL_NAME.to_string()),
            (host_label, self.host.to_string()),
            (driver_label, "580.105.08".to_string()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
    }
}

/// `labels` followed by `extra` (pod attribution, Prometheus target labels).
pub fn with(labels: &Labels, extra: &[(&str, &str)]) -> Labels {
    labels
        .iter()
        .cloned()
        .chain(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())))
        .collect()
}

/// A MIG GPU instance's label set: the GPU's labels with `GPU_I_PROFILE` and `GPU_I_ID` after
/// `modelName`, where the exporter renders them.
pub fn mig_instance(labels: &Labels, profile: &str, instance_id: &str) -> Labels {
    let mut out = Labels::new();
    for (name, value) in labels {
        out.push((name.clone(), value.clone()));
        if name == "modelName" {
            out.push(("GPU_I_PROFILE".to_string(), profile.to_string()));
            out.push(("GPU_I_ID".to_string(), instance_id.to_string()));
        }
    }
    out
}
