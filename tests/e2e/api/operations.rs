//! Live state, discovery and operations (webhooks, reconciler, listing, readiness, metrics),
//! against a real server with the embedded local node and Stream emulator, in-process.
use crate::support::eventually;
use reqwest::StatusCode;
use roomcast_app::Server;
use roomcast_chain::{Keypair, RoomStatus, RoomcastChain, Signer};
use roomcast_stream::client::{CreateLiveInput, Recording, UpdateLiveInput};
use serde_json::{json, Value};

const OPERATOR_KEY: &str = "test-operator-key-0123456789abcdef";
const WEBHOOK_SECRET: &str = "test-webhook-secret";

async fn start(extra: &[&str]) -> Server {
    let mut argv = vec![
        "--operator-key",
        OPERATOR_KEY,
        "--cloudflare-webhook-secret",
        WEBHOOK_SECRET,
        "--reconcile-interval-secs",
        "0",
        "--room-cache-ms",
        "0",
    ];
    argv.extend_from_slice(extra);
    super::common::start(&argv).await
}

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

async fn create_room(server: &Server, host: &str, title: &str) -> Value {
    let (status, _, body) = create_status(server, host, title).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn webhook(server: &Server, secret: Option<&str>, body: &Value) -> (StatusCode, Value) {
    let mut request = http()
        .post(format!("{}/api/webhooks/cloudflare", server.url()))
        .json(body);
    if let Some(secret) = secret {
        request = request.header("cf-webhook-auth", secret);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

fn notification(input_id: &str, event_type: &str, updated_at: &str) -> Value {
    json!({
        "name": "Stream Live Input",
        "text": "",
        "data": {
            "notification_name": "Stream Live Input",
            "input_id": input_id,
            "event_type": event_type,
            "updated_at": updated_at,
        },
        "ts": 1_764_072_000,
    })
}

async fn livestream(server: &Server, session_id: &str) -> (StatusCode, Value) {
    let response = http()
        .get(format!(
            "{}/api/livestream?sessionId={session_id}",
            server.url()
        ))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

fn host_key() -> String {
    Keypair::new().pubkey().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_requires_the_secret_and_marks_the_room_live_once() {
    let server = start(&[]).await;
    let room = create_room(&server, &host_key(), "Webhook room").await;
    let sid = room["SessionID"].as_str().unwrap();
    // An encoder is really connected (its own notification is not delivered here), so `lifecycle`
    // confirms the events below.
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    emulator.set_webhook(None);
    emulator.connect(sid).await.unwrap();
    let address = room["room"].as_str().unwrap().parse().unwrap();
    let connected = notification(
        sid,
        "live_input.connected",
        "2026-11-25T10:00:00.000000001Z",
    );

    let (status, body) = webhook(&server, None, &connected).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "invalid_webhook_secret");
    let (status, _) = webhook(&server, Some("wrong"), &connected).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Nothing changed on-chain.
    assert_eq!(
        server
            .state
            .chain
            .room(&address)
            .await
            .unwrap()
            .unwrap()
            .status,
        RoomStatus::Created
    );

    let (status, body) = webhook(&server, Some(WEBHOOK_SECRET), &connected).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "status": "applied", "event": "live_input.connected", "setLive": true })
    );
    let on_chain = server.state.chain.room(&address).await.unwrap().unwrap();
    assert_eq!(on_chain.status, RoomStatus::Live);
    let live_at = on_chain.live_at;
    assert!(live_at.is_some());

    // A replay is harmless: stale, no second set_live.
    let (status, body) = webhook(&server, Some(WEBHOOK_SECRET), &connected).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "status": "stale", "event": "live_input.connected", "setLive": false })
    );
    assert_eq!(
        server
            .state
            .chain
            .room(&address)
            .await
            .unwrap()
            .unwrap()
            .live_at,
        live_at
    );

    let (status, view) = livestream(&server, sid).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["status"], "live");
    assert_eq!(view["broadcasting"], true);
    assert_eq!(view["broadcast"]["state"], "live");
    assert_eq!(
        view["broadcast"]["updatedAt"],
        "2026-11-25T10:00:00.000000001Z"
    );
    server.shutdown().await.unwrap();
}

