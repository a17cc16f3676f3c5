//! Typed access to a bench file's JSON that remembers where each value sits, so every error
//! names the file and the field (`.bench.duration_effective_s`, `[1].date`, …).

use serde_json::Value;

use super::BenchError;
use crate::time::{TimeError, check_epoch_seconds};

/// One JSON value of a bench file together with its path from the document root.
#[derive(Debug, Clone)]
pub(crate) struct Field<'a> {
    file: &'a str,
    path: String,
    value: &'a Value,
}

impl<'a> Field<'a> {
    /// The whole document (path `""`; printed as `(top level)`).
    pub(crate) fn root(file: &'a str, value: &'a Value) -> Self {
        Self {
            file,
            path: String::new(),
            value,
        }
    }

    /// The `index`-th of several top-level documents (array element or appended object).
    pub(crate) fn document(file: &'a str, index: usize, value: &'a Value) -> Self {
        Self {
            file,
            path: format!("[{index}]"),
            value,
        }
    }

    /// The bench file's name.
    pub(crate) fn file(&self) -> &'a str {
        self.file
    }

    /// The JSON path of this value, e.g. `.bench.captured_at`.
    pub(crate) fn path(&self) -> &str {
        if self.path.is_empty() {
            "(top level)"
        } else {
            &self.path
        }
    }

    /// The raw JSON value.
    pub(crate) fn value(&self) -> &'a Value {
        self.value
    }

    /// Path of a key below this value, whether or not it exists.
    pub(crate) fn key_path(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    /// The member `key` of this object; `None` when absent, `null`, or this is not an object.
    pub(crate) fn get(&self, key: &str) -> Option<Field<'a>> {
        self.value
            .get(key)
            .filter(|member| !member.is_null())
            .map(|member| Field {
                file: self.file,
                path: self.key_path(key),
                value: member,
            })
    }

    /// Follows `keys` one level at a time; `None` as soon as one is missing.
    pub(crate) fn get_path(&self, keys: &[&str]) -> Option<Field<'a>> {
        keys.iter()
            .try_fold(self.clone(), |field, key| field.get(key))
    }

    /// The member `key`, or a [`BenchError::MissingField`] naming it.
    pub(crate) fn require(&self, key: &str) -> Result<Field<'a>, BenchError> {
        self.get(key).ok_or_else(|| BenchError::MissingField {
            file: self.file.to_string(),
            field: self.key_path(key),
            also_accepted: Vec::new(),
        })
    }

    /// Element `index` of this array; `None` when absent or `null`.
    pub(crate) fn at(&self, index: usize) -> Option<Field<'a>> {
        self.value
            .get(index)
            .filter(|element| !element.is_null())
            .map(|element| Field {
                file: self.file,
                path: format!("{}[{index}]", self.path),
                value: element,
            })
    }

    /// The elements of this array (with their positions), or a type error.
    pub(crate) fn elements(&self) -> Result<Vec<(usize, Field<'a>)>, BenchError> {
        let array = self
            .value
            .as_array()
            .ok_or_else(|| self.wrong_type("an array"))?;
        Ok((0..array.len())
            .filter_map(|index| self.at(index).map(|element| (index, element)))
            .collect())
    }

    /// The non-null members of this object in key order, or a type error.
    pub(crate) fn members(&self) -> Result<Vec<(&'a str, Field<'a>)>, BenchError> {
        let object = self
            .value
            .as_object()
            .ok_or_else(|| self.wrong_type("an object"))?;
        Ok(object
            .keys()
            .filter_map(|key| self.get(key).map(|member| (key.as_str(), member)))
            .collect())
    }

    /// A finite number, also accepted as a numeric string (`"1000"`, as vLLM `--metadata` writes).
    pub(crate) fn number(&self) -> Result<f64, BenchError> {
        let number = match self.value {
            Value::Number(number) => number.as_f64(),
            Value::String(text) => text.trim().parse::<f64>().ok(),
            _ => None,
        };
        number
            .filter(|n| n.is_finite())
            .ok_or_else(|| self.wrong_type("a number"))
    }

    /// A non-negative whole number (token and request counts).
    pub(crate) fn count(&self) -> Result<u64, BenchError> {
        if let Some(exact) = self.value.as_u64() {
            return Ok(exact);
        }
        const EXPECTED: &str = "a non-negative whole number";
        let number = self.number().map_err(|_| self.wrong_type(EXPECTED))?;
        // Counts above 2^53 lose precision as f64; no bench file comes near that.
        if number >= 0.0 && number.fract() == 0.0 && number <= u64::MAX as f64 {
            Ok(number as u64)
        } else {
            Err(self.wrong_type(EXPECTED))
        }
    }

    /// A positive whole number that fits a parallelism degree or a concurrency.
    pub(crate) fn degree(&self) -> Result<u32, BenchError> {
        const EXPECTED: &str = "a positive whole number";
        let count = self.count().map_err(|_| self.wrong_type(EXPECTED))?;
        u32::try_from(count)
            .ok()
            .filter(|degree| *degree > 0)
            .ok_or_else(|| self.wrong_type(EXPECTED))
    }

    /// A scalar (string, number or boolean) as text.
    pub(crate) fn text(&self) -> Result<String, BenchError> {
        self.scalar_text()
            .ok_or_else(|| self.wrong_type("a string"))
    }

    /// A string, number or boolean as text; `None` for arrays and objects.
    pub(crate) fn scalar_text(&self) -> Option<String> {
        match self.value {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            Value::Bool(flag) => Some(flag.to_string()),
            _ => None,
        }
    }

    /// A wall-clock instant in epoch seconds; monotonic clock readings are refused.
    pub(crate) fn epoch_s(&self) -> Result<f64, BenchError> {
        let seconds = self.number()?;
        check_epoch_seconds(seconds).map_err(|problem| self.bad_time(problem))
    }

    /// A duration in seconds that is greater than zero.
    pub(crate) fn positive_duration_s(&self) -> Result<f64, BenchError> {
        let duration_s = self.number()?;
        if duration_s > 0.0 {
            Ok(duration_s)
        } else {
            Err(BenchError::NonPositiveDuration {
                file: self.file.to_string(),
                field: self.path().to_string(),
                duration_s,
            })
        }
    }

    /// A [`BenchError::BadTime`] for this value.
    pub(crate) fn bad_time(&self, problem: TimeError) -> BenchError {
        BenchError::BadTime {
            file: self.file.to_string(),
            field: self.path().to_string(),
            problem,
        }
    }

    /// A [`BenchError::WrongType`] for this value.
    pub(crate) fn wrong_type(&self, expected: &'static str) -> BenchError {
        BenchError::WrongType {
            file: self.file.to_string(),
            field: self.path().to_string(),
            expected,
            found: describe_value(self.value),
        }
    }
}

