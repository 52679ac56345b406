//! Load shedding in front of every route (`guard::load` holds the counters): a global cap on
//! requests in flight (503 `overloaded`) and a per-IP budget for reads and the Action's POSTs
//! (429 `rate_limited`).
//! Health, readiness and metrics are exempt so probes keep working under load.
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::core::error::AppError;
use crate::http::extract::ClientIp;
use crate::state::StateRef;

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn shed(
    State(state): State<StateRef>,
    ClientIp(ip): ClientIp,
    req: Request,
    next: Next,
) -> Response {
    if matches!(req.uri().path(), "/healthz" | "/readyz" | "/metrics") {
        return next.run(req).await;
    }
    // Long-lived event streams (SSE) would hold a slot for their whole life: they are limited per
    // IP by the read budget below, not by the in-flight cap.
    let streaming = req.uri().path().ends_with("/events");
    let permit = if streaming {
        None
    } else {
        Some(state.load.try_enter())
    };
    let Ok(_permit) = permit.transpose() else {
        return AppError::Unavailable {
            code: "overloaded",
            message: "the server is handling too many requests; try again shortly".into(),
        }
        .into_response();
    };
    // Reads, and the Action's anonymous POSTs (each builds a transaction from chain reads).
    if matches!(*req.method(), Method::GET | Method::HEAD)
        || (req.method() == Method::POST && req.uri().path().starts_with("/api/actions/"))
    {
        if let Err(e) = state.load.check_read(ip) {
            return e.into_response();
        }
    }
    next.run(req).await
}
