//! `GET /api/rooms/{room}/events`: a room's live state as Server-Sent Events, so pages never poll.
//!
//! Each watched room has one `watch` channel (however many pages listen). Room changes come from
//! the chain watcher (`chain_watch.rs` → `room_changes.rs` → [`EventHub::publish`]) the moment they
//! land; a poller per room adds the broadcast state and viewer count every [`POLL`] without
//! touching the chain. Only while the watcher is not subscribed (down, `--chain-watch false`, a
//! cluster without PubSub) does the poller read the room from the chain, so pages still learn of
//! ends. Each stream starts with the current state and ends after the room has ended.
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use roomcast_chain::view::status_name;
use roomcast_chain::{Pubkey, Room, RoomRecord, RoomStatus};
use serde::Serialize;
use tokio::sync::watch;

use crate::error::{AppError, AppResult};
use crate::state::{AppState, SharedState};
use crate::{room_changes, rooms};

/// How often a watched room's broadcast state and viewer count are refreshed (and, while the chain
/// watcher is down, the room is read from the chain).
pub const POLL: Duration = Duration::from_millis(1000);

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
}

impl RoomEvent {
    fn is_ended(&self) -> bool {
        self.status == status_name(RoomStatus::Ended)
    }

    /// Takes the on-chain fields of `room`; an ended room is no longer broadcast or watched.
    fn set_room(&mut self, room: &Room) {
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
pub struct EventHub {
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
}

impl EventHub {
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
    fn subscribe(
        &self,
        state: &SharedState,
        address: Pubkey,
        current: RoomEvent,
        published_before: u64,
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
        tokio::spawn(poll(state.clone(), address, tx, read_epoch));
        rx
    }

    fn published_count(&self) -> u64 {
        self.published.load(Ordering::SeqCst)
    }

    /// Drops `address`'s entry if it is still `tx`'s (not a newer poller's).
    fn remove_if(&self, address: &Pubkey, tx: &watch::Sender<RoomEvent>) {
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

/// One watched room: broadcast state and viewers every [`POLL`]; the room itself from the chain
/// only while the watcher is not publishing (down, disabled, or a change it may have missed:
/// `read_epoch` is the watcher epoch of the last chain read, `None` for none yet).
async fn poll(
    state: SharedState,
    address: Pubkey,
    tx: watch::Sender<RoomEvent>,
    mut read_epoch: Option<u64>,
) {
    loop {
        tokio::time::sleep(POLL).await;
        if tx.receiver_count() == 0 || tx.borrow().is_ended() {
            state.events.remove_if(&address, &tx);
            return;
        }
        let epoch = state.events.epoch.load(Ordering::SeqCst);
        let watched = state.events.watcher_live() && read_epoch == Some(epoch);
        let mut next = tx.borrow().clone();
        if !watched {
            let room = match rooms::load_room(&state, &address, true).await {
                Ok(room) => room,
                Err(e) => {
                    tracing::debug!(room = %address, error = %e, "room events: read failed");
                    continue;
                }
            };
            read_epoch = state.events.watcher_live().then_some(epoch);
            if room.status == RoomStatus::Ended {
                // Ended behind the server's back, and the watcher did not say so: the same
                // reaction as the watcher's, which also publishes `ended` to these listeners.
                if !next.is_ended() {
                    room_changes::apply(&state, &RoomRecord { address, room }).await;
                }
                state.events.remove_if(&address, &tx);
                return;
            }
            next.set_room(&room);
        }
        let (broadcasting, live_viewers) = live_parts(&state, &next.session_id).await;
        next.broadcasting = broadcasting;
        next.live_viewers = live_viewers;
        tx.send_if_modified(|current| {
            // The watcher may have published meanwhile: its room fields win.
            if current.is_ended() {
                return false;
            }
            if watched {
                next.title = current.title.clone();
                next.status = current.status;
                next.live_at = current.live_at;
                next.ended_at = current.ended_at;
            }
            let changed = *current != next;
            *current = next.clone();
            changed
        });
    }
}

/// Broadcast state (webhook-fed, else the cached public `lifecycle`) and viewer count (cached
/// public `views`): never a chain read.
async fn live_parts(state: &AppState, session_id: &str) -> (Option<bool>, Option<u64>) {
    (
        rooms::broadcasting(state, session_id).await,
        crate::listing::viewers(state, session_id).await,
    )
}

/// The room's current state, read fresh from the chain.
async fn snapshot(state: &AppState, address: &Pubkey) -> AppResult<RoomEvent> {
    let room = rooms::load_room(state, address, true).await?;
    let ended = room.status == RoomStatus::Ended;
    let (broadcasting, live_viewers) = if ended {
        (Some(false), None)
    } else {
        live_parts(state, &room.session_id).await
    };
    Ok(RoomEvent {
        room: address.to_string(),
        session_id: room.session_id.clone(),
        title: room.title.clone(),
        host: room.host.to_string(),
        status: status_name(room.status),
        broadcasting,
        live_viewers,
        live_at: room.live_at,
        ended_at: room.ended_at,
    })
}

/// How long a room is watched after its host was handed an `end_room` transaction to sign.
pub const WATCH_AFTER_ACTION: Duration = Duration::from_secs(120);

/// Watches `address` for a while (sharing its poller), so that if the host's wallet ends it
/// on-chain, its live input is disabled at once even when no page is listening.
pub fn watch_for_end(state: &SharedState, address: Pubkey) {
    let state = state.clone();
    tokio::spawn(async move {
        let published = state.events.published_count();
        let Ok(current) = snapshot(&state, &address).await else {
            return;
        };
        if current.status == status_name(RoomStatus::Ended) {
            return;
        }
        let mut rx = state.events.subscribe(&state, address, current, published);
        let ended = async {
            while rx.changed().await.is_ok() {
                if rx.borrow().status == status_name(RoomStatus::Ended) {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(WATCH_AFTER_ACTION, ended).await;
    });
}

/// `GET /api/rooms/{room}/events`.
pub async fn events(
    State(state): State<SharedState>,
    Path(room): Path<String>,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let address = rooms::room_address(&state, &room)?;
    let published = state.events.published_count();
    let current = snapshot(&state, &address).await?;
    let rx = if current.status == status_name(RoomStatus::Ended) {
        None
    } else {
        Some(
            state
                .events
                .subscribe(&state, address, current.clone(), published),
        )
    };
    let stream = futures_util::stream::unfold((Some(current), rx), |(first, mut rx)| async move {
        let next = match first {
            Some(first) => first,
            None => {
                let rx_ref = rx.as_mut()?;
                rx_ref.changed().await.ok()?;
                let value = rx_ref.borrow_and_update().clone();
                value
            }
        };
        if next.status == status_name(RoomStatus::Ended) {
            rx = None;
        }
        let event = Event::default()
            .event("room")
            .json_data(&next)
            .map_err(|e| AppError::Internal(e.to_string()))
            .unwrap_or_else(|_| Event::default().event("room"));
        Some((Ok(event), (None, rx)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
