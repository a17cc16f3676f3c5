//! Wall-clock instants as epoch seconds (`f64`), parsed from and printed as RFC 3339 UTC.
//!
//! The maths works on plain epoch seconds because sample timestamps arrive that way from every
//! source; `jiff` does the calendar work at the boundary.

use jiff::Timestamp;

/// Smallest number accepted as an epoch in seconds (2001-09-09). Benchmark tools also write
/// monotonic clock readings (`perf_counter`), which are far smaller; they are never an epoch.
pub const MIN_PLAUSIBLE_EPOCH_S: f64 = 1.0e9;

/// Why a time value could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TimeError {
    /// Neither RFC 3339 nor a number of epoch seconds.
    #[error("`{0}` is not an RFC 3339 time (2026-11-28T10:00:00Z) or epoch seconds")]
    Unparseable(String),
    /// A number too small to be an epoch: probably a monotonic clock reading.
    #[error("{0} is not an epoch time in seconds (values below 1e9 are monotonic clock readings)")]
    NotAnEpoch(f64),
    /// NaN, infinite or beyond the calendar range.
    #[error("{0} is out of the representable time range")]
    OutOfRange(f64),
}

/// Parses RFC 3339 (`2026-11-28T10:00:00Z`, any offset) or epoch seconds (`1795000000.25`).
pub fn parse_instant(text: &str) -> Result<f64, TimeError> {
    let trimmed = text.trim();
    if let Ok(seconds) = trimmed.parse::<f64>() {
        return check_epoch_seconds(seconds);
    }
    let ts: Timestamp = trimmed
        .parse()
        .map_err(|_| TimeError::Unparseable(trimmed.to_string()))?;
    Ok(timestamp_to_epoch_s(ts))
}

/// Accepts a number as epoch seconds only when it is finite and plausibly an epoch.
pub fn check_epoch_seconds(seconds: f64) -> Result<f64, TimeError> {
    if !seconds.is_finite() || seconds > 253_402_300_799.0 {
        return Err(TimeError::OutOfRange(seconds));
    }
    if seconds < MIN_PLAUSIBLE_EPOCH_S {
        return Err(TimeError::NotAnEpoch(seconds));
    }
    Ok(seconds)
}

/// Converts a `jiff` timestamp to epoch seconds with nanosecond precision kept as far as f64 allows.
pub fn timestamp_to_epoch_s(ts: Timestamp) -> f64 {
    ts.as_second() as f64 + f64::from(ts.subsec_nanosecond()) * 1e-9
}

fn epoch_s_to_timestamp(epoch_s: f64) -> Timestamp {
    let whole = epoch_s.floor();
    let nanos = ((epoch_s - whole) * 1e9).round() as i32;
    let (whole, nanos) = if nanos >= 1_000_000_000 {
        (whole + 1.0, 0)
    } else {
        (whole, nanos)
    };
    Timestamp::new(whole as i64, nanos).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// `2026-11-28T10:00:00Z`: whole seconds, truncated — the seed's `sweep_*_utc` format.
pub fn format_utc_seconds(epoch_s: f64) -> String {
    epoch_s_to_timestamp(epoch_s.floor())
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// `2026-11-28T10:00:00.250Z`: millisecond precision, for windows and provenance.
pub fn format_utc_millis(epoch_s: f64) -> String {
    let millis = (epoch_s * 1000.0).round() / 1000.0;
    epoch_s_to_timestamp(millis)
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339_with_offset_and_epoch_seconds() {
        // 2026-11-28T10:00:00+01:00 is 09:00:00Z; 2026-11-28T00:00:00Z = 1795824000 (20420 days).
        assert_eq!(
            parse_instant("2026-11-28T00:00:00Z").unwrap(),
            1_795_824_000.0
        );
        assert_eq!(
            parse_instant("2026-11-28T10:00:00+01:00").unwrap(),
            1_795_824_000.0 + 9.0 * 3600.0
        );
        assert_eq!(parse_instant(" 1795824000.5 ").unwrap(), 1_795_824_000.5);
    }

    #[test]
    fn refuses_monotonic_readings_and_garbage() {
        assert_eq!(
            parse_instant("353399.7"),
            Err(TimeError::NotAnEpoch(353_399.7))
        );
        assert!(matches!(
            parse_instant("yesterday"),
            Err(TimeError::Unparseable(_))
        ));
        assert!(matches!(
            check_epoch_seconds(f64::NAN),
            Err(TimeError::OutOfRange(_))
        ));
    }

    #[test]
    fn formats_utc() {
        assert_eq!(format_utc_seconds(1_795_824_000.9), "2026-11-28T00:00:00Z");
        assert_eq!(
            format_utc_millis(1_795_824_000.25),
            "2026-11-28T00:00:00.250Z"
        );
    }
}
