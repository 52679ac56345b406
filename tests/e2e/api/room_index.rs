//! Issue 20: the room index discovery reads (`live::index`, fed by `jobs::room_index` and the chain
//! watcher), against a real server with the embedded local node and Stream emulator, in-process.
//! The chain is the reference: after every sequence the index must equal a fresh
//! `getProgramAccounts`.
use std::time::Duration;

use proptest::prelude::*;
use reqwest::StatusCode;
use roomcast_app::Server;
use roomcast_chain::{Keypair, NewRoom, Pubkey, Room, RoomFilter, RoomRecord, RoomStatus, Signer};
use roomcast_stream::emulator::{Fault, Route};
use serde_json::{json, Value};

use roomcast_api::jobs::room_index::{CatchUpPath, Fallback};

use crate::support::eventually;

const OPERATOR_KEY: &str = "test-operator-key-0123456789abcdef";

async fn start(extra: &[&str]) -> Server {
    let mut argv = vec![
        "--operator-key",
        OPERATOR_KEY,
        "--reconcile-interval-secs",
        "0",
    ];
    argv.extend_from_slice(extra);
    let server = super::common::start(&argv).await;
    tokio::time::timeout(Duration::from_secs(30), server.state.index.wait_loaded())
        .await
        .expect("the room index loads");
    server
}

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

