//! The measurement: what the DCGM data say over the window, per GPU and per resource, before any
//! peak is applied. It is peak-independent on purpose: the frozen snapshot stores it, and `fold`
//! re-evaluates it against the ceilings in force (which may have been corrected since).

mod activity;
mod energy;
mod gpu_series;
mod resource;
mod timeseries;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::assemble::{Assembly, GpuSamples, ValidityCounts};
use crate::catalog::Quantity;
use crate::catalog::{self, FieldFamily};

use crate::integrate::{RefreshGrid, change_times, regrid};
use crate::labels::GpuKey;
use crate::series::Sample;
use crate::steady::{self, SteadyState};
use crate::window::Window;

pub use activity::ActivityMeasurement;
pub use energy::{EnergyMeasurement, EnergySource, GpuEnergy};
pub use resource::{GpuIntegrals, GpuResource, MeasuredUnit, Resource, ResourceMeasurement, Tier};

use gpu_series::{GpuSeries, SeriesIntervals};
use resource::ResourceInputs;

/// One GPU seen in scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuInfo {
    /// Identity.
    pub key: GpuKey,
    /// Exporter `gpu` index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_index: Option<String>,
    /// Exporter `modelName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
}

/// How many GPUs the denominator uses and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuExpectation {
    /// GPUs in the denominator: the expected count, or the GPUs seen if more.
    pub n_gpus: u32,
    /// The expected count.
    pub expected: u32,
    /// Where the expected count came from (`--n-gpus`, `bench context TP×DP×PP`, …).
    pub source: String,
}

/// The highest memory clock known for the GPUs, for pre-Hopper DRAM_ACTIVE scaling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockMaximum {
    /// MHz.
    pub mhz: f64,
    /// `DCGM_FI_DEV_MAX_MEM_CLOCK` (exported maximum) or `highest DCGM_FI_DEV_MEM_CLOCK sample`.
    pub source: String,
}

/// Activity just outside the window compared with inside it: a window that sits beside the load
/// (wrong `captured_at` sense, timezone) reads idle inside and busy next to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlignmentCheck {
    /// Quantity compared.
    pub signal: String,
    /// Workload mean inside the window.
    pub inside_mean: f64,
    /// Workload mean in the fetched margin before the window.
    pub before_mean: Option<f64>,
    /// Workload mean in the fetched margin after the window.
    pub after_mean: Option<f64>,
    /// Inside reads under half of a clearly busy margin.
    pub suspicious: bool,
}

/// Everything measured for one cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// The window integrated over.
    pub window: Window,
    /// Median sample spacing seen (the nominal scrape interval), seconds.
    pub scrape_interval_s: f64,
    /// The exporter's refresh interval when it is slower than the scrapes (values held across
    /// scrapes, integrated once each), seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exporter_update_interval_s: Option<f64>,
    /// The GPU count in the denominator.
    pub gpus_expected: GpuExpectation,
    /// GPUs that delivered any catalog metric.
    pub gpus_seen: Vec<GpuInfo>,
    /// HBM, tensor, NVLink, PCIe, C2C.
    pub resources: Vec<ResourceMeasurement>,
    /// Activity context (not SoL): SM active/occupancy, engine, pipes, busy shares, clocks.
    pub activity: Vec<ActivityMeasurement>,
    /// Power and energy.
    pub energy: EnergyMeasurement,
    /// Steady span detected from the data.
    pub steady_state: SteadyState,
    /// Values dropped or clamped.
    pub validity: ValidityCounts,
    /// GPUs whose PROF counters read all-zero while busy (held by another profiler).
    pub invalid_prof_gpus: Vec<String>,
    /// Metric names that contributed.
    pub metrics_used: Vec<String>,
    /// Hosts of the GPUs.
    pub nodes: Vec<String>,
    /// Highest memory clock known (pre-Hopper HBM scaling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_clock_max: Option<ClockMaximum>,
    /// Activity inside vs next to the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alignment: Option<AlignmentCheck>,
    /// Merges, derivations and gaps worth knowing.
    pub notes: Vec<String>,
}

