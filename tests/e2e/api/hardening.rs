//! Issue 9: abuse, money and failure paths, against a real in-process server (embedded local node
//! and Stream emulator). Each test here failed on the code before its fix.
use std::time::Duration;

use reqwest::StatusCode;
use roomcast_app::Server;
use roomcast_chain::{Keypair, RoomFilter, Signer};
use roomcast_stream::emulator::{Fault, Route};
use serde_json::{json, Value};

const OPERATOR_KEY: &str = "test-operator-key-0123456789abcdef";

async fn start(extra: &[&str]) -> Server {
    let mut argv = vec![
        // These tests count Cloudflare calls; the chain watcher's catch-up listing would add to them.
        "--chain-watch",
        "false",
        "--operator-key",
        OPERATOR_KEY,
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

struct Answer {
    status: StatusCode,
    replayed: bool,
    body: Value,
}

async fn answer(response: reqwest::Response) -> Answer {
    Answer {
        status: response.status(),
        replayed: response.headers().get("idempotent-replayed").is_some(),
        body: response.json().await.unwrap_or(Value::Null),
    }
}

/// `POST /api/create` as the operator for `host`, with an optional `Idempotency-Key`.
async fn create(server: &Server, host: &str, title: &str, key: Option<&str>) -> Answer {
    let mut request = http()
        .post(format!("{}/api/create", server.url()))
        .bearer_auth(OPERATOR_KEY)
        .json(&json!({ "title": title, "host": host }));
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    answer(request.send().await.unwrap()).await
}

/// A request signed by `wallet` (roomcast-auth) with the given timestamp.
fn signed(
    server: &Server,
    wallet: &Keypair,
    method: reqwest::Method,
    path: &str,
    body: &[u8],
    timestamp: i64,
) -> reqwest::RequestBuilder {
    let message = roomcast_api::guard::auth::canonical_message(
        &server.state.info.auth_audience,
        method.as_str(),
        path,
        timestamp,
        body,
    );
    let signature = wallet.sign_message(message.as_bytes());
    http()
        .request(method, format!("{}{path}", server.url()))
        .header("x-roomcast-wallet", wallet.pubkey().to_string())
        .header("x-roomcast-timestamp", timestamp.to_string())
        .header("x-roomcast-signature", signature.to_string())
        .header("content-type", "application/json")
        .body(body.to_vec())
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

async fn rooms_of(server: &Server, host: &Keypair) -> usize {
    let filter = RoomFilter {
        registry: Some(server.state.registry),
        host: Some(host.pubkey()),
        ..Default::default()
    };
    server.state.chain.rooms(&filter).await.unwrap().len()
}

// Item 1: the create task, not the request, owns the idempotent outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_the_request_timeout_gets_the_first_room_not_a_second() {
    let server = start(&["--request-timeout-secs", "1"]).await;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let host = Keypair::new();
    let host_str = host.pubkey().to_string();
    // Cloudflare is slow: the create outlives the 1 s request timeout.
    emulator
        .inject_fault(Route::CreateLiveInput, Fault::Latency { ms: 2500 }, 1)
        .unwrap();

    let first = create(&server, &host_str, "Slow", Some("retry-me")).await;
    assert_eq!(
        first.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        first.body
    );
    assert_eq!(first.body["error"]["code"], "timeout");

    // While the create still runs, a retry is told so instead of starting another.
    let during = create(&server, &host_str, "Slow", Some("retry-me")).await;
    assert_eq!(during.status, StatusCode::CONFLICT, "{}", during.body);
    assert_eq!(during.body["error"]["code"], "idempotency_key_in_progress");

    // Once it finished, a retry gets the first room.
    let mut after = create(&server, &host_str, "Slow", Some("retry-me")).await;
    for _ in 0..100 {
        if after.status != StatusCode::CONFLICT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = create(&server, &host_str, "Slow", Some("retry-me")).await;
    }
    assert_eq!(after.status, StatusCode::CREATED, "{}", after.body);
    assert!(after.replayed, "the stored outcome is replayed");
    let inputs = emulator.live_inputs();
    assert_eq!(inputs.len(), 1, "exactly one live input");
    assert_eq!(after.body["SessionID"], inputs[0].uid.as_str());
    assert_eq!(
        rooms_of(&server, &host).await,
        1,
        "exactly one room on-chain"
    );
    server.shutdown().await.unwrap();
}

// Item 1: the key is claimed only after the rate limit accepted the request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_create_does_not_consume_its_idempotency_key() {
    let server = start(&["--create-rate-per-minute", "1"]).await;
    let host = Keypair::new().pubkey().to_string();
    let first = create(&server, &host, "One", Some("a")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);

    let limited = create(&server, &host, "Two", Some("b")).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    // Key "b" is still free: another body with it is rate limited again, not "reused".
    let again = create(&server, &host, "Other body", Some("b")).await;
    assert_eq!(
        again.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        again.body
    );
    assert_eq!(again.body["error"]["code"], "rate_limited");
    // A retry of the finished create is replayed without spending the limit.
    let replay = create(&server, &host, "One", Some("a")).await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert!(replay.replayed);
    assert_eq!(replay.body, first.body);
    assert_eq!(
        server
            .upstreams
            .emulator
            .as_ref()
            .unwrap()
            .live_inputs()
            .len(),
        1
    );
    server.shutdown().await.unwrap();
}

// Item 8: a full replay store refuses signed requests instead of forgetting signatures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_replay_store_fails_closed_and_still_rejects_replays() {
    let server = start(&["--replay-capacity", "2"]).await;
    let wallet = Keypair::new();
    let path = format!("/api/rooms/{}/end", Keypair::new().pubkey());
    let ts = now();
    let send = |ts: i64| signed(&server, &wallet, reqwest::Method::POST, &path, b"{}", ts);
    // Two signed requests fill the store (the room does not exist: 404 after auth).
    for t in [ts, ts - 1] {
        let a = answer(send(t).send().await.unwrap()).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    }
    let third = answer(send(ts - 2).send().await.unwrap()).await;
    assert_eq!(
        third.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        third.body
    );
    assert_eq!(third.body["error"]["code"], "replay_store_full");
    // The signatures it holds are still refused as replays.
    let replay = answer(send(ts).send().await.unwrap()).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replay.body["error"]["code"], "replayed_signature");
    server.shutdown().await.unwrap();
}

