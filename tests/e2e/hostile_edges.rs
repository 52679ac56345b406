//! Issue 17 ("safe on the internet, part 2") through the built binary, at the edges of the
//! server: what its upstream links (the cluster's RPC/PubSub, Redis between replicas) leak or
//! miss (items 5, 11), and what anonymous RTMP clients can make the embedded emulator hold (item
//! 7). Each test failed on the code before its fix.
use crate::chain_watch::{node_with_registry, BlackHole};
use crate::support;

use serde_json::json;
use support::*;

/// The secrets a hosted provider's RPC URL carries in this test: a key-like path segment
/// (QuickNode/Alchemy style) and an `api-key` query value (Helius style).
const PATH_SECRET: &str = "SECRET-path-7f3a9c2e4b1d";
const QUERY_SECRET: &str = "SECRET-key-0a1b2c3d4e5f";

/// Item 5: the RPC URL's secrets never reach a log line. `serve` runs against a standalone node
/// addressed like a hosted provider (`http://HOST:PORT/v2/<key>?api-key=<key>`, the node serves
/// any path) and goes through subscribe, the node going away (watch ended, reconnects refused,
/// reads and creates failing, readiness failing, the reconciler failing) and coming back
/// (resubscribe). Every line the process printed is scanned. Before the fix, the watcher logged
/// the derived PubSub URL with both secrets on every (re)subscribe and in its connection errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_url_secrets_never_reach_the_log() {
    let mut n = node_with_registry("rpc-secrets");
    let secret_rpc = format!("{}/v2/{PATH_SECRET}?api-key={QUERY_SECRET}", n.rpc_url());
    let s = Server::start(&[
        ("SOLANA_RPC_URL", secret_rpc.as_str()),
        ("ROOMCAST_REGISTRAR_KEYPAIR", n.faucet.as_str()),
        ("ROOMCAST_RECONCILE_INTERVAL_SECS", "1"),
        ("RUST_LOG", "info,roomcast_api=debug,roomcast_chain=debug"),
    ]);
    let api = s.api();
    eventually("the watcher to subscribe", || async {
        s.log_output()
            .contains("watching rooms over PubSub")
            .then_some(())
    })
    .await;
    // The provider-style URL works: a room is made through it.
    let host = wallet();
    let created = api
        .create_for(&roomcast_chain::Signer::pubkey(&host), "Behind a keyed RPC")
        .await;
    created.assert_status(201);
    let uid = created.str("sessionId");
    // Public reads never name it either.
    let info = api.get("/api/info").await;
    assert!(!info.text.contains("SECRET"), "{}", info.text);

    // The node goes away: the watch ends, reconnects are refused, reads and creates fail.
    assert!(n.node.terminate().success());
    eventually("the watcher to fail reconnecting", || async {
        s.log_output()
            .contains("room subscription failed; polling continues")
            .then_some(())
    })
    .await;
    let r = api.get("/readyz").await;
    r.assert_status(503);
    assert!(!r.text.contains("SECRET"), "{}", r.text);
    let r = api.get(&format!("/api/livestream?sessionId={uid}")).await;
    assert!(r.status >= 500, "{}", r.text);
    assert!(!r.text.contains("SECRET"), "{}", r.text);
    let body = json!({"title": "While the node is down", "host": roomcast_chain::Signer::pubkey(&host).to_string()});
    let r = api
        .call("POST", "/api/create", Some(&body), Auth::Operator)
        .await;
    assert!(r.status >= 500, "{}", r.text);
    assert!(!r.text.contains("SECRET"), "{}", r.text);
    // A reconciler pass fails too (one second apart).
    let before = s.log_output().matches("reconciled").count();
    eventually("a failing reconciler pass", || async {
        (s.log_output().matches("reconciled").count() > before).then_some(())
    })
    .await;

    // It comes back: the watcher subscribes again.
    let _node = n.start_again();
    eventually("the watcher to subscribe again", || async {
        (s.log_output().matches("watching rooms over PubSub").count() >= 2).then_some(())
    })
    .await;
    api.get(&format!("/api/livestream?sessionId={uid}"))
        .await
        .assert_status(200);

    let log = s.log_output();
    for secret in [PATH_SECRET, QUERY_SECRET, "SECRET"] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
    // The URLs were logged, redacted: the scan above looked at lines that name them.
    assert!(log.contains("api-key=***"), "{log}");
    assert!(log.contains("/v2/***"), "{log}");
}

const WEBHOOK_SECRET: &str = "hostile-edges-webhook-secret";

/// A replica of a deployment sharing `node`, `emulator` and Redis at `redis_url`.
fn replica(
    node: &Localnet,
    emulator: &EmulatorProc,
    redis_url: &str,
    extra: &[(&str, &str)],
) -> Server {
    let mut env: Vec<(&str, String)> = emulator.server_env();
    env.extend([
        ("SOLANA_RPC_URL", node.rpc_url.clone()),
        (
            "ROOMCAST_REGISTRAR_KEYPAIR",
            node.faucet_path.to_str().unwrap().to_string(),
        ),
        ("CLOUDFLARE_WEBHOOK_SECRET", WEBHOOK_SECRET.to_string()),
        ("ROOMCAST_REDIS_URL", redis_url.to_string()),
        ("ROOMCAST_PUBLIC_ORIGIN", "https://rooms.test".to_string()),
        // Only the replicas' events can explain another replica seeing a change.
        ("ROOMCAST_ROOM_CACHE_MS", "600000".to_string()),
    ]);
    env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Server::start(&env)
}