/// What `measure` needs besides the samples.
#[derive(Debug, Clone)]
pub struct MeasureInput<'a> {
    /// Assembled per-GPU samples (already restricted to the scope).
    pub assembly: &'a Assembly<'a>,
    /// The measurement window.
    pub window: &'a Window,
    /// Expected GPU count and where it came from; `None` → the GPUs seen, with a note.
    pub expected_gpus: Option<(u32, String)>,
    /// Scrape interval to assume when the data cannot tell (`dcgm_config.expected_scrape_interval_s`).
    pub default_interval_s: f64,
}

/// Integrates every resource, activity and energy quantity over the window.
pub fn measure(input: &MeasureInput) -> Measurement {
    let window = input.window;
    let mut notes = input.assembly.notes.clone();
    let raw_intervals = SeriesIntervals::of(input.assembly);
    let scrape_interval_s = raw_intervals.cell_interval_s().unwrap_or_else(|| {
        notes.push(format!(
            "scrape interval not measurable (fewer than two samples per series): assumed {} s",
            input.default_interval_s
        ));
        input.default_interval_s
    });
    let regridded = regrid_held_values(input.assembly, scrape_interval_s);
    if let Some(period_s) = regridded.update_interval_s {
        notes.push(format!(
            "values held across scrapes: the exporter refreshes every {period_s:.1} s but was scraped every {scrape_interval_s:.1} s; each DCGM value is integrated once, over the {period_s:.1} s before the refresh that published it (refresh times fitted from when values change; a DCGM value may lag its refresh by up to one period)"
        ));
    }
    let assembly: &Assembly = &regridded.assembly;
    let intervals = match &regridded.assembly {
        Cow::Borrowed(_) => raw_intervals,
        Cow::Owned(regridded) => SeriesIntervals::of(regridded),
    };
    let interval_s = regridded.update_interval_s.unwrap_or(scrape_interval_s);
    let gpus = intervals.spans(assembly, interval_s);
    let gpus_expected = expectation(assembly.gpus.len(), input.expected_gpus.clone(), &mut notes);
    let invalid_prof_gpus = resource::invalid_prof_gpus(assembly, window, interval_s);
    let tiers = Resource::ALL.map(|r| {
        let tier = resource::choose_tier(r, assembly, window, interval_s, &invalid_prof_gpus);
        (r, tier)
    });
    // GPUs with invalid PROF data read idle: they would bend the workload's activity signal.
    let valid_gpus: Vec<&GpuSeries> = gpus
        .iter()
        .filter(|g| !invalid_prof_gpus.contains(&g.gpu.key))
        .collect();
    let hbm_is_prof = tiers
        .iter()
        .any(|(r, (tier, _))| *r == Resource::Hbm && *tier == Tier::Prof);
    let steady_state = detect_steady(hbm_is_prof, &valid_gpus, window, interval_s);
    let inputs = ResourceInputs {
        gpus: &gpus,
        metrics_used: &assembly.metrics_used,
        window,
        interval_s,
        invalid: &invalid_prof_gpus,
        steady: &steady_state,
    };
    let resources: Vec<ResourceMeasurement> = tiers
        .into_iter()
        .map(|(r, tier)| resource::measure_resource(r, tier, &inputs))
        .collect();
    let activity = activity::measure_activity(&gpus, window);
    let alignment = alignment_check(&valid_gpus, window, interval_s);
    let energy = energy::measure_energy(&gpus, window);
    Measurement {
        window: window.clone(),
        scrape_interval_s,
        exporter_update_interval_s: regridded.update_interval_s,
        gpus_expected,
        gpus_seen: assembly
            .gpus
            .iter()
            .map(|g| GpuInfo {
                key: g.key.clone(),
                gpu_index: g.gpu_index.clone(),
                model_name: g.model_name.clone(),
            })
            .collect(),
        resources,
        activity,
        energy,
        steady_state,
        validity: assembly.validity.clone(),
        invalid_prof_gpus: invalid_prof_gpus.iter().map(GpuKey::display_name).collect(),
        metrics_used: assembly.metrics_used.iter().cloned().collect(),
        nodes: assembly.hosts(),
        memory_clock_max: memory_clock_max(assembly),
        alignment,
        notes,
    }
}

