//! The `{name="value",...}` part of a sample line: one byte-level scanner that both validates
//! (every line, no allocation) and decodes (once per distinct label-set text).

use std::borrow::Cow;

use super::error::ScrapeErrorKind;
use crate::labels::Labels;

/// Scans the label set at the start of `text` (which begins with `{`) and returns the length of
/// the set including both braces. Calls `on_label(name, raw_value)` for every pair in order;
/// `raw_value` is still escaped (see [`unescape_label_value`]) and its escapes are already valid.
///
/// Accepts blanks around names, `=` and commas (`{gpu="0", UUID="…"}`), a trailing comma and `{}`.
pub(super) fn scan_label_set<'a>(
    text: &'a str,
    mut on_label: impl FnMut(&'a str, &'a str) -> Result<(), ScrapeErrorKind>,
) -> Result<usize, ScrapeErrorKind> {
    let bytes = text.as_bytes();
    debug_assert_eq!(bytes.first(), Some(&b'{'));
    let mut pos = skip_blanks(bytes, 1);
    loop {
        match bytes.get(pos) {
            Some(b'}') => return Ok(pos + 1),
            None => {
                return Err(ScrapeErrorKind::MalformedLabelSet(
                    "`}` closing the label set",
                ));
            }
            Some(_) => {}
        }
        let name_end = pos
            + bytes[pos..]
                .iter()
                .position(|&b| matches!(b, b'=' | b' ' | b'\t' | b',' | b'}' | b'"'))
                .unwrap_or(bytes.len() - pos);
        let name = &text[pos..name_end];
        if !is_label_name(name) {
            return Err(ScrapeErrorKind::BadLabelName);
        }
        pos = skip_blanks(bytes, name_end);
        if bytes.get(pos) != Some(&b'=') {
            return Err(ScrapeErrorKind::MalformedLabelSet(
                "`=` after the label name",
            ));
        }
        pos = skip_blanks(bytes, pos + 1);
        if bytes.get(pos) != Some(&b'"') {
            return Err(ScrapeErrorKind::MalformedLabelSet(
                "a double-quoted label value after `=`",
            ));
        }
        let value_start = pos + 1;
        let value_end = scan_quoted_value(text, value_start)?;
        on_label(name, &text[value_start..value_end])?;
        pos = skip_blanks(bytes, value_end + 1);
        match bytes.get(pos) {
            Some(b',') => pos = skip_blanks(bytes, pos + 1),
            Some(b'}') => {}
            _ => {
                return Err(ScrapeErrorKind::MalformedLabelSet(
                    "`,` or `}` after a label value",
                ));
            }
        }
    }
}

/// Decodes a label-set text (`{...}` including braces, or empty for none) into labels.
///
/// Labels with an empty value are left out, as Prometheus does when it stores a series.
pub(super) fn decode_label_set(raw: &str) -> Result<Labels, ScrapeErrorKind> {
    let mut labels = Labels::new();
    if raw.is_empty() {
        return Ok(labels);
    }
    // Label sets are short: a linear scan over the names seen beats hashing.
    let mut seen: Vec<&str> = Vec::new();
    scan_label_set(raw, |name, raw_value| {
        if seen.contains(&name) {
            return Err(ScrapeErrorKind::DuplicateLabelName(name.to_string()));
        }
        seen.push(name);
        if !raw_value.is_empty() {
            labels.insert(
                name.to_string(),
                unescape_label_value(raw_value).into_owned(),
            );
        }
        Ok(())
    })?;
    Ok(labels)
}

/// Resolves `\\`, `\"` and `\n` in a label value whose escapes [`scan_label_set`] has checked.
fn unescape_label_value(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut decoded = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            decoded.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => decoded.push('\n'),
            // `\\` and `\"`; the scanner admits no other escape.
            Some(escaped) => decoded.push(escaped),
            None => {}
        }
    }
    Cow::Owned(decoded)
}

/// Returns the index of the closing quote of a value starting at `start` (just after its opening
/// quote), checking escapes on the way.
fn scan_quoted_value(text: &str, start: usize) -> Result<usize, ScrapeErrorKind> {
    let bytes = text.as_bytes();
    let mut pos = start;
    loop {
        match bytes.get(pos) {
            None => return Err(ScrapeErrorKind::UnterminatedLabelValue),
            Some(b'"') => return Ok(pos),
            Some(b'\\') => match bytes.get(pos + 1) {
                Some(b'\\' | b'"' | b'n') => pos += 2,
                None => return Err(ScrapeErrorKind::UnterminatedLabelValue),
                // `pos + 1` follows an ASCII backslash, so it is a char boundary.
                Some(_) => {
                    let escaped = text[pos + 1..].chars().next().unwrap_or_default();
                    return Err(ScrapeErrorKind::InvalidEscape(escaped));
                }
            },
            Some(_) => pos += 1,
        }
    }
}

