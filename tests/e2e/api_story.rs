//! The whole story through the built binary (embedded local node + Stream emulator): a host
//! creates a room, the encoder connects, a viewer resolves it, the host ends it on-chain with
//! their own keypair (not through the API), and the viewer gets 410. Plus: the stream key never
//! leaks into the room account, the public views or the server's logs.
use crate::support;

use std::sync::OnceLock;

use roomcast_chain::{room_offsets, RoomStatus, Signer};
use serde_json::{json, Value};
use support::*;

static SERVER: OnceLock<ServerInfo> = OnceLock::new();

/// Debug logging, so the secrecy test also covers what an operator sees with verbose logs.
fn server() -> &'static ServerInfo {
    Server::shared(&SERVER, &[("RUST_LOG", "debug")])
}

fn playback(delivery: &str, uid: &str) -> Value {
    json!({
        "hls": format!("{delivery}/{uid}/manifest/video.m3u8"),
        "dash": format!("{delivery}/{uid}/manifest/video.mpd"),
        "iframe": format!("{delivery}/{uid}/iframe"),
        "webrtc": format!("{delivery}/{uid}/webRTC/play"),
    })
}

#[tokio::test]
async fn create_connect_watch_end_on_chain_then_gone() {
    let s = server();
    let api = s.api();
    let emu = s.emulator();
    let host = wallet();

    // 1. The host creates a room, signing with their wallet.
    let created = api.create_as_host(&host, "Friday show").await;
    let c = &created.json;
    let uid = created.str("sessionId");
    assert!(
        uid.len() == 32
            && uid
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{uid}"
    );
    let room = s.room_address(&uid);
    let input = emu
        .input(&uid)
        .await
        .expect("the live input exists at the emulator");
    assert_eq!(c["SessionID"], uid.as_str());
    assert_eq!(c["room"], room.to_string());
    assert_eq!(c["registry"], s.registry.to_string());
    assert_eq!(c["title"], "Friday show");
    assert_eq!(c["host"], host.pubkey().to_string());
    assert_eq!(c["status"], "created");
    assert_eq!(c["IngestURL"], s.ingest_url());
    assert_eq!(c["ingestUrl"], s.ingest_url());
    assert_eq!(c["StreamKey"], input["rtmps"]["streamKey"]);
    assert_eq!(
        c["ingest"]["rtmps"],
        json!({"url": input["rtmps"]["url"], "streamKey": input["rtmps"]["streamKey"]})
    );
    assert_eq!(
        c["ingest"]["srt"],
        json!({"url": input["srt"]["url"], "streamId": input["srt"]["streamId"], "passphrase": input["srt"]["passphrase"]})
    );
    // WebRTC (WHIP) is the local emulator's own endpoint, handed to the host as is.
    assert_eq!(
        c["ingest"]["webrtc"],
        json!({"url": input["webRTC"]["url"]})
    );
    assert!(c["ingest"]["srt"]["url"]
        .as_str()
        .unwrap()
        .starts_with("srt://127.0.0.1:"));
    assert_eq!(c["playback"], playback(&emu.delivery_base(), &uid));
    assert_eq!(c["liveAt"], Value::Null);
    assert_eq!(c["endedAt"], Value::Null);

    // Both sides after create.
    let on_chain = s
        .chain_reader()
        .room(&room)
        .await
        .unwrap()
        .expect("room on-chain");
    assert_eq!(on_chain.status, RoomStatus::Created);
    assert_eq!(on_chain.session_id, uid);
    assert_eq!(on_chain.title, "Friday show");
    assert_eq!(on_chain.host, host.pubkey());
    assert_eq!(on_chain.registry, s.registry);
    assert_eq!(on_chain.payer, s.registrar, "the registrar pays the rent");
    assert_eq!(on_chain.ingest_url, s.ingest_url());
    assert_eq!(c["createdAt"], on_chain.created_at);
    assert_eq!(input["enabled"], true);
    // The meta names the create's in-flight marker by an opaque random id (32 hex), nothing else.
    let flight = input["meta"]["flight"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        flight.len() == 32 && flight.bytes().all(|b| b.is_ascii_hexdigit()),
        "{flight:?}"
    );
    assert_eq!(
        input["meta"],
        json!({"name": "Friday show", "roomcast": "v1", "registry": s.registry.to_string(), "host": host.pubkey().to_string(), "flight": flight})
    );
    assert_eq!(input["recording"]["mode"], "automatic");
    assert_eq!(input["deleteRecordingAfterDays"], 45);

    // 2. Before the encoder connects, a viewer sees the room idle.
    let viewer = api.get(&format!("/api/livestream?sessionId={uid}")).await;
    viewer.assert_status(200);
    assert_eq!(viewer.json["broadcasting"], false, "{}", viewer.text);
    assert_eq!(viewer.json["status"], "created");

    // 3. The encoder connects (emulator), 4. the viewer resolves the room: broadcasting.
    let connected = emu.connect(&uid).await;
    assert_eq!(connected["event"], "live_input.connected");
    let live = eventually("the viewer to see broadcasting: true", || async {
        let r = api.get(&format!("/api/livestream?room={room}")).await;
        (r.status == 200 && r.json["broadcasting"] == true).then_some(r)
    })
    .await;
    let v = &live.json;
    assert_eq!(v["SessionID"], uid.as_str());
    assert_eq!(v["sessionId"], uid.as_str());
    assert_eq!(v["room"], room.to_string());
    assert_eq!(v["title"], "Friday show");
    assert_eq!(v["host"], host.pubkey().to_string());
    assert_eq!(v["playback"], playback(&emu.delivery_base(), &uid));
    for secret in ["StreamKey", "IngestURL", "ingest", "signature"] {
        assert!(
            v.get(secret).is_none(),
            "viewers never get {secret}: {}",
            live.text
        );
    }
    // The playback URL really plays: the emulator serves a manifest while live.
    let hls = reqwest::get(v["playback"]["hls"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(hls.status().as_u16(), 200);
    assert!(hls.text().await.unwrap().starts_with("#EXTM3U"));
    // Cloudflare's "connected" notification marks the room live on-chain (set_live by the registrar).
    let live_room = eventually("the room to be live on-chain", || async {
        let r = s.chain_reader().room(&room).await.ok()??;
        (r.status == RoomStatus::Live).then_some(r)
    })
    .await;
    assert!(live_room.live_at.is_some());
    let r = eventually("the viewer to see status live", || async {
        let r = api.get(&format!("/api/livestream?sessionId={uid}")).await;
        (r.json["status"] == "live").then_some(r)
    })
    .await;
    assert_eq!(r.json["liveAt"], json!(live_room.live_at));
    assert_eq!(r.json["broadcasting"], true);
    // Same view by room address.
    let shown = api.get(&format!("/api/rooms/{room}")).await;
    shown.assert_status(200);
    assert_eq!(shown.json["sessionId"], uid.as_str());

    // 5. The host ends the room on-chain with their own keypair, not through the API.
    airdrop(&s.rpc_url, &host.pubkey(), 1_000_000_000).await;
    s.chain_as(&host)
        .end_room(s.registry, room)
        .await
        .expect("the host ends their room on-chain");
    let ended = s.chain_reader().room(&room).await.unwrap().unwrap();
    assert_eq!(ended.status, RoomStatus::Ended);
    assert!(ended.ended_at.is_some());
    assert_eq!(ended.host, host.pubkey());

    // 6. The viewer gets 410 (after at most the room cache's TTL), by session id and by room.
    let gone = eventually("the viewer to get 410", || async {
        let r = api.get(&format!("/api/livestream?sessionId={uid}")).await;
        (r.status != 200).then_some(r)
    })
    .await;
    gone.assert_error_message(
        410,
        "room_ended",
        "this room has ended and can no longer be watched",
    );
    api.get(&format!("/api/livestream?room={room}"))
        .await
        .assert_error(410, "room_ended");
    api.get(&format!("/api/rooms/{room}"))
        .await
        .assert_error(410, "room_ended");
    // The live input still exists: the server's chain watcher disables it (tests/e2e/chain_watch.rs),
    // it never deletes it.
    assert_eq!(emu.input(&uid).await.unwrap()["uid"], uid.as_str());
}

#[tokio::test]
async fn stream_key_never_leaks_to_chain_viewers_or_logs() {
    let s = server();
    let api = s.api();
    let emu = s.emulator();
    let host = wallet();

    let created = api.create_for(&host.pubkey(), "Secret keeping").await;
    let uid = created.str("sessionId");
    let room = s.room_address(&uid);
    let key1 = created.str("StreamKey");
    let rotated = api
        .call(
            "POST",
            &format!("/api/rooms/{room}/rotate-key"),
            None,
            Auth::Host(&host),
        )
        .await;
    rotated.assert_status(200);
    let key2 = rotated.str("StreamKey");
    assert_ne!(key1, key2);

    // Every publish credential Cloudflare handed out for this input, plus the secret part of the
    // keys (they end with `k<uid>`, and the uid is public).
    let mut secrets: Vec<String> = vec![key1.clone(), key2.clone()];
    for r in [&created.json, &rotated.json] {
        secrets.push(
            r["ingest"]["srt"]["passphrase"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        secrets.push(r["ingest"]["webrtc"]["url"].as_str().unwrap().to_string());
    }
    let input = emu.input(&uid).await.unwrap();
    assert_eq!(input["rtmps"]["streamKey"], key2.as_str());
    for key in [&key1, &key2] {
        let secret_part = key
            .strip_suffix(&format!("k{uid}"))
            .expect("key ends with k<uid>");
        assert!(secret_part.len() >= 16, "{key}");
        secrets.push(secret_part.to_string());
    }
    let leaks = |haystack: &[u8]| -> Vec<String> {
        secrets
            .iter()
            .filter(|s| contains_bytes(haystack, s.as_bytes()))
            .cloned()
            .collect()
    };

    // The room account's bytes.
    let data = account_data(&s.rpc_url, &room).await;
    // The session id is stored as its 16 bytes, at its fixed offset.
    let uid_bytes: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&uid[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let at = room_offsets::SESSION_ID;
    assert_eq!(
        &data[at..at + 16],
        &uid_bytes[..],
        "searching the right account: it holds the session id"
    );
    assert!(contains_bytes(&data, b"Secret keeping"));
    assert!(contains_bytes(&data, host.pubkey().as_ref()));
    assert_eq!(
        leaks(&data),
        Vec::<String>::new(),
        "publish credentials in the room account"
    );

    // The public views.
    for path in [
        format!("/api/livestream?sessionId={uid}"),
        format!("/api/livestream?room={room}"),
        format!("/api/rooms/{room}"),
    ] {
        let r = api.get(&path).await;
        r.assert_status(200);
        assert!(r.text.contains(&uid));
        assert_eq!(
            leaks(r.text.as_bytes()),
            Vec::<String>::new(),
            "publish credentials in {path}"
        );
    }
    // Changing and ending the room do not echo credentials either.
    let patched = api
        .call(
            "PATCH",
            &format!("/api/rooms/{room}"),
            Some(&json!({"title": "Still secret"})),
            Auth::Operator,
        )
        .await;
    patched.assert_status(200);
    assert_eq!(leaks(patched.text.as_bytes()), Vec::<String>::new());
    let ended = api
        .call(
            "POST",
            "/api/end",
            Some(&json!({"sessionId": uid})),
            Auth::Host(&host),
        )
        .await;
    ended.assert_status(200);
    assert_eq!(leaks(ended.text.as_bytes()), Vec::<String>::new());
    let data = account_data(&s.rpc_url, &room).await;
    assert!(contains_bytes(&data, b"Still secret"));
    assert_eq!(leaks(&data), Vec::<String>::new());

    // The server's own output (stdout + stderr, debug level), after all of the above was logged.
    let logged = eventually("the server to log the room's end", || async {
        let out = s.log_output();
        out.lines()
            .any(|l| l.contains("room ended") && l.contains(&uid))
            .then_some(out)
    })
    .await;
    assert!(
        logged.contains(&format!("room created room={room} session_id={uid}")),
        "the log capture works"
    );
    let leaked: Vec<String> = leaks(logged.as_bytes());
    assert!(
        leaked.is_empty(),
        "publish credentials in the server's logs: {leaked:?}"
    );
}