async fn get(server: &Server, path: &str) -> (StatusCode, Value) {
    let response = http()
        .get(format!("{}{path}", server.url()))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn operator(server: &Server, method: reqwest::Method, path: &str, body: Value) -> Value {
    let response = http()
        .request(method, format!("{}{path}", server.url()))
        .bearer_auth(OPERATOR_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{status} {body}");
    body
}

fn rooms_of(listing: &Value) -> Vec<String> {
    listing["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["room"].as_str().unwrap().to_string())
        .collect()
}

/// The registry's rooms as the chain has them now, newest first (the listing's order).
async fn chain_rooms(server: &Server) -> Vec<RoomRecord> {
    let mut rooms = server
        .state
        .chain
        .rooms(&RoomFilter {
            registry: Some(server.state.registry),
            ..RoomFilter::default()
        })
        .await
        .unwrap();
    rooms.sort_by_key(|r| std::cmp::Reverse((r.room.created_at, r.address.to_bytes())));
    rooms
}

fn node(server: &Server) -> &roomcast_localnet::LocalNode {
    server.upstreams.node.as_ref().expect("embedded local node")
}

/// Puts `count` rooms of this registry straight into the ledger (no transaction, so no
/// notification: only a catch-up can find them).
async fn seed(server: &Server, count: usize, status: RoomStatus, host: Pubkey) -> Vec<Pubkey> {
    let registry = server.state.registry;
    let program = server.state.chain.program_id();
    let payer = server.state.chain.signer_pubkey();
    let mut accounts = Vec::with_capacity(count);
    for _ in 0..count {
        let session_id = hex::encode(rand_bytes());
        let (address, bump) = Pubkey::find_program_address(
            &[
                roomcast::ROOM_SEED,
                registry.as_ref(),
                roomcast::room_seed(&session_id),
            ],
            &program,
        );
        let room = Room {
            registry,
            host,
            payer,
            status,
            bump,
            session_id,
            created_at: 1_700_000_000 + accounts.len() as i64,
            updated_at: 1_700_000_000,
            live_at: None,
            ended_at: (status == RoomStatus::Ended).then_some(1_700_000_100),
            ingest_url: "rtmps://live.cloudflare.com:443/live/".into(),
            title: format!("Seeded {}", accounts.len()),
        };
        accounts.push((address, room.encode().expect("a room encodes")));
    }
    let addresses = accounts.iter().map(|(a, _)| *a).collect();
    node(server)
        .chain()
        .call(move |chain| {
            for (address, data) in accounts {
                chain.seed_account(address, program, data).unwrap();
            }
        })
        .await
        .unwrap();
    addresses
}

fn rand_bytes() -> [u8; 16] {
    let key = Keypair::new().pubkey().to_bytes();
    key[..16].try_into().unwrap()
}

fn chain_reads(server: &Server) -> u64 {
    [
        "getProgramAccounts",
        "getAccountInfo",
        "getMultipleAccounts",
    ]
    .iter()
    .map(|m| node(server).rpc_calls(m))
    .sum()
}

// A room is in the listing as soon as its create has answered, and so are the server's own
// changes (read-your-writes), newest first, with filters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_is_listed_as_soon_as_its_create_answered() {
    let server = start(&["--index-resync-secs", "3600"]).await;
    let host = Keypair::new().pubkey().to_string();
    let mut made = Vec::new();
    for i in 0..5 {
        let room = operator(
            &server,
            reqwest::Method::POST,
            "/api/create",
            serde_json::json!({ "title": format!("Fresh {i}"), "host": host }),
        )
        .await;
        let address = room["room"].as_str().unwrap().to_string();
        // Newest first by (created_at, address): rooms made in the same second are ordered by
        // address, so the new one is on the first page, not necessarily first.
        let (status, first) = get(&server, "/api/rooms").await;
        assert_eq!(status, StatusCode::OK, "{first}");
        let listed = rooms_of(&first);
        assert!(listed.contains(&address), "create {i} answered: {listed:?}");
        let item = &first["rooms"][listed.iter().position(|r| *r == address).unwrap()];
        assert_eq!(item["title"], format!("Fresh {i}"));
        assert_eq!(item["status"], "created");
        made.push(address);
    }
    let by_chain: Vec<String> = chain_rooms(&server)
        .await
        .iter()
        .map(|r| r.address.to_string())
        .collect();
    assert_eq!(by_chain.len(), 5);
    let (_, mine) = get(&server, &format!("/api/rooms?host={host}")).await;
    assert_eq!(rooms_of(&mine), by_chain);
    let made = by_chain;

    // A rename and an end by this server show at once too.
    operator(
        &server,
        reqwest::Method::PATCH,
        &format!("/api/rooms/{}", made[1]),
        serde_json::json!({ "title": "Renamed" }),
    )
    .await;
    operator(
        &server,
        reqwest::Method::POST,
        &format!("/api/rooms/{}/end", made[0]),
        serde_json::json!({}),
    )
    .await;
    let (_, ended) = get(&server, "/api/rooms?status=ended").await;
    assert_eq!(rooms_of(&ended), [made[0].clone()]);
    assert_eq!(ended["rooms"][0]["status"], "ended");
    let (_, created) = get(&server, "/api/rooms?status=created&limit=2").await;
    assert_eq!(rooms_of(&created), made[1..3].to_vec());
    assert_eq!(created["rooms"][0]["title"], "Renamed");
    let cursor = created["nextCursor"].as_str().unwrap().to_string();
    let (_, rest) = get(
        &server,
        &format!("/api/rooms?status=created&cursor={cursor}"),
    )
    .await;
    assert_eq!(rooms_of(&rest), made[3..].to_vec());
    assert_eq!(rest["nextCursor"], Value::Null);
    // The index says what the chain says.
    assert_eq!(server.state.index.all(), chain_rooms(&server).await);
    server.shutdown().await.unwrap();
}

// A listing never waits for Cloudflare (`live::fills`): right after a create, with `lifecycle`
// and `views` answering late, the new room is listed at once with its broadcast state, viewer
// count and tips unknown (`null`); one background read per room fills each in and the next listing
// shows what it found. A failing `views` is asked once per room and period, not once per listing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_never_waits_for_cloudflare_and_fills_in_after() {
    let server = start(&[]).await;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    let host = Keypair::new().pubkey().to_string();
    let create = |title: &'static str| {
        let (server, host) = (&server, host.clone());
        async move {
            let room = operator(
                server,
                reqwest::Method::POST,
                "/api/create",
                json!({ "title": title, "host": host }),
            )
            .await;
            room["room"].as_str().unwrap().to_string()
        }
    };
    let item = |listing: &Value, address: &str| -> Value {
        listing["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["room"] == address)
            .cloned()
            .unwrap_or_else(|| panic!("{address} is listed: {listing}"))
    };
    let upstream = |item: &Value| {
        (
            item["broadcasting"].clone(),
            item["liveViewers"].clone(),
            item["tips"].clone(),
        )
    };

    let address = create("Unwaited").await;
    for route in [Route::Lifecycle, Route::Views] {
        emulator
            .inject_fault(route, Fault::Latency { ms: 1500 }, 1)
            .unwrap();
    }
    emulator.reset_calls();
    let (status, first) = get(&server, "/api/rooms").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let first = item(&first, &address);
    assert_eq!(first["title"], "Unwaited");
    assert_eq!(
        upstream(&first),
        (Value::Null, Value::Null, Value::Null),
        "nothing waited for: {first}"
    );
    let filled = eventually("the background reads fill the item in", || async {
        let (_, listing) = get(&server, "/api/rooms").await;
        let item = item(&listing, &address);
        let (b, v, t) = upstream(&item);
        (!b.is_null() && !v.is_null() && !t.is_null()).then_some(item)
    })
    .await;
    assert_eq!(
        upstream(&filled),
        (json!(false), json!(0), json!({ "count": 0, "lamports": 0 }))
    );
    assert_eq!(
        (
            emulator.call_count(Route::Lifecycle),
            emulator.call_count(Route::Views)
        ),
        (1, 1),
        "one read each, however many listings asked"
    );

    // `views` failing for the next room: ten listings that each render it ask it once.
    let failing = create("No views").await;
    emulator
        .inject_fault(Route::Views, Fault::Status { status: 404 }, 100)
        .unwrap();
    emulator.reset_calls();
    for limit in 2..12 {
        let (status, page) = get(&server, &format!("/api/rooms?limit={limit}")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(item(&page, &failing)["liveViewers"], Value::Null);
        assert_eq!(item(&page, &address)["liveViewers"], 0, "still known");
    }
    assert_eq!(emulator.call_count(Route::Views), 1);
    emulator.clear_faults();
    server.shutdown().await.unwrap();
}

// Listing 10k rooms reads the chain 0 times per request: whatever the filter, page or cursor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_10k_rooms_reads_the_chain_zero_times_per_request() {
    // The one chain read a listing may cause is the set of gates (`live::gates`: one
    // `getProgramAccounts` for all rooms per room-cache TTL, whatever the number of requests):
    // the TTL is long here and the set is read once before counting.
    let server = start(&["--index-resync-secs", "3600", "--room-cache-ms", "600000"]).await;
    let host = Keypair::new().pubkey();
    seed(&server, 9_000, RoomStatus::Created, Pubkey::new_unique()).await;
    seed(&server, 1_000, RoomStatus::Ended, host).await;
    // Seeded without transactions: the program's history cannot tell of them, a listing can.
    server.state.index.set_checkpoint(None);
    let done = roomcast_api::jobs::room_index::catch_up(&server.state)
        .await
        .unwrap();
    assert_eq!(done.path, CatchUpPath::Listing(Fallback::NoCheckpoint));
    assert_eq!(done.listed, 10_000);
    assert_eq!(done.fetched, 10_000);
    assert_eq!(done.removed, 0);
    assert_eq!(server.state.index.len(), 10_000);

    let (status, _) = get(&server, "/api/rooms?limit=1").await;
    assert_eq!(status, StatusCode::OK);
    let before = chain_reads(&server);
    let mut cursor = String::new();
    for page in 0..10 {
        let (status, listing) = get(&server, &format!("/api/rooms?limit=100{cursor}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            listing["rooms"].as_array().unwrap().len(),
            100,
            "page {page}"
        );
        cursor = format!("&cursor={}", listing["nextCursor"].as_str().unwrap());
    }
    let (_, ended) = get(
        &server,
        &format!("/api/rooms?status=ended&host={host}&limit=100"),
    )
    .await;
    assert_eq!(ended["rooms"].as_array().unwrap().len(), 100);
    assert!(ended["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "ended" && r["host"] == host.to_string()));
    let (_, live) = get(&server, "/api/rooms?status=live").await;
    assert_eq!(rooms_of(&live), Vec::<String>::new());
    assert_eq!(
        chain_reads(&server),
        before,
        "no chain read for 12 listings"
    );

    // The whole registry, page by page, is what the chain holds, in the same order.
    let chain = chain_rooms(&server).await;
    let mut listed = Vec::new();
    let mut cursor = String::new();
    loop {
        let (_, page) = get(&server, &format!("/api/rooms?limit=100{cursor}")).await;
        listed.extend(rooms_of(&page));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    let expected: Vec<String> = chain.iter().map(|r| r.address.to_string()).collect();
    assert_eq!(listed, expected);
    server.shutdown().await.unwrap();
}

// A notification delivered late or twice changes nothing; a room closed behind the server's back
// leaves the index at the next catch-up (PubSub never reports a close).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_and_repeated_reports_change_nothing_and_outside_closes_are_caught_up() {
    let server = start(&["--index-resync-secs", "3600"]).await;
    let state = &server.state;
    let chain = &state.chain;
    let session_id = hex::encode(rand_bytes());
    chain
        .create_room(
            state.registry,
            NewRoom {
                session_id: session_id.clone(),
                ingest_url: "rtmps://live.cloudflare.com:443/live/".into(),
                title: "Outside".into(),
                host: Keypair::new().pubkey(),
            },
        )
        .await
        .unwrap();
    let address = chain.room_address(&state.registry, &session_id);
    // The watcher's notification brings it in.
    let created_slot = eventually("the create is indexed", || async {
        state.index.slot_of(&address)
    })
    .await;
    let created = state.index.get(&address).unwrap();
    chain.end_room(state.registry, address).await.unwrap();
    eventually("the end is indexed", || async {
        (state.index.get(&address)?.room.status == RoomStatus::Ended).then_some(())
    })
    .await;
    let ended = state.index.get(&address).unwrap();
    let ended_slot = state.index.slot_of(&address).unwrap();
    assert!(ended_slot >= created_slot);
    // The create's notification again, late: nothing changes.
    assert_eq!(
        state.index.apply(&created, created_slot),
        roomcast_api::live::index::Applied::Stale
    );
    assert_eq!(
        state.index.apply(&ended, ended_slot),
        roomcast_api::live::index::Applied::Stale
    );
    assert_eq!(state.index.get(&address).unwrap(), ended);
    let (_, listing) = get(&server, "/api/rooms?status=ended").await;
    assert_eq!(rooms_of(&listing), [address.to_string()]);

    // Closed by the registrar straight on-chain (not through this server): no notification.
    chain.close_room(state.registry, address).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        state.index.get(&address),
        Some(ended.clone()),
        "not told yet"
    );
    let done = roomcast_api::jobs::room_index::catch_up(state)
        .await
        .unwrap();
    // Found in the program's history (the close wrote the room), not by listing.
    assert_eq!(
        (done.path, done.listed, done.removed),
        (CatchUpPath::History, 0, 1)
    );
    assert_eq!(state.index.get(&address), None);
    let (_, listing) = get(&server, "/api/rooms").await;
    assert_eq!(rooms_of(&listing), Vec::<String>::new());
    // The ended room's notification from before the close cannot bring it back.
    assert_eq!(
        state.index.apply(&ended, ended_slot),
        roomcast_api::live::index::Applied::Stale
    );
    assert_eq!(state.index.len(), 0);
    server.shutdown().await.unwrap();
}

/// A room made straight on-chain by the registrar (not through this server).
async fn create_on_chain(server: &Server, title: &str) -> Pubkey {
    let state = &server.state;
    let session_id = hex::encode(rand_bytes());
    state
        .chain
        .create_room(
            state.registry,
            NewRoom {
                session_id: session_id.clone(),
                ingest_url: "rtmps://live.cloudflare.com:443/live/".into(),
                title: title.into(),
                host: Keypair::new().pubkey(),
            },
        )
        .await
        .unwrap();
    state.chain.room_address(&state.registry, &session_id)
}

/// Calls of these methods the node answered so far.
fn calls(server: &Server, methods: &[&str]) -> Vec<u64> {
    methods.iter().map(|m| node(server).rpc_calls(m)).collect()
}

const CATCH_UP_METHODS: [&str; 4] = [
    "getProgramAccounts",
    "getMultipleAccounts",
    "getSignaturesForAddress",
    "getTransaction",
];

fn delta(before: &[u64], after: &[u64]) -> Vec<u64> {
    before.iter().zip(after).map(|(b, a)| a - b).collect()
}

// A catch-up after writes nobody told the index of (no watcher here) reads the program's history
// from the index's checkpoint: only the rooms those transactions wrote are read whole, the
// registry is never listed; creates, a rename, an end and a close by others are all seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catch_up_reads_only_the_rooms_the_history_says_were_written() {
    let server = start(&["--index-resync-secs", "3600", "--chain-watch", "false"]).await;
    let state = &server.state;
    let chain = &state.chain;
    // 200 rooms in the index (seeded without transactions, so brought in by one listing).
    seed(&server, 200, RoomStatus::Created, Pubkey::new_unique()).await;
    state.index.set_checkpoint(None);
    let done = roomcast_api::jobs::room_index::catch_up(state)
        .await
        .unwrap();
    assert_eq!(
        (done.path, done.listed, done.fetched),
        (CatchUpPath::Listing(Fallback::NoCheckpoint), 200, 200)
    );
    assert!(state.index.checkpoint().is_some());
    let held = chain_rooms(&server).await;
    assert_eq!(state.index.all(), held);

    // Six transactions by others: two creates, a rename, an end, an end and a close.
    let a = create_on_chain(&server, "Made elsewhere A").await;
    let b = create_on_chain(&server, "Made elsewhere B").await;
    let (renamed, ended, closed) = (&held[0], &held[1], &held[2]);
    chain
        .update_room(
            state.registry,
            renamed.address,
            renamed.room.payer,
            "Renamed elsewhere".into(),
        )
        .await
        .unwrap();
    chain.end_room(state.registry, ended.address).await.unwrap();
    chain
        .end_room(state.registry, closed.address)
        .await
        .unwrap();
    chain
        .close_room(state.registry, closed.address)
        .await
        .unwrap();
    assert_eq!(state.index.get(&a), None, "nobody told the index");
    assert_eq!(state.index.get(&ended.address), Some(ended.clone()));

    let before = calls(&server, &CATCH_UP_METHODS);
    let done = roomcast_api::jobs::room_index::catch_up(state)
        .await
        .unwrap();
    assert_eq!(done.path, CatchUpPath::History);
    assert_eq!((done.signatures, done.listed, done.removed), (6, 0, 1));
    // The five rooms written: not the registry, not the signing registrar (the close's rent
    // receiver here).
    assert_eq!(done.fetched, 5);
    assert_eq!(
        delta(&before, &calls(&server, &CATCH_UP_METHODS)),
        [0, 1, 1, 6],
        "no getProgramAccounts; one getMultipleAccounts; one history page; one getTransaction each"
    );
    assert_eq!(state.index.all(), chain_rooms(&server).await);
    assert_eq!(state.index.len(), 201);
    assert_eq!(state.index.get(&closed.address), None);
    assert_eq!(
        state.index.get(&renamed.address).unwrap().room.title,
        "Renamed elsewhere"
    );
    let (_, listing) = get(&server, "/api/rooms?status=ended").await;
    assert_eq!(rooms_of(&listing), [ended.address.to_string()]);
    let (_, listing) = get(&server, "/api/rooms?limit=2").await;
    let mut newest = rooms_of(&listing);
    newest.sort();
    let mut made = vec![a.to_string(), b.to_string()];
    made.sort();
    assert_eq!(newest, made);
    // The listed rooms' tip histories are read in the background (a listing never waits for
    // them): let them land before counting the catch-up's calls.
    for query in ["status=ended", "limit=2"] {
        eventually("the listed rooms' tips are read", || async {
            let (_, listing) = get(&server, &format!("/api/rooms?{query}")).await;
            let rooms = listing["rooms"].as_array().unwrap().clone();
            rooms.iter().all(|r| !r["tips"].is_null()).then_some(())
        })
        .await;
    }

    // Nothing since: one history page, nothing read.
    let before = calls(&server, &CATCH_UP_METHODS);
    let done = roomcast_api::jobs::room_index::catch_up(state)
        .await
        .unwrap();
    assert_eq!(
        (done.path, done.signatures, done.fetched),
        (CatchUpPath::History, 0, 0)
    );
    assert_eq!(
        delta(&before, &calls(&server, &CATCH_UP_METHODS)),
        [0, 0, 1, 0]
    );
    assert_eq!(state.index.catch_ups(), (2, 1));
    server.shutdown().await.unwrap();
}

// When the node does not know the index's checkpoint (its history was lost), more landed since
// than the bound, or the RPC refuses the history's calls, the catch-up lists the registry
// instead, and once it can, the one after reads the history again from the checkpoint that
// listing took.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catch_up_lists_when_the_history_cannot_answer() {
    let server = start(&["--index-resync-secs", "3600", "--chain-watch", "false"]).await;
    let state = &server.state;
    let first = create_on_chain(&server, "Before the history was lost").await;
    // A checkpoint the node never saw, at its current slot.
    let slot = state.chain.health().await.unwrap();
    state.index.set_checkpoint(Some(roomcast_chain::Checkpoint {
        newest: roomcast_chain::Signature::from([7; 64]),
        slot,
        previous: None,
    }));
    let before = calls(&server, &CATCH_UP_METHODS);
    let done = roomcast_api::jobs::room_index::catch_up(state)
        .await
        .unwrap();
    assert_eq!(done.path, CatchUpPath::Listing(Fallback::Unknown));
    assert_eq!((done.listed, done.fetched, done.removed), (1, 1, 0));
    let used = delta(&before, &calls(&server, &CATCH_UP_METHODS));
    assert_eq!(used[0], 1, "one sliced listing: {used:?}");
    assert_eq!(used[3], 0, "no transaction read: {used:?}");
    assert!(state.index.get(&first).is_some());
    let taken = state
        .index
        .checkpoint()
        .expect("the listing took a checkpoint");
    assert_ne!(taken.newest, roomcast_chain::Signature::from([7; 64]));

    // From that checkpoint the history answers again.
    let second = create_on_chain(&server, "After").await;
    let done = roomcast_api::jobs::room_index::catch_up(state)
        .await
        .unwrap();
    assert_eq!(
        (done.path, done.signatures, done.listed),
        (CatchUpPath::History, 1, 0)
    );
    assert!(state.index.get(&second).is_some());

    // Three transactions since, over a bound of two: a listing.
    let third = create_on_chain(&server, "Third").await;
    state.chain.end_room(state.registry, first).await.unwrap();
    state.chain.end_room(state.registry, second).await.unwrap();
    let done = roomcast_api::jobs::room_index::catch_up_bounded(state, 2)
        .await
        .unwrap();
    assert_eq!(done.path, CatchUpPath::Listing(Fallback::TooLong));
    assert_eq!(done.listed, 3);
    assert_eq!(state.index.all(), chain_rooms(&server).await);
    assert!(state.index.get(&third).is_some());
    assert_eq!(
        state.index.get(&first).unwrap().room.status,
        RoomStatus::Ended
    );
    assert_eq!(state.index.catch_ups(), (1, 2));

    // An RPC that refuses the history's calls: a listing each time, and no checkpoint can be
    // taken meanwhile.
    let node = node(&server);
    node.refuse_methods(&["getTransaction"]);
    let fourth = create_on_chain(&server, "Fourth").await;
    let done = roomcast_api::jobs::room_index::catch_up(state)
        .await
        .unwrap();
    assert_eq!(done.path, CatchUpPath::Listing(Fallback::Refused));
    assert_eq!(done.listed, 4);
    assert!(state.index.get(&fourth).is_some());
    node.refuse_methods(&["getSignaturesForAddress"]);
    let fifth = create_on_chain(&server, "Fifth").await;
    let done = roomcast_api::jobs::room_index::catch_up(state)
        .await
        .unwrap();
    assert_eq!(done.path, CatchUpPath::Listing(Fallback::Refused));
    assert_eq!(state.index.checkpoint(), None);
    assert!(state.index.get(&fifth).is_some());
    let done = roomcast_api::jobs::room_index::catch_up(state)
        .await
        .unwrap();
    assert_eq!(done.path, CatchUpPath::Listing(Fallback::NoCheckpoint));
    // Served again: one more listing takes a checkpoint, then the history answers.
    node.refuse_methods(&[]);
    let done = roomcast_api::jobs::room_index::catch_up(state)
        .await
        .unwrap();
    assert_eq!(done.path, CatchUpPath::Listing(Fallback::NoCheckpoint));
    assert!(state.index.checkpoint().is_some());
    let done = roomcast_api::jobs::room_index::catch_up(state)
        .await
        .unwrap();
    assert_eq!((done.path, done.signatures), (CatchUpPath::History, 0));
    assert_eq!(state.index.all(), chain_rooms(&server).await);
    assert_eq!(state.index.catch_ups(), (2, 6));
    server.shutdown().await.unwrap();
}

#[derive(Debug, Clone)]
enum Op {
    /// A room made straight on-chain by the registrar (the watcher tells the index).
    Create {
        host: u8,
    },
    End(usize),
    Rename(usize),
    /// Ended first if it was not, then closed (no notification: the catch-up finds it).
    Close(usize),
    /// Rooms written without a transaction (seeded into the ledger): no notification, and no
    /// trace in the program's history either, as if the node had lost it.
    Unseen {
        count: u8,
    },
    /// The node cuts every PubSub connection and holds new ones; these writes are made before the
    /// watcher gets its subscription back, so only its catch-up after resubscribing can tell.
    Dropped(Vec<Op>),
}

fn write_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..3).prop_map(|host| Op::Create { host }),
        2 => (0usize..64).prop_map(Op::End),
        2 => (0usize..64).prop_map(Op::Rename),
        1 => (0usize..64).prop_map(Op::Close),
        1 => (1u8..4).prop_map(|count| Op::Unseen { count }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        9 => write_op(),
        2 => proptest::collection::vec(write_op(), 1..4).prop_map(Op::Dropped),
    ]
}

