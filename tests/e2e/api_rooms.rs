//! Room changes through the built binary: rotate the key, rename, end through the API, what an
//! ended room answers, the operator acting for a host, Idempotency-Key, and `/api/info` — each
//! checked on-chain and at the Stream emulator afterwards.
use crate::support;

use std::sync::OnceLock;

use roomcast_chain::{RoomStatus, Signer};
use serde_json::{json, Value};
use support::*;

static SERVER: OnceLock<ServerInfo> = OnceLock::new();

fn server() -> &'static ServerInfo {
    Server::shared(&SERVER, &[])
}

#[tokio::test]
async fn rotate_key_returns_a_new_key_the_emulator_holds() {
    let s = server();
    let api = s.api();
    let emu = s.emulator();
    let host = wallet();
    let created = api.create_as_host(&host, "Rotating").await;
    let uid = created.str("sessionId");
    let room = s.room_address(&uid);
    let old_key = created.str("StreamKey");
    assert_eq!(
        emu.input(&uid).await.unwrap()["rtmps"]["streamKey"],
        old_key.as_str()
    );

    let r = api
        .call(
            "POST",
            &format!("/api/rooms/{room}/rotate-key"),
            None,
            Auth::Host(&host),
        )
        .await;
    r.assert_status(200);
    let new_key = r.str("StreamKey");
    assert_ne!(new_key, old_key);
    let input = emu.input(&uid).await.unwrap();
    assert_eq!(
        input["rtmps"]["streamKey"],
        new_key.as_str(),
        "the emulator holds the new key"
    );
    assert_eq!(
        r.json,
        json!({
            "SessionID": uid,
            "IngestURL": s.ingest_url(),
            "StreamKey": new_key,
            "room": room.to_string(),
            "ingest": {
                "rtmps": {"url": s.ingest_url(), "streamKey": new_key},
                "srt": {"url": input["srt"]["url"], "streamId": input["srt"]["streamId"], "passphrase": input["srt"]["passphrase"]},
                // The local emulator answers WHIP too (its own address; the URL embeds the key).
                "webrtc": {"url": input["webRTC"]["url"]},
            },
        })
    );
    assert_ne!(
        input["srt"]["passphrase"], created.json["ingest"]["srt"]["passphrase"],
        "SRT credentials rotate too"
    );
    // Rotating again (by the operator, through the session id) gives yet another key.
    let again = api
        .call(
            "POST",
            &format!("/api/rooms/{uid}/rotate-key"),
            Some(&json!({})),
            Auth::Operator,
        )
        .await;
    again.assert_status(200);
    assert!(again.str("StreamKey") != new_key && again.str("StreamKey") != old_key);
    assert_eq!(
        emu.input(&uid).await.unwrap()["rtmps"]["streamKey"],
        again.json["StreamKey"]
    );
    // Nothing changed on-chain.
    let on_chain = s.chain_reader().room(&room).await.unwrap().unwrap();
    assert_eq!(
        (
            on_chain.status,
            on_chain.title.as_str(),
            on_chain.created_at
        ),
        (RoomStatus::Created, "Rotating", on_chain.updated_at)
    );
    // rotate-key takes no body fields.
    api.call(
        "POST",
        &format!("/api/rooms/{room}/rotate-key"),
        Some(&json!({"x": 1})),
        Auth::Host(&host),
    )
    .await
    .assert_error(400, "invalid_body");
}

