//! The Redis scripts behind the deployment-wide registrar floor (`shared/funds.rs`) and the
//! failed-authentication throttle (`shared/auth_failures.rs`), against a real `redis-server`:
//! exact reservations and refusals, re-basing on a newer balance read, windows that expire, and
//! an unreachable Redis reported as unavailable (the API answers 503, fail closed).
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use roomcast_api::store::redis::auth_failures::SharedAuthFailures;
use roomcast_api::store::redis::funds::{Read, Reserve, SharedFunds};
use roomcast_api::store::redis::Redis;
use roomcast_api::store::StoreError;
use roomcast_chain::Pubkey;

/// A `redis-server` on a free loopback port without persistence; killed on drop.
struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    fn start() -> RedisServer {
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/test.sh installs it)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        RedisServer { child, port }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn redis(port: u16) -> Arc<Redis> {
    Arc::new(
        Redis::new(
            &roomcast_api::store::redis::connect::Settings::single(&format!(
                "redis://127.0.0.1:{port}/0"
            )),
            &Pubkey::new_unique(),
        )
        .unwrap(),
    )
}

const FLOOR: u64 = 50_000_000;
const COST: u64 = 3_800_000;
const WINDOW: Duration = Duration::from_secs(90);
const TTL: Duration = Duration::from_secs(5);

fn read_at(outcome: Reserve) -> u64 {
    match outcome {
        Reserve::NeedBalance { read_at_us } => read_at_us,
        other => panic!("expected a request for the balance, got {other:?}"),
    }
}

#[tokio::test]
async fn registrar_reservations_are_atomic_rebased_and_fail_closed() {
    let server = RedisServer::start();
    let funds = SharedFunds::new(redis(server.port));
    let reserve = |read, window, ttl| funds.reserve(FLOOR, COST, window, ttl, read);

    // No balance known yet: read it, then reserve against it.
    let start = read_at(reserve(None, WINDOW, TTL).await.unwrap());
    assert!(start > 1_700_000_000_000_000, "Redis time in µs: {start}");
    let balance = FLOOR + 2 * COST + COST / 2;
    let fresh = Read {
        lamports: balance,
        read_at_us: start,
    };
    assert_eq!(
        reserve(Some(fresh), WINDOW, TTL).await.unwrap(),
        Reserve::Reserved
    );
    assert_eq!(reserve(None, WINDOW, TTL).await.unwrap(), Reserve::Reserved);
    // Two reservations held: what is left above nothing is the floor plus half a create.
    assert_eq!(
        reserve(None, WINDOW, TTL).await.unwrap(),
        Reserve::Refused {
            available: (FLOOR + COST / 2) as i64
        }
    );

    // A newer read (the two creates landed, say at half the reserved cost each): the
    // reservations still count against it within the window, so it admits nothing more ...
    let landed = balance - COST;
    let newer = Read {
        lamports: landed,
        read_at_us: start + 10_000_000,
    };
    assert_eq!(
        reserve(Some(newer), WINDOW, TTL).await.unwrap(),
        Reserve::Refused {
            available: landed as i64 - 2 * COST as i64
        }
    );
    // ... an older read does not replace it ...
    let stale = Read {
        lamports: 10 * balance,
        read_at_us: start,
    };
    assert_eq!(
        reserve(Some(stale), WINDOW, TTL).await.unwrap(),
        Reserve::Refused {
            available: landed as i64 - 2 * COST as i64
        }
    );
    // ... and reservations made longer than the window before the read (here: 5 s before a
    // read dated 10 s after them) no longer count.
    assert_eq!(
        reserve(None, Duration::from_secs(5), TTL).await.unwrap(),
        Reserve::Reserved
    );

    // The balance is trusted for its TTL only (three reservations held now).
    let short = Duration::from_millis(200);
    let fresh = Read {
        lamports: balance,
        read_at_us: start + 20_000_000,
    };
    assert_eq!(
        reserve(Some(fresh), WINDOW, short).await.unwrap(),
        Reserve::Refused {
            available: balance as i64 - 3 * COST as i64
        }
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    read_at(reserve(None, WINDOW, TTL).await.unwrap());

    // Redis gone: the caller is told, never admitted.
    drop(server);
    match reserve(None, WINDOW, TTL).await {
        Err(StoreError::Unavailable("registrar funds", _)) => {}
        other => panic!("expected the store to be unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn failed_authentications_are_counted_per_address_in_a_window() {
    let server = RedisServer::start();
    let failures = SharedAuthFailures::new(redis(server.port));
    let minute = Duration::from_secs(60);
    for expected in 1..=3 {
        assert_eq!(
            failures.failed("192.0.2.1", minute).await.unwrap(),
            expected
        );
    }
    let wait = failures
        .blocked("192.0.2.1", 3)
        .await
        .unwrap()
        .expect("three failures of three: blocked");
    assert!(
        wait > Duration::from_secs(59) && wait <= minute,
        "the rest of the window: {wait:?}"
    );
    assert_eq!(failures.blocked("192.0.2.1", 4).await.unwrap(), None);
    assert_eq!(failures.blocked("192.0.2.2", 1).await.unwrap(), None);

    // The window starts with the first failure and is not extended by later ones.
    let short = Duration::from_secs(3);
    assert_eq!(failures.failed("192.0.2.3", short).await.unwrap(), 1);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(failures.failed("192.0.2.3", short).await.unwrap(), 2);
    assert!(failures.blocked("192.0.2.3", 2).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(failures.blocked("192.0.2.3", 2).await.unwrap(), None);
    assert_eq!(failures.failed("192.0.2.3", short).await.unwrap(), 1);

    drop(server);
    match failures.blocked("192.0.2.1", 3).await {
        Err(StoreError::Unavailable("auth failures", _)) => {}
        other => panic!("expected the store to be unavailable, got {other:?}"),
    }
}
