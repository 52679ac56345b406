//! The web app `roomcast serve` serves: discovery (`/`), watch pages (`/watch/{room}`) and the host
//! console (`/host`). Static HTML and small ES modules embedded in the binary: no build step, no
//! Node toolchain. Pages talk only to the JSON API (and the wallet to the cluster RPC it names).
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::state::SharedState;

/// One embedded file: its bytes and content type.
struct Asset(&'static [u8], &'static str);

impl IntoResponse for Asset {
    fn into_response(self) -> Response {
        let mut response = self.0.into_response();
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(self.1));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        // Pages load only their own scripts; stream keys never leave in a Referer.
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        response
    }
}

macro_rules! asset {
    ($file:literal, $mime:literal) => {
        get(|| async { Asset(include_bytes!(concat!("assets/", $file)), $mime) })
    };
}

pub fn router() -> Router<SharedState> {
    Router::new().route("/assets/icon.svg", asset!("icon.svg", "image/svg+xml"))
}
