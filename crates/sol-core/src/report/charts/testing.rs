//! Test helpers: the report fixtures, an XML well-formedness check and element finders.

use crate::correlation::Correlation;

fn load(json: &str) -> Correlation {
    serde_json::from_str(json).expect("fixture parses as a Correlation")
}

/// H200 TP8 sweep, concurrency 8: steady state, no attribution.
pub fn c008() -> Correlation {
    load(include_str!(
        "../../../../../testdata/report/h200-tp8-sweep/c008.json"
    ))
}

/// Concurrency 32 (vLLM bench file, fractional window start).
pub fn c032() -> Correlation {
    load(include_str!(
        "../../../../../testdata/report/h200-tp8-sweep/c032.json"
    ))
}

/// Concurrency 64: has per-category attribution.
pub fn c064() -> Correlation {
    load(include_str!(
        "../../../../../testdata/report/h200-tp8-sweep/c064.json"
    ))
}

/// Concurrency 128: unsteady window, gpu 3 straggles on HBM and tensor.
pub fn c128() -> Correlation {
    load(include_str!(
        "../../../../../testdata/report/h200-tp8-sweep/c128.json"
    ))
}

/// A vGPU in the counter tier: busy-time bounds, NVLink/PCIe absent, no context.
pub fn counter_tier() -> Correlation {
    load(include_str!(
        "../../../../../testdata/report/counter-tier-vgpu.json"
    ))
}

/// Panics unless `svg` is one well-formed XML element tree rooted at `<svg …>` with the required
/// accessibility parts, and nothing that reaches outside the document.
pub fn assert_self_contained(svg: &str) {
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "),
        "{}",
        &svg[..svg.len().min(120)]
    );
    assert!(svg.contains(" role=\"img\""));
    assert!(svg.contains("<title>") && svg.contains("<desc>"));
    assert_well_formed(svg);
    let lower = svg.to_ascii_lowercase();
    for banned in ["<script", "<image", "<foreignobject", "href", "@import"] {
        assert!(!lower.contains(banned), "found {banned}");
    }
    assert_eq!(lower.matches("http").count(), 1, "only the xmlns URL");
    for broken in ["NaN", "\"inf", "\"-inf", ">inf"] {
        assert!(!svg.contains(broken), "found {broken}");
    }
}

/// A small XML checker: matching start/end tags, quoted attributes, `&` only in entities, one root.
pub fn assert_well_formed(xml: &str) {
    let bytes = xml.as_bytes();
    let mut stack: Vec<&str> = Vec::new();
    let mut roots = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' if xml[i..].starts_with("</") => {
                let end = i + xml[i..].find('>').expect("unterminated end tag");
                let name = xml[i + 2..end].trim();
                assert_eq!(stack.pop(), Some(name), "mismatched </{name}> at {i}");
                i = end + 1;
            }
            b'<' => {
                let end = i + xml[i..].find('>').expect("unterminated tag");
                let tag = &xml[i + 1..end];
                let self_closing = tag.ends_with('/');
                let tag = tag.trim_end_matches('/');
                let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
                let name = &tag[..name_end];
                assert!(
                    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
                    "bad tag name {name:?} at {i}"
                );
                check_attributes(&tag[name_end..], i);
                if stack.is_empty() {
                    roots += 1;
                }
                if !self_closing {
                    stack.push(name);
                }
                i = end + 1;
            }
            b'&' => {
                let end = i + xml[i..].find(';').expect("unterminated entity");
                let entity = &xml[i + 1..end];
                assert!(
                    ["amp", "lt", "gt", "quot", "apos"].contains(&entity),
                    "unknown entity &{entity}; at {i}"
                );
                i = end + 1;
            }
            b'>' => panic!("stray > at {i}"),
            _ => i += 1,
        }
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
    assert_eq!(roots, 1, "exactly one root element");
}

fn check_attributes(mut rest: &str, at: usize) {
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return;
        }
        let eq = rest
            .find('=')
            .unwrap_or_else(|| panic!("attribute without value at {at}"));
        let name = rest[..eq].trim();
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':'),
            "bad attribute name {name:?} at {at}"
        );
        let value = rest[eq + 1..]
            .strip_prefix('"')
            .unwrap_or_else(|| panic!("unquoted attribute at {at}"));
        let close = value
            .find('"')
            .unwrap_or_else(|| panic!("unterminated attribute at {at}"));
        let text = &value[..close];
        assert!(!text.contains('<'), "< in attribute at {at}");
        for (j, _) in text.match_indices('&') {
            let entity = &text[j + 1..j + 1 + text[j..].find(';').expect("entity") - 1];
            assert!(
                ["amp", "lt", "gt", "quot", "apos"].contains(&entity),
                "&{entity}; at {at}"
            );
        }
        rest = &value[close + 1..];
    }
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Byte ranges of the start tags carrying `class="…"`, in document order.
fn tag_spans(svg: &str, class: &str) -> Vec<(usize, usize)> {
    let needle = format!(" class=\"{class}\"");
    svg.match_indices(&needle)
        .map(|(at, _)| {
            let start = svg[..at].rfind('<').expect("inside a tag");
            let end = at + svg[at..].find('>').expect("tag ends") + 1;
            (start, end)
        })
        .collect()
}

/// Start tags of the elements carrying `class="…"`, in document order.
pub fn elements_with_class<'a>(svg: &'a str, class: &str) -> Vec<&'a str> {
    tag_spans(svg, class)
        .into_iter()
        .map(|(start, end)| &svg[start..end])
        .collect()
}

/// The numeric value of attribute `name` in a start tag.
pub fn attribute(tag: &str, name: &str) -> f64 {
    let needle = format!(" {name}=\"");
    let from = tag
        .find(&needle)
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
        + needle.len();
    let to = from + tag[from..].find('"').expect("closing quote");
    tag[from..to].parse().expect("numeric attribute")
}

/// `(x, text)` of every `<text class="…">`, in document order, unescaped.
pub fn texts_with_class(svg: &str, class: &str) -> Vec<(f64, String)> {
    tag_spans(svg, class)
        .into_iter()
        .map(|(start, end)| {
            let close = end + svg[end..].find("</text>").expect("text closes");
            (attribute(&svg[start..end], "x"), unescape(&svg[end..close]))
        })
        .collect()
}

#[test]
fn the_checker_rejects_broken_xml() {
    for bad in [
        "<svg><g></svg>",
        "<svg>a & b</svg>",
        "<svg x=1/>",
        "<svg></svg><svg></svg>",
        "<svg><text>&nbsp;</text></svg>",
    ] {
        assert!(
            std::panic::catch_unwind(|| assert_well_formed(bad)).is_err(),
            "accepted {bad}"
        );
    }
    assert_well_formed("<svg a=\"1&amp;2\"><g/><text>x &lt; y</text></svg>");
}
