//! The pages carry a Content-Security-Policy (only this origin's scripts; connections to the API,
//! the cluster's RPC/WebSocket and the video delivery host; media from blob: and delivery; never
//! framed), `nosniff` and a `Referrer-Policy` — and still work under it in Chromium with no CSP
//! violation reported. The video host's iframe player stays embeddable. A malformed room id in
//! the URL shows "No such room" instead of "Loading…" forever.
use std::time::Duration;

use serde_json::Value;

use crate::support::browser::Chromium;
use crate::support::*;

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.split('/').next().unwrap();
    format!("{scheme}://{host}")
}

/// The directive `name` of a CSP header, split into its sources.
fn directive(csp: &str, name: &str) -> Vec<String> {
    csp.split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in {csp}"))
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Records CSP violations before any of the page's scripts run.
const RECORD_VIOLATIONS: &str = r#"
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"#;

#[tokio::test]
async fn pages_send_a_csp_and_work_under_it_and_a_malformed_room_id_is_no_such_room() {
    let s = Server::start(&[]);
    let api = s.api();
    let uid = api
        .create_as_host(&wallet(), "Under a CSP")
        .await
        .str("sessionId");
    let delivery = s.emulator().delivery_base();

    for path in ["/", &format!("/watch/{uid}"), "/host"] {
        let r = api.get(path).await;
        r.assert_status(200);
        let csp = r.headers["content-security-policy"].to_str().unwrap();
        assert_eq!(directive(csp, "default-src"), ["'self'"], "{csp}");
        assert_eq!(directive(csp, "frame-ancestors"), ["'none'"], "{csp}");
        assert_eq!(directive(csp, "script-src"), ["'self'"], "{csp}");
        let connect = directive(csp, "connect-src");
        for want in [
            "'self'".to_string(),
            origin_of(&s.rpc_url),
            origin_of(&s.ws_url),
            delivery.clone(),
        ] {
            assert!(connect.contains(&want), "connect-src lacks {want}: {csp}");
        }
        let media = directive(csp, "media-src");
        assert!(media.contains(&"blob:".to_string()), "{csp}");
        assert!(media.contains(&delivery), "{csp}");
        assert_eq!(r.headers["x-content-type-options"], "nosniff");
        assert_eq!(r.headers["referrer-policy"], "no-referrer");
    }
    // The video host's iframe player is meant to be embedded: no frame-ancestors 'none' there.
    let iframe = reqwest::get(format!("{delivery}/{uid}/iframe"))
        .await
        .unwrap();
    assert_eq!(iframe.status(), 200);
    assert!(iframe.headers().get("x-frame-options").is_none());
    let player_csp = iframe
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(
        !player_csp.contains("frame-ancestors 'none'"),
        "{player_csp}"
    );

    // In Chromium: each page runs under its policy without a violation.
    let browser = Chromium::launch().await;
    let watch = browser
        .open_with_init_script(&format!("{}/watch/{uid}", s.base), RECORD_VIOLATIONS)
        .await;
    watch
        .wait_for(
            "the watch page shows the room",
            "document.body.dataset.state === 'waiting' && document.getElementById('title').textContent === 'Under a CSP'",
            EVENTUALLY,
        )
        .await;
    let discover = browser
        .open_with_init_script(&format!("{}/", s.base), RECORD_VIOLATIONS)
        .await;
    discover
        .wait_for(
            "the discovery page lists the room",
            "document.body.textContent.includes('Under a CSP')",
            EVENTUALLY,
        )
        .await;
    let host = browser
        .open_with_init_script(&format!("{}/host", s.base), RECORD_VIOLATIONS)
        .await;
    host.wait_for(
        "the host console's script ran",
        "document.readyState === 'complete'",
        EVENTUALLY,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for tab in [&watch, &discover, &host] {
        let violations: Value = tab.eval("window.__cspViolations").await;
        assert_eq!(violations, serde_json::json!([]), "on {}", tab.url);
    }

    // A room id that is not valid percent-encoding: "No such room", not "Loading…" forever.
    let malformed = browser
        .open_with_init_script(&format!("{}/watch/%E0", s.base), RECORD_VIOLATIONS)
        .await;
    malformed
        .wait_for_with(
            "the page says there is no such room",
            "document.getElementById('title').textContent === 'No such room' && document.body.dataset.state === 'missing'",
            "document.body.innerText",
            EVENTUALLY,
        )
        .await;
    let text: String = malformed.eval("document.body.innerText").await;
    assert!(!text.contains("Loading…"), "{text}");
    browser.close().await;
}
