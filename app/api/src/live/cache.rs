//! Short-lived caches that keep viewers off the upstreams: a hot room costs one chain read and one
//! lifecycle check per TTL, however many viewers ask.
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use std::future::Future;
use std::sync::Arc;

use moka::sync::Cache;
use roomcast_chain::{Pubkey, Room};

/// Session-id → address entries kept (each about 100 bytes).
const MAX_ADDRESSES: u64 = 100_000;

/// On-chain rooms by address (`None` = no such account, cached too).
pub struct RoomCache {
    /// Async caches load once per key when many viewers miss together (single flight), so a hot
    /// room costs one upstream read per TTL rather than one per concurrent viewer.
    rooms: moka::future::Cache<Pubkey, Option<Room>>,
    viewers: moka::future::Cache<String, u64>,
    /// Session id → room address. A PDA derivation costs up to hundreds of SHA-256 + curve checks;
    /// addresses never change, so viewers pay it once per room. Keyed by caller input, so bounded
    /// (an evicted address is derived again).
    addresses: Cache<String, Pubkey>,
    /// Session ids viewers looked up recently (the reconciler refreshes their broadcast state).
    watched: Cache<String, ()>,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    /// Moves when a room is put or dropped (`live::answers`; expiries are `fresh_for`'s).
    changes: crate::live::changes::Changes,
    /// Where this replica's own room changes are sent for other replicas (shared state only).
    peers: std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<Pubkey>>,
}

impl RoomCache {
    /// `viewers_ttl`: how long a live viewer count is reused.
    pub fn new(room_ttl: Duration, viewers_ttl: Duration) -> Self {
        RoomCache {
            rooms: moka::future::Cache::builder()
                .time_to_live(room_ttl)
                .max_capacity(100_000)
                .build(),
            viewers: moka::future::Cache::builder()
                .time_to_live(viewers_ttl)
                .max_capacity(100_000)
                .build(),
            addresses: Cache::builder().max_capacity(MAX_ADDRESSES).build(),
            watched: Cache::builder()
                .time_to_live(Duration::from_secs(120))
                .max_capacity(100_000)
                .build(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            changes: Default::default(),
            peers: std::sync::OnceLock::new(),
        }
    }

    /// The cached room, or the result of `load` (run once for all concurrent callers of a key).
    pub async fn room<E: Send + Sync + 'static>(
        &self,
        address: &Pubkey,
        load: impl Future<Output = Result<Option<Room>, E>>,
    ) -> Result<Option<Room>, Arc<E>> {
        self.hits.fetch_add(1, Ordering::Relaxed);
        self.rooms
            .try_get_with(*address, async {
                // Runs only on a miss: move this lookup from hits to misses.
                self.hits.fetch_sub(1, Ordering::Relaxed);
                self.misses.fetch_add(1, Ordering::Relaxed);
                load.await
            })
            .await
    }

    pub async fn put_room(&self, address: Pubkey, room: Option<Room>) {
        self.rooms.insert(address, room).await;
        self.changes.bump();
    }

    /// How many times a room was put or dropped (`live::answers`).
    pub fn changes(&self) -> u64 {
        self.changes.get()
    }

    /// Drops a room after the server's own write, so the next read sees the new state (on every
    /// replica, when state is shared).
    pub async fn invalidate(&self, address: &Pubkey) {
        self.invalidate_local(address).await;
        if let Some(peers) = self.peers.get() {
            let _ = peers.send(*address);
        }
    }

    /// Drops a room in this process only (another replica's change).
    pub async fn invalidate_local(&self, address: &Pubkey) {
        self.rooms.invalidate(address).await;
        self.changes.bump();
    }

    /// Drops every cached room (invalidations may have been missed).
    pub fn invalidate_all_local(&self) {
        self.rooms.invalidate_all();
        self.changes.bump();
    }

    /// Sends this replica's room changes to `peers` from now on.
    pub fn on_invalidate(&self, peers: tokio::sync::mpsc::UnboundedSender<Pubkey>) {
        let _ = self.peers.set(peers);
    }

    /// The room address of `session_id`, derived once.
    pub fn address_of(&self, session_id: &str, derive: impl FnOnce() -> Pubkey) -> Pubkey {
        self.addresses.get_with_by_ref(session_id, derive)
    }

    pub fn mark_watched(&self, session_id: &str) {
        if !self.watched.contains_key(session_id) {
            self.watched.insert(session_id.to_string(), ());
        }
    }

    pub fn watched(&self) -> Vec<String> {
        self.watched.iter().map(|(k, _)| (*k).clone()).collect()
    }

    /// The cached live viewer count, if any (never asks upstream).
    pub async fn known_viewers(&self, session_id: &str) -> Option<u64> {
        self.viewers.get(session_id).await
    }

    /// The cached live viewer count, or the result of `load` (single flight); errors are not cached.
    pub async fn viewers<E: Send + Sync + 'static>(
        &self,
        session_id: &str,
        load: impl Future<Output = Result<u64, E>>,
    ) -> Result<u64, Arc<E>> {
        self.viewers.try_get_with_by_ref(session_id, load).await
    }
}
