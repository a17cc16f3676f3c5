//! How to reach the server: base URL (with any path prefix), credentials, extra headers, TLS,
//! timeout and retries — validated before the first request.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use crate::error::PromError;
use crate::secret::Secret;

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default number of extra attempts after a retryable failure.
pub const DEFAULT_RETRIES: u32 = 3;
/// Default first backoff delay; it doubles per retry up to [`MAX_BACKOFF`].
pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_millis(250);
/// Longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// How requests authenticate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Auth {
    /// No `Authorization` header.
    #[default]
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic base64(user:password)`.
    Basic {
        /// User name (shown in messages; must not contain `:`).
        user: String,
        /// Password.
        password: Secret,
    },
}

/// Everything needed to talk to one Prometheus-compatible server.
#[derive(Clone)]
pub struct PromConfig {
    /// Where the API lives, path prefix included (`https://mimir/prometheus`,
    /// `http://vm/select/0/prometheus`); `/api/v1/<endpoint>` is appended. Only http and https.
    /// A URL with `user:pass@` in it is refused: credentials go in [`PromConfig::auth`], where
    /// they cannot leak into messages or provenance.
    pub base_url: String,
    /// Authentication.
    pub auth: Auth,
    /// Extra headers (`X-Scope-OrgID` for Mimir, …); values may be credentials and are never shown.
    pub headers: Vec<(String, Secret)>,
    /// PEM file of extra trusted CA certificates, added to Mozilla's roots.
    pub ca_file: Option<PathBuf>,
    /// Accept any server certificate. Reported by [`crate::PromClient::warnings`].
    pub insecure_skip_verify: bool,
    /// Per-request timeout (connection to the end of the body).
    pub timeout: Duration,
    /// Extra attempts after connection errors, timeouts, 429 and 500/502/503/504.
    pub retries: u32,
    /// First backoff delay; attempt `n` waits `backoff_base × 2^n`, at most [`MAX_BACKOFF`].
    pub backoff_base: Duration,
}

impl PromConfig {
    /// A configuration with the defaults: no auth, no extra headers, Mozilla roots, 30 s timeout,
    /// 3 retries from 250 ms.
    pub fn new(base_url: impl Into<String>) -> PromConfig {
        PromConfig {
            base_url: base_url.into(),
            auth: Auth::None,
            headers: Vec::new(),
            ca_file: None,
            insecure_skip_verify: false,
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            backoff_base: DEFAULT_BACKOFF_BASE,
        }
    }

    /// The headers every request carries (authorization first), validated.
    pub(crate) fn request_headers(&self) -> Result<Vec<(String, Secret)>, PromError> {
        let authorization = match &self.auth {
            Auth::None => None,
            Auth::Bearer(token) => Some(format!("Bearer {}", token.expose())),
            Auth::Basic { user, password } => {
                if user.contains(':') {
                    return Err(PromError::BadSetting {
                        setting: format!("basic-auth user `{user}`"),
                        reason: "a user name cannot contain `:` in HTTP basic auth".into(),
                    });
                }
                Some(format!(
                    "Basic {}",
                    base64(format!("{user}:{}", password.expose()).as_bytes())
                ))
            }
        };
        let headers: Vec<(String, Secret)> = authorization
            .map(|value| ("Authorization".to_string(), Secret::new(value)))
            .into_iter()
            .chain(self.headers.iter().cloned())
            .collect();
        for (name, value) in &headers {
            check_header(name, value)?;
        }
        Ok(headers)
    }

