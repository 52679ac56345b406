//! Through the built binary: a room ended straight on-chain by its host (not through the API) is
//! pushed to the server over WebSocket PubSub (`programSubscribe`): its live input is disabled and
//! viewers' cached state is replaced at once. The reconciler is off and the room cache TTL is long
//! here, so nothing but the subscription can explain either effect.
use crate::support;
use crate::support::sse::Events;

use futures_util::{SinkExt, StreamExt};
use roomcast_chain::{RoomStatus, Signer};
use serde_json::{json, Value};
use support::*;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn a_room_ended_on_chain_disables_its_input_and_reaches_viewers() {
    let s = Server::start(&[
        ("ROOMCAST_ROOM_CACHE_MS", "600000"),
        ("ROOMCAST_RECONCILE_INTERVAL_SECS", "0"),
    ]);
    let api = s.api();
    let emu = s.emulator();

    // The PubSub URL is published and serves Solana's PubSub API.
    let info = api.get("/api/info").await;
    info.assert_status(200);
    let ws_url = info.str("wsUrl");
    let rpc_port: u16 = s.rpc_url.rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(ws_url, format!("ws://127.0.0.1:{}", rpc_port + 1));
    assert_eq!(ws_url, s.ws_url);
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url.as_str())
        .await
        .unwrap();
    ws.send(Message::text(
        json!({"jsonrpc": "2.0", "id": 1, "method": "rootSubscribe"}).to_string(),
    ))
    .await
    .unwrap();
    let reply: Value = match ws.next().await.unwrap().unwrap() {
        Message::Text(t) => serde_json::from_str(t.as_str()).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(reply["result"].as_u64().is_some(), "{reply}");

    let host = wallet();
    let created = api.create_as_host(&host, "Ends on-chain").await;
    created.assert_status(201);
    let uid = created.str("sessionId");
    let room = s.room_address(&uid);
    // A viewer loads the room: it is cached for ten minutes from here.
    api.get(&format!("/api/livestream?sessionId={uid}"))
        .await
        .assert_status(200);
    assert_eq!(emu.input(&uid).await.unwrap()["enabled"], true);

    airdrop(&s.rpc_url, &host.pubkey(), 1_000_000_000).await;
    s.chain_as(&host)
        .end_room(s.registry, room)
        .await
        .expect("the host ends their room on-chain");
    assert_eq!(
        s.chain_reader().room(&room).await.unwrap().unwrap().status,
        RoomStatus::Ended
    );

    eventually("the live input to be disabled", || async {
        (emu.input(&uid).await.unwrap()["enabled"] == false).then_some(())
    })
    .await;
    let gone = eventually("the viewer to get 410", || async {
        let r = api.get(&format!("/api/livestream?sessionId={uid}")).await;
        (r.status != 200).then_some(r)
    })
    .await;
    gone.assert_error(410, "room_ended");
    assert!(
        s.log_output()
            .contains("room ended on-chain: live input disabled"),
        "{}",
        s.log_output()
    );
}

