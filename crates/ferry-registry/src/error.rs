//! [`RegistryError`] and the rendering of registry error answers with the texts skopeo
//! 1.9.3 (containers/image 5.23, docker/distribution's `errcode`) prints, e.g.
//! `reading manifest latest in 127.0.0.1:5000/testbed/tiny: manifest unknown: manifest unknown`.

use std::io;
use std::time::Duration;

use serde::Deserialize;

use crate::challenge::Challenge;

/// One entry of a registry's JSON error body (`{"errors":[{"code":…,"message":…}]}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// As sent (`MANIFEST_UNKNOWN`, `DENIED`, …); synthesized entries (from a bearer
    /// challenge's `error=`) use the matching code.
    pub code: String,
    pub message: String,
}

/// What a failed request was about (drives [`RegistryError::is_not_found`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Ping,
    Token,
    Manifest,
    Blob,
    Upload,
    Tags,
}

/// Broad class of a transport failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// Could not connect (refused, unreachable, DNS).
    Connect,
    /// TLS handshake or certificate failure.
    Tls,
    Timeout,
    /// The connection broke while the request or response was in flight.
    Broken,
    Other,
}

/// Errors of the registry client. `Display` never contains a credential.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The registry (or its token server) answered with an error status.
    #[error("{message}")]
    Status {
        /// The full message, skopeo's wording.
        message: String,
        operation: Operation,
        status: u16,
        /// Parsed error body entries (may be empty).
        errors: Vec<ApiError>,
        /// The answer's `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// Network, TLS or timeout failure: `[context: ]Get "url": cause`.
    #[error("{}{method} \"{url}\": {message}", context.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
    Transport {
        context: Option<String>,
        /// Go's spelling (`Get`, `Head`, `Put`, …), as in skopeo's messages.
        method: String,
        url: String,
        message: String,
        kind: TransportKind,
    },
    /// An answer that does not follow the protocol (bad JSON, missing header, …).
    #[error("{0}")]
    Protocol(String),
    /// Reading the caller's data (an upload source) failed. The source error is kept
    /// intact so that typed errors carried in an `io::Error` can be recovered.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// Invalid configuration or argument.
    #[error("{0}")]
    Invalid(String),
}

impl RegistryError {
    /// The image, tag or repository does not exist (skopeo's exit status 2).
    pub fn is_not_found(&self) -> bool {
        match self {
            RegistryError::Status {
                operation,
                status,
                errors,
                ..
            } => {
                errors
                    .iter()
                    .any(|e| e.code == "MANIFEST_UNKNOWN" || e.code == "NAME_UNKNOWN")
                    || (*status == 404
                        && matches!(operation, Operation::Manifest | Operation::Tags))
            }
            _ => false,
        }
    }

    /// The registry's answer carried this error code (`DENIED`, `NAME_UNKNOWN`, …).
    pub fn has_code(&self, code: &str) -> bool {
        matches!(self, RegistryError::Status { errors, .. } if errors.iter().any(|e| e.code == code))
    }

    /// Authentication failed or access was denied.
    pub fn is_unauthorized(&self) -> bool {
        match self {
            RegistryError::Status { status, errors, .. } => {
                *status == 401
                    || *status == 403
                    || errors
                        .iter()
                        .any(|e| e.code == "UNAUTHORIZED" || e.code == "DENIED")
            }
            _ => false,
        }
    }

    /// Worth retrying the whole operation later (network failure, 429, 502–504, …).
    pub fn is_retryable(&self) -> bool {
        match self {
            RegistryError::Transport { kind, .. } => {
                matches!(
                    kind,
                    TransportKind::Connect | TransportKind::Timeout | TransportKind::Broken
                )
            }
            RegistryError::Status { status, errors, .. } => {
                crate::retry::is_retryable_status(*status)
                    || errors
                        .iter()
                        .any(|e| e.code == "UNAVAILABLE" || e.code == "TOOMANYREQUESTS")
            }
            _ => false,
        }
    }

    /// The registry refused a manifest because of its type or content, so another
    /// manifest format may be tried (c/image's `isManifestInvalidError`).
    pub fn is_manifest_invalid(&self) -> bool {
        match self {
            RegistryError::Status {
                message, errors, ..
            } => errors.iter().any(|e| match e.code.as_str() {
                "MANIFEST_INVALID" | "TAG_INVALID" => true,
                "UNSUPPORTED" => message.contains("Invalid JSON syntax"),
                _ => false,
            }),
            _ => false,
        }
    }

