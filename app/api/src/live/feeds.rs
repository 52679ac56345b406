//! One feed per watched room: a `watch` channel holding the room's current [`RoomEvent`], which
//! every Server-Sent Events stream of that room reads (`http::sse`), however many pages listen.
//! On-chain changes are published into it (`rooms::chain_changes`), and a poller per room (started by
//! `http::sse`) adds broadcast state and viewer counts.
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use roomcast_chain::view::status_name;
use roomcast_chain::{Pubkey, Room, RoomStatus};
use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The `room` event: what a watch page or host console shows.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomEvent {
    pub room: String,
    pub session_id: String,
    pub title: String,
    pub host: String,
    /// `created`, `live` or `ended` (on-chain).
    #[schema(value_type = String)]
    pub status: &'static str,
    /// Whether an encoder is sending now (`null` if unknown).
    pub broadcasting: Option<bool>,
    /// Viewers watching now (`null` if unknown or ended).
    pub live_viewers: Option<u64>,
    pub live_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// Tips the room received (`live::tips`); each new one also comes as `event: tip`.
    pub tips: crate::live::tips::TipTotals,
}

impl RoomEvent {
    pub fn is_ended(&self) -> bool {
        self.status == status_name(RoomStatus::Ended)
    }

    /// Takes the on-chain fields of `room`; an ended room is no longer broadcast or watched.
    pub fn set_room(&mut self, room: &Room) {
        self.title = room.title.clone();
        self.status = status_name(room.status);
        self.live_at = room.live_at;
        self.ended_at = room.ended_at;
        if room.status == RoomStatus::Ended {
            self.broadcasting = Some(false);
            self.live_viewers = None;
        }
    }
}

/// Pollers of watched rooms, by address, and whether the chain watcher is feeding them.
#[derive(Default)]
pub struct RoomFeeds {
    rooms: Mutex<HashMap<Pubkey, watch::Sender<RoomEvent>>>,
    /// True while the chain watcher's subscription is in place: pollers then read no room from
    /// the chain (the watcher publishes every change).
    watcher_live: AtomicBool,
    /// Bumped whenever the watcher (re)subscribes: changes made while it was away were not
    /// published, so each poller reads its room once more.
    epoch: AtomicU64,
    /// Bumped on every published change: a poller whose first state was read before a change it
    /// could not yet receive starts with a fresh read.
    published: AtomicU64,
    /// Pollers running (one per watched room at most).
    pollers: Arc<AtomicUsize>,
    /// Rooms watched for their end after an Action handed out an `end_room` transaction: one
    /// watch per room, however many times the wallet asks.
    action_watches: Arc<Mutex<HashSet<Pubkey>>>,
    /// Cancelled when the server shuts down: every stream ends at once.
    closing: CancellationToken,
}

/// A running poller; counted until dropped.
pub struct PollerSlot(Arc<AtomicUsize>);

impl Drop for PollerSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A room watched after an Action; the next Action may watch it again once this is dropped.
pub struct ActionWatch {
    rooms: Arc<Mutex<HashSet<Pubkey>>>,
    address: Pubkey,
}

impl Drop for ActionWatch {
    fn drop(&mut self) {
        self.rooms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.address);
    }
}

impl RoomFeeds {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Pubkey, watch::Sender<RoomEvent>>> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The chain watcher's subscription is in place (`true`, after every resubscribe) or gone.
    pub fn set_watcher_live(&self, live: bool) {
        if live {
            self.epoch.fetch_add(1, Ordering::SeqCst);
        }
        self.watcher_live.store(live, Ordering::SeqCst);
    }

