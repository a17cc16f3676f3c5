//! One line of exposition text, classified and cut into borrowed pieces without allocating.

use super::error::ScrapeErrorKind;
use super::label_set::{scan_label_set, skip_blanks};

/// What one line holds.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Line<'a> {
    /// Empty or only blanks.
    Blank,
    /// `# TYPE <metric> <type>`.
    Type {
        /// Metric family name.
        metric: &'a str,
        /// Declared type (`gauge`, `counter`, …), as written.
        kind: &'a str,
    },
    /// The OpenMetrics end marker `# EOF`.
    Eof,
    /// Any other comment: `# HELP`, `# UNIT`, free text.
    Comment,
    /// A sample.
    Sample(SampleLine<'a>),
}

/// A sample line cut into its parts.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SampleLine<'a> {
    /// Metric name.
    pub metric: &'a str,
    /// The label set as written, braces included (`{gpu="0"}`); empty when there are no braces.
    /// Validated, still escaped: the interning key for the series.
    pub raw_labels: &'a str,
    /// Sample value.
    pub value: f64,
    /// Timestamp as written, in the file's unit (seconds or milliseconds); `None` when absent.
    pub raw_timestamp: Option<f64>,
}

/// Whether a line (without its line ending) is the OpenMetrics end marker.
pub(super) fn is_eof_marker(line: &str) -> bool {
    line.trim() == "# EOF"
}

/// Classifies one line (without `\n` or `\r`) and cuts a sample line into its parts.
pub(super) fn parse_line(line: &str) -> Result<Line<'_>, ScrapeErrorKind> {
    let start = skip_blanks(line.as_bytes(), 0);
    match line.as_bytes().get(start) {
        None => Ok(Line::Blank),
        Some(b'#') => Ok(parse_comment(line)),
        Some(_) => parse_sample(&line[start..]).map(Line::Sample),
    }
}

/// `# TYPE name type` is kept (for information), `# EOF` ends the file, the rest is ignored.
fn parse_comment(line: &str) -> Line<'_> {
    if is_eof_marker(line) {
        return Line::Eof;
    }
    let mut words = line.trim_start().split_ascii_whitespace();
    match (words.next(), words.next(), words.next(), words.next()) {
        (Some("#"), Some("TYPE"), Some(metric), Some(kind)) => Line::Type { metric, kind },
        _ => Line::Comment,
    }
}

/// `name[{labels}] value [timestamp] [# exemplar]`, starting at the metric name.
fn parse_sample(text: &str) -> Result<SampleLine<'_>, ScrapeErrorKind> {
    let bytes = text.as_bytes();
    let name_end = bytes
        .iter()
        .position(|&b| !is_metric_name_byte(b))
        .unwrap_or(bytes.len());
    let metric = &text[..name_end];
    if !metric
        .bytes()
        .next()
        .is_some_and(|b| is_metric_name_byte(b) && !b.is_ascii_digit())
    {
        return Err(ScrapeErrorKind::BadMetricName);
    }
    let (raw_labels, after_labels) = match bytes.get(name_end) {
        Some(b'{') => {
            let set_len = scan_label_set(&text[name_end..], |_, _| Ok(()))?;
            let labels_end = name_end + set_len;
            (&text[name_end..labels_end], labels_end)
        }
        None | Some(b' ' | b'\t') => ("", name_end),
        Some(_) => return Err(ScrapeErrorKind::BadMetricName),
    };

    let mut tokens = Tokens {
        text,
        pos: after_labels,
    };
    let value = match tokens.next() {
        None => return Err(ScrapeErrorKind::MissingValue),
        Some(token) => token.parse().map_err(|_| ScrapeErrorKind::BadValue)?,
    };
    let raw_timestamp = match tokens.next() {
        None => None,
        Some(token) => Some(token.parse().map_err(|_| ScrapeErrorKind::BadTimestamp)?),
    };
    if raw_timestamp.is_some() && tokens.next().is_some() {
        return Err(ScrapeErrorKind::TrailingText);
    }
    Ok(SampleLine {
        metric,
        raw_labels,
        value,
        raw_timestamp,
    })
}

