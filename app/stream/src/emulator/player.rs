//! The player page served at `/{uid}/iframe`, and the path of the hls.js it loads
//! ([`crate::hls_js`], embedded once: the page works offline).

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::hls_js::HLS_JS;
/// Versioned path, so it can be cached for good.
pub(crate) const HLS_JS_PATH: &str = "/player/hls-1.7.4.min.js";
const PAGE: &str = include_str!("player.html");

/// The page for one input or video uid (already resolved, so 32 hex characters).
pub(crate) fn page(id: &str) -> Response {
    // JSON-encoded into a script: safe for any id, and ids are hex anyway.
    let id_js = serde_json::to_string(id).unwrap_or_else(|_| "\"\"".into());
    let html = PAGE
        .replace("{{ID_JSON}}", &id_js)
        .replace("{{HLS_JS}}", HLS_JS_PATH);
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        html,
    )
        .into_response()
}

pub(crate) async fn hls_js() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        HLS_JS,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_player_script_path_names_the_pinned_version() {
        assert!(HLS_JS_PATH.contains(crate::hls_js::VERSION));
    }

    #[test]
    fn page_names_the_id_and_the_player_script() {
        let r = page("0123456789abcdef0123456789abcdef");
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        assert!(PAGE.contains("{{ID_JSON}}") && PAGE.contains("{{HLS_JS}}"));
    }
}
