//! Every series of every GPU as spans, each series' nominal interval (its median spacing)
//! measured once per measurement and shared by every integral, time series and check after it.

use std::collections::BTreeMap;

use crate::assemble::{Assembly, GpuSamples};
use crate::catalog::Quantity;
use crate::integrate::{Spans, median_interval_s};
use crate::series::Sample;

/// Each series' median spacing, per GPU in assembly order (`None`: fewer than two distinct
/// timestamps).
pub(super) struct SeriesIntervals(Vec<BTreeMap<Quantity, Option<f64>>>);

impl SeriesIntervals {
    /// Measures every series of the assembly. The fields of one scrape share its timestamps
    /// (every field of a GPU, every GPU of a host): a series timed like the one before it takes
    /// that one's median, found by comparing times, not by another selection.
    pub(super) fn of(assembly: &Assembly) -> Self {
        let mut previous: Option<(&[Sample], Option<f64>)> = None;
        let mut per_gpu = Vec::with_capacity(assembly.gpus.len());
        for gpu in &assembly.gpus {
            let mut medians = BTreeMap::new();
            for (quantity, samples) in &gpu.quantities {
                let median = match previous {
                    Some((times, median)) if same_times(times, samples) => median,
                    _ => median_interval_s(samples),
                };
                previous = Some((samples, median));
                medians.insert(*quantity, median);
            }
            per_gpu.push(medians);
        }
        SeriesIntervals(per_gpu)
    }

    /// The cell's scrape interval: the median of the per-series medians.
    pub(super) fn cell_interval_s(&self) -> Option<f64> {
        let mut medians: Vec<f64> = self
            .0
            .iter()
            .flat_map(BTreeMap::values)
            .flatten()
            .copied()
            .collect();
        if medians.is_empty() {
            return None;
        }
        medians.sort_by(f64::total_cmp);
        Some(medians[medians.len() / 2])
    }

    /// The spans of every series of `assembly` (the assembly these intervals were measured on);
    /// a series without a median of its own takes `default_interval_s`.
    pub(super) fn spans<'a>(
        &self,
        assembly: &'a Assembly<'a>,
        default_interval_s: f64,
    ) -> Vec<GpuSeries<'a>> {
        assembly
            .gpus
            .iter()
            .zip(&self.0)
            .map(|(gpu, intervals)| GpuSeries {
                gpu,
                spans: gpu
                    .quantities
                    .iter()
                    .map(|(quantity, samples)| {
                        let nominal_interval_s = intervals
                            .get(quantity)
                            .copied()
                            .flatten()
                            .unwrap_or(default_interval_s);
                        (*quantity, Spans::new(&samples[..], nominal_interval_s))
                    })
                    .collect(),
            })
            .collect()
    }
}

/// Whether two series were sampled at the same times.
fn same_times(a: &[Sample], b: &[Sample]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.t_s == y.t_s)
}

/// One GPU's samples and the spans of each of its series.
pub(super) struct GpuSeries<'a> {
    /// The GPU's samples.
    pub gpu: &'a GpuSamples<'a>,
    spans: BTreeMap<Quantity, Spans<'a>>,
}

impl<'a> GpuSeries<'a> {
    /// The spans of one quantity, if the GPU has it.
    pub(super) fn spans(&self, quantity: Quantity) -> Option<&Spans<'a>> {
        self.spans.get(&quantity)
    }

    /// The samples of one quantity (empty if the GPU has none).
    pub(super) fn samples(&self, quantity: Quantity) -> &'a [Sample] {
        self.gpu.quantities.get(&quantity).map_or(&[], |s| &s[..])
    }
}
