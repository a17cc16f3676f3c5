//! JSON-RPC 2.0 as the MCP stdio transport carries it: one message per line, ids that are
//! strings or integers, no batches (MCP 2025-06-18 dropped them).

use serde_json::{Map, Value, json};

/// The line is not JSON.
pub const PARSE_ERROR: i64 = -32700;
/// JSON, but not a JSON-RPC request.
pub const INVALID_REQUEST: i64 = -32600;
/// No such method.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// The method exists; its params do not fit.
pub const INVALID_PARAMS: i64 = -32602;

/// A JSON-RPC error: code and a message that says what to send instead.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// One of the codes above.
    pub code: i64,
    /// What was wrong.
    pub message: String,
}

impl RpcError {
    /// An error with `code`.
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
        }
    }

    /// `INVALID_PARAMS`.
    pub fn invalid_params(message: impl Into<String>) -> RpcError {
        RpcError::new(INVALID_PARAMS, message)
    }
}

/// One line from the client, classified.
#[derive(Debug, PartialEq)]
pub enum Incoming {
    /// A request: it gets exactly one response.
    Request {
        /// String or integer.
        id: Value,
        /// Method name.
        method: String,
        /// `params`, when present.
        params: Option<Value>,
    },
    /// A notification: never answered.
    Notification {
        /// Method name.
        method: String,
        /// `params`, when present.
        params: Option<Value>,
    },
    /// A response to a request of ours; this server sends none, so it is dropped.
    Response,
    /// Not a usable message: the error to answer with, under `id` (null when unreadable).
    Invalid {
        /// The request's id when it could be read, else null.
        id: Value,
        /// What was wrong.
        error: RpcError,
    },
}

/// Classifies one line as read (newline included); `None` for a blank line.
pub fn parse_bytes(line: &[u8]) -> Option<Incoming> {
    match std::str::from_utf8(line) {
        Ok(text) if text.trim().is_empty() => None,
        Ok(text) => Some(parse_line(text.trim_end())),
        Err(e) => Some(invalid(
            Value::Null,
            RpcError::new(
                PARSE_ERROR,
                format!("parse error: the line is not UTF-8 ({e})"),
            ),
        )),
    }
}

/// Classifies one line (without its newline).
pub fn parse_line(line: &str) -> Incoming {
    let value: Value = match serde_json::from_str(line) {
        Ok(value) => value,
        Err(e) => {
            return invalid(
                Value::Null,
                RpcError::new(
                    PARSE_ERROR,
                    format!("parse error: {e}; send one JSON-RPC message per line"),
                ),
            );
        }
    };
    match value {
        Value::Object(message) => classify(message),
        Value::Array(_) => invalid(
            Value::Null,
            RpcError::new(
                INVALID_REQUEST,
                "batches are not supported (MCP 2025-06-18 removed JSON-RPC batching); send one request per line",
            ),
        ),
        other => invalid(
            Value::Null,
            RpcError::new(
                INVALID_REQUEST,
                format!("a JSON-RPC message is an object, not {}", kind_of(&other)),
            ),
        ),
    }
}

fn classify(mut message: Map<String, Value>) -> Incoming {
    let id = message.remove("id");
    let readable_id = id.clone().filter(is_valid_id).unwrap_or(Value::Null);
    if message.get("jsonrpc") != Some(&json!("2.0")) {
        return invalid(
            readable_id,
            RpcError::new(INVALID_REQUEST, "`jsonrpc` must be \"2.0\""),
        );
    }
    let params = message.remove("params");
    let method = match message.remove("method") {
        Some(Value::String(method)) => method,
        Some(other) => {
            return invalid(
                readable_id,
                RpcError::new(
                    INVALID_REQUEST,
                    format!("`method` must be a string, not {}", kind_of(&other)),
                ),
            );
        }
        None if id.is_some()
            && (message.contains_key("result") || message.contains_key("error")) =>
        {
            return Incoming::Response;
        }
        None => {
            return invalid(readable_id, RpcError::new(INVALID_REQUEST, "no `method`"));
        }
    };
    match id {
        None => Incoming::Notification { method, params },
        Some(id) if is_valid_id(&id) => Incoming::Request { id, method, params },
        Some(other) => invalid(
            Value::Null,
            RpcError::new(
                INVALID_REQUEST,
                format!(
                    "`id` must be a string or an integer, not {}",
                    kind_of(&other)
                ),
            ),
        ),
    }
}

/// MCP: an id is a string or an integer, never null.
fn is_valid_id(id: &Value) -> bool {
    id.is_string() || id.is_i64() || id.is_u64()
}

fn invalid(id: Value, error: RpcError) -> Incoming {
    Incoming::Invalid { id, error }
}

/// A JSON type's name, for messages.
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a fractional number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A success response.
pub fn result_response(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// An error response.
pub fn error_response(id: &Value, error: &RpcError) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": error.code, "message": error.message},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_code(line: &str) -> (Value, i64) {
        match parse_line(line) {
            Incoming::Invalid { id, error } => (id, error.code),
            other => panic!("{line}: expected an error, got {other:?}"),
        }
    }

    #[test]
    fn requests_notifications_and_responses_are_told_apart() {
        assert_eq!(
            parse_line(r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#),
            Incoming::Request {
                id: json!(7),
                method: "ping".into(),
                params: None
            }
        );
        assert_eq!(
            parse_line(r#"{"jsonrpc":"2.0","method":"notifications/initialized","params":{}}"#),
            Incoming::Notification {
                method: "notifications/initialized".into(),
                params: Some(json!({}))
            }
        );
        assert_eq!(
            parse_line(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#),
            Incoming::Response
        );
    }

    #[test]
    fn malformed_lines_get_the_json_rpc_codes() {
        assert_eq!(error_code("{not json"), (Value::Null, PARSE_ERROR));
        assert_eq!(error_code("[]"), (Value::Null, INVALID_REQUEST));
        assert_eq!(error_code("42"), (Value::Null, INVALID_REQUEST));
        // A readable id is kept; an unusable one becomes null.
        assert_eq!(
            error_code(r#"{"jsonrpc":"1.0","id":3,"method":"ping"}"#),
            (json!(3), INVALID_REQUEST)
        );
        assert_eq!(
            error_code(r#"{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}"#),
            (Value::Null, INVALID_REQUEST)
        );
        assert_eq!(
            error_code(r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#),
            (Value::Null, INVALID_REQUEST)
        );
        assert_eq!(
            error_code(r#"{"jsonrpc":"2.0","id":4,"method":9}"#),
            (json!(4), INVALID_REQUEST)
        );
        assert_eq!(
            error_code(r#"{"jsonrpc":"2.0","id":5}"#),
            (json!(5), INVALID_REQUEST)
        );
    }

    #[test]
    fn blank_lines_are_skipped_and_other_bytes_refused() {
        assert_eq!(parse_bytes(b"  \r\n"), None);
        assert!(matches!(
            parse_bytes(b"{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\r\n"),
            Some(Incoming::Notification { .. })
        ));
        assert!(matches!(
            parse_bytes(b"\xff\xfe\n"),
            Some(Incoming::Invalid {
                error: RpcError {
                    code: PARSE_ERROR,
                    ..
                },
                ..
            })
        ));
    }
}