/// The value of an unlabeled Prometheus counter (0 when never incremented).
async fn counter(api: &Api, name: &str) -> u64 {
    let text = api.get("/metrics").await.text;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0)
}

/// Item 11: replica B's subscription to the replicas' `events` channel dies silently (its Redis
/// link is black-holed, never closed — a NAT or a failover that forgot it). B pings on that
/// link, notices that nothing answers, resubscribes on a fresh connection and resyncs, so a
/// broadcast state applied through replica A reaches B's viewers — and B says (log and
/// `roomcast_replica_subscription_silent_total`) that it gave up a dead link. Before the fix B
/// waited on the dead link forever and never saw A's change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silently_dead_replica_subscription_is_noticed_and_resynced() {
    let node = Localnet::start();
    node.init_registry(&roomcast_chain::Signer::pubkey(&node.faucet));
    let emulator = EmulatorProc::start();
    let redis = RedisProc::start();
    let proxy = BlackHole::start(redis.port).await;
    let a = replica(&node, &emulator, &redis.url(), &[]);
    let b = replica(
        &node,
        &emulator,
        &format!("redis://127.0.0.1:{}/0", proxy.port),
        &[
            ("ROOMCAST_REDIS_PING_SECS", "1"),
            ("ROOMCAST_REDIS_DEAD_SECS", "4"),
        ],
    );
    let (api_a, api_b) = (a.api(), b.api());
    eventually("B to subscribe to the replicas' events", || async {
        b.log_output()
            .contains("subscribed to shared-state events")
            .then_some(())
    })
    .await;

    let host = wallet();
    let created = api_a
        .create_for(&roomcast_chain::Signer::pubkey(&host), "Across a partition")
        .await;
    created.assert_status(201);
    let session = created.str("sessionId");
    let before = api_b
        .get(&format!("/api/livestream?sessionId={session}"))
        .await;
    before.assert_status(200);
    assert_eq!(
        before.json["broadcast"],
        serde_json::Value::Null,
        "{}",
        before.text
    );
    assert_eq!(
        counter(&api_b, "roomcast_replica_subscription_silent_total").await,
        0
    );

    // B's subscriber link goes silent; its command link (and A's) keep working.
    // B's subscriber connection, and the one its start-up check subscribed on (closed since).
    assert_eq!(
        proxy.swallow_if(|said| contains_bytes(said, b"SUBSCRIBE")),
        2,
        "exactly B's subscriber connection and its start-up check's"
    );
    let accepted = proxy.accepted();

    // A gets the `connected` notification and applies it for every replica.
    let r = reqwest::Client::new()
        .put(format!("{}/__emulator/webhook", emulator.delivery_url))
        .json(&json!({
            "url": format!("{}/api/webhooks/cloudflare", a.base),
            "secret": WEBHOOK_SECRET,
        }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "set webhook: {}", r.status());
    // The notification follows the control call's answer (like Cloudflare's); A accepts it.
    let control = emulator.control();
    control.connect(&session).await;
    eventually("A's 200 to the connected notification", || async {
        control.deliveries().await.into_iter().find(|d| {
            d["body"]["data"]["input_id"] == session.as_str()
                && d["body"]["data"]["event_type"] == "live_input.connected"
                && d["status"] == 200
        })
    })
    .await;
    let seen_by_a = api_a
        .get(&format!("/api/livestream?sessionId={session}"))
        .await;
    assert_eq!(
        seen_by_a.json["broadcast"]["state"], "live",
        "{}",
        seen_by_a.text
    );

    let seen = eventually("B to see A's broadcast state", || async {
        let r = api_b
            .get(&format!("/api/livestream?sessionId={session}"))
            .await;
        (r.json["broadcast"]["state"] == "live").then_some(r)
    })
    .await;
    assert_eq!(seen.json["broadcasting"], true, "{}", seen.text);
    let log = b.log_output();
    assert!(
        log.contains("shared-state subscription went silent (no answer to PING); resubscribing"),
        "{log}"
    );
    assert!(proxy.accepted() > accepted, "a fresh connection: {log}");
    assert!(counter(&api_b, "roomcast_replica_subscription_silent_total").await >= 1);
}

/// The server's resident memory (kB), from `/proc`.
fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A TCP connection to `to` from the loopback address `from` (127.0.0.0/8 is all ours).
async fn connect_from(from: std::net::IpAddr, to: std::net::SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(std::net::SocketAddr::new(from, 0)).unwrap();
    socket.connect(to).await.unwrap()
}

