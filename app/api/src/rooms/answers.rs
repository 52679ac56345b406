//! Public room answers served from `live::answers` when nothing they are made of changed, else
//! rendered (in the request on a miss; in the background, once, for an answer only older than
//! `fresh_for`). The render reads its own key (the raw query or the room id), so a hit parses
//! nothing.
use std::future::Future;

use axum::body::Bytes;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::core::error::AppResult;
use crate::live::answers::{Kind, Lookup};
use crate::state::StateRef;

/// `key`'s answer: kept, or `render(state, key)`'s (kept when it succeeds).
pub async fn kept<R, F>(state: &StateRef, kind: Kind, key: String, render: R) -> AppResult<Bytes>
where
    R: FnOnce(StateRef, String) -> F + Send + 'static,
    F: Future<Output = AppResult<Bytes>> + Send + 'static,
{
    // Read before rendering: a change during the render leaves the kept answer behind it.
    let version = state.answers_version();
    match state.answers.get(kind, &key, version) {
        Lookup::Fresh(bytes) => Ok(bytes),
        Lookup::Stale(bytes, refresh) => {
            if let Some(refresh) = refresh {
                let state = state.clone();
                tokio::spawn(async move {
                    let version = state.answers_version();
                    match render(state.clone(), key.clone()).await {
                        Ok(bytes) => state.answers.put(kind, &key, version, bytes),
                        // The next request renders and answers the error itself.
                        Err(_) => state.answers.forget(kind, &key),
                    }
                    drop(refresh);
                });
            }
            Ok(bytes)
        }
        Lookup::Miss => {
            let bytes = render(state.clone(), key.clone()).await?;
            state.answers.put(kind, &key, version, bytes.clone());
            Ok(bytes)
        }
    }
}

/// Serialized JSON (kept or just rendered bytes) as the answer.
pub fn json(body: Bytes) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}
