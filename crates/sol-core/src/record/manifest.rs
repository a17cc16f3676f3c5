//! `dcgm-record.json`: what `record` ran and when — the wrapped command's exact window (epoch
//! seconds read from this machine's clock just before it started and just after it ended), the
//! exporters, the interval, how many scrapes succeeded and every gap.

use serde::{Deserialize, Serialize};

use crate::time::format_utc_millis;
use crate::window::{Window, WindowConfidence};

/// Schema tag of the manifest.
pub const MANIFEST_SCHEMA: &str = "dcgm_record_v1";

/// An exporter that did not answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordGap {
    /// Exporter URL.
    pub exporter: String,
    /// When the scrape was attempted, epoch seconds.
    pub at_s: f64,
    /// Why it failed.
    pub error: String,
}

/// The record manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordManifest {
    /// [`MANIFEST_SCHEMA`].
    pub schema: String,
    /// The wrapped command and its arguments.
    pub command: Vec<String>,
    /// Exporter URLs scraped.
    pub exporters: Vec<String>,
    /// Scrape interval asked for, s.
    pub interval_s: f64,
    /// Just before the command was started, epoch seconds.
    pub started_s: f64,
    /// Just after it ended, epoch seconds.
    pub ended_s: f64,
    /// Its exit code (`None` when a signal ended it).
    pub exit_code: Option<i32>,
    /// The signal that ended it, if any.
    pub signal: Option<i32>,
    /// Scrapes that returned a body.
    pub scrapes: usize,
    /// Scrapes that did not.
    pub gaps: Vec<RecordGap>,
    /// Journal lines that could not be read back.
    pub journal_damage: Vec<String>,
}

impl RecordManifest {
    /// The command's run as a measurement window: exact, from this machine's clock.
    pub fn window(&self) -> Window {
        Window {
            start_s: self.started_s,
            end_s: self.ended_s,
            source: format!(
                "dcgm-sol record: `{}` ran {} → {} (this machine's clock)",
                self.command.join(" "),
                format_utc_millis(self.started_s),
                format_utc_millis(self.ended_s)
            ),
            confidence: WindowConfidence::Exact,
            timezone_assumption: None,
            resolution_s: None,
            full_span_s: None,
        }
    }
}
