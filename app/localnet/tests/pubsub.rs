//! WebSocket PubSub: each method's subscribe/notify/unsubscribe with Agave's shapes, errors, slow
//! consumers and 1,000 concurrent subscriptions.
mod common;

use std::collections::VecDeque;
use std::time::Duration;

use anchor_lang::AccountDeserialize;
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use common::*;
use futures_util::{SinkExt, StreamExt};
use roomcast_localnet::pubsub::PubsubLimits;
use roomcast_localnet::{LocalNode, NodeOptions};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Long enough for anything that should arrive; only reached when a test fails.
const WAIT: Duration = Duration::from_secs(10);

struct Ws {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Notifications read while waiting for a response.
    pending: VecDeque<Value>,
}

impl Ws {
    async fn connect(url: &str) -> Ws {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("websocket connects");
        Ws {
            socket,
            next_id: 1,
            pending: VecDeque::new(),
        }
    }

    async fn send_text(&mut self, text: String) {
        self.socket.send(Message::text(text)).await.expect("send");
    }

    async fn read(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("a message within the wait")
                .expect("socket open")
                .expect("websocket message");
            if let Message::Text(text) = message {
                return serde_json::from_str(text.as_str()).expect("json message");
            }
        }
    }

    /// Sends a call; returns the whole response envelope (notifications read meanwhile are kept).
    async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send_text(
            json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }).to_string(),
        )
        .await;
        loop {
            let message = self.read().await;
            if message.get("id") == Some(&json!(id)) {
                return message;
            }
            self.pending.push_back(message);
        }
    }

    async fn subscribe(&mut self, method: &str, params: Value) -> u64 {
        let response = self.call(method, params).await;
        assert_eq!(keys(&response), ["id", "jsonrpc", "result"], "{response}");
        response["result"].as_u64().expect("subscription id")
    }

    async fn notification(&mut self) -> Value {
        match self.pending.pop_front() {
            Some(n) => n,
            None => self.read().await,
        }
    }

    /// The next notification, checked to be `method` for `subscription`; returns its `result`.
    async fn expect(&mut self, method: &str, subscription: u64) -> Value {
        let n = self.notification().await;
        assert_eq!(keys(&n), ["jsonrpc", "method", "params"], "{n}");
        assert_eq!(n["jsonrpc"], "2.0");
        assert_eq!(n["method"], method, "{n}");
        assert_eq!(keys(&n["params"]), ["result", "subscription"], "{n}");
        assert_eq!(n["params"]["subscription"], subscription, "{n}");
        n["params"]["result"].clone()
    }
}

async fn node_with(limits: PubsubLimits) -> Rpc {
    let node = LocalNode::start(NodeOptions {
        pubsub: limits,
        ..NodeOptions::default()
    })
    .await
    .expect("node starts");
    Rpc::with_node(node)
}

/// `{context: {slot}, value}` of a notification (no apiVersion, as Agave's PubSub).
fn notified(result: &Value) -> (u64, Value) {
    assert_eq!(keys(result), ["context", "value"], "{result}");
    assert_eq!(keys(&result["context"]), ["slot"], "{result}");
    (
        result["context"]["slot"].as_u64().unwrap(),
        result["value"].clone(),
    )
}

async fn landed_slot(rpc: &Rpc, signature: &str) -> u64 {
    let r = rpc.ok("getSignatureStatuses", json!([[signature]])).await;
    r["value"][0]["slot"].as_u64().expect("landed")
}

