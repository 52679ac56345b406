use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::state::{PublicInfo, SharedState};

/// `GET /api/info`: where the chain is, so a frontend's wallet uses the same one.
pub async fn info(State(state): State<SharedState>) -> Json<PublicInfo> {
    Json(state.info.clone())
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: both upstreams answer (Solana RPC and Cloudflare's delivery/API), and the shared
/// state (Redis) when replicas share one.
pub async fn readyz(State(state): State<SharedState>) -> (StatusCode, Json<Value>) {
    let bound = std::time::Duration::from_secs(3);
    let (chain, cloudflare) = tokio::join!(
        tokio::time::timeout(bound, state.chain.health()),
        tokio::time::timeout(bound, state.stream.list_live_inputs()),
    );
    let chain_ok = matches!(chain, Ok(Ok(_)));
    let cloudflare_ok = matches!(cloudflare, Ok(Ok(_)));
    let mut checks = json!({ "solanaRpc": chain_ok, "cloudflare": cloudflare_ok });
    let mut shared_ok = true;
    if let Some(shared) = &state.shared {
        shared_ok = shared.redis.ping().await.is_ok();
        checks["sharedState"] = json!(shared_ok);
    }
    let status = if chain_ok && cloudflare_ok && shared_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if status == StatusCode::OK { "ready" } else { "unready" },
            "checks": checks,
        })),
    )
}
