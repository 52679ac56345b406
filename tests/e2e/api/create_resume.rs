//! A keyed create resumed after its holder died, where the dead holder's live input is gone by
//! then (the reconciler deleted it as an orphan — its lease had run out and its `create_room`
//! could no longer land, so its in-flight marker no longer protected it): the retry finds the
//! flight doomed and starts afresh — one room, on a new input. (The other resume
//! paths run through real processes in `tests/e2e/api_failures.rs`.)
use std::time::Duration;

use reqwest::StatusCode;
use roomcast_api::rooms::flight::{FLIGHT_TTL, META_FLIGHT_KEY};
use roomcast_api::store::{Claim, KeyState, Progress, SentCreate};
use roomcast_chain::{Keypair, RoomFilter, Signer};
use roomcast_stream::client::{CreateLiveInput, Recording};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const OPERATOR_KEY: &str = "test-operator-key-0123456789abcdef";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_holders_deleted_input_is_replaced_by_one_fresh_room() {
    let argv = [
        "--operator-key",
        OPERATOR_KEY,
        "--reconcile-interval-secs",
        "0",
        "--orphan-grace-secs",
        "0",
        "--chain-watch",
        "false",
    ];
    let server = super::common::start(&argv).await;
    let state = &server.state;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let host = Keypair::new().pubkey().to_string();
    let body = serde_json::to_vec(&json!({ "title": "Phoenix", "host": host })).unwrap();
    let fingerprint: [u8; 32] = Sha256::digest(&body).into();

    // The dead holder: claimed the key and held its flight, made its live input, wrote both down
    // (its create_room was signed with a blockhash long expired), then died without renewing its
    // short leases.
    let key = "operator:phoenix";
    let flight = "phoenix-flight";
    assert!(state
        .idempotency
        .hold_flight(flight, Duration::from_millis(300), FLIGHT_TTL)
        .await
        .unwrap());
    let Claim::Acquired { token, .. } = state
        .idempotency
        .claim(
            key,
            fingerprint,
            Duration::from_millis(300),
            Duration::from_secs(600),
        )
        .await
        .unwrap()
    else {
        panic!("the key was free");
    };
    let old = state
        .stream
        .create_live_input(&CreateLiveInput {
            meta: Some(json!({
                "roomcast": "v1",
                "registry": state.registry.to_string(),
                META_FLIGHT_KEY: flight,
            })),
            recording: Some(Recording::automatic()),
            ..Default::default()
        })
        .await
        .unwrap();
    let progress = Progress {
        input: Some(old.uid.clone()),
        sent: Some(SentCreate {
            signature: "1111111111111111111111111111111111111111111111111111111111111111".into(),
            last_valid_block_height: 0,
        }),
        flight: Some(flight.into()),
    };
    assert!(state
        .idempotency
        .flight_sent(flight, 0, FLIGHT_TTL)
        .await
        .unwrap());
    assert!(state
        .idempotency
        .record(key, &token, &progress, Duration::from_secs(600))
        .await
        .unwrap());
    tokio::time::sleep(Duration::from_millis(400)).await;
    // The reconciler takes the input without a room for an orphan.
    let report: Value = reqwest::Client::new()
        .post(format!("{}/api/admin/reconcile", server.url()))
        .bearer_auth(OPERATOR_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["deleted"], json!([old.uid]));
    assert_eq!(report["withheld"], json!([]));

    let send = || {
        reqwest::Client::new()
            .post(format!("{}/api/create", server.url()))
            .bearer_auth(OPERATOR_KEY)
            .header("idempotency-key", "phoenix")
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
    };
    let created = send().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let uid = created["SessionID"].as_str().unwrap();
    assert_ne!(uid, old.uid, "a fresh input");
    assert_eq!(
        created["StreamKey"],
        emulator.live_input(uid).unwrap().rtmps.unwrap().stream_key
    );
    let rooms = state
        .chain
        .rooms(&RoomFilter {
            registry: Some(state.registry),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rooms.len(), 1, "one room for the key");
    assert_eq!(rooms[0].room.session_id, uid);
    let inputs: Vec<String> = emulator.live_inputs().into_iter().map(|i| i.uid).collect();
    assert_eq!(inputs, vec![uid.to_string()]);
    // The key now holds that answer, and the dead holder can no longer write to it.
    let replay: Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(replay, created);
    assert!(matches!(
        state.idempotency.get(key).await.unwrap(),
        KeyState::Done { .. }
    ));
    assert!(!state
        .idempotency
        .record(key, &token, &Progress::default(), Duration::from_secs(600))
        .await
        .unwrap());
    server.shutdown().await.unwrap();
}
