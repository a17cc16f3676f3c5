//! Per-resource integration: HBM, tensor, NVLink, PCIe and C2C, in the best tier the data allow.

use serde::{Deserialize, Serialize};

use std::collections::BTreeSet;

use super::gpu_series::GpuSeries;
use super::timeseries::{points_from_spans, relative_to};
use crate::assemble::{Assembly, GpuSamples};
use crate::catalog::{self, Quantity};
use crate::integrate::{Spans, WindowIntegral, pair_combine};
use crate::labels::GpuKey;
use crate::series::{Sample, samples_between};
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

/// The samples of `quantity` timed in `(after_s, until_s]`.
fn samples_in<'a>(
    gpu: &'a GpuSamples,
    quantity: Quantity,
    after_s: f64,
    until_s: f64,
) -> &'a [Sample] {
    let samples = gpu.quantities.get(&quantity).map_or(&[][..], |s| &s[..]);
    samples_between(samples, after_s, until_s)
}

/// Whether a GPU has samples of `quantity` inside the window (or covering its end).
fn has_data_in(gpu: &GpuSamples, quantity: Quantity, window: &Window, interval_s: f64) -> bool {
    !samples_in(gpu, quantity, window.start_s, window.end_s + interval_s).is_empty()
}

/// GPUs whose PROF DRAM/tensor activity is identically zero over the window while GPU_UTIL says
/// kernels ran: the profiling counters were held by another profiler (ncu/nsys) or stuck, so the
/// zeros are invalid, not 0 % SoL (reference/dcgm-fields.md §6).
pub(super) fn invalid_prof_gpus(
    assembly: &Assembly,
    window: &Window,
    interval_s: f64,
) -> Vec<GpuKey> {
    let in_window = |gpu, q| samples_in(gpu, q, window.start_s, window.end_s + interval_s);
    assembly
        .gpus
        .iter()
        .filter(|gpu| {
            let prof = [Quantity::DramActive, Quantity::TensorActive].map(|q| in_window(gpu, q));
            let busy = in_window(gpu, Quantity::GpuUtil)
                .iter()
                .any(|s| s.value > 0.0);
            prof.iter().any(|s| !s.is_empty())
                && prof.iter().flat_map(|s| s.iter()).all(|s| s.value == 0.0)
                && busy
        })
        .map(|gpu| gpu.key.clone())
        .collect()
}

/// One GPU's series for a resource in a tier, built once and integrated over every span.
struct ResourceSeries<'a> {
    primary: Spans<'a>,
    scaled: Option<Spans<'a>>,
    tx: Option<Spans<'a>>,
    rx: Option<Spans<'a>>,
}

fn resource_series<'a>(
    resource: Resource,
    tier: Tier,
    gpu: &GpuSeries<'a>,
    interval_s: f64,
) -> ResourceSeries<'a> {
    let spans = |q: Quantity| gpu.spans(q).cloned();
    let none = || Spans::new(&[][..], interval_s);
    // A series combined sample by sample with another keeps its base's timestamps when every
    // sample paired, and so its nominal interval.
    let combined = |(samples, unpaired): (Vec<Sample>, usize), base: Option<&Spans>| match base {
        Some(base) if unpaired == 0 => Spans::new(samples, base.nominal_interval_s()),
        _ => Spans::of_series(samples, interval_s),
    };
    let tolerance_s = 2.0 * interval_s;
    if tier != Tier::Prof {
        return ResourceSeries {
            primary: counter_data(resource).and_then(spans).unwrap_or_else(none),
            scaled: None,
            tx: None,
            rx: None,
        };
    }
    match prof_data(resource) {
        ProfData::Ratio { quantity, clock } => {
            let clock_samples = gpu.samples(clock);
            let scaled = (!clock_samples.is_empty()).then(|| {
                let product = pair_combine(
                    gpu.samples(quantity),
                    clock_samples,
                    tolerance_s,
                    |v, mhz| v * mhz,
                );
                combined(product, gpu.spans(quantity))
            });
            ResourceSeries {
                primary: spans(quantity).unwrap_or_else(none),
                scaled,
                tx: None,
                rx: None,
            }
        }
        ProfData::Link { tx, rx } => {
            let (tx, rx) = (spans(tx), spans(rx));
            let primary = match (&tx, &rx) {
                (Some(tx), Some(rx)) => combined(
                    pair_combine(tx.samples(), rx.samples(), tolerance_s, |a, b| a + b),
                    Some(tx),
                ),
                (Some(one), None) | (None, Some(one)) => one.clone(),
                (None, None) => none(),
            };
            ResourceSeries {
                primary,
                scaled: None,
                tx,
                rx,
            }
        }
    }
}

