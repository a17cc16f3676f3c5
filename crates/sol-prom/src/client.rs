//! A read-only client for the Prometheus HTTP API: the query and metadata endpoints only, POST
//! form bodies for queries, a timeout on every request, bounded retries with backoff, and errors
//! that say what to do.

use std::fmt;
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use sol_core::labels::Labels;
use sol_core::promapi::{self, ApiSeries, PromApiError, ResultKind};

use crate::config::{Auth, BaseUrl, MAX_BACKOFF, PromConfig, mask_credentials};
use crate::error::{PromError, Target, excerpt};
use crate::secret::Secret;

/// Largest response body read (a long window of 1 s samples for many GPUs stays far below).
const MAX_BODY_BYTES: u64 = 512 * 1024 * 1024;

/// Idle connections kept per host: enough for the source's parallel queries to reuse theirs.
const POOLED_CONNECTIONS_PER_HOST: usize = 16;

/// A successful answer and the server's warnings about it (partial data, …).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer<T> {
    /// The `data` of the response.
    pub data: T,
    /// The response's `warnings`.
    pub warnings: Vec<String>,
}

/// A client of one Prometheus-compatible server (Prometheus, Thanos, Mimir, VictoriaMetrics).
/// Shareable between threads; every HTTP request (retries included) is counted.
pub struct PromClient {
    base: BaseUrl,
    agent: ureq::Agent,
    headers: Vec<(String, Secret)>,
    /// Every credential as it could appear in an echoed body, longest first.
    credentials: Vec<Secret>,
    timeout: Duration,
    retries: u32,
    backoff_base: Duration,
    warnings: Vec<String>,
    requests_made: AtomicUsize,
}

impl fmt::Debug for PromClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromClient")
            .field("base_url", &self.base.text)
            .field("headers", &self.headers)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

/// Why one attempt failed.
enum Failure {
    /// No HTTP answer (connection, TLS, timeout).
    Transport(ureq::Error),
    /// A non-2xx answer.
    Status {
        status: u16,
        body: String,
        location: Option<String>,
    },
    /// A 2xx answer that cannot be used (final: the server would say the same again).
    Unusable(Box<PromError>),
}

impl Failure {
    /// Connection errors, timeouts, 429 and 500/502/503/504 may pass; other answers will not.
    fn is_retryable(&self) -> bool {
        match self {
            Failure::Transport(error) => {
                !is_tls_failure(error)
                    && matches!(
                        error,
                        ureq::Error::Timeout(_)
                            | ureq::Error::Io(_)
                            | ureq::Error::ConnectionFailed
                            | ureq::Error::Protocol(_)
                    )
            }
            Failure::Status { status, .. } => matches!(status, 429 | 500..=599),
            Failure::Unusable(_) => false,
        }
    }
}

/// A TLS failure (untrusted certificate, a server that does not speak TLS): retrying will not
/// help. rustls reports handshake failures as `InvalidData` I/O errors.
fn is_tls_failure(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => true,
        ureq::Error::Io(io) => io.kind() == std::io::ErrorKind::InvalidData,
        _ => false,
    }
}

fn is_timeout(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::Timeout(_) => true,
        ureq::Error::Io(io) => matches!(
            io.kind(),
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
        ),
        _ => false,
    }
}

/// The API's envelope around a non-query `data` (series, label values, build info).
#[derive(Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
enum Envelope<T> {
    Success {
        data: T,
        #[serde(default)]
        warnings: Vec<String>,
    },
    Error {
        #[serde(rename = "errorType", default)]
        error_type: String,
        #[serde(default)]
        error: String,
    },
}

#[derive(Deserialize)]
struct BuildInfo {
    #[serde(default)]
    version: Option<String>,
}

impl PromClient {
    /// Validates the configuration (URL, headers, CA file) and builds the client.
    pub fn new(config: &PromConfig) -> Result<PromClient, PromError> {
        let base = BaseUrl::parse(&config.base_url)?;
        let headers = config.request_headers()?;
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            // 4xx/5xx bodies carry the server's explanation: read them instead of an error.
            .http_status_as_error(false)
            // A redirected POST would silently become a GET; report the new address instead.
            .max_redirects(0)
            .tls_config(config.tls_config()?)
            .user_agent(concat!("dcgm-sol/", env!("CARGO_PKG_VERSION")))
            .max_idle_connections_per_host(POOLED_CONNECTIONS_PER_HOST)
            .build()
            .new_agent();
        Ok(PromClient {
            warnings: config.warnings(&base),
            credentials: credentials(config, &headers),
            base,
            agent,
            headers,
            timeout: config.timeout,
            retries: config.retries,
            backoff_base: config.backoff_base,
            requests_made: AtomicUsize::new(0),
        })
    }

