//! Line comments of a ceilings file, by key path.
//!
//! The default table keeps the source of every number in the comment on its line
//! (`hbm_tbps: 3.35   # NV-H100; AIC/h100_sxm 3.35e12`). YAML parsers drop comments, so this small
//! scanner reads them from the text: it follows block-mapping indentation and records, for each
//! `key: value  # comment` line, the comment under the dotted path of the key
//! (`gpus.h100_sxm.hbm_tbps`). Flow mappings and list items are not descended into; the ceilings
//! formats put one number per line.

use std::collections::BTreeMap;

/// Comments found on block-mapping key lines, by key path.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct LineComments {
    by_path: BTreeMap<String, String>,
}

impl LineComments {
    /// Scans YAML text. Lines that are not `key: ...` (blank, comment-only, list items, continuation
    /// lines) are skipped and do not change the current path.
    pub(super) fn scan(text: &str) -> LineComments {
        let mut open_keys: Vec<(usize, String)> = Vec::new();
        let mut by_path = BTreeMap::new();
        for line in text.lines() {
            let body = line.trim_start_matches(' ');
            let indent = line.len() - body.len();
            if body.is_empty() || body.starts_with('#') || body.starts_with('-') {
                continue;
            }
            let (code, comment) = split_comment(body);
            let Some(key) = mapping_key(code) else {
                continue;
            };
            while open_keys
                .last()
                .is_some_and(|(open_indent, _)| *open_indent >= indent)
            {
                open_keys.pop();
            }
            open_keys.push((indent, key));
            if let Some(comment) = comment.filter(|comment| !comment.is_empty()) {
                let path: Vec<&str> = open_keys.iter().map(|(_, key)| key.as_str()).collect();
                by_path.insert(path.join("."), comment.to_string());
            }
        }
        LineComments { by_path }
    }

    /// The comment on the line of the key at `path` (`["gpus", "h100_sxm", "hbm_tbps"]`).
    pub(super) fn get(&self, path: &[&str]) -> Option<&str> {
        self.by_path.get(&path.join(".")).map(String::as_str)
    }
}

/// Splits a line body into code and comment text. A `#` starts a comment only outside quotes and
/// at the start or after whitespace, as in YAML.
fn split_comment(body: &str) -> (&str, Option<&str>) {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for (index, ch) in body.char_indices() {
        match quote {
            Some(open) if ch == open => quote = None,
            Some(_) => {}
            None if ch == '"' || ch == '\'' => quote = Some(ch),
            None if ch == '#' && previous.is_whitespace() => {
                let comment = body[index..].trim_start_matches('#').trim();
                return (body[..index].trim_end(), Some(comment));
            }
            None => {}
        }
        previous = ch;
    }
    (body.trim_end(), None)
}

/// The key of a `key: value` or `key:` line (quotes removed), if the line is one.
fn mapping_key(code: &str) -> Option<String> {
    if let Some(quote) = code.chars().next().filter(|ch| *ch == '"' || *ch == '\'') {
        let rest = &code[1..];
        let end = rest.find(quote)?;
        let after = &rest[end + 1..];
        let is_key = after == ":" || after.starts_with(": ");
        return is_key.then(|| rest[..end].to_string());
    }
    let colon = code
        .char_indices()
        .find(|&(index, ch)| {
            ch == ':'
                && code[index + 1..]
                    .chars()
                    .next()
                    .is_none_or(char::is_whitespace)
        })
        .map(|(index, _)| index)?;
    let key = code[..colon].trim_end();
    let plain = !key.is_empty() && !key.contains(['{', '[', ',', '"', '\'']);
    plain.then(|| key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# header comment: not a key
schema_version: 1
sources:
  NV-H100: "a # inside quotes is text"   # tag line
gpus:

  h100_sxm:                       # row note
    match: { device_names: ["NVIDIA H100 80GB HBM3"], compute_capability: "9.0" }
    hbm_tbps: 3.35                # NV-H100; AIC/h100_sxm 3.35e12
    weak_fields: [a, b]
    fp16_dense_tflops: 989.4
  l4:
    hbm_tbps: 0.300               # NV-L4 300 GB/s
b200_sm100:
  hbm3e_tbps: {value: 8.0, units: TB/s}   # seed style
"#;

    #[test]
    fn records_comments_by_key_path() {
        let comments = LineComments::scan(TEXT);
        assert_eq!(
            comments.get(&["gpus", "h100_sxm", "hbm_tbps"]),
            Some("NV-H100; AIC/h100_sxm 3.35e12")
        );
        assert_eq!(
            comments.get(&["gpus", "l4", "hbm_tbps"]),
            Some("NV-L4 300 GB/s")
        );
        assert_eq!(comments.get(&["gpus", "h100_sxm"]), Some("row note"));
        assert_eq!(comments.get(&["sources", "NV-H100"]), Some("tag line"));
        assert_eq!(
            comments.get(&["b200_sm100", "hbm3e_tbps"]),
            Some("seed style")
        );
    }

    #[test]
    fn lines_without_a_comment_record_nothing() {
        let comments = LineComments::scan(TEXT);
        assert_eq!(
            comments.get(&["gpus", "h100_sxm", "fp16_dense_tflops"]),
            None
        );
        assert_eq!(comments.get(&["gpus", "h100_sxm", "match"]), None);
        assert_eq!(comments.get(&["schema_version"]), None);
    }

    #[test]
    fn hash_inside_quotes_or_words_is_not_a_comment() {
        assert_eq!(split_comment(r#"a: "x # y""#), (r#"a: "x # y""#, None));
        assert_eq!(split_comment("a: C#   # real"), ("a: C#", Some("real")));
    }
}
