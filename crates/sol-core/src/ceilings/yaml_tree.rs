//! A ceilings file as a plain YAML tree, mappings in file order.
//!
//! The seed format keys rows and peaks by free-form names, so the file cannot be deserialised into
//! fixed structs; walking a tree lets every bad value be reported with its dotted path
//! (`b200_sm100.hbm3e_tbps.value`) instead of a generic "did not match any variant".

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// One YAML node. Integers are widened to `f64`: every number in a ceilings file is a rate, clock
/// or count far below 2^53.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum YamlNode {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    List(Vec<YamlNode>),
    /// Entries in file order (duplicate keys are already refused by the parser).
    Map(Vec<(String, YamlNode)>),
}

impl YamlNode {
    /// Parses a whole document; the error is serde-saphyr's message with line and column.
    pub(super) fn parse(text: &str) -> Result<YamlNode, String> {
        serde_saphyr::from_str(text).map_err(|err| err.to_string())
    }

    /// The value under `key` when this is a mapping; `None` for a missing key or an explicit null.
    pub(super) fn get(&self, key: &str) -> Option<&YamlNode> {
        match self {
            YamlNode::Map(entries) => entries
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value)
                .filter(|value| **value != YamlNode::Null),
            _ => None,
        }
    }

    /// The entries of a mapping.
    pub(super) fn as_map(&self) -> Result<&[(String, YamlNode)], String> {
        match self {
            YamlNode::Map(entries) => Ok(entries),
            other => Err(format!(
                "expected a mapping (key: value), found {}",
                other.describe()
            )),
        }
    }

    /// A finite number.
    pub(super) fn as_number(&self) -> Result<f64, String> {
        match self {
            YamlNode::Number(value) if value.is_finite() => Ok(*value),
            YamlNode::Number(value) => Err(format!("{value} is not a finite number")),
            other => Err(format!("expected a number, found {}", other.describe())),
        }
    }

    /// A finite number above zero: a zero or negative peak, clock or power has no meaning and
    /// would make every ratio against it infinite or negative.
    pub(super) fn as_positive_number(&self) -> Result<f64, String> {
        let value = self.as_number()?;
        if value > 0.0 {
            Ok(value)
        } else {
            Err(format!("{value} must be greater than zero"))
        }
    }

    /// A string; an unquoted number reads as its shortest form (`4090`).
    pub(super) fn as_text(&self) -> Result<String, String> {
        match self {
            YamlNode::Text(text) => Ok(text.clone()),
            YamlNode::Number(value) if value.is_finite() => Ok(value.to_string()),
            other => Err(format!("expected a string, found {}", other.describe())),
        }
    }

    /// A `major.minor` version such as a compute capability: an unquoted `9.0` parses as the
    /// number 9, so numbers are printed with one decimal to read the same as `"9.0"`.
    pub(super) fn as_version_text(&self) -> Result<String, String> {
        match self {
            YamlNode::Number(value) if value.is_finite() => Ok(format!("{value:.1}")),
            other => other.as_text(),
        }
    }

    /// A list of strings; a single string is read as a one-element list.
    pub(super) fn as_text_list(&self) -> Result<Vec<String>, String> {
        match self {
            YamlNode::List(items) => items.iter().map(YamlNode::as_text).collect(),
            YamlNode::Text(text) => Ok(vec![text.clone()]),
            other => Err(format!(
                "expected a list of strings, found {}",
                other.describe()
            )),
        }
    }

    /// Short description of the node for error messages.
    pub(super) fn describe(&self) -> String {
        match self {
            YamlNode::Null => "nothing (null)".to_string(),
            YamlNode::Bool(value) => format!("the boolean `{value}`"),
            YamlNode::Number(value) => format!("the number {value}"),
            YamlNode::Text(text) => format!("the text `{text}`"),
            YamlNode::List(_) => "a list".to_string(),
            YamlNode::Map(_) => "a mapping".to_string(),
        }
    }

    /// The node as a mapping key.
    fn into_key(self) -> Result<String, &'static str> {
        match self {
            YamlNode::Text(text) => Ok(text),
            YamlNode::Number(value) => Ok(value.to_string()),
            YamlNode::Bool(value) => Ok(value.to_string()),
            YamlNode::Null => Ok("null".to_string()),
            YamlNode::List(_) | YamlNode::Map(_) => Err("mapping keys must be plain scalars"),
        }
    }
}

impl<'de> Deserialize<'de> for YamlNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = YamlNode;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<YamlNode, E> {
        Ok(YamlNode::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<YamlNode, E> {
        Ok(YamlNode::Number(value as f64))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<YamlNode, E> {
        Ok(YamlNode::Number(value as f64))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<YamlNode, E> {
        Ok(YamlNode::Number(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<YamlNode, E> {
        Ok(YamlNode::Text(value.to_string()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<YamlNode, E> {
        Ok(YamlNode::Text(value))
    }

    fn visit_none<E: de::Error>(self) -> Result<YamlNode, E> {
        Ok(YamlNode::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<YamlNode, E> {
        Ok(YamlNode::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<YamlNode, D::Error> {
        YamlNode::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<YamlNode, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(YamlNode::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<YamlNode, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<YamlNode, YamlNode>()? {
            let key = key.into_key().map_err(de::Error::custom)?;
            entries.push((key, value));
        }
        Ok(YamlNode::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_mapping_order_and_reads_scalars() {
        let tree =
            YamlNode::parse("z: 1\na: {value: fast, count: 2.5}\nl: [x, 3]\nq: ~\n").unwrap();
        let keys: Vec<&str> = tree
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(keys, ["z", "a", "l", "q"]);
        let peak = tree.get("a").unwrap();
        assert_eq!(peak.get("count").unwrap().as_number(), Ok(2.5));
        assert!(
            peak.get("value")
                .unwrap()
                .as_number()
                .unwrap_err()
                .contains("`fast`")
        );
        assert_eq!(
            tree.get("l").unwrap().as_text_list(),
            Ok(vec!["x".into(), "3".into()])
        );
        // An explicit null reads as absent.
        assert_eq!(tree.get("q"), None);
    }

    #[test]
    fn versions_keep_their_minor_digit() {
        let tree = YamlNode::parse("a: 9.0\nb: \"10.3\"\nc: 12\n").unwrap();
        let version = |key: &str| tree.get(key).unwrap().as_version_text();
        assert_eq!(version("a"), Ok("9.0".to_string()));
        assert_eq!(version("b"), Ok("10.3".to_string()));
        assert_eq!(version("c"), Ok("12.0".to_string()));
        assert_eq!(tree.get("a").unwrap().as_text(), Ok("9".to_string()));
    }

    #[test]
    fn refuses_zero_and_negative_where_a_positive_number_is_needed() {
        assert!(YamlNode::Number(0.0).as_positive_number().is_err());
        assert!(YamlNode::Number(-1.0).as_positive_number().is_err());
        assert_eq!(YamlNode::Number(8.0).as_positive_number(), Ok(8.0));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let message = YamlNode::parse("a: 1\nb: [unclosed\n").unwrap_err();
        assert!(message.contains("line 2"), "{message}");
    }
}
