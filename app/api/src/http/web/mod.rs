//! The web app `roomcast serve` serves: discovery (`/`), watch pages (`/watch/{room}`) and the host
//! console (`/host`). Static HTML and small ES modules embedded in the binary: no build step, no
//! Node toolchain. Pages talk only to the JSON API (and the wallet to the cluster RPC it names).
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::state::StateRef;

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
    ($file:literal, $mime:expr) => {
        get(|| async { Asset(include_bytes!(concat!("assets/", $file)), $mime) })
    };
}

/// hls.js: the one embedded copy of the one vendored file (`roomcast_stream::hls_js`), which the
/// emulator's player page serves too.
use roomcast_stream::hls_js::HLS_JS;

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

pub fn router() -> Router<StateRef> {
    Router::new()
        .route("/", asset!("index.html", HTML))
        .route("/watch/{room}", asset!("watch.html", HTML))
        .route("/host", asset!("host.html", HTML))
        .route(
            "/assets/app.css",
            asset!("app.css", "text/css; charset=utf-8"),
        )
        .route("/assets/common.js", asset!("common.js", JS))
        .route("/assets/wallet.js", asset!("wallet.js", JS))
        .route("/assets/discover.js", asset!("discover.js", JS))
        .route("/assets/watch.js", asset!("watch.js", JS))
        .route("/assets/host.js", asset!("host.js", JS))
        .route("/assets/icon.svg", asset!("icon.svg", "image/svg+xml"))
        // Vendored at a pinned version with its licence (scripts/vendor.sh, vendor/SHA256SUMS).
        .route(
            "/assets/vendor/hls.min.js",
            get(|| async { Asset(HLS_JS, JS) }),
        )
}
