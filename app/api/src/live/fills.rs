//! Background fills for discovery: a listed room's upstream state (is an encoder sending, how many
//! watch) is never waited for by a listing. An item shows what is known — else what its item last
//! showed, else `null` — and one background read per room and field fills it in; when that read
//! lands with something other than what was shown, the change counter moves and the next listing
//! renders with it (`live::answers`). So a listing right after a create costs what the index and
//! the kept items cost, not the new room's (or its page-mates') first upstream reads.
use std::time::Duration;

use moka::sync::Cache;
use roomcast_chain::Pubkey;

use crate::live::changes::Changes;

/// A field's fill is started at most once per room in this long (in flight or just done), so a
/// failing upstream costs one read per room and period however many listings render it.
pub const RETRY: Duration = Duration::from_secs(2);

/// Rooms whose fills are remembered at most.
const MAX_FILLS: u64 = 100_000;

/// What a fill reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// Whether an encoder is sending (`lifecycle`).
    Broadcasting,
    /// Live viewers (`views`).
    Viewers,
}

pub struct Fills {
    started: Cache<(Field, Pubkey), ()>,
    changes: Changes,
}

impl Default for Fills {
    fn default() -> Self {
        Fills::new(RETRY)
    }
}

impl Fills {
    pub fn new(retry: Duration) -> Self {
        Fills {
            started: Cache::builder()
                .time_to_live(retry)
                .max_capacity(MAX_FILLS)
                .build(),
            changes: Changes::default(),
        }
    }

    /// True for the one caller that should start `field`'s fill of `room` now.
    pub fn claim(&self, field: Field, room: &Pubkey) -> bool {
        self.started.entry((field, *room)).or_insert(()).is_fresh()
    }

    /// A fill finished; `changed` when it found something other than what listings showed.
    pub fn landed(&self, changed: bool) {
        if changed {
            self.changes.bump();
        }
    }

    /// How many fills changed what a listing shows (`live::answers`).
    pub fn changes(&self) -> u64 {
        self.changes.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_claim_per_room_and_field_per_period_and_only_changes_count() {
        let fills = Fills::new(Duration::from_millis(300));
        let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
        assert!(fills.claim(Field::Viewers, &a));
        assert!(!fills.claim(Field::Viewers, &a), "already started");
        assert!(fills.claim(Field::Broadcasting, &a), "another field");
        assert!(fills.claim(Field::Viewers, &b), "another room");
        fills.landed(false);
        assert_eq!(fills.changes(), 0);
        fills.landed(true);
        assert_eq!(fills.changes(), 1);
        std::thread::sleep(Duration::from_millis(400));
        assert!(
            fills.claim(Field::Viewers, &a),
            "claimable again after the period"
        );
    }
}
