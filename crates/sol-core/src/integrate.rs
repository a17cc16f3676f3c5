//! Exact integration of interval-average samples over a window (reference/dcgm-fields.md §1, §7).
//!
//! A DCGM PROF value stored at `t` is the average over the interval *preceding* `t`. Each sample
//! therefore covers `(t_prev, t]`, piecewise constant. A gap longer than two nominal intervals is
//! not interpolated: the sample after it covers only `(t − interval, t]` and the rest of the gap
//! is uncovered time, which shows up as coverage below 100 %. Nothing is shifted for scrape lag;
//! the alignment uncertainty is reported separately as an edge bound.

use crate::series::Sample;

/// A value holding over `(start_s, end_s]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// Exclusive start, epoch seconds.
    pub start_s: f64,
    /// Inclusive end (the sample's timestamp), epoch seconds.
    pub end_s: f64,
    /// The interval-average value.
    pub value: f64,
}

/// Gaps longer than this many nominal intervals are uncovered time.
pub const MAX_GAP_INTERVALS: f64 = 2.0;

/// The median spacing of ascending samples, or `None` with fewer than two distinct timestamps.
pub fn median_interval_s(samples: &[Sample]) -> Option<f64> {
    let mut gaps: Vec<f64> = samples
        .windows(2)
        .map(|pair| pair[1].t_s - pair[0].t_s)
        .filter(|gap| *gap > 0.0)
        .collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_by(f64::total_cmp);
    let mid = gaps.len() / 2;
    Some(if gaps.len() % 2 == 1 {
        gaps[mid]
    } else {
        (gaps[mid - 1] + gaps[mid]) / 2.0
    })
}

/// Turns ascending samples with distinct timestamps into the spans they describe.
pub fn to_spans(samples: &[Sample], nominal_interval_s: f64) -> Vec<Span> {
    let max_gap_s = MAX_GAP_INTERVALS * nominal_interval_s;
    let mut previous_t: Option<f64> = None;
    samples
        .iter()
        .map(|sample| {
            let start_s = match previous_t {
                Some(prev) if sample.t_s - prev <= max_gap_s => prev,
                _ => sample.t_s - nominal_interval_s,
            };
            previous_t = Some(sample.t_s);
            Span {
                start_s,
                end_s: sample.t_s,
                value: sample.value,
            }
        })
        .collect()
}

/// How samples turn into spans.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SpanModel {
    /// Every scrape carries a fresh value: each sample covers back to the previous one
    /// ([`to_spans`]), `default_interval_s` where a series is too short to tell.
    Scraped {
        /// Interval assumed for series with fewer than two samples, s.
        default_interval_s: f64,
    },
    /// The exporter refreshes values every `update_interval_s`, slower than the scrapes: held
    /// copies are dropped ([`decimate_held`]) and each DCGM value covers exactly the update
    /// interval before the scrape that first showed it.
    Held {
        /// Exporter collect interval detected from the data, s.
        update_interval_s: f64,
    },
}

impl SpanModel {
    /// The spans of ascending samples under this model.
    pub fn spans(self, samples: &[Sample]) -> Vec<Span> {
        match self {
            SpanModel::Scraped { default_interval_s } => to_spans(
                samples,
                median_interval_s(samples).unwrap_or(default_interval_s),
            ),
            SpanModel::Held { update_interval_s } => samples
                .iter()
                .map(|s| Span {
                    start_s: s.t_s - update_interval_s,
                    end_s: s.t_s,
                    value: s.value,
                })
                .collect(),
        }
    }

    /// The interval one sample describes: scrape interval, or exporter update interval.
    pub fn interval_s(self) -> f64 {
        match self {
            SpanModel::Scraped { default_interval_s } => default_interval_s,
            SpanModel::Held { update_interval_s } => update_interval_s,
        }
    }
}

/// Keeps one sample per exporter update: the first scrape showing a value, and a later equal
/// value only once a whole update interval has passed (a value that genuinely repeats).
pub fn decimate_held(samples: &[Sample], update_interval_s: f64) -> Vec<Sample> {
    let mut kept: Vec<Sample> = Vec::with_capacity(samples.len());
    for sample in samples {
        let fresh = kept.last().is_none_or(|last| {
            last.value != sample.value || sample.t_s - last.t_s >= update_interval_s
        });
        if fresh {
            kept.push(*sample);
        }
    }
    kept
}

