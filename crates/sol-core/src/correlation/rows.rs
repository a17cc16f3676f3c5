//! Resource rows: a resource measurement divided by its ceiling (DESIGN.md §3 "Per resource").

use super::schema::{ClockCorrection, GpuRow, PerDirection, ResourceRow, Spread};
use crate::catalog::{self, Quantity};
use crate::ceilings::{GddrEccCorrection, HwRow, Peak, PeakRole};
use crate::measure::{
    ClockMaximum, GpuIntegrals, MeasuredUnit, Resource, ResourceMeasurement, Tier,
};

/// The measurement's name for an exported maximum memory clock.
const EXPORTED_MAX_MEM_CLOCK: &str = "DCGM_FI_DEV_MAX_MEM_CLOCK";

/// A GDDR part with ECC reads DRAM_ACTIVE 9/8 high (dcgmproftester divides by 9/8).
const GDDR_ECC_SCALE: f64 = 8.0 / 9.0;

/// What a row needs besides the measurement.
pub(super) struct RowContext<'a> {
    pub row: &'a HwRow,
    pub n_gpus: u32,
    pub duration_s: f64,
    pub steady_duration_s: Option<f64>,
    /// Tensor peak chosen for the workload's precision, with the assumption in words.
    pub tensor_peak: Option<(&'a Peak, String)>,
    /// Highest memory clock known from the data (pre-Hopper memory scaling).
    pub memory_clock_max: Option<&'a ClockMaximum>,
    /// Exporter `gpu` index per GPU display name.
    pub gpu_indexes: &'a std::collections::BTreeMap<String, String>,
}

/// The ceiling a resource is divided by, if the row has one.
pub(super) fn peak_for<'a>(resource: Resource, ctx: &RowContext<'a>) -> Option<&'a Peak> {
    let role = match resource {
        Resource::Hbm => PeakRole::HbmBandwidth,
        Resource::Nvlink => PeakRole::NvlinkBandwidth,
        Resource::Pcie => PeakRole::PcieBandwidth,
        Resource::C2c => PeakRole::C2cBandwidth,
        Resource::Tensor => return ctx.tensor_peak.as_ref().map(|(peak, _)| *peak),
    };
    ctx.row.peaks_with_role(role).next()
}

/// How a GPU's mean primary value turns into a fraction of peak (ratio rows) — the clock
/// correction for tensor activity, the memory-clock and ECC corrections for pre-Hopper DRAM.
struct Correction {
    /// Divide the clock-product mean by this (MHz); `None` = use the plain mean.
    reference_mhz: Option<f64>,
    reference_name: String,
    clock: Option<Quantity>,
    /// Constant factor (GDDR ECC).
    scale: f64,
    notes: Vec<String>,
}

