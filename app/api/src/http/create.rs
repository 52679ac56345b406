use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::core::error::{AppError, AppResult};
use crate::http::extract::Authed;
use crate::http::extract::ClientIp;
use crate::rooms;
use crate::rooms::idempotency::{self, Journal};
use crate::state::StateRef;
use crate::store::{Claim, StoredResponse};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    #[serde(default)]
    title: Option<String>,
    /// The host wallet; required for the operator, optional (must match) for a signing wallet.
    #[serde(default)]
    host: Option<String>,
    /// A token gate: only holders of `minAmount` raw units of `mint` may watch.
    #[serde(default)]
    gate: Option<GateRequest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GateRequest {
    mint: String,
    min_amount: u64,
}

/// `POST /api/create`: a live input at Cloudflare plus a room on-chain, or neither.
pub async fn create(
    State(state): State<StateRef>,
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
    let gate = match &body.gate {
        None => None,
        Some(gate) => Some(rooms::create::checked_gate(&state, &gate.mint, gate.min_amount).await?),
    };

    let idempotency_key = headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map_err(|_| {
                    AppError::bad_request(
                        "invalid_idempotency_key",
                        "Idempotency-Key must be ASCII",
                    )
                })
                .and_then(|key| idempotency::scoped_key(&principal, key))
        })
        .transpose()?;
    let fingerprint = idempotency::fingerprint(&raw);
    let store = &state.idempotency;
    // A retry of a finished (or running) create is answered without spending the rate limit ...
    if let Some(key) = &idempotency_key {
        let known = store.get(key).await?;
        if let Some(stored) = idempotency::taken(known, fingerprint)? {
            return Ok(replay(&stored));
        }
    }
    // ... and a request the rate limit refuses does not consume its key.
    state.create_limits.check(ip, &host).await?;
    state
        .funds
        .ensure_create_affordable(&state.chain, state.settings.registrar_min_lamports)
        .await?;
    let ttl = state.settings.idempotency_ttl;
    let journal = match &idempotency_key {
        None => None,
        Some(key) => match store
            .claim(key, fingerprint, idempotency::LEASE, ttl)
            .await?
        {
            Claim::Acquired { token, progress } => Some(Arc::new(Journal::new(
                state.idempotency.clone(),
                key.clone(),
                token,
                progress,
                ttl,
            ))),
            Claim::Taken(known) => {
                return match idempotency::taken(known, fingerprint)? {
                    Some(stored) => Ok(replay(&stored)),
                    None => Err(idempotency::in_progress()),
                }
            }
        },
    };

    // Run the two-sided create to completion even if the client disconnects or the request times
    // out, so a live input is never left behind half-registered. The task, not this handler, holds
    // the key (renewing its lease) and records the outcome under it: a retry after a timeout gets
    // the first room, and one after this process died finishes it. Shutdown waits for the task.
    let task_state = state.clone();
    let handle = state.tasks.spawn(async move {
        let heartbeat = journal.as_ref().map(Journal::heartbeat);
        let outcome = rooms::create(&task_state, title, host, gate, journal.as_deref())
            .await
            .and_then(|created| {
                serde_json::to_value(&created).map_err(|e| AppError::Internal(e.to_string()))
            });
        // No renewal may race with the outcome below (it would find the lease gone).
        if let Some(heartbeat) = heartbeat {
            heartbeat.stop().await;
        }
        if let Some(journal) = &journal {
            match &outcome {
                Ok(body) => {
                    let stored = StoredResponse {
                        status: StatusCode::CREATED.as_u16(),
                        body: body.clone(),
                    };
                    journal.complete(stored).await;
                }
                // Nothing made yet: the key is free again. Otherwise its progress stays, and the
                // retry finishes this create instead of starting a second one.
                Err(_) => {
                    let forget = journal.progress().input.is_none();
                    journal.release(forget).await;
                }
            }
        }
        outcome
    });
    let body = handle
        .await
        .map_err(|e| AppError::Internal(format!("create task failed: {e}")))??;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

fn replay(stored: &StoredResponse) -> Response {
    let mut response = (stored.status(), Json(stored.body.clone())).into_response();
    response.headers_mut().insert(
        "idempotent-replayed",
        axum::http::HeaderValue::from_static("true"),
    );
    response
}