    /// Bumped whenever the watcher (re)subscribes.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    pub fn watcher_live(&self) -> bool {
        self.watcher_live.load(Ordering::SeqCst)
    }

    /// A room change seen on-chain reaches the pages listening to it; an ended room's listeners
    /// get `ended` and its poller stops.
    pub fn publish(&self, address: &Pubkey, room: &Room) {
        self.published.fetch_add(1, Ordering::SeqCst);
        let mut rooms = self.lock();
        let Some(tx) = rooms.get(address) else {
            return;
        };
        let tx = if room.status == RoomStatus::Ended {
            rooms.remove(address).expect("present")
        } else {
            tx.clone()
        };
        tx.send_if_modified(|current| {
            let before = current.clone();
            current.set_room(room);
            *current != before
        });
    }

    /// Listens to `address`, starting its poller if nobody else listens. `published_before` is
    /// [`Self::published_count`] from before `current` was read.
    /// A new channel's poller is started by `start_poller(tx, read_epoch)` (`read_epoch`: the
    /// watcher epoch `current` was read in, `None` when a change may have been missed).
    pub fn subscribe(
        &self,
        address: Pubkey,
        current: RoomEvent,
        published_before: u64,
        start_poller: impl FnOnce(watch::Sender<RoomEvent>, Option<u64>),
    ) -> watch::Receiver<RoomEvent> {
        let mut rooms = self.lock();
        if let Some(tx) = rooms.get(&address) {
            return tx.subscribe();
        }
        let (tx, rx) = watch::channel(current);
        rooms.insert(address, tx.clone());
        let missed = self.published.load(Ordering::SeqCst) != published_before;
        let read_epoch = if missed {
            None
        } else {
            Some(self.epoch.load(Ordering::SeqCst))
        };
        start_poller(tx, read_epoch);
        rx
    }

    /// The room's current event when a feed already follows it (a new listener needs no read).
    pub fn current(&self, address: &Pubkey) -> Option<RoomEvent> {
        self.lock().get(address).map(|tx| tx.borrow().clone())
    }

    /// Counts a poller as running until the slot is dropped.
    pub fn poller_slot(&self) -> PollerSlot {
        self.pollers.fetch_add(1, Ordering::SeqCst);
        PollerSlot(self.pollers.clone())
    }

    /// Pollers running now (for metrics and tests).
    pub fn pollers(&self) -> usize {
        self.pollers.load(Ordering::SeqCst)
    }

    /// Drops `address`'s entry if it is still `tx`'s and nobody listens, in one step under the
    /// lock (a listener cannot join a channel whose poller is leaving). True when dropped.
    pub fn retire_if_unwatched(&self, address: &Pubkey, tx: &watch::Sender<RoomEvent>) -> bool {
        let mut rooms = self.lock();
        if tx.receiver_count() > 0 {
            return false;
        }
        if rooms.get(address).is_some_and(|t| t.same_channel(tx)) {
            rooms.remove(address);
        }
        true
    }

    /// Starts watching `address` after an Action, unless it is watched already.
    pub fn watch_after_action(&self, address: Pubkey) -> Option<ActionWatch> {
        let mut rooms = self
            .action_watches
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        rooms.insert(address).then(|| ActionWatch {
            rooms: self.action_watches.clone(),
            address,
        })
    }

    /// Rooms watched after an Action now (for metrics and tests).
    pub fn action_watches(&self) -> usize {
        self.action_watches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Shutdown: every stream ends now.
    pub fn close(&self) {
        self.closing.cancel();
    }

    /// Resolves when the server shuts down.
    pub fn closing(&self) -> CancellationToken {
        self.closing.clone()
    }

    pub fn published_count(&self) -> u64 {
        self.published.load(Ordering::SeqCst)
    }

    /// Drops `address`'s entry if it is still `tx`'s (not a newer poller's).
    pub fn remove_if(&self, address: &Pubkey, tx: &watch::Sender<RoomEvent>) {
        let mut rooms = self.lock();
        if rooms.get(address).is_some_and(|t| t.same_channel(tx)) {
            rooms.remove(address);
        }
    }

    /// Rooms with a poller (for tests and metrics).
    pub fn watched(&self) -> usize {
        self.lock().len()
    }
}
