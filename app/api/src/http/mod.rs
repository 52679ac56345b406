//! The top layer: the router (every route, the JSON fallbacks, the tower-http layers) and what
//! speaks HTTP — extractors (`extract`), load shedding (`load`), metrics, handlers (`admin`,
//! `create`, `info`, `rooms`, `sign_in`, `webhook`), Server-Sent Events (`sse`), the end-room
//! Solana Action (`actions`), the OpenAPI document (`openapi`) and the web app (`web`). Uses every
//! layer below; nothing below uses it.
pub mod actions;
mod admin;
mod create;
pub mod extract;
mod info;
mod load;
pub mod metrics;
pub mod openapi;
mod rooms;
mod sign_in;
pub mod sse;
pub mod tips;
pub mod web;
mod webhook;

use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, Method};
use axum::routing::{get, post};
use axum::{BoxError, Router};
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::core::error::AppError;
use crate::guard::auth::{SIGNATURE_HEADER, TIMESTAMP_HEADER, WALLET_HEADER};
use crate::state::StateRef;

/// Builds the API router for `state` (no listener, no upstream setup: `server::Server::start`
/// serves it).
pub fn app(state: StateRef, cors_origins: &[String]) -> Router {
    let api = Router::new()
        .route("/api/create", post(create::create))
        .route("/api/livestream", get(rooms::livestream))
        .route("/api/end", post(rooms::end_by_session))
        .route("/api/rooms", get(crate::rooms::listing::list))
        .route("/api/rooms/{room}", get(rooms::show).patch(rooms::update))
        .route("/api/rooms/{room}/end", post(rooms::end))
        .route("/api/rooms/{room}/rotate-key", post(rooms::rotate_key))
        .route("/api/rooms/{room}/playback", post(rooms::playback))
        .route("/api/rooms/{room}/events", get(crate::http::sse::events))
        .route("/api/auth/nonce", get(sign_in::nonce))
        .route("/api/auth/sign-in", post(sign_in::sign_in))
        .route("/api/auth/sign-out", post(sign_in::sign_out))
        .route("/api/info", get(info::info))
        .route("/api/admin/reconcile", post(admin::reconcile))
        .route(
            "/api/webhooks/cloudflare",
            post(crate::http::webhook::cloudflare),
        )
        .route("/api/openapi.json", get(crate::http::openapi::serve))
        .route("/healthz", get(info::healthz))
        .route("/readyz", get(info::readyz))
        .route("/metrics", get(crate::http::metrics::render))
        .fallback(|| async { AppError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed });
    // The same guards in front of both (timeout, body limit inside; load shedding, metrics and
    // tracing outside), with each side's own CORS between them: the API's layer, or the Actions
    // spec's headers (outside the load shedding, so a Blink client can read a 429 too).
    let api = observed(
        state.clone(),
        limited(&state, api).layer(cors(cors_origins)),
        tower::layer::util::Identity::new(),
    );
    let actions = observed(
        state.clone(),
        limited(&state, actions()),
        axum::middleware::from_fn_with_state(state.clone(), crate::http::actions::headers),
    );
    api.merge(actions)
        .merge(
            crate::http::web::router(&state)
                // Not the main router's: merged routes keep their own (axum's empty 405 otherwise).
                .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
                .layer(TraceLayer::new_for_http()),
        )
        .with_state(state)
}

/// The request timeout and the configured body limit (503 `timeout`, 413).
fn limited(state: &StateRef, router: Router<StateRef>) -> Router<StateRef> {
    router.layer(
        ServiceBuilder::new()
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
            .layer(tower::timeout::TimeoutLayer::new(
                state.settings.request_timeout,
            ))
            .layer(DefaultBodyLimit::max(state.settings.max_body_bytes)),
    )
}

/// Load shedding (in-flight cap, per-address read budget), then `outer` (Action CORS headers or
/// nothing), metrics and tracing around it all.
fn observed<L>(state: StateRef, router: Router<StateRef>, outer: L) -> Router<StateRef>
where
    L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
    L::Service: tower::Service<
            axum::extract::Request,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + Sync
        + 'static,
    <L::Service as tower::Service<axum::extract::Request>>::Future: Send + 'static,
{
    router
        .layer(axum::middleware::from_fn_with_state(state, load::shed))
        .layer(outer)
        .layer(axum::middleware::from_fn(crate::http::metrics::track))
        .layer(TraceLayer::new_for_http())
}

/// The end-room and tip Solana Actions and `actions.json`.
fn actions() -> Router<StateRef> {
    use crate::http::actions;
    Router::new()
        .route(
            "/api/actions/end-room",
            get(actions::end_room_metadata)
                .post(actions::end_room_transaction)
                .options(actions::options),
        )
        .route(
            "/api/actions/tip",
            get(crate::http::tips::metadata)
                .post(crate::http::tips::transaction)
                .options(actions::options),
        )
        .route(
            "/api/actions/tip/done",
            post(crate::http::tips::done).options(actions::options),
        )
        .route(
            "/actions.json",
            get(actions::actions_json).options(actions::options),
        )
        // Not the main router's: merged routes keep their own (axum's empty 405 otherwise).
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
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
