//! Issue 9 item 14: what one caller can make the local node do is bounded — batch size, response
//! size, the chain thread's queue, and airdrops. Each of these was unbounded before.
use std::time::Duration;

use roomcast_localnet::rpc::RpcLimits;
use roomcast_localnet::{LocalNode, NodeOptions};
use serde_json::{json, Value};

async fn node(limits: RpcLimits) -> LocalNode {
    LocalNode::start(NodeOptions {
        limits,
        ..NodeOptions::default()
    })
    .await
    .unwrap()
}

async fn post(node: &LocalNode, body: &Value, timeout: Duration) -> Result<Value, reqwest::Error> {
    reqwest::Client::new()
        .post(node.rpc_url())
        .json(body)
        .timeout(timeout)
        .send()
        .await?
        .json()
        .await
}

fn health(id: usize) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": "getHealth" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_and_responses_are_capped() {
    let node = node(RpcLimits {
        max_batch: 10,
        max_response_bytes: 600,
        ..RpcLimits::default()
    })
    .await;
    let long = Duration::from_secs(30);
    let ten: Vec<Value> = (0..10).map(health).collect();
    let answers = post(&node, &Value::Array(ten), long).await.unwrap();
    assert_eq!(answers.as_array().unwrap().len(), 10);
    assert!(answers
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["result"] == "ok"));

    let eleven: Vec<Value> = (0..11).map(health).collect();
    assert_eq!(
        post(&node, &Value::Array(eleven), long).await.unwrap(),
        json!({ "jsonrpc": "2.0", "id": null, "error": {
            "code": -32600,
            "message": "Invalid request: a batch may hold at most 10 calls, got 11",
        }})
    );

    // Ten getHealth answers are about 400 bytes; ten getVersion answers about 730: over 600.
    let versions: Vec<Value> = (0..10)
        .map(|id| json!({ "jsonrpc": "2.0", "id": id, "method": "getVersion" }))
        .collect();
    let too_big = post(&node, &Value::Array(versions), long).await.unwrap();
    assert_eq!(too_big["error"]["code"], -32603, "{too_big}");
    assert!(
        too_big["error"]["message"]
            .as_str()
            .unwrap()
            .contains("over this node's limit of 600"),
        "{too_big}"
    );
    node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_node_is_behind_instead_of_growing() {
    let node = node(RpcLimits {
        max_queued: 2,
        ..RpcLimits::default()
    })
    .await;
    // Hold the chain thread: once the call runs on it (it says so), nothing else can.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (running, on_the_thread) = tokio::sync::oneshot::channel::<()>();
    let chain = node.chain().clone();
    let blocker = tokio::spawn(async move {
        chain
            .call(move |_| {
                let _ = running.send(());
                let _ = held.recv();
            })
            .await
    });
    on_the_thread.await.expect("the blocking call runs");

    // A queued request waits (until it times out); a refused one is answered at once, which
    // loaded machines do well within this.
    let short = Duration::from_secs(2);
    let mut queued = 0;
    let mut behind = None;
    for id in 0..10 {
        match post(&node, &health(id), short).await {
            Err(e) if e.is_timeout() => queued += 1,
            Ok(answer) => {
                behind = Some(answer);
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    // At most the queue's capacity waited (the node's own background work may hold a slot).
    assert!((1..=2).contains(&queued), "{queued} requests waited");
    let behind = behind.expect("the third request is refused");
    assert_eq!(behind["error"]["code"], -32005, "{behind}");
    assert_eq!(
        behind["error"]["message"],
        "Node is behind: the node is behind: 2 requests are already queued"
    );

    release.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    // The node serves again once the queued requests are drained (until then it may still answer
    // "behind": how soon depends on scheduling, so it is waited for, bounded).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let answer = post(&node, &health(99), Duration::from_secs(30))
            .await
            .unwrap();
        if answer["result"] == "ok" {
            break;
        }
        assert_eq!(answer["error"]["code"], -32005, "{answer}");
        assert!(
            std::time::Instant::now() < deadline,
            "still behind: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn airdrops_are_capped() {
    let node = node(RpcLimits::default()).await;
    let who = solana_pubkey::Pubkey::new_unique().to_string();
    let call = |lamports: u64| json!({ "jsonrpc": "2.0", "id": 1, "method": "requestAirdrop", "params": [who, lamports] });
    let refused = post(
        &node,
        &call(1_000_000 * 1_000_000_000),
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    assert_eq!(
        refused["error"],
        json!({ "code": -32602, "message": "airdrop must be between 1 and 1000000000000 lamports" })
    );
    let granted = post(&node, &call(1_000 * 1_000_000_000), Duration::from_secs(30))
        .await
        .unwrap();
    assert!(granted["result"].is_string(), "{granted}");
    node.shutdown().await.unwrap();
}

/// Fault injection is a test switch: a node started without it does not know the method, so no
/// caller can make a normal node lose answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_faults_are_injectable_only_when_enabled() {
    let inject = json!({
        "jsonrpc": "2.0", "id": 1, "method": "roomcastInjectSendFault",
        "params": [{"kind": "late", "ms": 10}, 1],
    });
    let normal = node(RpcLimits::default()).await;
    let refused = post(&normal, &inject, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(refused["error"]["code"], -32601, "{refused}");

    let testing = LocalNode::start(NodeOptions {
        fault_injection: true,
        ..NodeOptions::default()
    })
    .await
    .unwrap();
    let accepted = post(&testing, &inject, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(accepted["result"], true, "{accepted}");
    let bad = json!({
        "jsonrpc": "2.0", "id": 2, "method": "roomcastInjectSendFault",
        "params": [{"kind": "explode"}, 1],
    });
    let bad = post(&testing, &bad, Duration::from_secs(10)).await.unwrap();
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
}

/// With fault injection on, chosen methods answer "Method not found" (a provider that does not
/// serve them) until the list is replaced; without it the method itself is unknown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_are_refusable_only_when_enabled() {
    let call = |id: u64, method: &str, params: Value| json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
    let refuse = |methods: Value| call(1, "roomcastRefuseMethods", json!([methods]));
    let wait = Duration::from_secs(10);
    let normal = node(RpcLimits::default()).await;
    let unknown = post(&normal, &refuse(json!(["getSlot"])), wait)
        .await
        .unwrap();
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    let slot = post(&normal, &call(2, "getSlot", json!([])), wait)
        .await
        .unwrap();
    assert!(slot["result"].is_u64(), "{slot}");

    let testing = LocalNode::start(NodeOptions {
        fault_injection: true,
        ..NodeOptions::default()
    })
    .await
    .unwrap();
    let accepted = post(&testing, &refuse(json!(["getSlot", "getVersion"])), wait)
        .await
        .unwrap();
    assert_eq!(accepted["result"], true, "{accepted}");
    for method in ["getSlot", "getVersion"] {
        let refused = post(&testing, &call(3, method, json!([])), wait)
            .await
            .unwrap();
        assert_eq!(
            refused,
            json!({"jsonrpc": "2.0", "id": 3, "error": {"code": -32601, "message": "Method not found"}})
        );
    }
    let health = post(&testing, &call(4, "getHealth", json!([])), wait)
        .await
        .unwrap();
    assert_eq!(health["result"], "ok", "{health}");
    let bad = post(&testing, &refuse(json!("getSlot")), wait)
        .await
        .unwrap();
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    // In-process, and back to none.
    testing.refuse_methods(&[]);
    let slot = post(&testing, &call(5, "getSlot", json!([])), wait)
        .await
        .unwrap();
    assert!(slot["result"].is_u64(), "{slot}");
    testing.refuse_methods(&["getSlot"]);
    let refused = post(&testing, &call(6, "getSlot", json!([])), wait)
        .await
        .unwrap();
    assert_eq!(refused["error"]["code"], -32601, "{refused}");
}
