//! Cloudflare's v4 answer envelope, as the emulated account API answers with it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

pub(crate) fn shutting_down() -> Response {
    envelope_error(
        StatusCode::SERVICE_UNAVAILABLE,
        10001,
        "Emulator shutting down",
    )
}

/// `{success:true, errors:[], messages:[], result}`.
pub(crate) fn envelope_ok(status: StatusCode, result: Value) -> Response {
    (
        status,
        axum::Json(json!({"success": true, "errors": [], "messages": [], "result": result})),
    )
        .into_response()
}

/// `{success:false, errors:[{code,message}], messages:[], result:null}`.
pub(crate) fn envelope_error(
    status: StatusCode,
    code: i64,
    message: impl Into<String>,
) -> Response {
    (
        status,
        axum::Json(json!({
            "success": false,
            "errors": [{"code": code, "message": message.into()}],
            "messages": [],
            "result": null
        })),
    )
        .into_response()
}
