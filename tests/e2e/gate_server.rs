//! Issue 21, server side, against the built `roomcast serve`: the embedded default's Stream signing
//! key is kept in the data dir (reused after a restart while Stream lists it, replaced once it was
//! deleted), never logged; a gated room's grant carries a signed WHEP URL.
use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use base64::Engine as _;
use roomcast_chain::token::{self, SPL_TOKEN_PROGRAM_ID};
use roomcast_chain::{Keypair, Pubkey, Signer};
use serde_json::{json, Value};
use support::*;

const SOL: u64 = 1_000_000_000;
const KEY_FILE: &str = "stream-signing-key.json";

/// A new SPL Token mint on `server`'s node (its issuer funded by the faucet).
async fn create_mint(server: &ServerInfo) -> Pubkey {
    let issuer = Keypair::new();
    airdrop(&server.rpc_url, &issuer.pubkey(), 10 * SOL).await;
    let chain = server.chain_as(&issuer);
    let mint = Keypair::new();
    let rent = chain
        .rpc()
        .get_minimum_balance_for_rent_exemption(token::MINT_LEN)
        .await
        .unwrap();
    let me = issuer.pubkey();
    let ixs = token::create_mint_ixs(&me, &mint.pubkey(), &me, 6, &SPL_TOKEN_PROGRAM_ID, rent);
    chain.send_instructions(&ixs, &[&mint]).await.unwrap();
    mint.pubkey()
}

/// A gated room (by the operator): (room, input uid).
async fn create_gated(server: &ServerInfo, mint: &Pubkey) -> (String, String) {
    let created = server
        .api()
        .call(
            "POST",
            "/api/create",
            Some(
                &json!({"title": "Holders", "host": wallet().pubkey().to_string(),
                         "gate": {"mint": mint.to_string(), "minAmount": 1}}),
            ),
            Auth::Operator,
        )
        .await;
    created.assert_status(201);
    (created.str("room"), created.str("sessionId"))
}

/// The operator's grant (the operator always plays): the answer.
async fn grant(server: &ServerInfo, room: &str) -> Value {
    let granted = server
        .api()
        .call(
            "POST",
            &format!("/api/rooms/{room}/playback"),
            None,
            Auth::Operator,
        )
        .await;
    granted.assert_status(200);
    granted.json
}

/// The token in a signed delivery URL (`BASE/<token>/manifest/video.m3u8`).
fn token_of(url: &str) -> String {
    let path = url.split("://").nth(1).unwrap();
    path.split('/').nth(1).unwrap().to_string()
}

/// A token's `kid` (its JWT header).
fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_string()
}

/// The status of the emulator's HLS manifest for `token` at `delivery` (`http://ADDR`).
async fn manifest_status(delivery: &str, token: &str) -> u16 {
    reqwest::get(format!("{delivery}/{token}/manifest/video.m3u8"))
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The key file: (id, pem), after checking it is owner-only.
fn kept_key(data: &Path) -> (String, String) {
    let path = data.join(KEY_FILE);
    let meta = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{KEY_FILE}: {e}"));
    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{KEY_FILE}");
    let file: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let keys: Vec<_> = file.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["id", "pem"]);
    (
        file["id"].as_str().unwrap().to_string(),
        file["pem"].as_str().unwrap().to_string(),
    )
}

