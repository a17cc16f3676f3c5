//! Parse errors that name the line and show what was on it.

use crate::time::TimeError;

/// Longest excerpt of the offending line kept in an error, in characters.
const EXCERPT_MAX_CHARS: usize = 120;

/// What is wrong with a line of exposition text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScrapeErrorKind {
    /// The metric name is empty or has characters outside `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    #[error("bad metric name (expected [a-zA-Z_:][a-zA-Z0-9_:]* before the labels or value)")]
    BadMetricName,
    /// A label name is empty or has characters outside `[a-zA-Z_][a-zA-Z0-9_]*`.
    #[error("bad label name (expected [a-zA-Z_][a-zA-Z0-9_]*)")]
    BadLabelName,
    /// One label set names the same label twice.
    #[error("label `{0}` appears twice in one label set")]
    DuplicateLabelName(String),
    /// The `{...}` label set is not `name="value"` pairs separated by commas.
    #[error("malformed label set: expected {0}")]
    MalformedLabelSet(&'static str),
    /// A quoted label value runs to the end of the line.
    #[error("unterminated label value")]
    UnterminatedLabelValue,
    /// A backslash in a label value is followed by something other than `\`, `"` or `n`.
    #[error("invalid escape `\\{0}` in a label value (only \\\\, \\\" and \\n are allowed)")]
    InvalidEscape(char),
    /// A sample line ends before its value.
    #[error("missing sample value")]
    MissingValue,
    /// The value is not a number, `NaN`, `+Inf` or `-Inf`.
    #[error("bad sample value (expected a number, NaN, +Inf or -Inf)")]
    BadValue,
    /// The timestamp is not a number.
    #[error("bad timestamp (expected a number)")]
    BadTimestamp,
    /// Something other than an exemplar (` # ...`) follows the timestamp.
    #[error("unexpected text after the timestamp (only an exemplar after ` # ` may follow)")]
    TrailingText,
    /// After unit conversion the timestamp is not a plausible epoch in seconds.
    #[error("implausible timestamp: {0}")]
    ImplausibleTimestamp(TimeError),
    /// A file without `# EOF` (Prometheus text, milliseconds) carries second-looking stamps.
    #[error("timestamps look like seconds: an OpenMetrics file must end with `# EOF`")]
    SecondsWithoutEof,
    /// A file ending with `# EOF` (OpenMetrics, seconds) carries millisecond-looking stamps.
    #[error(
        "timestamp looks like milliseconds: a file ending with `# EOF` is OpenMetrics, whose timestamps are epoch seconds"
    )]
    MillisecondsInOpenMetrics,
    /// The series already has a different value at this timestamp (the previous sample).
    #[error(
        "duplicate timestamp: the series already has the value {0} at this time; one of the two is wrong — keep one sample per series and time"
    )]
    DuplicateTimestamp(f64),
    /// A non-blank line follows the `# EOF` marker.
    #[error("content after `# EOF` (the marker must be the last line)")]
    ContentAfterEof,
}

/// A parse failure: the 1-based line, what is wrong and the start of the line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {kind} in: {excerpt}")]
pub struct ScrapeError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub kind: ScrapeErrorKind,
    /// The offending line, cut to about 120 characters (`…` marks the cut).
    pub excerpt: String,
}

impl ScrapeError {
    /// Builds the error for `kind` on line `line` whose text is `line_text`.
    pub(super) fn at(line: usize, kind: ScrapeErrorKind, line_text: &str) -> ScrapeError {
        let excerpt = match line_text.char_indices().nth(EXCERPT_MAX_CHARS) {
            Some((cut, _)) => format!("{}…", &line_text[..cut]),
            None => line_text.to_string(),
        };
        ScrapeError {
            line,
            kind,
            excerpt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_line_kind_and_excerpt() {
        let error = ScrapeError::at(
            12,
            ScrapeErrorKind::UnterminatedLabelValue,
            "DCGM_FI_PROF_DRAM_ACTIVE{gpu=\"0",
        );
        assert_eq!(
            error.to_string(),
            "line 12: unterminated label value in: DCGM_FI_PROF_DRAM_ACTIVE{gpu=\"0"
        );
    }

    #[test]
    fn long_lines_are_cut_at_120_characters_on_a_char_boundary() {
        // 119 ASCII letters then 'é' (2 bytes) at char index 119, then 10 more: 130 chars.
        let line = format!("{}é{}", "a".repeat(119), "b".repeat(10));
        let error = ScrapeError::at(1, ScrapeErrorKind::BadValue, &line);
        assert_eq!(error.excerpt, format!("{}é…", "a".repeat(119)));
        assert_eq!(error.excerpt.chars().count(), 121);
        let short = ScrapeError::at(1, ScrapeErrorKind::BadValue, "m x");
        assert_eq!(short.excerpt, "m x");
    }
}
