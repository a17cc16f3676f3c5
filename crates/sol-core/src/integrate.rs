//! Exact integration of interval-average samples over a window (reference/dcgm-fields.md §1, §7).
//!
//! A DCGM PROF value stored at `t` is the average over the interval *preceding* `t`. Each sample
//! therefore covers `(t_prev, t]`, piecewise constant. A gap longer than two nominal intervals is
//! not interpolated: the sample after it covers only `(t − interval, t]` and the rest of the gap
//! is uncovered time, which shows up as coverage below 100 %. Nothing is shifted for scrape lag;
//! the alignment uncertainty is reported separately as an edge bound.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

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
    // Selection, not a sort: linear, and this runs for every series of every cell.
    let (count, mid) = (gaps.len(), gaps.len() / 2);
    let (lower, &mut upper_middle, _) = gaps.select_nth_unstable_by(mid, f64::total_cmp);
    Some(if count % 2 == 1 {
        upper_middle
    } else {
        let lower_middle = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower_middle + upper_middle) / 2.0
    })
}

/// The spans that ascending samples with distinct timestamps describe, read in place (nothing is
/// copied per span): span `i` ends at sample `i` and starts at the previous sample, or one
/// nominal interval earlier for the first sample and after a gap longer than
/// [`MAX_GAP_INTERVALS`] nominal intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct Spans<'a> {
    samples: Cow<'a, [Sample]>,
    nominal_interval_s: f64,
}

impl<'a> Spans<'a> {
    /// Spans of `samples` with a given nominal interval.
    pub fn new(samples: impl Into<Cow<'a, [Sample]>>, nominal_interval_s: f64) -> Self {
        Spans {
            samples: samples.into(),
            nominal_interval_s,
        }
    }

    /// Spans of one series with its own median spacing as the nominal interval (or
    /// `default_interval_s` when it has fewer than two distinct timestamps).
    pub fn of_series(samples: impl Into<Cow<'a, [Sample]>>, default_interval_s: f64) -> Self {
        let samples = samples.into();
        let nominal_interval_s = median_interval_s(&samples).unwrap_or(default_interval_s);
        Spans {
            samples,
            nominal_interval_s,
        }
    }

    /// The samples the spans end at.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// The nominal interval, seconds.
    pub fn nominal_interval_s(&self) -> f64 {
        self.nominal_interval_s
    }

