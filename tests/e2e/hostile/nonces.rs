//! Sign-in nonces cannot be flooded: `GET /api/auth/nonce` stores nothing (the nonce is stateless,
//! an HMAC of its own issue and expiry times), so a flood from a few addresses cannot push a real
//! user's nonce out, and in Redis mode no key is written per nonce issued — only a spent marker
//! per sign-in attempt, expiring with the nonce.
use futures_util::StreamExt;
use roomcast_chain::{Keypair, Signer};
use serde_json::{json, Value};

use super::client_from;
use crate::support::*;

/// The SIWS text a wallet renders for the server's sign-in `input` (`createSignInMessageText`).
fn siws_text(input: &Value, address: &str) -> String {
    let f = |k: &str| input[k].as_str().unwrap().to_string();
    format!(
        "{} wants you to sign in with your Solana account:\n{address}\n\n{}\n\nURI: {}\nVersion: {}\nNonce: {}\nIssued At: {}\nExpiration Time: {}",
        f("domain"), f("statement"), f("uri"), f("version"), f("nonce"), f("issuedAt"), f("expirationTime")
    )
}

fn sign_in_body(wallet: &Keypair, text: &str) -> Value {
    use base64::Engine;
    json!({
        "address": wallet.pubkey().to_string(),
        "signedMessage": base64::engine::general_purpose::STANDARD.encode(text.as_bytes()),
        "signature": wallet.sign_message(text.as_bytes()).to_string(),
    })
}

/// `total` nonce requests from the loopback sources `sources`, 32 at a time; how many got 200.
async fn flood(base: &str, sources: &[u8], total: usize) -> usize {
    let clients: Vec<reqwest::Client> = sources.iter().map(|n| client_from(*n)).collect();
    futures_util::stream::iter(0..total)
        .map(|i| {
            let client = clients[i % clients.len()].clone();
            let url = format!("{base}/api/auth/nonce");
            async move {
                client
                    .get(url)
                    .send()
                    .await
                    .map(|r| r.status() == 200)
                    .unwrap_or(false)
            }
        })
        .buffer_unordered(32)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await
}

async fn nonce_from(client: &reqwest::Client, base: &str) -> Value {
    let r = client
        .get(format!("{base}/api/auth/nonce"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    r.json().await.unwrap()
}

async fn sign_in(client: &reqwest::Client, base: &str, body: &Value) -> (u16, Value) {
    let r = client
        .post(format!("{base}/api/auth/sign-in"))
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_nonce_flood_from_a_few_addresses_does_not_break_a_real_sign_in() {
    let s = Server::start(&[]);
    let user = client_from(60);
    let wallet = wallet();
    let input = nonce_from(&user, &s.base).await;
    let n = input["nonce"].as_str().unwrap();
    assert!(
        n.len() >= 8 && n.chars().all(|c| c.is_ascii_alphanumeric()),
        "{n}"
    );

    let flooded = flood(&s.base, &[61, 62, 63, 64], 20_000).await;
    assert_eq!(flooded, 20_000);

    // The nonce issued before the flood still signs in, once.
    let body = sign_in_body(&wallet, &siws_text(&input, &wallet.pubkey().to_string()));
    let (status, session) = sign_in(&user, &s.base, &body).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["wallet"], wallet.pubkey().to_string());
    let (status, refused) = sign_in(&user, &s.base, &body).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (401, Some("unknown_nonce"))
    );
    // A nonce this server never issued (right shape, wrong tag) is unknown.
    let mut forged = nonce_from(&user, &s.base).await;
    let real = forged["nonce"].as_str().unwrap().to_string();
    let last = if real.ends_with('A') { "B" } else { "A" };
    forged["nonce"] = json!(format!("{}{last}", &real[..real.len() - 1]));
    let body = sign_in_body(&wallet, &siws_text(&forged, &wallet.pubkey().to_string()));
    let (status, refused) = sign_in(&user, &s.base, &body).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (401, Some("unknown_nonce"))
    );
}

#[tokio::test]
async fn in_redis_mode_issuing_nonces_writes_no_key_and_spent_ones_expire() {
    let node = Localnet::start();
    node.init_registry(&node.faucet.pubkey());
    let redis = RedisProc::start();
    let emulator = EmulatorProc::start();
    let mut env: Vec<(&str, String)> = emulator.server_env();
    env.extend([
        ("SOLANA_RPC_URL", node.rpc_url.clone()),
        (
            "ROOMCAST_REGISTRAR_KEYPAIR",
            node.faucet_path.to_str().unwrap().to_string(),
        ),
        ("ROOMCAST_REDIS_URL", redis.url()),
        ("ROOMCAST_PUBLIC_ORIGIN", "https://rooms.test".to_string()),
    ]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = Server::start(&env);
    let b = Server::start(&env);

    let siws_keys = || redis.cli(&["--scan", "--pattern", "*siws*"]);
    let flooded = flood(&a.base, &[71, 72, 73], 2_000).await;
    assert_eq!(flooded, 2_000);
    assert_eq!(siws_keys(), "", "issuing nonces stores nothing");

    // A nonce issued by one replica signs in on another, once.
    let user = client_from(74);
    let wallet = wallet();
    let input = nonce_from(&user, &a.base).await;
    assert_eq!(input["domain"], "rooms.test");
    let body = sign_in_body(&wallet, &siws_text(&input, &wallet.pubkey().to_string()));
    let (status, session) = sign_in(&user, &b.base, &body).await;
    assert_eq!(status, 200, "{session}");
    let (status, refused) = sign_in(&user, &a.base, &body).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (401, Some("unknown_nonce"))
    );
    // One spent marker, expiring with the nonce (the sign-in TTL: 300 s by default).
    let keys = siws_keys();
    assert_eq!(keys.lines().count(), 1, "{keys}");
    assert!(keys.contains(":siws:spent:"), "{keys}");
    let ttl: i64 = redis.cli(&["TTL", keys.trim()]).parse().unwrap();
    assert!(ttl > 0 && ttl <= 300, "{ttl}");
}
