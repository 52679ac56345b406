use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::ClientIp;
use crate::error::{AppError, AppResult};
use crate::extract::Authed;
use crate::idempotency::StoredResponse;
use crate::rooms;
use crate::state::SharedState;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    #[serde(default)]
    title: Option<String>,
    /// The host wallet; required for the operator, optional (must match) for a signing wallet.
    #[serde(default)]
    host: Option<String>,
}

/// `POST /api/create`: a live input at Cloudflare plus a room on-chain, or neither.
pub async fn create(
    State(state): State<SharedState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Authed {
        principal,
        body,
        raw,
    }: Authed<CreateRequest>,
) -> AppResult<Response> {
    let title = body
        .title
        .ok_or_else(|| AppError::bad_request("invalid_title", "title is required"))?;
    rooms::validate_title(&title)?;
    let host = rooms::create_host(&principal, body.host.as_deref())?;

    let idempotency_key = headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str().map(str::to_string).map_err(|_| {
                AppError::bad_request("invalid_idempotency_key", "Idempotency-Key must be ASCII")
            })
        })
        .transpose()?;
    let mut slot = match &idempotency_key {
        Some(key) => {
            let guard = state.idempotency.claim(&principal, key, &raw).await?;
            if let Some(stored) = guard.as_ref() {
                return Ok(replay(stored));
            }
            Some(guard)
        }
        None => None,
    };
    state.create_limits.check(ip, &host)?;

    // Run the two-sided create to completion even if the client disconnects or the request times
    // out, so a live input is never left behind half-registered. Shutdown waits for these tasks.
    let task_state = state.clone();
    let handle = state
        .tasks
        .spawn(async move { rooms::create(&task_state, title, host).await });
    let created = match handle
        .await
        .map_err(|e| AppError::Internal(format!("create task failed: {e}")))
        .and_then(|r| r)
    {
        Ok(created) => created,
        Err(err) => {
            if let Some(key) = &idempotency_key {
                state.idempotency.release(&principal, key);
            }
            return Err(err);
        }
    };
    let body = serde_json::to_value(&created).map_err(|e| AppError::Internal(e.to_string()))?;
    if let Some(slot) = slot.as_mut() {
        **slot = Some(StoredResponse {
            status: StatusCode::CREATED,
            body: body.clone(),
        });
    }
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

fn replay(stored: &StoredResponse) -> Response {
    let mut response = (stored.status, Json(stored.body.clone())).into_response();
    response.headers_mut().insert(
        "idempotent-replayed",
        axum::http::HeaderValue::from_static("true"),
    );
    response
}
