//! Whatever a client sends, the node answers with a well-formed JSON-RPC response and keeps serving.
mod common;

use common::Rpc;
use proptest::prelude::*;
use serde_json::{json, Value};

const METHODS: &[&str] = &[
    "getLatestBlockhash",
    "sendTransaction",
    "simulateTransaction",
    "getSignatureStatuses",
    "isBlockhashValid",
    "getAccountInfo",
    "getMultipleAccounts",
    "getProgramAccounts",
    "getBalance",
    "requestAirdrop",
    "getMinimumBalanceForRentExemption",
    "getSlot",
    "getBlockHeight",
    "getEpochInfo",
    "getVersion",
    "getHealth",
    "getGenesisHash",
    "getFeeForMessage",
    "getTransaction",
    "noSuchMethod",
];

/// Arbitrary JSON values, a few levels deep, with the strings and numbers RPC params are made of.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        "[1-9A-HJ-NP-Za-km-z]{0,90}".prop_map(Value::from),
        "[A-Za-z0-9+/=]{0,60}".prop_map(Value::from),
        prop_oneof![
            Just("base64"),
            Just("base58"),
            Just("base64+zstd"),
            Just("jsonParsed"),
            Just("json"),
            Just("finalized")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("encoding".to_string()),
                    Just("filters".to_string()),
                    Just("memcmp".to_string()),
                    Just("offset".to_string()),
                    Just("bytes".to_string()),
                    Just("dataSize".to_string()),
                    Just("commitment".to_string()),
                    "[a-z]{1,8}"
                ],
                inner,
                0..4,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn well_formed(envelope: &Value, id: u64) {
    assert_eq!(envelope["jsonrpc"], "2.0", "{envelope}");
    assert_eq!(envelope["id"], id, "{envelope}");
    let has_result = envelope.get("result").is_some();
    let has_error = envelope.get("error").is_some();
    assert!(
        has_result != has_error,
        "exactly one of result/error: {envelope}"
    );
    if has_error {
        assert!(envelope["error"]["code"].is_i64(), "{envelope}");
        assert!(envelope["error"]["message"].is_string(), "{envelope}");
        assert_ne!(
            envelope["error"]["code"], -32603,
            "no internal errors for bad input: {envelope}"
        );
    }
}

#[test]
fn random_params_never_break_the_node() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let rpc = runtime.block_on(Rpc::start());
    let config = ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(method in prop::sample::select(METHODS), params in json_value(), id in 1u64..1_000_000)| {
        let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }).to_string();
        let envelope = runtime.block_on(rpc.post_raw(body));
        well_formed(&envelope, id);
    });
    // Still serving, and still the same chain.
    let health = runtime.block_on(rpc.post_raw(r#"{"jsonrpc":"2.0","id":7,"method":"getHealth"}"#));
    assert_eq!(health["result"], "ok");
}

#[test]
fn random_bytes_get_parse_or_request_errors() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let rpc = runtime.block_on(Rpc::start());
    let config = ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(body in "\\PC{0,80}")| {
        let envelope = runtime.block_on(rpc.post_raw(body.clone()));
        match serde_json::from_str::<Value>(&body) {
            Err(_) => prop_assert_eq!(&envelope["error"]["code"], &json!(-32700)),
            Ok(Value::Object(_)) | Ok(Value::Array(_)) => {}
            Ok(_) => prop_assert_eq!(&envelope["error"]["code"], &json!(-32600)),
        }
    });
}
