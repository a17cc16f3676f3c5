//! JSON objects that refuse duplicate keys. serde_json keeps the last of two equal keys
//! silently; for hand-edited inputs that silently drops a number the user wrote, so the second
//! occurrence is an error naming the key (and, through serde_json, its line and column).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

fn duplicate<E: serde::de::Error>(key: &str) -> E {
    E::custom(format!(
        "duplicate key `{key}` (a JSON object names each key once; keep the right one)"
    ))
}

/// JSON values read like [`serde_json::Value`], noting every key an object repeats (the last
/// value is kept, as serde_json does): the reader decides whether a repeated key matters — one
/// it reads the window from does; a repeated metric some tool writes twice may not.
pub fn values_noting_duplicates(
    text: &str,
) -> Result<(Vec<Value>, Vec<String>), serde_json::Error> {
    let repeated = RefCell::new(Vec::new());
    let mut values = Vec::new();
    if !text.trim().is_empty() {
        let mut stream = serde_json::Deserializer::from_str(text);
        loop {
            values.push(serde::de::DeserializeSeed::deserialize(
                Noting(&repeated),
                &mut stream,
            )?);
            // Only whitespace left: that was the last value; else the next one follows.
            if stream.end().is_ok() {
                break;
            }
        }
    }
    Ok((values, repeated.into_inner()))
}

/// Deserialises a value, recording repeated keys.
#[derive(Clone, Copy)]
struct Noting<'r>(&'r RefCell<Vec<String>>);

impl<'de> serde::de::DeserializeSeed<'de> for Noting<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Noting<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON numbers are finite; a non-finite one cannot come from the parser.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = access.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let value = access.next_value_seed(self)?;
            if map.insert(key.clone(), value).is_some() {
                self.0.borrow_mut().push(key);
            }
        }
        Ok(Value::Object(map))
    }
}

/// `#[serde(deserialize_with = "unique_keys::map")]` for a `BTreeMap<String, V>` field.
pub fn map<'de, D, V>(deserializer: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct UniqueKeys<V>(PhantomData<V>);

    impl<'de, V: Deserialize<'de>> Visitor<'de> for UniqueKeys<V> {
        type Value = BTreeMap<String, V>;

        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("an object whose keys are all different")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
            let mut map = BTreeMap::new();
            while let Some((key, value)) = access.next_entry::<String, V>()? {
                if map.contains_key(&key) {
                    return Err(duplicate(&key));
                }
                map.insert(key, value);
            }
            Ok(map)
        }
    }

    deserializer.deserialize_map(UniqueKeys(PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Counts {
        #[serde(deserialize_with = "map")]
        per_category: BTreeMap<String, f64>,
    }

    #[test]
    fn a_repeated_key_is_an_error_naming_it() {
        let ok: Counts = serde_json::from_str(r#"{"per_category": {"a": 1, "b": 2}}"#).unwrap();
        assert_eq!(ok.per_category.len(), 2);
        let error =
            serde_json::from_str::<Counts>(r#"{"per_category": {"GEMM": 412, "GEMM": 9000}}"#)
                .unwrap_err()
                .to_string();
        assert!(error.starts_with("duplicate key `GEMM`"), "{error}");
    }

    #[test]
    fn repeated_keys_are_noted_at_any_depth_and_the_last_value_kept() {
        let (values, repeated) = values_noting_duplicates(
            "{\"a\": [1, {\"b\": 2.5, \"b\": 3}], \"c\": null}\n{\"c\": 1, \"c\": 2}",
        )
        .unwrap();
        assert_eq!(
            values,
            vec![
                serde_json::json!({"a": [1, {"b": 3}], "c": null}),
                serde_json::json!({"c": 2})
            ]
        );
        assert_eq!(repeated, ["b", "c"]);
        assert!(values_noting_duplicates("{\"a\": ").is_err());
        assert!(values_noting_duplicates("{\"a\": 1}\n{\"b\": ").is_err());
        assert!(values_noting_duplicates("   ").unwrap().0.is_empty());
    }
}
