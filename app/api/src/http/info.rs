use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::state::{PublicInfo, StateRef};

/// `GET /api/info`: where the chain is, so a frontend's wallet uses the same one.
pub async fn info(State(state): State<StateRef>) -> Json<PublicInfo> {
    Json(state.info.clone())
}

/// `GET /api/ping`: the cheapest JSON answer behind the same middleware as every API route (body
/// limit, timeout, load shedding and per-address reads, metrics): the benchmarks' floor.
pub async fn ping() -> Json<Value> {
    Json(json!({ "ok": true }))
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: both upstreams answer (Solana RPC and Cloudflare's API), checked at most once
/// every few seconds whoever asks, and the shared state (Redis) answers when replicas share one.
pub async fn readyz(State(state): State<StateRef>) -> (StatusCode, Json<Value>) {
    let checks = state
        .readiness
        .checks(
            &state.chain,
            &state.stream,
            state.settings.registrar_min_lamports,
            state.replicas.as_ref().map(|r| &*r.redis),
        )
        .await;
    let status = if checks.ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if checks.ready() { "ready" } else { "unready" },
            "checks": checks.to_json(),
            "registrar": checks.registrar_json(),
        })),
    )
}
