//! Raw time series as a metric source delivers them.

use serde::{Deserialize, Serialize};

use crate::labels::Labels;

/// One sample: the value stored at an instant (epoch seconds). For DCGM PROF fields the value is
/// the average over the interval *preceding* `t_s`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Timestamp, epoch seconds.
    pub t_s: f64,
    /// Value as stored (in the unit of the metric name it came under).
    pub value: f64,
}

/// One series: a metric name, its full label set and its samples in ascending time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawSeries {
    /// Metric name as stored (`DCGM_FI_PROF_DRAM_ACTIVE`, …).
    pub metric: String,
    /// All labels except `__name__`.
    pub labels: Labels,
    /// Samples in ascending time.
    pub samples: Vec<Sample>,
}

/// The part of ascending `samples` timed in `(after_s, until_s]`.
pub fn samples_between(samples: &[Sample], after_s: f64, until_s: f64) -> &[Sample] {
    let first = samples.partition_point(|s| s.t_s <= after_s);
    let last = samples.partition_point(|s| s.t_s <= until_s);
    &samples[first..last.max(first)]
}