    /// How many spans (one per sample).
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether there are no spans.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Span `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<Span> {
        let sample = self.samples.get(index)?;
        let previous_t_s = index.checked_sub(1).map(|i| self.samples[i].t_s);
        Some(self.span_ending_at(previous_t_s, sample))
    }

    /// Every span, ascending.
    pub fn iter(&self) -> impl Iterator<Item = Span> + '_ {
        let mut previous_t_s = None;
        self.samples.iter().map(move |sample| {
            let span = self.span_ending_at(previous_t_s, sample);
            previous_t_s = Some(sample.t_s);
            span
        })
    }

    /// The index of the first span ending after `t_s`.
    pub fn first_ending_after(&self, t_s: f64) -> usize {
        self.samples.partition_point(|s| s.t_s <= t_s)
    }

    /// Integrates the spans over `[start_s, end_s]`.
    pub fn integrate(&self, start_s: f64, end_s: f64) -> WindowIntegral {
        let mut result = WindowIntegral::default();
        let mut add = |span: Span, overlap_s: f64| {
            if overlap_s > 0.0 {
                result.integral += span.value * overlap_s;
                result.covered_s += overlap_s;
                result.spans += 1;
            }
        };
        let clipped = |span: Span| span.end_s.min(end_s) - span.start_s.max(start_s);
        let first = self.first_ending_after(start_s);
        let Some(first_span) = self.get(first).filter(|s| s.start_s < end_s) else {
            return result;
        };
        add(first_span, clipped(first_span));
        // The spans after the first that end inside the window lie wholly inside it (each
        // starts at or after the end before it, which is after `start_s`): no clipping.
        let ends_inside = self.first_ending_after(end_s);
        let mut index = first + 1;
        while index < ends_inside {
            let span = self.span_ending_at(Some(self.samples[index - 1].t_s), &self.samples[index]);
            add(span, span.end_s - span.start_s);
            index += 1;
        }
        // Then the span that straddles the window's end, if one does.
        if let Some(last_span) = self.get(index).filter(|s| s.start_s < end_s) {
            add(last_span, clipped(last_span));
        }
        result
    }

    fn span_ending_at(&self, previous_t_s: Option<f64>, sample: &Sample) -> Span {
        let start_s = match previous_t_s {
            Some(previous)
                if sample.t_s - previous <= MAX_GAP_INTERVALS * self.nominal_interval_s =>
            {
                previous
            }
            _ => sample.t_s - self.nominal_interval_s,
        };
        Span {
            start_s,
            end_s: sample.t_s,
            value: sample.value,
        }
    }
}

/// An exporter's refresh schedule: refresh `n` publishes at `phase_s + n × period_s`, and the
/// value it publishes describes the period before it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RefreshGrid {
    /// Collect interval, s.
    pub period_s: f64,
    /// Time of one refresh, epoch s.
    pub phase_s: f64,
}

/// Collect intervals people configure (`dcgm-exporter -c`, in s): a rough estimate near one of
/// them is taken to be it.
const CONFIGURED_PERIODS_S: [f64; 15] = [
    1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0,
];

impl RefreshGrid {
    /// The refresh a scrape at `t_s` has seen (the latest one at or before it).
    pub fn index(&self, t_s: f64) -> i64 {
        ((t_s - self.phase_s) / self.period_s).floor() as i64
    }

    /// Whether a series' changes follow this grid — they fall within about one scrape interval
    /// after a refresh, at most one per refresh — so its values are held between refreshes. A
    /// field on a faster cadence of its own changes several times per refresh.
    pub fn explains(&self, change_times: &[f64], scrape_interval_s: f64) -> bool {
        if change_times.is_empty() {
            return true;
        }
        let within = change_times
            .iter()
            .filter(|t| (*t - self.phase_s).rem_euclid(self.period_s) <= 1.1 * scrape_interval_s)
            .count();
        let mut refreshes: Vec<i64> = change_times.iter().map(|t| self.index(*t)).collect();
        refreshes.dedup();
        let repeated = change_times.len() - refreshes.len();
        let needed = GRID_EXPLAINS_SHARE * change_times.len() as f64;
        within as f64 >= needed && (change_times.len() - repeated) as f64 >= needed
    }

    /// When refresh `n` published.
    pub fn time(&self, n: i64) -> f64 {
        self.phase_s + n as f64 * self.period_s
    }

    /// Fits the grid to the times a series' value changed (first seen at a scrape). Those
    /// times sit within one scrape interval after a refresh, so modulo the period they fill an
    /// arc no longer than the scrape interval; the arc's start is the refresh phase. `None` when
    /// no candidate period gives such an arc (not a periodic refresh).
    pub fn fit(change_times: &[f64], scrape_interval_s: f64) -> Option<RefreshGrid> {
        let mut times = change_times.to_vec();
        times.sort_by(f64::total_cmp);
        // Fields published by one refresh change at the same scrape: one time each.
        times.dedup_by(|a, b| (*a - *b).abs() < 1e-3);
        if times.len() < MIN_CHANGES_FOR_GRID {
            return None;
        }
        let change_times = &times[..];
        let mut gaps: Vec<f64> = change_times.windows(2).map(|p| p[1] - p[0]).collect();
        gaps.sort_by(f64::total_cmp);
        let rough_s = gaps[gaps.len() / 2];
        let configured = CONFIGURED_PERIODS_S
            .iter()
            .copied()
            .find(|p| (rough_s - p).abs() <= 0.05 * p);
        configured
            .into_iter()
            .chain([rough_s])
            .find_map(|period_s| {
                let (phase_s, arc_s) = occupied_arc(change_times, period_s);
                (arc_s <= 1.1 * scrape_interval_s).then_some(RefreshGrid { period_s, phase_s })
            })
    }
}

/// Fewest distinct change times for a refresh grid: random times fit an arc of half the circle
/// with probability n / 2^(n−1), 0.6 % at 12.
pub const MIN_CHANGES_FOR_GRID: usize = 12;

/// Share of a series' changes that must fall in the grid's arc for the grid to describe it.
const GRID_EXPLAINS_SHARE: f64 = 0.9;

/// The shortest arc of the circle of circumference `period_s` holding every `times mod
/// period`: its start (as an epoch time near the first change) and its length.
fn occupied_arc(times: &[f64], period_s: f64) -> (f64, f64) {
    let origin = times[0];
    let mut residues: Vec<f64> = times
        .iter()
        .map(|t| (t - origin).rem_euclid(period_s))
        .collect();
    residues.sort_by(f64::total_cmp);
    // The largest gap between neighbours (wrapping round) is outside the arc.
    let mut best_gap = period_s - residues[residues.len() - 1] + residues[0];
    let mut start = residues[0];
    for pair in residues.windows(2) {
        if pair[1] - pair[0] > best_gap {
            best_gap = pair[1] - pair[0];
            start = pair[1];
        }
    }
    (origin + start, period_s - best_gap)
}

/// The times a series' value changes from the previous sample.
pub fn change_times(samples: &[Sample]) -> Vec<f64> {
    samples
        .windows(2)
        .filter(|p| p[1].value != p[0].value)
        .map(|p| p[1].t_s)
        .collect()
}

/// One sample per refresh, stamped at the refresh time: held copies (same refresh, same value)
/// are dropped, a value seen again after a later refresh is kept (it genuinely repeated). A
/// value that changes within what the grid calls one refresh belongs to the next one.
pub fn regrid(samples: &[Sample], grid: &RefreshGrid) -> Vec<Sample> {
    let mut kept: Vec<(i64, Sample)> = Vec::with_capacity(samples.len() / 2 + 1);
    for sample in samples {
        let mut n = grid.index(sample.t_s);
        if let Some((last_n, last)) = kept.last()
            && n <= *last_n
        {
            if sample.value == last.value {
                continue;
            }
            n = last_n + 1;
        }
        kept.push((
            n,
            Sample {
                t_s: grid.time(n),
                value: sample.value,
            },
        ));
    }
    kept.into_iter().map(|(_, s)| s).collect()
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

/// Combines each primary sample with the `other` sample nearest in time (within `tolerance_s`;
/// on a tie the earlier one), e.g. tensor activity × SM clock, or NVLink TX + RX, read in the
/// same scrape. Unpaired primary samples are left out and counted. Both series are ascending, so
/// one cursor walks `other` once.
pub fn pair_combine(
    primary: &[Sample],
    other: &[Sample],
    tolerance_s: f64,
    combine: impl Fn(f64, f64) -> f64,
) -> (Vec<Sample>, usize) {
    let mut unpaired = 0;
    let mut combined = Vec::with_capacity(primary.len());
    // The first `other` sample at or after the current primary sample.
    let mut after = 0;
    for sample in primary {
        while other.get(after).is_some_and(|o| o.t_s < sample.t_s) {
            after += 1;
        }
        let before = after.checked_sub(1).map(|i| &other[i]);
        let nearest = match (before, other.get(after)) {
            (Some(b), Some(a)) => Some(if sample.t_s - b.t_s <= a.t_s - sample.t_s {
                b
            } else {
                a
            }),
            (b, a) => b.or(a),
        };
        match nearest.filter(|o| (o.t_s - sample.t_s).abs() <= tolerance_s) {
            Some(o) => combined.push(Sample {
                t_s: sample.t_s,
                value: combine(sample.value, o.value),
            }),
            None => unpaired += 1,
        }
    }
    (combined, unpaired)
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
        let spans = Spans::new(
            samples(&[(10.0, 0.2), (20.0, 0.4), (30.0, 0.6), (40.0, 0.8)]),
            10.0,
        );
        let result = spans.integrate(15.0, 35.0);
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
        let spans = Spans::new(samples(&[(10.0, 1.0), (20.0, 1.0), (60.0, 1.0)]), 10.0);
        assert_eq!(spans.get(2).unwrap().start_s, 50.0);
        let result = spans.integrate(0.0, 60.0);
        assert_eq!((result.integral, result.covered_s), (30.0, 30.0));
        // A gap of exactly 2 intervals still counts as covered: (20, 40] holds the next value.
        let spans = Spans::new(samples(&[(10.0, 1.0), (20.0, 1.0), (40.0, 3.0)]), 10.0);
        assert_eq!(spans.get(2).unwrap().start_s, 20.0);
        // Walking the spans gives the same ones as indexing them.
        let walked: Vec<Span> = spans.iter().collect();
        let indexed: Vec<Span> = (0..spans.len()).map(|i| spans.get(i).unwrap()).collect();
        assert_eq!(walked, indexed);
    }

    #[test]
    fn median_interval_ignores_duplicates() {
        let s = samples(&[(0.0, 0.0), (5.0, 0.0), (5.0, 0.0), (10.0, 0.0), (25.0, 0.0)]);
        // Positive gaps: 5, 5, 15 → median 5.
        assert_eq!(median_interval_s(&s), Some(5.0));
        assert_eq!(median_interval_s(&s[..1]), None);
    }

    #[test]
    fn a_refresh_grid_is_fitted_from_change_times() {
        // Exporter refreshes every 30 s at t = 7, 37, 67, …; scrapes every 15 s at t = 0, 15,
        // 30, … first show each new value at 15, 45, 75, … (8 s after the refresh), some jittered
        // by 3 ms. Change times mod 30 fill an arc of 0.003 s ≤ 1.1 × 15 s.
        let changes: Vec<f64> = (0..14)
            .map(|k| 15.0 + 30.0 * f64::from(k) + if k % 2 == 0 { 0.0 } else { 0.003 })
            .collect();
        let grid = RefreshGrid::fit(&changes, 15.0).unwrap();
        assert_eq!(grid.period_s, 30.0);
        // The arc starts at the earliest residue: phase ≡ 15 (mod 30).
        assert!((grid.phase_s - 15.0).rem_euclid(30.0) < 1e-9, "{grid:?}");
        assert!(grid.explains(&changes, 15.0));
        // Changes 20 s after each refresh (> 1.1 × 15 s) follow another cadence, and so do
        // changes at every 15 s scrape (two per 30 s refresh).
        assert!(!grid.explains(&[35.0, 65.0, 95.0], 15.0));
        assert!(!grid.explains(&[15.0, 30.0, 45.0, 60.0, 75.0, 90.0], 15.0));
        // Irregular changes (gaps from a fixed pseudo-random sequence of 5–55 s) fit no grid.
        let mut t = 0.0;
        let mut x: u32 = 12345;
        let irregular: Vec<f64> = (0..20)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                t += 5.0 + f64::from((x >> 16) % 51);
                t
            })
            .collect();
        assert_eq!(RefreshGrid::fit(&irregular, 15.0), None);
    }

    #[test]
    fn held_values_are_regridded_once_each() {
        // Refresh every 30 s at t = 0, 30, 60, …, scrapes every 20 s: the scrape at t sees the
        // value of refresh floor(t/30). Values alternate 0.8 (even refresh) / 0.2 (odd), so
        // scrapes read t=0 0.8, 20 0.8 (held), 40 0.2, 60 0.8, 80 0.8 (held), 100 0.2, 120 0.8.
        let scraped = samples(&[
            (0.0, 0.8),
            (20.0, 0.8),
            (40.0, 0.2),
            (60.0, 0.8),
            (80.0, 0.8),
            (100.0, 0.2),
            (120.0, 0.8),
        ]);
        let grid = RefreshGrid {
            period_s: 30.0,
            phase_s: 0.0,
        };
        let kept = regrid(&scraped, &grid);
        // Refresh 0 (t=0) 0.8, 1 (30) 0.2, 2 (60) 0.8, 3 (90) 0.2, 4 (120) 0.8.
        assert_eq!(
            kept,
            samples(&[
                (0.0, 0.8),
                (30.0, 0.2),
                (60.0, 0.8),
                (90.0, 0.2),
                (120.0, 0.8)
            ])
        );
        // Each value now covers exactly its 30 s: over [0, 120] → (0.2 + 0.8 + 0.2 + 0.8) × 30 /
        // 120 = 0.5, the truth. Per-scrape spans said (0.8×20 + 0.2×20 + 0.8×40 + 0.2×20 +
        // 0.8×20) / 120 = 0.6.
        let result = Spans::of_series(&kept, 30.0).integrate(0.0, 120.0);
        assert!((result.integral / 120.0 - 0.5).abs() < 1e-12);
        assert_eq!(result.covered_s, 120.0);
        let naive = Spans::new(&scraped, 20.0).integrate(0.0, 120.0);
        assert!((naive.integral / 120.0 - 0.6).abs() < 1e-12);
    }

    #[test]
    fn scrape_15_s_collect_30_s_integrates_each_dcgm_sample_once() {
        // dcgm-exporter refreshes every 30 s at t = 30k; refresh k publishes the mean over
        // (30(k−1), 30k], cycling 0.9, 0.3, 0.6 (k mod 3). Prometheus scrapes every 15 s from
        // t = 5 (5, 20, 35, …, 485), so each value is read twice, and a change first shows at
        // 30k + 5: 16 changes, enough to fit the grid.
        let value = |k: i64| [0.9, 0.3, 0.6][k.rem_euclid(3) as usize];
        let scraped: Vec<Sample> = (0..=32)
            .map(|j| {
                let t_s = 5.0 + 15.0 * j as f64;
                Sample {
                    t_s,
                    value: value((t_s / 30.0).floor() as i64),
                }
            })
            .collect();
        // The fit sees changes at 30k + 5 only: period 30 s, phase 5 s — 5 s after the true
        // refresh, the lag no scrape can resolve (at most one scrape interval).
        let grid = RefreshGrid::fit(&change_times(&scraped), 15.0).unwrap();
        assert!((grid.period_s - 30.0).abs() < 1e-9, "{grid:?}");
        assert!(
            (grid.phase_s.rem_euclid(30.0) - 5.0).abs() < 1e-9,
            "{grid:?}"
        );
        let kept = regrid(&scraped, &grid);
        assert_eq!(kept.len(), 17, "one sample per refresh, k = 0..16");
        // Window [5, 245]: regridded spans (30k − 25, 30k + 5] for k = 1..8 fill it, values
        // .3 .6 .9 .3 .6 .9 .3 .6 → sum 4.5 → mean 4.5 / 8 = 0.5625, the truth over (0, 240]
        // shifted by the 5 s lag.
        let result = Spans::of_series(&kept, 30.0).integrate(5.0, 245.0);
        assert!((result.integral / 240.0 - 0.5625).abs() < 1e-12);
        assert_eq!(result.covered_s, 240.0);
        // Integrating every scrape over its own 15 s counts the edge values by halves:
        // 0.9 × 15 (t = 20) + (.3+.6+.9+.3+.6+.9+.3) × 30 + 0.6 × 15 (t = 245) = 139.5 →
        // 0.58125, 1.9 points off.
        let naive = Spans::new(&scraped, 15.0).integrate(5.0, 245.0);
        assert!((naive.integral / 240.0 - 0.58125).abs() < 1e-12);
    }

    #[test]
    fn a_genuinely_repeated_value_keeps_its_refresh() {
        // Refresh every 30 s; the value stays 0.5 for refreshes 0–2, scraped every 10 s: one
        // sample per refresh survives, so coverage stays complete.
        let scraped = samples(&[
            (1.0, 0.5),
            (11.0, 0.5),
            (21.0, 0.5),
            (31.0, 0.5),
            (41.0, 0.5),
            (61.0, 0.5),
        ]);
        let kept = regrid(
            &scraped,
            &RefreshGrid {
                period_s: 30.0,
                phase_s: 0.0,
            },
        );
        assert_eq!(kept, samples(&[(0.0, 0.5), (30.0, 0.5), (60.0, 0.5)]));
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
        // Nearest each time, the earlier on a tie: primary at 10, 11, 12 against others at 9.6
        // (value 1), 10.5 (2), 11.5 (3), 13 (4). t=10: 0.4 before vs 0.5 after → 1; t=11: 0.5
        // either way → the earlier, 2; t=12: 0.5 before vs 1.0 after → 3.
        let (picked, unpaired) = pair_combine(
            &samples(&[(10.0, 0.0), (11.0, 0.0), (12.0, 0.0)]),
            &samples(&[(9.6, 1.0), (10.5, 2.0), (11.5, 3.0), (13.0, 4.0)]),
            1.0,
            |_, other| other,
        );
        assert_eq!(picked, samples(&[(10.0, 1.0), (11.0, 2.0), (12.0, 3.0)]));
        assert_eq!(unpaired, 0);
    }
}