    /// The base URL, normalised (never with credentials): provenance names the source by it.
    pub fn base_url(&self) -> &str {
        &self.base.text
    }

    /// What the user must be told about this configuration (TLS verification off, credentials
    /// over plain http). The caller prints them.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// HTTP requests sent so far, retries included.
    pub fn requests_made(&self) -> usize {
        self.requests_made.load(Ordering::Relaxed)
    }

    /// Instant query evaluated at `time_s` (the `time` parameter, epoch s).
    pub fn instant_query(&self, promql: &str, time_s: f64) -> Result<ApiSeries, PromError> {
        self.query_series(promql, time_s).map(|(_, series)| series)
    }

    /// Instant query of a range selector: the raw samples it selects. Any result type other
    /// than a matrix is an error (the query was not a range selector).
    pub fn raw_samples(&self, promql: &str, time_s: f64) -> Result<ApiSeries, PromError> {
        let (target, parsed) = self.query_series(promql, time_s)?;
        if parsed.kind != ResultKind::Matrix {
            return Err(PromError::UnusableAnswer {
                target,
                reason:
                    "expected a matrix of raw samples (a range selector), got an instant vector"
                        .to_string(),
            });
        }
        Ok(parsed)
    }

    /// Range query over `[start_s, end_s]` at `step_s`.
    pub fn range_query(
        &self,
        promql: &str,
        start_s: f64,
        end_s: f64,
        step_s: f64,
    ) -> Result<ApiSeries, PromError> {
        let target = self.target("query_range", Some(promql.to_string()));
        let form = [
            ("query", promql.to_string()),
            ("start", seconds(start_s)),
            ("end", seconds(end_s)),
            ("step", seconds(step_s)),
        ];
        self.send(&target, Some(&form), &|reader| {
            self.decode_series(&target, reader)
        })
    }

    /// The series matching any of `matchers` over `[start_s, end_s]`, each label set with its
    /// `__name__`. One request; `match[]` repeated.
    pub fn series(
        &self,
        matchers: &[String],
        start_s: f64,
        end_s: f64,
    ) -> Result<Answer<Vec<Labels>>, PromError> {
        let target = self.target("series", Some(summarise(matchers)));
        let form: Vec<(&str, String)> = matchers
            .iter()
            .map(|m| ("match[]", m.clone()))
            .chain([("start", seconds(start_s)), ("end", seconds(end_s))])
            .collect();
        let body = self.send(&target, Some(&form), &read_text)?;
        self.parse_envelope(&target, &body)
    }

    /// The values a label takes (`/api/v1/label/<name>/values`).
    pub fn label_values(&self, name: &str) -> Result<Answer<Vec<String>>, PromError> {
        // Checked so the name cannot change the path (`../`).
        if !is_label_name(name) {
            return Err(PromError::BadSetting {
                setting: format!("label name `{}`", name.escape_default()),
                reason: "not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)".into(),
            });
        }
        let target = self.target(&format!("label/{name}/values"), None);
        let body = self.send(&target, None, &read_text)?;
        self.parse_envelope(&target, &body)
    }

    /// The server's version from `/api/v1/status/buildinfo`; `None` when it does not say
    /// (VictoriaMetrics answers with empty `data`).
    pub fn build_info(&self) -> Result<Option<String>, PromError> {
        let target = self.target("status/buildinfo", None);
        let body = self.send(&target, None, &read_text)?;
        let answer: Answer<Option<BuildInfo>> = self.parse_envelope(&target, &body)?;
        Ok(answer.data.and_then(|info| info.version))
    }

