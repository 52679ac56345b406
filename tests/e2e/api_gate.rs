//! Issue 21: token-gated rooms through the API, in process (embedded local node running the real
//! token programs, Stream emulator enforcing signed URLs). A gated room is created with its gate in
//! one transaction and an input that requires signed URLs; public reads show the gate and never a
//! playable URL; `POST /api/rooms/{room}/playback` grants a holder signed URLs the emulator plays,
//! refuses a non-holder with the amounts, and refuses the same wallet once its tokens moved away.
use reqwest::{Method, StatusCode};
use roomcast_app::Server;
use roomcast_chain::token::{self, SPL_TOKEN_PROGRAM_ID};
use roomcast_chain::{Keypair, Pubkey, RoomcastChain, Signer};
use serde_json::{json, Value};

const OPERATOR_KEY: &str = "test-operator-key-0123456789abcdef";
const SOL: u64 = 1_000_000_000;

async fn start(extra: &[&str]) -> Server {
    let mut argv = vec![
        "--operator-key",
        OPERATOR_KEY,
        "--room-cache-ms",
        "0",
        "--reconcile-interval-secs",
        "0",
    ];
    argv.extend_from_slice(extra);
    let mut full = vec![
        "roomcast",
        "--listen",
        "127.0.0.1:0",
        "--rtmp-listen",
        "127.0.0.1:0",
        "--srt-listen",
        "127.0.0.1:0",
        "--ephemeral",
    ];
    full.extend_from_slice(&argv);
    let args = <Cli as clap::Parser>::parse_from(full).serve;
    Server::start(args).await.expect("server starts")
}

