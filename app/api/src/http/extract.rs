//! Extractors. `Authed<T>`: reads the raw body once (bounded), authenticates the caller over those
//! exact bytes, then parses the JSON. Every rejection is an [`AppError`] with the JSON error shape.
//! `ClientIp`: the address per-IP limits key on (`guard::client_ip`).
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::core::error::AppError;
use crate::guard::auth::Principal;
use crate::state::AppState;

pub struct Authed<T> {
    pub principal: Principal,
    pub body: T,
    /// The exact bytes that were authenticated (for idempotency fingerprints).
    pub raw: Bytes,
}

/// A body that must be empty or `{}` (for actions like `end`).
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NoBody {}

impl<S, T> FromRequest<S> for Authed<T>
where
    Arc<AppState>: FromRef<S>,
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let app = Arc::<AppState>::from_ref(state);
        let (mut parts, body) = req.into_parts();
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(&mut parts, state).await;
        app.auth_throttle.check(ip).await?;
        let limit = app.settings.max_body_bytes;
        let bytes: Bytes = axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| AppError::PayloadTooLarge { limit })?;
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        // Fail closed: no authenticated call while shared state (replay, limits) is unreachable.
        app.require_replicas().await?;
        // A signed-in browser sends its session token; everyone else signs per request.
        let principal = match crate::guard::sign_in::bearer_token(&parts.headers) {
            Some(token) => app.sign_in.authenticate(token).await,
            None => {
                app.auth
                    .authenticate(&parts.method, path_and_query, &parts.headers, &bytes)
                    .await
            }
        };
        if let Err(AppError::Unauthorized { .. }) = &principal {
            app.auth_throttle.failed(ip).await;
        }
        let principal = principal?;
        let body = parse_json(&parts.headers, &bytes)?;
        Ok(Authed {
            principal,
            body,
            raw: bytes,
        })
    }
}

/// Parses a JSON body; an empty body is `T::default()`.
pub fn parse_json<T: DeserializeOwned + Default>(
    headers: &axum::http::HeaderMap,
    bytes: &[u8],
) -> Result<T, AppError> {
    if bytes.is_empty() {
        return Ok(T::default());
    }
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
        .unwrap_or(false);
    if !is_json {
        return Err(AppError::UnsupportedMediaType);
    }
    // Syntax first: a typed parse stops at the first type mismatch, so a truncated or otherwise
    // malformed document (e.g. `[1,2`) would be reported as a wrong body instead of bad JSON.
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map_err(|e| AppError::bad_request("invalid_json", format!("request body: {e}")))?;
    serde_json::from_slice(bytes).map_err(|e| {
        let code = if e.is_syntax() || e.is_eof() {
            "invalid_json"
        } else {
            "invalid_body"
        };
        AppError::bad_request(code, format!("request body: {e}"))
    })
}

/// The key per-IP limits use for this request: the client's address as trusted proxies report it
/// (see `guard::client_ip`), IPv6 by /64; `0.0.0.0` when served without connect info.
pub struct ClientIp(pub IpAddr);

impl<S> FromRequestParts<S> for ClientIp
where
    crate::state::StateRef: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = crate::state::StateRef::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ci| ci.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientIp(crate::guard::client_ip::client_key(
            peer,
            &parts.headers,
            &state.settings.trusted_proxies,
        )))
    }
}