/// The index equals a fresh `getProgramAccounts` (notifications of the last changes may still be
/// on their way).
async fn agree(server: &Server, when: &str) {
    let chain = chain_rooms(server).await;
    let agreed = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if server.state.index.all() == chain {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(
        agreed.is_ok(),
        "{when}: index {:#?}\nchain {:#?}",
        server.state.index.all(),
        chain
    );
}

/// Runs `ops`; at most `drops` of them cut the watcher's subscription (each drop doubles the
/// watcher's reconnect backoff).
async fn run_ops(server: &Server, ops: Vec<Op>, drops: &mut usize) {
    let state = &server.state;
    let hosts: Vec<Pubkey> = (0..3)
        .map(|i| Pubkey::new_from_array([i + 1; 32]))
        .collect();
    let mut open: Vec<Pubkey> = Vec::new();
    for (n, op) in ops.into_iter().enumerate() {
        let Op::Dropped(writes) = op else {
            write(server, op, n, &hosts, &mut open).await;
            continue;
        };
        if *drops == 0 || !state.feeds.watcher_live() {
            for (m, op) in writes.into_iter().enumerate() {
                write(server, op, n * 10 + m, &hosts, &mut open).await;
            }
            continue;
        }
        *drops -= 1;
        let node = node(server);
        let (history, listing) = state.index.catch_ups();
        node.hold_pubsub_connections(true);
        assert!(node.drop_pubsub_connections() >= 1, "the watcher's link");
        eventually("the watcher to notice the drop", || async {
            (!state.feeds.watcher_live()).then_some(())
        })
        .await;
        for (m, op) in writes.into_iter().enumerate() {
            write(server, op, n * 10 + m, &hosts, &mut open).await;
        }
        assert!(!state.feeds.watcher_live(), "still held");
        node.hold_pubsub_connections(false);
        eventually("the watcher to resubscribe and catch up", || async {
            let (h, l) = state.index.catch_ups();
            (state.feeds.watcher_live() && h + l > history + listing).then_some(())
        })
        .await;
        // No other catch-up: the one after resubscribing found what was written meanwhile (and
        // what PubSub never reports: closes).
        agree(server, "after a dropped subscription").await;
    }
}

async fn write(server: &Server, op: Op, n: usize, hosts: &[Pubkey], open: &mut Vec<Pubkey>) {
    let state = &server.state;
    let chain = &state.chain;
    let pick = |i: usize| (!open.is_empty()).then(|| open[i % open.len()]);
    match op {
        Op::Create { host } => {
            let session_id = hex::encode(rand_bytes());
            chain
                .create_room(
                    state.registry,
                    NewRoom {
                        session_id: session_id.clone(),
                        ingest_url: "rtmps://live.cloudflare.com:443/live/".into(),
                        title: format!("Room {n}"),
                        host: hosts[host as usize],
                    },
                )
                .await
                .unwrap();
            open.push(chain.room_address(&state.registry, &session_id));
        }
        Op::End(i) => {
            if let Some(room) = pick(i) {
                if chain.room(&room).await.unwrap().unwrap().status != RoomStatus::Ended {
                    chain.end_room(state.registry, room).await.unwrap();
                }
            }
        }
        Op::Rename(i) => {
            if let Some(room) = pick(i) {
                let current = chain.room(&room).await.unwrap().unwrap();
                if current.status != RoomStatus::Ended {
                    chain
                        .update_room(state.registry, room, current.payer, format!("Renamed {n}"))
                        .await
                        .unwrap();
                }
            }
        }
        Op::Close(i) => {
            if let Some(room) = pick(i) {
                if chain.room(&room).await.unwrap().unwrap().status != RoomStatus::Ended {
                    chain.end_room(state.registry, room).await.unwrap();
                }
                chain.close_room(state.registry, room).await.unwrap();
                open.retain(|r| *r != room);
            }
        }
        Op::Unseen { count } => {
            let host = hosts[usize::from(count) % hosts.len()];
            // No catch-up in between (one could set a checkpoint after the seeding).
            let _no_catch_up = state.index.catching_up.lock().await;
            open.extend(seed(server, usize::from(count), RoomStatus::Live, host).await);
            // Written without a transaction, as if the node's history were lost: the next
            // catch-up cannot read it from the history and lists instead.
            state.index.set_checkpoint(None);
        }
        Op::Dropped(writes) => {
            for op in writes {
                Box::pin(write(server, op, n, hosts, open)).await;
            }
        }
    }
}

// The index agrees with a fresh getProgramAccounts after any sequence of creates, ends, renames,
// closes, unseen writes and real dropped subscriptions (writes made before the watcher has its
// subscription back), once the notifications are in and a catch-up has run.
#[test]
fn the_index_equals_the_chain_after_random_changes() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(start(&["--index-resync-secs", "3600"]));
    let config = ProptestConfig {
        cases: 16,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    // The watcher's reconnect backoff doubles with each drop (250 ms, 500 ms, 1 s, 2 s, 4 s).
    let drops = std::cell::Cell::new(5usize);
    proptest!(config, |(ops in proptest::collection::vec(op(), 1..14))| {
        runtime.block_on(async {
            let mut left = drops.get();
            run_ops(&server, ops, &mut left).await;
            drops.set(left);
            roomcast_api::jobs::room_index::catch_up(&server.state).await.unwrap();
            agree(&server, "after a catch-up").await;
        });
    });
    assert!(drops.get() < 5, "at least one subscription was dropped");
    runtime.block_on(server.shutdown()).unwrap();
}

// The viewer answer is served from bytes kept per room, and follows every change: a rename, the
// encoder's state, the end (410). `/api/ping` is the floor benchmarks compare it to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_viewer_answer_is_kept_serialized_and_follows_changes() {
    let server = start(&[]).await;
    let (status, ping) = get(&server, "/api/ping").await;
    assert_eq!(
        (status, ping),
        (StatusCode::OK, serde_json::json!({ "ok": true }))
    );

    let host = Keypair::new().pubkey().to_string();
    let room = operator(
        &server,
        reqwest::Method::POST,
        "/api/create",
        serde_json::json!({ "title": "Kept", "host": host }),
    )
    .await;
    let sid = room["SessionID"].as_str().unwrap().to_string();
    let address = room["room"].as_str().unwrap().to_string();
    let raw = |path: String| {
        let url = format!("{}{path}", server.url());
        async move {
            let response = http().get(url).send().await.unwrap();
            let status = response.status();
            let kind = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_string();
            (status, kind, response.bytes().await.unwrap())
        }
    };
    let (status, kind, first) = raw(format!("/api/livestream?sessionId={sid}")).await;
    assert_eq!(
        (status, kind.as_str()),
        (StatusCode::OK, "application/json")
    );
    let body: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(body["title"], "Kept");
    assert_eq!(body["SessionID"], sid);
    assert_eq!(body["room"], address);
    assert_eq!(body["status"], "created");
    assert_eq!(body["broadcasting"], false);
    assert_eq!(body["broadcast"], Value::Null);
    assert!(body["playback"]["hls"].as_str().unwrap().contains(&sid));
    let (_, _, again) = raw(format!("/api/livestream?room={address}")).await;
    assert_eq!(again, first, "the same bytes by session id or address");
    let (_, _, shown) = raw(format!("/api/rooms/{address}")).await;
    assert_eq!(shown, first);
    // Discovery's items are kept serialized too: the same bytes while nothing changed, and each
    // change below shows in the room's item.
    let listed = |address: String| async move {
        let (status, kind, bytes) = raw("/api/rooms".to_string()).await;
        assert_eq!(
            (status, kind.as_str()),
            (StatusCode::OK, "application/json")
        );
        let list: Value = serde_json::from_slice(&bytes).unwrap();
        let item = list["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["room"] == address.as_str())
            .cloned()
            .expect("the room is listed");
        (bytes, item)
    };
    // The viewer count is read in the background (a listing never waits for it): once it is in,
    // nothing changes any more.
    let (page, item) = eventually("the listed item has its viewer count", || async {
        let (page, item) = listed(address.clone()).await;
        (item["liveViewers"] != Value::Null).then_some((page, item))
    })
    .await;
    assert_eq!(
        (
            &item["title"],
            &item["status"],
            &item["broadcasting"],
            &item["liveViewers"]
        ),
        (&json!("Kept"), &json!("created"), &json!(false), &json!(0))
    );
    assert_eq!(item["SessionID"], sid);
    assert_eq!(item["playback"], body["playback"]);
    assert_eq!(listed(address.clone()).await.0, page, "the same bytes");

    operator(
        &server,
        reqwest::Method::PATCH,
        &format!("/api/rooms/{address}"),
        serde_json::json!({ "title": "Renamed" }),
    )
    .await;
    let (_, _, renamed) = raw(format!("/api/livestream?sessionId={sid}")).await;
    let renamed: Value = serde_json::from_slice(&renamed).unwrap();
    assert_eq!(renamed["title"], "Renamed");
    assert_eq!(listed(address.clone()).await.1["title"], "Renamed");

    // The encoder connects: the emulator's notification reaches the webhook, the answer follows.
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    emulator.connect(&sid).await.unwrap();
    let live = eventually("the answer shows the broadcast", || async {
        let (_, _, bytes) = raw(format!("/api/livestream?sessionId={sid}")).await;
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        (body["broadcasting"] == true).then_some(body)
    })
    .await;
    assert_eq!(live["title"], "Renamed");
    eventually("the listed item shows the broadcast", || async {
        (listed(address.clone()).await.1["broadcasting"] == true).then_some(())
    })
    .await;

    operator(
        &server,
        reqwest::Method::POST,
        &format!("/api/rooms/{address}/end"),
        serde_json::json!({}),
    )
    .await;
    let (status, gone) = get(&server, &format!("/api/livestream?sessionId={sid}")).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(gone["error"]["code"], "room_ended");
    let (_, ended) = listed(address.clone()).await;
    assert_eq!(
        (
            &ended["status"],
            &ended["broadcasting"],
            &ended["liveViewers"]
        ),
        (&json!("ended"), &json!(false), &Value::Null)
    );
    server.shutdown().await.unwrap();
}

#[derive(clap::Parser)]
struct Cli {
    #[command(flatten)]
    serve: roomcast_api::ServeArgs,
}

/// A server on the data dir `data` (not ephemeral: its ledger survives a restart).
async fn start_on(data: &std::path::Path) -> Server {
    use clap::Parser;
    let args = Cli::parse_from([
        "roomcast",
        "--listen",
        "127.0.0.1:0",
        "--rtmp-listen",
        "127.0.0.1:0",
        "--srt-listen",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().unwrap(),
        "--operator-key",
        OPERATOR_KEY,
        "--reconcile-interval-secs",
        "0",
        "--index-resync-secs",
        "3600",
    ])
    .serve;
    let server = Server::start(args).await.expect("server starts");
    tokio::time::timeout(Duration::from_secs(30), server.state.index.wait_loaded())
        .await
        .expect("the room index loads");
    server
}

// After a restart the index is loaded again from the chain (the node's ledger survived it) and
// equals it, changes made while the server was down included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_the_index_is_what_the_chain_says() {
    let data = crate::support::scratch_dir("room-index-restart");
    let server = start_on(&data).await;
    run_ops(
        &server,
        vec![
            Op::Create { host: 0 },
            Op::Create { host: 1 },
            Op::Unseen { count: 3 },
            Op::End(0),
            Op::Rename(1),
            Op::Close(2),
        ],
        &mut 0,
    )
    .await;
    let before = chain_rooms(&server).await;
    assert_eq!(before.len(), 4);
    // Seeded while nobody listens: only the next start's load can know them.
    seed(&server, 5, RoomStatus::Ended, Pubkey::new_unique()).await;
    server.shutdown().await.unwrap();

    let server = start_on(&data).await;
    let chain = chain_rooms(&server).await;
    assert_eq!(chain.len(), 9);
    assert_eq!(server.state.index.all(), chain);
    let (_, ended) = get(&server, "/api/rooms?status=ended&limit=100").await;
    assert_eq!(rooms_of(&ended).len(), 6);
    server.shutdown().await.unwrap();
    std::fs::remove_dir_all(&data).ok();
}
