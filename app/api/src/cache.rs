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
    viewers: Cache<String, u64>,
    listings: Cache<String, std::sync::Arc<Vec<roomcast_chain::RoomRecord>>>,
    /// Session ids viewers looked up recently (the reconciler refreshes their broadcast state).
    watched: Cache<String, ()>,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

impl RoomCache {
    pub fn new(room_ttl: Duration, broadcast_ttl: Duration) -> Self {
        RoomCache {
            rooms: Cache::builder().time_to_live(room_ttl).max_capacity(100_000).build(),
            broadcasting: Cache::builder().time_to_live(broadcast_ttl).max_capacity(100_000).build(),
            viewers: Cache::builder().time_to_live(broadcast_ttl * 2).max_capacity(100_000).build(),
            listings: Cache::builder().time_to_live(room_ttl).max_capacity(1_000).build(),
            watched: Cache::builder().time_to_live(Duration::from_secs(120)).max_capacity(100_000).build(),
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
        self.listings.invalidate_all();
    }

    pub fn mark_watched(&self, session_id: &str) {
        if !self.watched.contains_key(session_id) {
            self.watched.insert(session_id.to_string(), ());
        }
    }

    pub fn watched(&self) -> Vec<String> {
        self.watched.iter().map(|(k, _)| (*k).clone()).collect()
    }

    pub fn viewers(&self, session_id: &str) -> Option<u64> {
        self.viewers.get(session_id)
    }

    pub fn put_viewers(&self, session_id: &str, viewers: u64) {
        self.viewers.insert(session_id.to_string(), viewers);
    }

    /// A recent listing of rooms for one filter (discovery pages share it).
    pub fn listing(&self, key: &str) -> Option<std::sync::Arc<Vec<roomcast_chain::RoomRecord>>> {
        self.listings.get(key)
    }

    pub fn put_listing(&self, key: &str, rooms: std::sync::Arc<Vec<roomcast_chain::RoomRecord>>) {
        self.listings.insert(key.to_string(), rooms);
    }

    /// Drops every cached listing (after the server's own writes).
    pub fn invalidate_listings(&self) {
        self.listings.invalidate_all();
    }

    pub fn broadcasting(&self, session_id: &str) -> Option<bool> {
        self.broadcasting.get(session_id)
    }

    pub fn put_broadcasting(&self, session_id: &str, live: bool) {
        self.broadcasting.insert(session_id.to_string(), live);
    }
}