    /// An instant query's series, decoded as the answer streams in.
    fn query_series(&self, promql: &str, time_s: f64) -> Result<(Target, ApiSeries), PromError> {
        let target = self.target("query", Some(promql.to_string()));
        let form = [("query", promql.to_string()), ("time", seconds(time_s))];
        let series = self.send(&target, Some(&form), &|reader| {
            self.decode_series(&target, reader)
        })?;
        Ok((target, series))
    }

    fn target(&self, endpoint: &str, query: Option<String>) -> Target {
        Target {
            url: self.base.endpoint(endpoint),
            query,
        }
    }

    /// Sends one request (POST with a form body, or GET without one), retrying what may pass,
    /// and reads the 2xx answer with `read_ok` as it arrives.
    fn send<T>(
        &self,
        target: &Target,
        form: Option<&[(&str, String)]>,
        read_ok: &dyn Fn(&mut dyn Read) -> Result<T, Failure>,
    ) -> Result<T, PromError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let failure = match self.attempt(&target.url, form, read_ok) {
                Ok(answer) => return Ok(answer),
                Err(failure) => failure,
            };
            if attempts > self.retries || !failure.is_retryable() {
                return Err(self.to_error(failure, target, attempts));
            }
            std::thread::sleep(backoff(self.backoff_base, attempts - 1));
        }
    }

    fn attempt<T>(
        &self,
        url: &str,
        form: Option<&[(&str, String)]>,
        read_ok: &dyn Fn(&mut dyn Read) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        self.requests_made.fetch_add(1, Ordering::Relaxed);
        let sent = match form {
            Some(fields) => self
                .with_headers(self.agent.post(url))
                .send_form(fields.iter().map(|(k, v)| (*k, v.as_str()))),
            None => self.with_headers(self.agent.get(url)).call(),
        };
        let mut response = sent.map_err(Failure::Transport)?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            let mut reader = response
                .body_mut()
                .with_config()
                .limit(MAX_BODY_BYTES)
                .reader();
            return read_ok(&mut reader);
        }
        let read = read_text(
            &mut response
                .body_mut()
                .with_config()
                .limit(MAX_BODY_BYTES)
                .reader(),
        );
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Err(Failure::Status {
            status,
            // The body only explains the status; an unreadable one explains nothing.
            body: read.unwrap_or_default(),
            location,
        })
    }

    fn with_headers<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        self.headers.iter().fold(request, |request, (name, value)| {
            request.header(name.as_str(), value.expose())
        })
    }

    fn to_error(&self, failure: Failure, target: &Target, attempts: u32) -> PromError {
        let target = target.clone();
        match failure {
            Failure::Unusable(error) => *error,
            Failure::Transport(error) if is_timeout(&error) => PromError::Timeout {
                target,
                timeout_s: self.timeout.as_secs_f64(),
                attempts,
            },
            Failure::Transport(error @ (ureq::Error::BadUri(_) | ureq::Error::Http(_))) => {
                PromError::BadUrl {
                    url: target.url,
                    reason: error.to_string(),
                }
            }
            Failure::Transport(error) => PromError::Unreachable {
                target,
                reason: describe_transport(&error),
                attempts,
            },
            Failure::Status {
                status,
                body,
                location,
            } => {
                // Scrubbed before any cut: a credential crossing the cut would not match.
                let server_text = server_text(&self.scrub(&body));
                match status {
                    401 | 403 => PromError::AuthRefused {
                        target,
                        status,
                        server_text,
                    },
                    400 | 422 => PromError::BadQuery {
                        target,
                        status,
                        server_error: server_text,
                    },
                    404 => PromError::NotFound { target },
                    300..=399 => PromError::Redirected {
                        target,
                        status,
                        location: mask_credentials(&location.unwrap_or_default()),
                    },
                    429 | 500.. => PromError::ServerFailed {
                        target,
                        status,
                        attempts,
                        server_text,
                    },
                    _ => PromError::Refused {
                        target,
                        status,
                        server_text,
                    },
                }
            }
        }
    }

    /// Removes any credential a server echoed back (a debugging proxy, an echo endpoint) from
    /// text that goes into a message.
    fn scrub(&self, text: &str) -> String {
        self.credentials
            .iter()
            .fold(text.to_string(), |text, value| {
                text.replace(value.expose(), "***")
            })
    }

    /// The first 200 characters of a body, credentials removed (before the cut).
    fn excerpt(&self, body: &str) -> String {
        excerpt(&self.scrub(body))
    }

    /// Decodes series from the answer as it is read; only its first bytes are kept, for the
    /// excerpt of an error.
    fn decode_series(&self, target: &Target, reader: &mut dyn Read) -> Result<ApiSeries, Failure> {
        let mut head = Head::new(reader);
        let decoded = promapi::parse_response_from(&mut head);
        decoded.map_err(|error| match error {
            PromApiError::Read(reason) => {
                Failure::Transport(ureq::Error::Io(std::io::Error::other(reason)))
            }
            other => Failure::Unusable(Box::new(self.series_error(target, other, &head.text()))),
        })
    }

    fn series_error(&self, target: &Target, error: PromApiError, head: &str) -> PromError {
        match error {
            PromApiError::Shape(reason) => PromError::NotApiJson {
                target: target.clone(),
                reason,
                excerpt: self.excerpt(head),
            },
            PromApiError::Server { error_type, error } => PromError::ApiError {
                target: target.clone(),
                error_type,
                server_error: self.scrub(&error),
            },
            other => PromError::UnusableAnswer {
                target: target.clone(),
                reason: other.to_string(),
            },
        }
    }

    fn parse_envelope<T: DeserializeOwned>(
        &self,
        target: &Target,
        body: &str,
    ) -> Result<Answer<T>, PromError> {
        match serde_json::from_str::<Envelope<T>>(body) {
            Ok(Envelope::Success { data, warnings }) => Ok(Answer { data, warnings }),
            Ok(Envelope::Error { error_type, error }) => Err(PromError::ApiError {
                target: target.clone(),
                error_type,
                server_error: self.scrub(&error),
            }),
            Err(e) => Err(PromError::NotApiJson {
                target: target.clone(),
                reason: e.to_string(),
                excerpt: self.excerpt(body),
            }),
        }
    }
}

