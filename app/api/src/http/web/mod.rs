//! The web app `roomcast serve` serves: discovery (`/`), watch pages (`/watch/{room}`) and the host
//! console (`/host`). Static HTML and small ES modules embedded in the binary: no build step, no
//! Node toolchain. Pages talk only to the JSON API (and the wallet to the cluster RPC it names).
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::core::error::AppError;
use crate::state::{AppState, StateRef};

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

/// The pages' Content-Security-Policy: scripts, styles and images from this origin only;
/// connections to this API (as served, and by its public origin), the cluster's RPC and WebSocket (the wallet's) and the video delivery
/// host; media from `blob:` (hls.js feeds Media Source buffers) and delivery; hls.js's worker from
/// `blob:`; never framed (the video host's iframe player is the embeddable one).
pub fn content_security_policy(state: &AppState) -> String {
    let delivery = origin(&state.stream.playback_urls("csp").hls);
    let mut connect = vec!["'self'".to_string()];
    // The API by its configured origin too (a page opened under another name of this host).
    let api = &state.settings.public_origin;
    for url in [api, &state.info.rpc_url, &state.info.ws_url]
        .into_iter()
        .flatten()
    {
        connect.extend(origin(url));
    }
    connect.extend(delivery.clone());
    let delivery = delivery.map(|d| format!(" {d}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{delivery}; \
         connect-src {}; media-src 'self' blob:{delivery}; worker-src 'self' blob:; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        connect.join(" ")
    )
}

/// `scheme://host[:port]` of `url`, if it has one.
fn origin(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    url.has_host().then(|| url.origin().ascii_serialization())
}

pub fn router(state: &AppState) -> Router<StateRef> {
    let csp = HeaderValue::from_str(&content_security_policy(state))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"));
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
        .route("/assets/webrtc.js", asset!("webrtc.js", JS))
        .route("/assets/gate.js", asset!("gate.js", JS))
        .route("/assets/tips.js", asset!("tips.js", JS))
        .route("/assets/host.js", asset!("host.js", JS))
        .route("/assets/local_wallet.js", get(local_wallet))
        .route("/assets/icon.svg", asset!("icon.svg", "image/svg+xml"))
        // Vendored at a pinned version with its licence (scripts/vendor.sh, vendor/SHA256SUMS).
        .route(
            "/assets/vendor/hls.min.js",
            get(|| async { Asset(HLS_JS, JS) }),
        )
        .layer(axum::middleware::map_response(
            move |mut response: Response| {
                let csp = csp.clone();
                async move {
                    response
                        .headers_mut()
                        .insert(header::CONTENT_SECURITY_POLICY, csp);
                    response
                }
            },
        ))
}

/// The local test wallet (`assets/local_wallet.js`): served only when the chain is the embedded
/// local node, so no page of a server on any other cluster can load it, whatever it is made to do.
async fn local_wallet(State(state): State<StateRef>) -> Response {
    if !state.info.embedded.chain {
        return AppError::NotFound("no such route".into()).into_response();
    }
    Asset(include_bytes!("assets/local_wallet.js"), JS).into_response()
}
