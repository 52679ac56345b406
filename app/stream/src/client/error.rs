//! Typed errors. Every variant is built from data the server sent us or from
//! a sanitised transport message; none of them can contain the API token
//! because the token only ever lives in a request header.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One item of Cloudflare's `errors[]` / `messages[]` arrays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiMessage {
    pub code: i64,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ApiMessageSource>,
}

/// `source.pointer` of an error item (JSON pointer into the request body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiMessageSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
}

impl ApiMessage {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            documentation_url: None,
            source: None,
        }
    }
}

/// Renders `errors[]` as `: [code] message; [code] message` (or nothing).
pub(crate) struct ErrorList<'a>(pub &'a [ApiMessage]);

impl fmt::Display for ErrorList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            write!(f, "[{}] {}", e.code, e.message)?;
        }
        Ok(())
    }
}

fn secs(d: &Option<Duration>) -> String {
    match d {
        Some(d) => format!(", retry after {}s", d.as_secs_f64()),
        None => String::new(),
    }
}

/// Errors of the Stream client. Classified by HTTP status (the reference
/// advises against branching on Cloudflare's numeric codes), with the
/// server's `errors[]` kept verbatim for logs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StreamError {
    /// 401/403: missing, invalid or under-privileged token.
    #[error(
        "cloudflare stream: authentication failed (HTTP {status}){}",
        ErrorList(errors)
    )]
    Auth {
        status: u16,
        errors: Vec<ApiMessage>,
    },
    /// 404: unknown account, live input or route.
    #[error("cloudflare stream: not found (HTTP {status}){}", ErrorList(errors))]
    NotFound {
        status: u16,
        errors: Vec<ApiMessage>,
    },
    /// 400/413/422: the request was rejected; retrying cannot help.
    #[error(
        "cloudflare stream: request rejected (HTTP {status}){}",
        ErrorList(errors)
    )]
    Validation {
        status: u16,
        errors: Vec<ApiMessage>,
    },
    /// 429: rate limited; `retry_after` comes from the `retry-after` header.
    #[error(
        "cloudflare stream: rate limited (HTTP {status}{}){}",
        secs(retry_after),
        ErrorList(errors)
    )]
    RateLimited {
        status: u16,
        retry_after: Option<Duration>,
        errors: Vec<ApiMessage>,
    },
    /// 5xx.
    #[error("cloudflare stream: server error (HTTP {status}){}", ErrorList(errors))]
    Server {
        status: u16,
        errors: Vec<ApiMessage>,
    },
    /// Any other non-success answer (e.g. 409, or 2xx with `success:false`).
    #[error(
        "cloudflare stream: unexpected response (HTTP {status}){}",
        ErrorList(errors)
    )]
    Unexpected {
        status: u16,
        errors: Vec<ApiMessage>,
    },
    /// No (complete) response within the configured request timeout.
    #[error("cloudflare stream: request timed out after {}ms", timeout.as_millis())]
    Timeout { timeout: Duration },
    /// Connection-level failure. `connect` is true when the request never
    /// reached the server, which makes even a POST safe to retry.
    #[error("cloudflare stream: transport error: {message}")]
    Transport { connect: bool, message: String },
    /// The server answered but the body was not the documented shape.
    #[error("cloudflare stream: malformed response (HTTP {status}): {message}")]
    MalformedResponse { status: u16, message: String },
    /// Caller error detected before any network I/O (bad uid, bad config).
    #[error("cloudflare stream: invalid argument: {0}")]
    InvalidArgument(String),
}

impl StreamError {
    /// Whether the failure is transient for an idempotent request
    /// (429, 5xx, connect failures and timeouts).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StreamError::RateLimited { .. }
                | StreamError::Server { .. }
                | StreamError::Timeout { .. }
                | StreamError::Transport { .. }
        )
    }

    /// Whether the request certainly never reached the server, so that even
    /// a non-idempotent request (create) may be re-sent.
    pub fn is_unsent(&self) -> bool {
        matches!(self, StreamError::Transport { connect: true, .. })
    }

    /// HTTP status of the answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            StreamError::Auth { status, .. }
            | StreamError::NotFound { status, .. }
            | StreamError::Validation { status, .. }
            | StreamError::RateLimited { status, .. }
            | StreamError::Server { status, .. }
            | StreamError::Unexpected { status, .. }
            | StreamError::MalformedResponse { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Cloudflare's `errors[]`, if the answer carried any.
    pub fn api_errors(&self) -> &[ApiMessage] {
        match self {
            StreamError::Auth { errors, .. }
            | StreamError::NotFound { errors, .. }
            | StreamError::Validation { errors, .. }
            | StreamError::RateLimited { errors, .. }
            | StreamError::Server { errors, .. }
            | StreamError::Unexpected { errors, .. } => errors,
            _ => &[],
        }
    }

    /// Builds the error for a non-success HTTP status.
    pub(crate) fn from_status(
        status: u16,
        retry_after: Option<Duration>,
        errors: Vec<ApiMessage>,
    ) -> Self {
        match status {
            401 | 403 => StreamError::Auth { status, errors },
            404 => StreamError::NotFound { status, errors },
            400 | 413 | 422 => StreamError::Validation { status, errors },
            429 => StreamError::RateLimited {
                status,
                retry_after,
                errors,
            },
            500..=599 => StreamError::Server { status, errors },
            _ => StreamError::Unexpected { status, errors },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_lists_cloudflare_errors() {
        let e = StreamError::from_status(
            403,
            None,
            vec![ApiMessage::new(10000, "Authentication error")],
        );
        assert_eq!(
            e.to_string(),
            "cloudflare stream: authentication failed (HTTP 403): [10000] Authentication error"
        );
        let e = StreamError::from_status(
            429,
            Some(Duration::from_secs(2)),
            vec![ApiMessage::new(971, "a"), ApiMessage::new(972, "b")],
        );
        assert_eq!(
            e.to_string(),
            "cloudflare stream: rate limited (HTTP 429, retry after 2s): [971] a; [972] b"
        );
    }

    #[test]
    fn classification_by_status() {
        let c = |s| StreamError::from_status(s, None, vec![]);
        assert!(matches!(c(401), StreamError::Auth { status: 401, .. }));
        assert!(matches!(c(403), StreamError::Auth { status: 403, .. }));
        assert!(matches!(c(404), StreamError::NotFound { .. }));
        assert!(matches!(c(400), StreamError::Validation { .. }));
        assert!(matches!(c(429), StreamError::RateLimited { .. }));
        assert!(matches!(c(502), StreamError::Server { status: 502, .. }));
        assert!(matches!(
            c(409),
            StreamError::Unexpected { status: 409, .. }
        ));
        assert!(c(429).is_retryable());
        assert!(c(500).is_retryable());
        assert!(!c(400).is_retryable());
        assert!(!c(401).is_retryable());
        assert!(!c(404).is_retryable());
        assert!(!c(409).is_retryable());
        assert!(StreamError::Timeout {
            timeout: Duration::from_secs(1)
        }
        .is_retryable());
        assert!(!StreamError::Timeout {
            timeout: Duration::from_secs(1)
        }
        .is_unsent());
        assert!(StreamError::Transport {
            connect: true,
            message: String::new()
        }
        .is_unsent());
        assert_eq!(c(404).status(), Some(404));
    }
}
