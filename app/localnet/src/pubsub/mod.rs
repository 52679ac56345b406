//! Solana's WebSocket PubSub API, served on its own port as `solana-test-validator` does (by
//! default the RPC port plus one): `accountSubscribe`, `programSubscribe`, `logsSubscribe`,
//! `signatureSubscribe`, `slotSubscribe`, `rootSubscribe` and their unsubscribes, with Agave's
//! notification shapes.
//!
//! Every commitment level is accepted; everything is final as soon as it lands here, so each
//! notification is sent once, when the transaction lands (or the slot is produced).
mod connection;
mod subscription;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The chain's events live in [`crate::events`] (below both the chain and this server).
pub use crate::events::{ChainEvent, EventSender, PubsubDrops, TxEvent};

use crate::chain::SLOT_DURATION;
use crate::executor::ChainExecutor;

/// Notifications queued per connection before a client that does not read is disconnected.
pub const DEFAULT_QUEUE_CAPACITY: usize = 4_096;
/// Subscriptions the node holds across all connections.
pub const DEFAULT_MAX_SUBSCRIPTIONS: usize = 100_000;
/// Subscriptions one connection may hold, so one client cannot take the node's whole budget and
/// starve the others (the API's chain watcher needs one).
pub const DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 1_000;
/// How long a client has, from TCP accept, to complete the WebSocket upgrade.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy)]
pub struct PubsubLimits {
    pub queue_capacity: usize,
    pub max_subscriptions: usize,
    /// Over it, a subscribe is answered with a JSON-RPC error (`-32603`, "Subscription refused").
    pub max_subscriptions_per_connection: usize,
    /// A client that has not completed the upgrade by then is disconnected.
    pub handshake_timeout: Duration,
}

impl Default for PubsubLimits {
    fn default() -> Self {
        PubsubLimits {
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            max_subscriptions: DEFAULT_MAX_SUBSCRIPTIONS,
            max_subscriptions_per_connection: DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }
}

struct Shared {
    chain: ChainExecutor,
    events: EventSender,
    next_id: AtomicU64,
    subscriptions: AtomicUsize,
    queue_capacity: usize,
    max_subscriptions: usize,
    max_per_connection: usize,
    handshake_timeout: Duration,
    /// Cuts every connection on demand (an injected fault).
    drops: PubsubDrops,
}

/// Serves PubSub on `listener` until `stop` turns true.
pub async fn spawn(
    listener: TcpListener,
    chain: ChainExecutor,
    limits: PubsubLimits,
    drops: PubsubDrops,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<()>> {
    let events = chain.call(|chain| chain.events.clone()).await?;
    let shared = Arc::new(Shared {
        chain,
        events,
        next_id: AtomicU64::new(1),
        subscriptions: AtomicUsize::new(0),
        queue_capacity: limits.queue_capacity.max(1),
        max_subscriptions: limits.max_subscriptions,
        max_per_connection: limits.max_subscriptions_per_connection,
        handshake_timeout: limits.handshake_timeout,
        drops,
    });
    tokio::spawn(produce_slots(shared.clone(), stop.clone()));
    Ok(tokio::spawn(accept(listener, shared, stop)))
}

async fn accept(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(connection::serve(stream, shared.clone(), stop.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "websocket accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = stopped(&mut stop) => return,
        }
    }
}

/// The chain advances slots lazily (on each request); while someone listens, nudge it every slot
/// so `slotSubscribe`/`rootSubscribe` tick like a cluster.
async fn produce_slots(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(SLOT_DURATION);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stopped(&mut stop) => return,
        }
        if shared.events.active() && shared.chain.call(|_| ()).await.is_err() {
            return;
        }
    }
}

/// Resolves once the node stops (the watch guard is not held across the caller's awaits).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// The `ws://` URL clients use for a listener address.
pub fn ws_url(addr: SocketAddr) -> String {
    format!("ws://{addr}")
}
