//! The scrape journal: one JSON object per line, appended (and flushed) as each scrape returns,
//! so a crash or Ctrl-C loses at most the scrape in flight. A torn last line is expected after a
//! crash and dropped; any other unreadable line is reported.

use serde::{Deserialize, Serialize};

/// One scrape attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Exporter URL scraped.
    pub exporter: String,
    /// Wall-clock time the scrape was taken (midpoint of request and response), epoch seconds.
    pub taken_at_s: f64,
    /// The exporter's answer, or why there was none.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What a scrape returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The exporter's `/metrics` text.
    Body(String),
    /// No answer (refused, timed out, HTTP error): a gap in the recording, retried next tick.
    Gap(String),
}

/// The journal line of an entry (ends with a newline).
pub fn encode_entry(entry: &JournalEntry) -> String {
    // Serialising plain strings and a finite float cannot fail; a non-finite time is a bug
    // upstream and is written as null rather than panicking.
    let mut line = serde_json::to_string(entry).unwrap_or_else(|_| {
        format!(
            "{{\"exporter\":{:?},\"taken_at_s\":null,\"gap\":\"unserialisable entry\"}}",
            entry.exporter
        )
    });
    line.push('\n');
    line
}

/// A journal read back.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decoded {
    /// Entries in journal order.
    pub entries: Vec<JournalEntry>,
    /// The last line was cut short (a crash mid-append) and was dropped.
    pub torn_tail: bool,
    /// 1-based numbers of other lines that do not decode.
    pub bad_lines: Vec<usize>,
}

/// Reads a journal's text.
pub fn decode_journal(text: &str) -> Decoded {
    let mut decoded = Decoded::default();
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    for (index, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<JournalEntry>(line) {
            Ok(entry) => decoded.entries.push(entry),
            Err(_) if index + 1 == lines.len() && !complete => decoded.torn_tail = true,
            Err(_) => decoded.bad_lines.push(index + 1),
        }
    }
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(t: f64, text: &str) -> JournalEntry {
        JournalEntry {
            exporter: "http://127.0.0.1:9400/metrics".into(),
            taken_at_s: t,
            outcome: Outcome::Body(text.into()),
        }
    }

    #[test]
    fn entries_round_trip_with_newlines_and_quotes_in_bodies() {
        let entries = [
            body(1.5, "m{a=\"x\\\"y\"} 1\nm{a=\"z\"} 2\n"),
            JournalEntry {
                exporter: "http://h:9400/metrics".into(),
                taken_at_s: 2.5,
                outcome: Outcome::Gap("connection refused".into()),
            },
        ];
        let text: String = entries.iter().map(encode_entry).collect();
        assert_eq!(text.lines().count(), 2, "one line per entry");
        let decoded = decode_journal(&text);
        assert_eq!(decoded.entries, entries);
        assert!(!decoded.torn_tail && decoded.bad_lines.is_empty());
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_other_damage_reported() {
        let whole = encode_entry(&body(1.0, "m 1\n"));
        let torn = &encode_entry(&body(2.0, "m 2\n"))[..10];
        let decoded = decode_journal(&format!("{whole}{torn}"));
        assert_eq!(decoded.entries.len(), 1);
        assert!(decoded.torn_tail);
        assert!(decoded.bad_lines.is_empty());
        let decoded = decode_journal(&format!("{whole}garbage\n{whole}"));
        assert_eq!(decoded.entries.len(), 2);
        assert_eq!(decoded.bad_lines, vec![2]);
        assert!(!decoded.torn_tail);
    }
}