/// Blank-separated tokens up to the end of the line or an exemplar (a token starting with `#`).
struct Tokens<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let bytes = self.text.as_bytes();
        let start = skip_blanks(bytes, self.pos);
        if matches!(bytes.get(start), None | Some(b'#')) {
            self.pos = bytes.len();
            return None;
        }
        let end = start
            + bytes[start..]
                .iter()
                .position(|&b| matches!(b, b' ' | b'\t'))
                .unwrap_or(bytes.len() - start);
        self.pos = end;
        Some(&self.text[start..end])
    }
}

/// `[a-zA-Z0-9_:]`; a name must not start with a digit.
fn is_metric_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(line: &str) -> SampleLine<'_> {
        match parse_line(line) {
            Ok(Line::Sample(sample)) => sample,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn cuts_sample_lines_into_parts() {
        let s = sample(r#"DCGM_FI_DEV_SM_CLOCK{gpu="0", UUID="GPU-6"} 139"#);
        assert_eq!(s.metric, "DCGM_FI_DEV_SM_CLOCK");
        assert_eq!(s.raw_labels, r#"{gpu="0", UUID="GPU-6"}"#);
        assert_eq!((s.value, s.raw_timestamp), (139.0, None));

        let s = sample("  up 1 1793231941.5");
        assert_eq!((s.metric, s.raw_labels), ("up", ""));
        assert_eq!((s.value, s.raw_timestamp), (1.0, Some(1_793_231_941.5)));

        let s = sample("ns:up{}\t0.25\t1793231941000");
        assert_eq!((s.metric, s.raw_labels), ("ns:up", "{}"));
        assert_eq!(
            (s.value, s.raw_timestamp),
            (0.25, Some(1_793_231_941_000.0))
        );

        // No blank needed between `}` and the value.
        assert_eq!(sample(r#"m{a="1"}7"#).value, 7.0);
    }

    #[test]
    fn special_values_and_integers_beyond_2_pow_53() {
        assert!(sample("m NaN").value.is_nan());
        assert_eq!(sample("m +Inf").value, f64::INFINITY);
        assert_eq!(sample("m -Inf").value, f64::NEG_INFINITY);
        // 9223372036854775794 = 2^63 - 14; the nearest f64 is 2^63 = 9223372036854775808.
        assert_eq!(
            sample("m 9223372036854775794").value,
            9_223_372_036_854_775_808.0
        );
        assert_eq!(sample("m 0.929260").value, 0.929_26);
    }

    #[test]
    fn exemplars_are_ignored_with_or_without_timestamp() {
        let s = sample(r#"foo_total 17 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67"#);
        assert_eq!((s.value, s.raw_timestamp), (17.0, Some(1_520_879_607.789)));
        let s = sample(r#"foo_total 17 # {trace_id="x"} 0.67 1520879607"#);
        assert_eq!((s.value, s.raw_timestamp), (17.0, None));
    }

    #[test]
    fn classifies_comments_and_blank_lines() {
        assert_eq!(parse_line(""), Ok(Line::Blank));
        assert_eq!(parse_line(" \t "), Ok(Line::Blank));
        assert_eq!(parse_line("# EOF"), Ok(Line::Eof));
        assert_eq!(
            parse_line("# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter"),
            Ok(Line::Type {
                metric: "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
                kind: "counter"
            })
        );
        for comment in [
            "# HELP m Power draw (in W).",
            "# UNIT m_joules joules",
            "# TYPE m",
            "# EOF trailing words",
            "#free text",
        ] {
            assert_eq!(parse_line(comment), Ok(Line::Comment), "{comment}");
        }
    }

    #[test]
    fn reports_each_error_kind() {
        use ScrapeErrorKind::*;
        let cases: [(&str, ScrapeErrorKind); 11] = [
            (r#"1m{a="1"} 1"#, BadMetricName),
            (r#"{a="1"} 1"#, BadMetricName),
            ("m-x 1", BadMetricName),
            (r#"m{a.b="1"} 1"#, BadLabelName),
            (r#"DCGM_FI_DEV_GPU_TEMP{gpu="0"#, UnterminatedLabelValue),
            (r#"m{a="\x"} 1"#, InvalidEscape('x')),
            (r#"m{a="1"}"#, MissingValue),
            ("m # exemplar-only", MissingValue),
            ("m 0,5", BadValue),
            ("m 1 17932319410OO", BadTimestamp),
            ("m 1 1793231941 7", TrailingText),
        ];
        for (line, expected) in cases {
            assert_eq!(parse_line(line), Err(expected), "{line}");
        }
    }
}
