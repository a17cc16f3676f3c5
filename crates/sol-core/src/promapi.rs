//! Prometheus HTTP API responses (`/api/v1/query`, `/api/v1/query_range`) as raw series. Pure:
//! the live source (a later issue) hands the body text here. Values arrive as strings
//! (`"0.929260"`, `"NaN"`, `"+Inf"`) and timestamps as float epoch seconds.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::series::{RawSeries, Sample};

/// A response that carries no usable data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PromApiError {
    /// Not JSON of the API's envelope.
    #[error("not a Prometheus API response: {0}")]
    Shape(String),
    /// `"status": "error"`.
    #[error("the server answered {error_type}: {error}")]
    Server {
        /// `errorType` (`bad_data`, `execution`, `422`, …).
        error_type: String,
        /// The server's message.
        error: String,
    },
    /// A result type other than vector or matrix (`scalar`, `string`).
    #[error("result type `{0}` carries no series; query a vector or a range selector")]
    NotSeries(String),
    /// A sample value that is not a number.
    #[error("sample value `{0}` is not a number")]
    BadValue(String),
    /// The answer broke off while it was read.
    #[error("the answer broke off while it was read: {0}")]
    Read(String),
}

// Plain structs, no internally tagged enums (serde buffers a tagged enum's whole content before
// choosing the variant). The result array is read element by element whatever `resultType`
// says (it may come after `result`): objects are series, anything else (a scalar's `[t, "v"]`)
// is skipped and the type checked at the end. Sample values are parsed as they are read, so a
// response streams from a reader into sample buffers without holding its text.
#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(rename = "errorType", default)]
    error_type: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    #[serde(default)]
    result: ResultItems,
}

/// One sample as the API writes it: `[<epoch s>, "<value>"]`.
type Point = (f64, SampleValue);

/// A sample value, parsed as it is read (no string kept): the number, or the text that is not one.
#[derive(Debug)]
struct SampleValue(Result<f64, String>);

impl<'de> Deserialize<'de> for SampleValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = SampleValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a sample value as a string (\"0.93\", \"NaN\", \"+Inf\")")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<SampleValue, E> {
                Ok(SampleValue(
                    text.parse::<f64>().map_err(|_| text.to_string()),
                ))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

/// A series of a vector (`value`) or a matrix (`values`).
#[derive(Deserialize)]
struct AnySeries {
    metric: BTreeMap<String, String>,
    #[serde(default)]
    value: Option<Point>,
    #[serde(default)]
    values: Points,
}

/// A matrix series' `values`, straight into samples (16 bytes each, nothing else kept); the
/// first value that is not a number is remembered for the error.
#[derive(Default)]
struct Points {
    samples: Vec<Sample>,
    first_bad: Option<String>,
}

impl<'de> Deserialize<'de> for Points {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PointsVisitor;
        impl<'de> serde::de::Visitor<'de> for PointsVisitor {
            type Value = Points;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of [time, \"value\"] pairs")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Points, A::Error> {
                let mut points = Points {
                    samples: Vec::with_capacity(seq.size_hint().unwrap_or(0)),
                    first_bad: None,
                };
                while let Some((t_s, SampleValue(value))) = seq.next_element::<Point>()? {
                    match value {
                        Ok(value) => points.samples.push(Sample { t_s, value }),
                        Err(text) => {
                            points.first_bad.get_or_insert(text);
                        }
                    }
                }
                Ok(points)
            }
        }
        deserializer.deserialize_seq(PointsVisitor)
    }
}

/// The `result` array: its series, and whether anything else was in it.
#[derive(Default)]
struct ResultItems {
    series: Vec<AnySeries>,
    non_series: usize,
}

