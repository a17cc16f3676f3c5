//! Naive local wall-clock times (vLLM's `date`, offset-less ISO strings) turned into epoch
//! seconds in the timezone the caller resolved, with the assumption written down.

use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};

use crate::time::{TimeError, check_epoch_seconds, timestamp_to_epoch_s};

/// What [`Window::timezone_assumption`](crate::window::Window::timezone_assumption) says when
/// the caller gave no timezone.
const NO_TIMEZONE_ASSUMPTION: &str = "UTC (no timezone given)";

/// A naive local time placed on the UTC timeline.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LocalInstant {
    /// Epoch seconds.
    pub epoch_s: f64,
    /// The timezone used, for the window's `timezone_assumption`.
    pub timezone_assumption: String,
    /// Why the reading may be off (no timezone given, DST gap or fold).
    pub notes: Vec<String>,
}

/// Interprets `local` in `timezone`, or in UTC (recorded as an assumption) when none is given.
pub(crate) fn resolve_local_time(
    local: DateTime,
    timezone: Option<&TimeZone>,
) -> Result<LocalInstant, TimeError> {
    let mut notes = Vec::new();
    let (timezone, given) = match timezone {
        Some(timezone) => (timezone.clone(), true),
        None => {
            notes.push(format!(
                "naive local time {local} read as UTC because no timezone was given; \
                 pass the bench client's timezone if it was not UTC"
            ));
            (TimeZone::UTC, false)
        }
    };
    let ambiguous = timezone.to_ambiguous_timestamp(local);
    match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { .. } => {}
        AmbiguousOffset::Gap { .. } => notes.push(format!(
            "{local} does not exist in this timezone (clocks skipped it); read with the offset \
             from before the change"
        )),
        AmbiguousOffset::Fold { .. } => notes.push(format!(
            "{local} occurs twice in this timezone (clocks went back); the earlier one was used"
        )),
    }
    let timestamp = ambiguous
        .compatible()
        .map_err(|_| TimeError::Unparseable(local.to_string()))?;
    let epoch_s = check_epoch_seconds(timestamp_to_epoch_s(timestamp))?;
    let timezone_assumption = match (given, timezone.iana_name()) {
        (false, _) => NO_TIMEZONE_ASSUMPTION.to_string(),
        (true, Some(name)) => name.to_string(),
        (true, None) => format!("UTC{}", timezone.to_offset(timestamp)),
    };
    Ok(LocalInstant {
        epoch_s,
        timezone_assumption,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(text: &str) -> DateTime {
        text.parse().unwrap()
    }

    #[test]
    fn no_timezone_means_utc_and_says_so() {
        // 2025-05-30T20:39:16Z: 20238 days × 86400 = 1_748_563_200, + 20 h 39 min 16 s (74_356 s).
        let instant = resolve_local_time(local("2025-05-30T20:39:16"), None).unwrap();
        assert_eq!(instant.epoch_s, 1_748_637_556.0);
        assert_eq!(instant.timezone_assumption, "UTC (no timezone given)");
        assert_eq!(instant.notes.len(), 1);
    }

    #[test]
    fn named_timezone_applies_its_offset() {
        // New York is on EDT (UTC−4) on 2025-05-30: 20:39:16 local = 00:39:16Z next day.
        let new_york = TimeZone::get("America/New_York").unwrap();
        let instant = resolve_local_time(local("2025-05-30T20:39:16"), Some(&new_york)).unwrap();
        assert_eq!(instant.epoch_s, 1_748_637_556.0 + 4.0 * 3600.0);
        assert_eq!(instant.timezone_assumption, "America/New_York");
        assert!(instant.notes.is_empty());
    }

    #[test]
    fn explicit_utc_is_not_an_assumption() {
        let instant =
            resolve_local_time(local("2025-05-30T20:39:16"), Some(&TimeZone::UTC)).unwrap();
        assert_eq!(instant.timezone_assumption, "UTC");
        assert!(instant.notes.is_empty());
    }

    #[test]
    fn fixed_offset_is_named_by_its_offset() {
        let plus_two = TimeZone::fixed(jiff::tz::offset(2));
        let instant = resolve_local_time(local("2025-05-30T20:39:16"), Some(&plus_two)).unwrap();
        assert_eq!(instant.epoch_s, 1_748_637_556.0 - 2.0 * 3600.0);
        assert_eq!(instant.timezone_assumption, "UTC+02");
    }

    #[test]
    fn dst_fold_takes_the_earlier_instant_with_a_note() {
        // 2025-11-02 01:30 happens twice in New York: first at EDT (05:30Z), then at EST (06:30Z).
        // 2025-11-02T00:00Z = 20394 days × 86400 = 1_762_041_600; + 5.5 h = 1_762_061_400.
        let new_york = TimeZone::get("America/New_York").unwrap();
        let instant = resolve_local_time(local("2025-11-02T01:30:00"), Some(&new_york)).unwrap();
        assert_eq!(instant.epoch_s, 1_762_061_400.0);
        assert_eq!(instant.notes.len(), 1);
    }

    #[test]
    fn pre_epoch_dates_are_refused() {
        assert!(matches!(
            resolve_local_time(local("1990-01-01T00:00:00"), None),
            Err(TimeError::NotAnEpoch(_))
        ));
    }
}
