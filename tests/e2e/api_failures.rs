//! Upstream failures through the built binary, each with its own server (and, where needed, a
//! separate `roomcast localnet` / `roomcast stream-emulator` process), with the chain and the
//! emulator inspected afterwards: a create is all-or-nothing.
use crate::support;

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
        // floor it is refused up front as registrar_underfunded; see tests/e2e/api/hardening.rs).
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
    let mut server = Server::start(&env);
    assert_eq!(server.registry, registry);
    let http = reqwest::Client::new();
    let body = |key: &str| json!({ "title": key, "host": Keypair::new().pubkey().to_string() });

    let send = |base: String, key: String, body: serde_json::Value| {
        let http = http.clone();
        async move {
            keyed_create(&http, &base, &key, &body)
                .await
                .map(|(status, _)| status)
        }
    };
    // A create is under way once its live input is at Cloudflare.
    let control = emulator.control();
    let burst = burst_until_a_create_is_cut(
        &mut server,
        &env,
        &http,
        &body,
        (40, 0),
        async |round_keys| {
            control
                .inputs()
                .await
                .iter()
                .filter_map(|i| i["meta"]["name"].as_str().map(str::to_string))
                .filter(|name| round_keys.contains(name))
                .collect()
        },
    )
    .await;
    let (keys, bodies, cut) = (burst.keys, burst.bodies, burst.cut);
    let answered_before_kill = burst.answered.len();

    let second = server;
    let (mut tried, mut server_errors) = (keys.len(), 0);
    for (key, body) in keys.iter().zip(&bodies) {
        let mut ok = false;
        for _ in 0..40 {
            tried += 1;
            match send(second.base.clone(), key.clone(), body.clone()).await {
                Ok(201) => {
                    ok = true;
                    break;
                }
                Ok(status) => {
                    assert!(matches!(status, 409 | 429 | 502 | 503), "{key}: {status}");
                    server_errors += usize::from(status >= 500);
                }
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
        "FIGURES kill-9: creates={} requests={tried} answered_before_kill={answered_before_kill} cut_mid_flight={cut} 5xx={server_errors} strays_deleted={} orphans={orphans} extra_rooms_after_restart={extra_rooms}",
        keys.len(),
        report.json["deleted"].as_array().map(Vec::len).unwrap_or(0),
    );
    assert_eq!(orphans, 0, "rooms {room_sids:?} inputs {input_uids:?}");
    assert_eq!(
        server_errors, 0,
        "README: no 5xx while retrying after the restart"
    );
    for key in &keys {
        assert!(
            rooms.iter().any(|r| &r.room.title == key),
            "{key} has its room"
        );
    }
    // Not asserted: the in-memory idempotency store does not survive the kill, so a key whose
    // first create had finished gets a second room when retried after the restart (the figure is
    // printed above). With ROOMCAST_REDIS_URL the keys outlive the process and the retry resumes
    // the dead create: see `kill_9_with_redis_gives_exactly_one_room_per_key_and_the_same_answer`.
}

/// What the kill -9 bursts left: every round's keys and bodies, the 201 answers given before
/// each kill, and how many creates the last round cut mid-flight.
struct Burst {
    keys: Vec<String>,
    bodies: Vec<serde_json::Value>,
    answered: std::collections::HashMap<String, serde_json::Value>,
    cut: usize,
}

/// Rounds of 16 keyed creates (the i-th sent `spacing_ms * i` in), each cut by `kill -9` of
/// `server` `kill_after_ms` in and `server` started again with `env`, until a round cut a create
/// mid-flight (asserted: at most 6 rounds). `under_way` names, of a round's keys, those whose
/// create had begun by the kill; one not answered was cut. None under way: the kill came too
/// early and the next comes later; all answered: it came too late and the next comes sooner.
async fn burst_until_a_create_is_cut(
    server: &mut Server,
    env: &[(&str, &str)],
    http: &reqwest::Client,
    body: &impl Fn(&str) -> serde_json::Value,
    (mut kill_after_ms, spacing_ms): (u64, u64),
    mut under_way: impl AsyncFnMut(&[String]) -> Vec<String>,
) -> Burst {
    let mut burst = Burst {
        keys: Vec::new(),
        bodies: Vec::new(),
        answered: std::collections::HashMap::new(),
        cut: 0,
    };
    for round in 0..6 {
        let round_keys: Vec<String> = (0..16).map(|i| format!("burst-{round}-{i}")).collect();
        let round_bodies: Vec<serde_json::Value> = round_keys.iter().map(|k| body(k)).collect();
        let tasks: Vec<_> = round_keys
            .iter()
            .zip(&round_bodies)
            .enumerate()
            .map(|(i, (key, body))| {
                let (http, base, key, body) =
                    (http.clone(), server.base.clone(), key.clone(), body.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(spacing_ms * i as u64))
                        .await;
                    keyed_create(&http, &base, &key, &body).await
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(kill_after_ms)).await;
        server.proc.kill(); // SIGKILL: no graceful shutdown, creates cut wherever they were
        let mut answered = std::collections::HashMap::new();
        for (key, task) in round_keys.iter().zip(tasks) {
            if let Ok((201, answer)) = task.await.unwrap() {
                answered.insert(key.clone(), answer);
            }
        }
        let started = under_way(&round_keys).await;
        let round_cut = started
            .iter()
            .filter(|k| !answered.contains_key(*k))
            .count();
        let too_early = started.is_empty();
        burst.cut += round_cut;
        burst.keys.extend(round_keys);
        burst.bodies.extend(round_bodies);
        let round_answered = answered.len();
        burst.answered.extend(answered);
        *server = Server::start(env);
        if round_cut > 0 {
            return burst;
        }
        kill_after_ms = if too_early {
            kill_after_ms * 2
        } else {
            (kill_after_ms / 2).max(5)
        };
        eprintln!("kill -9 round {round}: {round_answered} answered, none cut (too early: {too_early}); again with the kill at {kill_after_ms} ms");
    }
    panic!("no kill -9 round cut a create mid-flight");
}

/// What one keyed create answered: (status, body).
async fn keyed_create(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    body: &serde_json::Value,
) -> Result<(u16, serde_json::Value), reqwest::Error> {
    let r = http
        .post(format!("{base}/api/create"))
        .bearer_auth(OPERATOR_KEY)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await?;
    let status = r.status().as_u16();
    Ok((status, r.json().await.unwrap_or(serde_json::Value::Null)))
}

/// Retries `key` against `base` until 201 (409 while a dead holder's lease lives, at most
/// `idempotency::LEASE` = 10 s); returns the answer and the (tries, 5xx) it took.
async fn retry_until_created(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    body: &serde_json::Value,
) -> (serde_json::Value, usize, usize) {
    let (mut tries, mut server_errors) = (0, 0);
    for _ in 0..300 {
        tries += 1;
        let (status, answer) = keyed_create(http, base, key, body)
            .await
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        match status {
            201 => return (answer, tries, server_errors),
            409 => assert_eq!(
                answer["error"]["code"], "idempotency_key_in_progress",
                "{key}: {answer}"
            ),
            429 | 502 | 503 => server_errors += usize::from(status >= 500),
            other => panic!("{key}: {other} {answer}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{key} never succeeded after the restart");
}

/// The idempotency entry of an operator `key` in Redis (empty when absent).
fn idem_entry(redis: &RedisProc, registry: &roomcast_chain::Pubkey, key: &str) -> String {
    redis.cli(&[
        "GET",
        &format!("roomcast:{{{registry}}}:idem:operator:{key}"),
    ])
}

/// Issue 9's last guarantee, with the idempotency store in Redis (which outlives `serve`):
/// `kill -9` of `serve` at each step of a keyed create — (a) the live input exists and is written
/// down, `create_room` not sent (node frozen); (b) `create_room` landed, its answer not back and
/// nothing stored (node answers late) — then a burst of creates cut by `kill -9`. After every
/// restart, retries with the same keys resume the dead creates (same room, same stream key) and
/// one reconciler pass leaves no orphan on either side: exactly one room per key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_redis_gives_exactly_one_room_per_key_and_the_same_answer() {
    let redis = RedisProc::start();
    let node = Localnet::start_with(&["--fault-injection"]);
    let registry = node.init_registry(&node.faucet.pubkey());
    let emulator = EmulatorProc::start();
    let control = emulator.control();
    let mut env: Vec<(&str, String)> = emulator.server_env();
    env.extend([
        ("SOLANA_RPC_URL", node.rpc_url.clone()),
        (
            "ROOMCAST_REGISTRAR_KEYPAIR",
            node.faucet_path.to_str().unwrap().to_string(),
        ),
        ("ROOMCAST_REDIS_URL", redis.url()),
        ("ROOMCAST_ORPHAN_GRACE_SECS", "0".to_string()),
        // No balance read before a create: with the node frozen, the create reaches Cloudflare.
        ("ROOMCAST_REGISTRAR_MIN_LAMPORTS", "0".to_string()),
    ]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let http = reqwest::Client::new();
    let body = |title: &str| json!({ "title": title, "host": Keypair::new().pubkey().to_string() });
    let stream_key_of = |uid: String| {
        let control = control.clone();
        async move { control.input(&uid).await.unwrap()["rtmps"]["streamKey"].clone() }
    };

    // One serve, killed with two creates stopped at the two interesting steps:
    // (b) create_room landed, its answer not back and nothing stored (the node answers late) ...
    let mut server = Server::start(&env);
    assert_eq!(server.registry, registry);
    let b_body = body("crash-b");
    node.inject_send_fault(json!({"kind": "late", "ms": 30_000}), 1)
        .await;
    let pending_b = tokio::spawn({
        let (http, base, b_body) = (http.clone(), server.base.clone(), b_body.clone());
        async move { keyed_create(&http, &base, "crash-b", &b_body).await }
    });
    let landed = eventually("create_room to land", || async {
        let rooms = server.rooms(None).await;
        rooms.into_iter().find(|r| r.room.title == "crash-b")
    })
    .await;
    // (a) ... and the live input made and written down, create_room not sent (node frozen).
    let a_body = body("crash-a");
    node.freeze(true);
    let pending_a = tokio::spawn({
        let (http, base, a_body) = (http.clone(), server.base.clone(), a_body.clone());
        async move { keyed_create(&http, &base, "crash-a", &a_body).await }
    });
    let entry = eventually("the live input to be written down", || async {
        let entry = idem_entry(&redis, &registry, "crash-a");
        entry.contains("\"input\"").then_some(entry)
    })
    .await;
    server.proc.kill();
    node.freeze(false);
    assert!(
        pending_a.await.unwrap().is_err(),
        "the connection died with serve"
    );
    assert!(
        pending_b.await.unwrap().is_err(),
        "no answer reached the client"
    );

    let progress: serde_json::Value = serde_json::from_str(&entry).unwrap();
    let a_uid = progress["progress"]["input"].as_str().unwrap().to_string();
    assert!(progress["progress"].get("sent").is_none(), "{entry}");
    assert!(control.input(&a_uid).await.is_some(), "the input survived");
    let entry = idem_entry(&redis, &registry, "crash-b");
    let progress: serde_json::Value = serde_json::from_str(&entry).unwrap();
    assert_eq!(
        progress["progress"]["input"],
        landed.room.session_id.as_str()
    );
    assert!(
        progress.get("sealed").is_none(),
        "no answer stored: {entry}"
    );
    let b_signature = progress["progress"]["sent"]["signature"].clone();
    let rooms = server.rooms(None).await;
    assert_eq!(rooms.len(), 1, "only crash-b's room landed");

    // After the restart, each retry gets 409 while the dead lease lives, then finishes the create.
    let server = Server::start(&env);
    let (a, _, _) = retry_until_created(&http, &server.base, "crash-a", &a_body).await;
    assert_eq!(
        a["SessionID"],
        a_uid.as_str(),
        "the dead create's input got its room"
    );
    assert_eq!(a["StreamKey"], stream_key_of(a_uid.clone()).await);
    assert!(a["signature"].is_string(), "{a}");
    let (b, _, _) = retry_until_created(&http, &server.base, "crash-b", &b_body).await;
    assert_eq!(b["SessionID"], landed.room.session_id.as_str());
    assert_eq!(b["room"], landed.address.to_string());
    assert_eq!(
        b["StreamKey"],
        stream_key_of(landed.room.session_id.clone()).await
    );
    assert_eq!(
        b["signature"], b_signature,
        "the signature of the transaction that landed"
    );
    // The stored answer replays byte for byte.
    let (status, again) = keyed_create(&http, &server.base, "crash-b", &b_body)
        .await
        .unwrap();
    assert_eq!((status, &again), (201, &b));

    // A holder presumed dead (its lease gone) while it still runs is fenced off: the key's next
    // holder makes the room, the stale one's write-ahead record is refused, so it stops before
    // create_room (409) and its live input is an orphan for the reconciler.
    let f_body = body("fenced");
    control
        .fault(
            "live_inputs.create",
            json!({"kind": "latency", "ms": 3000}),
            1,
        )
        .await;
    let stale = tokio::spawn({
        let (http, base, f_body) = (http.clone(), server.base.clone(), f_body.clone());
        async move { keyed_create(&http, &base, "fenced", &f_body).await }
    });
    let lease_key = format!("roomcast:{{{registry}}}:idem-lease:operator:fenced");
    eventually("the first holder's lease", || async {
        (redis.cli(&["EXISTS", &lease_key]) == "1").then_some(())
    })
    .await;
    assert_eq!(redis.cli(&["DEL", &lease_key]), "1", "as if it had expired");
    let (f, _, _) = retry_until_created(&http, &server.base, "fenced", &f_body).await;
    let (status, refused) = stale.await.unwrap().unwrap();
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "idempotency_key_in_progress");
    let (status, again) = keyed_create(&http, &server.base, "fenced", &f_body)
        .await
        .unwrap();
    assert_eq!(
        (status, &again),
        (201, &f),
        "the successor's answer is the key's"
    );
    let f_rooms: Vec<_> = server
        .rooms(None)
        .await
        .into_iter()
        .filter(|r| r.room.title == "fenced")
        .collect();
    assert_eq!(f_rooms.len(), 1);
    assert_eq!(f["SessionID"], f_rooms[0].room.session_id.as_str());

    // (c) A burst of keyed creates, cut by kill -9 wherever each one is. The premise is asserted:
    // at least one create was cut mid-flight (claimed by the server, not answered); every
    // round's keys are checked below.
    let mut written_down = 0;
    let mut server = server;
    let burst = burst_until_a_create_is_cut(
        &mut server,
        &env,
        &http,
        &body,
        (140, 12),
        // A create is under way once the server claimed its key.
        async |round_keys| {
            written_down += round_keys
                .iter()
                .filter(|k| idem_entry(&redis, &registry, k).contains("\"progress\""))
                .count();
            round_keys
                .iter()
                .filter(|k| !idem_entry(&redis, &registry, k).is_empty())
                .cloned()
                .collect()
        },
    )
    .await;
    let (keys, bodies, cut, before_kill) = (burst.keys, burst.bodies, burst.cut, burst.answered);

    let mut answers = std::collections::HashMap::new();
    let (mut tried, mut server_errors) = (keys.len(), 0);
    for (key, body) in keys.iter().zip(&bodies) {
        let (answer, tries, errors) = retry_until_created(&http, &server.base, key, body).await;
        tried += tries;
        server_errors += errors;
        if let Some(first) = before_kill.get(key) {
            assert_eq!(&answer, first, "{key}: the retry replays the first answer");
        }
        answers.insert(key.clone(), answer);
    }
    let report = server
        .api()
        .call("POST", "/api/admin/reconcile", None, Auth::Operator)
        .await;
    report.assert_status(200);

    // Both sides, after one reconciler pass.
    let rooms = server.rooms(None).await;
    let inputs = control.inputs().await;
    let room_sids: Vec<String> = rooms.iter().map(|r| r.room.session_id.clone()).collect();
    let input_uids: Vec<String> = inputs
        .iter()
        .map(|i| i["uid"].as_str().unwrap().to_string())
        .collect();
    let orphans = room_sids.iter().filter(|s| !input_uids.contains(s)).count()
        + input_uids.iter().filter(|u| !room_sids.contains(u)).count();
    let mut all_keys: Vec<String> = vec!["crash-a".into(), "crash-b".into(), "fenced".into()];
    all_keys.extend(keys.iter().cloned());
    answers.insert("crash-a".into(), a);
    answers.insert("crash-b".into(), b);
    answers.insert("fenced".into(), f);
    let duplicates: usize = all_keys
        .iter()
        .map(|k| {
            let n = rooms.iter().filter(|r| &r.room.title == k).count();
            n.saturating_sub(1)
        })
        .sum();
    eprintln!(
        "FIGURES kill-9 redis: creates={} requests={tried} answered_before_kill={} written_down_at_kill={written_down} cut_mid_flight={cut} 5xx={server_errors} strays_deleted={} orphans={orphans} duplicates={duplicates}",
        all_keys.len(),
        before_kill.len(),
        report.json["deleted"].as_array().map(Vec::len).unwrap_or(0),
    );
    assert_eq!(orphans, 0, "rooms {room_sids:?} inputs {input_uids:?}");
    assert_eq!(duplicates, 0, "exactly one room per key");
    assert_eq!(
        server_errors, 0,
        "README: no 5xx while retrying after the restart"
    );
    assert_eq!(rooms.len(), all_keys.len());
    for key in &all_keys {
        let room = rooms.iter().find(|r| &r.room.title == key).unwrap();
        let answer = &answers[key];
        assert_eq!(answer["SessionID"], room.room.session_id.as_str(), "{key}");
        assert_eq!(
            answer["StreamKey"],
            stream_key_of(room.room.session_id.clone()).await,
            "{key}"
        );
    }
}
