//! What can go wrong talking to a Prometheus-compatible API, and what the user should do.

use std::fmt;

/// The request an error is about: the endpoint URL (never with credentials) and, for queries,
/// the PromQL or series matchers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Full endpoint URL, e.g. `https://mimir/prometheus/api/v1/query`.
    pub url: String,
    /// The PromQL (or `match[]` list) sent, if any.
    pub query: Option<String>,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.query {
            Some(query) => write!(f, "{} (query `{query}`)", self.url),
            None => f.write_str(&self.url),
        }
    }
}

/// A failure of the Prometheus source. Messages name the URL and the query and say what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PromError {
    /// The base URL cannot be used (shown with any credentials masked).
    #[error("Prometheus URL `{url}`: {reason}")]
    BadUrl {
        /// The URL as given, credentials masked.
        url: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// A setting other than the URL is unusable (header, CA file, credential file, label name).
    #[error("{setting}: {reason}")]
    BadSetting {
        /// Which setting.
        setting: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// No connection (refused, DNS, TLS).
    #[error(
        "{target}: cannot reach the server after {attempts} attempt(s) ({reason}); is the server up, is the URL right?"
    )]
    Unreachable {
        /// The request.
        target: Target,
        /// The transport's explanation.
        reason: String,
        /// Attempts made.
        attempts: u32,
    },
    /// No complete answer within the timeout.
    #[error(
        "{target}: timed out: no complete answer within {timeout_s} s after {attempts} attempt(s); the server is slow or overloaded: raise the timeout or query a shorter window"
    )]
    Timeout {
        /// The request.
        target: Target,
        /// The per-request timeout, s.
        timeout_s: f64,
        /// Attempts made.
        attempts: u32,
    },
    /// 401 or 403.
    #[error(
        "{target}: HTTP {status}, auth refused: check the bearer token, the basic-auth user and password, and the X-Scope-OrgID header (server: \"{server_text}\")"
    )]
    AuthRefused {
        /// The request.
        target: Target,
        /// 401 or 403.
        status: u16,
        /// What the server said (start of the body).
        server_text: String,
    },
    /// 400 or 422: the server rejected the query.
    #[error("{target}: HTTP {status}, the server rejected the query: \"{server_error}\"")]
    BadQuery {
        /// The request.
        target: Target,
        /// 400 or 422.
        status: u16,
        /// The server's `error` text.
        server_error: String,
    },
    /// 404: nothing serves the API under this path.
    #[error(
        "{target}: HTTP 404, no Prometheus API under this path; check the URL's path prefix (Mimir: <base>/prometheus, VictoriaMetrics cluster: <base>/select/<tenant>/prometheus, Prometheus and Thanos: none)"
    )]
    NotFound {
        /// The request.
        target: Target,
    },
    /// A 3xx answer: redirects are not followed (a POST would silently turn into a GET).
    #[error(
        "{target}: HTTP {status}, the server redirects to `{location}`; use that address as the URL"
    )]
    Redirected {
        /// The request.
        target: Target,
        /// The 3xx status.
        status: u16,
        /// The `Location` header.
        location: String,
    },
    /// Another 4xx (except 429).
    #[error(
        "{target}: HTTP {status}, the request was refused: \"{server_text}\"; check the URL and the flags"
    )]
    Refused {
        /// The request.
        target: Target,
        /// The status.
        status: u16,
        /// Start of the body.
        server_text: String,
    },
    /// 5xx or 429, after the retries.
    #[error(
        "{target}: HTTP {status} after {attempts} attempt(s): \"{server_text}\"; the server is failing or overloaded, try again later"
    )]
    ServerFailed {
        /// The request.
        target: Target,
        /// The last status.
        status: u16,
        /// Attempts made.
        attempts: u32,
        /// Start of the last body.
        server_text: String,
    },
    /// A 2xx body that is not the API's JSON (e.g. a proxy's HTML page).
    #[error(
        "{target}: the answer is not the Prometheus API's JSON ({reason}); it begins \"{excerpt}\"; is a proxy in the way, or is the URL not a Prometheus-compatible API?"
    )]
    NotApiJson {
        /// The request.
        target: Target,
        /// The decoder's explanation.
        reason: String,
        /// The first 200 characters of the body.
        excerpt: String,
    },
    /// `"status": "error"` in a 2xx answer.
    #[error("{target}: the server answered with an error ({error_type}): \"{server_error}\"")]
    ApiError {
        /// The request.
        target: Target,
        /// `errorType`.
        error_type: String,
        /// `error`.
        server_error: String,
    },
    /// Valid JSON that carries no usable data (wrong result type, a non-numeric sample).
    #[error("{target}: unusable answer: {reason}")]
    UnusableAnswer {
        /// The request.
        target: Target,
        /// What is wrong.
        reason: String,
    },
}

impl PromError {
    /// Whether the user fixes this by changing the arguments (URL, credentials, query, flags) —
    /// exit 2 — rather than by waiting for the server (down, slow, failing, garbled) — exit 1.
    /// A 422 is the server declining to execute a valid query (Prometheus: too many samples;
    /// Mimir/Thanos/VictoriaMetrics limits), not the user's mistake.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            PromError::BadUrl { .. }
                | PromError::BadSetting { .. }
                | PromError::AuthRefused { .. }
                | PromError::BadQuery { status: 400, .. }
                | PromError::NotFound { .. }
                | PromError::Redirected { .. }
                | PromError::Refused { .. }
        )
    }
}

/// The first 200 characters of a body, whitespace runs folded to one space: enough to recognise
/// a proxy's error page without flooding the terminal.
pub(crate) fn excerpt(body: &str) -> String {
    const MAX_CHARS: usize = 200;
    let folded = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match folded.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &folded[..cut]),
        None => folded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_folds_whitespace_and_cuts_at_200_chars() {
        assert_eq!(
            excerpt("<html>\n  <b>502</b>\n</html>"),
            "<html> <b>502</b> </html>"
        );
        // 300 × "é" (2 bytes each): the cut is on a character boundary after 200 characters.
        let long = "é".repeat(300);
        assert_eq!(excerpt(&long), format!("{}…", "é".repeat(200)));
    }

    #[test]
    fn input_errors_are_the_ones_arguments_fix() {
        let target = Target {
            url: "http://p/api/v1/query".into(),
            query: Some("up".into()),
        };
        let refused = PromError::AuthRefused {
            target: target.clone(),
            status: 401,
            server_text: String::new(),
        };
        let down = PromError::ServerFailed {
            target: target.clone(),
            status: 503,
            attempts: 4,
            server_text: String::new(),
        };
        assert!(refused.is_input_error());
        assert!(!down.is_input_error());
        assert!(
            !PromError::Timeout {
                target,
                timeout_s: 30.0,
                attempts: 4
            }
            .is_input_error()
        );
    }
}
