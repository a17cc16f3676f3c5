//! Workload-level time series: the mean over reporting GPUs at each scrape, for charts and for
//! steady-state detection.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::gpu_series::GpuSeries;
use crate::catalog::Quantity;
use crate::integrate::Spans;
use crate::series::Sample;
use crate::window::Window;

/// Longest series kept; longer ones are averaged into buckets.
pub const MAX_POINTS: usize = 600;

/// `[t_s, mean]` at every distinct sample time in `(start, end + interval]`, averaging the GPUs
/// whose spans cover that time.
pub fn points_from_spans(per_gpu: &[&Spans], window: &Window, interval_s: f64) -> Vec<[f64; 2]> {
    points_in(per_gpu, window.start_s, window.end_s + interval_s)
}

/// Sample times closer than this are one time (scrapes of several hosts a few ms apart).
const SAME_TIME_S: f64 = 1e-3;

/// The next span end of one GPU in the merge of every GPU's (ascending) span ends.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Head {
    end_s: f64,
    gpu: usize,
    index: usize,
}

impl Eq for Head {}

impl Ord for Head {
    /// Reversed, so the max-heap pops the earliest end (ties: the lower GPU first).
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .end_s
            .total_cmp(&self.end_s)
            .then_with(|| other.gpu.cmp(&self.gpu))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The mean over GPUs at every distinct span end in `(from_s, to_s]`. Each GPU's value is found
/// by a cursor that only moves forward: linear in the spans.
fn points_in(per_gpu: &[&Spans], from_s: f64, to_s: f64) -> Vec<[f64; 2]> {
    let mut cursors = vec![0_usize; per_gpu.len()];
    let mut points = Vec::new();
    for t in span_end_times(per_gpu, from_s, to_s) {
        let (mut sum, mut reporting) = (0.0, 0_usize);
        for (spans, cursor) in per_gpu.iter().zip(&mut cursors) {
            // The span whose (start, end] holds t: the first ending at or after t.
            while spans.samples().get(*cursor).is_some_and(|s| s.t_s < t) {
                *cursor += 1;
            }
            if let Some(span) = spans.get(*cursor).filter(|s| s.start_s < t) {
                sum += span.value;
                reporting += 1;
            }
        }
        if reporting > 0 {
            points.push([t, sum / reporting as f64]);
        }
    }
    downsample(points)
}

/// Every distinct span end in `(from_s, to_s]` over all GPUs, ascending (ends within
/// [`SAME_TIME_S`] of the previous one kept are the same time). GPUs scraped together share
/// their ends, which are then taken as they are; otherwise the GPUs' ascending ends are merged.
fn span_end_times(per_gpu: &[&Spans], from_s: f64, to_s: f64) -> Vec<f64> {
    // A span ends at its sample.
    let in_range: Vec<&[Sample]> = per_gpu
        .iter()
        .map(|spans| {
            let first = spans.first_ending_after(from_s);
            let last = spans.first_ending_after(to_s);
            &spans.samples()[first..last.max(first)]
        })
        .collect();
    let aligned = in_range.windows(2).all(|pair| {
        pair[0].len() == pair[1].len() && pair[0].iter().zip(pair[1]).all(|(a, b)| a.t_s == b.t_s)
    });
    let ends = if aligned {
        in_range
            .first()
            .map_or_else(Vec::new, |samples| samples.iter().map(|s| s.t_s).collect())
    } else {
        merged_ends(&in_range)
    };
    let mut times: Vec<f64> = Vec::with_capacity(ends.len());
    for t in ends {
        if times
            .last()
            .is_none_or(|last| (t - last).abs() >= SAME_TIME_S)
        {
            times.push(t);
        }
    }
    times
}

/// Every GPU's (ascending) span ends merged into one ascending list.
fn merged_ends(per_gpu: &[&[Sample]]) -> Vec<f64> {
    let mut heads: BinaryHeap<Head> = per_gpu
        .iter()
        .enumerate()
        .filter_map(|(gpu, samples)| {
            samples.first().map(|s| Head {
                end_s: s.t_s,
                gpu,
                index: 0,
            })
        })
        .collect();
    let mut ends = Vec::with_capacity(per_gpu.iter().map(|s| s.len()).sum());
    while let Some(head) = heads.pop() {
        if let Some(next) = per_gpu[head.gpu].get(head.index + 1) {
            heads.push(Head {
                end_s: next.t_s,
                gpu: head.gpu,
                index: head.index + 1,
            });
        }
        ends.push(head.end_s);
    }
    ends
}

fn quantity_spans<'a>(gpus: &'a [&GpuSeries], quantity: Quantity) -> Vec<&'a Spans<'a>> {
    gpus.iter().filter_map(|g| g.spans(quantity)).collect()
}