// Item 8: a full idempotency store refuses keyed creates before any work is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_idempotency_store_fails_closed_before_creating_anything() {
    let server = start(&["--idempotency-capacity", "1"]).await;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let host = Keypair::new().pubkey().to_string();
    let first = create(&server, &host, "Kept", Some("k1")).await;
    assert_eq!(first.status, StatusCode::CREATED);

    let refused = create(&server, &host, "Refused", Some("k2")).await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.body
    );
    assert_eq!(refused.body["error"]["code"], "idempotency_store_full");
    assert_eq!(emulator.live_inputs().len(), 1, "nothing was created");
    // The key it holds still replays.
    let replay = create(&server, &host, "Kept", Some("k1")).await;
    assert_eq!(
        (replay.status, replay.replayed),
        (StatusCode::CREATED, true)
    );
    assert_eq!(replay.body, first.body);
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

async fn status_of(server: &Server, room: &Value) -> roomcast_chain::RoomStatus {
    let address = room["room"].as_str().unwrap().parse().unwrap();
    server
        .state
        .chain
        .room(&address)
        .await
        .unwrap()
        .unwrap()
        .status
}

fn sorted(v: &Value) -> Vec<String> {
    let mut items: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    items.sort();
    items
}

// Item 2: an empty (or foreign) Cloudflare account never ends rooms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconciler_ends_nothing_when_cloudflare_shows_none_of_our_inputs() {
    let server = start(&["--orphan-grace-secs", "0"]).await;
    let host = Keypair::new().pubkey().to_string();
    let a = create(&server, &host, "A", None).await.body;
    let b = create(&server, &host, "B", None).await.body;
    let mut sids = vec![
        a["SessionID"].as_str().unwrap().to_string(),
        b["SessionID"].as_str().unwrap().to_string(),
    ];
    sids.sort();
    // The listing comes back empty (wrong account id, another account's token, an empty page).
    for sid in &sids {
        server.state.stream.delete_live_input(sid).await.unwrap();
    }
    let report = reconcile(&server).await;
    assert_eq!(report["ended"], json!([]), "{report}");
    assert_eq!(sorted(&report["withheld"]), sids);
    for room in [&a, &b] {
        assert_eq!(
            status_of(&server, room).await,
            roomcast_chain::RoomStatus::Created
        );
    }
    server.shutdown().await.unwrap();
}

// Rooms over the per-pass cap are logged in one line per pass, not one line each (a registry of
// 100k rooms whose inputs vanished logged 100k lines every pass, stalling every request).
// (Failed before: one "per-pass cap" line per withheld room.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_over_the_reconcilers_cap_are_one_log_line_a_pass() {
    super::common::captured_logs();
    // Only the pass below runs (`start` turns background passes off).
    let server = start(&["--orphan-grace-secs", "0", "--reconcile-max-ends", "1"]).await;
    let host = Keypair::new().pubkey().to_string();
    let _kept = create(&server, &host, "Kept", None).await.body;
    let mut sids = Vec::new();
    for i in 0..4 {
        let room = create(&server, &host, &format!("Gone {i}"), None)
            .await
            .body;
        let sid = room["SessionID"].as_str().unwrap().to_string();
        server.state.stream.delete_live_input(&sid).await.unwrap();
        sids.push(sid);
    }
    let report = reconcile(&server).await;
    assert_eq!(report["ended"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["withheld"].as_array().unwrap().len(), 3, "{report}");
    let logs = super::common::captured_logs();
    let capped: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("per-pass cap") && sids.iter().any(|sid| l.contains(sid.as_str())))
        .collect();
    assert_eq!(capped.len(), 1, "{capped:#?}");
    assert!(capped[0].contains("rooms=3"), "{}", capped[0]);
    assert!(capped[0].contains("cap=1"), "{}", capped[0]);
    server.shutdown().await.unwrap();
}

