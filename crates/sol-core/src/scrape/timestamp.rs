//! Sample timestamps: the dialect fixes the unit, and a stamp in the other unit is refused with a
//! message saying which dialect the file should have been.

use super::ExpositionFormat;
use super::error::ScrapeErrorKind;
use crate::time::{MIN_PLAUSIBLE_EPOCH_S, check_epoch_seconds};

/// Above this a "seconds" stamp is taken for milliseconds (1e11 s is the year 5138; epoch
/// milliseconds since 1973 are all larger).
const MAX_SECONDS_LOOKING_STAMP: f64 = 1.0e11;

/// Converts a timestamp as written to epoch seconds and checks that it is a plausible epoch.
pub(super) fn epoch_seconds(
    raw_timestamp: f64,
    format: ExpositionFormat,
) -> Result<f64, ScrapeErrorKind> {
    let seconds = match format {
        ExpositionFormat::OpenMetrics => {
            if raw_timestamp.is_finite() && raw_timestamp > MAX_SECONDS_LOOKING_STAMP {
                return Err(ScrapeErrorKind::MillisecondsInOpenMetrics);
            }
            raw_timestamp
        }
        ExpositionFormat::PrometheusText => {
            let seconds = raw_timestamp / 1000.0;
            if seconds < MIN_PLAUSIBLE_EPOCH_S && check_epoch_seconds(raw_timestamp).is_ok() {
                return Err(ScrapeErrorKind::SecondsWithoutEof);
            }
            seconds
        }
    };
    check_epoch_seconds(seconds).map_err(ScrapeErrorKind::ImplausibleTimestamp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::TimeError;
    use ExpositionFormat::{OpenMetrics, PrometheusText};

    #[test]
    fn openmetrics_is_seconds_and_prometheus_text_is_milliseconds() {
        assert_eq!(
            epoch_seconds(1_793_231_941.25, OpenMetrics),
            Ok(1_793_231_941.25)
        );
        // 1793231941250 ms / 1000 = 1793231941.25 s.
        assert_eq!(
            epoch_seconds(1_793_231_941_250.0, PrometheusText),
            Ok(1_793_231_941.25)
        );
    }

    #[test]
    fn a_stamp_in_the_other_unit_names_the_dialect() {
        assert_eq!(
            epoch_seconds(1_793_231_941_000.0, OpenMetrics),
            Err(ScrapeErrorKind::MillisecondsInOpenMetrics)
        );
        assert_eq!(
            epoch_seconds(1_793_231_941.0, PrometheusText),
            Err(ScrapeErrorKind::SecondsWithoutEof)
        );
    }

    #[test]
    fn implausible_epochs_are_refused_in_either_unit() {
        // A monotonic clock reading: 353399.7 s, or 353399.7 ms = 353.3997 s.
        assert_eq!(
            epoch_seconds(353_399.7, OpenMetrics),
            Err(ScrapeErrorKind::ImplausibleTimestamp(
                TimeError::NotAnEpoch(353_399.7)
            ))
        );
        assert!(matches!(
            epoch_seconds(353_399.7, PrometheusText),
            Err(ScrapeErrorKind::ImplausibleTimestamp(
                TimeError::NotAnEpoch(_)
            ))
        ));
        assert!(matches!(
            epoch_seconds(f64::NAN, OpenMetrics),
            Err(ScrapeErrorKind::ImplausibleTimestamp(
                TimeError::OutOfRange(_)
            ))
        ));
        assert!(matches!(
            epoch_seconds(f64::INFINITY, OpenMetrics),
            Err(ScrapeErrorKind::ImplausibleTimestamp(
                TimeError::OutOfRange(_)
            ))
        ));
        assert!(matches!(
            epoch_seconds(f64::INFINITY, PrometheusText),
            Err(ScrapeErrorKind::ImplausibleTimestamp(
                TimeError::OutOfRange(_)
            ))
        ));
    }
}