fn correction_for(measured: &ResourceMeasurement, ctx: &RowContext) -> Correction {
    let mut notes = Vec::new();
    match measured.resource {
        Resource::Tensor => {
            let reference = ctx.row.tensor_clock_reference_mhz();
            match reference {
                Some((mhz, basis)) => {
                    let name = match basis {
                        crate::ceilings::ClockBasis::TensorPeakClock => "tensor_peak_clock_mhz",
                        crate::ceilings::ClockBasis::BoostClock => {
                            notes.push(format!(
                                "tensor activity scaled by SM clock / boost_mhz ({mhz} MHz): the row has no tensor_peak_clock_mhz, so this under-reads if the peak is quoted below the boost clock"
                            ));
                            "boost_mhz"
                        }
                    };
                    Correction {
                        reference_mhz: Some(mhz),
                        reference_name: name.to_string(),
                        clock: Some(Quantity::SmClock),
                        scale: 1.0,
                        notes,
                    }
                }
                None => {
                    notes.push("no tensor_peak_clock_mhz or boost_mhz in the ceilings row: tensor activity not clock-corrected".to_string());
                    Correction {
                        reference_mhz: None,
                        reference_name: "none".to_string(),
                        clock: None,
                        scale: 1.0,
                        notes,
                    }
                }
            }
        }
        Resource::Hbm => {
            let ecc = ctx.row.needs_gddr_ecc_correction();
            if ctx.row.gddr_ecc_correction() == GddrEccCorrection::Unverified {
                notes.push("GDDR ECC correction (8/9) unverified for this architecture: DRAM_ACTIVE used as read".to_string());
            }
            let scale = if ecc { GDDR_ECC_SCALE } else { 1.0 };
            if ecc {
                notes.push(
                    "GDDR with ECC: DRAM_ACTIVE reads 9/8 high, scaled by 8/9 (ECC assumed on)"
                        .to_string(),
                );
            }
            match ctx.row.is_hopper_or_later() {
                Some(true) => {
                    notes.push("Hopper or later: DRAM_ACTIVE is already the fraction of theoretical bandwidth".to_string());
                    Correction {
                        reference_mhz: None,
                        reference_name: "none".to_string(),
                        clock: None,
                        scale,
                        notes,
                    }
                }
                Some(false) => {
                    // The GPU's own exported maximum beats the table; the highest sample seen is
                    // the last resort (an idle-only window under-states it).
                    let exported = ctx
                        .memory_clock_max
                        .filter(|c| c.source == EXPORTED_MAX_MEM_CLOCK);
                    let observed = ctx
                        .memory_clock_max
                        .filter(|c| c.source != EXPORTED_MAX_MEM_CLOCK);
                    let (reference, name) = match (
                        exported,
                        ctx.row.mem_clock_max_mhz.as_ref(),
                        observed,
                    ) {
                        (Some(max), _, _) => (Some(max.mhz), max.source.as_str()),
                        (None, Some(table), _) => (Some(table.value), "mem_clock_max_mhz"),
                        (None, None, Some(seen)) => {
                            notes.push(format!(
                                "memory clock maximum unknown: the highest clock sample seen ({:.0} MHz) is used",
                                seen.mhz
                            ));
                            (Some(seen.mhz), seen.source.as_str())
                        }
                        (None, None, None) => {
                            notes.push("pre-Hopper DRAM_ACTIVE counts cycles at the current memory clock, but no memory clock is known: not scaled".to_string());
                            (None, "none")
                        }
                    };
                    Correction {
                        reference_mhz: reference,
                        reference_name: name.to_string(),
                        clock: reference.map(|_| Quantity::MemClock),
                        scale,
                        notes,
                    }
                }
                None => {
                    notes.push("architecture unknown (no compute_capability in the ceilings row): DRAM_ACTIVE taken as the fraction of peak bandwidth".to_string());
                    Correction {
                        reference_mhz: None,
                        reference_name: "none".to_string(),
                        clock: None,
                        scale,
                        notes,
                    }
                }
            }
        }
        _ => Correction {
            reference_mhz: None,
            reference_name: "none".to_string(),
            clock: None,
            scale: 1.0,
            notes,
        },
    }
}

/// A GPU's mean fraction of peak for a ratio row over its covered time, and whether it was clamped.
fn corrected_mean(integrals: &GpuIntegrals, correction: &Correction) -> Option<(f64, bool)> {
    if integrals.covered_s <= 0.0 {
        return None;
    }
    let plain = integrals.integral / integrals.covered_s;
    let raw = match (
        correction.reference_mhz,
        integrals.scaled_integral,
        integrals.scaled_covered_s,
    ) {
        (Some(reference), Some(scaled), Some(covered)) if covered > 0.0 => {
            scaled / covered / reference
        }
        _ => plain,
    } * correction.scale;
    Some(if raw > 1.0 { (1.0, true) } else { (raw, false) })
}

/// Per-GPU fractions of peak (ratio rows: corrected activity; byte rows: mean / peak).
fn gpu_fractions(
    measured: &ResourceMeasurement,
    correction: &Correction,
    peak_base: f64,
    steady: bool,
) -> Vec<Option<(f64, f64, bool)>> {
    measured
        .per_gpu
        .iter()
        .map(|gpu| {
            let integrals = if steady {
                gpu.steady.as_ref()?
            } else {
                &gpu.full
            };
            if gpu.invalid.is_some() || integrals.covered_s <= 0.0 {
                return None;
            }
            match measured.unit {
                MeasuredUnit::Ratio => corrected_mean(integrals, correction)
                    .map(|(f, clamped)| (f, integrals.covered_s, clamped)),
                MeasuredUnit::BusyFraction => Some((
                    integrals.integral / integrals.covered_s,
                    integrals.covered_s,
                    false,
                )),
                MeasuredUnit::BytesPerS => Some((
                    integrals.integral / integrals.covered_s / peak_base,
                    integrals.covered_s,
                    false,
                )),
            }
        })
        .collect()
}

/// Σ fraction × covered / (duration × n): the workload's fraction of peak.
fn workload_fraction(fractions: &[Option<(f64, f64, bool)>], duration_s: f64, n_gpus: u32) -> f64 {
    let total: f64 = fractions
        .iter()
        .flatten()
        .map(|(f, covered, _)| f * covered)
        .sum();
    total / (duration_s * f64::from(n_gpus.max(1)))
}

