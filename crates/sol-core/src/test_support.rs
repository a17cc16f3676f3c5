//! Builders shared by the unit tests.

use crate::window::{Window, WindowConfidence};

/// An exact window `[start_s, end_s]` with no other provenance.
pub fn window(start_s: f64, end_s: f64) -> Window {
    Window {
        start_s,
        end_s,
        source: "test".into(),
        confidence: WindowConfidence::Exact,
        timezone_assumption: None,
        resolution_s: None,
        full_span_s: None,
    }
}
