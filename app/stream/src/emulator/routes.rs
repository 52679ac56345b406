//! Router and the `/client/v4/.../stream/live_inputs` handlers.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use super::envelope::{envelope_error, envelope_ok};
use super::patch::parse_patch;
use super::route::Route;
use super::service::Service;
use super::webhook::Notification;
use super::{control, delivery, keys};

type S = State<Arc<Service>>;

const INPUTS: &str = "/client/v4/accounts/{account}/stream/live_inputs";
const KEYS: &str = "/client/v4/accounts/{account}/stream/keys";

pub(crate) fn router(service: Arc<Service>) -> Router {
    Router::new()
        .route(INPUTS, post(create).get(list))
        .route(
            &format!("{INPUTS}/{{uid}}"),
            get(get_one).put(update).delete(delete),
        )
        .route(&format!("{INPUTS}/{{uid}}/rotate_keys"), post(rotate))
        .route(&format!("{INPUTS}/{{uid}}/videos"), get(videos))
        .route(KEYS, post(keys::create).get(keys::list))
        .route(
            &format!("{KEYS}/{{id}}"),
            axum::routing::delete(keys::delete),
        )
        .merge(delivery::router())
        .merge(control::router())
        .merge(super::webrtc::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(service)
}

async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/client/v4") {
        envelope_error(
            StatusCode::NOT_FOUND,
            7003,
            format!(
                "Could not route to {}, perhaps your object identifier is invalid?",
                uri.path()
            ),
        )
    } else {
        (StatusCode::NOT_FOUND, "not found\n").into_response()
    }
}

async fn method_not_allowed() -> Response {
    envelope_error(
        StatusCode::METHOD_NOT_ALLOWED,
        10405,
        "Method not allowed for this route",
    )
}

fn input_not_found(uid: &str) -> Response {
    envelope_error(
        StatusCode::NOT_FOUND,
        10003,
        format!("Live input {uid} not found"),
    )
}

fn validation(msg: String) -> Response {
    envelope_error(StatusCode::BAD_REQUEST, 10005, msg)
}

/// Common prologue: count, fault, auth, account.
async fn gate(s: &Service, route: Route, headers: &HeaderMap, account: &str) -> Option<Response> {
    if let Some(r) = s.enter(route).await {
        return Some(r);
    }
    s.reject(headers, account)
}

/// Runs a mutation the way Cloudflare does: to completion in its own task, even if the caller
/// goes away (a client timeout must not cancel a create that was received). A post-apply fault then
/// decides what happens to the answer (dropped, never sent, late).
async fn mutate(
    s: &Arc<Service>,
    route: Route,
    headers: HeaderMap,
    account: String,
    work: impl FnOnce(&Arc<Service>) -> Response + Send + 'static,
) -> Response {
    let task = s.clone();
    let done = tokio::spawn(async move {
        let after = match task.enter_mutation(route).await {
            Err(early) => return (early, None),
            Ok(after) => after,
        };
        if let Some(r) = task.reject(&headers, &account) {
            return (r, None);
        }
        (work(&task), after)
    });
    let (answer, after) = match done.await {
        Ok(done) => done,
        Err(e) => {
            tracing::error!(error = %e, "emulator mutation task failed");
            return envelope_error(StatusCode::INTERNAL_SERVER_ERROR, 10001, "internal error");
        }
    };
    match after {
        Some(fault) => s.after_apply(fault, answer).await,
        None => answer,
    }
}

/// Notifications caused by API calls (disable, rotate or delete while
/// live) are sent in the background, as Cloudflare does: the API answer
/// never waits for the receiver (which may be the caller itself).
fn notify_later(s: &Arc<Service>, events: Vec<Notification>) {
    s.notify_in_order(events);
}

fn to_value<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

async fn create(
    State(s): S,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    mutate(&s, Route::CreateLiveInput, headers, account, move |s| {
        let patch = match parse_patch(&body) {
            Ok(p) => p,
            Err(m) => return validation(m),
        };
        let input = s.lock().create(&s.urls(), patch);
        tracing::info!(uid = %input.uid, "emulator created live input");
        envelope_ok(StatusCode::OK, to_value(&input))
    })
    .await
}

async fn list(State(s): S, Path(account): Path<String>, headers: HeaderMap) -> Response {
    if let Some(r) = gate(&s, Route::ListLiveInputs, &headers, &account).await {
        return r;
    }
    let items = s.lock().list();
    let n = items.len();
    envelope_ok(
        StatusCode::OK,
        json!({"liveInputs": items, "range": n, "total": n}),
    )
}

async fn get_one(
    State(s): S,
    Path((account, uid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = gate(&s, Route::GetLiveInput, &headers, &account).await {
        return r;
    }
    let found = s.lock().get(&uid);
    match found {
        Some(i) => envelope_ok(StatusCode::OK, to_value(&i)),
        None => input_not_found(&uid),
    }
}

async fn update(
    State(s): S,
    Path((account, uid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    mutate(&s, Route::UpdateLiveInput, headers, account, move |s| {
        let patch = match parse_patch(&body) {
            Ok(p) => p,
            Err(m) => return validation(m),
        };
        let res = s.lock().update(&uid, patch);
        let Some((input, events)) = res else {
            return input_not_found(&uid);
        };
        notify_later(s, events);
        envelope_ok(StatusCode::OK, to_value(&input))
    })
    .await
}

async fn delete(
    State(s): S,
    Path((account, uid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    mutate(&s, Route::DeleteLiveInput, headers, account, move |s| {
        let res = s.lock().delete(&uid);
        let Some((events, videos)) = res else {
            return input_not_found(&uid);
        };
        if let Some(media) = &s.media {
            for v in &videos {
                media.remove(v);
            }
        }
        notify_later(s, events);
        tracing::info!(%uid, "emulator deleted live input");
        // The SDK types this call as `void`; answer with an empty body.
        StatusCode::OK.into_response()
    })
    .await
}

async fn rotate(
    State(s): S,
    Path((account, uid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    mutate(&s, Route::RotateKeys, headers, account, move |s| {
        let res = s.lock().rotate(&uid, &s.urls());
        let Some((input, events)) = res else {
            return input_not_found(&uid);
        };
        notify_later(s, events);
        envelope_ok(StatusCode::OK, to_value(&input))
    })
    .await
}

async fn videos(
    State(s): S,
    Path((account, uid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = gate(&s, Route::LiveInputVideos, &headers, &account).await {
        return r;
    }
    let st = s.lock();
    if !st.inputs.contains_key(&uid) {
        return input_not_found(&uid);
    }
    let v = st.videos_of(&uid);
    drop(st);
    envelope_ok(StatusCode::OK, to_value(&v))
}
