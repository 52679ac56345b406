//! Whatever a client sends to the write routes, the API answers with a 4xx in the documented error
//! shape (or succeeds) — never a 5xx, never a panic — and nothing is half-created.
use proptest::prelude::*;
use roomcast_app::Server;
use serde_json::{json, Value};

const OPERATOR_KEY: &str = "robustness-key-0123456789abcdef-xyz";

fn body_strategy() -> impl Strategy<Value = (String, &'static str)> {
    let content_type = prop::sample::select(vec![
        "application/json",
        "text/plain",
        "application/json; charset=utf-8",
        "",
    ]);
    let json_body = prop_oneof![
        Just(json!({})),
        Just(json!({ "title": "A valid room", "host": "11111111111111111111111111111112" })),
        ".{0,130}".prop_map(|t| json!({ "title": t })),
        (".{0,20}", "[1-9A-HJ-NP-Za-km-z]{0,50}")
            .prop_map(|(t, h)| json!({ "title": t, "host": h })),
        any::<i64>().prop_map(|n| json!({ "title": n })),
        Just(json!({ "title": "x", "host": "11111111111111111111111111111112", "extra": true })),
        Just(json!([1, 2, 3])),
        Just(Value::Null),
    ]
    .prop_map(|v| v.to_string());
    let raw_body = "\\PC{0,60}";
    (prop_oneof![json_body, raw_body], content_type)
}

#[test]
fn random_create_bodies_get_clear_client_errors() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(async {
        let args = super::common::serve_args(&[
            "--operator-key",
            OPERATOR_KEY,
            "--reconcile-interval-secs",
            "0",
            "--create-rate-per-minute",
            "100000",
            // Half the cases are unauthenticated on purpose.
            "--auth-failures-per-minute",
            "1000000",
        ]);
        Server::start(args).await.unwrap()
    });
    let http = reqwest::Client::new();
    let url = format!("{}/api/create", server.url());
    let config = ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |((body, content_type) in body_strategy(), as_operator in any::<bool>())| {
        let (status, reply): (u16, Value) = runtime.block_on(async {
            let mut request = http.post(&url).body(body.clone());
            if !content_type.is_empty() {
                request = request.header("content-type", content_type);
            }
            if as_operator {
                request = request.bearer_auth(OPERATOR_KEY);
            }
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json().await.unwrap())
        });
        prop_assert!(matches!(status, 201 | 400 | 401 | 403 | 415), "{status} for {body:?}: {reply}");
        if status == 201 {
            prop_assert!(reply["SessionID"].is_string() && reply["StreamKey"].is_string());
        } else {
            prop_assert!(reply["error"]["code"].is_string() && reply["error"]["message"].is_string(), "{reply}");
        }
        if !as_operator {
            prop_assert_eq!(status, 401);
        }
    });
    // Every live input at Cloudflare has its room on-chain: no half-created rooms.
    runtime.block_on(async {
        let emulator = server.upstreams.emulator.as_ref().unwrap();
        for input in emulator.live_inputs() {
            let address = server
                .state
                .chain
                .room_address(&server.state.registry, &input.uid);
            assert!(
                server.state.chain.room(&address).await.unwrap().is_some(),
                "orphan input {}",
                input.uid
            );
        }
        server.shutdown().await.unwrap();
    });
}
