//! Deserialising a JSON object as a map that refuses duplicate keys. serde_json keeps the last
//! of two equal keys silently; for hand-edited inputs that silently drops a number the user
//! wrote, so the second occurrence is an error naming the key.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};

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
                    return Err(serde::de::Error::custom(format!(
                        "duplicate key `{key}` (a JSON object names each key once; keep the right one)"
                    )));
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
}
