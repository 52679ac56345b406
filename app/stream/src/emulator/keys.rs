//! The signing keys API (`/client/v4/accounts/{account}/stream/keys`), as Cloudflare's: `POST` makes
//! an RSA key and shows its private half once (`pem` and `jwk`, base64), `GET` lists `{id, created}`,
//! `DELETE /keys/{id}` answers `"Revoked"` and every token signed with it stops playing at once.
//! At most 1,000 keys per account.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::envelope::{envelope_error, envelope_ok};
use super::ids;
use super::route::Route;
use super::service::Service;
use super::state::SigningKeyRecord;
use crate::signed_urls::SigningKey;

type S = State<Arc<Service>>;

/// Cloudflare's limit of signing keys per account.
pub(crate) const MAX_SIGNING_KEYS: usize = 1000;

pub(super) async fn create(
    State(s): S,
    Path(account): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = s.enter(Route::CreateSigningKey).await {
        return r;
    }
    if let Some(r) = s.reject(&headers, &account) {
        return r;
    }
    if s.lock().signing_keys.len() >= MAX_SIGNING_KEYS {
        return envelope_error(
            StatusCode::BAD_REQUEST,
            10005,
            format!("An account can have at most {MAX_SIGNING_KEYS} signing keys"),
        );
    }
    // Key generation takes a while: off the async workers.
    let key = match tokio::task::spawn_blocking(SigningKey::generate).await {
        Ok(Ok(key)) => key,
        _ => return envelope_error(StatusCode::INTERNAL_SERVER_ERROR, 10001, "internal error"),
    };
    let created = ids::now();
    s.lock().signing_keys.insert(
        key.id().to_string(),
        SigningKeyRecord {
            created: created.clone(),
            public: key.public_key(),
        },
    );
    tracing::info!(id = key.id(), "emulator created signing key");
    envelope_ok(
        StatusCode::OK,
        json!({"id": key.id(), "pem": key.pem_base64(), "jwk": key.jwk_base64(), "created": created}),
    )
}

pub(super) async fn list(State(s): S, Path(account): Path<String>, headers: HeaderMap) -> Response {
    if let Some(r) = s.enter(Route::ListSigningKeys).await {
        return r;
    }
    if let Some(r) = s.reject(&headers, &account) {
        return r;
    }
    let keys: Vec<_> = s
        .lock()
        .signing_keys
        .iter()
        .map(|(id, k)| json!({"id": id, "created": k.created}))
        .collect();
    envelope_ok(StatusCode::OK, json!(keys))
}

pub(super) async fn delete(
    State(s): S,
    Path((account, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = s.enter(Route::DeleteSigningKey).await {
        return r;
    }
    if let Some(r) = s.reject(&headers, &account) {
        return r;
    }
    if s.lock().signing_keys.remove(&id).is_none() {
        return envelope_error(
            StatusCode::NOT_FOUND,
            10003,
            format!("Signing key {id} not found"),
        );
    }
    tracing::info!(%id, "emulator revoked signing key");
    envelope_ok(StatusCode::OK, json!("Revoked"))
}