/// One element of `result`.
enum Item {
    Series(AnySeries),
    Other,
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ItemVisitor;
        impl<'de> serde::de::Visitor<'de> for ItemVisitor {
            type Value = Item;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a series object or a scalar's element")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Item, A::Error> {
                AnySeries::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(Item::Series)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Item, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Item::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<Item, E> {
                Ok(Item::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Item, E> {
                Ok(Item::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Item, E> {
                Ok(Item::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Item, E> {
                Ok(Item::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Item, E> {
                Ok(Item::Other)
            }
            fn visit_unit<E>(self) -> Result<Item, E> {
                Ok(Item::Other)
            }
        }
        deserializer.deserialize_any(ItemVisitor)
    }
}

impl<'de> Deserialize<'de> for ResultItems {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut items = ResultItems::default();
        for item in Vec::<Item>::deserialize(deserializer)? {
            match item {
                Item::Series(series) => items.series.push(series),
                Item::Other => items.non_series += 1,
            }
        }
        Ok(items)
    }
}

/// What a successful response's result held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultKind {
    /// One sample per series (an instant vector).
    Vector,
    /// Raw samples per series (a range selector).
    Matrix,
}

/// Series of a successful response, and the server's warnings.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiSeries {
    /// Vector or matrix.
    pub kind: ResultKind,
    /// One per result entry; `__name__` moved into `metric` (empty when the server dropped it).
    pub series: Vec<RawSeries>,
    /// `warnings` of the response (partial data, …).
    pub warnings: Vec<String>,
}

fn to_series(
    mut labels: BTreeMap<String, String>,
    points: Points,
) -> Result<RawSeries, PromApiError> {
    if let Some(text) = points.first_bad {
        return Err(PromApiError::BadValue(text));
    }
    let metric = labels.remove("__name__").unwrap_or_default();
    Ok(RawSeries {
        metric,
        labels,
        samples: points.samples,
    })
}

fn shape(error: serde_json::Error) -> PromApiError {
    PromApiError::Shape(error.to_string())
}

/// Parses a response body.
pub fn parse_response(body: &str) -> Result<ApiSeries, PromApiError> {
    series_of(serde_json::from_str(body).map_err(shape)?)
}

/// Answers up to this size are read whole and parsed from memory (about twice as fast as
/// parsing from a reader); larger ones are parsed as they are read.
pub const BUFFERED_ANSWER_BYTES: u64 = 16 << 20;

/// Parses a response as it is read (an HTTP body): memory holds the samples and at most
/// [`BUFFERED_ANSWER_BYTES`] of the text. An I/O failure while reading is
/// [`PromApiError::Read`].
pub fn parse_response_from(reader: impl std::io::Read) -> Result<ApiSeries, PromApiError> {
    parse_buffering(reader, BUFFERED_ANSWER_BYTES)
}

fn parse_buffering(
    mut reader: impl std::io::Read,
    buffered_bytes: u64,
) -> Result<ApiSeries, PromApiError> {
    use std::io::Read;
    let mut head = Vec::new();
    // One byte past the limit tells a whole answer from a longer one.
    (&mut reader)
        .take(buffered_bytes + 1)
        .read_to_end(&mut head)
        .map_err(|e| PromApiError::Read(e.to_string()))?;
    let envelope = if head.len() as u64 <= buffered_bytes {
        serde_json::from_slice(&head).map_err(shape)?
    } else {
        let rest = std::io::Cursor::new(head).chain(reader);
        serde_json::from_reader(std::io::BufReader::with_capacity(1 << 16, rest)).map_err(|e| {
            if e.is_io() {
                PromApiError::Read(e.to_string())
            } else {
                shape(e)
            }
        })?
    };
    series_of(envelope)
}

fn series_of(envelope: Envelope) -> Result<ApiSeries, PromApiError> {
    match envelope.status.as_str() {
        "success" => {}
        "error" => {
            return Err(PromApiError::Server {
                error_type: envelope.error_type,
                error: envelope.error,
            });
        }
        other => {
            return Err(PromApiError::Shape(format!(
                "unknown status `{other}` (expected success or error)"
            )));
        }
    }
    let data = envelope
        .data
        .ok_or_else(|| PromApiError::Shape("a success without `data`".into()))?;
    let kind = match data.result_type.as_str() {
        "vector" => ResultKind::Vector,
        "matrix" => ResultKind::Matrix,
        other => return Err(PromApiError::NotSeries(other.to_string())),
    };
    if data.result.non_series > 0 {
        return Err(PromApiError::Shape(format!(
            "a {} result holding {} element(s) that are not series objects",
            data.result_type, data.result.non_series
        )));
    }
    let series = data
        .result
        .series
        .into_iter()
        .map(|s| match kind {
            ResultKind::Vector => {
                let (t_s, SampleValue(value)) = s
                    .value
                    .ok_or_else(|| PromApiError::Shape("a vector series without `value`".into()))?;
                let points = match value {
                    Ok(value) => Points {
                        samples: vec![Sample { t_s, value }],
                        first_bad: None,
                    },
                    Err(text) => Points {
                        samples: Vec::new(),
                        first_bad: Some(text),
                    },
                };
                to_series(s.metric, points)
            }
            ResultKind::Matrix => to_series(s.metric, s.values),
        })
        .collect::<Result<_, _>>()?;
    Ok(ApiSeries {
        kind,
        series,
        warnings: envelope.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::GpuKey;

    /// A reader that hands out its text a few bytes at a time, then fails if asked to.
    struct Trickle<'a> {
        text: &'a [u8],
        fail_at_end: bool,
    }

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.text.is_empty() && self.fail_at_end {
                return Err(std::io::Error::other("connection reset"));
            }
            let n = buf.len().min(3).min(self.text.len());
            buf[..n].copy_from_slice(&self.text[..n]);
            self.text = &self.text[n..];
            Ok(n)
        }
    }

    #[test]
    fn an_answer_reads_the_same_whole_or_streamed() {
        let text = include_str!(
            "../../../testdata/shared-fixtures/dcgm-exporter/h100-prometheus-query-excerpt.json"
        );
        let whole = parse_response(text).unwrap();
        // Buffered whole (the limit above its length), and streamed past a 10-byte buffer.
        for buffered_bytes in [1 << 20, 10, 0] {
            let reader = Trickle {
                text: text.as_bytes(),
                fail_at_end: false,
            };
            assert_eq!(parse_buffering(reader, buffered_bytes).unwrap(), whole);
        }
        // A connection that breaks before the answer ends is a read failure either way.
        for buffered_bytes in [1 << 20, 10] {
            let reader = Trickle {
                text: &text.as_bytes()[..text.len() / 2],
                fail_at_end: true,
            };
            assert!(matches!(
                parse_buffering(reader, buffered_bytes),
                Err(PromApiError::Read(_))
            ));
        }
    }

    #[test]
    fn parses_the_real_h100_instant_query_fixture() {
        let text = include_str!(
            "../../../testdata/shared-fixtures/dcgm-exporter/h100-prometheus-query-excerpt.json"
        );
        let parsed = parse_response(text).unwrap();
        assert_eq!(parsed.kind, ResultKind::Vector);
        assert_eq!(parsed.series.len(), 8);
        assert!(
            parsed
                .series
                .iter()
                .all(|s| s.metric == "DCGM_FI_DEV_GPU_UTIL")
        );
        assert_eq!(
            parsed.series[0].samples,
            vec![Sample {
                t_s: 1_771_529_464.57,
                value: 0.0
            }]
        );
        // gpu 6 carries the workload labels renamed by the ServiceMonitor; identity ignores them.
        let gpu6 = parsed
            .series
            .iter()
            .find(|s| s.labels["gpu"] == "6")
            .unwrap();
        assert_eq!(gpu6.labels["exported_namespace"], "dynamo-workload");
        assert_eq!(gpu6.labels["namespace"], "gpu-operator");
        let keys: std::collections::BTreeSet<GpuKey> = parsed
            .series
            .iter()
            .filter_map(|s| GpuKey::from_labels(&s.labels))
            .collect();
        assert_eq!(keys.len(), 8);
    }

    #[test]
    fn matrix_errors_and_special_values() {
        // The last value is written with a JSON escape ("0\u002e25" is "0.25"): it cannot be
        // borrowed from the body and must still parse.
        let body = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"M","gpu":"0"},"values":[[10,"NaN"],[20,"+Inf"],[30,"0.5"],[40,"0\u002e25"]]}]},"warnings":["partial"]}"#;
        let parsed = parse_response(body).unwrap();
        assert_eq!(parsed.kind, ResultKind::Matrix);
        assert_eq!(parsed.warnings, vec!["partial".to_string()]);
        let values: Vec<f64> = parsed.series[0].samples.iter().map(|s| s.value).collect();
        assert!(values[0].is_nan() && values[1].is_infinite() && values[2] == 0.5);
        assert_eq!(values[3], 0.25);
        let unknown = r#"{"status":"pending"}"#;
        assert!(matches!(
            parse_response(unknown),
            Err(PromApiError::Shape(_))
        ));
        let error = r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#;
        assert_eq!(
            parse_response(error),
            Err(PromApiError::Server {
                error_type: "bad_data".into(),
                error: "parse error".into()
            })
        );
        assert!(matches!(
            parse_response("<html>502</html>"),
            Err(PromApiError::Shape(_))
        ));
        let scalar = r#"{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}"#;
        assert_eq!(
            parse_response(scalar),
            Err(PromApiError::NotSeries("scalar".into()))
        );
        let bad = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}}"#;
        assert_eq!(
            parse_response(bad),
            Err(PromApiError::BadValue("abc".into()))
        );
    }
}