// Item 2: each end is confirmed by a 404 for that uid, and ends per pass are capped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconciler_ends_only_confirmed_gone_inputs_and_caps_ends_per_pass() {
    let server = start(&["--orphan-grace-secs", "0", "--reconcile-max-ends", "1"]).await;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let host = Keypair::new().pubkey().to_string();
    let kept = create(&server, &host, "Kept", None).await.body;
    let gone: Vec<Value> = vec![
        create(&server, &host, "Gone 1", None).await.body,
        create(&server, &host, "Gone 2", None).await.body,
    ];
    let mut gone_sids: Vec<String> = gone
        .iter()
        .map(|r| r["SessionID"].as_str().unwrap().to_string())
        .collect();
    gone_sids.sort();
    for sid in &gone_sids {
        server.state.stream.delete_live_input(sid).await.unwrap();
    }

    // Cloudflare cannot confirm (5xx on GET live_inputs/{uid}): nothing ends.
    emulator
        .inject_fault(Route::GetLiveInput, Fault::ServerError { status: 500 }, 50)
        .unwrap();
    let report = reconcile(&server).await;
    emulator.clear_faults();
    assert_eq!(report["ended"], json!([]), "{report}");
    assert_eq!(sorted(&report["withheld"]), gone_sids);
    assert!(!report["errors"].as_array().unwrap().is_empty());

    // Confirmed gone: one per pass.
    let first = reconcile(&server).await;
    assert_eq!(first["ended"].as_array().unwrap().len(), 1, "{first}");
    assert_eq!(first["withheld"].as_array().unwrap().len(), 1, "{first}");
    let second = reconcile(&server).await;
    assert_eq!(second["withheld"], json!([]), "{second}");
    let mut ended = sorted(&first["ended"]);
    ended.extend(sorted(&second["ended"]));
    ended.sort();
    assert_eq!(ended, gone_sids);
    for room in &gone {
        assert_eq!(
            status_of(&server, room).await,
            roomcast_chain::RoomStatus::Ended
        );
    }
    assert_eq!(
        status_of(&server, &kept).await,
        roomcast_chain::RoomStatus::Created
    );
    server.shutdown().await.unwrap();
}

// Item 9: the signed text names the server (roomcast-auth-v2), so a request signed for another
// deployment is refused here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_signed_for_another_deployment_is_refused() {
    let server = start(&["--public-origin", "https://rooms.example.com/"]).await;
    let info: Value = http()
        .get(format!("{}/api/info", server.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["authAudience"], "https://rooms.example.com");

    let wallet = Keypair::new();
    let body = serde_json::to_vec(&json!({ "title": "Signed" })).unwrap();
    let sign = |audience: &str| {
        let ts = now();
        let message = roomcast_api::guard::auth::canonical_message(
            audience,
            "POST",
            "/api/create",
            ts,
            &body,
        );
        http()
            .post(format!("{}/api/create", server.url()))
            .header("x-roomcast-wallet", wallet.pubkey().to_string())
            .header("x-roomcast-timestamp", ts.to_string())
            .header(
                "x-roomcast-signature",
                wallet.sign_message(message.as_bytes()).to_string(),
            )
            .header("content-type", "application/json")
            .body(body.clone())
    };
    for other in [
        "https://staging.example.com",
        &server.state.registry.to_string(),
    ] {
        let refused = answer(sign(other).send().await.unwrap()).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{other}");
        assert_eq!(refused.body["error"]["code"], "invalid_signature");
    }
    let created = answer(sign("https://rooms.example.com").send().await.unwrap()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["host"], wallet.pubkey().to_string());
    assert_eq!(
        server
            .upstreams
            .emulator
            .as_ref()
            .unwrap()
            .live_inputs()
            .len(),
        1
    );
    server.shutdown().await.unwrap();
}

const WEBHOOK_SECRET: &str = "hardening-webhook-secret";

