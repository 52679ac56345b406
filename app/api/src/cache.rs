//! Short-lived caches that keep viewers off the upstreams: a hot room costs one chain read and one
//! lifecycle check per TTL, however many viewers ask.
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moka::sync::Cache;
use roomcast_chain::{Pubkey, Room};

/// On-chain rooms by address (`None` = no such account, cached too).
pub struct RoomCache {
    rooms: Cache<Pubkey, Option<Room>>,
    broadcasting: Cache<String, bool>,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

impl RoomCache {
    pub fn new(room_ttl: Duration, broadcast_ttl: Duration) -> Self {
        RoomCache {
            rooms: Cache::builder().time_to_live(room_ttl).max_capacity(100_000).build(),
            broadcasting: Cache::builder().time_to_live(broadcast_ttl).max_capacity(100_000).build(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn room(&self, address: &Pubkey) -> Option<Option<Room>> {
        let found = self.rooms.get(address);
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    pub fn put_room(&self, address: Pubkey, room: Option<Room>) {
        self.rooms.insert(address, room);
    }

    /// Drops a room after the server's own write, so the next read sees the new state.
    pub fn invalidate(&self, address: &Pubkey) {
        self.rooms.invalidate(address);
    }

    pub fn broadcasting(&self, session_id: &str) -> Option<bool> {
        self.broadcasting.get(session_id)
    }

    pub fn put_broadcasting(&self, session_id: &str, live: bool) {
        self.broadcasting.insert(session_id.to_string(), live);
    }
}
