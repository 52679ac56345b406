//! HTTP control API under `/__emulator` (documented in the module docs).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};

use super::broadcast::ControlError;
use super::faults::Fault;
use super::route::Route;
use super::service::{ControlOutcome, Service};
use super::webhook::WebhookTarget;

type S = State<Arc<Service>>;

pub(crate) fn router() -> Router<Arc<Service>> {
    Router::new()
        .route("/__emulator/health", get(health))
        .route("/__emulator/inputs", get(inputs))
        .route("/__emulator/inputs/{uid}", get(input))
        .route("/__emulator/inputs/{uid}/videos", get(input_videos))
        .route("/__emulator/inputs/{uid}/connect", post(connect))
        .route("/__emulator/inputs/{uid}/disconnect", post(disconnect))
        .route("/__emulator/inputs/{uid}/error", post(error))
        .route("/__emulator/inputs/{uid}/views", put(views))
        .route(
            "/__emulator/webhook",
            put(set_webhook).delete(clear_webhook),
        )
        .route("/__emulator/webhook/deliveries", get(deliveries))
        .route("/__emulator/faults", post(add_fault).delete(clear_faults))
        .route("/__emulator/calls", get(calls).delete(reset_calls))
        .route("/__emulator/reset", post(reset))
}

fn err(e: ControlError) -> Response {
    let status = match e {
        ControlError::NotFound(_) => StatusCode::NOT_FOUND,
        ControlError::BadRequest(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::CONFLICT,
    };
    (status, Json(json!({"error": e.to_string()}))).into_response()
}

fn bad(msg: String) -> Response {
    err(ControlError::BadRequest(msg))
}

/// Parses a JSON body into `T`; failures become a clear 400.
fn body<T: for<'de> Deserialize<'de>>(raw: &[u8]) -> Result<T, ControlError> {
    serde_json::from_slice(raw)
        .map_err(|e| ControlError::BadRequest(format!("invalid JSON body: {e}")))
}

fn outcome(r: Result<ControlOutcome, ControlError>) -> Response {
    match r {
        Ok(o) => Json(o).into_response(),
        Err(e) => err(e),
    }
}

async fn health(State(s): S) -> Response {
    Json(json!({
        "ok": true,
        "apiBaseUrl": s.api_base_url(),
        "deliveryBaseUrl": s.delivery_base_url(),
        "accountId": s.account_id,
        "customerCode": s.customer_code,
        "videoIngest": s.video,
    }))
    .into_response()
}

async fn inputs(State(s): S) -> Response {
    let st = s.lock();
    let all: Vec<_> = st.order.iter().filter_map(|u| st.get(u)).collect();
    drop(st);
    Json(all).into_response()
}

async fn input(State(s): S, Path(uid): Path<String>) -> Response {
    let found = s.lock().get(&uid);
    match found {
        Some(i) => Json(i).into_response(),
        None => err(ControlError::NotFound(uid)),
    }
}

/// The same list as the account API's `GET .../live_inputs/{uid}/videos`, without a token.
async fn input_videos(State(s): S, Path(uid): Path<String>) -> Response {
    let st = s.lock();
    if !st.inputs.contains_key(&uid) {
        return err(ControlError::NotFound(uid));
    }
    let v = st.videos_of(&uid);
    drop(st);
    Json(v).into_response()
}

async fn connect(State(s): S, Path(uid): Path<String>) -> Response {
    outcome(s.control(|st, code| st.connect(&uid, code), &uid).await)
}

async fn disconnect(State(s): S, Path(uid): Path<String>) -> Response {
    outcome(s.control(|st, _| st.disconnect(&uid), &uid).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorBody {
    code: String,
    #[serde(default)]
    message: Option<String>,
}

async fn error(State(s): S, Path(uid): Path<String>, raw: axum::body::Bytes) -> Response {
    let b: ErrorBody = match body(&raw) {
        Ok(b) => b,
        Err(e) => return err(e),
    };
    outcome(
        s.control(|st, _| st.error(&uid, &b.code, b.message), &uid)
            .await,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ViewsBody {
    live_viewers: u64,
}

async fn views(State(s): S, Path(uid): Path<String>, raw: axum::body::Bytes) -> Response {
    let b: ViewsBody = match body(&raw) {
        Ok(b) => b,
        Err(e) => return err(e),
    };
    match s.set_views(&uid, b.live_viewers) {
        Ok(()) => Json(json!({"liveViewers": b.live_viewers})).into_response(),
        Err(e) => err(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookBody {
    url: String,
    #[serde(default)]
    secret: Option<String>,
}

async fn set_webhook(State(s): S, raw: axum::body::Bytes) -> Response {
    let b: WebhookBody = match body(&raw) {
        Ok(b) => b,
        Err(e) => return err(e),
    };
    if reqwest::Url::parse(&b.url).map_or(true, |u| !matches!(u.scheme(), "http" | "https")) {
        return bad(format!(
            "webhook url must be an http(s) URL, got {:?}",
            b.url
        ));
    }
    s.lock().webhook = Some(WebhookTarget {
        url: b.url,
        secret: b.secret.map(SecretString::from),
    });
    StatusCode::NO_CONTENT.into_response()
}

async fn clear_webhook(State(s): S) -> Response {
    s.lock().webhook = None;
    StatusCode::NO_CONTENT.into_response()
}

async fn deliveries(State(s): S) -> Response {
    let d = s.lock().deliveries.clone();
    Json(d).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultBody {
    route: String,
    fault: Value,
    #[serde(default = "one")]
    times: u32,
}

fn one() -> u32 {
    1
}

async fn add_fault(State(s): S, raw: axum::body::Bytes) -> Response {
    let b: FaultBody = match body(&raw) {
        Ok(b) => b,
        Err(e) => return err(e),
    };
    let route: Route = match b.route.parse() {
        Ok(r) => r,
        Err(e) => return bad(e),
    };
    let fault: Fault = match serde_json::from_value(b.fault) {
        Ok(f) => f,
        Err(e) => return bad(format!("invalid fault: {e}")),
    };
    match s.inject(route, fault, b.times) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => err(e),
    }
}

async fn clear_faults(State(s): S) -> Response {
    s.lock().faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn calls(State(s): S) -> Response {
    Json(s.calls()).into_response()
}

async fn reset_calls(State(s): S) -> Response {
    s.lock().calls.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn reset(State(s): S) -> Response {
    s.reset();
    StatusCode::NO_CONTENT.into_response()
}