fn metric_text(measured: &ResourceMeasurement) -> String {
    let primary: Vec<&str> = measured
        .metrics
        .iter()
        .map(String::as_str)
        .filter(|m| {
            catalog::lookup(m).is_some_and(|(spec, _)| {
                !matches!(spec.quantity, Quantity::SmClock | Quantity::MemClock)
            })
        })
        .collect();
    if !primary.is_empty() {
        return primary.join("+");
    }
    let fallback = match measured.resource {
        Resource::Hbm => "DCGM_FI_PROF_DRAM_ACTIVE",
        Resource::Tensor => "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
        Resource::Nvlink => "DCGM_FI_PROF_NVLINK_TX_BYTES+DCGM_FI_PROF_NVLINK_RX_BYTES",
        Resource::Pcie => "DCGM_FI_PROF_PCIE_TX_BYTES+DCGM_FI_PROF_PCIE_RX_BYTES",
        Resource::C2c => "DCGM_FI_PROF_C2C_TX_DATA_BYTES+DCGM_FI_PROF_C2C_RX_DATA_BYTES",
    };
    fallback.to_string()
}

/// Rounds to `decimals` places; `+ 0.0` turns a negative zero (an empty f64 sum) into 0.
pub(super) fn round(value: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (value * factor).round() / factor + 0.0
}

/// Percent with 4 decimals: stable in diffs, far finer than the data's accuracy.
pub(super) fn pct(fraction: f64) -> f64 {
    round(fraction * 100.0, 4)
}

