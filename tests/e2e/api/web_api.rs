//! What the web app needs from the server, through HTTP against an in-process server (embedded local
//! node and Stream emulator): Sign-In With Solana sessions, the end-room Solana Action, and live room
//! events over Server-Sent Events.
use crate::support::sse::Events;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use reqwest::StatusCode;
use roomcast_app::Server;
use roomcast_chain::{Keypair, RoomStatus, RoomcastChain, Signer};
use serde_json::{json, Value};

const OPERATOR_KEY: &str = "test-operator-key-0123456789abcdef";

async fn start(extra: &[&str]) -> Server {
    let mut argv = vec![
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

async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")),
    )
}

/// Creates a room for `host` as the operator.
async fn create_room(server: &Server, host: &str, title: &str) -> Value {
    let (status, body) = json_of(
        http()
            .post(format!("{}/api/create", server.url()))
            .bearer_auth(OPERATOR_KEY)
            .json(&json!({ "title": title, "host": host }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn nonce(server: &Server) -> Value {
    let response = http()
        .get(format!("{}/api/auth/nonce", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (status, input) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    input
}

/// The SIWS text a wallet renders for `input` (wallet-standard `createSignInMessageText`).
fn siws_text(input: &Value, address: &str) -> String {
    let f = |k: &str| input[k].as_str().unwrap().to_string();
    format!(
        "{} wants you to sign in with your Solana account:\n{address}\n\n{}\n\nURI: {}\nVersion: {}\nNonce: {}\nIssued At: {}\nExpiration Time: {}",
        f("domain"), f("statement"), f("uri"), f("version"), f("nonce"), f("issuedAt"), f("expirationTime")
    )
}

fn sign_in_body(wallet: &Keypair, text: &str) -> Value {
    json!({
        "address": wallet.pubkey().to_string(),
        "signedMessage": B64.encode(text.as_bytes()),
        "signature": wallet.sign_message(text.as_bytes()).to_string(),
    })
}

async fn post_sign_in(server: &Server, body: &Value) -> (StatusCode, Value) {
    json_of(
        http()
            .post(format!("{}/api/auth/sign-in", server.url()))
            .json(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Signs in `wallet` and returns its session token.
async fn sign_in(server: &Server, wallet: &Keypair) -> String {
    let input = nonce(server).await;
    let text = siws_text(&input, &wallet.pubkey().to_string());
    let (status, body) = post_sign_in(server, &sign_in_body(wallet, &text)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_string()
}

fn assert_error(status: StatusCode, body: &Value, want_status: StatusCode, code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().len() > 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_once_then_act_with_a_session_token_scoped_to_the_wallet() {
    let server = start(&[]).await;
    let wallet = Keypair::new();
    let address = wallet.pubkey().to_string();

    // The server issues the whole input: domain = this server's origin (here its loopback listen address).
    let input = nonce(&server).await;
    assert_eq!(input["domain"], server.addr.to_string());
    assert_eq!(input["uri"], format!("{}/host", server.url()));
    assert_eq!(input["version"], "1");
    let n = input["nonce"].as_str().unwrap();
    assert!(n.len() >= 8 && n.chars().all(|c| c.is_ascii_alphanumeric()));
    let issued = time::OffsetDateTime::parse(
        input["issuedAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let expires = time::OffsetDateTime::parse(
        input["expirationTime"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(expires - issued, time::Duration::seconds(300));
    assert!((time::OffsetDateTime::now_utc() - issued).abs() < time::Duration::seconds(5));

    let text = siws_text(&input, &address);
    let signed = sign_in_body(&wallet, &text);
    let (status, session) = post_sign_in(&server, &signed).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["wallet"], address);
    let token = session["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("rcs_"));

    // The token creates a room hosted by that wallet (no per-request signature).
    let (status, created) = json_of(
        http()
            .post(format!("{}/api/create", server.url()))
            .bearer_auth(&token)
            .json(&json!({ "title": "Signed in once" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["host"], address);
    let room_address = created["room"].as_str().unwrap().parse().unwrap();
    let on_chain = server
        .state
        .chain
        .room(&room_address)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(on_chain.host, wallet.pubkey());
    // …and renames it.
    let (status, renamed) = json_of(
        http()
            .patch(format!(
                "{}/api/rooms/{}",
                server.url(),
                created["room"].as_str().unwrap()
            ))
            .bearer_auth(&token)
            .json(&json!({ "title": "Renamed by session" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    let on_chain = server
        .state
        .chain
        .room(&room_address)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(on_chain.title, "Renamed by session");

    // The same signed message again: its nonce is spent.
    let (status, body) = post_sign_in(&server, &signed).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unknown_nonce");
    // The spent nonce in a newly signed message (another wallet): still spent.
    let other = Keypair::new();
    let text_other = siws_text(&input, &other.pubkey().to_string());
    let (status, body) = post_sign_in(&server, &sign_in_body(&other, &text_other)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unknown_nonce");

    // A message the server did not issue (another domain; another statement), and a forged
    // signature: refused, and each attempt burns its nonce.
    let input = nonce(&server).await;
    let phished = siws_text(&input, &address).replacen(&server.addr.to_string(), "evil.example", 1);
    let (status, body) = post_sign_in(&server, &sign_in_body(&wallet, &phished)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "wrong_domain");
    let (status, body) = post_sign_in(
        &server,
        &sign_in_body(&wallet, &siws_text(&input, &address)),
    )
    .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unknown_nonce");
    let input = nonce(&server).await;
    let reworded = siws_text(&input, &address).replace("Sign in to roomcast", "Sign in to claim");
    let (status, body) = post_sign_in(&server, &sign_in_body(&wallet, &reworded)).await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_sign_in_message",
    );
    let (status, body) = post_sign_in(
        &server,
        &sign_in_body(&wallet, &siws_text(&input, &address)),
    )
    .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unknown_nonce");
    let input = nonce(&server).await;
    let text = siws_text(&input, &address);
    let mut forged = sign_in_body(&wallet, &text);
    forged["signature"] = json!(other.sign_message(text.as_bytes()).to_string());
    let (status, body) = post_sign_in(&server, &forged).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_signature");

    // Another wallet's session cannot touch this wallet's room.
    let other_token = sign_in(&server, &other).await;
    for request in [
        http()
            .patch(format!(
                "{}/api/rooms/{}",
                server.url(),
                created["room"].as_str().unwrap()
            ))
            .json(&json!({ "title": "Hijacked" })),
        http().post(format!(
            "{}/api/rooms/{}/end",
            server.url(),
            created["room"].as_str().unwrap()
        )),
        http().post(format!(
            "{}/api/rooms/{}/rotate-key",
            server.url(),
            created["room"].as_str().unwrap()
        )),
    ] {
        let (status, body) = json_of(request.bearer_auth(&other_token).send().await.unwrap()).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    }
    let on_chain = server
        .state
        .chain
        .room(&room_address)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(on_chain.title, "Renamed by session");
    assert_eq!(on_chain.status, RoomStatus::Created);
    // …nor create rooms for it.
    let (status, body) = json_of(
        http()
            .post(format!("{}/api/create", server.url()))
            .bearer_auth(&other_token)
            .json(&json!({ "title": "Not mine", "host": address }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");

    // Signing out ends the session; an unknown token is refused the same way.
    let response = http()
        .post(format!("{}/api/auth/sign-out", server.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for t in [token.as_str(), "rcs_not-a-token"] {
        let (status, body) = json_of(
            http()
                .post(format!("{}/api/create", server.url()))
                .bearer_auth(t)
                .json(&json!({ "title": "After sign-out" }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_session");
    }
    // Per-request wallet signatures and the operator key keep working beside sessions.
    create_room(&server, &address, "Operator still works").await;

    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_sign_in_messages_and_sessions_are_refused() {
    let server = start(&["--sign-in-ttl-secs", "1", "--session-ttl-secs", "2"]).await;
    let wallet = Keypair::new();
    let address = wallet.pubkey().to_string();

    let input = nonce(&server).await;
    let stale = sign_in_body(&wallet, &siws_text(&input, &address));
    let token = sign_in(&server, &wallet).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;

    let (status, body) = post_sign_in(&server, &stale).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "sign_in_expired");
    let (status, body) = json_of(
        http()
            .post(format!("{}/api/create", server.url()))
            .bearer_auth(&token)
            .json(&json!({ "title": "Too late" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_session");
    server.shutdown().await.unwrap();
}

fn assert_action_headers(headers: &reqwest::header::HeaderMap, genesis: &str) {
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(
        headers["access-control-allow-methods"],
        "GET,POST,PUT,OPTIONS"
    );
    assert_eq!(
        headers["access-control-allow-headers"],
        "Content-Type, Authorization, Content-Encoding, Accept-Encoding, X-Accept-Action-Version, X-Accept-Blockchain-Ids"
    );
    assert_eq!(
        headers["access-control-expose-headers"],
        "X-Action-Version, X-Blockchain-Ids"
    );
    assert_eq!(headers["x-action-version"], "2.4");
    assert_eq!(
        headers["x-blockchain-ids"].to_str().unwrap(),
        format!("solana:{}", &genesis[..32])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_room_action_answers_per_the_actions_spec_and_its_transaction_ends_the_room() {
    let server = start(&[]).await;
    let genesis = server
        .state
        .chain
        .rpc()
        .get_genesis_hash()
        .await
        .unwrap()
        .to_string();
    let host = Keypair::new();
    let room = create_room(&server, &host.pubkey().to_string(), "Action room").await;
    let address: roomcast_chain::Pubkey = room["room"].as_str().unwrap().parse().unwrap();
    let sid = room["SessionID"].as_str().unwrap().to_string();
    let action = format!("{}/api/actions/end-room?room={address}", server.url());

    // actions.json and OPTIONS (a browser preflight from another origin too).
    let response = http()
        .get(format!("{}/actions.json", server.url()))
        .send()
        .await
        .unwrap();
    assert_action_headers(response.headers(), &genesis);
    let (status, rules) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        rules,
        json!({"rules": [{"pathPattern": "/api/actions/**", "apiPath": "/api/actions/**"}]})
    );
    let response = http()
        .request(reqwest::Method::OPTIONS, &action)
        .header("origin", "https://dial.to")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-accept-action-version",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_action_headers(response.headers(), &genesis);

    // GET: metadata for one button that POSTs back here.
    let response = http().get(&action).send().await.unwrap();
    assert_action_headers(response.headers(), &genesis);
    let (status, meta) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(meta["type"], "action");
    assert_eq!(meta["icon"], format!("{}/assets/icon.svg", server.url()));
    assert_eq!(meta["title"], "End “Action room”");
    assert_eq!(meta["label"], "End room");
    assert_eq!(meta["disabled"], false);
    assert!(meta.get("error").is_none());
    let icon = http()
        .get(meta["icon"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");

    // POST: bad bodies and a stranger's account are refused with the spec's `message`.
    let post = |body: Value| http().post(&action).json(&body).send();
    let (status, body) = json_of(post(json!({})).await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "account is required");
    let (status, body) = json_of(post(json!({"account": "nope"})).await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_account");
    let stranger = Keypair::new();
    let response = post(json!({"account": stranger.pubkey().to_string()}))
        .await
        .unwrap();
    assert_action_headers(response.headers(), &genesis);
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["message"],
        "only the room's host can end it with their wallet"
    );
    assert_eq!(body["error"]["code"], "forbidden");
    let (status, body) = json_of(
        http()
            .get(format!(
                "{}/api/actions/end-room?room=not-a-room",
                server.url()
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("room"));

    // The host's account: an unsigned transaction, fee payer and sole signer = host.
    let (status, answer) = json_of(
        post(json!({"account": host.pubkey().to_string()}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["type"], "transaction");
    let bytes = B64.decode(answer["transaction"].as_str().unwrap()).unwrap();
    let mut tx: solana_transaction::Transaction = bincode::deserialize(&bytes).unwrap();
    assert_eq!(tx.message.header.num_required_signatures, 1);
    assert_eq!(tx.signatures, vec![Default::default()], "unsigned");
    assert_eq!(tx.message.account_keys[0], host.pubkey());
    assert!(!tx
        .message
        .account_keys
        .contains(&server.state.chain.signer_pubkey()));
    assert_eq!(tx.message.instructions.len(), 1);
    assert!(server
        .state
        .chain
        .rpc()
        .is_blockhash_valid(&tx.message.recent_blockhash, Default::default())
        .await
        .unwrap());
    // Still a room, untouched: building the transaction changes nothing.
    let on_chain = server.state.chain.room(&address).await.unwrap().unwrap();
    assert_eq!(on_chain.status, RoomStatus::Created);

    // A page on the API's origin may send it through the cluster RPC the server names.
    let preflight = http()
        .request(
            reqwest::Method::OPTIONS,
            server.state.info.rpc_url.as_deref().unwrap(),
        )
        .header("origin", server.url())
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");

    // The host signs and sends it: the room ends on-chain, signed by the host.
    let rpc = server.state.chain.rpc();
    rpc.request_airdrop(&host.pubkey(), 1_000_000_000)
        .await
        .unwrap();
    let blockhash = tx.message.recent_blockhash;
    tx.try_sign(&[&host], blockhash).unwrap();
    let signed = B64.encode(bincode::serialize(&tx).unwrap());
    let sent = rpc_call(
        &server,
        "sendTransaction",
        json!([signed, {"encoding": "base64"}]),
    )
    .await;
    let signature = sent["result"]
        .as_str()
        .unwrap_or_else(|| panic!("{sent}"))
        .to_string();
    assert_eq!(signature, tx.signatures[0].to_string());
    eventually_confirmed(&server, &signature).await;
    let on_chain = server.state.chain.room(&address).await.unwrap().unwrap();
    assert_eq!(on_chain.status, RoomStatus::Ended);
    assert!(on_chain.ended_at.is_some());
    // With no page listening, the server still notices and stops the broadcast at Cloudflare.
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let mut disabled = false;
    for _ in 0..100 {
        if !emulator.live_input(&sid).unwrap().enabled {
            disabled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        disabled,
        "the live input of the room ended on-chain is disabled"
    );
    let fetched = rpc_call(
        &server,
        "getTransaction",
        json!([signature, {"encoding": "json"}]),
    )
    .await;
    let keys = &fetched["result"]["transaction"]["message"]["accountKeys"];
    assert_eq!(keys[0], host.pubkey().to_string(), "{fetched}");
    assert_eq!(
        fetched["result"]["transaction"]["signatures"][0],
        signature.to_string()
    );
    assert!(fetched["result"]["meta"]["err"].is_null(), "{fetched}");

    // Afterwards: the Action says so, and refuses another transaction.
    let (status, meta) = json_of(http().get(&action).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(meta["disabled"], true);
    assert_eq!(meta["error"]["message"], "this room has already ended");
    let (status, body) = json_of(
        post(json!({"account": host.pubkey().to_string()}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(body["error"]["code"], "room_ended");
    server.shutdown().await.unwrap();
}

async fn rpc_call(server: &Server, method: &str, params: Value) -> Value {
    http()
        .post(server.state.info.rpc_url.as_deref().unwrap())
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn eventually_confirmed(server: &Server, signature: &str) {
    for _ in 0..100 {
        let status = rpc_call(server, "getSignatureStatuses", json!([[signature]])).await;
        let s = &status["result"]["value"][0];
        if !s.is_null() && s["confirmationStatus"] != Value::Null {
            assert!(s["err"].is_null(), "{status}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{signature} did not confirm");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_events_start_with_the_current_state_and_follow_changes_until_ended() {
    let server = start(&[]).await;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let host = Keypair::new();
    let room = create_room(&server, &host.pubkey().to_string(), "Evented").await;
    let address: roomcast_chain::Pubkey = room["room"].as_str().unwrap().parse().unwrap();
    let sid = room["SessionID"].as_str().unwrap().to_string();

    // By session id and by address, two listeners share one poller.
    let mut by_sid = Events::open(&http(), &server.url(), &sid)
        .await
        .expect("the events stream opens");
    let mut by_address = Events::open(&http(), &server.url(), &address.to_string())
        .await
        .expect("the events stream opens");
    for events in [&mut by_sid, &mut by_address] {
        let first = events.next().await.unwrap();
        assert_eq!(first["room"], address.to_string());
        assert_eq!(first["sessionId"], sid);
        assert_eq!(first["title"], "Evented");
        assert_eq!(first["host"], host.pubkey().to_string());
        assert_eq!(first["status"], "created");
        assert_eq!(first["broadcasting"], false);
        assert_eq!(first["endedAt"], Value::Null);
    }
    assert_eq!(server.state.feeds.watched(), 1);

    // A rename through the API reaches both.
    let (status, _) = json_of(
        http()
            .patch(format!("{}/api/rooms/{sid}", server.url()))
            .bearer_auth(OPERATOR_KEY)
            .json(&json!({ "title": "Renamed live" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for events in [&mut by_sid, &mut by_address] {
        let next = events.next().await.unwrap();
        assert_eq!(next["title"], "Renamed live");
        assert_eq!(next["status"], "created");
    }

    // The host ends it straight on-chain with their wallet: both see `ended`, their streams end,
    // and the live input is disabled at Cloudflare (the publisher is dropped).
    assert!(emulator.live_input(&sid).unwrap().enabled);
    let wallet = RoomcastChain::new(
        server.state.info.rpc_url.as_deref().unwrap(),
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
    for events in [&mut by_sid, &mut by_address] {
        let ended = events.next().await.unwrap();
        assert_eq!(ended["status"], "ended");
        assert_eq!(ended["broadcasting"], false);
        assert!(ended["endedAt"].as_i64().is_some());
        assert_eq!(events.next().await, None, "the stream ends after `ended`");
    }
    assert!(!emulator.live_input(&sid).unwrap().enabled);
    assert_eq!(server.state.feeds.watched(), 0);

    // Listening to an ended room: one `ended` event, then the end. Unknown rooms: 404, bad ids 400.
    let mut late = Events::open(&http(), &server.url(), &sid)
        .await
        .expect("the events stream opens");
    assert_eq!(late.next().await.unwrap()["status"], "ended");
    assert_eq!(late.next().await, None);
    let unknown = "0123456789abcdef0123456789abcdef";
    let (status, body) = json_of(
        http()
            .get(format!("{}/api/rooms/{unknown}/events", server.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = json_of(
        http()
            .get(format!("{}/api/rooms/nope/events", server.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_room_id");
    server.shutdown().await.unwrap();
}

/// Issue 17.1: a phishing page on another domain asks this server for a sign-in input with its own
/// `Host` and `X-Forwarded-Proto`, has the victim's wallet sign it (the wallet's domain check passes
/// on the phishing page), and posts it back. The input names this server's origin whatever the
/// headers say, and a message for any other domain is refused as such, even with a valid nonce.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phishing_page_cannot_turn_a_wallet_signature_into_a_session() {
    let server = start(&[]).await;
    let victim = Keypair::new();
    let address = victim.pubkey().to_string();

    let response = http()
        .get(format!("{}/api/auth/nonce", server.url()))
        .header("host", "evil.example")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "evil.example")
        .send()
        .await
        .unwrap();
    let (status, input) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{input}");
    assert_eq!(input["domain"], server.addr.to_string());
    assert_eq!(input["uri"], format!("{}/host", server.url()));

    // The phishing page renders the input for its own domain; the victim signs that.
    let mut phished = input.clone();
    phished["domain"] = json!("evil.example");
    phished["uri"] = json!("https://evil.example/host");
    let text = siws_text(&phished, &address);
    let (status, body) = post_sign_in(&server, &sign_in_body(&victim, &text)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "wrong_domain");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&server.url()),
        "{body}"
    );
    // Only the URI swapped: refused too.
    let mut uri_only = nonce(&server).await;
    uri_only["uri"] = json!("https://evil.example/host");
    let text = siws_text(&uri_only, &address);
    let (status, body) = post_sign_in(&server, &sign_in_body(&victim, &text)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "wrong_domain");
    // The refused nonce is spent: the right message with it no longer opens a session.
    let text = siws_text(&uri_only, &address);
    let (status, body) = post_sign_in(&server, &sign_in_body(&victim, &text)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unknown_nonce");

    // The same wallet signing in on this server itself still works.
    let token = sign_in(&server, &victim).await;
    assert!(token.starts_with("rcs_"));

    // The Action icon does not follow a spoofed Host/X-Forwarded-Proto either.
    let host = Keypair::new().pubkey().to_string();
    let room = create_room(&server, &host, "Icon room").await;
    let response = http()
        .get(format!(
            "{}/api/actions/end-room?room={}",
            server.url(),
            room["SessionID"].as_str().unwrap()
        ))
        .header("host", "evil.example")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let (status, meta) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{meta}");
    assert_eq!(meta["icon"], format!("{}/assets/icon.svg", server.url()));
    server.shutdown().await.unwrap();
}

/// With `ROOMCAST_PUBLIC_ORIGIN` the sign-in names that origin (what the wallet shows: "rooms.example.com
/// wants you to sign in"), a message for it opens a session, and the Action icon uses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_is_bound_to_the_configured_public_origin() {
    let server = start(&["--public-origin", "https://rooms.example.com"]).await;
    let wallet = Keypair::new();
    let input = nonce(&server).await;
    assert_eq!(input["domain"], "rooms.example.com");
    assert_eq!(input["uri"], "https://rooms.example.com/host");
    let token = sign_in(&server, &wallet).await;
    assert!(token.starts_with("rcs_"));
    // A message for the listen address is not for this origin.
    let mut local = nonce(&server).await;
    local["domain"] = json!(server.addr.to_string());
    local["uri"] = json!(format!("{}/host", server.url()));
    let text = siws_text(&local, &wallet.pubkey().to_string());
    let (status, body) = post_sign_in(&server, &sign_in_body(&wallet, &text)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "wrong_domain");

    let room = create_room(&server, &wallet.pubkey().to_string(), "Origin room").await;
    let (status, meta) = json_of(
        http()
            .get(format!(
                "{}/api/actions/end-room?room={}",
                server.url(),
                room["SessionID"].as_str().unwrap()
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{meta}");
    assert_eq!(meta["icon"], "https://rooms.example.com/assets/icon.svg");
    server.shutdown().await.unwrap();
}

/// Listening on a non-loopback address without `ROOMCAST_PUBLIC_ORIGIN`, the server cannot know
/// which site hosts open, so sessions are off with a clear 503 (everything else works).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_is_off_on_a_public_listener_without_a_public_origin() {
    let mut args = super::common::serve_args(&["--operator-key", OPERATOR_KEY]);
    args.listen = "0.0.0.0:0".parse().unwrap();
    let server = Server::start(args).await.expect("server starts");
    let base = format!("http://127.0.0.1:{}", server.addr.port());
    let (status, body) = json_of(
        http()
            .get(format!("{base}/api/auth/nonce"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "sign_in_unavailable",
    );
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("ROOMCAST_PUBLIC_ORIGIN"));
    let wallet = Keypair::new();
    let text = format!(
        "127.0.0.1 wants you to sign in with your Solana account:\n{}\n\nx\n\nURI: http://127.0.0.1/host\nVersion: 1\nNonce: abcdefgh12345678",
        wallet.pubkey()
    );
    let (status, body) = json_of(
        http()
            .post(format!("{base}/api/auth/sign-in"))
            .json(&sign_in_body(&wallet, &text))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "sign_in_unavailable",
    );
    let health = http().get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    server.shutdown().await.unwrap();
}
