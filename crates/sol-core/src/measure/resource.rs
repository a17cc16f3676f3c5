//! Per-resource integration: HBM, tensor, NVLink, PCIe and C2C, in the best tier the data allow.

use serde::{Deserialize, Serialize};

use super::timeseries::{points_from_spans, relative_to};
use crate::assemble::{Assembly, GpuSamples};
use crate::catalog::{self, Quantity};
use crate::integrate::{Span, WindowIntegral, integrate, pair_combine, series_spans};
use crate::labels::GpuKey;
use crate::series::Sample;
use crate::steady::SteadyState;
use crate::window::Window;

/// A hardware resource with a speed-of-light ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// Device memory bandwidth.
    Hbm,
    /// Tensor-core throughput.
    Tensor,
    /// GPU-GPU NVLink bandwidth.
    Nvlink,
    /// Host PCIe bandwidth.
    Pcie,
    /// Grace↔GPU chip-to-chip bandwidth.
    C2c,
}

impl Resource {
    /// Every resource, in report order.
    pub const ALL: [Resource; 5] = [
        Resource::Hbm,
        Resource::Tensor,
        Resource::Nvlink,
        Resource::Pcie,
        Resource::C2c,
    ];

    /// The PROF quantities that measure this resource (TX and RX for links).
    pub fn prof_quantities(self) -> Vec<Quantity> {
        prof_quantities(self)
    }

    /// The DEV fallback quantity of the counter tier, if the resource has one.
    pub fn counter_quantity(self) -> Option<Quantity> {
        counter_data(self)
    }

    /// Quantities that measure this resource in bytes or activity (PROF fields, plus the DEV
    /// NVLink bandwidth): what a frozen row of it may name. Busy-time fields are not among them.
    pub fn grounded_quantities(self) -> Vec<Quantity> {
        let mut quantities = prof_quantities(self);
        if self == Resource::Nvlink {
            quantities.push(Quantity::NvlinkBandwidthTotal);
        }
        quantities
    }

    /// The name results use (`hbm`, `tensor`, `nvlink`, `pcie`, `c2c`), as serialized.
    pub fn key(self) -> &'static str {
        match self {
            Resource::Hbm => "hbm",
            Resource::Tensor => "tensor",
            Resource::Nvlink => "nvlink",
            Resource::Pcie => "pcie",
            Resource::C2c => "c2c",
        }
    }

    /// Short display name.
    pub fn label(self) -> &'static str {
        match self {
            Resource::Hbm => "HBM",
            Resource::Tensor => "Tensor",
            Resource::Nvlink => "NVLink",
            Resource::Pcie => "PCIe",
            Resource::C2c => "C2C",
        }
    }
}

/// Which data produced a resource's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// DCGM profiling fields: byte-grounded.
    Prof,
    /// DEV fallback fields: NVLink bandwidth (bytes) or busy-time upper bounds.
    Counter,
    /// PROF series present but invalid (all-zero while the GPU was busy).
    Invalid,
    /// Nothing exported.
    Absent,
}

/// The unit of a resource's measured values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasuredUnit {
    /// Fraction of peak activity, 0..1.
    Ratio,
    /// Bytes per second.
    BytesPerS,
    /// Fraction of time busy, 0..1 (an upper bound, never a SoL).
    BusyFraction,
}

/// Integrals of one GPU's data over a span of time.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GpuIntegrals {
    /// ∫ primary value dt (ratio·s, busy·s or bytes).
    pub integral: f64,
    /// Seconds covered by valid samples.
    pub covered_s: f64,
    /// Samples that overlapped the span.
    pub samples: usize,
    /// ∫ primary × clock dt (MHz·s), over `scaled_covered_s` — tensor × SM clock, HBM × memory clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaled_integral: Option<f64>,
    /// Seconds covered by samples paired with a clock reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaled_covered_s: Option<f64>,
    /// ∫ TX bytes/s dt (links).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_integral: Option<f64>,
    /// ∫ RX bytes/s dt (links).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rx_integral: Option<f64>,
}

/// One GPU's share of a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuResource {
    /// The GPU.
    pub gpu: GpuKey,
    /// Over the whole window.
    pub full: GpuIntegrals,
    /// Over the steady span, when one was detected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steady: Option<GpuIntegrals>,
    /// Why this GPU's data were not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<String>,
}

