//! The room index: every room of this registry in memory, fed by the chain, so discovery never asks
//! the chain per request. Loaded once at start from one listing (`jobs::room_index`), then kept
//! current from the chain watcher's notifications, the server's own fresh reads after its writes
//! (read-your-writes) and a periodic catch-up. Every entry remembers the slot it was read at, and an
//! older report never overwrites a newer one: a notification delivered late or twice changes
//! nothing. Closed rooms are removed (their address remembered with the slot, so a late
//! notification cannot bring them back).
//!
//! Reads are `O(log n + page)`: rooms are kept ordered newest first (created_at, address) overall,
//! per status and per host. Each replica keeps its own index; the chain is the source of truth.
use std::collections::{BTreeSet, HashMap};
use std::sync::RwLock;

use roomcast_chain::{Checkpoint, Pubkey, RoomRecord, RoomStatus};

/// The listing order: `(created_at, address)`, read from the largest down (newest first).
pub type SortKey = (i64, [u8; 32]);

pub fn sort_key(record: &RoomRecord) -> SortKey {
    (record.room.created_at, record.address.to_bytes())
}

struct Entry {
    record: RoomRecord,
    slot: u64,
}

#[derive(Default)]
struct Inner {
    rooms: HashMap<Pubkey, Entry>,
    all: BTreeSet<SortKey>,
    /// Indexed by `RoomStatus as usize`.
    by_status: [BTreeSet<SortKey>; 3],
    by_host: HashMap<Pubkey, BTreeSet<SortKey>>,
    /// Closed rooms: the slot at which they were seen gone.
    gone: HashMap<Pubkey, u64>,
}

/// What a change to the index did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Inserted,
    Updated,
    /// Same slot or older than what the index holds, or the same content: nothing changed.
    Stale,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub rooms: Vec<RoomRecord>,
    /// More rooms match after the last one.
    pub more: bool,
}

pub struct RoomIndex {
    inner: RwLock<Inner>,
    loaded: tokio::sync::watch::Sender<bool>,
    /// Unix time the last full load or catch-up began (`jobs::room_index`).
    synced_at: std::sync::atomic::AtomicI64,
    /// Where the index stands in the program's history: a catch-up reads the transactions after
    /// it (`jobs::room_index`). `None`: unknown (a catch-up lists the registry instead).
    checkpoint: std::sync::Mutex<Option<Checkpoint>>,
    /// One catch-up at a time (after a resubscription, the periodic one, the reconciler's).
    pub catching_up: tokio::sync::Mutex<()>,
    /// Catch-ups so far from the history, and from a listing.
    catch_ups: [std::sync::atomic::AtomicU64; 2],
    /// Moves on every change a reader can see (`live::answers`).
    changes: crate::live::changes::Changes,
    /// The last listing found the program's history empty (`jobs::room_index`).
    history_was_empty: std::sync::atomic::AtomicBool,
}

impl Default for RoomIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl RoomIndex {
    pub fn new() -> Self {
        RoomIndex {
            inner: RwLock::new(Inner::default()),
            loaded: tokio::sync::watch::channel(false).0,
            synced_at: std::sync::atomic::AtomicI64::new(0),
            checkpoint: std::sync::Mutex::new(None),
            catching_up: tokio::sync::Mutex::new(()),
            catch_ups: Default::default(),
            changes: Default::default(),
            history_was_empty: Default::default(),
        }
    }

    /// How many times the index changed (`live::answers`).
    pub fn changes(&self) -> u64 {
        self.changes.get()
    }

    /// Catch-ups so far: `(from the program's history, from a sliced listing)`.
    pub fn catch_ups(&self) -> (u64, u64) {
        let n = |i: usize| self.catch_ups[i].load(std::sync::atomic::Ordering::Relaxed);
        (n(0), n(1))
    }

