//! Upstream failures through the built binary, each with its own server (and, where needed, a
//! separate `roomcast localnet` / `roomcast stream-emulator` process), with the chain and the
//! emulator inspected afterwards: a create is all-or-nothing.
mod support;

use roomcast_chain::{Keypair, RoomStatus, Signer};
use serde_json::json;
use support::*;

fn create_body(title: &str, host: &Keypair) -> serde_json::Value {
    json!({"title": title, "host": host.pubkey().to_string()})
}

#[tokio::test]
async fn cloudflare_failing_at_create_leaves_nothing_on_chain() {
    let s = Server::start(&[]);
    let api = s.api();
    let emu = s.emulator();
    let host = wallet();

    // (fault, status, code, message) for the live-input create.
    let cases = [
        (
            json!({"kind": "server_error", "status": 500}),
            503,
            "cloudflare_unavailable",
            "Cloudflare Stream is unavailable; try again",
        ),
        (
            json!({"kind": "rate_limited", "retry_after_secs": 0}),
            503,
            "cloudflare_unavailable",
            "Cloudflare Stream is unavailable; try again",
        ),
        (
            json!({"kind": "status", "status": 400}),
            502,
            "cloudflare_error",
            "Cloudflare Stream refused the request (HTTP 400)",
        ),
        (
            json!({"kind": "status", "status": 403}),
            502,
            "cloudflare_error",
            "Cloudflare Stream refused the request (HTTP 403)",
        ),
    ];
    for (fault, status, code, message) in cases {
        emu.reset_calls().await;
        emu.fault("live_inputs.create", fault.clone(), 1).await;
        let r = api
            .call(
                "POST",
                "/api/create",
                Some(&create_body("Doomed", &host)),
                Auth::Operator,
            )
            .await;
        r.assert_error_message(status, code, message);
        assert_eq!(
            s.rooms(None).await.len(),
            0,
            "nothing on-chain after {fault}"
        );
        assert_eq!(emu.inputs().await.len(), 0, "no live input after {fault}");
        let calls = emu.calls().await;
        assert_eq!(
            calls["live_inputs.create"], 1,
            "a create is never re-sent once it reached Cloudflare ({fault}): {calls}"
        );
        assert!(calls.get("live_inputs.delete").is_none(), "{calls}");
    }

    // A garbled answer: nothing was registered on-chain either.
    emu.fault("live_inputs.create", json!({"kind": "malformed"}), 1)
        .await;
    let r = api
        .call(
            "POST",
            "/api/create",
            Some(&create_body("Garbled", &host)),
            Auth::Operator,
        )
        .await;
    r.assert_error_message(
        502,
        "cloudflare_error",
        "Cloudflare Stream sent an answer roomcast could not read (HTTP 200)",
    );
    assert_eq!(s.rooms(None).await.len(), 0);

    // Cloudflare is back: the same request now creates exactly one room and one input.
    let ok = api
        .call(
            "POST",
            "/api/create",
            Some(&create_body("Recovered", &host)),
            Auth::Operator,
        )
        .await;
    ok.assert_status(201);
    let rooms = s.rooms(None).await;
    assert_eq!(rooms.len(), 1);
    assert_eq!(rooms[0].room.session_id, ok.str("sessionId"));
    assert_eq!(emu.inputs().await.len(), 1);
    let uid = ok.str("sessionId");
    let room = s.room_address(&uid);

    // Cloudflare down while rotating: 503, and the old key still works.
    let key = ok.str("StreamKey");
    emu.fault(
        "live_inputs.rotate_keys",
        json!({"kind": "server_error", "status": 503}),
        10,
    )
    .await;
    api.call(
        "POST",
        &format!("/api/rooms/{room}/rotate-key"),
        None,
        Auth::Operator,
    )
    .await
    .assert_error(503, "cloudflare_unavailable");
    assert_eq!(
        emu.input(&uid).await.unwrap()["rtmps"]["streamKey"],
        key.as_str()
    );

    // Cloudflare down while ending: the chain (source of truth) says ended; the answer says the
    // live input could not be disabled (left to the reconciler).
    emu.fault(
        "live_inputs.update",
        json!({"kind": "server_error", "status": 500}),
        10,
    )
    .await;
    let ended = api
        .call(
            "POST",
            &format!("/api/rooms/{room}/end"),
            None,
            Auth::Operator,
        )
        .await;
    ended.assert_status(200);
    assert_eq!(ended.json["liveInputDisabled"], false);
    assert_eq!(
        s.chain_reader().room(&room).await.unwrap().unwrap().status,
        RoomStatus::Ended
    );
    assert_eq!(emu.input(&uid).await.unwrap()["enabled"], true);
}