/// Builds the row of one resource against its peak.
pub(super) fn resource_row(
    measured: &ResourceMeasurement,
    peak: &Peak,
    ctx: &RowContext,
) -> ResourceRow {
    let correction = correction_for(measured, ctx);
    // Corrections describe PROF activity; a counter-tier row carries none of them.
    let mut notes = if measured.tier == Tier::Prof {
        correction.notes.clone()
    } else {
        Vec::new()
    };
    notes.extend(measured.notes.iter().cloned());
    // GPUs whose PROF data are invalid were busy, not idle: they leave the denominator (a GPU
    // with no data at all stays in it, counted as idle).
    let invalid = u32::try_from(
        measured
            .per_gpu
            .iter()
            .filter(|g| g.invalid.is_some())
            .count(),
    )
    .unwrap_or(u32::MAX);
    let n_gpus = ctx.n_gpus.saturating_sub(invalid).max(1);
    if invalid > 0 && matches!(measured.tier, Tier::Prof) {
        notes.push(format!(
            "{invalid} of {} GPUs have invalid PROF data: %SoL is over the other {n_gpus}",
            ctx.n_gpus
        ));
    }
    let peak_base = peak.value_base();
    let usable = matches!(measured.tier, Tier::Prof | Tier::Counter);
    let fractions = gpu_fractions(measured, &correction, peak_base, false);
    let fraction = usable.then(|| workload_fraction(&fractions, ctx.duration_s, n_gpus));
    let covered_s: f64 = fractions.iter().flatten().map(|(_, c, _)| c).sum();
    let covered_fraction = (covered_s > 0.0).then(|| {
        fractions
            .iter()
            .flatten()
            .map(|(f, c, _)| f * c)
            .sum::<f64>()
            / covered_s
    });
    let clamped: Vec<String> = measured
        .per_gpu
        .iter()
        .zip(&fractions)
        .filter(|(_, f)| f.is_some_and(|(_, _, clamped)| clamped))
        .map(|(g, _)| g.gpu.display_name())
        .collect();
    if !clamped.is_empty() {
        let why = match measured.resource {
            Resource::Tensor => "SM clock above the clock the peak is quoted at",
            _ => "activity above the peak: check the peak for this SKU and the data",
        };
        notes.push(format!(
            "value above 100 % clamped to 100 for {} ({why})",
            clamped.join(", ")
        ));
    }
    let steady_fraction = ctx
        .steady_duration_s
        .filter(|_| usable)
        .and_then(|steady_s| {
            let steady = gpu_fractions(measured, &correction, peak_base, true);
            steady
                .iter()
                .any(Option::is_some)
                .then(|| workload_fraction(&steady, steady_s, n_gpus))
        });
    let primary_mean = measured
        .per_gpu
        .iter()
        .filter(|g| g.invalid.is_none())
        .map(|g| g.full.integral)
        .sum::<f64>()
        / (ctx.duration_s * f64::from(n_gpus.max(1)));
    // Converts a workload mean of the primary value to a fraction of peak, with the same
    // correction factor as the whole window (used for edge bounds and the time series).
    let to_fraction = |primary: f64| -> f64 {
        match (measured.unit, fraction) {
            (MeasuredUnit::BytesPerS, _) => primary / peak_base,
            (_, Some(f)) if primary_mean > 0.0 => primary * f / primary_mean,
            _ => primary * correction.scale,
        }
    };
    let is_busy = measured.unit == MeasuredUnit::BusyFraction;
    let sol_pct = fraction.filter(|_| !is_busy).map(pct);
    let per_gpu_rows: Vec<GpuRow> = measured
        .per_gpu
        .iter()
        .zip(&fractions)
        .map(|(gpu, f)| GpuRow {
            gpu: gpu.gpu.display_name(),
            gpu_index: ctx.gpu_indexes.get(&gpu.gpu.display_name()).cloned(),
            value_pct: f.map(|(f, _, _)| pct(f)),
            coverage_pct: round(gpu.full.covered_s / ctx.duration_s * 100.0, 2),
            samples: gpu.full.samples,
            invalid: gpu.invalid.clone(),
        })
        .collect();
    let n = f64::from(n_gpus.max(1));
    let (bytes_per_s, bytes_total, tflops) = match (measured.unit, fraction) {
        (MeasuredUnit::BytesPerS, Some(f)) | (MeasuredUnit::Ratio, Some(f))
            if peak.role != PeakRole::TensorCompute =>
        {
            let per_gpu = f * peak_base;
            (Some(per_gpu), Some(per_gpu * ctx.duration_s * n), None)
        }
        (MeasuredUnit::Ratio, Some(f)) => (None, None, Some(f * peak_base / 1e12)),
        _ => (None, None, None),
    };
    let per_direction = (measured.tier == Tier::Prof && measured.unit == MeasuredUnit::BytesPerS)
        .then(|| per_direction_of(measured, peak, ctx.duration_s, n_gpus))
        .flatten();
    let clock_correction = correction
        .reference_mhz
        .filter(|_| measured.tier == Tier::Prof)
        .map(|reference| {
            let scaled: f64 = measured
                .per_gpu
                .iter()
                .filter_map(|g| g.full.scaled_integral)
                .sum();
            let paired: f64 = measured
                .per_gpu
                .iter()
                .filter(|g| g.full.scaled_integral.is_some())
                .map(|g| {
                    g.full.integral * g.full.scaled_covered_s.unwrap_or(0.0)
                        / g.full.covered_s.max(f64::MIN_POSITIVE)
                })
                .sum();
            ClockCorrection {
                clock: correction
                    .clock
                    .map(|q| catalog::spec_of(q).names[0].name.to_string())
                    .unwrap_or_default(),
                mean_clock_mhz: (paired > 0.0).then(|| round(scaled / paired, 1)),
                reference_mhz: reference,
                reference: correction.reference_name.to_string(),
                factor: fraction
                    .filter(|_| primary_mean > 0.0)
                    .map_or(1.0, |f| round(f / primary_mean, 6)),
            }
        });
    if let Some(directions) = &per_direction
        && (directions.tx_bytes_per_s.is_none() || directions.rx_bytes_per_s.is_none())
    {
        let missing = if directions.tx_bytes_per_s.is_none() {
            "TX"
        } else {
            "RX"
        };
        notes.push(format!(
            "INCOMPLETE: {missing} is not exported, so sol_pct counts one direction only (a lower bound on TX+RX)"
        ));
    }
    if is_busy {
        notes.push(format!(
            "counter tier: {} is the share of time the {} was busy — an upper bound on %SoL, not a measure of {}",
            measured.metrics.first().map_or("the DEV field", String::as_str),
            if measured.resource == Resource::Hbm { "memory" } else { "GPU (any kernel)" },
            if measured.resource == Resource::Hbm { "bandwidth" } else { "FLOPs" },
        ));
    }
    if measured.tier == Tier::Counter && measured.unit == MeasuredUnit::BytesPerS {
        notes.push("counter tier: DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL is payload RX+TX over all links (1000 KiB/s units, read as a rate, never rate()); no per-direction split".to_string());
    }
    match measured.tier {
        Tier::Absent => notes.push(format!(
            "no DCGM {} data in scope for this window",
            measured.resource.label()
        )),
        Tier::Invalid => notes.push("PROF data invalid on every GPU; no %SoL".to_string()),
        _ => {}
    }
    ResourceRow {
        peak_key: peak.key.clone(),
        metric: metric_text(measured),
        is_fallback: measured.tier == Tier::Counter,
        n_gpus,
        measured_bytes_total: bytes_total,
        measured_bytes_per_s: bytes_per_s,
        measured_tflops_avg: tflops.map(|t| round(t, 3)),
        peak_per_gpu: peak.value,
        peak_per_gpu_units: peak.units_label().to_string(),
        peak_per_gpu_base: peak_base,
        peak_aggregate: round(peak.value * n, 6),
        sol_pct,
        notes,
        resource: measured.resource,
        ceiling: format!("{}.{}", ctx.row.key, peak.key),
        tier: measured.tier,
        unit: measured.unit,
        sol_pct_bounds: measured
            .edge_integrals
            .filter(|_| !is_busy && usable)
            .map(|[lo, hi]| {
                let per_gpu_s = ctx.duration_s * f64::from(n_gpus.max(1));
                [
                    pct(to_fraction(lo / per_gpu_s)),
                    pct(to_fraction(hi / per_gpu_s)),
                ]
            }),
        sol_pct_of_covered_time: covered_fraction.filter(|_| !is_busy).map(pct),
        steady_state_sol_pct: steady_fraction.filter(|_| !is_busy).map(pct),
        sol_pct_uncorrected: (measured.resource == Resource::Tensor && measured.tier == Tier::Prof)
            .then(|| pct(primary_mean)),
        clock_correction,
        precision: None,
        busy_time_upper_bound_pct: fraction.filter(|_| is_busy).map(pct),
        per_direction,
        coverage_pct: round(covered_s / (ctx.duration_s * n) * 100.0, 2),
        spread: spread_of(&per_gpu_rows),
        per_gpu: per_gpu_rows,
        timeseries: measured
            .timeseries
            .iter()
            .map(|[t, v]| [round(*t, 3), pct(to_fraction(*v))])
            .collect(),
    }
}