/// Gaps between the times a series' value changes: the exporter's refresh cadence.
pub fn change_gaps_s(samples: &[Sample]) -> Vec<f64> {
    let changes: Vec<f64> = samples
        .windows(2)
        .filter(|p| p[1].value != p[0].value)
        .map(|p| p[1].t_s)
        .collect();
    changes
        .windows(2)
        .map(|p| p[1] - p[0])
        .filter(|g| *g > 0.0)
        .collect()
}

/// The integral of spans clipped to a window.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct WindowIntegral {
    /// ∫ value dt over the covered part of the window (value × seconds).
    pub integral: f64,
    /// Seconds of the window covered by some span.
    pub covered_s: f64,
    /// Spans that overlap the window.
    pub spans: usize,
}

impl WindowIntegral {
    /// The mean over covered time, if any time is covered.
    pub fn mean(&self) -> Option<f64> {
        (self.covered_s > 0.0).then(|| self.integral / self.covered_s)
    }

    /// Adds another integral (of a disjoint part or another GPU).
    pub fn add(&mut self, other: &WindowIntegral) {
        self.integral += other.integral;
        self.covered_s += other.covered_s;
        self.spans += other.spans;
    }
}

/// Integrates ascending, non-overlapping spans over `[start_s, end_s]`.
pub fn integrate(spans: &[Span], start_s: f64, end_s: f64) -> WindowIntegral {
    let first = spans.partition_point(|span| span.end_s <= start_s);
    let mut result = WindowIntegral::default();
    for span in &spans[first..] {
        if span.start_s >= end_s {
            break;
        }
        let overlap_s = span.end_s.min(end_s) - span.start_s.max(start_s);
        if overlap_s > 0.0 {
            result.integral += span.value * overlap_s;
            result.covered_s += overlap_s;
            result.spans += 1;
        }
    }
    result
}

/// The value in effect at `t_s` (the span whose `(start, end]` contains it).
pub fn value_at(spans: &[Span], t_s: f64) -> Option<f64> {
    let index = spans.partition_point(|span| span.end_s < t_s);
    spans
        .get(index)
        .filter(|span| span.start_s < t_s)
        .map(|span| span.value)
}

/// Increase of a monotonic counter over a window, with resets handled.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CounterIncrease {
    /// Increase over the covered part of the window, in the counter's unit.
    pub increase: f64,
    /// Seconds of the window lying between two counter samples.
    pub covered_s: f64,
    /// Resets (a decrease) between samples overlapping the window.
    pub resets: usize,
}

/// The counter's increase over `[start_s, end_s]`, pro-rating the segments that straddle the
/// window edges. A decrease is a reset (driver reload): the counter restarted from zero, so that
/// segment's increase is the value after the reset.
pub fn counter_increase(samples: &[Sample], start_s: f64, end_s: f64) -> CounterIncrease {
    let mut result = CounterIncrease::default();
    for pair in samples.windows(2) {
        let (before, after) = (pair[0], pair[1]);
        let segment_s = after.t_s - before.t_s;
        let overlap_s = after.t_s.min(end_s) - before.t_s.max(start_s);
        if segment_s <= 0.0 || overlap_s <= 0.0 {
            continue;
        }
        let segment_increase = if after.value >= before.value {
            after.value - before.value
        } else {
            result.resets += 1;
            after.value
        };
        result.increase += segment_increase * overlap_s / segment_s;
        result.covered_s += overlap_s;
    }
    result
}