fn highest_sample(assembly: &Assembly, quantity: Quantity) -> Option<f64> {
    assembly
        .gpus
        .iter()
        .filter_map(|g| g.quantities.get(&quantity))
        .flat_map(|samples| samples.iter())
        .map(|s| s.value)
        .max_by(f64::total_cmp)
}

fn memory_clock_max(assembly: &Assembly) -> Option<ClockMaximum> {
    highest_sample(assembly, Quantity::MaxMemClock)
        .map(|mhz| ClockMaximum {
            mhz,
            source: "DCGM_FI_DEV_MAX_MEM_CLOCK".to_string(),
        })
        .or_else(|| {
            highest_sample(assembly, Quantity::MemClock).map(|mhz| ClockMaximum {
                mhz,
                source: "highest DCGM_FI_DEV_MEM_CLOCK sample".to_string(),
            })
        })
}

/// Busy margins this much above zero make an idle window suspicious (activity ratios, 0..1).
const BUSY_MARGIN_LEVEL: f64 = 0.05;

fn alignment_check(
    gpus: &[&GpuSeries],
    window: &Window,
    interval_s: f64,
) -> Option<AlignmentCheck> {
    let quantity = [
        Quantity::DramActive,
        Quantity::GrEngineActive,
        Quantity::SmActive,
        Quantity::GpuUtil,
    ]
    .into_iter()
    .find(|q| gpus.iter().any(|g| g.spans(*q).is_some()))?;
    let points =
        timeseries::workload_points_between(gpus, quantity, f64::NEG_INFINITY, f64::INFINITY);
    let mean_of = |keep: &dyn Fn(f64) -> bool| {
        let values: Vec<f64> = points.iter().filter(|p| keep(p[0])).map(|p| p[1]).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    let inside_mean = mean_of(&|t| t > window.start_s && t <= window.end_s)?;
    let before_mean = mean_of(&|t| t <= window.start_s - interval_s * 0.5);
    let after_mean = mean_of(&|t| t > window.end_s + interval_s);
    let busiest_margin = before_mean
        .into_iter()
        .chain(after_mean)
        .fold(0.0, f64::max);
    let suspicious = busiest_margin > BUSY_MARGIN_LEVEL && inside_mean < 0.5 * busiest_margin;
    Some(AlignmentCheck {
        signal: format!("{quantity:?}"),
        inside_mean,
        before_mean,
        after_mean,
        suspicious,
    })
}

/// A refresh period this many scrape intervals long or more means values are held across scrapes.
const HELD_RATIO: f64 = 1.5;

/// A series changing at more than this share of its scrapes is not held: held values change at
/// most at 1 / HELD_RATIO (two thirds) of the scrapes.
const FRESH_CHANGE_SHARE: f64 = 0.9;

/// The assembly with held values regridded (borrowed unchanged when nothing is held), and the
/// exporters' refresh period.
struct Regridded<'a> {
    assembly: Cow<'a, Assembly<'a>>,
    update_interval_s: Option<f64>,
}

/// Re-stamps every series whose values are held across scrapes to the exporter's refresh times
/// (one sample per refresh, [`regrid`]), per GPU (one exporter per host). Steady series (a
/// constant clock, an idle 0) follow the GPU's grid too; counters as well, so an increase is
/// spread over the refresh periods it happened in.
fn regrid_held_values<'a>(assembly: &'a Assembly<'a>, scrape_interval_s: f64) -> Regridded<'a> {
    let grids: Vec<Option<RefreshGrid>> = assembly
        .gpus
        .iter()
        .map(|gpu| refresh_grid(gpu, scrape_interval_s))
        .collect();
    if grids.iter().all(Option::is_none) {
        return Regridded {
            assembly: Cow::Borrowed(assembly),
            update_interval_s: None,
        };
    }
    let mut out = assembly.clone();
    let mut periods = Vec::new();
    for (gpu, grid) in out.gpus.iter_mut().zip(grids) {
        let Some(grid) = grid else { continue };
        periods.push(grid.period_s);
        for samples in gpu.quantities.values_mut() {
            // A field on its own cadence (per-watch intervals) keeps its sampling.
            if grid.explains(&change_times(samples), scrape_interval_s) {
                *samples = Cow::Owned(regrid(samples, &grid));
            }
        }
    }
    periods.sort_by(f64::total_cmp);
    let update_interval_s = periods.get(periods.len() / 2).copied();
    Regridded {
        assembly: Cow::Owned(out),
        update_interval_s,
    }
}

