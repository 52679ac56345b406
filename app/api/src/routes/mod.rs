//! The router: every route, the JSON fallbacks, and the tower-http layers.
mod admin;
mod create;
mod info;
mod rooms;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderName, Method};
use axum::routing::{get, post};
use axum::{BoxError, Router};
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::auth::{SIGNATURE_HEADER, TIMESTAMP_HEADER, WALLET_HEADER};
use crate::error::AppError;
use crate::state::SharedState;

/// Builds the API router for `state` (no listener, no upstream setup: tests use it directly).
pub fn app(state: SharedState, cors_origins: &[String]) -> Router {
    let timeout = state.settings.request_timeout;
    let body_limit = state.settings.max_body_bytes;
    Router::new()
        .route("/api/create", post(create::create))
        .route("/api/livestream", get(rooms::livestream))
        .route("/api/end", post(rooms::end_by_session))
        .route("/api/rooms", get(crate::listing::list))
        .route("/api/rooms/{room}", get(rooms::show).patch(rooms::update))
        .route("/api/rooms/{room}/end", post(rooms::end))
        .route("/api/rooms/{room}/rotate-key", post(rooms::rotate_key))
        .route("/api/info", get(info::info))
        .route("/api/admin/reconcile", post(admin::reconcile))
        .route(
            "/api/webhooks/cloudflare",
            post(crate::webhooks::cloudflare),
        )
        .route("/api/openapi.json", get(crate::openapi::serve))
        .route("/healthz", get(info::healthz))
        .route("/readyz", get(info::readyz))
        .route("/metrics", get(crate::metrics::render))
        .fallback(|| async { AppError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                .layer(axum::middleware::from_fn(crate::metrics::track))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    crate::load::guard,
                ))
                .layer(cors(cors_origins))
                .layer(HandleErrorLayer::new(|err: BoxError| async move {
                    if err.is::<tower::timeout::error::Elapsed>() {
                        AppError::Unavailable {
                            code: "timeout",
                            message: "the request took too long; try again".into(),
                        }
                    } else {
                        AppError::Internal(err.to_string())
                    }
                }))
                .layer(tower::timeout::TimeoutLayer::new(timeout))
                .layer(DefaultBodyLimit::max(body_limit)),
        )
        .with_state(state)
}

fn cors(origins: &[String]) -> CorsLayer {
    let allow_origin = if origins.is_empty() || origins.iter().any(|o| o == "*") {
        AllowOrigin::from(Any)
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| o.parse().ok()))
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static(WALLET_HEADER),
            HeaderName::from_static(TIMESTAMP_HEADER),
            HeaderName::from_static(SIGNATURE_HEADER),
        ])
        .max_age(Duration::from_secs(3600))
}

/// The key per-IP limits use for this request: the client's address as trusted proxies report it
/// (see `client_ip.rs`), IPv6 by /64; `0.0.0.0` when served without connect info.
pub struct ClientIp(pub IpAddr);

impl<S> FromRequestParts<S> for ClientIp
where
    SharedState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = SharedState::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ci| ci.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientIp(crate::client_ip::client_key(
            peer,
            &parts.headers,
            &state.settings.trusted_proxies,
        )))
    }
}