/// One resource over the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceMeasurement {
    /// The resource.
    pub resource: Resource,
    /// Which tier produced it.
    pub tier: Tier,
    /// Unit of the integrals.
    pub unit: MeasuredUnit,
    /// Metric names that contributed.
    pub metrics: Vec<String>,
    /// Clock the `scaled_integral`s multiply by, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_quantity: Option<Quantity>,
    /// Per GPU, every GPU seen (coverage 0 where it had no data).
    pub per_gpu: Vec<GpuResource>,
    /// Lowest and highest ∫ primary value dt over the valid GPUs with the window shifted by −/+
    /// one sample interval: the alignment uncertainty of interval averages at the window edges.
    /// Divided by the row's own denominator when evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_integrals: Option<[f64; 2]>,
    /// `[seconds since window start, mean over reporting GPUs]` of the primary value.
    pub timeseries: Vec<[f64; 2]>,
    /// Notes on this resource.
    pub notes: Vec<String>,
}

/// Where a resource's data come from in each tier.
#[derive(Clone, Copy)]
enum ProfData {
    Ratio { quantity: Quantity, clock: Quantity },
    Link { tx: Quantity, rx: Quantity },
}

fn prof_data(resource: Resource) -> ProfData {
    match resource {
        Resource::Hbm => ProfData::Ratio {
            quantity: Quantity::DramActive,
            clock: Quantity::MemClock,
        },
        Resource::Tensor => ProfData::Ratio {
            quantity: Quantity::TensorActive,
            clock: Quantity::SmClock,
        },
        Resource::Nvlink => ProfData::Link {
            tx: Quantity::NvlinkTx,
            rx: Quantity::NvlinkRx,
        },
        Resource::Pcie => ProfData::Link {
            tx: Quantity::PcieTx,
            rx: Quantity::PcieRx,
        },
        Resource::C2c => ProfData::Link {
            tx: Quantity::C2cTx,
            rx: Quantity::C2cRx,
        },
    }
}

fn counter_data(resource: Resource) -> Option<Quantity> {
    match resource {
        Resource::Hbm => Some(Quantity::MemCopyUtil),
        Resource::Tensor => Some(Quantity::GpuUtil),
        Resource::Nvlink => Some(Quantity::NvlinkBandwidthTotal),
        Resource::Pcie | Resource::C2c => None,
    }
}

fn prof_quantities(resource: Resource) -> Vec<Quantity> {
    match prof_data(resource) {
        ProfData::Ratio { quantity, .. } => vec![quantity],
        ProfData::Link { tx, rx } => vec![tx, rx],
    }
}

/// Whether a GPU has samples of `quantity` inside the window (or covering its end).
fn has_data_in(gpu: &GpuSamples, quantity: Quantity, window: &Window, interval_s: f64) -> bool {
    gpu.quantities.get(&quantity).is_some_and(|s| {
        s.iter()
            .any(|x| x.t_s > window.start_s && x.t_s <= window.end_s + interval_s)
    })
}

/// GPUs whose PROF DRAM/tensor activity is identically zero over the window while GPU_UTIL says
/// kernels ran: the profiling counters were held by another profiler (ncu/nsys) or stuck, so the
/// zeros are invalid, not 0 % SoL (reference/dcgm-fields.md §6).
pub(super) fn invalid_prof_gpus(
    assembly: &Assembly,
    window: &Window,
    interval_s: f64,
) -> Vec<GpuKey> {
    let in_window = |s: &Sample| s.t_s > window.start_s && s.t_s <= window.end_s + interval_s;
    assembly
        .gpus
        .iter()
        .filter(|gpu| {
            let prof: Vec<&Sample> = [Quantity::DramActive, Quantity::TensorActive]
                .iter()
                .filter_map(|q| gpu.quantities.get(q))
                .flatten()
                .filter(|s| in_window(s))
                .collect();
            let busy = gpu
                .quantities
                .get(&Quantity::GpuUtil)
                .is_some_and(|s| s.iter().filter(|s| in_window(s)).any(|s| s.value > 0.0));
            !prof.is_empty() && prof.iter().all(|s| s.value == 0.0) && busy
        })
        .map(|gpu| gpu.key.clone())
        .collect()
}

