//! Solana JSON-RPC 2.0 over HTTP: envelope, batches and error codes as real clusters use them.
pub(crate) mod encoding;
mod error;
mod methods;
pub(crate) mod params;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

pub use error::RpcError;

use crate::executor::ChainExecutor;

/// The `apiVersion` reported in every response context, and by `getVersion`.
pub const API_VERSION: &str = "3.1.12";

#[derive(Clone)]
pub struct RpcState {
    pub chain: ChainExecutor,
}

pub fn router(state: RpcState) -> Router {
    Router::new()
        .route("/", post(handle))
        .route("/health", get(|| async { "ok" }))
        .with_state(state)
}

async fn handle(State(state): State<RpcState>, body: Bytes) -> impl IntoResponse {
    let response = match serde_json::from_slice::<Value>(&body) {
        Err(_) => error_response(Value::Null, RpcError::parse_error()),
        Ok(Value::Array(calls)) if calls.is_empty() => {
            error_response(Value::Null, RpcError::invalid_request())
        }
        Ok(Value::Array(calls)) => {
            let mut responses = Vec::with_capacity(calls.len());
            for call in calls {
                responses.push(handle_call(&state, call).await);
            }
            Value::Array(responses)
        }
        Ok(call) => handle_call(&state, call).await,
    };
    (
        [(header::CONTENT_TYPE, "application/json")],
        response.to_string(),
    )
}

async fn handle_call(state: &RpcState, call: Value) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let valid = call.get("jsonrpc").and_then(Value::as_str) == Some("2.0");
    let Some(method) = call.get("method").and_then(Value::as_str).filter(|_| valid) else {
        return error_response(id, RpcError::invalid_request());
    };
    let params = call.get("params").cloned().unwrap_or(Value::Null);
    match methods::dispatch(state, method, params).await {
        Ok(result) => json!({ "jsonrpc": "2.0", "result": result, "id": id }),
        Err(err) => error_response(id, err),
    }
}

fn error_response(id: Value, err: RpcError) -> Value {
    json!({ "jsonrpc": "2.0", "error": err.to_json(), "id": id })
}
