//! Workload-level time series: the mean over reporting GPUs at each scrape, for charts and for
//! steady-state detection.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::gpu_series::GpuSeries;
use crate::catalog::Quantity;
use crate::integrate::Spans;
use crate::series::{Sample, samples_between};
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

/// How the sum over GPUs changes at one of the times: spans that start covering there minus
/// spans that stopped covering just before it (16 bytes: the sweep writes one per span edge).
#[derive(Debug, Clone, Copy, Default)]
struct Change {
    value_delta: f64,
    gpu_delta: isize,
}

/// The mean over GPUs at every distinct span end `t` in `(from_s, to_s]`, each GPU taking the
/// span whose `(start, end]` holds `t`. A sweep: each span covers a run of consecutive times, so
/// it is added where its run begins and removed where it ends — linear in the spans, not
/// GPUs × times (hosts scraped at different offsets make the times many). GPUs scraped together
/// share their spans' times, so their runs are found once.
fn points_in(per_gpu: &[&Spans], from_s: f64, to_s: f64) -> Vec<[f64; 2]> {
    let times = span_end_times(per_gpu, from_s, to_s);
    let Some(&last_time) = times.last() else {
        return Vec::new();
    };
    let mut changes = vec![Change::default(); times.len() + 1];
    for group in scraped_together(per_gpu, from_s, last_time) {
        let lead = group[0];
        // Both cursors only move forward: span starts and ends ascend.
        let (mut first_covered, mut first_after) = (0, 0);
        for offset in 0..lead.count {
            let Some(span) = lead.spans.get(lead.first + offset) else {
                break;
            };
            first_covered = first_time_after(&times, first_covered, span.start_s);
            first_after = first_time_after(&times, first_after.max(first_covered), span.end_s);
            if first_covered < first_after {
                let value_sum: f64 = group
                    .iter()
                    .map(|member| member.spans.samples()[member.first + offset].value)
                    .sum();
                let gpus = group.len() as isize;
                changes[first_covered].value_delta += value_sum;
                changes[first_covered].gpu_delta += gpus;
                changes[first_after].value_delta -= value_sum;
                changes[first_after].gpu_delta -= gpus;
            }
        }
    }
    let mut sum = CompensatedSum::default();
    let mut reporting: isize = 0;
    let mut points = Vec::with_capacity(times.len());
    for (t, change) in times.iter().zip(&changes) {
        reporting += change.gpu_delta;
        if reporting == 0 {
            // Nothing covers t: start again from an exact zero.
            sum = CompensatedSum::default();
            continue;
        }
        sum.add(change.value_delta);
        points.push([*t, sum.value() / reporting as f64]);
    }
    downsample(points)
}

/// The spans of one GPU that may cover a time in `(from_s, until_s]`: `count` spans from `first`.
#[derive(Clone, Copy)]
struct SpanRun<'a> {
    spans: &'a Spans<'a>,
    first: usize,
    count: usize,
}

impl SpanRun<'_> {
    /// Whether another GPU's run has the same span times: the same sample times, the same
    /// sample before them (or none) and the same nominal interval.
    fn same_times(&self, other: &SpanRun) -> bool {
        self.count == other.count
            && (self.first == 0) == (other.first == 0)
            && self.spans.nominal_interval_s() == other.spans.nominal_interval_s()
            && self.times_with_previous().eq(other.times_with_previous())
    }

    fn times_with_previous(&self) -> impl Iterator<Item = f64> + '_ {
        self.spans.samples()[self.first.saturating_sub(1)..self.first + self.count]
            .iter()
            .map(|s| s.t_s)
    }
}

/// The GPUs' runs over `(from_s, until_s]`, neighbours with the same span times grouped.
fn scraped_together<'a>(
    per_gpu: &[&'a Spans<'a>],
    from_s: f64,
    until_s: f64,
) -> Vec<Vec<SpanRun<'a>>> {
    let mut groups: Vec<Vec<SpanRun>> = Vec::new();
    for spans in per_gpu {
        // Spans ending by `from_s` cover nothing after it; past the first span ending after
        // `until_s`, spans start after it.
        let first = spans.first_ending_after(from_s);
        let stop = (spans.first_ending_after(until_s) + 1).min(spans.len());
        let run = SpanRun {
            spans,
            first,
            count: stop.saturating_sub(first),
        };
        match groups.last_mut() {
            Some(group) if group[0].same_times(&run) => group.push(run),
            _ => groups.push(vec![run]),
        }
    }
    groups
}