#[tokio::test]
async fn patch_changes_the_title_on_chain() {
    let s = server();
    let api = s.api();
    let host = wallet();
    let created = api.create_as_host(&host, "Before").await;
    let uid = created.str("sessionId");
    let room = s.room_address(&uid);
    // Viewers have the old title cached at this point.
    assert_eq!(
        api.get(&format!("/api/rooms/{room}")).await.json["title"],
        "Before"
    );

    let r = api
        .call(
            "PATCH",
            &format!("/api/rooms/{room}"),
            Some(&json!({"title": "After ✨"})),
            Auth::Host(&host),
        )
        .await;
    r.assert_status(200);
    let on_chain = s.chain_reader().room(&room).await.unwrap().unwrap();
    assert_eq!(on_chain.title, "After ✨");
    assert_eq!(on_chain.status, RoomStatus::Created);
    assert_eq!(r.json["title"], "After ✨");
    assert_eq!(r.json["room"], room.to_string());
    assert_eq!(r.json["SessionID"], uid.as_str());
    assert_eq!(r.json["status"], "created");
    assert_eq!(r.json["updatedAt"], on_chain.updated_at);
    assert!(
        r.json["signature"]
            .as_str()
            .is_some_and(|sig| bs58::decode(sig).into_vec().unwrap().len() == 64),
        "{}",
        r.text
    );
    assert!(r.json.get("liveInputDisabled").is_none());
    assert!(r.json.get("StreamKey").is_none());
    // The server's own write invalidates its cache: viewers see the new title right away.
    assert_eq!(
        api.get(&format!("/api/livestream?sessionId={uid}"))
            .await
            .json["title"],
        "After ✨"
    );
    // The operator may rename any room, by session id too.
    api.call(
        "PATCH",
        &format!("/api/rooms/{uid}"),
        Some(&json!({"title": "By operator"})),
        Auth::Operator,
    )
    .await
    .assert_status(200);
    assert_eq!(
        s.chain_reader().room(&room).await.unwrap().unwrap().title,
        "By operator"
    );
    // The live input is untouched by a rename.
    assert_eq!(s.emulator().input(&uid).await.unwrap()["enabled"], true);
}

#[tokio::test]
async fn end_via_api_disables_the_live_input_then_changes_are_410() {
    let s = server();
    let api = s.api();
    let emu = s.emulator();
    let host = wallet();
    let created = api.create_as_host(&host, "Ending").await;
    let uid = created.str("sessionId");
    let room = s.room_address(&uid);
    let key = created.str("StreamKey");
    emu.connect(&uid).await;

    let r = api
        .call(
            "POST",
            &format!("/api/rooms/{room}/end"),
            None,
            Auth::Host(&host),
        )
        .await;
    r.assert_status(200);
    let on_chain = s.chain_reader().room(&room).await.unwrap().unwrap();
    assert_eq!(on_chain.status, RoomStatus::Ended);
    assert_eq!(r.json["status"], "ended");
    assert_eq!(r.json["liveInputDisabled"], true);
    assert_eq!(
        r.json["endedAt"],
        json!(on_chain.ended_at.expect("ended_at set"))
    );
    let input = emu.input(&uid).await.unwrap();
    assert_eq!(
        input["enabled"], false,
        "the live input is disabled at Cloudflare"
    );
    assert_eq!(input["rtmps"]["streamKey"], key.as_str());
    // Disabling dropped the connected encoder: there is no encoder left to disconnect (this
    // fails if it were still connected), and a new one is refused for being disabled — not for
    // "already connected".
    let (status, refused) = emu.control_post(&format!("/inputs/{uid}/disconnect")).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(
        refused["error"],
        format!("live input {uid} has no connected encoder"),
        "the encoder was dropped"
    );
    let (status, refused) = emu.control_post(&format!("/inputs/{uid}/connect")).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(
        refused["error"],
        format!("live input {uid} is disabled (enabled=false) and refuses encoder connections"),
        "a disabled input refuses encoders"
    );

    // Viewers: 410 right away (the server invalidated its cache).
    api.get(&format!("/api/livestream?sessionId={uid}"))
        .await
        .assert_error(410, "room_ended");
    // Every change to an ended room is 410, for the host and for the operator.
    let path = format!("/api/rooms/{room}");
    api.call(
        "PATCH",
        &path,
        Some(&json!({"title": "Too late"})),
        Auth::Host(&host),
    )
    .await
    .assert_error_message(410, "room_ended", "this room has ended");
    api.call(
        "PATCH",
        &path,
        Some(&json!({"title": "Too late"})),
        Auth::Operator,
    )
    .await
    .assert_error(410, "room_ended");
    api.call(
        "POST",
        &format!("{path}/rotate-key"),
        None,
        Auth::Host(&host),
    )
    .await
    .assert_error(410, "room_ended");
    api.call("POST", &format!("{path}/rotate-key"), None, Auth::Operator)
        .await
        .assert_error(410, "room_ended");
    // (Signed two minutes earlier than the first end: the same request in the same second would
    // carry the same signature and be refused as a replay.)
    api.call(
        "POST",
        &format!("{path}/end"),
        None,
        Auth::HostAt(&host, now_secs() - 120),
    )
    .await
    .assert_error(410, "room_ended");
    api.call(
        "POST",
        "/api/end",
        Some(&json!({"sessionId": uid})),
        Auth::Operator,
    )
    .await
    .assert_error(410, "room_ended");
    // ... and changed nothing on either side.
    let after = s.chain_reader().room(&room).await.unwrap().unwrap();
    assert_eq!(
        (after.title.as_str(), after.ended_at, after.updated_at),
        ("Ending", on_chain.ended_at, on_chain.updated_at)
    );
    let input = emu.input(&uid).await.unwrap();
    assert_eq!(
        input["rtmps"]["streamKey"],
        key.as_str(),
        "no rotation of an ended room's key"
    );
    assert_eq!(input["enabled"], false);
    // A stranger still gets 403, not 410 (no information about others' rooms beyond the public view).
    api.call(
        "PATCH",
        &path,
        Some(&json!({"title": "x"})),
        Auth::Host(&wallet()),
    )
    .await
    .assert_error(403, "forbidden");
}

