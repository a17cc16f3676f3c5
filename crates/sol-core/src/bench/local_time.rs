//! Naive local wall-clock times (vLLM's `date`, offset-less ISO strings) turned into epoch
//! seconds in the timezone the caller resolved, with the assumption written down.

use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};

use crate::time::{TimeError, check_epoch_seconds, parse_instant, timestamp_to_epoch_s};

use super::BenchError;
use super::json_fields::Field;

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

/// A wall-clock time read from a bench field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WallClock {
    /// Epoch seconds.
    pub epoch_s: f64,
    /// The timezone assumed, when the field held a naive local time.
    pub timezone_assumption: Option<String>,
    /// Why the reading may be off (see [`LocalInstant::notes`]).
    pub notes: Vec<String>,
}

/// Reads epoch seconds (a number or numeric string), an RFC 3339 time with its offset, or a
/// naive local ISO time read in `timezone` (UTC, recorded as an assumption, when `None`).
/// Values before 2001 are monotonic readings or placeholder dates, never a window bound.
pub(crate) fn read_wall_clock(
    field: &Field,
    timezone: Option<&TimeZone>,
) -> Result<WallClock, BenchError> {
    let exact = |epoch_s| WallClock {
        epoch_s,
        timezone_assumption: None,
        notes: Vec::new(),
    };
    let Some(text) = field.value().as_str() else {
        return Ok(exact(field.epoch_s()?));
    };
    match parse_instant(text) {
        Ok(epoch_s) => check_epoch_seconds(epoch_s)
            .map(exact)
            .map_err(|problem| field.bad_time(problem)),
        Err(TimeError::Unparseable(_)) => {
            let local: DateTime = text
                .trim()
                .parse()
                .map_err(|_| field.bad_time(TimeError::Unparseable(text.to_string())))?;
            let instant =
                resolve_local_time(local, timezone).map_err(|problem| field.bad_time(problem))?;
            Ok(WallClock {
                epoch_s: instant.epoch_s,
                timezone_assumption: Some(instant.timezone_assumption),
                notes: instant.notes,
            })
        }
        Err(problem) => Err(field.bad_time(problem)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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

    #[test]
    fn wall_clock_fields_take_every_spelling() {
        let doc = json!({
            "offset": "2025-11-05T18:00:42Z", "naive": "2025-11-07T13:38:54.793124",
            "number": 1_789_148_187, "text": "1789148187", "epoch_1970": "1970-01-01T00:00:05Z",
            "monotonic": 353_399.7, "garbage": "soon",
        });
        let root = Field::root("f.json", &doc);
        let read = |key, timezone| read_wall_clock(&root.get(key).unwrap(), timezone);
        // 2025-11-05T00:00Z is 20397 days × 86400 = 1_762_300_800; + 18 h 0 min 42 s = 64_842 s.
        assert_eq!(read("offset", None).unwrap().epoch_s, 1_762_365_642.0);
        assert_eq!(read("offset", None).unwrap().timezone_assumption, None);
        // 2025-11-07T13:38:54.793124 read in UTC+01: 2 days after 2025-11-05 (+172_800 s), 13 h
        // 38 min 54.793124 s (49_134.793124 s), minus the 3600 s offset.
        let plus_one = TimeZone::fixed(jiff::tz::offset(1));
        let naive = read("naive", Some(&plus_one)).unwrap();
        assert!(
            (naive.epoch_s - (1_762_300_800.0 + 172_800.0 + 49_134.793_124 - 3600.0)).abs() < 1e-6
        );
        assert_eq!(naive.timezone_assumption.as_deref(), Some("UTC+01"));
        assert_eq!(read("number", None).unwrap().epoch_s, 1_789_148_187.0);
        assert_eq!(read("text", None).unwrap().epoch_s, 1_789_148_187.0);
        // The 1970 dates inference-perf once built from monotonic stamps are refused.
        assert!(matches!(
            read("epoch_1970", None),
            Err(BenchError::BadTime {
                problem: TimeError::NotAnEpoch(_),
                ..
            })
        ));
        assert!(matches!(
            read("monotonic", None),
            Err(BenchError::BadTime {
                problem: TimeError::NotAnEpoch(_),
                ..
            })
        ));
        assert!(matches!(
            read("garbage", None),
            Err(BenchError::BadTime {
                problem: TimeError::Unparseable(_),
                ..
            })
        ));
    }
}
