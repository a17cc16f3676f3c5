//! Power and energy per GPU. Energy comes from the TOTAL_ENERGY_CONSUMPTION counter increase
//! (resets handled) and falls back to ∫ power dt; the two are cross-checked when both exist.

use serde::{Deserialize, Serialize};

use super::gpu_series::GpuSeries;
use crate::catalog::Quantity;
use crate::integrate::counter_increase;
use crate::labels::GpuKey;
use crate::window::Window;

/// Least share of the energy span a source must cover to be used (the rest is extrapolated at
/// the covered mean rate, and said so).
pub const MIN_ENERGY_COVERAGE: f64 = 0.9;
/// Counter and power integral differing by more than this share are reported.
pub const CROSS_CHECK_TOLERANCE: f64 = 0.1;

/// Where a GPU's energy figure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnergySource {
    /// Increase of DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION (or its J-named successor).
    Counter,
    /// ∫ power dt.
    PowerIntegral,
}

/// One GPU's power and energy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuEnergy {
    /// The GPU.
    pub gpu: GpuKey,
    /// Mean board power over the measurement window, W.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_power_w: Option<f64>,
    /// Energy over the energy span, J.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy_j: Option<f64>,
    /// Which source gave `energy_j`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy_source: Option<EnergySource>,
    /// Share of the energy span the chosen source covered, 0..1.
    pub energy_coverage: f64,
    /// Counter resets seen.
    pub counter_resets: usize,
}

/// Power and energy over the cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyMeasurement {
    /// Span the energy is integrated over, epoch seconds (the full bench span when the tool
    /// records warm-up and drain, else the window).
    pub span_s: [f64; 2],
    /// Which span that is.
    pub span_source: String,
    /// Per GPU.
    pub per_gpu: Vec<GpuEnergy>,
    /// Fallbacks, extrapolations and cross-check disagreements.
    pub notes: Vec<String>,
}

pub(super) fn measure_energy(gpus: &[GpuSeries], window: &Window) -> EnergyMeasurement {
    let (span_s, span_source) = match window.full_span_s {
        Some(span) => (
            span,
            "bench full span (warm-up and drain included)".to_string(),
        ),
        None => (
            [window.start_s, window.end_s],
            "measurement window".to_string(),
        ),
    };
    let mut notes = Vec::new();
    let per_gpu = gpus
        .iter()
        .map(|gpu| gpu_energy(gpu, window, span_s, &mut notes))
        .collect();
    EnergyMeasurement {
        span_s,
        span_source,
        per_gpu,
        notes,
    }
}

fn gpu_energy(
    series: &GpuSeries,
    window: &Window,
    span_s: [f64; 2],
    notes: &mut Vec<String>,
) -> GpuEnergy {
    let gpu = series.gpu;
    let name = gpu.key.display_name();
    let span_len_s = span_s[1] - span_s[0];
    let power_spans = series
        .spans(Quantity::PowerUsage)
        .or_else(|| series.spans(Quantity::PowerInstant));
    let mean_power_w = power_spans.and_then(|s| s.integrate(window.start_s, window.end_s).mean());
    let from_power = power_spans
        .map(|s| s.integrate(span_s[0], span_s[1]))
        .filter(|r| r.covered_s > 0.0);
    let from_counter = gpu
        .quantities
        .get(&Quantity::TotalEnergy)
        .map(|s| counter_increase(s, span_s[0], span_s[1]))
        .filter(|r| r.covered_s > 0.0);
    let counter_resets = from_counter.map_or(0, |c| c.resets);
    if counter_resets > 0 {
        notes.push(format!("{name}: energy counter reset {counter_resets} time(s) in the span (driver reload); increase counted from zero"));
    }
    let counter_j = from_counter
        .filter(|c| c.covered_s >= MIN_ENERGY_COVERAGE * span_len_s)
        .map(|c| {
            (
                c.increase * span_len_s / c.covered_s,
                c.covered_s / span_len_s,
            )
        });
    let power_j = from_power
        .filter(|p| p.covered_s >= MIN_ENERGY_COVERAGE * span_len_s)
        .map(|p| {
            (
                p.integral * span_len_s / p.covered_s,
                p.covered_s / span_len_s,
            )
        });
    if let (Some((counter, _)), Some((integral, _))) = (counter_j, power_j)
        && counter > 0.0
        && ((counter - integral) / counter).abs() > CROSS_CHECK_TOLERANCE
    {
        notes.push(format!(
            "{name}: energy counter ({counter:.0} J) and ∫power ({integral:.0} J) differ by more than {:.0} %",
            CROSS_CHECK_TOLERANCE * 100.0
        ));
    }
    let (energy_j, energy_source, energy_coverage) = match (counter_j, power_j) {
        (Some((j, coverage)), _) => (Some(j), Some(EnergySource::Counter), coverage),
        (None, Some((j, coverage))) => {
            if gpu.quantities.contains_key(&Quantity::TotalEnergy) {
                notes.push(format!(
                    "{name}: energy counter covers too little of the span; ∫power used"
                ));
            }
            (Some(j), Some(EnergySource::PowerIntegral), coverage)
        }
        (None, None) => {
            notes.push(format!(
                "{name}: no energy counter or power covering {:.0} % of the span",
                MIN_ENERGY_COVERAGE * 100.0
            ));
            (None, None, 0.0)
        }
    };
    if energy_coverage > 0.0 && energy_coverage < 1.0 - 1e-9 {
        notes.push(format!(
            "{name}: energy extrapolated over the {:.1} % of the span not covered",
            (1.0 - energy_coverage) * 100.0
        ));
    }
    GpuEnergy {
        gpu: gpu.key.clone(),
        mean_power_w,
        energy_j,
        energy_source,
        energy_coverage,
        counter_resets,
    }
}