/// Spans of one GPU's data for a resource in a tier.
struct GpuSpans {
    primary: Vec<Span>,
    scaled: Option<Vec<Span>>,
    tx: Option<Vec<Span>>,
    rx: Option<Vec<Span>>,
}

fn gpu_spans(resource: Resource, tier: Tier, gpu: &GpuSamples, interval_s: f64) -> GpuSpans {
    let get = |q: Quantity| gpu.quantities.get(&q).map(Vec::as_slice).unwrap_or(&[]);
    let tolerance_s = 2.0 * interval_s;
    if tier != Tier::Prof {
        let samples = counter_data(resource).map(get).unwrap_or(&[]);
        return GpuSpans {
            primary: series_spans(samples, interval_s),
            scaled: None,
            tx: None,
            rx: None,
        };
    }
    match prof_data(resource) {
        ProfData::Ratio { quantity, clock } => {
            let primary = get(quantity);
            let clock_samples = get(clock);
            let scaled = (!clock_samples.is_empty()).then(|| {
                let (product, _unpaired) =
                    pair_combine(primary, clock_samples, tolerance_s, |v, mhz| v * mhz);
                series_spans(&product, interval_s)
            });
            GpuSpans {
                primary: series_spans(primary, interval_s),
                scaled,
                tx: None,
                rx: None,
            }
        }
        ProfData::Link { tx, rx } => {
            let (tx, rx) = (get(tx), get(rx));
            let primary = match (tx.is_empty(), rx.is_empty()) {
                (false, false) => pair_combine(tx, rx, tolerance_s, |a, b| a + b).0,
                (false, true) => tx.to_vec(),
                _ => rx.to_vec(),
            };
            GpuSpans {
                primary: series_spans(&primary, interval_s),
                scaled: None,
                tx: (!tx.is_empty()).then(|| series_spans(tx, interval_s)),
                rx: (!rx.is_empty()).then(|| series_spans(rx, interval_s)),
            }
        }
    }
}

fn integrals_of(spans: &GpuSpans, start_s: f64, end_s: f64) -> GpuIntegrals {
    let primary = integrate(&spans.primary, start_s, end_s);
    let scaled: Option<WindowIntegral> =
        spans.scaled.as_ref().map(|s| integrate(s, start_s, end_s));
    GpuIntegrals {
        integral: primary.integral,
        covered_s: primary.covered_s,
        samples: primary.spans,
        scaled_integral: scaled.map(|s| s.integral),
        scaled_covered_s: scaled.map(|s| s.covered_s),
        tx_integral: spans
            .tx
            .as_ref()
            .map(|s| integrate(s, start_s, end_s).integral),
        rx_integral: spans
            .rx
            .as_ref()
            .map(|s| integrate(s, start_s, end_s).integral),
    }
}

fn choose_tier(
    resource: Resource,
    assembly: &Assembly,
    window: &Window,
    interval_s: f64,
    invalid: &[GpuKey],
) -> (Tier, Vec<String>) {
    let mut notes = Vec::new();
    let prof = prof_quantities(resource);
    let prof_gpus: Vec<&GpuSamples> = assembly
        .gpus
        .iter()
        .filter(|g| prof.iter().any(|&q| has_data_in(g, q, window, interval_s)))
        .collect();
    let valid_prof = prof_gpus
        .iter()
        .filter(|g| !invalid.contains(&g.key))
        .count();
    if valid_prof > 0 {
        return (Tier::Prof, notes);
    }
    let counter_present = counter_data(resource).is_some_and(|q| {
        assembly
            .gpus
            .iter()
            .any(|g| has_data_in(g, q, window, interval_s))
    });
    if !prof_gpus.is_empty() {
        notes.push(format!(
            "PROF {} counters read all-zero on every GPU while GPU_UTIL > 0: invalid (another profiler such as Nsight held them), not 0 %",
            resource.label()
        ));
        return (
            if counter_present {
                Tier::Counter
            } else {
                Tier::Invalid
            },
            notes,
        );
    }
    if counter_present {
        return (Tier::Counter, notes);
    }
    (Tier::Absent, notes)
}

fn unit_of(resource: Resource, tier: Tier) -> MeasuredUnit {
    match (resource, tier) {
        (Resource::Hbm | Resource::Tensor, Tier::Counter) => MeasuredUnit::BusyFraction,
        (Resource::Hbm | Resource::Tensor, _) => MeasuredUnit::Ratio,
        _ => MeasuredUnit::BytesPerS,
    }
}