    /// TLS settings: Mozilla's roots, plus the CA file's certificates when one is given.
    pub(crate) fn tls_config(&self) -> Result<TlsConfig, PromError> {
        let builder = TlsConfig::builder().disable_verification(self.insecure_skip_verify);
        let Some(path) = &self.ca_file else {
            return Ok(builder.build());
        };
        let setting = || format!("CA file `{}`", path.display());
        let pem = std::fs::read(path).map_err(|e| PromError::BadSetting {
            setting: setting(),
            reason: format!("cannot read it ({e})"),
        })?;
        let extra = certificates(&pem).map_err(|reason| PromError::BadSetting {
            setting: setting(),
            reason,
        })?;
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|der| Certificate::from_der(der.as_ref()))
            .chain(extra);
        Ok(builder.root_certs(RootCerts::from(roots)).build())
    }

    /// What the user must hear about this configuration before trusting results.
    pub(crate) fn warnings(&self, base: &BaseUrl) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.insecure_skip_verify {
            warnings.push(format!(
                "TLS certificate verification is OFF for {}: anyone on the network path can read the credentials and alter the answers",
                base.text
            ));
            if self.ca_file.is_some() {
                warnings.push("the CA file is ignored: certificate verification is off".into());
            }
        }
        let has_credentials = self.auth != Auth::None || !self.headers.is_empty();
        if !base.https && has_credentials {
            warnings.push(format!(
                "credentials are sent unencrypted to {} (plain http)",
                base.text
            ));
        }
        warnings
    }
}

impl fmt::Debug for PromConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromConfig")
            .field("base_url", &mask_credentials(&self.base_url))
            .field("auth", &self.auth)
            .field("headers", &self.headers)
            .field("ca_file", &self.ca_file)
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("backoff_base", &self.backoff_base)
            .finish()
    }
}

/// Parses `--header` text: `Name: value` or `Name=value` (neither `:` nor `=` can occur in a
/// header name, so the first of them separates). The value is kept secret.
pub fn parse_header(text: &str) -> Result<(String, Secret), PromError> {
    let split = text
        .find([':', '='])
        .map(|at| (text[..at].trim(), text[at + 1..].trim()));
    let Some((name, value)) = split.filter(|(name, _)| !name.is_empty()) else {
        return Err(PromError::BadSetting {
            setting: "--header".into(),
            reason: "expected `Name: value` (e.g. `X-Scope-OrgID: tenant-1`)".into(),
        });
    };
    let header = (name.to_string(), Secret::new(value));
    check_header(&header.0, &header.1)?;
    Ok(header)
}

/// A header name must be an HTTP token; a value must be printable ASCII (no line breaks that
/// would smuggle extra headers in). The value is never quoted back.
fn check_header(name: &str, value: &Secret) -> Result<(), PromError> {
    let token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token_char) {
        return Err(PromError::BadSetting {
            setting: format!("header name `{}`", name.escape_default()),
            reason: "not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~)".into(),
        });
    }
    let printable = |b: &u8| *b == b'\t' || (0x20..0x7f).contains(b);
    if !value.expose().bytes().all(|b| printable(&b)) {
        return Err(PromError::BadSetting {
            setting: format!("value of header `{name}`"),
            reason: "contains a line break, a control character or non-ASCII text".into(),
        });
    }
    Ok(())
}

/// The certificates of a PEM file (other items, such as keys, are skipped).
fn certificates(pem: &[u8]) -> Result<Vec<Certificate<'static>>, String> {
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {}
            Err(e) => return Err(format!("not valid PEM ({e})")),
        }
    }
    if certs.is_empty() {
        return Err(
            "no `BEGIN CERTIFICATE` block in it; give the CA certificate in PEM form".into(),
        );
    }
    Ok(certs)
}

/// A validated base URL: `scheme://authority/path-prefix`, no trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BaseUrl {
    /// The normalised URL.
    pub(crate) text: String,
    /// Whether the scheme is https.
    pub(crate) https: bool,
}

impl BaseUrl {
    /// Validates a base URL (see [`PromConfig::base_url`]).
    pub(crate) fn parse(raw: &str) -> Result<BaseUrl, PromError> {
        let bad = |reason: &str| PromError::BadUrl {
            url: mask_credentials(raw),
            reason: reason.to_string(),
        };
        let raw = raw.trim();
        let (scheme, rest) = raw
            .split_once("://")
            .ok_or_else(|| bad("give the scheme: http://host:port or https://host"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(bad("only http:// and https:// URLs are supported"));
        }
        // Anywhere, not only before the first `/`: a password may hold `/`, `?` or `#`, and
        // no API path prefix holds an `@`.
        if rest.contains('@') {
            return Err(bad(
                "the URL carries credentials (user:password@); pass them with the basic-auth or bearer-token options instead",
            ));
        }
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        if authority.is_empty() {
            return Err(bad("the URL names no host"));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("the URL contains whitespace"));
        }
        if path.contains(['?', '#']) {
            return Err(bad(
                "query strings and fragments are not supported; give the base URL the API lives under",
            ));
        }
        let path = path.trim_end_matches('/');
        if path.ends_with("/api/v1") {
            return Err(bad(
                "drop the trailing /api/v1: it is appended to the base URL",
            ));
        }
        Ok(BaseUrl {
            text: format!("{scheme}://{authority}{path}"),
            https: scheme == "https",
        })
    }