/// A port whose successor is free too (the node's PubSub listens on RPC port + 1).
pub(crate) fn free_port_pair() -> u16 {
    loop {
        let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = a.local_addr().unwrap().port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// `roomcast localnet` on a fixed port (the test restarts it there), or `None` if it exited
/// before serving (its port was taken).
pub(crate) fn try_start_localnet(port: u16, state: &str, faucet: &str) -> Option<Proc> {
    let listen = format!("127.0.0.1:{port}");
    let mut proc = Proc::spawn(
        "localnet-watch",
        &[
            "localnet",
            "--listen",
            &listen,
            "--state",
            state,
            "--faucet-keypair",
            faucet,
        ],
        &[],
    );
    proc.try_wait_for_line("Faucet keypair: ").map(|_| proc)
}

pub(crate) fn start_localnet(port: u16, state: &str, faucet: &str) -> Proc {
    try_start_localnet(port, state, faucet)
        .unwrap_or_else(|| panic!("localnet did not start again on port {port}"))
}

/// A node on a port pair nobody took between picking and binding: another pair when one was.
pub(crate) fn start_localnet_anywhere(state: &str, faucet: &str) -> (u16, Proc) {
    for _ in 0..10 {
        let port = free_port_pair();
        if let Some(proc) = try_start_localnet(port, state, faucet) {
            return (port, proc);
        }
    }
    panic!("localnet did not start on any free port pair");
}

/// A standalone node (its ledger and faucet keypair in a scratch dir named after `tag`) with a
/// registry the CLI made, whose administrator and registrar is the faucet: what `serve` is pointed
/// at with `SOLANA_RPC_URL` and `ROOMCAST_REGISTRAR_KEYPAIR` = `faucet`.
pub(crate) struct NodeWithRegistry {
    pub port: u16,
    pub node: Proc,
    /// The ledger file and the faucet keypair file (to start the node again on `port`).
    pub state: String,
    pub faucet: String,
}

impl NodeWithRegistry {
    pub fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the node again on its ports and ledger (after `node` was terminated).
    pub fn start_again(&self) -> Proc {
        start_localnet(self.port, &self.state, &self.faucet)
    }
}

pub(crate) fn node_with_registry(tag: &str) -> NodeWithRegistry {
    let dir = scratch_dir(tag);
    let state = dir.join("ledger.json").to_str().unwrap().to_string();
    let faucet_path = dir.join("faucet.json");
    let faucet = faucet_path.to_str().unwrap().to_string();
    let (port, node) = start_localnet_anywhere(&state, &faucet);
    let faucet_key = read_keypair(&faucet_path);
    let init = std::process::Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .args([
            "-u",
            &format!("http://127.0.0.1:{port}"),
            "-k",
            &faucet,
            "registry",
            "init",
            "--registrar",
        ])
        .arg(faucet_key.pubkey().to_string())
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    NodeWithRegistry {
        port,
        node,
        state,
        faucet,
    }
}

/// The cluster's node restarts under the server: the watcher reconnects (with backoff) and still
/// sees the host end their room on-chain, whether the end lands before the new subscription (caught
/// up from a listing once subscribed again) or after it.
#[tokio::test]
async fn the_watcher_reconnects_after_the_node_restarts() {
    let mut n = node_with_registry("watch-restart");
    let rpc_url = n.rpc_url();
    let s = Server::start(&[
        ("SOLANA_RPC_URL", rpc_url.as_str()),
        ("ROOMCAST_REGISTRAR_KEYPAIR", n.faucet.as_str()),
        ("ROOMCAST_ROOM_CACHE_MS", "600000"),
    ]);
    assert_eq!(s.ws_url, format!("ws://127.0.0.1:{}", n.port + 1));
    let api = s.api();
    let emu = s.emulator();
    let host = wallet();
    let created = api
        .create_for(&host.pubkey(), "Survives a node restart")
        .await;
    created.assert_status(201);
    let uid = created.str("sessionId");
    let room = s.room_address(&uid);

    // The node goes away (saving its accounts) and comes back on the same ports.
    assert!(n.node.terminate().success());
    let _node = n.start_again();

    airdrop(&rpc_url, &host.pubkey(), 1_000_000_000).await;
    s.chain_as(&host)
        .end_room(s.registry, room)
        .await
        .expect("the host ends their room on-chain");
    eventually(
        "the live input to be disabled after the reconnect",
        || async { (emu.input(&uid).await.unwrap()["enabled"] == false).then_some(()) },
    )
    .await;
    api.get(&format!("/api/livestream?sessionId={uid}"))
        .await
        .assert_error(410, "room_ended");
    let log = s.log_output();
    assert!(
        log.contains("room subscription ended; reconnecting"),
        "{log}"
    );
    // The restarted node lost its transaction history (kept in memory): the room index's
    // catch-up after resubscribing could not start from its checkpoint and listed instead.
    let metrics = api.get("/metrics").await;
    assert!(
        metrics
            .text
            .lines()
            .any(|l| l.starts_with("roomcast_index_catch_ups_total{")
                && l.contains(r#"path="listing""#)
                && l.contains(r#"reason="checkpoint_unknown""#)),
        "{}",
        metrics.text
    );
    assert!(
        log.contains("room index caught up from a sliced listing")
            && log.contains("checkpoint_unknown"),
        "{log}"
    );
    let ended = api.get("/api/rooms?status=ended").await;
    ended.assert_status(200);
    assert_eq!(
        ended.json["rooms"][0]["room"],
        room.to_string(),
        "{}",
        ended.text
    );
}

/// A node restarted on a ledger keeps its accounts but not its transaction history: the program's
/// history is empty. The room index's catch-ups then find it still empty and read nothing — not a
/// listing of the whole registry each time (seconds of CPU at 100k rooms) — until a transaction
/// lands: then one listing takes a checkpoint and the history answers again.
/// (Failed before: with no checkpoint to take, every catch-up listed the registry.)
#[tokio::test]
async fn an_empty_history_after_a_node_restart_is_not_a_listing_per_catch_up() {
    let mut n = node_with_registry("watch-empty-history");
    // The registry's own transaction is forgotten with the restart.
    assert!(n.node.terminate().success());
    let _node = n.start_again();
    let s = Server::start(&[
        ("SOLANA_RPC_URL", n.rpc_url().as_str()),
        ("ROOMCAST_REGISTRAR_KEYPAIR", n.faucet.as_str()),
        ("ROOMCAST_INDEX_RESYNC_SECS", "1"),
    ]);
    let api = s.api();
    eventually("three catch-ups that find the history empty", || async {
        (catch_ups(&api, "history", "empty_history").await >= 3).then_some(())
    })
    .await;
    assert_eq!(catch_ups(&api, "listing", "no_checkpoint").await, 0);

    // A create lands: the history has a transaction the index has no checkpoint for.
    let host = wallet();
    let created = api.create_for(&host.pubkey(), "After the restart").await;
    created.assert_status(201);
    eventually(
        "one listing, then the history from its checkpoint",
        || async {
            (catch_ups(&api, "listing", "no_checkpoint").await == 1
                && catch_ups(&api, "history", "checkpoint").await >= 2)
                .then_some(())
        },
    )
    .await;
    assert_eq!(catch_ups(&api, "listing", "no_checkpoint").await, 1);
    let listed = api.get("/api/rooms").await;
    listed.assert_status(200);
    assert_eq!(
        listed.json["rooms"][0]["sessionId"],
        created.str("sessionId"),
        "{}",
        listed.text
    );
}

/// The room index's catch-ups so far on `path` for `reason`, from the server's metrics.
async fn catch_ups(api: &Api, path: &str, reason: &str) -> u64 {
    let metrics = api.get("/metrics").await;
    metrics.assert_status(200);
    metrics
        .text
        .lines()
        .filter(|l| {
            l.starts_with("roomcast_index_catch_ups_total{")
                && l.contains(&format!(r#"path="{path}""#))
                && l.contains(&format!(r#"reason="{reason}""#))
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap() as u64)
        .sum()
}

/// Chain account reads the server made so far (`getAccountInfo`, any outcome), from its metrics.
async fn account_reads(api: &Api) -> u64 {
    let metrics = api.get("/metrics").await;
    metrics.assert_status(200);
    metrics
        .text
        .lines()
        .filter(|l| {
            l.starts_with("roomcast_upstream_requests_total{")
                && l.contains(r#"upstream="solana_rpc""#)
                && l.contains(r#"operation="get_account_info""#)
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap() as u64)
        .sum()
}

/// How long a watched room is observed for its chain reads (several of the events poller's 1 s
/// ticks).
const OBSERVED: std::time::Duration = std::time::Duration::from_millis(3500);

/// One page follows a room's events, then its host ends it straight on-chain: the page gets
/// `ended` (its stream ends), the live input is disabled and viewers get 410. Returns the server's
/// chain account reads while the page was open (per minute), and the log.
async fn page_sees_an_on_chain_end(s: &Server) -> (f64, String) {
    let api = s.api();
    let emu = s.emulator();
    let host = wallet();
    let created = api.create_as_host(&host, "Followed by a page").await;
    created.assert_status(201);
    let uid = created.str("sessionId");
    let room = s.room_address(&uid);
    airdrop(&s.rpc_url, &host.pubkey(), 1_000_000_000).await;

    let mut page = Events::open(&reqwest::Client::new(), &api.base, &uid)
        .await
        .expect("the events stream opens");
    let first = page.next().await.unwrap();
    assert_eq!(first["status"], "created");
    assert_eq!(first["title"], "Followed by a page");
    let before = account_reads(&api).await;
    let opened = std::time::Instant::now();
    tokio::time::sleep(OBSERVED).await;
    let reads = account_reads(&api).await - before;
    let per_minute = reads as f64 * 60.0 / opened.elapsed().as_secs_f64();

    assert_eq!(emu.input(&uid).await.unwrap()["enabled"], true);
    s.chain_as(&host)
        .end_room(s.registry, room)
        .await
        .expect("the host ends their room on-chain");
    let ended = page.next().await.unwrap();
    assert_eq!(ended["status"], "ended");
    assert_eq!(ended["broadcasting"], false);
    assert_eq!(ended["liveViewers"], Value::Null);
    assert!(ended["endedAt"].as_i64().is_some(), "{ended}");
    assert_eq!(page.next().await, None, "the stream ends after `ended`");
    // Both sides: ended on-chain, and the input disabled at Cloudflare by the time `ended` arrives.
    assert_eq!(
        s.chain_reader().room(&room).await.unwrap().unwrap().status,
        RoomStatus::Ended
    );
    assert_eq!(emu.input(&uid).await.unwrap()["enabled"], false);
    api.get(&format!("/api/livestream?sessionId={uid}"))
        .await
        .assert_error(410, "room_ended");
    let log = s.log_output();
    assert!(
        log.contains("room ended on-chain: live input disabled"),
        "{log}"
    );
    (per_minute, log)
}

/// With the chain watcher subscribed, a page's room events come from the watcher: the server reads
/// no account from the chain while the page is open, and the on-chain end still reaches it at once.
#[tokio::test]
async fn room_events_follow_the_watcher_without_reading_the_chain() {
    let s = Server::start(&[("ROOMCAST_ROOM_CACHE_MS", "600000")]);
    eventually("the watcher to subscribe", || async {
        s.log_output()
            .contains("watching rooms over PubSub")
            .then_some(())
    })
    .await;
    let (per_minute, _) = page_sees_an_on_chain_end(&s).await;
    eprintln!("chain account reads per watched room per minute, watcher on: {per_minute:.1}");
    assert_eq!(per_minute, 0.0, "no chain read while the watcher publishes");
}

/// Without the watcher (`--chain-watch false`, or a cluster without PubSub), the events poller reads
/// the room from the chain on every tick, and the page still learns of the on-chain end.
#[tokio::test]
async fn room_events_poll_the_chain_without_the_watcher() {
    let s = Server::start(&[
        ("ROOMCAST_CHAIN_WATCH", "false"),
        ("ROOMCAST_ROOM_CACHE_MS", "600000"),
    ]);
    let (per_minute, log) = page_sees_an_on_chain_end(&s).await;
    eprintln!("chain account reads per watched room per minute, watcher off: {per_minute:.1}");
    assert!(per_minute > 0.0, "the poller reads the chain");
    assert!(!log.contains("watching rooms over PubSub"), "{log}");
}

/// A TCP forwarder between the server and the node's PubSub port that can go silent: after
/// [`BlackHole::swallow`], the connections it holds stay open but nothing passes either way (a
/// NAT that forgot the mapping, a half-open link); new connections are forwarded normally.
pub(crate) struct BlackHole {
    pub(crate) port: u16,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Reads from the server's side (its pings and requests), all connections together.
    from_client: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Per connection: its silence switch and the first bytes its client sent.
    silenced: std::sync::Arc<std::sync::Mutex<Vec<Link>>>,
    task: tokio::task::JoinHandle<()>,
}

/// One proxied connection: whether it is swallowed, and what its client said first.
type Link = (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
);

/// The client side's counters: reads so far (all connections) and this connection's first bytes.
type ClientSide = (
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
);

/// How much of what a client sends [`BlackHole::swallow_if`] can look at.
const SAID_FIRST: usize = 64 * 1024;

impl BlackHole {
    pub(crate) async fn start(target: u16) -> BlackHole {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        use std::sync::{Arc, Mutex};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let from_client = Arc::new(AtomicUsize::new(0));
        let silenced: Arc<Mutex<Vec<Link>>> = Default::default();
        let task = {
            let (accepted, silenced, counted) =
                (accepted.clone(), silenced.clone(), from_client.clone());
            tokio::spawn(async move {
                let mut links = tokio::task::JoinSet::new();
                loop {
                    let (client, _) = listener.accept().await.unwrap();
                    let node = tokio::net::TcpStream::connect(("127.0.0.1", target))
                        .await
                        .unwrap();
                    accepted.fetch_add(1, Ordering::SeqCst);
                    let silent = Arc::new(AtomicBool::new(false));
                    let said: Arc<Mutex<Vec<u8>>> = Default::default();
                    silenced
                        .lock()
                        .unwrap()
                        .push((silent.clone(), said.clone()));
                    let (client_rx, client_tx) = client.into_split();
                    let (node_rx, node_tx) = node.into_split();
                    links.spawn(forward(
                        client_rx,
                        node_tx,
                        silent.clone(),
                        Some((counted.clone(), said)),
                    ));
                    links.spawn(forward(node_rx, client_tx, silent, None));
                }
            })
        };
        /// Copies until either side closes; once `silent`, reads and drops everything instead.
        async fn forward(
            mut from: tokio::net::tcp::OwnedReadHalf,
            mut to: tokio::net::tcp::OwnedWriteHalf,
            silent: std::sync::Arc<std::sync::atomic::AtomicBool>,
            reads: Option<ClientSide>,
        ) {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                let n = match from.read(&mut buf).await {
                    Ok(0) | Err(_) => {
                        if silent.load(std::sync::atomic::Ordering::SeqCst) {
                            // Never tell the other side: keep its half open.
                            std::future::pending::<()>().await;
                        }
                        return;
                    }
                    Ok(n) => n,
                };
                if let Some((reads, said)) = &reads {
                    reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let mut said = said.lock().unwrap();
                    let room = SAID_FIRST.saturating_sub(said.len()).min(n);
                    said.extend_from_slice(&buf[..room]);
                }
                if silent.load(std::sync::atomic::Ordering::SeqCst) {
                    continue;
                }
                if to.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
        BlackHole {
            port,
            accepted,
            from_client,
            silenced,
            task,
        }
    }

    /// Connections made through the proxy so far.
    pub(crate) fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Reads from the server's side so far (each of its pings is one).
    pub(crate) fn from_client(&self) -> usize {
        self.from_client.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stops forwarding on every connection made so far, closing none of them.
    pub(crate) fn swallow(&self) {
        self.swallow_if(|_| true);
    }

    /// Stops forwarding on the connections made so far whose client's first bytes satisfy
    /// `said` (e.g. the one that sent `SUBSCRIBE`); returns how many.
    pub(crate) fn swallow_if(&self, said: impl Fn(&[u8]) -> bool) -> usize {
        let mut n = 0;
        for (silent, first) in self.silenced.lock().unwrap().iter() {
            if said(&first.lock().unwrap()) {
                silent.store(true, std::sync::atomic::Ordering::SeqCst);
                n += 1;
            }
        }
        n
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The watcher's silence limit in [`a_silently_dead_link_is_noticed_and_replaced`]: far above a
/// pong's round trip on a loaded machine, so a healthy link is never given up by accident.
const DEAD_SECS: u64 = 8;

/// The link to the node's PubSub dies silently (black-holed, never closed): the watcher's pings go
/// unanswered, it gives the link up after the silence limit, reconnects through a fresh connection
/// and catches up, so a room its host ended on-chain meanwhile gets its input disabled — with no
/// reconciler pass. A quiet but healthy link is kept: the node answers pings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silently_dead_link_is_noticed_and_replaced() {
    let node = Localnet::start();
    node.init_registry(&node.faucet.pubkey());
    let ws_port: u16 = node.ws_url.rsplit(':').next().unwrap().parse().unwrap();
    let proxy = BlackHole::start(ws_port).await;
    let ws_url = format!("ws://127.0.0.1:{}", proxy.port);
    let s = Server::start(&[
        ("SOLANA_RPC_URL", node.rpc_url.as_str()),
        ("SOLANA_WS_URL", ws_url.as_str()),
        (
            "ROOMCAST_REGISTRAR_KEYPAIR",
            node.faucet_path.to_str().unwrap(),
        ),
        ("ROOMCAST_ROOM_CACHE_MS", "600000"),
        ("ROOMCAST_RECONCILE_INTERVAL_SECS", "0"),
        ("ROOMCAST_CHAIN_WATCH_PING_SECS", "1"),
        ("ROOMCAST_CHAIN_WATCH_DEAD_SECS", &DEAD_SECS.to_string()),
    ]);
    eventually("the watcher to subscribe through the proxy", || async {
        s.log_output()
            .contains("watching rooms over PubSub")
            .then_some(())
    })
    .await;
    let api = s.api();
    let emu = s.emulator();
    let host = wallet();
    let created = api.create_for(&host.pubkey(), "Behind a dying NAT").await;
    created.assert_status(201);
    let uid = created.str("sessionId");
    let room = s.room_address(&uid);
    airdrop(&node.rpc_url, &host.pubkey(), 1_000_000_000).await;

    // Quiet but alive: longer than the silence limit with nothing to report, the link is kept,
    // because the node answers the pings. "Longer" is counted in the watcher's own pings (one a
    // second by its clock), not by a sleep here: more pings than the limit has seconds.
    let start = proxy.from_client();
    eventually("the watcher to ping through a quiet stretch", || async {
        (proxy.from_client() >= start + DEAD_SECS as usize + 2).then_some(())
    })
    .await;
    assert_eq!(proxy.accepted(), 1, "{}", s.log_output());
    assert!(
        !s.log_output().contains("went silent"),
        "{}",
        s.log_output()
    );

    proxy.swallow();
    s.chain_as(&host)
        .end_room(s.registry, room)
        .await
        .expect("the host ends their room on-chain");
    eventually(
        "the live input to be disabled after the reconnect",
        || async { (emu.input(&uid).await.unwrap()["enabled"] == false).then_some(()) },
    )
    .await;
    api.get(&format!("/api/livestream?sessionId={uid}"))
        .await
        .assert_error(410, "room_ended");
    assert_eq!(
        s.chain_reader().room(&room).await.unwrap().unwrap().status,
        RoomStatus::Ended
    );
    let log = s.log_output();
    assert!(
        log.contains("room subscription went silent (no pong, no message); reconnecting"),
        "{log}"
    );
    assert!(proxy.accepted() >= 2, "a fresh connection: {log}");
    assert!(
        log.contains("room ended on-chain: live input disabled"),
        "{log}"
    );
}
