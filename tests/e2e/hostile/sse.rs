//! Server-Sent Events cannot wear the server down: open streams are capped per client address and
//! in total (429 / 503 with `Retry-After`), each stream ends after a maximum lifetime (with a
//! `retry:` so EventSource comes back), a connect reads the room from the room cache (not the
//! chain), and a room has one poller however many pages listen — even with the chain watcher off.
use serde_json::Value;

use super::{account_reads, client_from, metric, Events};
use crate::support::*;

fn assert_refused(
    refusal: (u16, reqwest::header::HeaderMap, Value),
    status: u16,
    code: &str,
) -> u64 {
    let (got, headers, body) = refusal;
    assert_eq!(
        (got, body["error"]["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    headers["retry-after"]
        .to_str()
        .unwrap()
        .parse::<u64>()
        .expect("Retry-After in seconds")
}

#[tokio::test]
async fn streams_are_capped_per_address_and_in_total_and_end_after_their_lifetime() {
    let s = Server::start(&[
        ("ROOMCAST_SSE_MAX_PER_CLIENT", "3"),
        ("ROOMCAST_SSE_MAX_STREAMS", "5"),
        ("ROOMCAST_SSE_MAX_LIFETIME_SECS", "4"),
        ("ROOMCAST_ROOM_CACHE_MS", "60000"),
    ]);
    let api = s.api();
    let uid = api
        .create_as_host(&wallet(), "Crowded")
        .await
        .str("sessionId");

    // One address: three streams, the fourth is refused with 429 and Retry-After.
    let a = client_from(21);
    let mut held = vec![];
    for _ in 0..3 {
        let mut events = Events::open(&a, &s.base, &uid)
            .await
            .expect("within the cap");
        assert_eq!(events.next().await.unwrap()["status"], "created");
        held.push(events);
    }
    let refusal = Events::open(&a, &s.base, &uid)
        .await
        .err()
        .expect("over the cap");
    assert!(assert_refused(refusal, 429, "rate_limited") >= 1);
    assert_eq!(metric(&api, "roomcast_sse_streams_open", &[]).await, 3.0);

    // Other addresses fill the global cap; then everyone gets 503.
    let b = client_from(22);
    for _ in 0..2 {
        let mut events = Events::open(&b, &s.base, &uid)
            .await
            .expect("within the caps");
        events.next().await.unwrap();
        held.push(events);
    }
    let c = client_from(23);
    let refusal = Events::open(&c, &s.base, &uid)
        .await
        .err()
        .expect("server full");
    assert!(assert_refused(refusal, 503, "too_many_streams") >= 1);

    // A stream that goes away frees its slot.
    held.remove(0);
    let mut again = eventually("a slot to be freed", || {
        let a = a.clone();
        let base = s.base.clone();
        let uid = uid.clone();
        async move { Events::open(&a, &base, &uid).await.ok() }
    })
    .await;
    assert_eq!(again.next().await.unwrap()["status"], "created");

    // Every stream tells EventSource when to come back, and the server ends it after its lifetime.
    assert!(
        again.retries.first().is_some_and(|r| *r > 0),
        "{:?}",
        again.retries
    );
    let mut events_seen = 0;
    while again.next().await.is_some() {
        events_seen += 1;
        assert!(events_seen < 1000, "the stream never ended");
    }
    eventually("the ended streams to be uncounted", || {
        let api = api.clone();
        async move {
            drop(api.get("/healthz").await);
            (metric(&api, "roomcast_sse_streams_open", &[]).await < 5.0).then_some(())
        }
    })
    .await;
}

#[tokio::test]
async fn a_connect_reads_the_room_cache_and_a_room_has_one_poller_even_without_the_watcher() {
    let s = Server::start(&[
        ("ROOMCAST_ROOM_CACHE_MS", "60000"),
        // The watcher is down: the room's poller reads the chain, once per tick for every page.
        ("ROOMCAST_CHAIN_WATCH", "false"),
    ]);
    let api = s.api();
    let uid = api
        .create_as_host(&wallet(), "Popular")
        .await
        .str("sessionId");
    api.get(&format!("/api/rooms/{uid}"))
        .await
        .assert_status(200);

    // Twenty connects, one after the other, each reading its first event: no chain read each.
    let client = client_from(31);
    let before = account_reads(&api).await;
    let mut held = vec![];
    for _ in 0..20 {
        let mut events = Events::open(&client, &s.base, &uid).await.expect("open");
        assert_eq!(events.next().await.unwrap()["title"], "Popular");
        held.push(events);
    }
    let connect_reads = account_reads(&api).await - before;
    // The poller itself may read the room once or twice meanwhile (one per 1 s tick); twenty
    // connects reading the chain each would be twenty more.
    assert!(
        connect_reads <= 5,
        "20 connects made {connect_reads} chain reads"
    );

    // However many pages listen, the room has one poller.
    assert_eq!(metric(&api, "roomcast_room_pollers", &[]).await, 1.0);
    assert_eq!(metric(&api, "roomcast_sse_streams_open", &[]).await, 20.0);

    // The room ends straight on-chain: the single poller notices (the watcher is off) and every
    // page gets `ended`, then the stream ends and the poller stops.
    let host_end = api
        .call(
            "POST",
            &format!("/api/rooms/{uid}/end"),
            None,
            Auth::Operator,
        )
        .await;
    host_end.assert_status(200);
    for events in held.iter_mut() {
        let mut last = events.next().await.unwrap();
        while last["status"] != "ended" {
            last = events.next().await.expect("an ended event");
        }
        assert_eq!(events.next().await, None);
    }
    eventually("the poller to stop", || {
        let api = api.clone();
        async move { (metric(&api, "roomcast_room_pollers", &[]).await == 0.0).then_some(()) }
    })
    .await;
}