/// An RTMP client on `stream` that sends `first`, then a byte every 200 ms; `closed` counts it
/// once the server ends the connection.
fn rtmp_pest(
    mut stream: tokio::net::TcpStream,
    first: Vec<u8>,
    closed: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tokio::spawn(async move {
        let (mut rx, mut tx) = stream.split();
        let write = async {
            if tx.write_all(&first).await.is_err() {
                return;
            }
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                if tx.write_all(&[0]).await.is_err() {
                    return;
                }
            }
        };
        let read = async {
            let mut buf = [0u8; 4096];
            while let Ok(n) = rx.read(&mut buf).await {
                if n == 0 {
                    return;
                }
            }
        };
        tokio::select! { _ = write => {}, _ = read => {} }
        closed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
}

/// ffmpeg pushing a test pattern to `url` (killed on drop).
struct Pusher(std::process::Child);
impl Drop for Pusher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Item 7 through the built binary: 500 connections trickle their RTMP handshake from one address
/// and 10 from another announce a 4 MiB message before publishing; the ones over the per-address
/// cap (16) are closed at once, the oversized ones at their header, the rest at the 10 s publish
/// deadline — and meanwhile a real publisher (ffmpeg, from a third address) pushes to a room,
/// which goes live. The server's memory is printed before, during and after (not asserted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtmp_pests_are_bounded_and_a_real_publisher_still_goes_live() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = Server::start(&[("RUST_LOG", "info,roomcast_stream::media::rtmp=debug")]);
    let ingest = s
        .rtmp_ingest
        .clone()
        .expect("video ingest must be on (is ffmpeg installed?)");
    let rtmp: std::net::SocketAddr = ingest
        .trim_start_matches("rtmp://")
        .trim_end_matches("/live/")
        .parse()
        .unwrap();
    let api = s.api();
    let c = api
        .create_for(&roomcast_chain::Signer::pubkey(&wallet()), "Among pests")
        .await;
    let (uid, key) = (c.str("SessionID"), c.str("StreamKey"));
    let rss_before = rss_kb(s.proc.pid());

    let trickling = Arc::new(AtomicUsize::new(0));
    for _ in 0..500 {
        let stream = connect_from([127, 0, 0, 2].into(), rtmp).await;
        rtmp_pest(stream, vec![3], trickling.clone());
    }
    let oversized = Arc::new(AtomicUsize::new(0));
    for _ in 0..10 {
        let mut stream = connect_from([127, 0, 0, 3].into(), rtmp).await;
        // C0 + C1, S0 + S1 + S2 back, S1 echoed as C2; then a type-0 header on chunk stream 3
        // announcing a 4 MiB AMF0 command on message stream 0.
        let mut c0c1 = vec![3u8];
        c0c1.extend(std::iter::repeat_n(0u8, 1536));
        stream.write_all(&c0c1).await.unwrap();
        let mut s0s1s2 = vec![0u8; 1 + 2 * 1536];
        stream.read_exact(&mut s0s1s2).await.unwrap();
        let mut first = s0s1s2[1..1537].to_vec();
        first.extend([0x03, 0, 0, 0, 0x40, 0, 0, 20, 0, 0, 0, 0]);
        rtmp_pest(stream, first, oversized.clone());
    }
    let rss_during = rss_kb(s.proc.pid());

    let _pusher = Pusher(
        std::process::Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi"])
            .args(["-i", "testsrc=size=160x120:rate=25", "-f", "lavfi"])
            .args(["-i", "sine=frequency=440:sample_rate=48000"])
            .args([
                "-t", "60", "-c:v", "libx264", "-g", "25", "-pix_fmt", "yuv420p",
            ])
            .args(["-c:a", "aac", "-f", "flv"])
            .arg(format!("{ingest}{key}"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("ffmpeg runs"),
    );
    let live = eventually("the real publisher's room to go live", || async {
        let r = api.get(&format!("/api/livestream?sessionId={uid}")).await;
        (r.json["broadcasting"] == true).then_some(r)
    })
    .await;
    assert_eq!(live.json["broadcast"]["state"], "live", "{}", live.text);
    eventually("every pest to be dropped", || async {
        (trickling.load(Ordering::SeqCst) == 500 && oversized.load(Ordering::SeqCst) == 10)
            .then_some(())
    })
    .await;
    let rss_after = rss_kb(s.proc.pid());
    eprintln!(
        "serve RSS: {rss_before} kB before, {rss_during} kB with 510 pests, {rss_after} kB after"
    );
    // Still live: the publisher was not among the dropped.
    let r = api.get(&format!("/api/livestream?sessionId={uid}")).await;
    assert_eq!(r.json["broadcasting"], true, "{}", r.text);
    let log = s.log_output();
    let lines = |what: &str| log.lines().filter(|l| l.contains(what)).count();
    assert_eq!(
        lines("rtmp connection refused: too many open"),
        500 - 16,
        "{log}"
    );
    assert_eq!(
        lines("rtmp connection dropped: no publish in time"),
        16,
        "{log}"
    );
    assert_eq!(
        lines("rtmp connection ended: message too large before publish"),
        10,
        "{log}"
    );
    assert!(!log.contains(&key), "the stream key stays out of the log");
}