#[tokio::test]
async fn cloudflare_process_down_at_create_leaves_nothing_on_chain() {
    let mut emulator = EmulatorProc::start();
    let env = emulator.server_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let s = Server::start(&env);
    let api = s.api();
    let host = wallet();
    let control = emulator.control();

    // Wired to the separate emulator: a create works and lands there.
    let first = api
        .call(
            "POST",
            "/api/create",
            Some(&create_body("Before the outage", &host)),
            Auth::Operator,
        )
        .await;
    first.assert_status(201);
    assert_eq!(
        control.input(&first.str("sessionId")).await.unwrap()["meta"]["host"],
        host.pubkey().to_string()
    );
    assert_eq!(
        first.json["playback"]["hls"],
        format!(
            "{}/{}/manifest/video.m3u8",
            emulator.delivery_url,
            first.str("sessionId")
        )
    );
    let info = api.get("/api/info").await;
    assert_eq!(
        info.json["embedded"],
        json!({"chain": true, "cloudflare": false})
    );
    assert_eq!(info.json["cloudflareCustomerCode"], "roomcastemulator");

    emulator.proc.kill();
    let r = api
        .call(
            "POST",
            "/api/create",
            Some(&create_body("During the outage", &host)),
            Auth::Operator,
        )
        .await;
    r.assert_error_message(
        503,
        "cloudflare_unavailable",
        "Cloudflare Stream is unavailable; try again",
    );
    let rooms = s.rooms(None).await;
    assert_eq!(rooms.len(), 1, "only the room from before the outage");
    assert_eq!(rooms[0].room.title, "Before the outage");
    let ready = api.get("/readyz").await;
    assert_eq!(ready.status, 503);
    assert_eq!(
        ready.json["checks"],
        json!({"solanaRpc": true, "cloudflare": false})
    );
}

/// A separate local node with a registry whose registrar has no lamports: `create_room` fails
/// after the live input exists.
#[tokio::test]
async fn chain_failing_after_the_live_input_exists_deletes_it() {
    let node = Localnet::start();
    let registrar = Keypair::new();
    let registrar_file = node.proc.dir.join("registrar.json");
    write_keypair(&registrar_file, &registrar);
    let registry = node.init_registry(&registrar.pubkey());
    let s = Server::start(&[
        ("SOLANA_RPC_URL", &node.rpc_url),
        (
            "ROOMCAST_REGISTRAR_KEYPAIR",
            registrar_file.to_str().unwrap(),
        ),
        ("ROOMCAST_REGISTRY", &registry.to_string()),
        // No balance floor, so the create reaches the chain and fails there (with the default
        // floor it is refused up front as registrar_underfunded; see app/api/tests/hardening.rs).
        ("ROOMCAST_REGISTRAR_MIN_LAMPORTS", "0"),
    ]);
    assert_eq!(
        (s.registry, s.registrar, s.chain_kind.as_str()),
        (registry, registrar.pubkey(), "cluster")
    );
    assert_eq!(s.rpc_url, node.rpc_url);
    let api = s.api();
    let emu = s.emulator();
    let host = wallet();

    let r = api
        .call(
            "POST",
            "/api/create",
            Some(&create_body("Unpaid", &host)),
            Auth::Operator,
        )
        .await;
    r.assert_error(502, "chain_error");
    assert_eq!(s.rooms(None).await.len(), 0, "nothing on-chain");
    assert_eq!(
        emu.inputs().await,
        Vec::<serde_json::Value>::new(),
        "the live input was deleted again"
    );
    let calls = emu.calls().await;
    assert_eq!(
        (
            calls["live_inputs.create"].as_u64(),
            calls["live_inputs.delete"].as_u64()
        ),
        (Some(1), Some(1)),
        "{calls}"
    );

    // Once the registrar can pay, the same request works.
    airdrop(&node.rpc_url, &registrar.pubkey(), 1_000_000_000).await;
    let ok = api
        .call(
            "POST",
            "/api/create",
            Some(&create_body("Paid", &host)),
            Auth::Operator,
        )
        .await;
    ok.assert_status(201);
    assert_eq!(s.rooms(None).await.len(), 1);
    assert_eq!(emu.inputs().await.len(), 1);
}

/// The local node dies between the live input's creation and the room's registration.
#[tokio::test]
async fn chain_down_after_the_live_input_exists_deletes_it() {
    let mut node = Localnet::start();
    // The faucet administers the registry and is its (funded) registrar.
    let registry = node.init_registry(&node.faucet.pubkey());
    let s = Server::start(&[
        ("SOLANA_RPC_URL", &node.rpc_url),
        (
            "ROOMCAST_REGISTRAR_KEYPAIR",
            node.faucet_path.to_str().unwrap(),
        ),
    ]);
    assert_eq!(
        s.registry, registry,
        "the default registry is the registrar's"
    );
    let api = s.api();
    let emu = s.emulator();
    let host = wallet();

    let first = api
        .call(
            "POST",
            "/api/create",
            Some(&create_body("Survivor", &host)),
            Auth::Operator,
        )
        .await;
    first.assert_status(201);
    let uid = first.str("sessionId");
    assert_eq!(s.rooms(None).await.len(), 1);

    node.proc.kill();
    emu.reset_calls().await;
    let r = api
        .call(
            "POST",
            "/api/create",
            Some(&create_body("Orphan?", &host)),
            Auth::Operator,
        )
        .await;
    r.assert_error_message(
        503,
        "chain_unavailable",
        "the Solana RPC node is unavailable; try again",
    );
    let inputs = emu.inputs().await;
    assert_eq!(
        inputs.len(),
        1,
        "only the first room's input is left: {inputs:?}"
    );
    assert_eq!(inputs[0]["uid"], uid.as_str());
    let calls = emu.calls().await;
    assert_eq!(
        (
            calls["live_inputs.create"].as_u64(),
            calls["live_inputs.delete"].as_u64()
        ),
        (Some(1), Some(1)),
        "{calls}"
    );

    // Viewers get a clean 503 once the cached room expires; readiness says why.
    let r = eventually("viewers to see the chain outage", || async {
        let r = api.get(&format!("/api/livestream?sessionId={uid}")).await;
        (r.status != 200).then_some(r)
    })
    .await;
    r.assert_error(503, "chain_unavailable");
    let ready = api.get("/readyz").await;
    assert_eq!(ready.status, 503);
    assert_eq!(
        ready.json["checks"],
        json!({"solanaRpc": false, "cloudflare": true})
    );
}

