//! One error type for every handler, rendered as `{"error":{"code","message"}}`.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use roomcast_chain::ChainError;
use roomcast_stream::client::StreamError;
use serde_json::json;

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// 400: the request is malformed or fails validation.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: missing or invalid credentials.
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// 403: authenticated, but not allowed to act on this room.
    #[error("{0}")]
    Forbidden(String),
    /// 403 with its own code (e.g. `not_a_holder` for a gated room).
    #[error("{message}")]
    Denied { code: &'static str, message: String },
    /// 404
    #[error("{0}")]
    NotFound(String),
    /// 405
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// 409
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 410: the room has ended.
    #[error("{0}")]
    Gone(String),
    /// 413
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 415
    #[error("expected a JSON body (content-type: application/json)")]
    UnsupportedMediaType,
    /// 429
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// 502: an upstream (Cloudflare, Solana RPC) answered with an error.
    #[error("{message}")]
    BadGateway { code: &'static str, message: String },
    /// 503: an upstream is unreachable or timed out; safe to retry later.
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
    /// 500: a bug; details are logged, not returned.
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Unauthorized {
            code,
            message: message.into(),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            AppError::Unauthorized { code, .. } => (StatusCode::UNAUTHORIZED, code),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::Denied { code, .. } => (StatusCode::FORBIDDEN, code),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AppError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            AppError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            AppError::Gone(_) => (StatusCode::GONE, "room_ended"),
            AppError::PayloadTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
            }
            AppError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            AppError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            AppError::BadGateway { code, .. } => (StatusCode::BAD_GATEWAY, code),
            AppError::Unavailable { code, .. } => (StatusCode::SERVICE_UNAVAILABLE, code),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status_and_code().0
    }

    pub fn code(&self) -> &'static str {
        self.status_and_code().1
    }

    /// Maps a Cloudflare failure: unreachable/timeouts/5xx/429 are "try again" (503), anything
    /// else Cloudflare refused is a bad gateway (502). Never includes the API token.
    pub fn from_stream(err: StreamError) -> Self {
        tracing::warn!(error = %err, "cloudflare stream call failed");
        match err {
            StreamError::Timeout { .. }
            | StreamError::Transport { .. }
            | StreamError::Server { .. }
            | StreamError::RateLimited { .. } => AppError::Unavailable {
                code: "cloudflare_unavailable",
                message: "Cloudflare Stream is unavailable; try again".into(),
            },
            // A 2xx whose body is not the documented shape was not a refusal: say what happened.
            StreamError::MalformedResponse { status, .. } => AppError::BadGateway {
                code: "cloudflare_error",
                message: format!(
                    "Cloudflare Stream sent an answer roomcast could not read (HTTP {status})"
                ),
            },
            other => AppError::BadGateway {
                code: "cloudflare_error",
                message: format!(
                    "Cloudflare Stream refused the request (HTTP {})",
                    other.status().unwrap_or(0)
                ),
            },
        }
    }

    /// Maps a chain failure: program errors keep their name; transport problems are 503.
    pub fn from_chain(err: ChainError) -> Self {
        tracing::warn!(
            error = %crate::core::redact::redact_urls_in(&err.to_string()),
            "solana call failed"
        );
        match err {
            ChainError::Program { ref name, .. } if name == "NotHostOrRegistrar" => {
                AppError::Forbidden("only the room's host or the operator may do this".into())
            }
            ChainError::Program { ref name, .. } if name == "RoomEnded" => {
                AppError::Gone("the room has ended".into())
            }
            ChainError::Program { name, message, .. } => AppError::Conflict {
                code: "program_error",
                message: format!("the roomcast program refused: {name}: {message}"),
            },
            ChainError::Unreachable(_)
            | ChainError::Rpc(_)
            | ChainError::ConfirmationTimeout(_) => AppError::Unavailable {
                code: "chain_unavailable",
                message: "the Solana RPC node is unavailable; try again".into(),
            },
            ChainError::Transaction(message) => AppError::BadGateway {
                code: "chain_error",
                message: crate::core::redact::redact_urls_in(&message),
            },
            ChainError::AccountNotFound(what) => AppError::NotFound(format!("{what} not found")),
            ChainError::InvalidInput(message) => AppError::bad_request("invalid_input", message),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let AppError::Internal(detail) = &self {
            tracing::error!(detail = %detail, "internal error");
        }
        let body = Json(json!({ "error": { "code": code, "message": self.to_string() } }));
        let mut response = (status, body).into_response();
        if let AppError::RateLimited {
            retry_after_secs, ..
        } = self
        {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;
