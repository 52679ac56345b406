use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::ClientIp;
use crate::error::{AppError, AppResult};
use crate::extract::Authed;
use crate::idempotency;
use crate::rooms;
use crate::state::SharedState;
use crate::store::{Claim, StoredResponse};

/// How long a claimed key stays "in progress" if its create never reports back (a crash of a
/// process sharing the store); a create finishes long before.
const IDEMPOTENCY_LEASE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

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
        let known = store.get(key).await.map_err(idempotency::store_error)?;
        if let Some(stored) = idempotency::taken(known, fingerprint)? {
            return Ok(replay(&stored));
        }
    }
    // ... and a request the rate limit refuses does not consume its key.
    state.create_limits.check(ip, &host).await?;
    crate::funds::ensure_create_affordable(&state).await?;
    if let Some(key) = &idempotency_key {
        match store
            .claim(key, fingerprint, IDEMPOTENCY_LEASE)
            .await
            .map_err(idempotency::store_error)?
        {
            Claim::Acquired => {}
            Claim::Taken(known) => {
                if let Some(stored) = idempotency::taken(known, fingerprint)? {
                    return Ok(replay(&stored));
                }
            }
        }
    }

    // Run the two-sided create to completion even if the client disconnects or the request times
    // out, so a live input is never left behind half-registered. The task, not this handler, records
    // the outcome under the key: a retry after a timeout gets the first room. Shutdown waits for it.
    let task_state = state.clone();
    let handle = state.tasks.spawn(async move {
        let outcome = rooms::create(&task_state, title, host)
            .await
            .and_then(|created| {
                serde_json::to_value(&created).map_err(|e| AppError::Internal(e.to_string()))
            });
        if let Some(key) = &idempotency_key {
            let store = &task_state.idempotency;
            let recorded = match &outcome {
                Ok(body) => {
                    let stored = StoredResponse {
                        status: StatusCode::CREATED.as_u16(),
                        body: body.clone(),
                    };
                    store
                        .complete(
                            key,
                            fingerprint,
                            stored,
                            task_state.settings.idempotency_ttl,
                        )
                        .await
                }
                Err(_) => store.release(key).await,
            };
            if let Err(e) = recorded {
                tracing::error!(error = %e, "could not record the outcome of an idempotent create");
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
