//! Steady-state detection from the data: where the workload ramps up and drains inside the
//! benchmark window, and which span in between holds the plateau.
//!
//! Method (deterministic, stated in the output): the signal is the workload mean of an activity
//! quantity at each scrape. Its plateau level is the median over the middle half of the window;
//! the steady span runs from the interval of the first sample at or above 85 % of that level to
//! the last such sample. A window whose span covers nearly all of it needs no trimming.

use serde::{Deserialize, Serialize};

/// Fraction of the plateau level a sample must reach to count as steady.
pub const STEADY_THRESHOLD_OF_PLATEAU: f64 = 0.85;
/// Fewest in-window samples for a detection.
pub const MIN_SAMPLES: usize = 6;
/// Samples below the threshold inside the span beyond this share make the span unsteady.
pub const MAX_DIP_SHARE: f64 = 0.2;

/// Outcome of steady-state detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SteadyState {
    /// Whether a steady span was found.
    pub detected: bool,
    /// Start of the steady span (epoch seconds); the window start when not detected.
    pub start_s: f64,
    /// End of the steady span (epoch seconds); the window end when not detected.
    pub end_s: f64,
    /// Quantity the detection ran on.
    pub signal: String,
    /// The rule used, spelled out.
    pub method: String,
    /// Plateau level of the signal (median of the middle half of the window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plateau_level: Option<f64>,
    /// Samples inside the span that dipped below the threshold.
    pub dips: usize,
    /// True when the span has too many dips to call the load steady.
    pub unsteady: bool,
    /// Why nothing was detected, or what was trimmed.
    pub summary: String,
}

impl SteadyState {
    /// Whether the steady span is meaningfully shorter than the window (something was trimmed).
    pub fn trims(&self, window_start_s: f64, window_end_s: f64) -> bool {
        self.detected && (self.start_s > window_start_s + 1e-9 || self.end_s < window_end_s - 1e-9)
    }
}

