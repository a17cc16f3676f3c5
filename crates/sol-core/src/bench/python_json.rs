//! Python's `json` module writes the non-standard literals `Infinity`, `-Infinity` and `NaN`
//! (SGLang's default `"request_rate": Infinity`). RFC 8259 forbids them and `serde_json` refuses
//! the whole document, so they are rewritten before parsing: `Infinity` becomes the string
//! `"inf"` (what vLLM writes for an unbounded rate, read as such), the other two become `null`
//! (read as absent). Text inside strings is never touched.

use std::borrow::Cow;

/// Bare literals and what replaces each, longest first so `-Infinity` wins over `Infinity`.
const REPLACEMENTS: [(&str, &str); 3] = [
    ("-Infinity", "null"),
    ("Infinity", "\"inf\""),
    ("NaN", "null"),
];

/// `text` with every bare non-finite literal replaced; borrowed when there is none. Columns
/// after a replaced literal shift by the difference in length.
pub(crate) fn replace_non_finite_literals(text: &str) -> Cow<'_, str> {
    if !text.contains("Infinity") && !text.contains("NaN") {
        return Cow::Borrowed(text);
    }
    let mut rewritten = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(character) = rest.chars().next() {
        if in_string {
            match character {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if character == '"' {
            in_string = true;
        } else if let Some((literal, replacement)) = REPLACEMENTS
            .iter()
            .find(|(literal, _)| rest.starts_with(literal))
        {
            rewritten.push_str(replacement);
            rest = &rest[literal.len()..];
            continue;
        }
        rewritten.push(character);
        rest = &rest[character.len_utf8()..];
    }
    Cow::Owned(rewritten)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_literals_are_rewritten_outside_strings_only() {
        let text = r#"{"request_rate": Infinity, "a": -Infinity, "b": [NaN, 1], "c": "Infinity: NaN \" Infinity"}"#;
        assert_eq!(
            replace_non_finite_literals(text),
            r#"{"request_rate": "inf", "a": null, "b": [null, 1], "c": "Infinity: NaN \" Infinity"}"#
        );
    }

    #[test]
    fn text_without_literals_is_borrowed() {
        assert!(matches!(
            replace_non_finite_literals("{\"rate\": 1.0}"),
            Cow::Borrowed(_)
        ));
        // The words inside strings alone still leave the text as it was.
        assert_eq!(
            replace_non_finite_literals("{\"note\": \"NaN\"}"),
            "{\"note\": \"NaN\"}"
        );
    }
}