/// The workload series of one quantity over the window.
pub(super) fn workload_points(
    gpus: &[&GpuSeries],
    quantity: Quantity,
    window: &Window,
    interval_s: f64,
) -> Vec<[f64; 2]> {
    points_from_spans(&quantity_spans(gpus, quantity), window, interval_s)
}

/// The workload series of one quantity at every sample time in `(from_s, to_s]`, window or not.
pub(super) fn workload_points_between(
    gpus: &[&GpuSeries],
    quantity: Quantity,
    from_s: f64,
    to_s: f64,
) -> Vec<[f64; 2]> {
    points_in(&quantity_spans(gpus, quantity), from_s, to_s)
}

/// Shifts times to seconds since `origin_s`.
pub fn relative_to(points: &[[f64; 2]], origin_s: f64) -> Vec<[f64; 2]> {
    points.iter().map(|[t, v]| [t - origin_s, *v]).collect()
}

fn downsample(points: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    if points.len() <= MAX_POINTS {
        return points;
    }
    let bucket = points.len().div_ceil(MAX_POINTS);
    points
        .chunks(bucket)
        .map(|chunk| {
            let n = chunk.len() as f64;
            [
                chunk.iter().map(|p| p[0]).sum::<f64>() / n,
                chunk.iter().map(|p| p[1]).sum::<f64>() / n,
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(points: &[(f64, f64)], nominal_interval_s: f64) -> Spans<'static> {
        let samples: Vec<Sample> = points
            .iter()
            .map(|&(t_s, value)| Sample { t_s, value })
            .collect();
        Spans::new(samples, nominal_interval_s)
    }

    #[test]
    fn merges_unaligned_gpus_with_half_open_spans() {
        // GPU A scraped at 10, 20, 30; GPU B at 15, 25 and 20.0004 (same time as A's 20 within
        // 1 ms) — spans (previous, t], the first one nominal interval (10 s) long: A (0,10],
        // (10,20], (20,30]; B (5,15], (15,20.0004], (20.0004,25]. B has a gap: nothing in (25, 40).
        let a = spans(&[(10.0, 1.0), (20.0, 2.0), (30.0, 3.0)], 10.0);
        let b = spans(&[(15.0, 10.0), (20.0004, 20.0), (25.0, 30.0)], 10.0);
        let points = points_in(&[&a, &b], 0.0, 40.0);
        // t = 10: A (0,10] 1, B (5,15] 10 → 5.5; t = 15: A (10,20] 2, B 10 → 6;
        // t = 20: A 2, B (15,20.0004] 20 → 11 (B's 20.0004 is the same time);
        // t = 25: A (20,30] 3, B (20.0004,25] 30 → 16.5; t = 30: A 3 alone.
        assert_eq!(
            points,
            vec![
                [10.0, 5.5],
                [15.0, 6.0],
                [20.0, 11.0],
                [25.0, 16.5],
                [30.0, 3.0]
            ]
        );
        // Bounds are (from, to]: 10 is out, 25 is in. Spans (0,10], (10,20], (20,25].
        let a = spans(&[(10.0, 1.0), (20.0, 2.0), (25.0, 4.0)], 10.0);
        assert_eq!(points_in(&[&a], 10.0, 25.0), vec![[20.0, 2.0], [25.0, 4.0]]);
    }
}
