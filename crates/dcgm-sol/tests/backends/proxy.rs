//! A loopback HTTP/1.1 proxy in front of a running backend, playing what a real deployment puts
//! between `dcgm-sol` and the store: a path prefix (Mimir `/prometheus`, VictoriaMetrics cluster
//! `/select/0/prometheus`), an auth gateway (bearer token, basic auth, `X-Scope-OrgID`), and a
//! misbehaving network or server (5xx, slowness, rejected queries, partial-data warnings). Every
//! request is recorded for assertions. std only: a thread per connection, several requests per
//! connection (the client keeps connections alive), bodies framed by `Content-Length`.

// Only some test crates that include the harness use the proxy.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

/// Longest wait for the backend's answer.
const BACKEND_TIMEOUT: Duration = Duration::from_secs(30);

/// How the proxy treats requests, checked in this order: prefix, required headers, injected
/// failures, delay, rejected queries; what passes is forwarded (and warnings added).
#[derive(Debug, Clone, Default)]
pub struct Rules {
    prefix: String,
    required_headers: Vec<(String, String)>,
    fail_first: usize,
    failure_status: u16,
    delay: Duration,
    reject_queries: bool,
    warnings: Vec<String>,
    echo_refused_values: bool,
}

impl Rules {
    /// Serves the API under `prefix` (`/prometheus`) only; other paths get 404, as behind Mimir.
    pub fn prefix(mut self, prefix: &str) -> Rules {
        self.prefix = prefix.trim_end_matches('/').to_string();
        self
    }

    /// Every request must carry header `name` (any case) with exactly `value`: missing → 401,
    /// another value → 403.
    pub fn require_header(mut self, name: &str, value: &str) -> Rules {
        self.required_headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    /// Quotes a wrong header value back in the 403 body, as some debugging gateways do.
    pub fn echo_refused_values(mut self) -> Rules {
        self.echo_refused_values = true;
        self
    }

    /// Requires `Authorization: Bearer <token>`.
    pub fn require_bearer(self, token: &str) -> Rules {
        self.require_header("Authorization", &format!("Bearer {token}"))
    }

    /// Requires `Authorization: Basic base64(user:password)`.
    pub fn require_basic(self, user: &str, password: &str) -> Rules {
        let credentials = base64(format!("{user}:{password}").as_bytes());
        self.require_header("Authorization", &format!("Basic {credentials}"))
    }

    /// Answers the first `count` requests (in arrival order, every endpoint) with `status`.
    pub fn fail_first(mut self, count: usize, status: u16) -> Rules {
        self.fail_first = count;
        self.failure_status = status;
        self
    }

    /// Waits `delay` before handling each request that passed the checks.
    pub fn delay(mut self, delay: Duration) -> Rules {
        self.delay = delay;
        self
    }

    /// Answers every `/api/v1/query` with Prometheus's 400 `bad_data`.
    pub fn reject_queries(mut self) -> Rules {
        self.reject_queries = true;
        self
    }

    /// Adds `warning` to the `warnings` of every forwarded JSON answer.
    pub fn warn(mut self, warning: &str) -> Rules {
        self.warnings.push(warning.to_string());
        self
    }
}

/// `base64` (standard alphabet, padded), as HTTP basic auth encodes `user:password`.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let word = chunk
            .iter()
            .enumerate()
            .fold(0u32, |word, (i, &b)| word | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            text.push(if i <= chunk.len() {
                char::from(ALPHABET[((word >> (18 - 6 * i)) & 0x3f) as usize])
            } else {
                '='
            });
        }
    }
    text
}

/// One request as the proxy received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET`, `POST`, …
    pub method: String,
    /// Request target as sent (prefix and query string included).
    pub target: String,
    /// Headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// Body as text.
    pub body: String,
}

impl Recorded {
    /// The value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The target without its query string.
    pub fn path(&self) -> &str {
        self.target
            .split_once('?')
            .map_or(self.target.as_str(), |(path, _)| path)
    }

    /// A field of the `application/x-www-form-urlencoded` body, decoded.
    pub fn form_value(&self, key: &str) -> Option<String> {
        self.body.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (url_decode(k) == key).then(|| url_decode(v))
        })
    }
}

fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 2;
            }
            (other, _) => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the connection threads share.
struct State {
    backend: String,
    rules: Rules,
    requests: Mutex<Vec<Recorded>>,
    stopping: AtomicBool,
}

/// A running proxy; stops accepting when dropped.
pub struct Proxy {
    addr: SocketAddr,
    state: Arc<State>,
}

impl Proxy {
    /// Starts a proxy on a free 127.0.0.1 port forwarding to `backend` (`127.0.0.1:<port>`).
    pub fn start(backend: &str, rules: Rules) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let state = Arc::new(State {
            backend: backend.to_string(),
            rules,
            requests: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
        });
        let accepting = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accepting.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let state = Arc::clone(&accepting);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Proxy { addr, state }
    }

    /// The URL to give `--prometheus`: `http://127.0.0.1:<port><prefix>`.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.state.rules.prefix)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().expect("requests lock").clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stopping.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// An answer to send back.
