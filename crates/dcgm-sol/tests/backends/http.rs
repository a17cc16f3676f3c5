//! A minimal HTTP/1.0 client over `std::net::TcpStream`, enough to drive the test servers
//! (readiness, import, flush, raw-sample queries) without an HTTP crate. HTTP/1.0 keeps Go's
//! servers from answering in chunked encoding: the body is everything after the headers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Longest wait for connecting to or hearing from a test server.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Status and body of one response.
#[derive(Debug)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Body as text.
    pub body: String,
}

/// `GET path_and_query` on `addr` (`127.0.0.1:port`).
pub fn get(addr: &str, path_and_query: &str) -> std::io::Result<Response> {
    request(addr, "GET", path_and_query, &[])
}

/// `POST path` on `addr` with `body`.
pub fn post(addr: &str, path: &str, body: &[u8]) -> std::io::Result<Response> {
    request(addr, "POST", path, body)
}

fn request(addr: &str, method: &str, target: &str, body: &[u8]) -> std::io::Result<Response> {
    let socket = addr.parse().map_err(|e| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{addr}: {e}"))
    })?;
    let mut stream = TcpStream::connect_timeout(&socket, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let head = format!(
        "{method} {target} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let malformed = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{method} {target}: malformed response {text:?}"),
        )
    };
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(malformed)?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(malformed)?;
    Ok(Response {
        status,
        body: body.to_string(),
    })
}

/// `k=v&k2=v2` with every value percent-encoded (PromQL is full of `{}"=~[]`).
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| format!("{key}={}", percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
