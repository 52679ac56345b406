//! The player page served at `/{uid}/iframe`, and the hls.js it loads (vendored under
//! `vendor/hls.js/`, embedded in the binary: the page works offline).

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

/// Pinned with `scripts/vendor.sh`; a unit test checks the bytes against `vendor/SHA256SUMS`.
/// Public so the web app serves these same embedded bytes instead of a second copy.
pub const HLS_JS: &[u8] = include_bytes!("../../../../vendor/hls.js/1.7.4/hls.min.js");
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
    use sha2::{Digest, Sha256};

    use super::*;

    const HLS_JS_VERSION: &str = "1.7.4";

    #[test]
    fn embedded_hls_js_is_the_vendored_file() {
        let sums = include_str!("../../../../vendor/SHA256SUMS");
        let name = format!("hls.js/{HLS_JS_VERSION}/hls.min.js");
        let line = sums
            .lines()
            .find(|l| l.ends_with(&format!("  {name}")))
            .expect("hls.min.js listed in vendor/SHA256SUMS");
        assert_eq!(line[..64], hex::encode(Sha256::digest(HLS_JS)));
        assert!(HLS_JS_PATH.contains(HLS_JS_VERSION));
    }

    #[test]
    fn page_names_the_id_and_the_player_script() {
        let r = page("0123456789abcdef0123456789abcdef");
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        assert!(PAGE.contains("{{ID_JSON}}") && PAGE.contains("{{HLS_JS}}"));
    }
}