#[derive(clap::Parser)]
struct Cli {
    #[command(flatten)]
    serve: roomcast_api::ServeArgs,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A wallet-signed request (roomcast-auth) with an empty body. Each one is signed at its own
/// timestamp (a second back each time, well inside the allowed skew): the same bytes signed twice
/// would be a replay, which the server refuses.
async fn as_wallet(
    server: &Server,
    wallet: &Keypair,
    method: Method,
    path: &str,
) -> (StatusCode, Value) {
    // A signed request is single-use (its signature is spent): each of a wallet's requests is
    // signed at a second none of its earlier ones used (now, or one before its last), counted per
    // wallet so that the whole suite's requests never push a timestamp out of the accepted clock
    // skew (one counter for the process did).
    static LAST: std::sync::Mutex<Option<std::collections::HashMap<String, i64>>> =
        std::sync::Mutex::new(None);
    let timestamp = {
        let mut last = LAST.lock().unwrap();
        let last = last
            .get_or_insert_with(Default::default)
            .entry(wallet.pubkey().to_string())
            .or_insert(i64::MAX);
        *last = now().min(last.saturating_sub(1));
        *last
    };
    let message = roomcast_api::guard::auth::canonical_message(
        &server.state.info.auth_audience,
        method.as_str(),
        path,
        timestamp,
        b"",
    );
    let signature = wallet.sign_message(message.as_bytes());
    let response = reqwest::Client::new()
        .request(method, format!("{}{path}", server.url()))
        .header("x-roomcast-wallet", wallet.pubkey().to_string())
        .header("x-roomcast-timestamp", timestamp.to_string())
        .header("x-roomcast-signature", signature.to_string())
        .send()
        .await
        .unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn as_operator(
    server: &Server,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", server.url()))
        .bearer_auth(OPERATOR_KEY);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn get(url: &str) -> (StatusCode, Value) {
    let response = reqwest::get(url).await.unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

/// A funded wallet on the server's embedded node, as a chain client (it signs and pays).
async fn funded(server: &Server) -> RoomcastChain {
    funded_as(server, Keypair::new()).await
}

async fn funded_as(server: &Server, wallet: Keypair) -> RoomcastChain {
    let node = server.upstreams.node.as_ref().unwrap();
    let chain = RoomcastChain::new(&node.rpc_url(), wallet, node.program_id()).unwrap();
    chain
        .rpc()
        .request_airdrop(&chain.signer_pubkey(), 10 * SOL)
        .await
        .unwrap();
    chain
}

async fn create_mint(issuer: &RoomcastChain, decimals: u8) -> Pubkey {
    let mint = Keypair::new();
    let rent = issuer
        .rpc()
        .get_minimum_balance_for_rent_exemption(token::MINT_LEN)
        .await
        .unwrap();
    let me = issuer.signer_pubkey();
    let ixs = token::create_mint_ixs(
        &me,
        &mint.pubkey(),
        &me,
        decimals,
        &SPL_TOKEN_PROGRAM_ID,
        rent,
    );
    issuer.send_instructions(&ixs, &[&mint]).await.unwrap();
    mint.pubkey()
}

async fn mint_to(
    issuer: &RoomcastChain,
    mint: &Pubkey,
    owner: &Pubkey,
    amount: u64,
    decimals: u8,
) -> Pubkey {
    let me = issuer.signer_pubkey();
    let ata = token::associated_token_address(owner, mint, &SPL_TOKEN_PROGRAM_ID);
    issuer
        .send_instructions(
            &[
                token::create_associated_account_ix(&me, owner, mint, &SPL_TOKEN_PROGRAM_ID),
                token::mint_to_ix(&SPL_TOKEN_PROGRAM_ID, mint, &ata, &me, amount, decimals),
            ],
            &[],
        )
        .await
        .unwrap();
    ata
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_plays_a_gated_room_a_non_holder_is_refused_and_public_reads_never_leak_urls() {
    let server = start(&[]).await;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let issuer = funded(&server).await;
    let mint = create_mint(&issuer, 6).await;
    let host = Keypair::new();
    let viewer_wallet = Keypair::new();
    let viewer = funded_as(&server, viewer_wallet.insecure_clone()).await;

    // A gated room: its gate on-chain (paid by the registrar), its input requiring signed URLs.
    let (status, created) = as_operator(
        &server,
        Method::POST,
        "/api/create",
        Some(
            json!({"title": "Holders", "host": host.pubkey().to_string(),
                    "gate": {"mint": mint.to_string(), "minAmount": 2_000_000}}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let room: Pubkey = created["room"].as_str().unwrap().parse().unwrap();
    let uid = created["sessionId"].as_str().unwrap().to_string();
    let gate = server
        .state
        .chain
        .gate(&room)
        .await
        .unwrap()
        .expect("gate on-chain");
    assert_eq!(
        (gate.mint, gate.min_amount, gate.decimals),
        (mint, 2_000_000, 6)
    );
    assert_eq!(gate.payer, server.state.chain.signer_pubkey());
    let input = emulator.live_input(&uid).unwrap();
    assert_eq!(input.recording.require_signed_urls, Some(true));

    // An ungated room keeps the original contract: playback present, no gate key.
    let (_, open) = as_operator(
        &server,
        Method::POST,
        "/api/create",
        Some(json!({"title": "Open", "host": host.pubkey().to_string()})),
    )
    .await;
    let open_room = open["room"].as_str().unwrap().to_string();
    let (_, open_view) = get(&format!("{}/api/rooms/{open_room}", server.url())).await;
    let keys: Vec<_> = open_view["playback"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, ["dash", "hls", "iframe", "webrtc"]);
    assert!(open_view.get("gate").is_none(), "{open_view}");

    // Public reads of the gated room: the gate, no playback, anywhere.
    let expected_gate = json!({"mint": mint.to_string(), "minAmount": "2000000", "decimals": 6,
                               "tokenProgram": SPL_TOKEN_PROGRAM_ID.to_string()});
    for url in [
        format!("{}/api/rooms/{room}", server.url()),
        format!("{}/api/livestream?sessionId={uid}", server.url()),
    ] {
        let (status, view) = get(&url).await;
        assert_eq!(status, 200, "{view}");
        assert!(view.get("playback").is_none(), "{url}: {view}");
        assert_eq!(view["gate"], expected_gate);
    }
    let (_, listing) = get(&format!("{}/api/rooms", server.url())).await;
    let item = listing["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["sessionId"] == uid.as_str())
        .expect("gated room listed")
        .clone();
    assert!(item.get("playback").is_none(), "{item}");
    assert_eq!(item["gate"], expected_gate);
    assert!(
        !listing.to_string().contains(&format!("{uid}/manifest")),
        "no unsigned URL of the gated room"
    );

    // A wallet without the token: 403 with the amounts.
    let path = format!("/api/rooms/{room}/playback");
    let (status, refused) = as_wallet(&server, &viewer_wallet, Method::POST, &path).await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["error"]["code"], "not_a_holder");
    assert_eq!(
        refused["error"]["message"],
        format!("this room is for holders of at least 2 of {mint} (2000000 raw units); this wallet holds 0 (0 raw units)")
    );

    // With 2.5 tokens: signed URLs that play at the emulator; the unsigned uid does not.
    let ata = mint_to(&issuer, &mint, &viewer.signer_pubkey(), 2_500_000, 6).await;
    let before = now();
    let (status, granted) = as_wallet(&server, &viewer_wallet, Method::POST, &path).await;
    assert_eq!(status, 200, "{granted}");
    assert_eq!(granted["held"], "2500000");
    assert_eq!(granted["gate"], expected_gate);
    let expires_at = granted["expiresAt"].as_i64().unwrap();
    assert!(
        expires_at >= before + 600 && expires_at <= now() + 600,
        "{expires_at}"
    );
    let hls = granted["playback"]["hls"].as_str().unwrap().to_string();
    assert!(
        !hls.contains(&uid),
        "the uid is replaced by the token: {hls}"
    );
    emulator.connect(&uid).await.unwrap();
    let manifest = reqwest::get(&hls).await.unwrap();
    assert_eq!(manifest.status(), 200);
    assert!(manifest.text().await.unwrap().starts_with("#EXTM3U"));
    let unsigned = format!("{}/{uid}/manifest/video.m3u8", emulator.delivery_base_url());
    assert_eq!(reqwest::get(&unsigned).await.unwrap().status(), 401);

    // The host and the operator always play (no holdings checked).
    let (status, hosted) = as_wallet(&server, &host, Method::POST, &path).await;
    assert_eq!(
        (status, &hosted["held"]),
        (StatusCode::OK, &Value::Null),
        "{hosted}"
    );
    let (status, operated) = as_operator(&server, Method::POST, &path, None).await;
    assert_eq!(status, 200, "{operated}");

    // The tokens move away: the next grant (a page's renewal) is refused.
    let elsewhere = Keypair::new().pubkey();
    let to = token::associated_token_address(&elsewhere, &mint, &SPL_TOKEN_PROGRAM_ID);
    let me = viewer.signer_pubkey();
    viewer
        .send_instructions(
            &[
                token::create_associated_account_ix(&me, &elsewhere, &mint, &SPL_TOKEN_PROGRAM_ID),
                token::transfer_ix(&SPL_TOKEN_PROGRAM_ID, &ata, &mint, &to, &me, 1_000_000, 6),
            ],
            &[],
        )
        .await
        .unwrap();
    let (status, refused) = as_wallet(&server, &viewer_wallet, Method::POST, &path).await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .ends_with("this wallet holds 1.5 (1500000 raw units)"));

    // An ungated room's grant: its plain URLs, no expiry.
    let (status, plain) = as_wallet(
        &server,
        &viewer_wallet,
        Method::POST,
        &format!("/api/rooms/{open_room}/playback"),
    )
    .await;
    assert_eq!(status, 200, "{plain}");
    assert_eq!(plain["expiresAt"], Value::Null);
    assert_eq!(plain["playback"]["hls"], open_view["playback"]["hls"]);

    // Ended: 410 as every viewer read.
    let (status, _) = as_operator(
        &server,
        Method::POST,
        &format!("/api/rooms/{room}/end"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, gone) = as_operator(&server, Method::POST, &path, None).await;
    assert_eq!(
        (status, &gone["error"]["code"]),
        (StatusCode::GONE, &json!("room_ended"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gate_must_name_a_token_mint_and_a_positive_amount() {
    let server = start(&[]).await;
    let host = Keypair::new().pubkey().to_string();
    let wallet = Keypair::new().pubkey().to_string();
    for (gate, message) in [
        (
            json!({"mint": wallet, "minAmount": 1}),
            format!("gate.mint {wallet} is not an SPL Token or Token-2022 mint on this cluster"),
        ),
        (
            json!({"mint": "not-base58!", "minAmount": 1}),
            "gate.mint must be a base58 address".to_string(),
        ),
        (
            json!({"mint": wallet, "minAmount": 0}),
            "gate.minAmount must be at least 1 (raw units)".to_string(),
        ),
    ] {
        let (status, body) = as_operator(
            &server,
            Method::POST,
            "/api/create",
            Some(json!({"title": "Bad gate", "host": host, "gate": gate})),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            body["error"],
            json!({"code": "invalid_gate", "message": message})
        );
    }
    assert!(
        server
            .upstreams
            .emulator
            .as_ref()
            .unwrap()
            .live_inputs()
            .is_empty(),
        "nothing was made"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_are_rate_limited_per_wallet() {
    let server = start(&["--playback-grants-per-minute", "2"]).await;
    let host = Keypair::new();
    let (_, open) = as_operator(
        &server,
        Method::POST,
        "/api/create",
        Some(json!({"title": "Open", "host": host.pubkey().to_string()})),
    )
    .await;
    let path = format!("/api/rooms/{}/playback", open["room"].as_str().unwrap());
    let wallet = Keypair::new();
    for _ in 0..2 {
        assert_eq!(
            as_wallet(&server, &wallet, Method::POST, &path).await.0,
            200
        );
    }
    let (status, body) = as_wallet(&server, &wallet, Method::POST, &path).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
}
