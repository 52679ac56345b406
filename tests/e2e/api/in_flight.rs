//! The reconciler never deletes a live input that a create may still turn into a room, however
//! short the orphan grace period: not while the create runs (keyed or not), not while a dead
//! holder's `create_room` can still land — and a dead holder whose transaction can no longer land
//! (or was never sent) no longer protects its input, so true orphans still go.
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use roomcast_api::rooms::flight::{FLIGHT_TTL, META_FLIGHT_KEY};
use roomcast_app::Server;
use roomcast_chain::{Keypair, RoomFilter, RoomStatus, Signer};
use roomcast_stream::client::{CreateLiveInput, Recording};
use roomcast_stream::emulator::{Fault, Route};
use serde_json::{json, Value};

const OPERATOR_KEY: &str = "test-operator-key-0123456789abcdef";

async fn start(extra: &[&str]) -> Server {
    let mut argv = vec![
        "--operator-key",
        OPERATOR_KEY,
        "--reconcile-interval-secs",
        "0",
        "--orphan-grace-secs",
        "0",
        "--chain-watch",
        "false",
    ];
    argv.extend_from_slice(extra);
    super::common::start(&argv).await
}

async fn reconcile(server: &Server) -> Value {
    reqwest::Client::new()
        .post(format!("{}/api/admin/reconcile", server.url()))
        .bearer_auth(OPERATOR_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A create whose live input exists at Cloudflare while its answer is still on the way (the
/// emulator makes the input, then answers 3 s late): a reconciler pass in that window keeps the
/// input, and the create then finishes with its room on that input.
async fn a_held_create_keeps_its_input(key: Option<&str>) {
    let server = start(&[]).await;
    let state = &server.state;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    emulator
        .inject_fault(
            Route::CreateLiveInput,
            Fault::AppliedThenLatency { ms: 3000 },
            1,
        )
        .unwrap();
    let host = Keypair::new().pubkey().to_string();
    let body = serde_json::to_vec(&json!({ "title": "Slow start", "host": host })).unwrap();
    let send = {
        let (url, body) = (format!("{}/api/create", server.url()), body.clone());
        let key = key.map(str::to_owned);
        move || {
            let mut request = reqwest::Client::new()
                .post(&url)
                .bearer_auth(OPERATOR_KEY)
                .header("content-type", "application/json")
                .body(body.clone());
            if let Some(key) = &key {
                request = request.header("idempotency-key", key);
            }
            request.send()
        }
    };
    let create = tokio::spawn(send());

    // The input exists at Cloudflare; the create has not heard back yet.
    let deadline = Instant::now() + Duration::from_secs(20);
    let uid = loop {
        if let Some(input) = emulator.live_inputs().pop() {
            break input.uid;
        }
        assert!(
            Instant::now() < deadline,
            "the create never reached Cloudflare"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!create.is_finished(), "the create is still held");
    let report = reconcile(&server).await;
    assert_eq!(report["withheld"], json!([uid]), "{report}");
    assert_eq!(report["deleted"], json!([]), "{report}");
    assert_eq!(report["errors"], json!([]), "{report}");
    assert!(emulator.live_input(&uid).is_some(), "input kept");

    let created = create.await.unwrap().unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["SessionID"], json!(uid));
    // Both sides: the room on-chain on that input, and the input at Cloudflare with its key.
    let address = state.chain.room_address(&state.registry, &uid);
    assert_eq!(created["room"], json!(address.to_string()));
    let room = state.chain.room(&address).await.unwrap().expect("room");
    assert_eq!(
        (room.session_id.as_str(), room.status, room.title.as_str()),
        (uid.as_str(), RoomStatus::Created, "Slow start")
    );
    let input = emulator.live_input(&uid).expect("input");
    assert!(input.enabled);
    assert_eq!(created["StreamKey"], input.rtmps.unwrap().stream_key);
    let rooms = state
        .chain
        .rooms(&RoomFilter {
            registry: Some(state.registry),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rooms.len(), 1);
    assert_eq!(emulator.live_inputs().len(), 1);

    // Finished: nothing left to withhold, and nothing to delete.
    let report = reconcile(&server).await;
    assert_eq!(
        (&report["withheld"], &report["deleted"], &report["ended"]),
        (&json!([]), &json!([]), &json!([])),
        "{report}"
    );
    if key.is_some() {
        let replay = send().await.unwrap();
        assert_eq!(replay.status(), StatusCode::CREATED);
        assert_eq!(replay.json::<Value>().await.unwrap(), created);
    }
    assert_eq!(emulator.live_inputs().len(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_create_in_flight_keeps_its_input() {
    a_held_create_keeps_its_input(Some("slow-start")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unkeyed_create_in_flight_keeps_its_input() {
    a_held_create_keeps_its_input(None).await;
}

/// Dead holders (their leases ran out): one whose `create_room` can still land keeps its input;
/// one whose transaction expired, and one that never sent, do not — the reconciler deletes both
/// and dooms their flights, so neither can send `create_room` for them any more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_transaction_that_can_still_land_protects_a_dead_holders_input() {
    let server = start(&[]).await;
    let state = &server.state;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let store = &state.idempotency;
    // Live for the whole first pass however slow the machine; then each holder's last renewal
    // is `dying`, and the test sleeps past it.
    let lease = Duration::from_secs(60);
    let dying = Duration::from_millis(20);
    let height = state.chain.block_height().await.unwrap();
    let mut uids = Vec::new();
    for (flight, sent) in [
        ("landable", Some(height + 10_000)),
        ("expired", Some(0)),
        ("unsent", None),
    ] {
        assert!(store.hold_flight(flight, lease, FLIGHT_TTL).await.unwrap());
        let input = state
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
        if let Some(last_valid) = sent {
            assert!(store
                .flight_sent(flight, last_valid, FLIGHT_TTL)
                .await
                .unwrap());
        }
        uids.push(input.uid);
    }
    // While the leases live, all three are kept.
    let report = reconcile(&server).await;
    let mut withheld: Vec<String> = serde_json::from_value(report["withheld"].clone()).unwrap();
    withheld.sort();
    let mut all = uids.clone();
    all.sort();
    assert_eq!(withheld, all, "{report}");
    assert_eq!(report["deleted"], json!([]), "{report}");

    for flight in ["landable", "expired", "unsent"] {
        assert!(store.hold_flight(flight, dying, FLIGHT_TTL).await.unwrap());
    }
    tokio::time::sleep(dying + Duration::from_millis(100)).await;
    let report = reconcile(&server).await;
    assert_eq!(report["withheld"], json!([uids[0]]), "{report}");
    let mut deleted: Vec<String> = serde_json::from_value(report["deleted"].clone()).unwrap();
    deleted.sort();
    let mut gone = vec![uids[1].clone(), uids[2].clone()];
    gone.sort();
    assert_eq!(deleted, gone, "{report}");
    assert_eq!(report["errors"], json!([]), "{report}");
    let left: Vec<String> = emulator.live_inputs().into_iter().map(|i| i.uid).collect();
    assert_eq!(left, vec![uids[0].clone()]);
    // The deleted inputs' flights are doomed: a late holder can neither resume nor send.
    for flight in ["expired", "unsent"] {
        assert!(!store.hold_flight(flight, lease, FLIGHT_TTL).await.unwrap());
        assert!(!store
            .flight_sent(flight, height + 10_000, FLIGHT_TTL)
            .await
            .unwrap());
    }
    // The landable one is not: its holder (or a resume) may still go on.
    assert!(store
        .hold_flight("landable", lease, FLIGHT_TTL)
        .await
        .unwrap());
    server.shutdown().await.unwrap();
}

/// Fail closed: when the store cannot answer for an input's create (here: full, so it cannot
/// even write down the doom), the input is withheld, not deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_whose_create_cannot_be_checked_is_withheld() {
    let server = start(&["--idempotency-capacity", "1"]).await;
    let state = &server.state;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let store = &state.idempotency;
    // The one slot holds another create's flight; the orphan's (dead, never marked) has none.
    assert!(store
        .hold_flight("other", Duration::from_secs(60), FLIGHT_TTL)
        .await
        .unwrap());
    let orphan = state
        .stream
        .create_live_input(&CreateLiveInput {
            meta: Some(json!({
                "roomcast": "v1",
                "registry": state.registry.to_string(),
                META_FLIGHT_KEY: "dead",
            })),
            recording: Some(Recording::automatic()),
            ..Default::default()
        })
        .await
        .unwrap();
    let report = reconcile(&server).await;
    assert_eq!(report["withheld"], json!([orphan.uid]), "{report}");
    assert_eq!(report["deleted"], json!([]), "{report}");
    assert_eq!(
        report["errors"],
        json!([format!(
            "checking the create of {}: the in-flight store is full",
            orphan.uid
        )]),
        "{report}"
    );
    assert!(emulator.live_input(&orphan.uid).is_some());

    // Room again: the true orphan goes.
    store.release_flight("other", true).await.unwrap();
    let report = reconcile(&server).await;
    assert_eq!(report["deleted"], json!([orphan.uid]), "{report}");
    assert_eq!(report["withheld"], json!([]), "{report}");
    assert!(emulator.live_input(&orphan.uid).is_none());
    server.shutdown().await.unwrap();
}