#[tokio::test]
async fn end_by_session_id_for_the_original_contract() {
    let s = server();
    let api = s.api();
    let host = wallet();
    let uid = api
        .create_for(&host.pubkey(), "Legacy end")
        .await
        .str("sessionId");
    let r = api
        .call(
            "POST",
            "/api/end",
            Some(&json!({"sessionId": uid})),
            Auth::Host(&host),
        )
        .await;
    r.assert_status(200);
    assert_eq!(
        (r.json["SessionID"].as_str(), r.json["status"].as_str()),
        (Some(uid.as_str()), Some("ended"))
    );
    assert_eq!(r.json["liveInputDisabled"], true);
    assert_eq!(
        s.chain_reader()
            .room(&s.room_address(&uid))
            .await
            .unwrap()
            .unwrap()
            .status,
        RoomStatus::Ended
    );
    assert_eq!(s.emulator().input(&uid).await.unwrap()["enabled"], false);
}

#[tokio::test]
async fn operator_acts_for_a_host() {
    let s = server();
    let api = s.api();
    let host = wallet();
    let created = api.create_for(&host.pubkey(), "Operated").await;
    let uid = created.str("sessionId");
    let room = s.room_address(&uid);
    assert_eq!(created.json["host"], host.pubkey().to_string());
    let on_chain = s.chain_reader().room(&room).await.unwrap().unwrap();
    assert_eq!(
        on_chain.host,
        host.pubkey(),
        "the room is the host's, not the operator's"
    );
    assert_eq!(on_chain.payer, s.registrar);
    assert_eq!(
        s.emulator().input(&uid).await.unwrap()["meta"]["host"],
        host.pubkey().to_string()
    );

    // The host controls the room the operator made for them ...
    api.call(
        "PATCH",
        &format!("/api/rooms/{room}"),
        Some(&json!({"title": "Host renamed"})),
        Auth::Host(&host),
    )
    .await
    .assert_status(200);
    // ... and so does the operator.
    let rotated = api
        .call(
            "POST",
            &format!("/api/rooms/{room}/rotate-key"),
            None,
            Auth::Operator,
        )
        .await;
    rotated.assert_status(200);
    assert_eq!(
        s.emulator().input(&uid).await.unwrap()["rtmps"]["streamKey"],
        rotated.json["StreamKey"]
    );
    let ended = api
        .call(
            "POST",
            &format!("/api/rooms/{room}/end"),
            None,
            Auth::Operator,
        )
        .await;
    ended.assert_status(200);
    assert_eq!(ended.json["host"], host.pubkey().to_string());
    let on_chain = s.chain_reader().room(&room).await.unwrap().unwrap();
    assert_eq!(
        (on_chain.status, on_chain.title.as_str()),
        (RoomStatus::Ended, "Host renamed")
    );
    assert_eq!(s.emulator().input(&uid).await.unwrap()["enabled"], false);
}

