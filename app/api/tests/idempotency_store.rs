//! The idempotency store's lease, fencing and write-ahead progress — the same behaviour from the
//! in-memory store and from a real `redis-server` (one store trait): a stale holder's writes are
//! refused, an unrenewed lease expires, progress outlives the lease, and renewing keeps a live
//! create's key.
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use roomcast_api::store::redis::seal::Sealer;
use roomcast_api::store::redis::Redis;
use roomcast_api::store::{
    Claim, IdempotencyStore, KeyState, LeaseToken, MemoryIdempotencyStore, Progress,
    RedisIdempotencyStore, SentCreate, StoredResponse,
};
use roomcast_chain::Pubkey;
use serde_json::json;

/// A lease the test never outlives: every "the lease is live" check holds however slow the
/// machine is.
const LEASE: Duration = Duration::from_secs(60);
/// The last renewal of a holder that dies: the test sleeps past it, so it has expired by then
/// however the sleep is scheduled.
const DYING: Duration = Duration::from_millis(20);
/// A lease kept only by renewals (every tenth of it): it lapses only if the test stalls for
/// nine tenths of it between two renewals.
const RENEWED: Duration = Duration::from_secs(2);
const TTL: Duration = Duration::from_secs(60);

/// Renews with `renew` every tenth of [`RENEWED`] until more than one whole lease has passed: a
/// lease that is still live afterwards was kept by the renewals alone.
async fn renew_past_one_lease(mut renew: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() <= RENEWED + RENEWED / 4 {
        tokio::time::sleep(RENEWED / 10).await;
        assert!(renew().await, "renewed within its lease");
    }
}

