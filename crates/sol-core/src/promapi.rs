//! Prometheus HTTP API responses (`/api/v1/query`, `/api/v1/query_range`) as raw series. Pure:
//! the live source (a later issue) hands the body text here. Values arrive as strings
//! (`"0.929260"`, `"NaN"`, `"+Inf"`) and timestamps as float epoch seconds.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

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
}

// Plain structs, no internally tagged enums: serde buffers a tagged enum's whole content before
// choosing the variant, which doubled the parse time of large matrices. `result` is kept as raw
// text until `resultType` says what it holds; sample values borrow from the body.
#[derive(Deserialize)]
struct Envelope<'a> {
    status: Cow<'a, str>,
    #[serde(borrow, default)]
    data: Option<Data<'a>>,
    #[serde(rename = "errorType", default)]
    error_type: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(rename = "resultType")]
    result_type: Cow<'a, str>,
    #[serde(borrow)]
    result: &'a RawValue,
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

#[derive(Deserialize)]
struct InstantSeries {
    metric: BTreeMap<String, String>,
    value: Point,
}

#[derive(Deserialize)]
struct RangeSeries {
    metric: BTreeMap<String, String>,
    values: Vec<Point>,
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
    points: impl IntoIterator<Item = Point>,
) -> Result<RawSeries, PromApiError> {
    let metric = labels.remove("__name__").unwrap_or_default();
    let samples = points
        .into_iter()
        .map(|(t_s, SampleValue(value))| {
            value
                .map(|value| Sample { t_s, value })
                .map_err(PromApiError::BadValue)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RawSeries {
        metric,
        labels,
        samples,
    })
}

fn shape(error: serde_json::Error) -> PromApiError {
    PromApiError::Shape(error.to_string())
}

/// Parses a response body.
pub fn parse_response(body: &str) -> Result<ApiSeries, PromApiError> {
    let envelope: Envelope = serde_json::from_str(body).map_err(shape)?;
    match envelope.status.as_ref() {
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
    let result = data.result.get();
    let (kind, series) = match data.result_type.as_ref() {
        "vector" => (
            ResultKind::Vector,
            serde_json::from_str::<Vec<InstantSeries>>(result)
                .map_err(shape)?
                .into_iter()
                .map(|e| to_series(e.metric, [e.value]))
                .collect::<Result<_, _>>()?,
        ),
        "matrix" => (
            ResultKind::Matrix,
            serde_json::from_str::<Vec<RangeSeries>>(result)
                .map_err(shape)?
                .into_iter()
                .map(|e| to_series(e.metric, e.values))
                .collect::<Result<_, _>>()?,
        ),
        other => return Err(PromApiError::NotSeries(other.to_string())),
    };
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