    pub fn count_catch_up(&self, from_history: bool) {
        let i = if from_history { 0 } else { 1 };
        self.catch_ups[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Where the index stands in the program's history (see [`Checkpoint`]).
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        *self.checkpoint.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves the checkpoint (`None`: forgets it, so the next catch-up lists the registry).
    pub fn set_checkpoint(&self, checkpoint: Option<Checkpoint>) {
        *self.checkpoint.lock().unwrap_or_else(|e| e.into_inner()) = checkpoint;
        self.set_history_was_empty(false);
    }

    /// Whether the last listing found the program's history empty (no checkpoint to take, and
    /// none needed while it stays empty).
    pub fn history_was_empty(&self) -> bool {
        self.history_was_empty
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Where a listing left the index in the program's history: the checkpoint it took, and
    /// whether the history was read and found empty (both are stored together, always).
    pub fn set_listed_at(&self, checkpoint: Option<Checkpoint>, history_empty: bool) {
        self.set_checkpoint(checkpoint);
        self.set_history_was_empty(history_empty);
    }

    fn set_history_was_empty(&self, empty: bool) {
        self.history_was_empty
            .store(empty, std::sync::atomic::Ordering::Release);
    }

    /// Unix time the last full load or catch-up began: rooms written from shortly before it on
    /// are read whole again by the next catch-up.
    pub fn synced_at(&self) -> i64 {
        self.synced_at.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_synced_at(&self, unix: i64) {
        self.synced_at
            .store(unix, std::sync::atomic::Ordering::Relaxed);
    }

    /// True once the first full listing is in.
    pub fn is_loaded(&self) -> bool {
        *self.loaded.borrow()
    }

    /// Waits until the first full listing is in.
    pub async fn wait_loaded(&self) {
        let mut loaded = self.loaded.subscribe();
        let _ = loaded.wait_for(|l| *l).await;
    }

    pub fn len(&self) -> usize {
        self.read().rooms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Merges a full listing of the registry taken at `slot`: every listed room is applied, and
    /// a room the listing lacks is removed unless the index learned of it after `slot`.
    pub fn load(&self, slot: u64, rooms: Vec<RoomRecord>) {
        {
            let mut inner = self.write();
            let listed: std::collections::HashSet<Pubkey> =
                rooms.iter().map(|r| r.address).collect();
            let mut changed = false;
            for record in rooms {
                changed |= inner.apply(record, slot) != Applied::Stale;
            }
            let absent: Vec<Pubkey> = inner
                .rooms
                .iter()
                .filter(|(address, entry)| !listed.contains(address) && entry.slot < slot)
                .map(|(address, _)| *address)
                .collect();
            for address in absent {
                changed |= inner.remove(&address, slot);
            }
            if changed {
                self.changes.bump();
            }
        }
        self.loaded.send_replace(true);
    }

    /// A room as read at `slot`; ignored if the index already holds a newer read of it.
    pub fn apply(&self, record: &RoomRecord, slot: u64) -> Applied {
        let applied = self.write().apply(record.clone(), slot);
        if applied != Applied::Stale {
            self.changes.bump();
        }
        applied
    }

    /// The room is gone (closed) as of `slot` (`u64::MAX`: for good — a closed room's address is
    /// never reused). True if it was in the index.
    pub fn remove(&self, address: &Pubkey, slot: u64) -> bool {
        let removed = self.write().remove(address, slot);
        if removed {
            self.changes.bump();
        }
        removed
    }

    /// The slot the index holds `address` at (`None`: not in the index).
    pub fn slot_of(&self, address: &Pubkey) -> Option<u64> {
        self.read().rooms.get(address).map(|e| e.slot)
    }

    pub fn get(&self, address: &Pubkey) -> Option<RoomRecord> {
        self.read().rooms.get(address).map(|e| e.record.clone())
    }

    /// `(status, updated_at)` of every room, for a catch-up to compare against the chain.
    pub fn stamps(&self) -> HashMap<Pubkey, (RoomStatus, i64, u64)> {
        self.read()
            .rooms
            .iter()
            .map(|(a, e)| (*a, (e.record.room.status, e.record.room.updated_at, e.slot)))
            .collect()
    }

    /// Up to `limit` rooms matching the filters, newest first, strictly after `after`.
    pub fn page(
        &self,
        status: Option<RoomStatus>,
        host: Option<Pubkey>,
        after: Option<SortKey>,
        limit: usize,
    ) -> Page {
        let inner = self.read();
        let empty = BTreeSet::new();
        let set = match (host, status) {
            (Some(host), _) => inner.by_host.get(&host).unwrap_or(&empty),
            (None, Some(status)) => &inner.by_status[status as usize],
            (None, None) => &inner.all,
        };
        let keys: Box<dyn Iterator<Item = &SortKey>> = match after {
            Some(after) => Box::new(set.range(..after).rev()),
            None => Box::new(set.iter().rev()),
        };
        let mut rooms = Vec::with_capacity(limit.min(128));
        let mut more = false;
        for key in keys {
            let record = &inner.rooms[&Pubkey::new_from_array(key.1)].record;
            if status.is_some_and(|s| record.room.status != s) {
                continue;
            }
            if rooms.len() == limit {
                more = true;
                break;
            }
            rooms.push(record.clone());
        }
        Page { rooms, more }
    }

    /// Every room, newest first (tests, and the reconciler's pass).
    pub fn all(&self) -> Vec<RoomRecord> {
        let inner = self.read();
        inner
            .all
            .iter()
            .rev()
            .map(|key| inner.rooms[&Pubkey::new_from_array(key.1)].record.clone())
            .collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn apply(&mut self, record: RoomRecord, slot: u64) -> Applied {
        if self
            .gone
            .get(&record.address)
            .is_some_and(|&gone| gone >= slot)
        {
            return Applied::Stale;
        }
        let address = record.address;
        let key = sort_key(&record);
        let applied = match self.rooms.get(&address) {
            Some(entry) if entry.slot > slot || entry.record == record => {
                if entry.record == record && slot > entry.slot {
                    self.rooms.get_mut(&address).expect("present").slot = slot;
                }
                return Applied::Stale;
            }
            Some(_) => {
                self.unlink(&address);
                Applied::Updated
            }
            None => Applied::Inserted,
        };
        self.gone.remove(&address);
        self.all.insert(key);
        self.by_status[record.room.status as usize].insert(key);
        self.by_host
            .entry(record.room.host)
            .or_default()
            .insert(key);
        self.rooms.insert(address, Entry { record, slot });
        applied
    }

    fn remove(&mut self, address: &Pubkey, slot: u64) -> bool {
        let present = match self.rooms.get(address) {
            Some(entry) if entry.slot > slot => return false,
            Some(_) => {
                self.unlink(address);
                self.rooms.remove(address);
                true
            }
            None => false,
        };
        if present || self.gone.contains_key(address) {
            let gone = self.gone.entry(*address).or_insert(slot);
            *gone = (*gone).max(slot);
        }
        present
    }

    /// Takes an entry out of the ordered sets (the map entry stays).
    fn unlink(&mut self, address: &Pubkey) {
        let Some(entry) = self.rooms.get(address) else {
            return;
        };
        let key = sort_key(&entry.record);
        let status = entry.record.room.status as usize;
        let host = entry.record.room.host;
        self.all.remove(&key);
        self.by_status[status].remove(&key);
        if let Some(set) = self.by_host.get_mut(&host) {
            set.remove(&key);
            if set.is_empty() {
                self.by_host.remove(&host);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use roomcast_chain::Room;

    use super::*;

    fn record(n: u8, host: u8, created_at: i64, status: RoomStatus, title: &str) -> RoomRecord {
        RoomRecord {
            address: Pubkey::new_from_array([n; 32]),
            room: Room {
                registry: Pubkey::new_from_array([9; 32]),
                host: Pubkey::new_from_array([host; 32]),
                payer: Pubkey::new_from_array([8; 32]),
                status,
                bump: 255,
                session_id: format!("{n:032x}"),
                created_at,
                updated_at: created_at,
                live_at: None,
                ended_at: None,
                ingest_url: "rtmps://live.cloudflare.com:443/live/".into(),
                title: title.into(),
            },
        }
    }

    fn titles(page: &Page) -> Vec<String> {
        page.rooms.iter().map(|r| r.room.title.clone()).collect()
    }

    #[test]
    fn pages_newest_first_with_filters_and_cursor() {
        let index = RoomIndex::new();
        index.load(
            10,
            vec![
                record(1, 1, 100, RoomStatus::Created, "a"),
                record(2, 2, 200, RoomStatus::Live, "b"),
                record(3, 1, 300, RoomStatus::Ended, "c"),
                record(4, 1, 300, RoomStatus::Live, "d"),
            ],
        );
        assert!(index.is_loaded());
        let first = index.page(None, None, None, 2);
        assert_eq!(titles(&first), ["d", "c"]);
        assert!(first.more);
        let after = sort_key(first.rooms.last().unwrap());
        let second = index.page(None, None, Some(after), 2);
        assert_eq!(titles(&second), ["b", "a"]);
        assert!(!second.more);
        assert_eq!(
            titles(&index.page(Some(RoomStatus::Live), None, None, 10)),
            ["d", "b"]
        );
        let host1 = Some(Pubkey::new_from_array([1; 32]));
        assert_eq!(titles(&index.page(None, host1, None, 10)), ["d", "c", "a"]);
        assert_eq!(
            titles(&index.page(Some(RoomStatus::Live), host1, None, 10)),
            ["d"]
        );
        assert_eq!(
            titles(&index.page(None, Some(Pubkey::new_unique()), None, 10)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn older_or_repeated_reports_change_nothing() {
        let index = RoomIndex::new();
        let live = record(1, 1, 100, RoomStatus::Live, "a");
        let ended = record(1, 1, 100, RoomStatus::Ended, "a");
        assert_eq!(index.apply(&live, 5), Applied::Inserted);
        assert_eq!(index.apply(&ended, 7), Applied::Updated);
        assert_eq!(index.apply(&live, 6), Applied::Stale, "late");
        assert_eq!(index.apply(&ended, 7), Applied::Stale, "twice");
        assert_eq!(
            index.get(&live.address).unwrap().room.status,
            RoomStatus::Ended
        );
        assert_eq!(
            index.page(Some(RoomStatus::Live), None, None, 10).rooms,
            vec![]
        );
        assert_eq!(
            index.page(Some(RoomStatus::Ended), None, None, 10).rooms,
            vec![ended.clone()]
        );
        // Closed at 9: a notification from before cannot bring it back.
        assert!(index.remove(&live.address, 9));
        assert_eq!(index.apply(&ended, 8), Applied::Stale);
        assert!(index.is_empty());
        assert_eq!(index.page(None, None, None, 10).rooms, vec![]);
    }

    #[test]
    fn a_load_keeps_what_is_newer_than_its_slot_and_drops_what_it_lacks() {
        let index = RoomIndex::new();
        let old = record(1, 1, 100, RoomStatus::Created, "old");
        let newer = record(2, 1, 200, RoomStatus::Created, "newer");
        index.apply(&old, 3);
        index.apply(&newer, 12);
        index.load(10, vec![]);
        assert_eq!(index.all(), vec![newer]);
        assert_eq!(index.slot_of(&old.address), None);
    }
}