#[tokio::test]
async fn same_idempotency_key_twice_makes_one_room() {
    let s = server();
    let api = s.api();
    let emu = s.emulator();
    let host = wallet();
    let body = json!({"title": "Once only", "host": host.pubkey().to_string()});
    let key = [("idempotency-key", "create-once-1")];
    let bytes = serde_json::to_vec(&body).unwrap();
    let ct = Some("application/json");

    let first = api
        .raw(
            "POST",
            "/api/create",
            bytes.clone(),
            ct,
            Auth::Operator,
            &key,
        )
        .await;
    first.assert_status(201);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let second = api
        .raw(
            "POST",
            "/api/create",
            bytes.clone(),
            ct,
            Auth::Operator,
            &key,
        )
        .await;
    second.assert_status(201);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    assert_eq!(
        second.json, first.json,
        "the first response is replayed verbatim"
    );
    assert_eq!(
        s.rooms(Some(host.pubkey())).await.len(),
        1,
        "one room on-chain"
    );
    let inputs = emu.inputs_of(&host.pubkey()).await;
    assert_eq!(inputs.len(), 1, "one live input");
    assert_eq!(inputs[0]["uid"], first.json["sessionId"]);

    // The same key with a different body: 409, and still one room and one input.
    let other =
        serde_json::to_vec(&json!({"title": "Twice?", "host": host.pubkey().to_string()})).unwrap();
    api.raw("POST", "/api/create", other, ct, Auth::Operator, &key)
        .await
        .assert_error_message(
            409,
            "idempotency_key_reused",
            "this Idempotency-Key was already used with a different request body",
        );
    assert_eq!(s.rooms(Some(host.pubkey())).await.len(), 1);
    assert_eq!(emu.inputs_of(&host.pubkey()).await.len(), 1);

    // A signing host: the retry is signed again (another timestamp), the key still deduplicates.
    let signer = wallet();
    let own = serde_json::to_vec(&json!({"title": "Host once"})).unwrap();
    let hkey = [("idempotency-key", "create-once-1")]; // same key string: keys are per caller
    let now = now_secs();
    let a = api
        .raw(
            "POST",
            "/api/create",
            own.clone(),
            ct,
            Auth::HostAt(&signer, now - 1),
            &hkey,
        )
        .await;
    a.assert_status(201);
    assert_ne!(
        a.json["sessionId"], first.json["sessionId"],
        "another caller's key is a different key"
    );
    let b = api
        .raw(
            "POST",
            "/api/create",
            own.clone(),
            ct,
            Auth::HostAt(&signer, now),
            &hkey,
        )
        .await;
    b.assert_status(201);
    assert_eq!(b.headers["idempotent-replayed"], "true");
    assert_eq!(b.json, a.json);
    assert_eq!(s.rooms(Some(signer.pubkey())).await.len(), 1);
    assert_eq!(emu.inputs_of(&signer.pubkey()).await.len(), 1);

    // Malformed keys are refused before anything is created.
    let nobody = wallet();
    let nb = serde_json::to_vec(&json!({"title": "Bad key", "host": nobody.pubkey().to_string()}))
        .unwrap();
    for bad in ["has space", &"k".repeat(256)] {
        api.raw(
            "POST",
            "/api/create",
            nb.clone(),
            ct,
            Auth::Operator,
            &[("idempotency-key", bad)],
        )
        .await
        .assert_error(400, "invalid_idempotency_key");
    }
    assert_eq!(s.rooms(Some(nobody.pubkey())).await.len(), 0);
    assert_eq!(emu.inputs_of(&nobody.pubkey()).await.len(), 0);
}

#[tokio::test]
async fn info_matches_the_banner() {
    let s = server();
    let r = s.api().get("/api/info").await;
    r.assert_status(200);
    let expected: Value = json!({
        "programId": s.program_id.to_string(),
        "registry": s.registry.to_string(),
        "registrar": s.registrar.to_string(),
        "rpcUrl": s.rpc_url,
        "wsUrl": s.ws_url,
        "cloudflareCustomerCode": "roomcastemulator",
        "embedded": {"chain": true, "cloudflare": true},
    });
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(&r.json[k], v, "/api/info {k}: {}", r.text);
    }
    assert_eq!(s.chain_kind, "embedded local node");
    // The banner's values are real: the RPC URL serves the registry, whose registrar is the banner's.
    let registry = s
        .chain_reader()
        .registry(&s.registry)
        .await
        .unwrap()
        .expect("registry exists");
    assert_eq!(registry.registrar, s.registrar);
    assert_eq!(
        roomcast_chain::registry_address(&s.program_id, &s.registrar),
        s.registry
    );
    let health = s.api().get("/healthz").await;
    assert_eq!(
        (health.status, health.json.clone()),
        (200, json!({"status": "ok"}))
    );
    let ready = s.api().get("/readyz").await;
    ready.assert_status(200);
    assert_eq!(ready.json["status"], "ready");
}