// An input that records nothing (switched to `recording.mode = "off"` at Cloudflare) is still
// live while its encoder is connected, so `connected` is confirmed and the room goes Live.
// (Failed before: the emulator's `lifecycle` said `live: false` for unrecorded inputs.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unrecorded_input_is_confirmed_live_and_marks_its_room_live() {
    let server = start(&[]).await;
    let room = create_room(&server, &host_key(), "Unrecorded").await;
    let sid = room["SessionID"].as_str().unwrap();
    let address = room["room"].as_str().unwrap().parse().unwrap();
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    emulator.set_webhook(None);
    server
        .state
        .stream
        .update_live_input(
            sid,
            &UpdateLiveInput {
                recording: Some(Recording::default()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    emulator.connect(sid).await.unwrap();
    let lifecycle = server.state.stream.lifecycle(sid).await.unwrap();
    assert_eq!((lifecycle.live, lifecycle.video_uid), (true, None));

    let connected = notification(
        sid,
        "live_input.connected",
        "2026-11-25T10:00:00.000000001Z",
    );
    let (status, body) = webhook(&server, Some(WEBHOOK_SECRET), &connected).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "status": "applied", "event": "live_input.connected", "setLive": true })
    );
    let on_chain = server.state.chain.room(&address).await.unwrap().unwrap();
    assert_eq!(on_chain.status, RoomStatus::Live);
    assert!(emulator.live_input(sid).unwrap().enabled);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_events_cannot_move_state_backwards_and_errors_reach_the_host() {
    let server = start(&[]).await;
    let room = create_room(&server, &host_key(), "Ordering").await;
    let sid = room["SessionID"].as_str().unwrap();
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    emulator.set_webhook(None);
    emulator.connect(sid).await.unwrap();
    let secret = Some(WEBHOOK_SECRET);

    let mut errored = notification(sid, "live_input.errored", "2026-11-25T10:00:03Z");
    errored["data"]["live_input_errored"] = json!({
        "error": { "code": "ERR_GOP_OUT_OF_RANGE", "message": "Input GOP size or keyframe interval is out of range." },
        "video_codec": "", "audio_codec": "",
    });
    assert_eq!(
        webhook(&server, secret, &errored).await.1["status"],
        "applied"
    );
    // Older events delivered late are ignored.
    let late_connected = notification(sid, "live_input.connected", "2026-11-25T10:00:01Z");
    let (_, body) = webhook(&server, secret, &late_connected).await;
    assert_eq!(body["status"], "stale");
    assert_eq!(
        body["setLive"], true,
        "the room still went live on-chain: that is monotonic"
    );
    let late_disconnected = notification(sid, "live_input.disconnected", "2026-11-25T10:00:02Z");
    assert_eq!(
        webhook(&server, secret, &late_disconnected).await.1["status"],
        "stale"
    );

    let (_, view) = livestream(&server, sid).await;
    assert_eq!(view["broadcasting"], false);
    assert_eq!(view["broadcast"]["state"], "errored");
    assert_eq!(view["broadcast"]["error"]["code"], "ERR_GOP_OUT_OF_RANGE");
    assert_eq!(
        view["broadcast"]["error"]["message"],
        "Input GOP size or keyframe interval is out of range."
    );
    assert_eq!(
        view["broadcast"]["error"]["hint"],
        "Set your encoder's keyframe interval between 2 and 10 seconds (4 s works well)."
    );

    // Newer disconnect wins.
    let disconnected = notification(sid, "live_input.disconnected", "2026-11-25T10:00:04Z");
    assert_eq!(
        webhook(&server, secret, &disconnected).await.1["status"],
        "applied"
    );
    let (_, view) = livestream(&server, sid).await;
    assert_eq!(view["broadcast"]["state"], "idle");
    assert_eq!(view["broadcast"]["error"], Value::Null);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_bad_payloads_are_clear_and_unknown_inputs_ignored() {
    let server = start(&[]).await;
    let secret = Some(WEBHOOK_SECRET);
    let unknown = notification(
        &"ab".repeat(16),
        "live_input.connected",
        "2026-11-25T10:00:00Z",
    );
    assert_eq!(
        webhook(&server, secret, &unknown).await,
        (
            StatusCode::OK,
            json!({ "status": "ignored", "reason": "unknown live input" })
        )
    );
    let test_ping = json!({ "name": "Test", "text": "Hello from Cloudflare" });
    assert_eq!(
        webhook(&server, secret, &test_ping).await.1["status"],
        "ignored"
    );
    let bad_time = notification(&"ab".repeat(16), "live_input.connected", "yesterday");
    let (status, body) = webhook(&server, secret, &bad_time).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_notification");
    let response = http()
        .post(format!("{}/api/webhooks/cloudflare", server.url()))
        .header("cf-webhook-auth", WEBHOOK_SECRET)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"]["code"],
        "invalid_json"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_encoder_drives_the_webhook_end_to_end() {
    // No explicit secret: the embedded emulator is wired to this server with a generated one.
    let server =
        super::common::start(&["--operator-key", OPERATOR_KEY, "--room-cache-ms", "0"]).await;
    let room = create_room(&server, &host_key(), "Encoder").await;
    let sid = room["SessionID"].as_str().unwrap().to_string();
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let outcome = emulator.connect(&sid).await.unwrap();
    assert_eq!(outcome.event, "live_input.connected");
    // The notification comes after the control call answers, like Cloudflare's.
    let address = room["room"].as_str().unwrap().parse().unwrap();
    eventually("the room live on-chain", || async {
        let room = server.state.chain.room(&address).await.unwrap().unwrap();
        (room.status == RoomStatus::Live).then_some(())
    })
    .await;
    assert_eq!(livestream(&server, &sid).await.1["broadcasting"], true);
    emulator
        .error(&sid, "ERR_UNSUPPORTED_AUDIO_CODEC")
        .await
        .unwrap();
    let view = eventually("the errored broadcast", || async {
        let (_, view) = livestream(&server, &sid).await;
        (view["broadcast"]["state"] == "errored").then_some(view)
    })
    .await;
    assert_eq!(
        view["broadcast"]["error"]["code"],
        "ERR_UNSUPPORTED_AUDIO_CODEC"
    );
    assert_eq!(view["broadcasting"], false);
    server.shutdown().await.unwrap();
}

async fn reconcile(server: &Server) -> Value {
    let response = http()
        .post(format!("{}/api/admin/reconcile", server.url()))
        .bearer_auth(OPERATOR_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciler_disables_rooms_ended_on_chain_deletes_orphans_and_spares_foreign_inputs() {
    // Without the chain watcher, which would disable the input first (tests/e2e/chain_watch.rs); the
    // room cache outlives the test, so only the reconciler's reaction can show viewers the end.
    let server = super::common::start(&[
        "--operator-key",
        OPERATOR_KEY,
        "--reconcile-interval-secs",
        "0",
        "--room-cache-ms",
        "600000",
        "--orphan-grace-secs",
        "0",
        "--chain-watch",
        "false",
    ])
    .await;
    let emulator = server.upstreams.emulator.as_ref().unwrap();

    // A room its host ends straight on-chain with their own wallet.
    let host = Keypair::new();
    let host_pk = host.pubkey().to_string();
    let room = create_room(&server, &host_pk, "Ended on-chain").await;
    let sid = room["SessionID"].as_str().unwrap().to_string();
    let address = room["room"].as_str().unwrap().parse().unwrap();
    let wallet = RoomcastChain::new(
        &server.upstreams.clients.rpc_url,
        host,
        server.state.chain.program_id(),
    )
    .unwrap();
    wallet
        .rpc()
        .request_airdrop(&wallet.signer_pubkey(), 1_000_000_000)
        .await
        .unwrap();
    wallet
        .end_room(server.state.registry, address)
        .await
        .unwrap();
    assert!(
        emulator.live_input(&sid).unwrap().enabled,
        "still enabled before reconciling"
    );
    let (status, view) = livestream(&server, &sid).await;
    assert_eq!(
        (status, view["status"].as_str()),
        (StatusCode::OK, Some("created")),
        "viewers see the cached room until something notices the end: {view}"
    );

    // An orphan: tagged by roomcast for this registry, with no room (a create that died halfway).
    let orphan = server
        .state
        .stream
        .create_live_input(&CreateLiveInput {
            meta: Some(json!({ "name": "orphan", "roomcast": "v1", "registry": server.state.registry.to_string() })),
            recording: Some(Recording::automatic()),
            ..Default::default()
        })
        .await
        .unwrap();
    // Foreign inputs: untagged, and tagged for another registry.
    let foreign = server
        .state
        .stream
        .create_live_input(&CreateLiveInput {
            meta: Some(json!({ "name": "not ours" })),
            ..Default::default()
        })
        .await
        .unwrap();
    let other_registry = server
        .state
        .stream
        .create_live_input(&CreateLiveInput {
            meta: Some(
                json!({ "roomcast": "v1", "registry": Keypair::new().pubkey().to_string() }),
            ),
            ..Default::default()
        })
        .await
        .unwrap();
    // A live room of ours stays as it is.
    let healthy = create_room(&server, &host_key(), "Healthy").await;
    let healthy_sid = healthy["SessionID"].as_str().unwrap().to_string();

    let report = reconcile(&server).await;
    assert_eq!(
        report,
        json!({ "disabled": [sid], "deleted": [orphan.uid], "ended": [], "withheld": [], "closed": [], "rentRecoveredLamports": 0, "refreshed": [], "errors": [] })
    );
    assert!(!emulator.live_input(&sid).unwrap().enabled);
    // The reconciler reacts like the chain watcher would (`room_changes.rs`): the cached room is
    // replaced, so viewers get 410 at once.
    assert_eq!(livestream(&server, &sid).await.0, StatusCode::GONE);
    assert!(emulator.live_input(&orphan.uid).is_none());
    assert!(emulator.live_input(&foreign.uid).is_some());
    assert!(emulator.live_input(&other_registry.uid).is_some());
    assert!(emulator.live_input(&healthy_sid).unwrap().enabled);

    // A second pass has nothing left to do.
    assert_eq!(
        reconcile(&server).await,
        json!({ "disabled": [], "deleted": [], "ended": [], "withheld": [], "closed": [], "rentRecoveredLamports": 0, "refreshed": [], "errors": [] })
    );

    // Only the operator may trigger it.
    let response = http()
        .post(format!("{}/api/admin/reconcile", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciler_keeps_young_orphans_within_the_grace_period() {
    let server = start(&["--orphan-grace-secs", "3600"]).await;
    let young = server
        .state
        .stream
        .create_live_input(&CreateLiveInput {
            meta: Some(json!({ "roomcast": "v1", "registry": server.state.registry.to_string() })),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(reconcile(&server).await["deleted"], json!([]));
    assert!(server
        .upstreams
        .emulator
        .as_ref()
        .unwrap()
        .live_input(&young.uid)
        .is_some());
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciler_refreshes_watched_rooms_from_lifecycle_after_a_missed_notification() {
    let server = start(&[]).await;
    let room = create_room(&server, &host_key(), "Missed webhook").await;
    let sid = room["SessionID"].as_str().unwrap().to_string();
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    // The emulator has no webhook configured here (explicit secret, no URL): notifications are lost.
    emulator.set_webhook(None);
    webhook(
        &server,
        Some(WEBHOOK_SECRET),
        &notification(&sid, "live_input.connected", "2026-11-25T10:00:00Z"),
    )
    .await;
    emulator.connect(&sid).await.unwrap();
    emulator.disconnect(&sid).await.unwrap(); // this disconnect is never delivered
    assert_eq!(
        livestream(&server, &sid).await.1["broadcasting"],
        true,
        "stale until reconciled"
    );
    let report = reconcile(&server).await;
    assert_eq!(report["refreshed"], json!([sid]));
    assert_eq!(livestream(&server, &sid).await.1["broadcasting"], false);
    server.shutdown().await.unwrap();
}

async fn list(server: &Server, query: &str) -> (StatusCode, Value) {
    let response = http()
        .get(format!("{}/api/rooms{query}", server.url()))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_filters_paginates_and_reports_viewers() {
    let server = start(&[]).await;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let alice = host_key();
    let bob = host_key();
    let mut created = Vec::new();
    for (i, host) in [&alice, &alice, &bob, &alice, &bob].iter().enumerate() {
        created.push(create_room(&server, host, &format!("Room {i}")).await);
    }
    let sid = |i: usize| created[i]["SessionID"].as_str().unwrap().to_string();
    emulator.connect(&sid(1)).await.unwrap();
    emulator.set_views(&sid(1), 42).unwrap();
    let end = http()
        .post(format!("{}/api/rooms/{}/end", server.url(), sid(2)))
        .bearer_auth(OPERATOR_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(end.status(), StatusCode::OK);

    let sessions = |v: &Value| -> Vec<String> {
        v["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["sessionId"].as_str().unwrap().to_string())
            .collect()
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let (status, all) = list(&server, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sorted(sessions(&all)), sorted((0..5).map(sid).collect()));
    assert_eq!(all["nextCursor"], Value::Null);
    // The connect's notification comes after the control call answers, like Cloudflare's.
    // Its viewer count is read in the background (a listing never waits for Cloudflare).
    let live = eventually(
        "the connected room listed as live, with viewers",
        || async {
            let (_, live) = list(&server, "?status=live").await;
            (!sessions(&live).is_empty() && live["rooms"][0]["liveViewers"] != Value::Null)
                .then_some(live)
        },
    )
    .await;
    assert_eq!(sessions(&live), vec![sid(1)]);
    assert_eq!(live["rooms"][0]["broadcasting"], true);
    assert_eq!(live["rooms"][0]["liveViewers"], 42);
    let (_, ended) = list(&server, "?status=ended").await;
    assert_eq!(sessions(&ended), vec![sid(2)]);
    assert_eq!(ended["rooms"][0]["liveViewers"], Value::Null);
    let (_, by_alice) = list(&server, &format!("?host={alice}")).await;
    assert_eq!(
        sorted(sessions(&by_alice)),
        sorted(vec![sid(0), sid(1), sid(3)])
    );
    let (_, alice_created) = list(&server, &format!("?host={alice}&status=created")).await;
    assert_eq!(
        sorted(sessions(&alice_created)),
        sorted(vec![sid(0), sid(3)])
    );

    // Pages of 2 cover everything once, newest first, then stop.
    let mut seen = Vec::new();
    let mut query = "?limit=2".to_string();
    for page in 0.. {
        let (status, body) = list(&server, &query).await;
        assert_eq!(status, StatusCode::OK);
        let got = sessions(&body);
        assert!(got.len() <= 2);
        seen.extend(got);
        match body["nextCursor"].as_str() {
            Some(cursor) => query = format!("?limit=2&cursor={cursor}"),
            None => break,
        }
        assert!(page < 5, "pagination must end");
    }
    assert_eq!(
        seen,
        sessions(&all),
        "pages concatenate to the full listing, in order"
    );
    assert_eq!(sorted(seen.clone()), sorted((0..5).map(sid).collect()));

    for (query, code) in [
        ("?status=paused", "invalid_status"),
        ("?host=nope", "invalid_host"),
        ("?limit=0", "invalid_limit"),
        ("?limit=101", "invalid_limit"),
        ("?limit=x", "invalid_limit"),
        ("?cursor=garbage", "invalid_cursor"),
    ] {
        let (status, body) = list(&server, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(body["error"]["code"], code, "{query}");
    }
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_goes_unready_when_an_upstream_stops() {
    // No caching of the result here: each probe checks again.
    let mut server = start(&["--readyz-cache-ms", "0"]).await;
    let ready = http()
        .get(format!("{}/readyz", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let balance = server
        .state
        .chain
        .balance(&server.state.chain.signer_pubkey())
        .await
        .unwrap();
    assert_eq!(
        ready.json::<Value>().await.unwrap(),
        json!({
            "status": "ready",
            "checks": { "solanaRpc": true, "cloudflare": true },
            "registrar": { "balanceLamports": balance, "funded": true },
        })
    );

    server.upstreams.emulator.take().unwrap().shutdown().await;
    let unready = http()
        .get(format!("{}/readyz", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        unready.json::<Value>().await.unwrap(),
        json!({
            "status": "unready",
            "checks": { "solanaRpc": true, "cloudflare": false },
            "registrar": { "balanceLamports": balance, "funded": true },
        })
    );

    server
        .upstreams
        .node
        .take()
        .unwrap()
        .shutdown()
        .await
        .unwrap();
    let unready = http()
        .get(format!("{}/readyz", server.url()))
        .send()
        .await
        .unwrap();
    let unready = unready.json::<Value>().await.unwrap();
    assert_eq!(
        unready["checks"],
        json!({ "solanaRpc": false, "cloudflare": false })
    );
    assert_eq!(
        unready["registrar"],
        json!({ "balanceLamports": null, "funded": false })
    );
    // The process itself is still healthy.
    let health = http()
        .get(format!("{}/healthz", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_and_upstream_calls() {
    let server = start(&[]).await;
    let room = create_room(&server, &host_key(), "Metrics").await;
    let sid = room["SessionID"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(livestream(&server, sid).await.0, StatusCode::OK);
    }
    let text = http()
        .get(format!("{}/metrics", server.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Metrics are process-global, so other tests in this binary may add to them: assert presence
    // and lower bounds, never exact totals.
    let value = |prefix: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    assert!(
        value(r#"roomcast_http_requests_total{method="GET",route="/api/livestream",status="200"}"#)
            >= 3.0,
        "{text}"
    );
    assert!(
        value(r#"roomcast_http_requests_total{method="POST",route="/api/create",status="201"}"#)
            >= 1.0
    );
    assert!(
        value(
            r#"roomcast_upstream_requests_total{upstream="cloudflare",operation="create_live_input",outcome="ok"}"#
        ) >= 1.0
    );
    assert!(
        value(
            r#"roomcast_upstream_requests_total{upstream="solana_rpc",operation="send_transaction",outcome="ok"}"#
        ) >= 1.0
    );
    assert!(text.contains("roomcast_http_request_duration_seconds_bucket{"));
    assert!(text.contains("roomcast_room_cache_misses_total"));
    server.shutdown().await.unwrap();
}

async fn create_status(
    server: &Server,
    host: &str,
    title: &str,
) -> (StatusCode, Option<String>, Value) {
    let response = http()
        .post(format!("{}/api/create", server.url()))
        .bearer_auth(OPERATOR_KEY)
        .json(&json!({ "title": title, "host": host }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry_after, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_are_rate_limited_per_host_and_nothing_is_created_past_the_limit() {
    let server = start(&["--create-rate-per-minute", "2"]).await;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let host = host_key();
    for i in 0..2 {
        assert_eq!(
            create_status(&server, &host, &format!("ok {i}")).await.0,
            StatusCode::CREATED
        );
    }
    let (status, retry_after, body) = create_status(&server, &host, "one too many").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"]["code"], "rate_limited");
    let wait: u64 = retry_after.expect("Retry-After header").parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // Neither side saw the rejected create.
    assert_eq!(emulator.live_inputs().len(), 2);
    let ours = roomcast_chain::RoomFilter {
        registry: Some(server.state.registry),
        ..Default::default()
    };
    assert_eq!(server.state.chain.rooms(&ours).await.unwrap().len(), 2);
    assert_eq!(
        server
            .state
            .chain
            .registry(&server.state.registry)
            .await
            .unwrap()
            .unwrap()
            .rooms_created,
        2
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_outliving_the_request_timeout_still_completes_on_both_sides() {
    let server = start(&["--request-timeout-secs", "1"]).await;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    emulator
        .inject_fault(
            roomcast_stream::emulator::Route::CreateLiveInput,
            roomcast_stream::emulator::Fault::Latency { ms: 2_500 },
            1,
        )
        .unwrap();
    let host = host_key();
    let (status, _, body) = create_status(&server, &host, "Slow upstream").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"]["code"], "timeout");
    // The create kept running in the background: one live input and its room, never half a room.
    let ours = roomcast_chain::RoomFilter {
        registry: Some(server.state.registry),
        ..Default::default()
    };
    let mut rooms = Vec::new();
    for _ in 0..100 {
        rooms = server.state.chain.rooms(&ours).await.unwrap();
        if !rooms.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        rooms.len(),
        1,
        "the room was registered after the client gave up"
    );
    assert_eq!(rooms[0].room.host.to_string(), host);
    assert_eq!(rooms[0].room.title, "Slow upstream");
    let inputs = emulator.live_inputs();
    assert_eq!(inputs.len(), 1);
    assert_eq!(inputs[0].uid, rooms[0].room.session_id);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_an_in_flight_create() {
    let server = start(&[]).await;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    emulator
        .inject_fault(
            roomcast_stream::emulator::Route::CreateLiveInput,
            roomcast_stream::emulator::Fault::Latency { ms: 1_000 },
            1,
        )
        .unwrap();
    let url = server.url();
    let host = host_key();
    let in_flight = tokio::spawn({
        let host = host.clone();
        async move {
            let response = http()
                .post(format!("{url}/api/create"))
                .bearer_auth(OPERATOR_KEY)
                .json(&json!({ "title": "During shutdown", "host": host }))
                .send()
                .await
                .unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    });
    // Wait until the create reached Cloudflare, then shut down while it is in flight.
    while emulator.call_count(roomcast_stream::emulator::Route::CreateLiveInput) == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let chain = server.state.chain.clone();
    let registry = server.state.registry;
    let node = server.upstreams.node.as_ref().unwrap().rpc_url();
    server.shutdown().await.unwrap();
    let (status, body) = in_flight.await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["title"], "During shutdown");
    assert_eq!(body["registry"], registry.to_string());
    // The node stopped with the server; the answer carried the registered room's signature.
    assert!(body["signature"].as_str().is_some_and(|s| s.len() > 60));
    assert!(
        chain.health().await.is_err(),
        "{node} is down after shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciler_ends_rooms_whose_live_input_is_gone_but_not_young_ones() {
    let server = start(&["--orphan-grace-secs", "0"]).await;
    let room = create_room(&server, &host_key(), "Input deleted out of band").await;
    let sid = room["SessionID"].as_str().unwrap().to_string();
    let address = room["room"].as_str().unwrap().parse().unwrap();
    let kept = create_room(&server, &host_key(), "Still has its input").await;
    // Someone deletes the live input in the Cloudflare dashboard.
    server.state.stream.delete_live_input(&sid).await.unwrap();

    let report = reconcile(&server).await;
    assert_eq!(
        report,
        json!({ "disabled": [], "deleted": [], "ended": [sid], "withheld": [], "closed": [], "rentRecoveredLamports": 0, "refreshed": [], "errors": [] })
    );
    let on_chain = server.state.chain.room(&address).await.unwrap().unwrap();
    assert_eq!(on_chain.status, RoomStatus::Ended);
    assert_eq!(livestream(&server, &sid).await.0, StatusCode::GONE);
    let kept_sid = kept["SessionID"].as_str().unwrap();
    assert_eq!(livestream(&server, kept_sid).await.1["status"], "created");
    server.shutdown().await.unwrap();

    // With a grace period, a room younger than it is left alone (it may be mid-create).
    let server = start(&["--orphan-grace-secs", "3600"]).await;
    let young = create_room(&server, &host_key(), "Young").await;
    let young_sid = young["SessionID"].as_str().unwrap().to_string();
    server
        .state
        .stream
        .delete_live_input(&young_sid)
        .await
        .unwrap();
    assert_eq!(reconcile(&server).await["ended"], json!([]));
    let address = young["room"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        server
            .state
            .chain
            .room(&address)
            .await
            .unwrap()
            .unwrap()
            .status,
        RoomStatus::Created
    );
    server.shutdown().await.unwrap();
}
