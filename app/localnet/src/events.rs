//! What the chain thread publishes for subscribers: every produced slot and every landed transaction
//! with the accounts it wrote. Subscriptions are matched off the chain thread, from these events.
//! Its own module, below both [`crate::chain`] (which publishes) and [`crate::pubsub`] (which
//! listens), so neither needs the other.
use std::sync::Arc;

use solana_account::AccountSharedData;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction_error::TransactionError;
use tokio::sync::broadcast;

/// How many events a connection may fall behind before it is dropped as too slow.
pub const EVENT_BACKLOG: usize = 16_384;

#[derive(Clone, Debug)]
pub enum ChainEvent {
    /// A new slot; everything here is final at once, so it is also the new root.
    Slot {
        slot: u64,
        parent: u64,
    },
    Transaction(Arc<TxEvent>),
}

/// A transaction that landed (successfully or not), with the post-state of its writable accounts.
#[derive(Debug)]
pub struct TxEvent {
    pub signature: Signature,
    pub slot: u64,
    pub err: Option<TransactionError>,
    pub logs: Vec<String>,
    /// Every account the message names (for `logsSubscribe` `mentions`).
    pub keys: Vec<Pubkey>,
    /// Writable accounts after execution; a closed account appears with zero lamports.
    pub written: Vec<(Pubkey, AccountSharedData)>,
}

/// The chain thread's end: sending never blocks and never fails the chain.
#[derive(Clone)]
pub struct EventSender(broadcast::Sender<ChainEvent>);

impl EventSender {
    pub fn new() -> Self {
        EventSender(broadcast::channel(EVENT_BACKLOG).0)
    }

    pub fn publish(&self, event: ChainEvent) {
        // No receiver means no subscriber: nothing to do.
        let _ = self.0.send(event);
    }

    /// True while at least one connection listens (building events is skipped otherwise).
    pub fn active(&self) -> bool {
        self.0.receiver_count() > 0
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ChainEvent> {
        self.0.subscribe()
    }
}

impl Default for EventSender {
    fn default() -> Self {
        Self::new()
    }
}

/// Injected faults both servers see (tests only): every open PubSub connection is cut at once, as
/// a network drop would (no close frame, `roomcastDropPubsubConnections`); and new connections can
/// be held before their WebSocket handshake until released (`roomcastHoldPubsubConnections`), so a
/// test knows what happens before a client gets its subscription back.
#[derive(Clone)]
pub struct PubsubDrops(Arc<PubsubFaults>);

struct PubsubFaults {
    cut: tokio::sync::watch::Sender<u64>,
    held: tokio::sync::watch::Sender<bool>,
}

impl Default for PubsubDrops {
    fn default() -> Self {
        PubsubDrops(Arc::new(PubsubFaults {
            cut: tokio::sync::watch::channel(0).0,
            held: tokio::sync::watch::channel(false).0,
        }))
    }
}

impl PubsubDrops {
    /// Cuts every open connection; returns how many there were.
    pub fn drop_all(&self) -> usize {
        let open = self.0.cut.receiver_count();
        self.0.cut.send_modify(|n| *n += 1);
        open
    }

    /// One per connection: changes when the connection must be cut.
    pub fn watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.cut.subscribe()
    }

    /// While held, a new connection waits before its handshake.
    pub fn hold(&self, held: bool) {
        self.0.held.send_replace(held);
    }

    /// Resolves once new connections are not held.
    pub async fn released(&self) {
        let mut held = self.0.held.subscribe();
        let _ = held.wait_for(|h| !*h).await;
    }
}
