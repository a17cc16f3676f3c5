//! YAML bench documents (llm-d Benchmark Reports, inference-perf `config.yaml`) as
//! `serde_json::Value`, so every reader walks one tree type with JSON paths in its errors.
//!
//! A report is a few hundred lines without anchors, so the parser's budgets are set far below
//! its defaults: an alias bomb (a few lines that expand to billions of nodes) is refused long
//! before it costs memory. YAML's non-finite floats (`concurrency: .inf`) have no JSON number,
//! so they travel as the strings `.inf`, `-.inf`, `.nan` and are written back as floats.

use serde::ser::{Serialize, Serializer};
use serde_json::Value;
use serde_saphyr::budget::Budget;
use serde_saphyr::options::{AliasLimits, NonFiniteFloatPolicy, Options};

/// Aliases and anchors one report may define (real reports use none).
const MAX_ALIASES: usize = 1_000;
/// Events that aliases may replay in total: a tenth of the parser's default.
const MAX_REPLAYED_EVENTS: usize = 100_000;
/// Nested alias → anchor → alias expansions.
const MAX_REPLAY_DEPTH: usize = 16;

/// The strings a non-finite float is read as, and the value each stands for.
const NON_FINITE: [(&str, f64); 3] = [
    (".inf", f64::INFINITY),
    ("-.inf", f64::NEG_INFINITY),
    (".nan", f64::NAN),
];

/// Parses one YAML document (JSON is accepted too) within the budgets above.
pub(crate) fn parse_yaml(text: &str) -> Result<Value, serde_saphyr::Error> {
    serde_saphyr::from_str_with_options(text, bench_options())
}

/// Writes `value` as YAML; the strings standing for non-finite floats become floats again.
pub(crate) fn to_yaml(value: &Value) -> Result<String, serde_saphyr::SerializeError> {
    serde_saphyr::to_string(&YamlValue(value))
}

/// The non-finite float a parsed string stands for, if it is one of [`NON_FINITE`].
pub(crate) fn non_finite_float(text: &str) -> Option<f64> {
    NON_FINITE
        .iter()
        .find(|(spelling, _)| *spelling == text)
        .map(|(_, value)| *value)
}

fn bench_options() -> Options {
    let mut budget = Budget::default();
    budget.max_aliases = MAX_ALIASES;
    budget.max_anchors = MAX_ALIASES;
    budget.max_documents = 1;
    let mut alias_limits = AliasLimits::default();
    alias_limits.max_total_replayed_events = MAX_REPLAYED_EVENTS;
    alias_limits.max_replay_stack_depth = MAX_REPLAY_DEPTH;
    let mut options = Options::default();
    options.budget = Some(budget);
    options.alias_limits = alias_limits;
    options.non_finite_float_policy = NonFiniteFloatPolicy::AsString;
    options
}

/// Serialises a JSON tree, turning the non-finite spellings back into floats.
struct YamlValue<'a>(&'a Value);

impl Serialize for YamlValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::String(text) => match non_finite_float(text) {
                Some(float) => serializer.serialize_f64(float),
                None => serializer.serialize_str(text),
            },
            Value::Array(items) => serializer.collect_seq(items.iter().map(YamlValue)),
            Value::Object(members) => {
                serializer.collect_map(members.iter().map(|(key, member)| (key, YamlValue(member))))
            }
            scalar => scalar.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn non_finite_floats_survive_a_round_trip() {
        let value = parse_yaml("a: .inf\nb: -.inf\nc: 1.5\nd: '.inf text'\n").unwrap();
        assert_eq!(
            value,
            json!({"a": ".inf", "b": "-.inf", "c": 1.5, "d": ".inf text"})
        );
        let written = to_yaml(&value).unwrap();
        assert_eq!(parse_yaml(&written).unwrap(), value);
        assert!(written.contains("a: .inf"), "{written}");
    }

    #[test]
    fn an_alias_bomb_is_refused() {
        // Each level aliases the previous one ten times: level 8 stands for 10^8 scalars.
        let mut bomb = String::from("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..=8 {
            let previous = format!("*l{}", level - 1);
            let row = [previous.as_str(); 10].join(", ");
            bomb.push_str(&format!("l{level}: &l{level} [{row}]\n"));
        }
        let error = parse_yaml(&bomb).unwrap_err().to_string();
        assert!(
            error.contains("alias") || error.contains("replay"),
            "{error}"
        );
    }

    #[test]
    fn replays_within_the_parser_default_but_above_ours_are_refused() {
        // Ten 2000-scalar anchors aliased nine times each replay 10 × 9 × 2000 = 180 000
        // events: the parser's default (1 000 000) lets this through, the bench budget
        // (100 000) does not. (90 aliases stay under the alias/anchor-ratio heuristic's floor.)
        let items = vec!["1"; 2000].join(", ");
        let mut text = String::new();
        for anchor in 0..10 {
            let aliases = vec![format!("*a{anchor}"); 9].join(", ");
            text.push_str(&format!("anchor{anchor}: &a{anchor} [{items}]\n"));
            text.push_str(&format!("copies{anchor}: [{aliases}]\n"));
        }
        let with_defaults: Result<Value, _> = serde_saphyr::from_str(&text);
        assert!(with_defaults.is_ok(), "{with_defaults:?}");
        let error = parse_yaml(&text).unwrap_err().to_string();
        assert!(error.contains("replay"), "{error}");
    }

    #[test]
    fn several_documents_are_refused() {
        assert!(parse_yaml("a: 1\n---\nb: 2\n").is_err());
    }
}