async fn webhook(server: &Server, body: &Value) -> Value {
    let response = http()
        .post(format!("{}/api/webhooks/cloudflare", server.url()))
        .header("cf-webhook-auth", WEBHOOK_SECRET)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn notification(input_id: &str, event_type: &str, updated_at: &str) -> Value {
    json!({
        "name": "Stream Live Input",
        "data": {
            "notification_name": "Stream Live Input",
            "input_id": input_id,
            "event_type": event_type,
            "updated_at": updated_at,
        },
    })
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

// Item 3: `connected` writes to the chain only when `lifecycle` confirms it; far-future times are
// clamped; error text is bounded; ended rooms leave the broadcast map.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_confirmed_clamped_bounded_and_forgotten_when_the_room_ends() {
    let server = start(&["--cloudflare-webhook-secret", WEBHOOK_SECRET]).await;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    emulator.set_webhook(None);
    let host = Keypair::new().pubkey().to_string();
    let room = create(&server, &host, "Webhooks", None).await.body;
    let sid = room["SessionID"].as_str().unwrap().to_string();

    // No encoder is connected: a `connected` event (forged with a leaked secret, or mistaken) does
    // not mark the room Live on-chain.
    let now = time::OffsetDateTime::now_utc();
    let forged = notification(&sid, "live_input.connected", &rfc3339(now));
    assert_eq!(webhook(&server, &forged).await["setLive"], false);
    assert_eq!(
        status_of(&server, &room).await,
        roomcast_chain::RoomStatus::Created
    );

    // A far-future event is clamped to now, so the next real event still applies.
    let future = notification(&sid, "live_input.disconnected", "2099-01-01T00:00:00Z");
    assert_eq!(webhook(&server, &future).await["status"], "applied");
    let clamped = server.state.broadcasts.get(&sid).unwrap().updated_at;
    assert!(clamped < now + time::Duration::seconds(60), "{clamped}");
    emulator.connect(&sid).await.unwrap();
    let later = rfc3339(time::OffsetDateTime::now_utc() + time::Duration::seconds(2));
    let connected = notification(&sid, "live_input.connected", &later);
    assert_eq!(
        webhook(&server, &connected).await,
        json!({ "status": "applied", "event": "live_input.connected", "setLive": true })
    );
    assert_eq!(
        status_of(&server, &room).await,
        roomcast_chain::RoomStatus::Live
    );

    // Sender-controlled error text is bounded and stripped of control characters.
    let mut errored = notification(
        &sid,
        "live_input.errored",
        &rfc3339(time::OffsetDateTime::now_utc() + time::Duration::seconds(4)),
    );
    errored["data"]["live_input_errored"] = json!({
        "error": { "code": "X".repeat(1000), "message": format!("<script>\n{}", "m".repeat(10_000)) },
    });
    assert_eq!(webhook(&server, &errored).await["status"], "applied");
    let error = server.state.broadcasts.get(&sid).unwrap().error.unwrap();
    assert_eq!(error.code, "X".repeat(64));
    assert_eq!(error.message.chars().count(), 500);
    assert!(
        error.message.starts_with("<script>mmm"),
        "{}",
        error.message
    );
    assert_eq!(error.hint, error.message);

    // Ending the room drops its broadcast state; later events for it are ignored.
    let ended = http()
        .post(format!(
            "{}/api/rooms/{}/end",
            server.url(),
            room["room"].as_str().unwrap()
        ))
        .bearer_auth(OPERATOR_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), StatusCode::OK);
    assert_eq!(server.state.broadcasts.get(&sid), None);
    let after = notification(
        &sid,
        "live_input.connected",
        &rfc3339(time::OffsetDateTime::now_utc() + time::Duration::seconds(6)),
    );
    assert_eq!(
        webhook(&server, &after).await,
        json!({ "status": "ignored", "reason": "the room has ended" })
    );
    assert_eq!(server.state.broadcasts.get(&sid), None);
    server.shutdown().await.unwrap();
}

/// `POST /api/create` as the operator from a client a proxy names in `X-Forwarded-For`.
async fn create_via_proxy(server: &Server, forwarded_for: &str) -> StatusCode {
    http()
        .post(format!("{}/api/create", server.url()))
        .bearer_auth(OPERATOR_KEY)
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "title": "Proxied", "host": Keypair::new().pubkey().to_string() }))
        .send()
        .await
        .unwrap()
        .status()
}

// Item 5: behind a trusted proxy each client has its own bucket; IPv6 is keyed by /64; untrusted
// peers cannot pick a bucket with a forged header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_ip_limits_see_the_client_behind_a_trusted_proxy() {
    let server = start(&[
        "--create-rate-per-minute",
        "1",
        "--trusted-proxies",
        "127.0.0.0/8,::1/128",
    ])
    .await;
    assert_eq!(
        create_via_proxy(&server, "203.0.113.5").await,
        StatusCode::CREATED
    );
    assert_eq!(
        create_via_proxy(&server, "203.0.113.6").await,
        StatusCode::CREATED,
        "another client behind the same proxy has its own bucket"
    );
    assert_eq!(
        create_via_proxy(&server, "203.0.113.5").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // A client cannot escape its bucket by prepending addresses: the proxy appends the real one.
    assert_eq!(
        create_via_proxy(&server, "198.51.100.1, 203.0.113.5").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        create_via_proxy(&server, "2001:db8:1:2::1").await,
        StatusCode::CREATED
    );
    assert_eq!(
        create_via_proxy(&server, "2001:db8:1:2:ffff::9").await,
        StatusCode::TOO_MANY_REQUESTS,
        "the same /64 is one client"
    );
    server.shutdown().await.unwrap();

    // Without trusted proxies the header is ignored: everyone here is 127.0.0.1.
    let server = start(&["--create-rate-per-minute", "1"]).await;
    assert_eq!(
        create_via_proxy(&server, "203.0.113.5").await,
        StatusCode::CREATED
    );
    assert_eq!(
        create_via_proxy(&server, "203.0.113.6").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    server.shutdown().await.unwrap();
}

async fn readyz(server: &Server) -> (StatusCode, Value) {
    readyz_at(server.url()).await
}

async fn readyz_at(base: String) -> (StatusCode, Value) {
    let response = http().get(format!("{base}/readyz")).send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

// Item 6: anonymous /readyz probes cost one Cloudflare account-API call per few seconds, never a
// retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_cached_and_never_retries_cloudflare() {
    // One check answers every probe for ten minutes (the default is 5 s): however slowly the ten
    // probes are scheduled, they fall in one window.
    const WINDOW: &[&str] = &["--readyz-cache-ms", "600000"];
    let server = start(WINDOW).await;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    emulator.reset_calls();
    emulator
        .inject_fault(
            Route::ListLiveInputs,
            Fault::ServerError { status: 503 },
            10,
        )
        .unwrap();
    let probes = (0..10).map(|_| readyz_at(server.url()));
    for (status, body) in futures_join_all(probes).await {
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["status"], "unready");
        assert_eq!(
            body["checks"],
            json!({ "solanaRpc": true, "cloudflare": false })
        );
    }
    assert_eq!(
        emulator.call_count(Route::ListLiveInputs),
        1,
        "one call, no retry"
    );
    server.shutdown().await.unwrap();

    let server = start(WINDOW).await;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    emulator.reset_calls();
    for _ in 0..10 {
        assert_eq!(readyz(&server).await.0, StatusCode::OK);
    }
    assert_eq!(emulator.call_count(Route::ListLiveInputs), 1);
    server.shutdown().await.unwrap();
}