/// The whole answer as text. Bytes first: a body that is not UTF-8 (a proxy's page in Latin-1)
/// is a bad answer to show, not an I/O failure.
fn read_text(reader: &mut dyn Read) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::Transport(ureq::Error::Io(e)))?;
    // Valid UTF-8 (every API answer) is taken as is, without a copy.
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// A reader that keeps the first bytes it passes on (for the excerpt of an error).
struct Head<'r> {
    inner: &'r mut dyn Read,
    kept: Vec<u8>,
}

/// Bytes [`Head`] keeps: enough for an excerpt after scrubbing.
const HEAD_BYTES: usize = 4096;

impl<'r> Head<'r> {
    fn new(inner: &'r mut dyn Read) -> Head<'r> {
        Head {
            inner,
            kept: Vec::new(),
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.kept).into_owned()
    }
}

impl Read for Head<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        let room = HEAD_BYTES.saturating_sub(self.kept.len()).min(read);
        self.kept.extend_from_slice(&buf[..room]);
        Ok(read)
    }
}

/// Every credential the requests carry, as it could come back in a body: whole header values,
/// the part after the `Authorization` scheme, the bearer token and the basic-auth password.
fn credentials(config: &PromConfig, headers: &[(String, Secret)]) -> Vec<Secret> {
    let auth = match &config.auth {
        Auth::None => None,
        Auth::Bearer(token) => Some(token.clone()),
        Auth::Basic { password, .. } => Some(password.clone()),
    };
    let mut values: Vec<Secret> = headers
        .iter()
        .flat_map(|(_, value)| {
            let after_scheme = value
                .expose()
                .split_once(' ')
                .map(|(_, credential)| Secret::new(credential));
            [Some(value.clone()), after_scheme]
        })
        .chain([auth])
        .flatten()
        .filter(|value| !value.expose().is_empty())
        .collect();
    // Longest first, so a value containing another is masked whole.
    values.sort_by_key(|value| std::cmp::Reverse(value.expose().len()));
    values
}

/// The wait before retry `n` (0-based): `base × 2^n`, at most [`MAX_BACKOFF`].
fn backoff(base: Duration, retry: u32) -> Duration {
    base.saturating_mul(2u32.saturating_pow(retry))
        .min(MAX_BACKOFF)
}

