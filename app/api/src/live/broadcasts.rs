//! Off-chain broadcast state of each room's encoder, fed by Cloudflare's live-input notifications
//! (and refreshed by the reconciler from the public `lifecycle` endpoint). Ordered by the
//! notification's `updated_at`, so replays and out-of-order deliveries cannot move it backwards.
use std::collections::HashMap;
use std::sync::Mutex;

use crate::core::broadcast::{Applied, Broadcast};

/// Broadcast states kept at most (rooms being broadcast right now); past it the oldest is dropped
/// (viewers then fall back to the public `lifecycle` endpoint).
pub const MAX_LIVE_STATES: usize = 100_000;

pub struct LiveStates {
    by_session: Mutex<HashMap<String, Broadcast>>,
    capacity: usize,
}

impl Default for LiveStates {
    fn default() -> Self {
        LiveStates::with_capacity(MAX_LIVE_STATES)
    }
}

impl LiveStates {
    pub fn with_capacity(capacity: usize) -> Self {
        LiveStates {
            by_session: Mutex::default(),
            capacity: capacity.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets a room's state (it ended).
    pub fn remove(&self, session_id: &str) {
        self.lock().remove(session_id);
    }

    pub fn get(&self, session_id: &str) -> Option<Broadcast> {
        self.lock().get(session_id).cloned()
    }

    /// Applies an event if it is newer than the known state.
    pub fn apply(&self, session_id: &str, next: Broadcast) -> Applied {
        let mut map = self.lock();
        match map.get(session_id) {
            Some(known) if known.updated_at >= next.updated_at => Applied::Stale,
            known => {
                if known.is_none() && map.len() >= self.capacity {
                    let oldest = map
                        .iter()
                        .min_by_key(|(_, b)| b.updated_at)
                        .map(|(k, _)| k.clone());
                    if let Some(oldest) = oldest {
                        map.remove(&oldest);
                    }
                }
                map.insert(session_id.to_string(), next);
                Applied::Updated
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Broadcast>> {
        self.by_session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::broadcast::Phase;
    use time::macros::datetime;
    use time::OffsetDateTime;

    fn at(t: OffsetDateTime, state: Phase) -> Broadcast {
        Broadcast {
            state,
            updated_at: t,
            error: None,
        }
    }

    #[test]
    fn newer_events_win_replays_and_older_ones_are_stale() {
        let live = LiveStates::default();
        let t1 = datetime!(2026-01-01 10:00:00.000000001 UTC);
        let t2 = datetime!(2026-01-01 10:00:00.000000002 UTC);
        assert_eq!(live.apply("a", at(t2, Phase::Idle)), Applied::Updated);
        assert_eq!(
            live.apply("a", at(t1, Phase::Live)),
            Applied::Stale,
            "out of order"
        );
        assert_eq!(
            live.apply("a", at(t2, Phase::Live)),
            Applied::Stale,
            "replay at the same instant"
        );
        assert_eq!(live.get("a").unwrap().state, Phase::Idle);
        assert_eq!(live.get("b"), None);
    }

    #[test]
    fn the_map_is_bounded_and_drops_the_oldest() {
        let live = LiveStates::with_capacity(2);
        let t = |n| datetime!(2026-01-01 10:00:00 UTC) + time::Duration::seconds(n);
        live.apply("a", at(t(1), Phase::Live));
        live.apply("b", at(t(3), Phase::Live));
        live.apply("c", at(t(2), Phase::Live));
        assert_eq!(live.len(), 2);
        assert_eq!(live.get("a"), None, "the oldest went");
        assert!(live.get("b").is_some() && live.get("c").is_some());
        live.remove("b");
        assert_eq!(live.len(), 1);
    }
}