struct Reply {
    status: u16,
    reason: String,
    content_type: String,
    body: Vec<u8>,
}

impl Reply {
    /// A Prometheus-style JSON error: `{"status":"error","errorType":…,"error":…}`.
    fn api_error(status: u16, error_type: &str, error: &str) -> Reply {
        let body = json!({"status": "error", "errorType": error_type, "error": error});
        Reply {
            status,
            reason: reason(status).to_string(),
            content_type: "application/json".to_string(),
            body: body.to_string().into_bytes(),
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Injected",
    }
}

/// Answers the requests of one connection until the client closes it (or asks to).
fn serve(stream: TcpStream, state: &State) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let index = {
            let mut requests = state.requests.lock().expect("requests lock");
            requests.push(request.clone());
            requests.len() - 1
        };
        let reply = handle(index, &request, state);
        let close = request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}\r\n",
            reply.status,
            reply.reason,
            reply.content_type,
            reply.body.len(),
            if close { "Connection: close\r\n" } else { "" }
        );
        // The client may have given up (timeouts): a failed write ends the connection.
        let written = writer
            .write_all(head.as_bytes())
            .and_then(|()| writer.write_all(&reply.body))
            .and_then(|()| writer.flush());
        if written.is_err() || close {
            return;
        }
    }
}

/// One request, or `None` at the end of the connection (or on a malformed request).
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Recorded> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        let (name, value) = trimmed.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    assert!(
        !headers.iter().any(|(n, _)| n == "transfer-encoding"),
        "the proxy reads Content-Length bodies only: {headers:?}"
    );
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(Some(0), |(_, v)| v.parse().ok())?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// The rules applied to request number `index`.
fn handle(index: usize, request: &Recorded, state: &State) -> Reply {
    let rules = &state.rules;
    let Some(rest) = request.target.strip_prefix(&rules.prefix) else {
        return Reply {
            status: 404,
            reason: reason(404).to_string(),
            content_type: "text/plain".to_string(),
            body: b"404 page not found\n".to_vec(),
        };
    };
    for (name, value) in &rules.required_headers {
        // The error never names the expected value (it may be a credential).
        match request.header(name) {
            None => {
                return Reply::api_error(401, "unauthorized", &format!("missing {name} header"));
            }
            Some(sent) if sent != value => {
                let error = if rules.echo_refused_values {
                    format!("wrong {name} header: {sent}")
                } else {
                    format!("wrong {name} header")
                };
                return Reply::api_error(403, "forbidden", &error);
            }
            Some(_) => {}
        }
    }
    if index < rules.fail_first {
        return Reply::api_error(
            rules.failure_status,
            "internal",
            &format!("injected failure {} of {}", index + 1, rules.fail_first),
        );
    }
    std::thread::sleep(rules.delay);
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    if rules.reject_queries && path == "/api/v1/query" {
        return Reply::api_error(
            400,
            "bad_data",
            "invalid parameter \"query\": injected rejection",
        );
    }
    match forward(&state.backend, request, rest) {
        Ok(reply) => with_warnings(reply, &rules.warnings),
        Err(error) => Reply::api_error(502, "unavailable", &format!("backend: {error}")),
    }
}

/// Sends the request to the backend as HTTP/1.0 (a plain body, no chunking or compression:
/// only the framing headers are passed on) and reads its whole answer.
fn forward(backend: &str, request: &Recorded, target: &str) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(backend)?;
    stream.set_read_timeout(Some(BACKEND_TIMEOUT))?;
    let mut head = format!(
        "{} {target} HTTP/1.0\r\nHost: {backend}\r\nContent-Length: {}\r\nConnection: close\r\n",
        request.method,
        request.body.len()
    );
    if let Some(content_type) = request.header("content-type") {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(request.body.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let malformed = || std::io::Error::other("malformed answer from the backend");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(malformed)?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut status_line = head.lines().next().unwrap_or_default().splitn(3, ' ');
    let status = status_line
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(malformed)?;
    let content_type = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-type"))
        .map_or("application/json".to_string(), |(_, v)| {
            v.trim().to_string()
        });
    Ok(Reply {
        status,
        reason: status_line.next().unwrap_or("").to_string(),
        content_type,
        body: raw[split + 4..].to_vec(),
    })
}

/// A 2xx JSON answer with `warnings` appended to its own.
fn with_warnings(mut reply: Reply, warnings: &[String]) -> Reply {
    if warnings.is_empty() || !(200..300).contains(&reply.status) {
        return reply;
    }
    let Ok(mut body) = serde_json::from_slice::<Value>(&reply.body) else {
        return reply;
    };
    let Some(object) = body.as_object_mut() else {
        return reply;
    };
    let list = object.entry("warnings").or_insert_with(|| json!([]));
    if let Some(list) = list.as_array_mut() {
        list.extend(warnings.iter().map(|w| json!(w)));
    }
    reply.body = body.to_string().into_bytes();
    reply
}