    /// The HTTP status of a `Status` error.
    pub fn status(&self) -> Option<u16> {
        match self {
            RegistryError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Adds a prefix to the message (`pinging container registry host: …`).
    pub(crate) fn with_context(self, ctx: &str) -> RegistryError {
        match self {
            RegistryError::Status {
                message,
                operation,
                status,
                errors,
                retry_after,
            } => RegistryError::Status {
                message: format!("{ctx}: {message}"),
                operation,
                status,
                errors,
                retry_after,
            },
            RegistryError::Transport {
                context,
                method,
                url,
                message,
                kind,
            } => RegistryError::Transport {
                context: Some(match context {
                    Some(c) => format!("{ctx}: {c}"),
                    None => ctx.to_string(),
                }),
                method,
                url,
                message,
                kind,
            },
            RegistryError::Protocol(m) => RegistryError::Protocol(format!("{ctx}: {m}")),
            RegistryError::Io { context, source } => RegistryError::Io {
                context: format!("{ctx}: {context}"),
                source,
            },
            RegistryError::Invalid(m) => RegistryError::Invalid(format!("{ctx}: {m}")),
        }
    }
}

/// An error answer, as read by the client before it is turned into a message.
#[derive(Debug, Clone)]
pub(crate) struct ErrorAnswer {
    pub status: u16,
    pub challenges: Vec<Challenge>,
    pub body: Vec<u8>,
    pub retry_after: Option<Duration>,
}

/// One element of Go's `errcode.Errors` (or a foreign error appended to it).
enum GoErr {
    /// `errcode.ErrorCode` (no message of its own) or `errcode.Error`.
    Code {
        code: String,
        message: Option<String>,
    },
    /// Any other error, rendered as is.
    Text(String),
}

impl GoErr {
    fn text(&self) -> String {
        match self {
            GoErr::Code { code, message } => {
                let t = code_text(code);
                match message {
                    Some(m) => format!("{t}: {m}"),
                    None => t,
                }
            }
            GoErr::Text(t) => t.clone(),
        }
    }

    fn api(&self) -> Option<ApiError> {
        match self {
            GoErr::Code { code, message } => Some(ApiError {
                code: code.clone(),
                message: message
                    .clone()
                    .unwrap_or_else(|| default_message(code).to_string()),
            }),
            GoErr::Text(_) => None,
        }
    }
}

/// Result of `handleErrorResponse`: either a list of errors or an unparsable body.
enum Handled {
    Errors(Vec<GoErr>),
    Unexpected { parse_err: String },
}

fn errors_text(errs: &[GoErr]) -> String {
    match errs {
        [] => "<nil>".to_string(),
        [one] => one.text(),
        many => {
            let mut s = "errors:\n".to_string();
            for e in many {
                s.push_str(&e.text());
                s.push('\n');
            }
            s
        }
    }
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    errors: Option<Vec<BodyEntry>>,
    #[serde(default)]
    details: Option<String>,
}

#[derive(Deserialize)]
struct BodyEntry {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    detail: Option<serde_json::Value>,
}

/// docker/distribution's `parseHTTPErrorResponse`.
fn parse_body(status: u16, body: &[u8]) -> Handled {
    let parsed: Result<Body, _> = serde_json::from_slice(body);
    match parsed {
        Err(e) => Handled::Unexpected {
            parse_err: if body.iter().all(u8::is_ascii_whitespace) {
                "unexpected end of JSON input".to_string()
            } else {
                e.to_string()
            },
        },
        Ok(b) => {
            if let Some(d) = b.details.filter(|d| !d.is_empty()) {
                let code = match status {
                    401 => "UNAUTHORIZED",
                    429 => "TOOMANYREQUESTS",
                    _ => "UNKNOWN",
                };
                return Handled::Errors(vec![GoErr::Code {
                    code: code.to_string(),
                    message: Some(d),
                }]);
            }
            let entries = b.errors.unwrap_or_default();
            if entries.is_empty() {
                return Handled::Unexpected {
                    parse_err: "no error details found in HTTP response body".to_string(),
                };
            }
            Handled::Errors(
                entries
                    .into_iter()
                    .map(|e| {
                        let known = is_known_code(&e.code);
                        let code = if known { e.code } else { "UNKNOWN".to_string() };
                        let plain = e.detail.as_ref().is_none_or(serde_json::Value::is_null)
                            && (e.message.is_empty() || e.message == default_message(&code));
                        GoErr::Code {
                            message: (!plain).then_some(e.message),
                            code,
                        }
                    })
                    .collect(),
            )
        }
    }
}

/// docker/distribution's `HandleErrorResponse`, as vendored by c/image 5.23.
fn handle_error_response(a: &ErrorAnswer) -> Handled {
    if !(400..500).contains(&a.status) {
        return Handled::Errors(vec![GoErr::Text(format!(
            "received unexpected HTTP status: {} {}",
            a.status,
            status_text(a.status)
        ))]);
    }
    for c in &a.challenges {
        if c.scheme != "bearer" {
            continue;
        }
        let code = match c.param("error") {
            Some("invalid_token") => "UNAUTHORIZED",
            Some("insufficient_scope") => "DENIED",
            _ => continue,
        };
        let message = match c.param("error_description") {
            Some(d) if !d.is_empty() => d.to_string(),
            _ => default_message(code).to_string(),
        };
        let mut errs = vec![GoErr::Code {
            code: code.to_string(),
            message: Some(message),
        }];
        match parse_body(a.status, &a.body) {
            Handled::Errors(more) => errs.extend(more),
            Handled::Unexpected { parse_err } => {
                errs.push(GoErr::Text(unexpected_text(a.status, &parse_err, &a.body)))
            }
        }
        return Handled::Errors(errs);
    }
    match parse_body(a.status, &a.body) {
        Handled::Unexpected { .. } if a.status == 401 => Handled::Errors(vec![GoErr::Code {
            code: "UNAUTHORIZED".to_string(),
            message: Some(default_message("UNAUTHORIZED").to_string()),
        }]),
        other => other,
    }
}

fn unexpected_text(status: u16, parse_err: &str, body: &[u8]) -> String {
    format!(
        "error parsing HTTP {status} response body: {parse_err}: {:?}",
        String::from_utf8_lossy(body)
    )
}

fn api_entries(h: &Handled) -> Vec<ApiError> {
    match h {
        Handled::Errors(e) => e.iter().filter_map(GoErr::api).collect(),
        Handled::Unexpected { .. } => Vec::new(),
    }
}

/// c/image's `registryHTTPResponseToError`, prefixed with `context` (if not empty).
pub(crate) fn registry_error(op: Operation, context: &str, a: &ErrorAnswer) -> RegistryError {
    let h = handle_error_response(a);
    let text = match &h {
        Handled::Errors(e) => errors_text(e),
        Handled::Unexpected { .. } => {
            let body = String::from_utf8_lossy(&a.body);
            let shown = match body.char_indices().nth(50) {
                Some((i, _)) => format!("{}...", &body[..i]),
                None => body.into_owned(),
            };
            format!("StatusCode: {}, {shown}", a.status)
        }
    };
    status_error(op, context, text, a, api_entries(&h))
}

/// c/image's `httpResponseToError(res, context)`: 429 and 401 get fixed texts, anything
/// else `context: invalid status code from registry N (Text)`.
pub(crate) fn http_error(op: Operation, context: &str, a: &ErrorAnswer) -> RegistryError {
    match a.status {
        429 => status_error(
            op,
            "",
            "too many requests to registry".into(),
            a,
            Vec::new(),
        ),
        401 => {
            let h = handle_error_response(a);
            let inner = match &h {
                Handled::Errors(e) => errors_text(e),
                Handled::Unexpected { parse_err } => unexpected_text(a.status, parse_err, &a.body),
            };
            let text = format!("unable to retrieve auth token: invalid username/password: {inner}");
            status_error(op, "", text, a, api_entries(&h))
        }
        s => {
            let text = format!("invalid status code from registry {s} ({})", status_text(s));
            let errors = match parse_body(s, &a.body) {
                h @ Handled::Errors(_) => api_entries(&h),
                Handled::Unexpected { .. } => Vec::new(),
            };
            status_error(op, context, text, a, errors)
        }
    }
}

/// A `Status` error with a free-form message (the parsed body entries are kept).
pub(crate) fn plain_error(op: Operation, message: String, a: &ErrorAnswer) -> RegistryError {
    let errors = match parse_body(a.status, &a.body) {
        h @ Handled::Errors(_) => api_entries(&h),
        Handled::Unexpected { .. } => Vec::new(),
    };
    status_error(op, "", message, a, errors)
}

fn status_error(
    op: Operation,
    context: &str,
    text: String,
    a: &ErrorAnswer,
    errors: Vec<ApiError>,
) -> RegistryError {
    RegistryError::Status {
        message: if context.is_empty() {
            text
        } else {
            format!("{context}: {text}")
        },
        operation: op,
        status: a.status,
        errors,
        retry_after: a.retry_after,
    }
}

/// `errcode.ErrorCode.Error()`: the descriptor value, lower case, `_` → space.
fn code_text(code: &str) -> String {
    code.to_ascii_lowercase().replace('_', " ")
}

fn is_known_code(code: &str) -> bool {
    !default_message(code).is_empty()
}

/// The default message of the codes docker/distribution registers ("" if unknown).
fn default_message(code: &str) -> &'static str {
    match code {
        "UNKNOWN" => "unknown error",
        "UNSUPPORTED" => "The operation is unsupported.",
        "UNAUTHORIZED" => "authentication required",
        "DENIED" => "requested access to the resource is denied",
        "UNAVAILABLE" => "service unavailable",
        "TOOMANYREQUESTS" => "too many requests",
        "DIGEST_INVALID" => "provided digest did not match uploaded content",
        "SIZE_INVALID" => "provided length did not match content length",
        "NAME_INVALID" => "invalid repository name",
        "TAG_INVALID" => "manifest tag did not match URI",
        "NAME_UNKNOWN" => "repository name not known to registry",
        "MANIFEST_UNKNOWN" => "manifest unknown",
        "MANIFEST_INVALID" => "manifest invalid",
        "MANIFEST_UNVERIFIED" => "manifest failed signature verification",
        "MANIFEST_BLOB_UNKNOWN" => "blob unknown to registry",
        "BLOB_UNKNOWN" => "blob unknown to registry",
        "BLOB_UPLOAD_UNKNOWN" => "blob upload unknown to registry",
        "BLOB_UPLOAD_INVALID" => "blob upload invalid",
        "PAGINATION_NUMBER_INVALID" => "invalid number of results requested",
        "RANGE_INVALID" => "invalid content range",
        _ => "",
    }
}

/// Go's `http.StatusText`.
pub(crate) fn status_text(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        511 => "Network Authentication Required",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::challenge;

    fn answer(status: u16, www: &str, body: &str) -> ErrorAnswer {
        ErrorAnswer {
            status,
            challenges: challenge::parse(www),
            body: body.as_bytes().to_vec(),
            retry_after: None,
        }
    }

    #[test]
    fn manifest_unknown_with_detail_repeats_the_message() {
        let a = answer(
            404,
            "",
            r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"latest"}}]}"#,
        );
        let e = registry_error(
            Operation::Manifest,
            "reading manifest latest in 127.0.0.1:5000/testbed/tiny",
            &a,
        );
        assert_eq!(
            e.to_string(),
            "reading manifest latest in 127.0.0.1:5000/testbed/tiny: manifest unknown: manifest unknown"
        );
        assert!(e.is_not_found() && !e.is_unauthorized() && !e.is_retryable());
        // Without detail and with the default message, Go keeps the bare code.
        let a = answer(
            404,
            "",
            r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
        );
        assert_eq!(
            registry_error(Operation::Manifest, "x", &a).to_string(),
            "x: manifest unknown"
        );
    }

    #[test]
    fn bearer_challenge_errors_are_merged_first() {
        let a = answer(
            401,
            r#"Bearer realm="http://127.0.0.1:5393/token",service="testbed-registry",scope="repository:testbed/tiny:pull",error="insufficient_scope""#,
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository","Class":"","Name":"testbed/tiny","Action":"pull"}]}]}"#,
        );
        let e = registry_error(
            Operation::Manifest,
            "reading manifest latest in h/testbed/tiny",
            &a,
        );
        assert_eq!(
            e.to_string(),
            "reading manifest latest in h/testbed/tiny: errors:\ndenied: requested access to the resource is denied\nunauthorized: authentication required\n"
        );
        assert!(e.is_unauthorized());
    }

    #[test]
    fn unparsable_bodies() {
        let a = answer(404, "", "");
        assert_eq!(
            registry_error(Operation::Blob, "c", &a).to_string(),
            "c: StatusCode: 404, "
        );
        let long = "x".repeat(60);
        let a = answer(400, "", &long);
        assert_eq!(
            registry_error(Operation::Blob, "c", &a).to_string(),
            format!("c: StatusCode: 400, {}...", "x".repeat(50))
        );
        let a = answer(401, "", "<html>no</html>");
        assert_eq!(
            registry_error(Operation::Manifest, "c", &a).to_string(),
            "c: unauthorized: authentication required"
        );
        let a = answer(503, "", "busy");
        let e = registry_error(Operation::Manifest, "c", &a);
        assert_eq!(
            e.to_string(),
            "c: received unexpected HTTP status: 503 Service Unavailable"
        );
        assert!(e.is_retryable());
        let a = answer(400, "", r#"{"errors":[]}"#);
        assert_eq!(
            registry_error(Operation::Manifest, "c", &a).to_string(),
            r#"c: StatusCode: 400, {"errors":[]}"#
        );
    }

    #[test]
    fn unknown_codes_and_details_field() {
        let a = answer(
            400,
            "",
            r#"{"errors":[{"code":"WEIRD","message":"strange"}]}"#,
        );
        let e = registry_error(Operation::Upload, "c", &a);
        assert_eq!(e.to_string(), "c: unknown: strange");
        let a = answer(401, "", r#"{"details":"token expired"}"#);
        assert_eq!(
            registry_error(Operation::Blob, "c", &a).to_string(),
            "c: unauthorized: token expired"
        );
        let a = answer(
            400,
            "",
            r#"{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":"x"},{"code":"TAG_INVALID"}]}"#,
        );
        let e = registry_error(Operation::Manifest, "uploading", &a);
        assert_eq!(
            e.to_string(),
            "uploading: errors:\nmanifest invalid: manifest invalid\ntag invalid\n"
        );
        assert!(e.is_manifest_invalid());
    }

    #[test]
    fn http_response_to_error_texts() {
        let a = answer(
            404,
            "",
            r#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"x"}}]}"#,
        );
        let e = http_error(Operation::Tags, "fetching tags list", &a);
        assert_eq!(
            e.to_string(),
            "fetching tags list: invalid status code from registry 404 (Not Found)"
        );
        assert!(e.is_not_found());
        let a = answer(
            401,
            r#"Basic realm="x""#,
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#,
        );
        let e = http_error(Operation::Token, "Requesting bearer token", &a);
        assert_eq!(
            e.to_string(),
            "unable to retrieve auth token: invalid username/password: unauthorized: bad credentials"
        );
        assert!(e.is_unauthorized());
        let a = answer(429, "", "");
        let e = http_error(Operation::Blob, "Error fetching blob", &a);
        assert_eq!(e.to_string(), "too many requests to registry");
        assert!(e.is_retryable());
        let a = answer(404, "", "");
        assert!(!http_error(Operation::Blob, "Error fetching blob", &a).is_not_found());
    }

    #[test]
    fn context_prefixes() {
        let a = answer(404, "", "");
        let e =
            registry_error(Operation::Ping, "", &a).with_context("pinging container registry h");
        assert_eq!(
            e.to_string(),
            "pinging container registry h: StatusCode: 404, "
        );
        let t = RegistryError::Transport {
            context: None,
            method: "Get".into(),
            url: "https://h/v2/".into(),
            message: "connection refused".into(),
            kind: TransportKind::Connect,
        };
        assert_eq!(t.to_string(), r#"Get "https://h/v2/": connection refused"#);
        let t = t.with_context("pinging container registry h");
        assert_eq!(
            t.to_string(),
            r#"pinging container registry h: Get "https://h/v2/": connection refused"#
        );
        assert!(t.is_retryable());
    }
}