/// A `redis-server` on a free loopback port without persistence; killed on drop.
struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    fn start() -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/test.sh installs it)");
        let server = RedisServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn store(&self) -> RedisIdempotencyStore {
        let registry = Pubkey::new_unique();
        let redis = Redis::new(
            &roomcast_api::store::redis::connect::Settings::single(&format!(
                "redis://127.0.0.1:{}/0",
                self.port
            )),
            &registry,
        )
        .unwrap();
        RedisIdempotencyStore::new(Arc::new(redis), Sealer::new(&[7; 32], registry.as_ref()))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn acquired(claim: Claim) -> (LeaseToken, Progress) {
    match claim {
        Claim::Acquired { token, progress } => (token, progress),
        taken => panic!("expected the lease, got {taken:?}"),
    }
}

fn response(session: &str) -> StoredResponse {
    StoredResponse {
        status: 201,
        body: json!({ "SessionID": session, "StreamKey": "secret" }),
    }
}

/// Every property, against one store.
async fn lease_fencing_and_progress(store: &dyn IdempotencyStore) {
    let fp = [1; 32];
    let other_fp = [2; 32];

    // A live lease: others are told "in progress", a different body "reused" (its fingerprint).
    let (first, progress) = acquired(store.claim("k", fp, LEASE, TTL).await.unwrap());
    assert_eq!(progress, Progress::default());
    assert_eq!(
        store.get("k").await.unwrap(),
        KeyState::InProgress { fingerprint: fp }
    );
    assert_eq!(
        store.claim("k", fp, LEASE, TTL).await.unwrap(),
        Claim::Taken(KeyState::InProgress { fingerprint: fp })
    );

    // Write-ahead progress, then the holder dies (no renewal): the lease expires, the progress
    // does not, and the next claim gets both the lease and the progress.
    let input = Progress {
        input: Some("uid-1".into()),
        sent: Some(SentCreate {
            signature: "sig-1".into(),
            last_valid_block_height: 151,
        }),
        flight: Some("flight-1".into()),
    };
    assert!(store.record("k", &first, &input, TTL).await.unwrap());
    assert!(store.renew("k", &first, DYING).await.unwrap());
    tokio::time::sleep(DYING + Duration::from_millis(100)).await;
    assert_eq!(
        store.get("k").await.unwrap(),
        KeyState::Free,
        "lease expired"
    );
    assert_eq!(
        store.claim("k", other_fp, LEASE, TTL).await.unwrap(),
        Claim::Taken(KeyState::InProgress { fingerprint: fp }),
        "another body cannot take over a key with progress"
    );
    let (second, resumed) = acquired(store.claim("k", fp, RENEWED, TTL).await.unwrap());
    assert_ne!(second, first);
    assert_eq!(resumed, input, "progress outlived the lease");

    // Fencing: the presumed-dead first holder can no longer write, renew or release.
    assert!(!store.renew("k", &first, LEASE).await.unwrap());
    assert!(!store
        .record("k", &first, &Progress::default(), TTL)
        .await
        .unwrap());
    assert!(!store
        .complete("k", &first, response("stale"), TTL)
        .await
        .unwrap());
    assert!(!store.release("k", &first, true).await.unwrap());
    assert_eq!(
        store.get("k").await.unwrap(),
        KeyState::InProgress { fingerprint: fp },
        "the successor still holds the key"
    );

    // Renewing keeps a create's key past its lease length.
    renew_past_one_lease(async || store.renew("k", &second, RENEWED).await.unwrap()).await;
    assert_eq!(
        store.get("k").await.unwrap(),
        KeyState::InProgress { fingerprint: fp }
    );

    // The successor's result is the one stored; a late stale complete does not replace it.
    assert!(store
        .complete("k", &second, response("room-1"), TTL)
        .await
        .unwrap());
    assert!(!store
        .complete("k", &first, response("stale"), TTL)
        .await
        .unwrap());
    let done = KeyState::Done {
        fingerprint: fp,
        response: response("room-1"),
    };
    assert_eq!(store.get("k").await.unwrap(), done);
    tokio::time::sleep(RENEWED + Duration::from_millis(100)).await;
    assert_eq!(
        store.claim("k", fp, LEASE, TTL).await.unwrap(),
        Claim::Taken(done),
        "a finished key stays finished"
    );

    // Releasing: `forget` frees the key; otherwise its progress waits for the next claim.
    let (t, _) = acquired(store.claim("r", fp, LEASE, TTL).await.unwrap());
    let only_input = Progress {
        input: Some("uid-2".into()),
        ..Default::default()
    };
    assert!(store.record("r", &t, &only_input, TTL).await.unwrap());
    assert!(store.release("r", &t, false).await.unwrap());
    assert_eq!(store.get("r").await.unwrap(), KeyState::Free);
    let (t, kept) = acquired(store.claim("r", fp, LEASE, TTL).await.unwrap());
    assert_eq!(kept, only_input);
    assert!(store.release("r", &t, true).await.unwrap());
    let (_, fresh) = acquired(store.claim("r", other_fp, LEASE, TTL).await.unwrap());
    assert_eq!(fresh, Progress::default(), "a forgotten key is new");
}

/// In-flight markers: protected while the lease lives or the sent `create_room` can still land
/// at the reconciler's block height; once doomed, neither a hold nor a send gets through; a
/// released or never-sent flight, or a missing marker, protects nothing; markers expire.
async fn in_flight_markers(store: &dyn IdempotencyStore) {
    assert!(store.hold_flight("f", RENEWED, TTL).await.unwrap());
    assert!(
        !store.doom_flight("f", 100, TTL).await.unwrap(),
        "lease live"
    );
    assert!(store.flight_sent("f", 150, TTL).await.unwrap());
    // Renewals keep it past its lease length.
    renew_past_one_lease(async || store.hold_flight("f", RENEWED, TTL).await.unwrap()).await;
    assert!(
        !store.doom_flight("f", 1_000, TTL).await.unwrap(),
        "lease live"
    );
    // The holder dies: its transaction still protects the input up to its last valid height.
    assert!(store.hold_flight("f", DYING, TTL).await.unwrap());
    tokio::time::sleep(DYING + Duration::from_millis(100)).await;
    assert!(!store.doom_flight("f", 150, TTL).await.unwrap(), "may land");
    assert!(store.doom_flight("f", 151, TTL).await.unwrap(), "expired");
    assert!(!store.hold_flight("f", LEASE, TTL).await.unwrap());
    assert!(!store.flight_sent("f", 999, TTL).await.unwrap());
    assert!(
        store.doom_flight("f", 151, TTL).await.unwrap(),
        "stays doomed"
    );

    // Released without a send: nothing protects the input any more, at once.
    assert!(store.hold_flight("g", LEASE, TTL).await.unwrap());
    store.release_flight("g", false).await.unwrap();
    assert!(store.doom_flight("g", 0, TTL).await.unwrap());
    // Released with a send: the transaction protects until it expires.
    assert!(store.hold_flight("s", LEASE, TTL).await.unwrap());
    assert!(store.flight_sent("s", 10, TTL).await.unwrap());
    store.release_flight("s", false).await.unwrap();
    assert!(!store.doom_flight("s", 10, TTL).await.unwrap());
    assert!(store.doom_flight("s", 11, TTL).await.unwrap());
    // Forgotten (the room exists) or never marked: dooming takes it, and it stays taken.
    assert!(store.hold_flight("h", LEASE, TTL).await.unwrap());
    store.release_flight("h", true).await.unwrap();
    assert!(store.doom_flight("h", 0, TTL).await.unwrap());
    assert!(!store.hold_flight("h", LEASE, TTL).await.unwrap());
    assert!(store.doom_flight("never", 5, TTL).await.unwrap());
    assert!(!store.hold_flight("never", LEASE, TTL).await.unwrap());

    // Every marker expires `ttl` after its last write: nothing leaks.
    assert!(store.doom_flight("x", 0, TTL).await.unwrap());
    assert!(!store.hold_flight("x", LEASE, TTL).await.unwrap());
    let short = Duration::from_millis(300);
    assert!(
        store.doom_flight("x", 0, short).await.unwrap(),
        "last write"
    );
    tokio::time::sleep(short + Duration::from_millis(200)).await;
    assert!(
        store.hold_flight("x", LEASE, TTL).await.unwrap(),
        "the doomed marker expired"
    );
}

#[tokio::test]
async fn memory_store_leases_fence_and_keep_progress() {
    lease_fencing_and_progress(&MemoryIdempotencyStore::new(16)).await;
}

#[tokio::test]
async fn memory_store_in_flight_markers() {
    in_flight_markers(&MemoryIdempotencyStore::new(16)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_leases_fence_and_keep_progress() {
    let redis = RedisServer::start();
    let store = redis.store();
    lease_fencing_and_progress(&store).await;
    in_flight_markers(&store).await;
    // Redis holds the lease apart from the entry, and never the stream key in clear.
    let out = Command::new("redis-cli")
        .args(["-p", &redis.port.to_string(), "--scan"])
        .output()
        .unwrap();
    let keys = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(keys.contains(":idem:k"), "{keys}");
    let dump = Command::new("redis-cli")
        .args(["-p", &redis.port.to_string(), "GET"])
        .arg(keys.lines().find(|l| l.ends_with(":idem:k")).unwrap())
        .output()
        .unwrap();
    let dump = String::from_utf8_lossy(&dump.stdout).to_string();
    assert!(
        dump.contains("\"sealed\"") && !dump.contains("secret"),
        "{dump}"
    );
    // Flights: a marker and its lease apart; every key carries a TTL, so nothing leaks.
    let keys = String::from_utf8_lossy(
        &Command::new("redis-cli")
            .args(["-p", &redis.port.to_string(), "--scan"])
            .output()
            .unwrap()
            .stdout,
    )
    .to_string();
    assert!(keys.lines().any(|k| k.ends_with(":flight:f")), "{keys}");
    for key in keys.lines().filter(|k| k.contains(":flight")) {
        let ttl = Command::new("redis-cli")
            .args(["-p", &redis.port.to_string(), "PTTL", key])
            .output()
            .unwrap();
        let ttl: i64 = String::from_utf8_lossy(&ttl.stdout).trim().parse().unwrap();
        // -2: expired since the scan; -1 (no TTL) would be a leak.
        assert!(
            ttl == -2 || (ttl > 0 && ttl <= TTL.as_millis() as i64),
            "{key}: {ttl}"
        );
    }
}