fn per_direction_of(
    measured: &ResourceMeasurement,
    peak: &Peak,
    duration_s: f64,
    n_gpus: u32,
) -> Option<PerDirection> {
    let per_direction = peak.per_direction_base()?;
    let valid: Vec<_> = measured
        .per_gpu
        .iter()
        .filter(|g| g.invalid.is_none())
        .collect();
    let has =
        |pick: fn(&GpuIntegrals) -> Option<f64>| valid.iter().any(|g| pick(&g.full).is_some());
    let (has_tx, has_rx) = (has(|i| i.tx_integral), has(|i| i.rx_integral));
    if !has_tx && !has_rx {
        return None;
    }
    let denominator = duration_s * f64::from(n_gpus.max(1));
    let workload = |present: bool, pick: fn(&GpuIntegrals) -> Option<f64>| {
        present.then(|| valid.iter().filter_map(|g| pick(&g.full)).sum::<f64>() / denominator)
    };
    let tx = workload(has_tx, |i| i.tx_integral);
    let rx = workload(has_rx, |i| i.rx_integral);
    // The busiest direction of the busiest GPU: a pipeline-parallel link can saturate one way
    // on one GPU while the workload means of TX and RX look modest.
    let busiest = valid
        .iter()
        .filter(|g| g.full.covered_s > 0.0)
        .map(|g| {
            let direction = g
                .full
                .tx_integral
                .unwrap_or(0.0)
                .max(g.full.rx_integral.unwrap_or(0.0));
            (direction / g.full.covered_s, g.gpu.display_name())
        })
        .max_by(|a, b| a.0.total_cmp(&b.0));
    Some(PerDirection {
        peak_per_direction_bytes_per_s: per_direction,
        tx_bytes_per_s: tx,
        rx_bytes_per_s: rx,
        tx_sol_pct: tx.map(|v| pct(v / per_direction)),
        rx_sol_pct: rx.map(|v| pct(v / per_direction)),
        max_direction_sol_pct: busiest.as_ref().map(|(v, _)| pct(v / per_direction)),
        max_direction_gpu: busiest.map(|(_, gpu)| gpu),
    })
}

fn spread_of(rows: &[GpuRow]) -> Option<Spread> {
    let mut values: Vec<(f64, &str)> = rows
        .iter()
        .filter_map(|r| r.value_pct.map(|v| (v, r.gpu.as_str())))
        .collect();
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (min, max) = (values[0], values[values.len() - 1]);
    Some(Spread {
        min_pct: min.0,
        min_gpu: min.1.to_string(),
        max_pct: max.0,
        max_gpu: max.1.to_string(),
        median_pct: median(&values.iter().map(|(v, _)| *v).collect::<Vec<_>>()),
    })
}

/// The median of ascending values (the mean of the middle two for an even count).
fn median(sorted: &[f64]) -> f64 {
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

/// A straggler: a GPU reading below this share of the median.
pub const STRAGGLER_BELOW_MEDIAN: f64 = 0.9;