/// The index of the first of ascending `times` after `t_s`, searching from `from` on (galloping:
/// cheap when it is near).
fn first_time_after(times: &[f64], from: usize, t_s: f64) -> usize {
    let mut step = 1;
    let mut low = from;
    while low + step < times.len() && times[low + step] <= t_s {
        low += step;
        step *= 2;
    }
    let high = (low + step).min(times.len());
    low + times[low..high].partition_point(|time| *time <= t_s)
}

/// A running sum that keeps the rounding error of each addition (Neumaier's compensated
/// summation): adding and removing many values leaves no drift.
#[derive(Debug, Clone, Copy, Default)]
struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    fn add(&mut self, value: f64) {
        let total = self.sum + value;
        self.compensation += if self.sum.abs() >= value.abs() {
            (self.sum - total) + value
        } else {
            (value - total) + self.sum
        };
        self.sum = total;
    }

    fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

/// Every distinct span end in `(from_s, to_s]` over all GPUs, ascending (ends within
/// [`SAME_TIME_S`] of the previous one kept are the same time). GPUs scraped together (one
/// host's, listed next to each other) share their ends, which are taken once; the timelines that
/// differ are merged.
fn span_end_times(per_gpu: &[&Spans], from_s: f64, to_s: f64) -> Vec<f64> {
    let mut timelines: Vec<&[Sample]> = Vec::new();
    for spans in per_gpu {
        // A span ends at its sample.
        let samples = samples_between(spans.samples(), from_s, to_s);
        let seen = |other: &&[Sample]| {
            other.len() == samples.len() && other.iter().zip(samples).all(|(a, b)| a.t_s == b.t_s)
        };
        if !samples.is_empty() && !timelines.last().is_some_and(seen) {
            timelines.push(samples);
        }
    }
    let ends = match timelines.as_slice() {
        [] => Vec::new(),
        [only] => only.iter().map(|s| s.t_s).collect(),
        _ => merged_ends(&timelines),
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

    /// The definition, evaluated directly: at every time, each GPU's covering span found by a
    /// scan, summed in GPU order.
    fn points_by_definition(per_gpu: &[&Spans], from_s: f64, to_s: f64) -> Vec<[f64; 2]> {
        span_end_times(per_gpu, from_s, to_s)
            .into_iter()
            .filter_map(|t| {
                let covering: Vec<f64> = per_gpu
                    .iter()
                    .filter_map(|spans| spans.iter().find(|s| s.start_s < t && t <= s.end_s))
                    .map(|s| s.value)
                    .collect();
                (!covering.is_empty())
                    .then(|| [t, covering.iter().sum::<f64>() / covering.len() as f64])
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn the_sweep_matches_the_definition(
            gpus in proptest::collection::vec(
                (
                    0.0f64..2.0,
                    proptest::collection::vec((0.05f64..4.0, 0.0f64..1.0e3), 1..60),
                    proptest::bool::ANY,
                ),
                1..6,
            ),
            nominal_interval_s in 0.5f64..2.0,
            from_s in -5.0f64..30.0,
            length_s in 0.0f64..80.0,
        ) {
            // Each GPU: a start offset and (gap to the previous sample, value) pairs — gaps above
            // two nominal intervals leave uncovered time — or, when it shares the previous GPU's
            // scrapes, that GPU's times with values of its own.
            let mut series: Vec<Spans> = Vec::new();
            for (offset_s, steps, shares_scrapes) in &gpus {
                let mut t_s = *offset_s;
                let mut samples: Vec<Sample> = steps
                    .iter()
                    .map(|&(gap_s, value)| {
                        t_s += gap_s;
                        Sample { t_s, value }
                    })
                    .collect();
                if let Some(previous) = series.last().filter(|_| *shares_scrapes) {
                    samples = previous
                        .samples()
                        .iter()
                        .zip(steps.iter().cycle())
                        .map(|(s, &(_, value))| Sample { t_s: s.t_s, value })
                        .collect();
                }
                series.push(Spans::new(samples, nominal_interval_s));
            }
            let per_gpu: Vec<&Spans> = series.iter().collect();
            let to_s = from_s + length_s;
            let expected = points_by_definition(&per_gpu, from_s, to_s);
            // Fewer points than the downsampling threshold: compared one for one.
            let swept = points_in(&per_gpu, from_s, to_s);
            proptest::prop_assert_eq!(swept.len(), expected.len());
            for (got, want) in swept.iter().zip(&expected) {
                proptest::prop_assert_eq!(got[0], want[0]);
                proptest::prop_assert!((got[1] - want[1]).abs() <= 1e-9 * want[1].abs().max(1.0));
            }
        }
    }
}