/// Neither the key's `pem` nor any line of the PEM it encodes is in `log`.
fn assert_not_logged(log: &str, pem: &str) {
    assert!(!log.contains(pem), "the pem is in the log:\n{log}");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(pem)
        .unwrap();
    let text = String::from_utf8(decoded).unwrap();
    assert!(text.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    for line in text.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!log.contains(line), "a PEM line is in the log:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_signing_key_is_kept_in_the_data_dir_and_reused_after_a_restart() {
    let dir = scratch_dir("gate-key");
    let data = dir.join("data");
    let env = [
        ("ROOMCAST_EPHEMERAL", "false"),
        ("ROOMCAST_DATA_DIR", data.to_str().unwrap()),
    ];
    let mut first = Server::start(&env);
    let mint = create_mint(&first).await;
    let (room, uid) = create_gated(&first, &mint).await;
    first.emulator().connect(&uid).await;
    let granted = grant(&first, &room).await;
    let before = token_of(granted["playback"]["hls"].as_str().unwrap());
    let (id, pem) = kept_key(&data);
    assert_eq!(kid_of(&before), id);
    let delivery = first.emulator().delivery_base();
    assert_eq!(manifest_status(&delivery, &before).await, 200);
    // A second grant in the same process: the same key.
    let again = grant(&first, &room).await;
    assert_eq!(
        kid_of(&token_of(again["playback"]["hls"].as_str().unwrap())),
        id
    );
    let status = first.proc.terminate();
    assert!(status.success(), "{status}: {}", first.proc.output());
    assert_not_logged(&first.proc.output(), &pem);

    // The input comes back from the data dir; a new broadcast starts on it.
    let second = Server::start(&env);
    let (status, _) = second
        .emulator()
        .control_post(&format!("/inputs/{uid}/disconnect"))
        .await;
    assert_eq!(status, 200);
    second.emulator().connect(&uid).await;
    let granted = grant(&second, &room).await;
    let after = token_of(granted["playback"]["hls"].as_str().unwrap());
    assert_eq!(kid_of(&after), id, "the kept key signs after the restart");
    assert_eq!(kept_key(&data), (id.clone(), pem.clone()), "file unchanged");
    let delivery = second.emulator().delivery_base();
    // The token granted before the restart still plays, as does the new one.
    assert_eq!(manifest_status(&delivery, &before).await, 200);
    assert_eq!(manifest_status(&delivery, &after).await, 200);
    // The unsigned uid still does not.
    assert_eq!(manifest_status(&delivery, &uid).await, 401);
    let log = second.proc.output();
    assert!(
        log.contains("Stream signing key: the one kept in the data dir"),
        "{log}"
    );
    assert_not_logged(&log, &pem);
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_signing_key_deleted_at_stream_is_replaced_after_a_restart() {
    // Stream is an emulator of its own (its keys API's token known here), the chain embedded: the
    // data dir keeps the ledger and the backend's signing key.
    let emulator = EmulatorProc::start();
    let dir = scratch_dir("gate-key-deleted");
    let data = dir.join("data");
    let mut env: Vec<(&str, String)> = emulator.server_env();
    env.push(("ROOMCAST_EPHEMERAL", "false".into()));
    env.push(("ROOMCAST_DATA_DIR", data.to_str().unwrap().into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut first = Server::start(&env);
    let mint = create_mint(&first).await;
    let (room, uid) = create_gated(&first, &mint).await;
    let control = emulator.control();
    control.connect(&uid).await;
    let granted = grant(&first, &room).await;
    let old = token_of(granted["playback"]["hls"].as_str().unwrap());
    let (old_id, old_pem) = kept_key(&data);
    assert_eq!(kid_of(&old), old_id);
    assert_eq!(manifest_status(&emulator.delivery_url, &old).await, 200);
    let status = first.proc.terminate();
    assert!(status.success(), "{status}: {}", first.proc.output());

    // The key is deleted at Stream (the keys API): its tokens stop playing at once.
    let http = reqwest::Client::new();
    let keys_url = format!(
        "{}/accounts/{}/stream/keys",
        emulator.api_url, emulator.account_id
    );
    let deleted: Value = http
        .delete(format!("{keys_url}/{old_id}"))
        .bearer_auth(&emulator.api_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(deleted["result"], "Revoked", "{deleted}");
    assert_eq!(manifest_status(&emulator.delivery_url, &old).await, 401);

    let second = Server::start(&env);
    let granted = grant(&second, &room).await;
    let new = token_of(granted["playback"]["hls"].as_str().unwrap());
    let (new_id, new_pem) = kept_key(&data);
    assert_ne!(new_id, old_id);
    assert_ne!(new_pem, old_pem);
    assert_eq!(kid_of(&new), new_id, "the new key signs");
    assert_eq!(manifest_status(&emulator.delivery_url, &new).await, 200);
    assert_eq!(manifest_status(&emulator.delivery_url, &old).await, 401);
    let listed: Value = http
        .get(&keys_url)
        .bearer_auth(&emulator.api_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<_> = listed["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, [new_id.clone()]);
    let log = second.proc.output();
    assert!(
        log.contains("the kept Stream signing key is no longer listed by Stream (deleted)"),
        "{log}"
    );
    assert!(log.contains(&old_id) && log.contains(&new_id), "{log}");
    assert_not_logged(&log, &new_pem);
    assert_not_logged(&log, &old_pem);
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The claims of a token (its JWT body).
fn claims_of(token: &str) -> Value {
    let body = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .unwrap(),
    )
    .unwrap()
}

/// A WHEP POST (`application/sdp`) to `url`: (status, body).
async fn whep_post(url: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/sdp")
        .body("v=0\r\n")
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// A gated room's grant carries a signed WHEP URL (the token in place of the uid, the same
/// `expiresAt` as the others) the emulator admits where it refuses the uid; the public view still
/// has no `livePlayback` and no playback URL while the room is live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gated_rooms_grant_carries_a_signed_whep_url() {
    let server = Server::start(&[]);
    let mint = create_mint(&server).await;
    let (room, uid) = create_gated(&server, &mint).await;
    let emulator = server.emulator();
    emulator.connect(&uid).await;
    let delivery = emulator.delivery_base();

    let granted = grant(&server, &room).await;
    let webrtc = granted["playback"]["webrtc"].as_str().unwrap();
    let token = token_of(webrtc);
    assert_eq!(webrtc, format!("{delivery}/{token}/webRTC/play"));
    assert!(!webrtc.contains(&uid), "{webrtc}");
    let hls_token = token_of(granted["playback"]["hls"].as_str().unwrap());
    assert_eq!(token, hls_token, "one token for every URL");
    let claims = claims_of(&token);
    assert_eq!(claims["sub"], uid.as_str());
    assert_eq!(claims["exp"], granted["expiresAt"]);

    // The emulator admits the token (the broadcast is RTMP-style, so WHEP then says 409), and
    // refuses the uid as it refuses an unsigned manifest.
    let (status, body) = whep_post(webrtc).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body.contains(&format!(
            "live input {uid} is broadcasting over RTMP/SRT, which plays over HLS/DASH, not WebRTC"
        )),
        "{body}"
    );
    let (status, body) = whep_post(&format!("{delivery}/{uid}/webRTC/play")).await;
    assert_eq!((status, body.as_str()), (401, "Unauthorized\n"));

    // The public view, live: the gate, no `livePlayback`, no playback URL of any kind.
    let view = eventually("the room to read as broadcasting", || {
        let api = server.api();
        let room = room.clone();
        async move {
            let v = api.get(&format!("/api/rooms/{room}")).await;
            (v.json["broadcasting"] == true).then_some(v)
        }
    })
    .await;
    view.assert_status(200);
    assert_eq!(view.json["livePlayback"], Value::Null, "{}", view.text);
    assert!(view.json.get("playback").is_none(), "{}", view.text);
    assert!(view.json["gate"].is_object(), "{}", view.text);
    for leak in ["/webRTC/play", "/manifest/", "/iframe"] {
        assert!(!view.text.contains(leak), "{leak}: {}", view.text);
    }
}