/// Issue 9's create campaign, last part: `kill -9` of `serve` in the middle of a burst of keyed
/// creates (separate node and emulator processes survive it), a restart, every key retried until
/// 201, then one reconciler pass past the grace period: no orphan on either side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_burst_of_creates_then_restart_leaves_no_orphans() {
    let node = Localnet::start();
    let registry = node.init_registry(&node.faucet.pubkey());
    let emulator = EmulatorProc::start();
    let mut env: Vec<(&str, String)> = emulator.server_env();
    env.push(("SOLANA_RPC_URL", node.rpc_url.clone()));
    env.push((
        "ROOMCAST_REGISTRAR_KEYPAIR",
        node.faucet_path.to_str().unwrap().to_string(),
    ));
    env.push(("ROOMCAST_ORPHAN_GRACE_SECS", "0".to_string()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut first = Server::start(&env);
    assert_eq!(first.registry, registry);
    let http = reqwest::Client::new();
    let keys: Vec<String> = (0..16).map(|i| format!("burst-{i}")).collect();
    let body = |key: &str| json!({ "title": key, "host": Keypair::new().pubkey().to_string() });
    let bodies: Vec<serde_json::Value> = keys.iter().map(|k| body(k)).collect();

    let send = |base: String, key: String, body: serde_json::Value| {
        let http = http.clone();
        async move {
            http.post(format!("{base}/api/create"))
                .bearer_auth(OPERATOR_KEY)
                .header("idempotency-key", key)
                .json(&body)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    };
    let burst: Vec<_> = keys
        .iter()
        .zip(&bodies)
        .map(|(k, b)| tokio::spawn(send(first.base.clone(), k.clone(), b.clone())))
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    first.proc.kill(); // SIGKILL: no graceful shutdown, creates cut wherever they were
    let mut answered_before_kill = 0;
    for task in burst {
        if matches!(task.await.unwrap(), Ok(201)) {
            answered_before_kill += 1;
        }
    }

    let second = Server::start(&env);
    let mut tried = keys.len();
    for (key, body) in keys.iter().zip(&bodies) {
        let mut ok = false;
        for _ in 0..40 {
            tried += 1;
            match send(second.base.clone(), key.clone(), body.clone()).await {
                Ok(201) => {
                    ok = true;
                    break;
                }
                Ok(status) => assert!(matches!(status, 409 | 429 | 502 | 503), "{key}: {status}"),
                Err(e) => panic!("{key}: {e}"),
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(ok, "{key} never succeeded after the restart");
    }
    let report = second
        .api()
        .call("POST", "/api/admin/reconcile", None, Auth::Operator)
        .await;
    report.assert_status(200);

    let rooms = second.rooms(None).await;
    let inputs = emulator.control().inputs().await;
    let room_sids: Vec<String> = rooms.iter().map(|r| r.room.session_id.clone()).collect();
    let input_uids: Vec<String> = inputs
        .iter()
        .map(|i| i["uid"].as_str().unwrap().to_string())
        .collect();
    let orphans = room_sids.iter().filter(|s| !input_uids.contains(s)).count()
        + input_uids.iter().filter(|u| !room_sids.contains(u)).count();
    let extra_rooms: usize = keys
        .iter()
        .map(|k| {
            rooms
                .iter()
                .filter(|r| &r.room.title == k)
                .count()
                .saturating_sub(1)
        })
        .sum();
    eprintln!(
        "FIGURES kill-9: creates={} requests={tried} answered_before_kill={answered_before_kill} strays_deleted={} orphans={orphans} extra_rooms_after_restart={extra_rooms}",
        keys.len(),
        report.json["deleted"].as_array().map(Vec::len).unwrap_or(0),
    );
    assert_eq!(orphans, 0, "rooms {room_sids:?} inputs {input_uids:?}");
    for key in &keys {
        assert!(
            rooms.iter().any(|r| &r.room.title == key),
            "{key} has its room"
        );
    }
    // Not asserted: the in-memory idempotency store does not survive the kill, so a key whose
    // first create had finished gets a second room when retried after the restart (the figure is
    // printed above; a shared store, issue 13, removes it).
}
