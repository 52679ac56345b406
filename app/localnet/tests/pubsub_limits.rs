//! Issue 17 item 8: what one PubSub client can take from the local node is bounded. One connection
//! may hold at most `PubsubLimits::max_subscriptions_per_connection` subscriptions (then a JSON-RPC
//! error), so a greedy client can no longer take the node's whole budget and starve another (the
//! API's chain watcher); and a client that opens TCP but never completes the WebSocket upgrade is
//! dropped after `PubsubLimits::handshake_timeout`. Both were unbounded before.
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use roomcast_localnet::pubsub::PubsubLimits;
use roomcast_localnet::{LocalNode, NodeOptions};
use serde_json::{json, Value};
use solana_pubkey::Pubkey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

/// Generous bound for things that must happen; only reached when a test fails.
const EVENTUALLY: Duration = Duration::from_secs(30);

/// The node-wide budget in these tests: more than one connection's share.
const NODE_BUDGET: usize = 3_000;

async fn node() -> LocalNode {
    LocalNode::start(NodeOptions {
        pubsub: PubsubLimits {
            max_subscriptions: NODE_BUDGET,
            ..PubsubLimits::default()
        },
        ..NodeOptions::default()
    })
    .await
    .unwrap()
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Sends a batch of `accountSubscribe` calls on fresh addresses (never notified); returns the
/// answers in id order.
async fn subscribe_batch(ws: &mut Socket, first_id: u64, n: u64) -> Vec<Value> {
    let calls: Vec<Value> = (first_id..first_id + n)
        .map(|id| {
            json!({"jsonrpc": "2.0", "id": id, "method": "accountSubscribe",
                   "params": [Pubkey::new_unique().to_string(), {"encoding": "base64"}]})
        })
        .collect();
    ws.send(Message::text(Value::Array(calls).to_string()))
        .await
        .unwrap();
    loop {
        let message = tokio::time::timeout(EVENTUALLY, ws.next())
            .await
            .expect("an answer")
            .expect("open")
            .expect("a message");
        if let Message::Text(text) = message {
            let mut answers: Vec<Value> = serde_json::from_str(text.as_str()).unwrap();
            answers.sort_by_key(|a| a["id"].as_u64());
            return answers;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_cannot_take_every_subscription() {
    let node = node().await;
    let cap = PubsubLimits::default().max_subscriptions_per_connection;
    assert_eq!(cap, 1_000, "the documented default (README)");
    let (mut greedy, _) = tokio_tungstenite::connect_async(node.ws_url())
        .await
        .unwrap();
    // The greedy client asks for the whole node budget, 100 at a time.
    let mut granted = 0;
    let mut refused = Vec::new();
    for batch in 0..(NODE_BUDGET as u64 / 100) {
        for answer in subscribe_batch(&mut greedy, batch * 100 + 1, 100).await {
            match answer.get("result") {
                Some(id) if id.is_u64() => granted += 1,
                _ => refused.push(answer),
            }
        }
    }
    assert_eq!(granted, cap, "one connection gets its share, no more");
    assert_eq!(refused.len(), NODE_BUDGET - cap);
    assert_eq!(
        refused[0]["error"],
        json!({
            "code": -32603,
            "message": format!(
                "Internal Error: Subscription refused. This connection holds {cap} subscriptions, the most one connection may hold"
            ),
        }),
        "{}",
        refused[0]
    );

    // Another client (the API's chain watcher) still subscribes.
    let (mut other, _) = tokio_tungstenite::connect_async(node.ws_url())
        .await
        .unwrap();
    let answers = subscribe_batch(&mut other, 1, 1).await;
    assert!(answers[0]["result"].is_u64(), "{}", answers[0]);

    node.shutdown().await.unwrap();
}

/// Reads until the server closes the connection; `true` if it did within [`EVENTUALLY`].
async fn closed_by_server(stream: &mut tokio::net::TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    let wait = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    };
    tokio::time::timeout(EVENTUALLY, wait).await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_finishes_the_upgrade_is_dropped() {
    let node = node().await;
    let addr = node.ws_url().trim_start_matches("ws://").to_string();
    // Connects and says nothing.
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Starts an upgrade request and never finishes it.
    let mut trickle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    trickle
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n")
        .await
        .unwrap();
    assert!(closed_by_server(&mut silent).await, "silent client kept");
    assert!(
        closed_by_server(&mut trickle).await,
        "trickling client kept"
    );
    // A real client still gets in.
    let (mut ws, _) = tokio_tungstenite::connect_async(node.ws_url())
        .await
        .unwrap();
    assert!(subscribe_batch(&mut ws, 1, 1).await[0]["result"].is_u64());
    node.shutdown().await.unwrap();
}