fn integrals_of(series: &ResourceSeries, start_s: f64, end_s: f64) -> GpuIntegrals {
    let primary = series.primary.integrate(start_s, end_s);
    let scaled: Option<WindowIntegral> =
        series.scaled.as_ref().map(|s| s.integrate(start_s, end_s));
    let integral_of =
        |spans: &Option<Spans>| spans.as_ref().map(|s| s.integrate(start_s, end_s).integral);
    GpuIntegrals {
        integral: primary.integral,
        covered_s: primary.covered_s,
        samples: primary.spans,
        scaled_integral: scaled.map(|s| s.integral),
        scaled_covered_s: scaled.map(|s| s.covered_s),
        tx_integral: integral_of(&series.tx),
        rx_integral: integral_of(&series.rx),
    }
}

/// The tier a resource is measured in, and notes on the choice.
pub(super) fn choose_tier(
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

/// What every resource is measured against.
#[derive(Clone, Copy)]
pub(super) struct ResourceInputs<'a> {
    /// Every GPU's series.
    pub gpus: &'a [GpuSeries<'a>],
    /// Metric names that contributed samples.
    pub metrics_used: &'a BTreeSet<String>,
    /// The measurement window.
    pub window: &'a Window,
    /// The cell's sample interval, seconds.
    pub interval_s: f64,
    /// GPUs whose PROF data are invalid.
    pub invalid: &'a [GpuKey],
    /// The steady span (integrated too when detected).
    pub steady: &'a SteadyState,
}

/// Measures one resource in its tier (from [`choose_tier`]) over the whole window and, when one
/// was detected, the steady span: each GPU's series are built once for both.
pub(super) fn measure_resource(
    resource: Resource,
    (tier, mut notes): (Tier, Vec<String>),
    inputs: &ResourceInputs,
) -> ResourceMeasurement {
    let ResourceInputs {
        gpus,
        metrics_used,
        window,
        interval_s,
        invalid,
        steady,
    } = *inputs;
    let metrics: Vec<String> = tier_quantities(resource, tier)
        .into_iter()
        .flat_map(|q| catalog::spec_of(q).names.iter().map(|n| n.name))
        .filter(|name| metrics_used.contains(*name))
        .map(str::to_string)
        .collect();
    let scale_quantity = match (tier, prof_data(resource)) {
        (Tier::Prof, ProfData::Ratio { clock, .. }) => Some(clock),
        _ => None,
    };
    let mut per_gpu = Vec::with_capacity(gpus.len());
    let mut usable = Vec::new();
    // ∫ primary over the window moved by −1, 0 and +1 interval, summed over the GPUs.
    let mut shifted_totals = [0.0; 3];
    for gpu in gpus {
        let key = &gpu.gpu.key;
        let is_invalid = tier == Tier::Prof && invalid.contains(key);
        if is_invalid || tier == Tier::Absent || tier == Tier::Invalid {
            per_gpu.push(GpuResource {
                gpu: key.clone(),
                full: GpuIntegrals::default(),
                steady: None,
                invalid: is_invalid
                    .then(|| "PROF counters all-zero while GPU_UTIL > 0".to_string()),
            });
            continue;
        }
        let series = resource_series(resource, tier, gpu, interval_s);
        let full = integrals_of(&series, window.start_s, window.end_s);
        // A moved window is the window plus the slice it gains at one edge minus the slice it
        // loses at the other: four short integrals instead of two more passes.
        let slice = |from_s: f64, to_s: f64| series.primary.integrate(from_s, to_s).integral;
        let (start_s, end_s) = (window.start_s, window.end_s);
        let earlier =
            full.integral + slice(start_s - interval_s, start_s) - slice(end_s - interval_s, end_s);
        let later =
            full.integral - slice(start_s, start_s + interval_s) + slice(end_s, end_s + interval_s);
        for (total, moved) in shifted_totals
            .iter_mut()
            .zip([earlier, full.integral, later])
        {
            *total += moved;
        }
        per_gpu.push(GpuResource {
            gpu: key.clone(),
            full,
            steady: steady
                .detected
                .then(|| integrals_of(&series, steady.start_s, steady.end_s)),
            invalid: None,
        });
        usable.push(series.primary);
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
    let usable: Vec<&Spans> = usable.iter().collect();
    let timeseries = relative_to(
        &points_from_spans(&usable, window, interval_s),
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
