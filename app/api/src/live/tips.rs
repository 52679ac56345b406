//! Tips each room received, as read back from the chain (`rooms::tips` does the reading): totals,
//! the signatures already counted (so nothing is counted twice however often or by how many
//! readers the history is read), where the last read stopped, and a channel per room that the
//! room's event streams read `event: tip` from. Every replica builds the same totals from the
//! same history; a restart reads it again from the start.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use roomcast_chain::{Pubkey, Signature};
use serde::Serialize;
use tokio::sync::broadcast;

/// Rooms whose tips are remembered; past it the least recently read are forgotten (and read again
/// from the chain's history when asked).
const MAX_ROOMS: usize = 10_000;
/// Tip events queued per room for slow event streams.
const EVENTS: usize = 64;

/// A room's tip totals (`tips` in the room view, discovery and the `room` event).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TipTotals {
    /// Tips counted.
    pub count: u64,
    /// Lamports they paid the host, in total.
    pub lamports: u64,
}

/// The `tip` event: one tip that landed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TipEvent {
    /// The tipper's wallet (base58).
    pub from: String,
    pub lamports: u64,
    /// The transaction's signature (base58).
    pub signature: String,
}

/// One room's ledger.
pub struct RoomTips {
    pub totals: TipTotals,
    /// Counted tips' lamports by signature.
    seen: HashMap<Signature, u64>,
    /// The newest signature already read: the next read starts after it.
    pub after: Option<Signature>,
    pub read_at: Option<Instant>,
    events: broadcast::Sender<TipEvent>,
}

impl RoomTips {
    fn new() -> Self {
        RoomTips {
            totals: TipTotals::default(),
            seen: HashMap::new(),
            after: None,
            read_at: None,
            events: broadcast::channel(EVENTS).0,
        }
    }

    /// The lamports of the tip `signature`, if it was counted.
    pub fn counted(&self, signature: &Signature) -> Option<u64> {
        self.seen.get(signature).copied()
    }

    /// Counts a tip unless its signature was counted already; true when it was new (and then
    /// tells the room's event streams).
    pub fn count(&mut self, signature: Signature, from: &Pubkey, lamports: u64) -> bool {
        if self.seen.insert(signature, lamports).is_some() {
            return false;
        }
        self.totals.count += 1;
        self.totals.lamports = self.totals.lamports.saturating_add(lamports);
        let _ = self.events.send(TipEvent {
            from: from.to_string(),
            lamports,
            signature: signature.to_string(),
        });
        true
    }
}

/// What a viewer read needs of a room's ledger without waiting for its lock (which a read of the
/// chain's history holds): the last totals, when they were read, and whether a read is under way.
#[derive(Default, Clone, Copy)]
pub struct LastRead {
    pub totals: TipTotals,
    pub read_at: Option<Instant>,
    pub refreshing: bool,
}

/// One room's entry: the ledger (one read of the history at a time) and its last totals.
#[derive(Default)]
pub struct RoomEntry {
    pub ledger: tokio::sync::Mutex<RoomTips>,
    last: Mutex<LastRead>,
    /// The ledger's counter: moves when these totals change (`live::answers`).
    changes: crate::live::changes::Changes,
}

impl Default for RoomTips {
    fn default() -> Self {
        RoomTips::new()
    }
}

impl RoomEntry {
    pub fn last(&self) -> LastRead {
        *self.last.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a finished read (also ends a background refresh).
    pub fn read_done(&self, totals: TipTotals, at: Instant) {
        let before = std::mem::replace(
            &mut *self.last.lock().unwrap_or_else(|p| p.into_inner()),
            LastRead {
                totals,
                read_at: Some(at),
                refreshing: false,
            },
        );
        // The first read changes what readers see even when it found nothing (`null` → totals).
        if before.totals != totals || before.read_at.is_none() {
            self.changes.bump();
        }
    }

    /// Claims the room's background refresh: true for the one caller that should start it.
    pub fn claim_refresh(&self) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        !std::mem::replace(&mut last.refreshing, true)
    }
}

/// Every room's entry. Viewer reads take the map's read lock only (no writer but a room's first
/// use), so concurrent viewers of different rooms do not queue behind one lock.
#[derive(Default)]
pub struct TipLedger {
    rooms: RwLock<HashMap<Pubkey, Arc<RoomEntry>>>,
    changes: crate::live::changes::Changes,
}

impl TipLedger {
    /// How many times a room's totals changed (`live::answers`).
    pub fn changes(&self) -> u64 {
        self.changes.get()
    }

    /// `room`'s entry, made empty on first use.
    pub fn room(&self, room: &Pubkey) -> Arc<RoomEntry> {
        if let Some(entry) = self
            .rooms
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(room)
        {
            return entry.clone();
        }
        let mut rooms = self.rooms.write().unwrap_or_else(|p| p.into_inner());
        if rooms.len() >= MAX_ROOMS && !rooms.contains_key(room) {
            // Forget one idle room (nobody reading it or listening to its tips now); it is rebuilt
            // from history if asked.
            if let Some(idle) = rooms
                .iter()
                .find(|(_, r)| {
                    Arc::strong_count(r) == 1
                        && r.ledger
                            .try_lock()
                            .is_ok_and(|t| t.events.receiver_count() == 0)
                })
                .map(|(k, _)| *k)
            {
                rooms.remove(&idle);
            }
        }
        rooms
            .entry(*room)
            .or_insert_with(|| {
                Arc::new(RoomEntry {
                    changes: self.changes.clone(),
                    ..RoomEntry::default()
                })
            })
            .clone()
    }

    /// The tips that land in `room` from now on.
    pub async fn subscribe(&self, room: &Pubkey) -> broadcast::Receiver<TipEvent> {
        self.room(room).ledger.lock().await.events.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_counted_once() {
        let mut tips = RoomTips::new();
        let mut events = tips.events.subscribe();
        let from = Pubkey::new_unique();
        let sig = Signature::from([7u8; 64]);
        assert!(tips.count(sig, &from, 10_000_000));
        assert!(!tips.count(sig, &from, 10_000_000));
        assert_eq!(
            tips.totals,
            TipTotals {
                count: 1,
                lamports: 10_000_000
            }
        );
        assert_eq!(events.try_recv().unwrap().lamports, 10_000_000);
        assert!(events.try_recv().is_err());
    }
}
