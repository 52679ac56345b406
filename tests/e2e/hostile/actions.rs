//! The Solana Action routes (`/api/actions/*`, `/actions.json`) are behind the same guards as
//! every other route — the per-address read budget, the configured body limit (and the in-flight
//! cap and timeout of the same stack) — while keeping the Actions spec's CORS headers; an unknown
//! `room=` is answered from the room cache's negative entry, not a chain read each; and however
//! many times the host's wallet asks for the `end_room` transaction, the room is watched for its
//! end by one task.
use roomcast_chain::{Pubkey, Signer};
use serde_json::{json, Value};

use super::{account_reads, client_from, metric};
use crate::support::*;

const READS_PER_MINUTE: u32 = 6;

fn assert_action_cors(headers: &reqwest::header::HeaderMap) {
    assert_eq!(headers["access-control-allow-origin"], "*", "{headers:?}");
    assert_eq!(headers["x-action-version"], "2.4", "{headers:?}");
}

#[tokio::test]
async fn action_routes_have_the_read_budget_body_limit_negative_cache_and_one_watch_per_room() {
    let s = Server::start(&[
        ("ROOMCAST_READ_RATE_PER_MINUTE", "6"),
        ("ROOMCAST_MAX_BODY_BYTES", "1024"),
        ("ROOMCAST_ROOM_CACHE_MS", "60000"),
    ]);
    let api = s.api();
    let host = wallet();
    let created = api.create_for(&host.pubkey(), "Action target").await;
    let room = created.str("room");
    let action = format!("{}/api/actions/end-room?room={room}", s.base);

    // The read budget: one address gets READS_PER_MINUTE answers, then 429 — with the spec's CORS
    // headers, so a Blink client can read it.
    let reader = client_from(51);
    for n in 0..READS_PER_MINUTE {
        let r = reader.get(&action).send().await.unwrap();
        assert_eq!(r.status(), 200, "read {n}");
        assert_action_cors(r.headers());
    }
    let r = reader.get(&action).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_action_cors(r.headers());
    assert!(r.headers().contains_key("retry-after"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    // POSTs (anonymous, each building a transaction) spend the same budget.
    let r = reader
        .post(&action)
        .json(&json!({"account": host.pubkey().to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    // actions.json too.
    let r = reader
        .get(format!("{}/actions.json", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_action_cors(r.headers());

    // The configured body limit (1 KiB here), not the framework's 2 MB default.
    let big = json!({"account": "x".repeat(4096)});
    let r = client_from(52)
        .post(&action)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_action_cors(r.headers());

    // An unknown room: the first look-up reads the chain, the next ones are answered from the
    // room cache's negative entry — GET and POST alike.
    let unknown = Pubkey::new_unique().to_string();
    let probe = client_from(53);
    let unknown_action = format!("{}/api/actions/end-room?room={unknown}", s.base);
    let before = account_reads(&api).await;
    for _ in 0..3 {
        let r = probe.get(&unknown_action).send().await.unwrap();
        assert_eq!(r.status(), 404);
        let r = probe
            .post(&unknown_action)
            .json(&json!({"account": host.pubkey().to_string()}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{body}");
    }
    let reads = account_reads(&api).await - before;
    assert!(
        reads <= 1,
        "6 look-ups of an unknown room made {reads} chain reads"
    );

    // The host's wallet asks for the transaction several times: one watch for the room's end.
    for n in 0..READS_PER_MINUTE {
        let r = client_from(54)
            .post(&action)
            .json(&json!({"account": host.pubkey().to_string()}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "transaction {n}");
        assert_action_cors(r.headers());
    }
    eventually("one watch for the room's end", || {
        let api = api.clone();
        async move { (metric(&api, "roomcast_action_end_watches", &[]).await == 1.0).then_some(()) }
    })
    .await;
    assert_eq!(metric(&api, "roomcast_action_end_watches", &[]).await, 1.0);
}