/// The GPU's exporter refresh grid, when its values are held across scrapes. One exporter
/// publishes every field of a GPU at its refresh: the grid is fitted on the PROF fields
/// (interval averages that change at every refresh), else on all fields.
fn refresh_grid(gpu: &GpuSamples, scrape_interval_s: f64) -> Option<RefreshGrid> {
    let fields = |family: Option<FieldFamily>| {
        gpu.quantities
            .iter()
            .filter(move |(q, _)| family.is_none_or(|f| catalog::spec_of(**q).family == f))
            .map(|(_, samples)| &samples[..])
    };
    // Held values change at most once per refresh; series that change at nearly every scrape
    // are fresh at every scrape, and no grid of a period ≥ HELD_RATIO scrapes can fit them.
    let fresh = |samples: &[Sample]| {
        let changes = samples
            .windows(2)
            .filter(|p| p[1].value != p[0].value)
            .count();
        changes as f64 > FRESH_CHANGE_SHARE * samples.len().saturating_sub(1) as f64
    };
    if fields(None).all(fresh) {
        return None;
    }
    let changes_of = |family| -> Vec<f64> { fields(family).flat_map(change_times).collect() };
    RefreshGrid::fit(&changes_of(Some(FieldFamily::Prof)), scrape_interval_s)
        .or_else(|| RefreshGrid::fit(&changes_of(None), scrape_interval_s))
        .filter(|g| g.period_s >= HELD_RATIO * scrape_interval_s)
}

fn expectation(
    seen: usize,
    expected: Option<(u32, String)>,
    notes: &mut Vec<String>,
) -> GpuExpectation {
    let seen = u32::try_from(seen).unwrap_or(u32::MAX);
    match expected {
        Some((expected, source)) => {
            if seen > expected {
                notes.push(format!(
                    "{seen} GPUs in scope but {expected} expected ({source}): the scope holds GPUs outside the deployment — narrow it with --host/--gpu-uuid/--selector; the denominator uses {seen}"
                ));
            }
            GpuExpectation {
                n_gpus: expected.max(seen),
                expected,
                source,
            }
        }
        None => {
            notes.push(format!(
                "expected GPU count unknown (no --n-gpus, no tensor-parallel degree in the bench context): using the {seen} GPUs seen, so a missing GPU cannot be detected"
            ));
            GpuExpectation {
                n_gpus: seen,
                expected: seen,
                source: "GPUs seen (no expectation given)".to_string(),
            }
        }
    }
}

/// Signals for steady-state detection, best first: HBM activity, then engine/SM activity, then
/// busy share, then power.
const STEADY_SIGNALS: [Quantity; 5] = [
    Quantity::DramActive,
    Quantity::GrEngineActive,
    Quantity::SmActive,
    Quantity::GpuUtil,
    Quantity::PowerUsage,
];

/// Steady state on the first signal the GPUs report; DRAM activity, the HBM row's own series,
/// only when that row is PROF (otherwise it is absent or invalid).
fn detect_steady(
    hbm_is_prof: bool,
    gpus: &[&GpuSeries],
    window: &Window,
    interval_s: f64,
) -> SteadyState {
    let chosen = STEADY_SIGNALS
        .into_iter()
        .filter(|q| *q != Quantity::DramActive || hbm_is_prof)
        .find_map(|q| {
            let points = timeseries::workload_points(gpus, q, window, interval_s);
            (!points.is_empty()).then_some((q, points))
        });
    match chosen {
        Some((quantity, points)) => steady::detect(
            &points,
            window.start_s,
            window.end_s,
            interval_s,
            &format!("{quantity:?}"),
        ),
        None => steady::detect(&[], window.start_s, window.end_s, interval_s, "none"),
    }
}

#[cfg(test)]
mod tests;
