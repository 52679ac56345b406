//! Keeps the OpenAPI document in sync with the router and with the committed `docs/openapi.json`.
use std::collections::BTreeSet;

const ROUTER_SOURCE: &str = include_str!("../src/http/mod.rs");
const COMMITTED: &str = include_str!("../../../docs/openapi.json");

/// (method, path) of every `.route("path", method(handler).method(handler))` call of the router,
/// however rustfmt wraps it.
fn routed() -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for call in ROUTER_SOURCE.split(".route(").skip(1) {
        // The call's arguments end where its parenthesis closes.
        let mut depth = 1;
        let end = call
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map(|(i, _)| i)
            .expect("balanced .route( call");
        let args: String = call[..end].split_whitespace().collect::<Vec<_>>().join(" ");
        let path = args.split('"').nth(1).expect("a quoted path").to_string();
        for method in ["get", "post", "patch", "put", "delete"] {
            if args.contains(&format!(" {method}(")) || args.contains(&format!(".{method}(")) {
                found.insert((method.to_string(), path.clone()));
            }
        }
    }
    found
}

fn documented() -> BTreeSet<(String, String)> {
    let doc: serde_json::Value =
        serde_json::from_str(&roomcast_api::http::openapi::pretty_json()).unwrap();
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            found.insert((method.clone(), path.clone()));
        }
    }
    found
}

#[test]
fn every_route_is_documented_and_every_documented_route_exists() {
    let routed = routed();
    let documented = documented();
    assert!(
        routed.len() >= 15,
        "the router parser found too few routes: {routed:?}"
    );
    assert_eq!(
        routed.difference(&documented).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "routes missing from the OpenAPI document (app/api/src/http/openapi.rs)"
    );
    assert_eq!(
        documented.difference(&routed).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "documented routes the router does not serve"
    );
}

#[test]
fn committed_document_is_current() {
    let generated = roomcast_api::http::openapi::pretty_json();
    if std::env::var_os("ROOMCAST_UPDATE_OPENAPI").is_some() {
        // The checkout being tested (a test binary can be reused from another checkout's build).
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or(env!("CARGO_MANIFEST_DIR").into());
        std::fs::write(format!("{dir}/../../docs/openapi.json"), &generated).unwrap();
        return;
    }
    assert!(
        generated == COMMITTED,
        "docs/openapi.json is stale; regenerate with: ROOMCAST_UPDATE_OPENAPI=1 cargo test -p roomcast-api --test openapi_sync"
    );
}

#[test]
fn the_original_contract_keys_are_in_the_schemas() {
    let doc: serde_json::Value =
        serde_json::from_str(&roomcast_api::http::openapi::pretty_json()).unwrap();
    let create = &doc["components"]["schemas"]["CreateResponse"];
    let text = create.to_string();
    for key in ["SessionID", "IngestURL", "StreamKey"] {
        assert!(
            text.contains(&format!("\"{key}\"")),
            "CreateResponse lacks {key}: {text}"
        );
    }
    let playback = &doc["components"]["schemas"]["PlaybackUrlsDoc"]["properties"];
    assert!(playback.get("hls").is_some() && playback.get("dash").is_some());
}
