//! Issue 9's fault-and-abuse suite, in-process against the embedded node and emulator:
//! - random methods, paths, headers and bodies against every route: never a 5xx, never a panic.
//!   The routes are the OpenAPI document's paths and the web app's pages and assets
//!   ([`routes`]); a test reads the router's source and fails if it serves a path the list lacks;
//! - the create fault campaign: Cloudflare or the RPC node failing before or after doing the work,
//!   slow beyond the request timeout, each create retried with its Idempotency-Key until it
//!   answers; then one reconciler pass: zero orphans on either side and exactly one room per key.
//!
//! Both print their figures (`FIGURES …`), which the README's Reliability section reports.
use std::time::Duration;

use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use roomcast_app::Server;
use roomcast_chain::{Keypair, RoomFilter, Signer};
use roomcast_localnet::rpc::SendFault;
use roomcast_stream::emulator::{Fault, Route};
use serde_json::{json, Value};

const OPERATOR_KEY: &str = "abuse-operator-key-0123456789abcdef";
const WEBHOOK_SECRET: &str = "abuse-webhook-secret";

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
        "--read-rate-per-minute",
        "1000000",
        "--auth-failures-per-minute",
        "1000000",
        "--create-rate-per-minute",
        "100000",
        "--create-budget-per-minute",
        "100000",
    ];
    argv.extend_from_slice(extra);
    super::common::start(&argv).await
}

/// What the web app serves (`app/api/src/http/web/mod.rs`): pages and assets, outside the OpenAPI
/// document. [`the_fuzzed_routes_are_every_route_the_router_serves`] keeps it complete.
const PAGES: &[&str] = &[
    "/",
    "/watch/{room}",
    "/host",
    "/assets/app.css",
    "/assets/common.js",
    "/assets/wallet.js",
    "/assets/discover.js",
    "/assets/watch.js",
    "/assets/gate.js",
    "/assets/tips.js",
    "/assets/host.js",
    "/assets/webrtc.js",
    "/assets/icon.svg",
    "/assets/vendor/hls.min.js",
    // Served only with the embedded local node (the local test wallet).
    "/assets/local_wallet.js",
];

/// Every path the fuzz tries: each documented API path (so a new route is fuzzed as soon as it
/// is documented, which `openapi_sync` enforces), the pages, and one the router does not know.
fn routes() -> Vec<String> {
    let doc: Value = serde_json::from_str(&roomcast_api::http::openapi::pretty_json()).unwrap();
    let mut routes: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    routes.extend(PAGES.iter().map(|p| p.to_string()));
    routes.push("/nope/{room}".into());
    routes
}

/// The path of every `.route("…", …)` call in the router's sources.
fn routed_paths() -> Vec<String> {
    const SOURCES: &[&str] = &[
        include_str!("../../../app/api/src/http/mod.rs"),
        include_str!("../../../app/api/src/http/web/mod.rs"),
    ];
    let mut paths = Vec::new();
    for source in SOURCES {
        for other in [".nest(", ".nest_service(", ".route_service("] {
            assert!(
                !source.contains(other),
                "the router uses {other}: teach routed_paths to read it"
            );
        }
        for call in source.split(".route(").skip(1) {
            let call = call.trim_start();
            assert!(
                call.starts_with('"'),
                "a route whose path is not a literal: {}",
                &call[..call.len().min(60)]
            );
            paths.push(call[1..].split('"').next().unwrap().to_string());
        }
    }
    paths
}

#[test]
fn the_fuzzed_routes_are_every_route_the_router_serves() {
    let routes = routes();
    let routed = routed_paths();
    for must in [
        "/",
        "/actions.json",
        "/api/actions/end-room",
        "/api/auth/sign-in",
        "/api/rooms/{room}/events",
        "/assets/vendor/hls.min.js",
    ] {
        assert!(
            routed.contains(&must.to_string()),
            "the parser missed {must}"
        );
    }
    let missing: Vec<&String> = routed.iter().filter(|p| !routes.contains(p)).collect();
    assert_eq!(
        missing,
        Vec::<&String>::new(),
        "routes the fuzz does not try: document them (API) or add them to PAGES"
    );
}
const METHODS: &[&str] = &[
    "GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS", "BREW",
];

fn random_text(rng: &mut impl Rng, max: usize) -> String {
    let pool: &[&str] = &[
        "a",
        "Z",
        "0",
        "9",
        "-",
        "_",
        "%",
        "%00",
        "%ff",
        "é",
        "💥",
        "/",
        "..",
        "?",
        "&",
        "=",
        "{",
        "\"",
        "'",
        "<",
        " ",
        "\\",
        "ab".repeat(16).leak(),
    ];
    (0..rng.gen_range(0..max))
        .map(|_| pool[rng.gen_range(0..pool.len())])
        .collect()
}