/// Combines each primary sample with the `other` sample nearest in time (within `tolerance_s`),
/// e.g. tensor activity × SM clock, or NVLink TX + RX, read in the same scrape. Unpaired primary
/// samples are left out and counted.
pub fn pair_combine(
    primary: &[Sample],
    other: &[Sample],
    tolerance_s: f64,
    combine: impl Fn(f64, f64) -> f64,
) -> (Vec<Sample>, usize) {
    let mut unpaired = 0;
    let combined = primary
        .iter()
        .filter_map(|sample| {
            let nearest = nearest_sample(other, sample.t_s)
                .filter(|o| (o.t_s - sample.t_s).abs() <= tolerance_s);
            match nearest {
                Some(o) => Some(Sample {
                    t_s: sample.t_s,
                    value: combine(sample.value, o.value),
                }),
                None => {
                    unpaired += 1;
                    None
                }
            }
        })
        .collect();
    (combined, unpaired)
}

fn nearest_sample(samples: &[Sample], t_s: f64) -> Option<Sample> {
    let index = samples.partition_point(|s| s.t_s < t_s);
    let after = samples.get(index).copied();
    let before = index.checked_sub(1).and_then(|i| samples.get(i)).copied();
    match (before, after) {
        (Some(b), Some(a)) => Some(if t_s - b.t_s <= a.t_s - t_s { b } else { a }),
        (b, a) => b.or(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(points: &[(f64, f64)]) -> Vec<Sample> {
        points
            .iter()
            .map(|&(t_s, value)| Sample { t_s, value })
            .collect()
    }

    #[test]
    fn integrates_preceding_intervals_clipped_to_the_window() {
        // Samples every 10 s at t = 10, 20, 30, 40 with values 0.2, 0.4, 0.6, 0.8.
        // Spans: (0,10]=0.2, (10,20]=0.4, (20,30]=0.6, (30,40]=0.8.
        // Window [15, 35]: 5 s of 0.4 + 10 s of 0.6 + 5 s of 0.8 = 2 + 6 + 4 = 12 over 20 s.
        let spans = to_spans(
            &samples(&[(10.0, 0.2), (20.0, 0.4), (30.0, 0.6), (40.0, 0.8)]),
            10.0,
        );
        let result = integrate(&spans, 15.0, 35.0);
        assert!((result.integral - 12.0).abs() < 1e-12);
        assert_eq!(result.covered_s, 20.0);
        assert_eq!(result.mean(), Some(0.6));
        assert_eq!(result.spans, 3);
    }

    #[test]
    fn a_long_gap_is_uncovered_not_interpolated() {
        // Interval 10 s; samples at 10, 20, then nothing until 60 (a 40 s gap > 2 × 10 s).
        // Spans: (0,10]=1, (10,20]=1, (50,60]=1 — (20,50] is uncovered.
        // Window [0, 60]: covered 10 + 10 + 10 = 30 s of 60 → coverage 50 %, integral 30.
        let spans = to_spans(&samples(&[(10.0, 1.0), (20.0, 1.0), (60.0, 1.0)]), 10.0);
        assert_eq!(spans[2].start_s, 50.0);
        let result = integrate(&spans, 0.0, 60.0);
        assert_eq!((result.integral, result.covered_s), (30.0, 30.0));
        // A gap of exactly 2 intervals still counts as covered: (20, 40] holds the next value.
        let spans = to_spans(&samples(&[(10.0, 1.0), (20.0, 1.0), (40.0, 3.0)]), 10.0);
        assert_eq!(spans[2].start_s, 20.0);
    }

    #[test]
    fn value_at_uses_half_open_spans() {
        let spans = to_spans(&samples(&[(10.0, 0.2), (20.0, 0.4)]), 10.0);
        assert_eq!(value_at(&spans, 10.0), Some(0.2)); // t = 10 belongs to (0, 10]
        assert_eq!(value_at(&spans, 10.5), Some(0.4));
        assert_eq!(value_at(&spans, 0.0), None);
        assert_eq!(value_at(&spans, 21.0), None);
    }

    #[test]
    fn median_interval_ignores_duplicates() {
        let s = samples(&[(0.0, 0.0), (5.0, 0.0), (5.0, 0.0), (10.0, 0.0), (25.0, 0.0)]);
        // Positive gaps: 5, 5, 15 → median 5.
        assert_eq!(median_interval_s(&s), Some(5.0));
        assert_eq!(median_interval_s(&s[..1]), None);
    }

    #[test]
    fn held_values_are_integrated_once_over_their_update_interval() {
        // The exporter refreshes every 30 s with alternating values: 0.8 for (−30, 0],
        // 0.2 for (0, 30], 0.8 for (30, 60], 0.2 for (60, 90], 0.8 for (90, 120]. Scrapes every
        // 20 s see: t=0 0.8, 20 0.8 (held), 40 0.2, 60 0.8, 80 0.8 (held), 100 0.2, 120 0.8.
        // Truth over [0, 120]: two 0.2 and two 0.8 update intervals → mean 0.5.
        let scraped = samples(&[
            (0.0, 0.8),
            (20.0, 0.8),
            (40.0, 0.2),
            (60.0, 0.8),
            (80.0, 0.8),
            (100.0, 0.2),
            (120.0, 0.8),
        ]);
        // Change gaps: changes at 40, 60, 100, 120 → gaps 20, 40, 20 → median 20 alone; the
        // cell-level estimate pools many series. Here take the known 30 s.
        let kept = decimate_held(&scraped, 30.0);
        assert_eq!(
            kept.iter().map(|s| s.t_s).collect::<Vec<_>>(),
            vec![0.0, 40.0, 60.0, 100.0, 120.0]
        );
        let held = SpanModel::Held {
            update_interval_s: 30.0,
        }
        .spans(&kept);
        // Fixed 30 s spans: 0.2 over (10,40], 0.8 over (30,60], 0.2 over (70,100], 0.8 over
        // (90,120] inside the window → (0.2 + 0.8 + 0.2 + 0.8) × 30 = 60 over 120 s → 0.5.
        let result = integrate(&held, 0.0, 120.0);
        assert!(
            (result.integral / 120.0 - 0.5).abs() < 1e-12,
            "{}",
            result.integral
        );
        // Per-scrape spans would have said (0.8×20 + 0.2×20 + 0.8×40 + 0.2×20 + 0.8×20)/120 = 0.6.
        let naive = integrate(&to_spans(&scraped, 20.0), 0.0, 120.0);
        assert!((naive.integral / 120.0 - 0.6).abs() < 1e-12);
    }

    #[test]
    fn change_gaps_measure_the_refresh_cadence() {
        // Value changes at 30, 60, 90 (scraped every 10 s, held in between) → gaps 30, 30.
        let s = samples(&[
            (10.0, 1.0),
            (20.0, 1.0),
            (30.0, 2.0),
            (40.0, 2.0),
            (50.0, 2.0),
            (60.0, 3.0),
            (70.0, 3.0),
            (80.0, 3.0),
            (90.0, 4.0),
        ]);
        assert_eq!(change_gaps_s(&s), vec![30.0, 30.0]);
    }

    #[test]
    fn counter_increase_prorates_edges_and_survives_a_reset() {
        // Energy counter (J) at t = 0, 10, 20, 30: 1000, 1100, 50 (reset), 150.
        // Segments: (0,10] +100, (10,20] reset → +50, (20,30] +100.
        // Window [5, 25]: half of +100 (50) + all of +50 + half of +100 (50) = 150 J over 20 s.
        let s = samples(&[(0.0, 1000.0), (10.0, 1100.0), (20.0, 50.0), (30.0, 150.0)]);
        let result = counter_increase(&s, 5.0, 25.0);
        assert!((result.increase - 150.0).abs() < 1e-9);
        assert_eq!(result.covered_s, 20.0);
        assert_eq!(result.resets, 1);
    }

    #[test]
    fn pairs_products_by_nearest_timestamp() {
        // Tensor 0.5 at t=10 and 0.6 at t=20; clock 1800 at t=10.2 and none near t=20 (t=35).
        // With tolerance 1 s: 0.5 × 1800 = 900 at t=10; t=20 unpaired.
        let (product, unpaired) = pair_combine(
            &samples(&[(10.0, 0.5), (20.0, 0.6)]),
            &samples(&[(10.2, 1800.0), (35.0, 1900.0)]),
            1.0,
            |a, b| a * b,
        );
        assert_eq!(product, samples(&[(10.0, 900.0)]));
        assert_eq!(unpaired, 1);
    }
}