    /// The URL of an API endpoint (`query`, `series`, `label/gpu/values`, …).
    pub(crate) fn endpoint(&self, endpoint: &str) -> String {
        format!("{}/api/v1/{endpoint}", self.text)
    }
}

/// A URL for display: everything between the scheme and the last `@` replaced by `***` (a
/// password may hold `/`, `?`, `#` or `@`; hiding too much beats showing a secret).
pub(crate) fn mask_credentials(url: &str) -> String {
    let (prefix, rest) = url.split_once("://").unwrap_or(("", url));
    match rest.rfind('@') {
        Some(at) => {
            let separator = if prefix.is_empty() { "" } else { "://" };
            format!("{prefix}{separator}***{}", &rest[at..])
        }
        None => url.to_string(),
    }
}

/// Standard base64 with padding (RFC 4648 §4), for the basic-auth header.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let group = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(
                    ALPHABET[(group >> (18 - 6 * i) & 0x3f) as usize],
                ));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_4648_test_vectors() {
        // RFC 4648 §10.
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain}");
        }
    }

    #[test]
    fn base_urls_keep_their_path_prefix() {
        let mimir = BaseUrl::parse("https://mimir.example/prometheus/").unwrap();
        assert_eq!(
            mimir.endpoint("query"),
            "https://mimir.example/prometheus/api/v1/query"
        );
        assert!(mimir.https);
        let vm = BaseUrl::parse("HTTP://vm:8481/select/0/prometheus").unwrap();
        assert_eq!(
            vm.endpoint("series"),
            "http://vm:8481/select/0/prometheus/api/v1/series"
        );
        assert_eq!(
            BaseUrl::parse("http://prom:9090")
                .unwrap()
                .endpoint("query"),
            "http://prom:9090/api/v1/query"
        );
    }

    #[test]
    fn unusable_urls_are_refused_and_credentials_are_masked() {
        let reason = |url: &str| BaseUrl::parse(url).unwrap_err().to_string();
        let with_password = reason("https://alice:s3cret@prom.example/prometheus");
        assert!(!with_password.contains("s3cret"), "{with_password}");
        assert!(with_password.contains("https://***@prom.example/prometheus"));
        assert!(with_password.contains("basic-auth"));
        assert!(reason("ftp://prom").contains("only http"));
        assert!(reason("prom:9090").contains("scheme"));
        assert!(reason("http:///api").contains("no host"));
        assert!(reason("http://prom/api/v1").contains("drop the trailing /api/v1"));
        assert!(reason("http://prom/?x=1").contains("query strings"));
        assert!(reason("http://prom /x").contains("whitespace"));
        assert!(BaseUrl::parse("http://p").is_ok());
        assert_eq!(mask_credentials("u:p@host/x"), "***@host/x");
        assert_eq!(mask_credentials("http://host/x"), "http://host/x");
        // Passwords holding URL delimiters or `@` are refused and hidden whole.
        for url in [
            "https://alice:s3c/ret@prom.example",
            "https://alice:s3c?ret@prom.example",
            "https://alice:s3c#ret@prom.example",
            "https://alice:s3c@ret@prom.example",
        ] {
            let message = reason(url);
            assert!(
                !message.contains("s3c") && !message.contains("ret@"),
                "{message}"
            );
            assert!(message.contains("https://***@prom.example"), "{message}");
        }
    }

    #[test]
    fn headers_are_parsed_validated_and_never_echoed() {
        let (name, value) = parse_header("X-Scope-OrgID: tenant-1").unwrap();
        assert_eq!(
            (name.as_str(), value.expose()),
            ("X-Scope-OrgID", "tenant-1")
        );
        let (name, value) = parse_header("X-Token=abc=def:ghi").unwrap();
        assert_eq!((name.as_str(), value.expose()), ("X-Token", "abc=def:ghi"));
        assert!(parse_header("no separator").is_err());
        assert!(parse_header(": value").is_err());
        let bad_name = parse_header("Bad Name: v").unwrap_err();
        assert!(bad_name.is_input_error());
        let smuggled = parse_header("X-A: ok\r\nX-Evil: 1secret")
            .unwrap_err()
            .to_string();
        assert!(
            !smuggled.contains("1secret") && smuggled.contains("X-A"),
            "{smuggled}"
        );
    }

    #[test]
    fn auth_becomes_an_authorization_header() {
        let mut config = PromConfig::new("http://p");
        config.auth = Auth::Basic {
            user: "alice".into(),
            password: Secret::new("s3cret"),
        };
        // base64("alice:s3cret") = "YWxpY2U6czNjcmV0" (a-l-i | c-e-: | s-3-c | r-e-t).
        let headers = config.request_headers().unwrap();
        assert_eq!(headers[0].0, "Authorization");
        assert_eq!(headers[0].1.expose(), "Basic YWxpY2U6czNjcmV0");
        config.auth = Auth::Bearer(Secret::new("tok\n"));
        let newline = config.request_headers().unwrap_err().to_string();
        assert!(
            newline.contains("Authorization") && !newline.contains("tok"),
            "{newline}"
        );
        config.auth = Auth::Basic {
            user: "a:b".into(),
            password: Secret::new("x"),
        };
        assert!(config.request_headers().is_err());
    }

    #[test]
    fn debug_output_hides_every_credential() {
        let mut config = PromConfig::new("https://bob:urlpass@prom.example");
        config.auth = Auth::Basic {
            user: "alice".into(),
            password: Secret::new("basicpass"),
        };
        config.headers = vec![("X-Scope-OrgID".into(), Secret::new("tenantsecret"))];
        let shown = format!("{config:?}");
        for secret in ["urlpass", "basicpass", "tenantsecret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("alice") && shown.contains("X-Scope-OrgID"));
    }

    fn pem_of(der: &[u8]) -> String {
        let body = base64(der)
            .as_bytes()
            .chunks(64)
            .map(|line| String::from_utf8_lossy(line).into_owned())
            .collect::<Vec<_>>()
            .join("\n");
        format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
    }

    #[test]
    fn a_ca_file_adds_to_the_default_roots() {
        let dir = std::env::temp_dir().join(format!("sol-prom-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = dir.join("ca.pem");
        // Any real certificate serves as "the corporate CA": the first Mozilla root, re-encoded.
        let der = webpki_root_certs::TLS_SERVER_ROOT_CERTS[0].as_ref();
        std::fs::write(&ca, pem_of(der)).unwrap();
        let mut config = PromConfig::new("https://p");
        config.ca_file = Some(ca.clone());
        let tls = config.tls_config().unwrap();
        let RootCerts::Specific(roots) = tls.root_certs() else {
            panic!("expected explicit roots, got {:?}", tls.root_certs());
        };
        // Mozilla's roots plus the one from the file.
        assert_eq!(
            roots.len(),
            webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() + 1
        );
        assert_eq!(roots.last().unwrap().der(), der);
        std::fs::write(&ca, "not a certificate").unwrap();
        let error = config.tls_config().unwrap_err().to_string();
        assert!(
            error.contains("ca.pem") && error.contains("BEGIN CERTIFICATE"),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        // Without a file the default (Mozilla) roots apply.
        assert!(matches!(
            PromConfig::new("https://p")
                .tls_config()
                .unwrap()
                .root_certs(),
            RootCerts::WebPki
        ));
    }

    #[test]
    fn insecure_tls_and_plain_http_credentials_are_warned_about() {
        let mut config = PromConfig::new("http://p");
        config.insecure_skip_verify = true;
        config.auth = Auth::Bearer(Secret::new("t"));
        let base = BaseUrl::parse(&config.base_url).unwrap();
        let warnings = config.warnings(&base);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("verification is OFF"));
        assert!(warnings[1].contains("unencrypted"));
        assert!(config.tls_config().unwrap().disable_verification());
        assert!(PromConfig::new("https://p").warnings(&base).is_empty());
    }
}
