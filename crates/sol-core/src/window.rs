//! The measurement window of one benchmark cell, with where it came from and how far to trust it.

use serde::{Deserialize, Serialize};

/// How the window's bounds were obtained (reference/bench-formats.md §0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowConfidence {
    /// Absolute start and end written by the tool, sub-second resolution.
    Exact,
    /// One wall-clock anchor plus a duration; ±1 s or worse, timezone assumed.
    Derived,
    /// No absolute time in the bench file: given on the command line, by a wrapper or a file mtime.
    External,
}

/// One cell's measurement window in epoch seconds, with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Start of the measured span (epoch seconds, UTC).
    pub start_s: f64,
    /// End of the measured span (epoch seconds, UTC).
    pub end_s: f64,
    /// Which file and fields (or flags) gave the bounds, e.g.
    /// `inference_perfbench_v1.json: .bench.captured_at + .bench.duration_effective_s`.
    pub source: String,
    /// How far the bounds can be trusted.
    pub confidence: WindowConfidence,
    /// Timezone assumed for a naive local time string, when one was involved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone_assumption: Option<String>,
    /// Resolution of the anchor the bounds came from, in seconds (e.g. 1 for vLLM's `date`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_s: Option<f64>,
    /// The whole run including warm-up and drain, when the tool records it separately
    /// (GuideLLM request span); energy per token uses it when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_span_s: Option<[f64; 2]>,
}

impl Window {
    /// Length of the window in seconds.
    pub fn duration_s(&self) -> f64 {
        self.end_s - self.start_s
    }
}
/// Clock skew tolerated before a window counts as being in the future, s.
const FUTURE_TOLERANCE_S: f64 = 3600.0;

/// The warning for a window that ends after `now_s` (the reading machine's clock): a wrong clock
/// where the data was captured, a wrong timezone or a hand edit — the numbers cannot be trusted
/// to describe a run that happened.
pub fn future_window_warning(end_s: f64, now_s: f64) -> Option<String> {
    (end_s > now_s + FUTURE_TOLERANCE_S).then(|| {
        format!(
            "FUTURE WINDOW: the window ends at {}, in the future of this machine's clock ({}): the capturing machine's clock or timezone is wrong, or the window was edited",
            crate::time::format_utc_seconds(end_s),
            crate::time::format_utc_seconds(now_s)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_ending_over_an_hour_ahead_of_the_clock_is_flagged() {
        // Clock at 2026-11-28T00:00:00Z = 1795824000 s.
        let now = 1_795_824_000.0;
        assert_eq!(future_window_warning(now + 3600.0, now), None);
        let warning = future_window_warning(now + 3601.0, now).unwrap();
        assert!(
            warning.starts_with("FUTURE WINDOW: the window ends at 2026-11-28T01:00:01Z"),
            "{warning}"
        );
    }
}