/// Epoch seconds with millisecond decimals, as the API's time parameters take them.
fn seconds(t_s: f64) -> String {
    format!("{t_s:.3}")
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The `match[]` list for messages: the first three and how many more.
fn summarise(matchers: &[String]) -> String {
    const SHOWN: usize = 3;
    let head = matchers[..matchers.len().min(SHOWN)].join(", ");
    match matchers.len().saturating_sub(SHOWN) {
        0 => head,
        more => format!("{head}, … {more} more"),
    }
}

/// The server's explanation in a non-2xx body: the API's `error` field, else the body's start.
fn server_text(body: &str) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        error: String,
    }
    serde_json::from_str::<ErrorBody>(body)
        .map(|e| e.error)
        .unwrap_or_else(|_| excerpt(body))
}

fn describe_transport(error: &ureq::Error) -> String {
    match error {
        tls if is_tls_failure(tls) => format!(
            "TLS failed: {tls}; a certificate from a private CA needs the CA file option, and an http-only server an http:// URL"
        ),
        ureq::Error::HostNotFound => "the host name does not resolve".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_server::{FakeServer, Reply};
    use std::time::Instant;

    const VECTOR: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"dcgm"},"value":[1795824000,"1"]}]}}"#;
    const BAD_DATA: &str = r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"}"#;

    /// A client of `url` with fast backoff (10 ms, 20 ms, …) so retry tests stay quick.
    fn fast_client(url: &str, retries: u32) -> PromClient {
        let mut config = PromConfig::new(url);
        config.retries = retries;
        config.backoff_base = Duration::from_millis(10);
        PromClient::new(&config).unwrap()
    }

    #[test]
    fn queries_are_posted_as_forms_under_the_path_prefix() {
        let server = FakeServer::start(|_, _| Reply::new(200, VECTOR));
        let mut config = PromConfig::new(server.url("/prometheus/"));
        config.auth = Auth::Bearer(Secret::new("tok-123"));
        config.headers = vec![("X-Scope-OrgID".into(), Secret::new("tenant-1"))];
        let client = PromClient::new(&config).unwrap();
        let answer = client
            .instant_query("up{job=\"dcgm\"}", 1_795_824_000.5)
            .unwrap();
        assert_eq!(answer.series[0].metric, "up");
        let request = &server.requests()[0];
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/prometheus/api/v1/query");
        assert_eq!(
            request.form(),
            vec![
                ("query".to_string(), "up{job=\"dcgm\"}".to_string()),
                // Epoch seconds with millisecond decimals.
                ("time".to_string(), "1795824000.500".to_string()),
            ]
        );
        assert_eq!(request.header("authorization"), Some("Bearer tok-123"));
        assert_eq!(request.header("x-scope-orgid"), Some("tenant-1"));
        assert!(
            request
                .header("user-agent")
                .unwrap()
                .starts_with("dcgm-sol/")
        );
        assert_eq!(client.requests_made(), 1);
        // Plain http with a token: the caller is told.
        assert_eq!(client.warnings().len(), 1);
    }

    #[test]
    fn range_queries_send_start_end_and_step() {
        let server = FakeServer::start(|_, _| {
            Reply::new(
                200,
                r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"gpu":"0"},"values":[[10,"0.5"],[25,"0.75"]]}]}}"#,
            )
        });
        let answer = fast_client(&server.url("/select/0/prometheus"), 0)
            .range_query("DCGM_FI_PROF_SM_ACTIVE", 10.0, 25.0, 15.0)
            .unwrap();
        assert_eq!(answer.series[0].samples.len(), 2);
        let request = &server.requests()[0];
        assert_eq!(request.path, "/select/0/prometheus/api/v1/query_range");
        let fields: Vec<(&str, String)> = ["start", "end", "step"]
            .into_iter()
            .map(|k| (k, request.form_value(k).unwrap()))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("start", "10.000".to_string()),
                ("end", "25.000".to_string()),
                ("step", "15.000".to_string())
            ]
        );
    }

    #[test]
    fn basic_auth_arrives_as_an_authorization_header() {
        let server = FakeServer::start(|_, _| Reply::new(200, VECTOR));
        let mut config = PromConfig::new(server.url(""));
        config.auth = Auth::Basic {
            user: "alice".into(),
            password: Secret::new("s3cret"),
        };
        PromClient::new(&config)
            .unwrap()
            .instant_query("up", 1.0)
            .unwrap();
        // base64("alice:s3cret") = "YWxpY2U6czNjcmV0".
        assert_eq!(
            server.requests()[0].header("authorization"),
            Some("Basic YWxpY2U6czNjcmV0")
        );
    }

    #[test]
    fn two_500s_then_success_takes_three_requests() {
        let server = FakeServer::start(|n, _| match n {
            0 | 1 => Reply::new(500, "internal error"),
            _ => Reply::new(200, VECTOR),
        });
        let client = fast_client(&server.url(""), 3);
        assert!(client.instant_query("up", 1.0).is_ok());
        // 1 attempt + 2 retries.
        assert_eq!(client.requests_made(), 3);
        assert_eq!(server.requests().len(), 3);
    }

    #[test]
    fn a_server_that_stays_503_fails_after_the_retries_naming_url_and_query() {
        let server = FakeServer::start(|_, _| Reply::new(503, "overloaded"));
        let client = fast_client(&server.url("/prometheus"), 2);
        let error = client
            .instant_query("DCGM_FI_PROF_DRAM_ACTIVE[60s]", 1.0)
            .unwrap_err();
        // 1 attempt + 2 retries = 3 requests.
        assert_eq!(server.requests().len(), 3);
        let message = error.to_string();
        assert!(
            message.contains(&server.url("/prometheus/api/v1/query"))
                && message.contains("DCGM_FI_PROF_DRAM_ACTIVE[60s]")
                && message.contains("HTTP 503 after 3 attempt(s)")
                && message.contains("overloaded"),
            "{message}"
        );
        assert!(!error.is_input_error());
    }

    #[test]
    fn a_bad_query_is_not_retried_and_the_servers_error_is_quoted() {
        let server = FakeServer::start(|_, _| Reply::new(400, BAD_DATA));
        let client = fast_client(&server.url(""), 3);
        let error = client.instant_query("sum(up", 1.0).unwrap_err();
        assert_eq!(server.requests().len(), 1);
        let message = error.to_string();
        assert!(
            message.contains("rejected the query")
                && message.contains("parse error: unclosed left parenthesis")
                && message.contains("sum(up"),
            "{message}"
        );
        assert!(error.is_input_error());
        // VictoriaMetrics answers 422 (errorType "422") to parse errors and its limits alike;
        // the tool's own queries parse, so a 422 counts as the server declining.
        let vm = FakeServer::start(|_, _| {
            Reply::new(
                422,
                r#"{"status":"error","errorType":"422","error":"cannot parse"}"#,
            )
        });
        let error = fast_client(&vm.url(""), 3)
            .instant_query("sum(up", 1.0)
            .unwrap_err();
        assert!(matches!(error, PromError::BadQuery { status: 422, .. }));
        assert!(!error.is_input_error(), "a 422 is a server limit: exit 1");
        assert_eq!(vm.requests().len(), 1);
    }

    #[test]
    fn refused_auth_says_what_to_check() {
        let server = FakeServer::start(|_, _| Reply::new(401, "Unauthorized"));
        let error = fast_client(&server.url(""), 3).build_info().unwrap_err();
        assert_eq!(server.requests().len(), 1);
        let message = error.to_string();
        assert!(
            message.contains("HTTP 401, auth refused")
                && message.contains("X-Scope-OrgID")
                && message.contains("/api/v1/status/buildinfo"),
            "{message}"
        );
        assert!(error.is_input_error());
    }

    #[test]
    fn a_proxys_html_page_gives_a_readable_error() {
        let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>nginx</body>\r\n</html>";
        let server = FakeServer::start(move |_, _| Reply::new(502, page));
        let error = fast_client(&server.url(""), 1)
            .instant_query("up", 1.0)
            .unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("HTTP 502 after 2 attempt(s)")
                && message
                    .contains("<head><title>502 Bad Gateway</title></head> <body>nginx</body>"),
            "{message}"
        );
        // The same page with status 200 (a captive portal, a login page) is not the API.
        let portal = FakeServer::start(move |_, _| Reply::new(200, page));
        let error = fast_client(&portal.url(""), 1)
            .instant_query("up", 1.0)
            .unwrap_err();
        assert!(matches!(error, PromError::NotApiJson { .. }), "{error}");
        assert!(error.to_string().contains("502 Bad Gateway"));
    }

    #[test]
    fn a_slow_server_times_out() {
        let server =
            FakeServer::start(|_, _| Reply::new(200, VECTOR).delayed(Duration::from_secs(2)));
        let mut config = PromConfig::new(server.url(""));
        config.timeout = Duration::from_millis(200);
        config.retries = 0;
        let started = Instant::now();
        let error = PromClient::new(&config)
            .unwrap()
            .instant_query("up", 1.0)
            .unwrap_err();
        // Gave up after about 200 ms, long before the 2 s answer.
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(
            matches!(error, PromError::Timeout { attempts: 1, .. }),
            "{error}"
        );
        assert!(error.to_string().contains("within 0.2 s"));
        assert!(!error.is_input_error());
    }

    #[test]
    fn a_closed_port_is_unreachable_after_the_retries() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let client = fast_client(&url, 1);
        let error = client.instant_query("up", 1.0).unwrap_err();
        assert!(
            matches!(error, PromError::Unreachable { attempts: 2, .. }),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .contains("is the server up, is the URL right?")
        );
        assert_eq!(client.requests_made(), 2);
        assert!(!error.is_input_error());
    }

    #[test]
    fn a_tls_failure_is_not_retried_and_hints_at_the_ca_file() {
        // An https URL to a server that answers in plain HTTP without waiting: the handshake
        // fails on the reply.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                use std::io::Write;
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            }
        });
        let client = fast_client(&url, 3);
        let error = client.instant_query("up", 1.0).unwrap_err();
        assert!(
            matches!(error, PromError::Unreachable { attempts: 1, .. }),
            "{error}"
        );
        assert!(error.to_string().contains("CA file option"), "{error}");
        assert_eq!(client.requests_made(), 1);
    }

    #[test]
    fn credentials_never_appear_in_errors_even_when_the_server_echoes_them() {
        // A server that echoes the request's headers back, as a debugging proxy might.
        let echo = |status: u16| {
            move |_: usize, request: &crate::fake_server::Recorded| {
                Reply::new(status, format!("{:?}", request.headers))
            }
        };
        let secrets = ["tok-SECRET", "pw-SECRET", "org-SECRET"];
        for status in [200, 401, 500] {
            let server = FakeServer::start(echo(status));
            let mut config = PromConfig::new(server.url(""));
            config.retries = 0;
            config.auth = Auth::Bearer(Secret::new(secrets[0]));
            config.headers = vec![("X-Scope-OrgID".into(), Secret::new(secrets[2]))];
            let client = PromClient::new(&config).unwrap();
            let error = client.instant_query("up", 1.0).unwrap_err();
            let shown = format!("{error} {error:?} {client:?} {config:?}");
            // The echo did reach the message (the header names are there)…
            assert!(shown.contains("x-scope-orgid"), "{shown}");
            for secret in secrets {
                assert!(!shown.contains(secret), "{status}: {shown}");
            }
            // …and the basic-auth form of a password is masked too.
            config.auth = Auth::Basic {
                user: "alice".into(),
                password: Secret::new(secrets[1]),
            };
            let error = PromClient::new(&config)
                .unwrap()
                .instant_query("up", 1.0)
                .unwrap_err();
            let encoded = base64_of("alice:pw-SECRET");
            let shown = format!("{error} {error:?}");
            assert!(
                !shown.contains(secrets[1]) && !shown.contains(&encoded),
                "{shown}"
            );
        }
    }

    #[test]
    fn a_credential_crossing_the_excerpt_cut_is_still_hidden() {
        // 183 `x`, a space, `Bearer` and a space put the token at characters 191–217, across
        // the 200-character cut: scrubbing after the cut would leave its first 9 characters,
        // `SUPERSECR`, in the message.
        let token = "SUPERSECRETTOKEN-0123456789";
        for status in [200, 401] {
            let server = FakeServer::start(move |_, _| {
                Reply::new(status, format!("{} Bearer {token}", "x".repeat(183)))
            });
            let mut config = PromConfig::new(server.url(""));
            config.retries = 0;
            config.auth = Auth::Bearer(Secret::new(token));
            let error = PromClient::new(&config)
                .unwrap()
                .instant_query("up", 1.0)
                .unwrap_err();
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains("SUPERSEC"), "{status}: {shown}");
        }
    }

    fn base64_of(text: &str) -> String {
        crate::config::base64(text.as_bytes())
    }

    #[test]
    fn series_repeats_match_and_keeps_names_and_warnings() {
        let server = FakeServer::start(|_, _| {
            Reply::new(
                200,
                r#"{"status":"success","data":[{"__name__":"A","gpu":"0"},{"__name__":"B","gpu":"0"}],"warnings":["partial response"]}"#,
            )
        });
        let client = fast_client(&server.url(""), 0);
        let answer = client
            .series(
                &["A".to_string(), "B{namespace=\"x\"}".to_string()],
                100.0,
                200.25,
            )
            .unwrap();
        assert_eq!(answer.data.len(), 2);
        assert_eq!(answer.data[1]["__name__"], "B");
        assert_eq!(answer.warnings, vec!["partial response".to_string()]);
        let request = &server.requests()[0];
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("POST", "/api/v1/series")
        );
        let pairs = |key: &str| -> Vec<String> {
            request
                .form()
                .into_iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v)
                .collect()
        };
        assert_eq!(pairs("match[]"), vec!["A", "B{namespace=\"x\"}"]);
        assert_eq!(pairs("start"), vec!["100.000"]);
        assert_eq!(pairs("end"), vec!["200.250"]);
    }

    #[test]
    fn label_values_and_build_info() {
        let server = FakeServer::start(|_, request| match request.path.as_str() {
            "/api/v1/label/Hostname/values" => {
                Reply::new(200, r#"{"status":"success","data":["n1","n2"]}"#)
            }
            _ => Reply::new(200, r#"{"status":"success","data":{"version":"2.42.0"}}"#),
        });
        let client = fast_client(&server.url(""), 0);
        assert_eq!(
            client.label_values("Hostname").unwrap().data,
            vec!["n1", "n2"]
        );
        assert_eq!(server.requests()[0].method, "GET");
        assert_eq!(client.build_info().unwrap().as_deref(), Some("2.42.0"));
        // A name that would leave the endpoint is refused before any request.
        assert!(
            client
                .label_values("../admin")
                .unwrap_err()
                .is_input_error()
        );
        assert_eq!(client.requests_made(), 2);
        // VictoriaMetrics answers buildinfo with empty data.
        let vm = FakeServer::start(|_, _| Reply::new(200, r#"{"status":"success","data":{}}"#));
        assert_eq!(fast_client(&vm.url(""), 0).build_info().unwrap(), None);
    }

    #[test]
    fn wrong_prefix_and_redirects_are_input_errors() {
        let server = FakeServer::start(|n, _| match n {
            0 => Reply::new(404, "404 page not found"),
            _ => Reply::new(302, "").header("Location", "https://u:p@prom.example/prometheus/"),
        });
        let client = fast_client(&server.url(""), 3);
        let not_found = client.instant_query("up", 1.0).unwrap_err();
        assert!(not_found.to_string().contains("path prefix"), "{not_found}");
        let redirected = client.instant_query("up", 1.0).unwrap_err();
        let message = redirected.to_string();
        assert!(
            message.contains("https://***@prom.example/prometheus/"),
            "{message}"
        );
        assert!(not_found.is_input_error() && redirected.is_input_error());
        // Neither is retried.
        assert_eq!(server.requests().len(), 2);
    }

    #[test]
    fn raw_samples_insist_on_a_matrix() {
        let server = FakeServer::start(|_, _| Reply::new(200, VECTOR));
        let error = fast_client(&server.url(""), 0)
            .raw_samples("up", 1.0)
            .unwrap_err();
        assert!(
            error.to_string().contains("got an instant vector"),
            "{error}"
        );
    }

    #[test]
    fn backoff_doubles_from_the_base_up_to_four_seconds() {
        let base = Duration::from_millis(250);
        // 250 × 2^n ms: 250, 500, 1000, 2000, then 4000 capped.
        let delays: Vec<u128> = (0..6).map(|n| backoff(base, n).as_millis()).collect();
        assert_eq!(delays, vec![250, 500, 1000, 2000, 4000, 4000]);
        assert_eq!(backoff(base, 40), MAX_BACKOFF);
    }
}