#[tokio::test]
async fn ws_port_is_rpc_port_plus_one() {
    let rpc = Rpc::start().await;
    let port = rpc.node.addr().port();
    assert_eq!(rpc.node.ws_url(), format!("ws://127.0.0.1:{}", port + 1));
    // An explicit address is honoured.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ws_addr = free.local_addr().unwrap();
    drop(free);
    let node = LocalNode::start(NodeOptions {
        ws_listen: Some(ws_addr),
        ..NodeOptions::default()
    })
    .await
    .unwrap();
    assert_eq!(node.ws_url(), format!("ws://{ws_addr}"));
    let mut ws = Ws::connect(&node.ws_url()).await;
    assert!(ws.subscribe("slotSubscribe", json!([])).await > 0);
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn account_subscribe_notifies_writes_in_each_encoding_until_unsubscribed() {
    let rpc = Rpc::start().await;
    let mut ws = Ws::connect(&rpc.node.ws_url()).await;
    let watched = Keypair::new().pubkey();
    let other = Keypair::new().pubkey();
    let b64 = ws
        .subscribe(
            "accountSubscribe",
            json!([watched.to_string(), { "encoding": "base64", "commitment": "confirmed" }]),
        )
        .await;
    let default = ws
        .subscribe("accountSubscribe", json!([watched.to_string()]))
        .await;
    assert_ne!(b64, default);

    let sig = rpc.airdrop(&watched, 3 * SOL).await;
    let slot = landed_slot(&rpc, &sig).await;
    for (id, data) in [(b64, json!(["", "base64"])), (default, json!(""))] {
        let (at, value) = notified(&ws.expect("accountNotification", id).await);
        assert_eq!(at, slot);
        assert_eq!(
            value,
            json!({
                "lamports": 3 * SOL,
                "owner": "11111111111111111111111111111111",
                "data": data,
                "executable": false,
                "rentEpoch": u64::MAX,
                "space": 0,
            })
        );
    }

    let done = ws.call("accountUnsubscribe", json!([b64])).await;
    assert_eq!(done["result"], true, "{done}");
    let again = ws.call("accountUnsubscribe", json!([b64])).await;
    assert_eq!(
        again["error"],
        json!({ "code": -32602, "message": "Invalid subscription id." })
    );
    let sentinel = ws
        .subscribe("accountSubscribe", json!([other.to_string()]))
        .await;
    rpc.airdrop(&watched, SOL).await;
    rpc.airdrop(&other, SOL).await;
    // Only the remaining subscription on `watched`, then the sentinel: nothing for `b64`.
    let (_, value) = notified(&ws.expect("accountNotification", default).await);
    assert_eq!(value["lamports"], 4 * SOL);
    let (_, value) = notified(&ws.expect("accountNotification", sentinel).await);
    assert_eq!(value["lamports"], SOL);
}

#[tokio::test]
async fn program_subscribe_applies_filters_and_sends_keyed_accounts() {
    let rpc = Rpc::start().await;
    let mut ws = Ws::connect(&rpc.node.ws_url()).await;
    let a = Operator::new(&rpc).await;
    let b = Operator::new(&rpc).await;
    let host = Keypair::new();
    let sub = ws
        .subscribe(
            "programSubscribe",
            json!([program_id().to_string(), {
                "encoding": "base64",
                "commitment": "confirmed",
                "filters": [{ "memcmp": { "offset": 8, "bytes": a.registry.to_string() } }],
            }]),
        )
        .await;
    b.create_room(&rpc, &sid(2), &host.pubkey()).await;
    let (room, sig) = a.create_room(&rpc, &sid(1), &host.pubkey()).await;
    let slot = landed_slot(&rpc, &sig).await;
    // Registry b's room did not match; room a's did (its registry account was written too but
    // does not pass the filter).
    let (at, value) = notified(&ws.expect("programNotification", sub).await);
    assert_eq!(at, slot);
    assert_eq!(keys(&value), ["account", "pubkey"]);
    assert_eq!(value["pubkey"], room.to_string());
    assert_eq!(value["account"]["owner"], program_id().to_string());
    assert_eq!(value["account"]["data"][1], "base64");
    let data = B64
        .decode(value["account"]["data"][0].as_str().unwrap())
        .unwrap();
    assert_eq!(Some(data.clone()), rpc.account_data(&room).await);
    let decoded = roomcast::state::Room::try_deserialize(&mut data.as_slice()).unwrap();
    assert_eq!(decoded.registry, a.registry);
    assert_eq!(decoded.status, roomcast::state::RoomStatus::Created);

    rpc.send_ok(
        &[end_room_ix(&host.pubkey(), &a.registry, &room)],
        &[&rpc.funded_signer(&host).await],
    )
    .await;
    let (_, value) = notified(&ws.expect("programNotification", sub).await);
    assert_eq!(value["pubkey"], room.to_string());
    let data = B64
        .decode(value["account"]["data"][0].as_str().unwrap())
        .unwrap();
    let decoded = roomcast::state::Room::try_deserialize(&mut data.as_slice()).unwrap();
    assert_eq!(decoded.status, roomcast::state::RoomStatus::Ended);

    // Default encoding is binary (base58), which Agave replaces by an error text past 128 bytes.
    let binary = ws
        .subscribe("programSubscribe", json!([program_id().to_string()]))
        .await;
    b.create_room(&rpc, &sid(3), &host.pubkey()).await;
    let mut texts = Vec::new();
    for _ in 0..2 {
        // The registry (small) and the room (large), in the transaction's account order.
        let (_, value) = notified(&ws.expect("programNotification", binary).await);
        texts.push(value["account"]["data"].clone());
    }
    assert!(
        texts.contains(&json!("error: data too large for bs58 encoding")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t
        .as_str()
        .is_some_and(|s| bs58::decode(s).into_vec().is_ok())));
}

#[tokio::test]
async fn logs_subscribe_all_and_mentions() {
    let rpc = Rpc::start().await;
    let mut ws = Ws::connect(&rpc.node.ws_url()).await;
    let op = Operator::new(&rpc).await;
    let mentions = ws
        .subscribe(
            "logsSubscribe",
            json!([{ "mentions": [program_id().to_string()] }, { "commitment": "processed" }]),
        )
        .await;
    let airdrop = rpc.airdrop(&Keypair::new().pubkey(), SOL).await;
    let all = ws.subscribe("logsSubscribe", json!(["all"])).await;
    let (_, sig) = op
        .create_room(&rpc, &sid(7), &Keypair::new().pubkey())
        .await;
    let slot = landed_slot(&rpc, &sig).await;
    // The airdrop did not mention the program; the create did, and reached both subscriptions.
    let mut seen = Vec::new();
    for _ in 0..2 {
        let n = ws.notification().await;
        seen.push(n["params"]["subscription"].as_u64().unwrap());
        assert_eq!(n["method"], "logsNotification");
        let (at, value) = notified(&n["params"]["result"]);
        assert_eq!(at, slot);
        assert_eq!(keys(&value), ["err", "logs", "signature"]);
        assert_eq!(value["signature"], sig);
        assert_eq!(value["err"], Value::Null);
        let logs: Vec<&str> = value["logs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        assert_eq!(logs[0], format!("Program {} invoke [1]", program_id()));
        assert!(
            logs.iter().any(|l| l.starts_with("Program data: ")),
            "{logs:?}"
        );
        assert_eq!(
            *logs.last().unwrap(),
            format!("Program {} success", program_id())
        );
    }
    seen.sort();
    assert_eq!(seen, [mentions, all]);
    assert_ne!(airdrop, sig);

    let two = ws
        .call(
            "logsSubscribe",
            json!([{ "mentions": [program_id().to_string(), op.registry.to_string()] }]),
        )
        .await;
    assert_eq!(
        two["error"],
        json!({ "code": -32602, "message": "Invalid Request: Only 1 address supported" })
    );
    let done = ws.call("logsUnsubscribe", json!([all])).await;
    assert_eq!(done["result"], true);
}

#[tokio::test]
async fn signature_subscribe_before_and_after_landing() {
    let rpc = Rpc::start().await;
    let mut ws = Ws::connect(&rpc.node.ws_url()).await;
    let payer = rpc.funded().await;
    let to = Keypair::new().pubkey();

    // Subscribed before sending, with the "received" notification.
    let tx = rpc
        .tx(&[transfer(&payer.pubkey(), &to, SOL)], &[&payer])
        .await;
    let signature = tx.signatures[0].to_string();
    let sub = ws
        .subscribe(
            "signatureSubscribe",
            json!([signature, { "commitment": "finalized", "enableReceivedNotification": true }]),
        )
        .await;
    assert_eq!(rpc.send(&tx).await["result"], signature);
    let slot = landed_slot(&rpc, &signature).await;
    let (at, value) = notified(&ws.expect("signatureNotification", sub).await);
    assert_eq!((at, value), (slot, json!("receivedSignature")));
    let (at, value) = notified(&ws.expect("signatureNotification", sub).await);
    assert_eq!((at, value), (slot, json!({ "err": null })));
    // One-shot: the subscription is gone.
    let gone = ws.call("signatureUnsubscribe", json!([sub])).await;
    assert_eq!(gone["error"]["message"], "Invalid subscription id.");

    // Subscribed after it landed: notified at once.
    let late = ws
        .subscribe(
            "signatureSubscribe",
            json!([signature, { "commitment": "confirmed" }]),
        )
        .await;
    let (at, value) = notified(&ws.expect("signatureNotification", late).await);
    assert_eq!((at, value), (slot, json!({ "err": null })));

    // A failed transaction that landed (preflight skipped) reports its error.
    let poor = Keypair::new();
    rpc.airdrop(&poor.pubkey(), 1_000_000).await;
    let failing = rpc
        .tx(&[transfer(&poor.pubkey(), &to, 5 * SOL)], &[&poor])
        .await;
    let failing_sig = failing.signatures[0].to_string();
    let sub = ws
        .subscribe("signatureSubscribe", json!([failing_sig]))
        .await;
    let sent = rpc
        .call(
            "sendTransaction",
            json!([b64(&failing), { "encoding": "base64", "skipPreflight": true }]),
        )
        .await;
    assert_eq!(sent["result"], failing_sig, "{sent}");
    let (_, value) = notified(&ws.expect("signatureNotification", sub).await);
    assert_eq!(
        value,
        json!({ "err": { "InstructionError": [0, { "Custom": 1 }] } })
    );
}

#[tokio::test]
async fn slot_and_root_subscriptions_tick_with_the_chain() {
    let rpc = Rpc::start().await;
    let mut ws = Ws::connect(&rpc.node.ws_url()).await;
    let slots = ws.subscribe("slotSubscribe", json!([])).await;
    let roots = ws.subscribe("rootSubscribe", json!([])).await;
    let mut last_slot = 0;
    let mut last_root = 0;
    let mut slot_count = 0;
    let mut root_count = 0;
    // Slots advance with wall time (400 ms) even with no request to the node.
    while slot_count < 3 || root_count < 3 {
        let n = ws.notification().await;
        let result = &n["params"]["result"];
        match n["method"].as_str().unwrap() {
            "slotNotification" => {
                assert_eq!(n["params"]["subscription"], slots);
                assert_eq!(keys(result), ["parent", "root", "slot"]);
                let slot = result["slot"].as_u64().unwrap();
                assert!(slot > last_slot);
                assert!(result["parent"].as_u64().unwrap() < slot);
                assert_eq!(result["root"], slot);
                last_slot = slot;
                slot_count += 1;
            }
            "rootNotification" => {
                assert_eq!(n["params"]["subscription"], roots);
                let root = result.as_u64().expect("root is a number");
                assert!(root > last_root);
                last_root = root;
                root_count += 1;
            }
            other => panic!("unexpected {other}: {n}"),
        }
    }
    assert!(rpc.slot().await >= last_slot);
    assert_eq!(
        ws.call("slotUnsubscribe", json!([slots])).await["result"],
        true
    );
    assert_eq!(
        ws.call("rootUnsubscribe", json!([roots])).await["result"],
        true
    );
}

#[tokio::test]
async fn bad_requests_get_validator_errors() {
    let rpc = Rpc::start().await;
    let mut ws = Ws::connect(&rpc.node.ws_url()).await;
    let cases = [
        ("getSlot", json!([]), -32601, "Method not found"),
        ("blockSubscribe", json!(["all"]), -32601, "Method not found"),
        (
            "accountSubscribe",
            json!(["nope"]),
            -32602,
            "Invalid Request: Invalid pubkey provided",
        ),
        (
            "signatureSubscribe",
            json!(["nope"]),
            -32602,
            "Invalid Request: Invalid signature provided",
        ),
        (
            "accountUnsubscribe",
            json!([424242]),
            -32602,
            "Invalid subscription id.",
        ),
    ];
    for (method, params, code, message) in cases {
        let r = ws.call(method, params).await;
        assert_eq!(keys(&r), ["error", "id", "jsonrpc"], "{r}");
        assert_eq!(
            r["error"],
            json!({ "code": code, "message": message }),
            "{method}"
        );
    }
    let r = ws
        .call(
            "accountSubscribe",
            json!([Pubkey::new_unique().to_string(), { "commitment": "soon" }]),
        )
        .await;
    assert_eq!(r["error"]["code"], -32602);
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown variant `soon`"),
        "{r}"
    );
    let r = ws
        .call(
            "programSubscribe",
            json!([program_id().to_string(), { "encoding": "hex" }]),
        )
        .await;
    assert_eq!(r["error"]["code"], -32602);
    ws.send_text("{not json".into()).await;
    assert_eq!(
        ws.read().await,
        json!({ "jsonrpc": "2.0", "error": { "code": -32700, "message": "Parse error" }, "id": null })
    );
    // A request without id (a ping, as @solana/kit sends) gets no answer; the next call still works.
    ws.send_text(json!({ "jsonrpc": "2.0", "method": "ping" }).to_string())
        .await;
    assert!(ws.subscribe("slotSubscribe", json!([])).await > 0);
    assert!(ws.pending.iter().all(|n| n.get("id").is_none()));
}

#[tokio::test]
async fn subscription_limit_refuses_politely() {
    let rpc = node_with(PubsubLimits {
        max_subscriptions: 3,
        ..PubsubLimits::default()
    })
    .await;
    let mut ws = Ws::connect(&rpc.node.ws_url()).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(ws.subscribe("rootSubscribe", json!([])).await);
    }
    let refused = ws.call("slotSubscribe", json!([])).await;
    assert_eq!(
        refused["error"],
        json!({ "code": -32603, "message": "Internal Error: Subscription refused. Node subscription limit reached" })
    );
    assert_eq!(
        ws.call("rootUnsubscribe", json!([ids[0]])).await["result"],
        true
    );
    assert!(ws.subscribe("slotSubscribe", json!([])).await > ids[2]);
    // A closed connection gives its subscriptions back.
    drop(ws);
    let mut ws = Ws::connect(&rpc.node.ws_url()).await;
    let mut again = 0;
    for _ in 0..20 {
        let r = ws.call("rootSubscribe", json!([])).await;
        if r.get("result").is_some() {
            again += 1;
            if again == 3 {
                break;
            }
        } else {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert_eq!(again, 3);
}

#[tokio::test]
async fn a_stalled_subscriber_is_dropped_and_the_node_keeps_serving() {
    let rpc = node_with(PubsubLimits {
        queue_capacity: 64,
        ..PubsubLimits::default()
    })
    .await;
    let url = rpc.node.ws_url();
    let mut stalled = Ws::connect(&url).await;
    const SUBS: usize = 200;
    for _ in 0..SUBS {
        stalled.subscribe("logsSubscribe", json!(["all"])).await;
    }
    let mut healthy = Ws::connect(&url).await;
    let healthy_sub = healthy.subscribe("logsSubscribe", json!(["all"])).await;

    // The stalled client never reads while transactions pour notifications at it.
    // ~15 MB of notifications: well past what socket buffers hold for a reader that never reads.
    const TXS: usize = 250;
    let mut healthy_seen = 0;
    for _ in 0..TXS {
        let sig = rpc.airdrop(&Keypair::new().pubkey(), SOL).await;
        let n = healthy.expect("logsNotification", healthy_sub).await;
        assert_eq!(n["value"]["signature"], sig);
        healthy_seen += 1;
    }
    assert_eq!(healthy_seen, TXS);
    assert!(rpc.slot().await > 0);

    // Reading now: what was flushed before the drop, then the end of the connection.
    let mut received = 0;
    loop {
        match tokio::time::timeout(WAIT, stalled.socket.next()).await {
            Err(_) => panic!("the stalled connection was not closed ({received} read)"),
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => break,
            Ok(Some(Ok(_))) => received += 1,
        }
    }
    assert!(
        received < SUBS * TXS,
        "all {received} notifications were delivered"
    );
}

#[tokio::test]
async fn a_thousand_concurrent_subscriptions_each_get_their_notification() {
    let rpc = Rpc::start().await;
    let url = rpc.node.ws_url();
    const CONNECTIONS: usize = 10;
    const PER: usize = 100;
    let mut sockets = Vec::new();
    let mut watched = Vec::new();
    for _ in 0..CONNECTIONS {
        let mut ws = Ws::connect(&url).await;
        let mut subs = Vec::new();
        for _ in 0..PER {
            let address = Keypair::new().pubkey();
            let id = ws
                .subscribe(
                    "accountSubscribe",
                    json!([address.to_string(), { "encoding": "base64" }]),
                )
                .await;
            subs.push((id, address));
        }
        sockets.push(ws);
        watched.push(subs);
    }
    let all_ids: std::collections::HashSet<u64> =
        watched.iter().flatten().map(|(id, _)| *id).collect();
    assert_eq!(
        all_ids.len(),
        CONNECTIONS * PER,
        "subscription ids are unique"
    );
    for (n, (_, address)) in watched.iter().flatten().enumerate() {
        rpc.airdrop(address, 1_000_000 + n as u64).await;
    }
    let mut n = 0;
    for (ws, subs) in sockets.iter_mut().zip(&watched) {
        for (id, _) in subs {
            let (_, value) = notified(&ws.expect("accountNotification", *id).await);
            assert_eq!(value["lamports"], 1_000_000 + n as u64);
            n += 1;
        }
    }
    assert_eq!(n, 1_000);
}

impl Ws {
    /// Reads until the connection ends; true if it ended without a close frame (a cut, not a
    /// goodbye). Notifications read meanwhile are discarded.
    async fn cut(&mut self) -> bool {
        loop {
            let next = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("the connection ends within the wait");
            match next {
                None | Some(Err(_)) => return true,
                Some(Ok(Message::Close(_))) => return false,
                Some(Ok(_)) => {}
            }
        }
    }
}

/// With fault injection on, every open PubSub connection can be cut at once (over RPC or
/// in-process), as a network drop would: no close frame. Connections made afterwards are served
/// as before; while held, a new connection waits before its handshake until released. A node
/// without the switch knows neither method.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_is_cut_on_demand_when_faults_are_enabled() {
    let drop_call = || json!([]);
    let normal = Rpc::start().await;
    let mut kept = Ws::connect(&normal.node.ws_url()).await;
    let kept_id = kept.subscribe("slotSubscribe", json!([])).await;
    let refused = normal
        .call("roomcastDropPubsubConnections", drop_call())
        .await;
    assert_eq!(refused["error"]["code"], -32601, "{refused}");
    kept.expect("slotNotification", kept_id).await;

    let node = LocalNode::start(NodeOptions {
        fault_injection: true,
        ..NodeOptions::default()
    })
    .await
    .unwrap();
    let rpc = Rpc::with_node(node);
    let mut slots = Ws::connect(&rpc.node.ws_url()).await;
    slots.subscribe("slotSubscribe", json!([])).await;
    let mut program = Ws::connect(&rpc.node.ws_url()).await;
    program
        .subscribe(
            "programSubscribe",
            json!([rpc.node.program_id().to_string(), {"encoding": "base64"}]),
        )
        .await;
    assert_eq!(
        rpc.ok("roomcastDropPubsubConnections", drop_call()).await,
        2
    );
    assert!(slots.cut().await, "cut, not closed");
    assert!(program.cut().await, "cut, not closed");
    // The node goes on: a new connection subscribes and is notified.
    let mut again = Ws::connect(&rpc.node.ws_url()).await;
    let id = again.subscribe("slotSubscribe", json!([])).await;
    again.expect("slotNotification", id).await;
    assert_eq!(rpc.node.drop_pubsub_connections(), 1);
    assert!(again.cut().await);
    // Nobody listening: nothing to cut.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        rpc.ok("roomcastDropPubsubConnections", drop_call()).await,
        0
    );

    // Held: a new connection waits before its handshake until released.
    assert_eq!(
        rpc.ok("roomcastHoldPubsubConnections", json!([true])).await,
        true
    );
    let url = rpc.node.ws_url();
    let mut waiting = tokio::spawn(async move { Ws::connect(&url).await });
    assert!(
        tokio::time::timeout(Duration::from_millis(500), &mut waiting)
            .await
            .is_err(),
        "held before the handshake"
    );
    let bad = rpc
        .call("roomcastHoldPubsubConnections", json!(["yes"]))
        .await;
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    rpc.node.hold_pubsub_connections(false);
    let mut released = waiting.await.unwrap();
    let id = released.subscribe("slotSubscribe", json!([])).await;
    released.expect("slotNotification", id).await;
    let refused = normal
        .call("roomcastHoldPubsubConnections", json!([true]))
        .await;
    assert_eq!(refused["error"]["code"], -32601, "{refused}");
    // The other node's connection was never touched.
    kept.expect("slotNotification", kept_id).await;
}