/// Detects the steady span of `points` (`[t_s, value]`, ascending, absolute epoch seconds) in the
/// window `[start_s, end_s]`; each point's value covers the `interval_s` before it.
pub fn detect(
    points: &[[f64; 2]],
    start_s: f64,
    end_s: f64,
    interval_s: f64,
    signal: &str,
) -> SteadyState {
    let method = format!(
        "span from the first to the last scrape whose workload mean of {signal} reaches {:.0} % of its plateau (median of the middle half of the window)",
        STEADY_THRESHOLD_OF_PLATEAU * 100.0
    );
    let not_detected = |summary: String| SteadyState {
        detected: false,
        start_s,
        end_s,
        signal: signal.to_string(),
        method: method.clone(),
        plateau_level: None,
        dips: 0,
        unsteady: false,
        summary,
    };
    let inside: Vec<[f64; 2]> = points
        .iter()
        .copied()
        .filter(|p| p[0] > start_s && p[0] <= end_s + interval_s * 0.5)
        .collect();
    if inside.len() < MIN_SAMPLES {
        return not_detected(format!(
            "only {} samples of {signal} in the window (need {MIN_SAMPLES})",
            inside.len()
        ));
    }
    let quarter = (end_s - start_s) / 4.0;
    let mut middle: Vec<f64> = inside
        .iter()
        .filter(|p| p[0] >= start_s + quarter && p[0] <= end_s - quarter)
        .map(|p| p[1])
        .collect();
    if middle.is_empty() {
        return not_detected(format!(
            "no samples of {signal} in the middle half of the window"
        ));
    }
    middle.sort_by(f64::total_cmp);
    let plateau = middle[middle.len() / 2];
    if plateau <= 0.0 {
        return not_detected(format!(
            "{signal} is idle over the middle of the window: no plateau"
        ));
    }
    let threshold = STEADY_THRESHOLD_OF_PLATEAU * plateau;
    let (Some(first), Some(last)) = (
        inside.iter().position(|p| p[1] >= threshold),
        inside.iter().rposition(|p| p[1] >= threshold),
    ) else {
        return not_detected(format!("no sample of {signal} reaches the threshold"));
    };
    let span_start_s = (inside[first][0] - interval_s).max(start_s);
    let span_end_s = inside[last][0].min(end_s);
    let dips = inside[first..=last]
        .iter()
        .filter(|p| p[1] < threshold)
        .count();
    let span_samples = last - first + 1;
    let unsteady = dips as f64 > MAX_DIP_SHARE * span_samples as f64;
    let trimmed_s = (span_start_s - start_s) + (end_s - span_end_s);
    let summary = if trimmed_s <= 1e-9 {
        "steady over the whole window".to_string()
    } else {
        format!(
            "ramp-up {:.0} s and drain {:.0} s trimmed; {dips} of {span_samples} samples in the span dip below the threshold",
            span_start_s - start_s,
            end_s - span_end_s
        )
    };
    SteadyState {
        detected: true,
        start_s: span_start_s,
        end_s: span_end_s,
        signal: signal.to_string(),
        method,
        plateau_level: Some(plateau),
        dips,
        unsteady,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(values: &[f64], t0: f64, step: f64) -> Vec<[f64; 2]> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| [t0 + step * (i as f64 + 1.0), *v])
            .collect()
    }

    #[test]
    fn trims_ramp_and_drain() {
        // Window [0, 60], 5 s scrapes at 5..60. A linear 15 s ramp sampled as interval averages:
        // (0,5] → 1/6, (5,10] → 1/2, (10,15] → 5/6 of the plateau 0.6 (0.1, 0.3, 0.5); then
        // plateau 0.6 up to t=50; a 10 s drain: (50,55] → 0.45, (55,60] → 0.15.
        // Threshold 0.85 × 0.6 = 0.51: first sample ≥ 0.51 is t=20 → span starts 15;
        // last is t=50 → span ends 50.
        let pts = points(
            &[0.1, 0.3, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.45, 0.15],
            0.0,
            5.0,
        );
        let steady = detect(&pts, 0.0, 60.0, 5.0, "DramActive");
        assert!(steady.detected);
        assert_eq!((steady.start_s, steady.end_s), (15.0, 50.0));
        assert_eq!(steady.plateau_level, Some(0.6));
        assert!(!steady.unsteady);
        assert!(steady.trims(0.0, 60.0));
    }

    #[test]
    fn flat_load_is_steady_over_the_whole_window() {
        let pts = points(&[0.5; 12], 0.0, 5.0);
        let steady = detect(&pts, 0.0, 60.0, 5.0, "DramActive");
        assert_eq!((steady.start_s, steady.end_s), (0.0, 60.0));
        assert!(!steady.trims(0.0, 60.0));
        assert_eq!(steady.summary, "steady over the whole window");
    }

    #[test]
    fn too_few_samples_or_idle_detects_nothing() {
        let few = detect(&points(&[0.5; 3], 0.0, 20.0), 0.0, 60.0, 20.0, "DramActive");
        assert!(!few.detected);
        assert!(few.summary.contains("only 3 samples"));
        let idle = detect(&points(&[0.0; 12], 0.0, 5.0), 0.0, 60.0, 5.0, "DramActive");
        assert!(!idle.detected);
    }

    #[test]
    fn bursty_load_is_flagged_unsteady() {
        // Alternating 0.6 / 0.2: median of the middle half is 0.6 (upper middle of 6 values
        // 0.2,0.2,0.2,0.6,0.6,0.6 → index 3 → 0.6); threshold 0.51; span t=5..55 holds 11
        // samples of which 5 are 0.2 → 5 > 0.2 × 11 = 2.2 → unsteady.
        let pts = points(
            &[0.6, 0.2, 0.6, 0.2, 0.6, 0.2, 0.6, 0.2, 0.6, 0.2, 0.6, 0.2],
            0.0,
            5.0,
        );
        let steady = detect(&pts, 0.0, 60.0, 5.0, "DramActive");
        assert!(steady.unsteady);
        assert_eq!(steady.dips, 5);
    }
}