fn tier_quantities(resource: Resource, tier: Tier) -> Vec<Quantity> {
    match tier {
        Tier::Prof | Tier::Invalid => {
            let mut quantities = prof_quantities(resource);
            if let ProfData::Ratio { clock, .. } = prof_data(resource) {
                quantities.push(clock);
            }
            quantities
        }
        Tier::Counter => counter_data(resource).into_iter().collect(),
        Tier::Absent => Vec::new(),
    }
}

/// Measures one resource over the whole window.
pub(super) fn measure_full(
    resource: Resource,
    assembly: &Assembly,
    window: &Window,
    interval_s: f64,
    invalid: &[GpuKey],
) -> ResourceMeasurement {
    let (tier, mut notes) = choose_tier(resource, assembly, window, interval_s, invalid);
    let metrics: Vec<String> = tier_quantities(resource, tier)
        .into_iter()
        .flat_map(|q| catalog::spec_of(q).names.iter().map(|n| n.name))
        .filter(|name| assembly.metrics_used.contains(*name))
        .map(str::to_string)
        .collect();
    let scale_quantity = match (tier, prof_data(resource)) {
        (Tier::Prof, ProfData::Ratio { clock, .. }) => Some(clock),
        _ => None,
    };
    let mut per_gpu = Vec::with_capacity(assembly.gpus.len());
    let mut usable_spans = Vec::new();
    let shifts = [-interval_s, 0.0, interval_s];
    let mut shifted_totals = [0.0; 3];
    for gpu in &assembly.gpus {
        let is_invalid = tier == Tier::Prof && invalid.contains(&gpu.key);
        if is_invalid || tier == Tier::Absent || tier == Tier::Invalid {
            per_gpu.push(GpuResource {
                gpu: gpu.key.clone(),
                full: GpuIntegrals::default(),
                steady: None,
                invalid: is_invalid
                    .then(|| "PROF counters all-zero while GPU_UTIL > 0".to_string()),
            });
            continue;
        }
        let spans = gpu_spans(resource, tier, gpu, interval_s);
        for (total, shift) in shifted_totals.iter_mut().zip(shifts) {
            *total +=
                integrate(&spans.primary, window.start_s + shift, window.end_s + shift).integral;
        }
        per_gpu.push(GpuResource {
            gpu: gpu.key.clone(),
            full: integrals_of(&spans, window.start_s, window.end_s),
            steady: None,
            invalid: None,
        });
        usable_spans.push(spans.primary);
    }
    let edge_integrals = matches!(tier, Tier::Prof | Tier::Counter).then(|| {
        [
            shifted_totals.iter().copied().fold(f64::INFINITY, f64::min),
            shifted_totals
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max),
        ]
    });
    if matches!(tier, Tier::Prof) {
        let missing: Vec<String> = per_gpu
            .iter()
            .filter(|g| g.invalid.is_none() && g.full.covered_s == 0.0)
            .map(|g| g.gpu.display_name())
            .collect();
        if !missing.is_empty() {
            notes.push(format!(
                "no {} data in the window for {}",
                resource.label(),
                missing.join(", ")
            ));
        }
    }
    let timeseries = relative_to(
        &points_from_spans(&usable_spans, window, interval_s),
        window.start_s,
    );
    ResourceMeasurement {
        resource,
        tier,
        unit: unit_of(resource, tier),
        metrics,
        scale_quantity,
        per_gpu,
        edge_integrals,
        timeseries,
        notes,
    }
}

/// Adds the steady-span integrals to a measured resource.
pub(super) fn measure_steady(
    measured: &mut ResourceMeasurement,
    assembly: &Assembly,
    steady: &SteadyState,
    interval_s: f64,
    invalid: &[GpuKey],
) {
    if !matches!(measured.tier, Tier::Prof | Tier::Counter) {
        return;
    }
    for (entry, gpu) in measured.per_gpu.iter_mut().zip(&assembly.gpus) {
        if measured.tier == Tier::Prof && invalid.contains(&gpu.key) {
            continue;
        }
        let spans = gpu_spans(measured.resource, measured.tier, gpu, interval_s);
        entry.steady = Some(integrals_of(&spans, steady.start_s, steady.end_s));
    }
}
