//! Rooms this server closed (account gone, rent recovered): viewers keep getting 410 for a while
//! instead of 404. Bounded — once a tombstone is evicted or expires the room is simply unknown.
use std::time::Duration;

use moka::sync::Cache;
use roomcast_chain::Pubkey;

const MAX_TOMBSTONES: u64 = 100_000;
const KEEP: Duration = Duration::from_secs(30 * 24 * 3600);

pub struct Tombstones {
    closed: Cache<Pubkey, ()>,
}

impl Default for Tombstones {
    fn default() -> Self {
        Tombstones {
            closed: Cache::builder()
                .max_capacity(MAX_TOMBSTONES)
                .time_to_live(KEEP)
                .build(),
        }
    }
}

impl Tombstones {
    pub fn bury(&self, room: Pubkey) {
        self.closed.insert(room, ());
    }

    pub fn is_closed(&self, room: &Pubkey) -> bool {
        self.closed.contains_key(room)
    }
}