/// Runs the futures concurrently.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut set = Vec::new();
    for f in futures {
        set.push(tokio::spawn(f));
    }
    let mut out = Vec::new();
    for h in set {
        out.push(h.await.unwrap());
    }
    out
}

async fn get_status(
    server: &Server,
    path: &str,
    forwarded_for: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = http().get(format!("{}{path}", server.url()));
    if let Some(ip) = forwarded_for {
        request = request.header("x-forwarded-for", ip);
    }
    let response = request.send().await.unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

// Item 7: anonymous reads are limited per client and in total.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_limited_per_ip_and_in_flight_requests_are_capped() {
    let server = start(&[
        "--read-rate-per-minute",
        "3",
        "--trusted-proxies",
        "127.0.0.0/8",
    ])
    .await;
    // Random hosts: each would be a fresh getProgramAccounts.
    for _ in 0..3 {
        let path = format!("/api/rooms?host={}", Keypair::new().pubkey());
        assert_eq!(
            get_status(&server, &path, Some("203.0.113.7")).await.0,
            StatusCode::OK
        );
    }
    let path = format!("/api/rooms?host={}", Keypair::new().pubkey());
    let (status, body) = get_status(&server, &path, Some("203.0.113.7")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(
        get_status(&server, &path, Some("203.0.113.8")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        get_status(&server, "/healthz", Some("203.0.113.7")).await.0,
        StatusCode::OK,
        "probes are exempt"
    );
    server.shutdown().await.unwrap();

    let server = start(&["--max-concurrent-requests", "1"]).await;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let host = Keypair::new().pubkey().to_string();
    let room = create(&server, &host, "Busy", None).await.body;
    let sid = room["SessionID"].as_str().unwrap().to_string();
    // One slow read (Cloudflare's lifecycle takes 1.5 s) occupies the only slot.
    emulator
        .inject_fault(Route::Lifecycle, Fault::Latency { ms: 1500 }, 1)
        .unwrap();
    let slow = tokio::spawn(get_status_at(
        server.url(),
        format!("/api/livestream?sessionId={sid}"),
    ));
    let mut shed = None;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(25)).await;
        let (status, body) = get_status(&server, "/api/rooms", None).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            shed = Some(body);
            break;
        }
    }
    let shed = shed.expect("a second request is shed while the first holds the slot");
    assert_eq!(shed["error"]["code"], "overloaded");
    assert_eq!(
        get_status(&server, "/healthz", None).await.0,
        StatusCode::OK
    );
    // Event streams are not held to the in-flight cap: the stream opens while the slot is taken
    // (only the headers are read; the stream itself stays open).
    let events = http()
        .get(format!("{}/api/rooms/{sid}/events", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    assert_eq!(
        events.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    drop(events);
    assert_eq!(slow.await.unwrap(), StatusCode::OK);
    assert_eq!(
        get_status(&server, "/api/rooms", None).await.0,
        StatusCode::OK
    );
    server.shutdown().await.unwrap();
}

async fn get_status_at(base: String, path: String) -> StatusCode {
    http()
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap()
        .status()
}

// Item 10: an RPC URL with an API key is never published and never reaches logs or reports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rpc_url_with_credentials_is_not_published_and_is_redacted() {
    use roomcast_localnet::{LocalNode, NodeOptions};
    let node = LocalNode::start(NodeOptions::default()).await.unwrap();
    let registrar = Keypair::new();
    let chain = roomcast_chain::RoomcastChain::new(
        &node.rpc_url(),
        registrar.insecure_clone(),
        node.program_id(),
    )
    .unwrap();
    chain
        .rpc()
        .request_airdrop(&registrar.pubkey(), 10_000_000_000)
        .await
        .unwrap();
    chain.initialize_registry(registrar.pubkey()).await.unwrap();
    let dir = std::env::temp_dir().join(format!("roomcast-harden-rpc-{}", std::process::id()));
    let keypair = dir.join("registrar.json");
    roomcast_localnet::keypair_file::write(&keypair, &registrar).unwrap();
    let secret = "k3yS3cr3tAbCdEf0123456789";
    let url = format!("{}?api-key={secret}", node.rpc_url());
    let keypair = keypair.to_str().unwrap();
    // The logs from here on; the reconciler runs every second and logs what failed.
    super::common::captured_logs();
    let server = super::common::start(&[
        "--chain-watch",
        "false",
        "--operator-key",
        OPERATOR_KEY,
        "--reconcile-interval-secs",
        "1",
        "--rpc-url",
        &url,
        "--registrar-keypair",
        keypair,
    ])
    .await;
    let info: Value = http()
        .get(format!("{}/api/info", server.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["rpcUrl"], Value::Null, "{info}");
    assert!(!info.to_string().contains(secret));

    // The node goes away: errors that name the URL reach the operator's report redacted.
    let node_url = node.rpc_url();
    node.shutdown().await.unwrap();
    let report = reconcile(&server).await;
    let errors = report["errors"].to_string();
    assert!(errors.contains("listing rooms"), "{report}");
    assert!(!errors.contains(secret), "{report}");
    // The same errors reach the logs (the reconciler logs each pass's), naming the URL with its
    // key hidden, and never the key.
    let logs = eventually_logged(&format!("{node_url}/?api-key=")).await;
    assert!(!logs.contains(secret), "the key is in the logs");
    assert!(logs.contains(&format!("{node_url}/?api-key=***")));
    server.shutdown().await.unwrap();
    assert!(!super::common::captured_logs().contains(secret));

    let server = start(&["--public-rpc-url", "https://rpc.example.com"]).await;
    assert_eq!(
        server.state.info.rpc_url.as_deref(),
        Some("https://rpc.example.com")
    );
    server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

/// The captured logs once they contain `text`.
async fn eventually_logged(text: &str) -> String {
    crate::support::eventually(&format!("{text:?} in the logs"), || async {
        let logs = super::common::captured_logs();
        logs.contains(text).then_some(logs)
    })
    .await
}

// Item 11: caller input never becomes a metric label value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metric_labels_stay_bounded_whatever_the_caller_sends() {
    let server = start(&[]).await;
    for i in 0..20 {
        let method = reqwest::Method::from_bytes(format!("HARDENX{i}").as_bytes()).unwrap();
        let response = http()
            .request(method, format!("{}/api/rooms/zz{i}?q={i}", server.url()))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error());
    }
    let text = http()
        .get(format!("{}/metrics", server.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("HARDENX"), "no raw method in labels");
    assert!(!text.contains("/api/rooms/zz"), "no raw path in labels");
    assert!(
        text.lines()
            .any(|l| l.starts_with("roomcast_http_requests_total")
                && l.contains("method=\"other\"")
                && l.contains("route=\"/api/rooms/{room}\"")),
        "{text}"
    );
    server.shutdown().await.unwrap();
}

// Item 13: short operator keys are refused at start; repeated 401s from one address are throttled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_operator_keys_are_refused_and_failed_logins_throttled() {
    let short = Server::start(super::common::serve_args(&[
        "--operator-key",
        "only-31-bytes-long-0123456789ab",
    ]))
    .await;
    let Err(error) = short else {
        panic!("a 31-byte operator key was accepted");
    };
    assert_eq!(
        error.to_string(),
        "ROOMCAST_OPERATOR_KEY must be at least 32 bytes (e.g. `openssl rand -hex 32`)"
    );

    let server = start(&[
        "--auth-failures-per-minute",
        "3",
        "--trusted-proxies",
        "127.0.0.0/8",
    ])
    .await;
    let host = Keypair::new().pubkey().to_string();
    let attempt = |key: &'static str, ip: &'static str| {
        http()
            .post(format!("{}/api/create", server.url()))
            .bearer_auth(key)
            .header("x-forwarded-for", ip)
            .json(&json!({ "title": "Guess", "host": host }))
            .send()
    };
    for _ in 0..3 {
        let a = answer(attempt("wrong", "198.51.100.9").await.unwrap()).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let throttled = answer(attempt("wrong", "198.51.100.9").await.unwrap()).await;
    assert_eq!(
        throttled.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        throttled.body
    );
    assert_eq!(throttled.body["error"]["code"], "rate_limited");
    // Even the right key waits out the minute from that address; others are unaffected.
    let right = answer(attempt(OPERATOR_KEY, "198.51.100.9").await.unwrap()).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    let other = answer(attempt(OPERATOR_KEY, "198.51.100.10").await.unwrap()).await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.body);
    assert_eq!(
        server
            .upstreams
            .emulator
            .as_ref()
            .unwrap()
            .live_inputs()
            .len(),
        1
    );
    server.shutdown().await.unwrap();
}

async fn registrar_balance(server: &Server) -> u64 {
    server
        .state
        .chain
        .balance(&server.state.chain.signer_pubkey())
        .await
        .unwrap()
}

// Item 4: the registrar is never drained below its floor; creates have a global budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_stop_at_the_registrar_floor_and_at_the_global_budget() {
    let server = start(&[]).await;
    let balance = registrar_balance(&server).await;
    server.shutdown().await.unwrap();

    // The floor leaves room for exactly one more create (balances differ by fees only).
    let floor = (balance - 5_000_000).to_string();
    let server = start(&["--registrar-min-lamports", &floor]).await;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let first = create(&server, &Keypair::new().pubkey().to_string(), "Paid", None).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let refused = create(
        &server,
        &Keypair::new().pubkey().to_string(),
        "Unpaid",
        None,
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.body
    );
    assert_eq!(refused.body["error"]["code"], "registrar_underfunded");
    assert_eq!(
        emulator.live_inputs().len(),
        1,
        "nothing was created for the refused one"
    );
    let (status, ready) = readyz(&server).await;
    assert_eq!(status, StatusCode::OK, "reads still work: {ready}");
    let now = registrar_balance(&server).await;
    assert_eq!(
        ready["registrar"],
        json!({ "balanceLamports": now, "funded": false })
    );
    let metrics = http()
        .get(format!("{}/metrics", server.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("roomcast_registrar_balance_lamports"),
        "{metrics}"
    );
    server.shutdown().await.unwrap();

    // Many hosts from many addresses still share one budget.
    let server = start(&[
        "--create-budget-per-minute",
        "2",
        "--trusted-proxies",
        "127.0.0.0/8",
    ])
    .await;
    for (i, ip) in ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
        .iter()
        .enumerate()
    {
        let status = create_via_proxy(&server, ip).await;
        let expected = if i < 2 {
            StatusCode::CREATED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(status, expected, "create {i}");
    }
    server.shutdown().await.unwrap();
}

// Item 4: ended rooms are closed after the retention period; the rent comes back and viewers get
// 410 while the server remembers the room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ended_rooms_are_closed_after_retention_and_their_rent_comes_back() {
    let server = start(&["--close-ended-after", "0s", "--orphan-grace-secs", "3600"]).await;
    let host = Keypair::new().pubkey().to_string();
    let ended = create(&server, &host, "Ends", None).await.body;
    let kept = create(&server, &host, "Still on", None).await.body;
    let address: roomcast_chain::Pubkey = ended["room"].as_str().unwrap().parse().unwrap();
    let response = http()
        .post(format!("{}/api/rooms/{address}/end", server.url()))
        .bearer_auth(OPERATOR_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let rent = server
        .state
        .chain
        .rpc()
        .get_balance(&address)
        .await
        .unwrap();
    let before = registrar_balance(&server).await;

    let report = reconcile(&server).await;
    let sid = ended["SessionID"].as_str().unwrap();
    assert_eq!(report["closed"], json!([sid]), "{report}");
    let after = registrar_balance(&server).await;
    assert_eq!(report["rentRecoveredLamports"], after - before);
    // The rent minus the close transaction's fee.
    assert_eq!(after - before, rent - 5_000);
    assert!(server.state.chain.room(&address).await.unwrap().is_none());
    assert_eq!(
        status_of(&server, &kept).await,
        roomcast_chain::RoomStatus::Created
    );
    let (status, body) =
        get_status(&server, &format!("/api/livestream?sessionId={sid}"), None).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(body["error"]["code"], "room_ended");
    // Nothing left to close.
    assert_eq!(reconcile(&server).await["closed"], json!([]));
    server.shutdown().await.unwrap();
}

/// Every live input has its room and every room of `host` its input: no orphan on either side.
async fn assert_no_orphans(server: &Server) {
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let inputs: Vec<String> = emulator.live_inputs().into_iter().map(|i| i.uid).collect();
    let filter = RoomFilter {
        registry: Some(server.state.registry),
        ..Default::default()
    };
    let mut rooms: Vec<String> = server
        .state
        .chain
        .rooms(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.room.session_id)
        .collect();
    let mut inputs_sorted = inputs.clone();
    inputs_sorted.sort();
    rooms.sort();
    assert_eq!(
        inputs_sorted, rooms,
        "live inputs and rooms match one to one"
    );
}

// Item 15: the transaction lands but its sendTransaction answer is lost — the API's "outcome
// unknown" branch finds the room and answers 201; a late answer is just late.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_landed_create_whose_rpc_answer_is_lost_is_still_one_room() {
    use roomcast_localnet::rpc::SendFault;
    let server = start(&[]).await;
    let node = server.upstreams.node.as_ref().unwrap();
    let host = Keypair::new();
    let host_str = host.pubkey().to_string();

    node.inject_send_fault(SendFault::Lost, 1);
    let created = create(&server, &host_str, "Answer lost", Some("lost-1")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body["signature"],
        Value::Null,
        "the signature never came back"
    );
    let sid = created.body["SessionID"].as_str().unwrap();
    assert_eq!(
        status_of(&server, &created.body).await,
        roomcast_chain::RoomStatus::Created
    );
    let retry = create(&server, &host_str, "Answer lost", Some("lost-1")).await;
    assert!(retry.replayed);
    assert_eq!(retry.body["SessionID"], sid);

    node.inject_send_fault(SendFault::Late(Duration::from_millis(500)), 1);
    let late = create(&server, &host_str, "Answer late", None).await;
    assert_eq!(late.status, StatusCode::CREATED, "{}", late.body);
    assert!(late.body["signature"].is_string());

    assert_eq!(rooms_of(&server, &host).await, 2);
    assert_no_orphans(&server).await;
    server.shutdown().await.unwrap();
}

/// The one live input at the emulator (a fresh server), and its room's address.
fn the_only_input(server: &Server) -> (String, roomcast_chain::Pubkey) {
    let inputs = server.upstreams.emulator.as_ref().unwrap().live_inputs();
    assert_eq!(inputs.len(), 1, "one live input");
    let uid = inputs[0].uid.clone();
    let address = server
        .state
        .chain
        .room_address(&server.state.registry, &uid);
    (uid, address)
}

// An un-keyed create whose `create_room` answer is lost and that finds no room yet answers 503,
// but its transaction may still land: the live input stays (its flight keeps the sent
// transaction), so a late landing is a room with its video — not a room without one.
// (Failed before: the create deleted its input, and the room landed without it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unkeyed_create_whose_transaction_lands_late_keeps_its_live_input() {
    use roomcast_localnet::rpc::SendFault;
    let server = start(&["--orphan-grace-secs", "0"]).await;
    let node = server.upstreams.node.as_ref().unwrap();
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let host = Keypair::new();

    node.inject_send_fault(SendFault::LandsLate(Duration::from_millis(1500)), 1);
    let created = create(&server, &host.pubkey().to_string(), "Lands late", None).await;
    assert_eq!(
        (created.status, &created.body["error"]["code"]),
        (StatusCode::SERVICE_UNAVAILABLE, &json!("chain_unavailable")),
        "{}",
        created.body
    );
    let (uid, address) = the_only_input(&server);
    // The transaction lands after the answer.
    let mut room = None;
    for _ in 0..100 {
        room = server.state.chain.room(&address).await.unwrap();
        if room.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let room = room.expect("the held-back create_room lands");
    assert_eq!(
        (room.session_id.as_str(), room.status),
        (uid.as_str(), roomcast_chain::RoomStatus::Created)
    );
    // Both sides: the room has its live input, enabled, and the reconciler leaves both alone.
    assert!(emulator.live_input(&uid).unwrap().enabled);
    assert_eq!(
        reconcile(&server).await,
        json!({ "disabled": [], "deleted": [], "ended": [], "withheld": [], "closed": [], "rentRecoveredLamports": 0, "refreshed": [], "errors": [] })
    );
    assert!(emulator.live_input(&uid).is_some());
    assert_no_orphans(&server).await;
    server.shutdown().await.unwrap();
}

// The same create whose transaction never lands: its input is withheld while the transaction
// could still land, and deleted by the first pass after its blockhash expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unkeyed_create_whose_transaction_never_lands_is_cleaned_up_once_it_expired() {
    use roomcast_localnet::rpc::SendFault;
    let server = start(&["--orphan-grace-secs", "0"]).await;
    let node = server.upstreams.node.as_ref().unwrap();
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let host = Keypair::new();

    node.inject_send_fault(SendFault::NeverLands, 1);
    let created = create(&server, &host.pubkey().to_string(), "Never lands", None).await;
    assert_eq!(
        (created.status, &created.body["error"]["code"]),
        (StatusCode::SERVICE_UNAVAILABLE, &json!("chain_unavailable")),
        "{}",
        created.body
    );
    let (uid, address) = the_only_input(&server);
    assert_eq!(server.state.chain.room(&address).await.unwrap(), None);
    let report = reconcile(&server).await;
    assert_eq!(
        (&report["deleted"], &report["withheld"]),
        (&json!([]), &json!([uid])),
        "the sent create_room can still land: {report}"
    );
    assert!(emulator.live_input(&uid).is_some());

    // Past the transaction's last valid block height (150 blockhashes), rather than a minute of
    // wall-clock slots.
    node.chain()
        .call(|chain| {
            for _ in 0..=roomcast_localnet::chain::MAX_RECENT_BLOCKHASHES {
                chain.advance_slot();
            }
        })
        .await
        .unwrap();
    let report = reconcile(&server).await;
    assert_eq!(
        (&report["deleted"], &report["withheld"]),
        (&json!([uid]), &json!([])),
        "{report}"
    );
    assert!(emulator.live_input(&uid).is_none());
    assert_eq!(server.state.chain.room(&address).await.unwrap(), None);
    assert_eq!(rooms_of(&server, &host).await, 0);
    server.shutdown().await.unwrap();
}