fn random_segment(rng: &mut impl Rng, known: &[String]) -> String {
    match rng.gen_range(0..4) {
        0 if !known.is_empty() => known[rng.gen_range(0..known.len())].clone(),
        1 => Keypair::new().pubkey().to_string(),
        2 => hex::encode(rng.gen::<[u8; 16]>()),
        _ => urlencode(&random_text(rng, 40)),
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn random_body(rng: &mut impl Rng, known: &[String]) -> Vec<u8> {
    match rng.gen_range(0..6) {
        0 => Vec::new(),
        1 => (0..rng.gen_range(0..64)).map(|_| rng.gen()).collect(),
        2 => json!({ "title": random_text(rng, 120), "host": Keypair::new().pubkey().to_string() })
            .to_string()
            .into_bytes(),
        3 => json!({ "sessionId": random_segment(rng, known) })
            .to_string()
            .into_bytes(),
        4 => json!({
            "data": { "input_id": random_segment(rng, known), "event_type": "live_input.connected",
                      "updated_at": random_text(rng, 30) } })
        .to_string()
        .into_bytes(),
        _ => random_text(rng, 200).into_bytes(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_requests_against_every_route_never_get_a_5xx() {
    let server = start(&[]).await;
    let http = reqwest::Client::new();
    // A few real rooms, so random requests also hit existing ones.
    let mut known = Vec::new();
    for i in 0..2 {
        let r: Value = http
            .post(format!("{}/api/create", server.url()))
            .bearer_auth(OPERATOR_KEY)
            .json(&json!({ "title": format!("fuzz {i}"), "host": Keypair::new().pubkey().to_string() }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        known.push(r["SessionID"].as_str().unwrap().to_string());
        known.push(r["room"].as_str().unwrap().to_string());
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let (mut tried, mut server_errors) = (0, Vec::new());
    // Every route in turn, 16 times each, with random methods, segments, headers and bodies.
    let routes = routes();
    for i in 0..routes.len() * 16 {
        let route = &routes[i % routes.len()];
        let mut path = route.replace("{room}", &random_segment(&mut rng, &known));
        if rng.gen_bool(0.4) {
            path.push_str(&format!(
                "?sessionId={}&room={}&host={}&status={}&limit={}&cursor={}",
                random_segment(&mut rng, &known),
                random_segment(&mut rng, &known),
                random_segment(&mut rng, &known),
                urlencode(&random_text(&mut rng, 8)),
                urlencode(&random_text(&mut rng, 4)),
                urlencode(&random_text(&mut rng, 12)),
            ));
        }
        let method = METHODS[rng.gen_range(0..METHODS.len())];
        let mut request = http.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", server.url()),
        );
        for (name, value) in [
            ("authorization", format!("Bearer {OPERATOR_KEY}")),
            (
                "authorization",
                format!("Bearer {}", random_text(&mut rng, 20)),
            ),
            ("x-roomcast-wallet", random_segment(&mut rng, &known)),
            ("x-roomcast-timestamp", rng.gen::<i64>().to_string()),
            ("x-roomcast-signature", random_text(&mut rng, 90)),
            ("idempotency-key", random_text(&mut rng, 300)),
            ("cf-webhook-auth", WEBHOOK_SECRET.to_string()),
            ("content-type", "application/json".to_string()),
            ("x-forwarded-for", random_text(&mut rng, 30)),
        ] {
            if rng.gen_bool(0.3) {
                if let Ok(value) = reqwest::header::HeaderValue::from_str(&value) {
                    request = request.header(name, value);
                }
            }
        }
        let response = request
            .body(random_body(&mut rng, &known))
            .send()
            .await
            .unwrap();
        tried += 1;
        let status = response.status();
        // A room's event stream stays open: its answer is the status and headers.
        let streaming = response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        let text = if streaming {
            drop(response);
            String::new()
        } else {
            response.text().await.unwrap_or_default()
        };
        if status.is_server_error() {
            server_errors.push(format!("{method} {path}: {status} {text}"));
        } else if status.is_client_error() && method != "HEAD" {
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            assert!(
                body["error"]["code"].is_string(),
                "{method} {path}: {status} without the error shape: {text}"
            );
        }
    }
    eprintln!("FIGURES fuzz: requests={tried} 5xx={}", server_errors.len());
    assert_eq!(server_errors, Vec::<String>::new());
    // Still serving.
    let health = http
        .get(format!("{}/healthz", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    server.shutdown().await.unwrap();
}

/// One step of the campaign: what fails, and when.
#[derive(Debug, Clone, Copy)]
enum Failure {
    CloudflareBefore,
    CloudflareAppliedThenLost,
    CloudflareSlow,
    ChainLost,
    ChainSlow,
    None,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_fault_campaign_ends_with_one_room_per_key_and_no_orphans() {
    let server = start(&["--request-timeout-secs", "1", "--orphan-grace-secs", "0"]).await;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let node = server.upstreams.node.as_ref().unwrap();
    let http = reqwest::Client::new();
    let failures = [
        Failure::CloudflareBefore,
        Failure::CloudflareAppliedThenLost,
        Failure::CloudflareSlow,
        Failure::ChainLost,
        Failure::ChainSlow,
        Failure::None,
    ];
    let (mut tried, mut five_xx) = (0, 0);
    let mut keys = Vec::new();
    let mut answers: Vec<(Failure, Vec<u16>)> = Vec::new();
    // What is still to fire of each kind of fault: (Cloudflare's creates, the node's sends).
    let pending = || {
        (
            emulator.pending_faults(Route::CreateLiveInput),
            node.pending_send_faults(),
        )
    };
    for round in 0..2 {
        for failure in failures {
            match failure {
                Failure::CloudflareBefore => emulator
                    .inject_fault(
                        Route::CreateLiveInput,
                        Fault::ServerError { status: 500 },
                        1,
                    )
                    .unwrap(),
                Failure::CloudflareAppliedThenLost => emulator
                    .inject_fault(Route::CreateLiveInput, Fault::AppliedThenDrop, 1)
                    .unwrap(),
                Failure::CloudflareSlow => emulator
                    .inject_fault(
                        Route::CreateLiveInput,
                        Fault::AppliedThenLatency { ms: 1500 },
                        1,
                    )
                    .unwrap(),
                Failure::ChainLost => node.inject_send_fault(SendFault::Lost, 1),
                Failure::ChainSlow => {
                    node.inject_send_fault(SendFault::Late(Duration::from_millis(1500)), 1)
                }
                Failure::None => {}
            }
            let injected = pending();
            assert_eq!(
                injected,
                match failure {
                    Failure::CloudflareBefore
                    | Failure::CloudflareAppliedThenLost
                    | Failure::CloudflareSlow => (1, 0),
                    Failure::ChainLost | Failure::ChainSlow => (0, 1),
                    Failure::None => (0, 0),
                }
            );
            let mut statuses = Vec::new();
            let key = format!("campaign-{round}-{failure:?}");
            let body = json!({ "title": key, "host": Keypair::new().pubkey().to_string() });
            // Retry with the same key until the create answers 201 (a client's loop).
            let mut created = false;
            for _ in 0..60 {
                let response = http
                    .post(format!("{}/api/create", server.url()))
                    .bearer_auth(OPERATOR_KEY)
                    .header("idempotency-key", &key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                tried += 1;
                let status = response.status();
                statuses.push(status.as_u16());
                if status.is_server_error() {
                    five_xx += 1;
                    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{key}");
                }
                if status == StatusCode::CREATED {
                    created = true;
                    break;
                }
                assert!(
                    matches!(status.as_u16(), 409 | 502 | 503),
                    "{key}: unexpected {status}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(created, "{key} never succeeded");
            // The premise: the fault fired (no create got through without meeting it).
            assert_eq!(pending(), (0, 0), "{key}: its fault never fired");
            answers.push((failure, statuses));
            keys.push(key);
        }
    }
    // One reconciler pass past the grace period.
    let report: Value = http
        .post(format!("{}/api/admin/reconcile", server.url()))
        .bearer_auth(OPERATOR_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["errors"], json!([]), "{report}");

    let rooms = server
        .state
        .chain
        .rooms(&RoomFilter {
            registry: Some(server.state.registry),
            ..Default::default()
        })
        .await
        .unwrap();
    let inputs = emulator.live_inputs();
    let mut room_sids: Vec<&str> = rooms.iter().map(|r| r.room.session_id.as_str()).collect();
    let mut input_uids: Vec<&str> = inputs.iter().map(|i| i.uid.as_str()).collect();
    room_sids.sort();
    input_uids.sort();
    let orphans = room_sids.iter().filter(|s| !input_uids.contains(s)).count()
        + input_uids.iter().filter(|u| !room_sids.contains(u)).count();
    let duplicates = keys
        .iter()
        .map(|k| rooms.iter().filter(|r| &r.room.title == k).count())
        .filter(|n| *n != 1)
        .count();
    // Every fault but a lost `sendTransaction` answer (which the create looks up and answers
    // 201) costs its key exactly one 503: its first answer; the retries then meet 409 (in
    // progress, as many as the timing makes) until the 201.
    let mut expected_5xx = 0;
    for (failure, statuses) in &answers {
        let one_503 = !matches!(failure, Failure::ChainLost | Failure::None);
        let server_errors: Vec<u16> = statuses.iter().copied().filter(|s| *s >= 500).collect();
        assert_eq!(
            server_errors,
            if one_503 { vec![503] } else { vec![] },
            "{failure:?}: {statuses:?}"
        );
        assert_eq!(statuses[0] == 503, one_503, "{failure:?}: {statuses:?}");
        expected_5xx += server_errors.len();
    }
    eprintln!(
        "FIGURES campaign: creates={} requests={tried} 5xx={five_xx} deleted_strays={} orphans={orphans} keys_without_exactly_one_room={duplicates}",
        keys.len(),
        report["deleted"].as_array().map(Vec::len).unwrap_or(0),
    );
    assert_eq!(five_xx, expected_5xx);
    assert_eq!(five_xx, 8, "{answers:?}");
    assert_eq!(orphans, 0, "rooms {room_sids:?} inputs {input_uids:?}");
    assert_eq!(duplicates, 0);
    assert_eq!(rooms.len(), keys.len());
    server.shutdown().await.unwrap();
}