/// Index of the first byte at or after `pos` that is not a space or tab.
pub(super) fn skip_blanks(bytes: &[u8], mut pos: usize) -> usize {
    while matches!(bytes.get(pos), Some(b' ' | b'\t')) {
        pos += 1;
    }
    pos
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`.
fn is_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Result<(usize, Vec<(String, String)>), ScrapeErrorKind> {
        let mut found = Vec::new();
        let len = scan_label_set(text, |name, raw| {
            found.push((name.to_string(), raw.to_string()));
            Ok(())
        })?;
        Ok((len, found))
    }

    fn owned(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn scans_spacing_trailing_comma_and_empty_sets() {
        // `{gpu="0", UUID="GPU-1"}` is 23 bytes; the value after it is not part of the set.
        assert_eq!(
            pairs("{gpu=\"0\", UUID=\"GPU-1\"} 139").unwrap(),
            (23, owned(&[("gpu", "0"), ("UUID", "GPU-1")]))
        );
        // `{ a = "1" ,` is 11 bytes, `\tb="2",` 7, ` }` 2: 20.
        assert_eq!(
            pairs("{ a = \"1\" ,\tb=\"2\", } 1").unwrap(),
            (20, owned(&[("a", "1"), ("b", "2")]))
        );
        assert_eq!(pairs("{} 1").unwrap(), (2, vec![]));
    }

    #[test]
    fn braces_commas_and_escaped_quotes_inside_values_do_not_end_the_set() {
        // Raw value `x}\",y` is 6 bytes (backslash included); `{a="` 4 + 6 + `"}` 2 = 12.
        let (len, found) = pairs(r#"{a="x}\",y"} 1"#).unwrap();
        assert_eq!(len, 12);
        assert_eq!(found, owned(&[("a", r#"x}\",y"#)]));
        assert_eq!(unescape_label_value(&found[0].1), "x}\",y");
    }

    #[test]
    fn unescapes_backslash_quote_and_newline() {
        assert_eq!(unescape_label_value(r#"a\"b\\c\nd"#), "a\"b\\c\nd");
        assert!(matches!(
            unescape_label_value("plain"),
            Cow::Borrowed("plain")
        ));
        let labels = decode_label_set(r#"{k="a\"b\\c\nd"}"#).unwrap();
        assert_eq!(labels["k"], "a\"b\\c\nd");
    }

    #[test]
    fn decode_drops_empty_values_and_refuses_duplicates() {
        let labels = decode_label_set(r#"{a="1",pod="",b="2"}"#).unwrap();
        assert_eq!(labels.len(), 2);
        assert!(!labels.contains_key("pod"));
        assert!(decode_label_set("").unwrap().is_empty());
        assert!(decode_label_set("{}").unwrap().is_empty());
        for duplicated in [r#"{a="1",a="2"}"#, r#"{a="",a="2"}"#, r#"{a="1",a=""}"#] {
            assert_eq!(
                decode_label_set(duplicated),
                Err(ScrapeErrorKind::DuplicateLabelName("a".into())),
                "{duplicated}"
            );
        }
    }

    #[test]
    fn reports_each_malformation() {
        use ScrapeErrorKind::*;
        let cases: [(&str, ScrapeErrorKind); 10] = [
            (r#"{gpu="0"#, UnterminatedLabelValue),
            (r#"{gpu="0\"#, UnterminatedLabelValue),
            (r#"{gpu="a\tb"}"#, InvalidEscape('t')),
            (r#"{gpu="a\éb"}"#, InvalidEscape('é')),
            (r#"{1gpu="0"}"#, BadLabelName),
            (r#"{gpu-x="0"}"#, BadLabelName),
            (r#"{,}"#, BadLabelName),
            (r#"{gpu"0"}"#, MalformedLabelSet("`=` after the label name")),
            (
                r#"{gpu=0}"#,
                MalformedLabelSet("a double-quoted label value after `=`"),
            ),
            (
                r#"{a="1" b="2"}"#,
                MalformedLabelSet("`,` or `}` after a label value"),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(pairs(text).map(|_| ()), Err(expected), "{text}");
        }
        assert_eq!(
            pairs(r#"{a="1","#).map(|_| ()),
            Err(MalformedLabelSet("`}` closing the label set"))
        );
    }
}