// Item 15: Cloudflare makes the live input but the answer is lost — the create fails cleanly, a
// retry with the same key makes one room, and one reconciler pass removes the stray input.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_input_whose_answer_is_lost_is_cleaned_up_and_the_retry_makes_one_room() {
    let server = start(&["--orphan-grace-secs", "0"]).await;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let host = Keypair::new();
    let host_str = host.pubkey().to_string();
    emulator
        .inject_fault(Route::CreateLiveInput, Fault::AppliedThenDrop, 1)
        .unwrap();
    let lost = create(&server, &host_str, "Lost input", Some("k")).await;
    assert_eq!(
        lost.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        lost.body
    );
    assert_eq!(lost.body["error"]["code"], "cloudflare_unavailable");
    let stray: Vec<String> = emulator.live_inputs().into_iter().map(|i| i.uid).collect();
    assert_eq!(stray.len(), 1, "done upstream");
    assert_eq!(rooms_of(&server, &host).await, 0, "nothing on-chain");

    let retry = create(&server, &host_str, "Lost input", Some("k")).await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.body);
    assert!(!retry.replayed, "the failed attempt released the key");
    let report = reconcile(&server).await;
    assert_eq!(report["deleted"], json!(stray), "{report}");
    assert_eq!(rooms_of(&server, &host).await, 1);
    assert_no_orphans(&server).await;
    server.shutdown().await.unwrap();
}