/// Checks that a window's end (`end_s`, read from `end`) comes strictly after its start.
pub(crate) fn check_span(
    start: &Field,
    start_s: f64,
    end: &Field,
    end_s: f64,
) -> Result<(), BenchError> {
    if end_s > start_s {
        Ok(())
    } else {
        Err(BenchError::EndBeforeStart {
            file: start.file().to_string(),
            start_field: start.path().to_string(),
            end_field: end.path().to_string(),
            start_s,
            end_s,
        })
    }
}

/// A short description of a JSON value for error messages (long strings are cut).
pub(crate) fn describe_value(value: &Value) -> String {
    const MAX_CHARS: usize = 40;
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(flag) => format!("the boolean {flag}"),
        Value::Number(number) => format!("the number {number}"),
        Value::String(text) if text.chars().count() > MAX_CHARS => {
            let cut: String = text.chars().take(MAX_CHARS).collect();
            format!("the string \"{cut}…\"")
        }
        Value::String(text) => format!("the string \"{text}\""),
        Value::Array(items) => format!("an array of {} elements", items.len()),
        Value::Object(_) => "an object".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn paths_follow_keys_and_indices() {
        let doc = json!({"benchmarks": [{"scheduler_metrics": {"measure_start_time": 1.0}}]});
        let root = Field::root("f.json", &doc);
        let start = root
            .get("benchmarks")
            .and_then(|b| b.at(0))
            .and_then(|b| b.get_path(&["scheduler_metrics", "measure_start_time"]))
            .unwrap();
        assert_eq!(
            start.path(),
            ".benchmarks[0].scheduler_metrics.measure_start_time"
        );
        assert_eq!(root.path(), "(top level)");
        let appended = Field::document("f.json", 2, &doc);
        assert_eq!(appended.key_path("date"), "[2].date");
    }

    #[test]
    fn null_counts_as_absent() {
        let doc = json!({"max_concurrency": null});
        let root = Field::root("f.json", &doc);
        assert!(root.get("max_concurrency").is_none());
        let missing = root.require("max_concurrency").unwrap_err();
        assert_eq!(
            missing,
            BenchError::MissingField {
                file: "f.json".into(),
                field: ".max_concurrency".into(),
                also_accepted: vec![],
            }
        );
    }

    #[test]
    fn numbers_accept_numeric_strings_and_refuse_the_rest() {
        let doc = json!({"a": "1000", "b": 2.5, "c": "inf", "d": [1], "e": 64.0, "f": -1, "g": 0});
        let root = Field::root("f.json", &doc);
        let get = |key| root.get(key).unwrap();
        assert_eq!(get("a").number().unwrap(), 1000.0);
        assert_eq!(get("a").count().unwrap(), 1000);
        assert_eq!(get("b").number().unwrap(), 2.5);
        // "inf" parses as f64 infinity, which is not a usable number.
        assert!(get("c").number().is_err());
        assert!(get("d").number().is_err());
        // 64.0 is a whole number written as a float; 2.5 and -1 are not counts; 0 is no degree.
        assert_eq!(get("e").degree().unwrap(), 64);
        assert!(get("b").count().is_err());
        assert!(get("f").count().is_err());
        assert_eq!(get("g").count().unwrap(), 0);
        let zero_degree = get("g").degree().unwrap_err();
        assert_eq!(
            zero_degree,
            BenchError::WrongType {
                file: "f.json".into(),
                field: ".g".into(),
                expected: "a positive whole number",
                found: "the number 0".into(),
            }
        );
    }

    #[test]
    fn text_takes_scalars_only() {
        let doc = json!({"s": "fp8", "n": 8, "t": true, "o": {}});
        let root = Field::root("f.json", &doc);
        assert_eq!(root.get("s").unwrap().text().unwrap(), "fp8");
        assert_eq!(root.get("n").unwrap().text().unwrap(), "8");
        assert_eq!(root.get("t").unwrap().text().unwrap(), "true");
        assert!(root.get("o").unwrap().text().is_err());
    }

    #[test]
    fn long_strings_are_cut_in_descriptions() {
        let long = "x".repeat(100);
        let described = describe_value(&json!(long));
        assert_eq!(described, format!("the string \"{}…\"", "x".repeat(40)));
    }
}
