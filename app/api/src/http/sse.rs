//! `GET /api/rooms/{room}/events`: a room's live state as Server-Sent Events, so pages never poll.
//!
//! Each watched room has one `watch` channel (however many pages listen). Room changes come from
//! the chain watcher (`jobs::chain_watch` → `rooms::chain_changes` → `live::feeds::RoomFeeds::publish`) the moment they
//! land; a poller per room adds the broadcast state and viewer count every [`POLL`] without
//! touching the chain. Only while the watcher is not subscribed (down, `--chain-watch false`, a
//! cluster without PubSub) does the poller read the room from the chain, so pages still learn of
//! ends. Each stream starts with the current state and ends after the room has ended.
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use roomcast_chain::view::status_name;
use roomcast_chain::{Pubkey, RoomRecord, RoomStatus};
use tokio::sync::watch;

use crate::core::error::{AppError, AppResult};
pub use crate::live::feeds::RoomEvent;
use crate::rooms::{self, chain_changes};
use crate::state::{AppState, StateRef};

/// How often a watched room's broadcast state and viewer count are refreshed (and, while the chain
/// watcher is down, the room is read from the chain).
pub const POLL: Duration = Duration::from_millis(1000);

/// Listens to `address`'s feed, starting its poller if nobody listened yet.
fn subscribe(
    state: &StateRef,
    address: Pubkey,
    current: RoomEvent,
    published_before: u64,
) -> watch::Receiver<RoomEvent> {
    state
        .feeds
        .subscribe(address, current, published_before, |tx, read_epoch| {
            tokio::spawn(poll(state.clone(), address, tx, read_epoch));
        })
}

/// One watched room: broadcast state and viewers every [`POLL`]; the room itself from the chain
/// only while the watcher is not publishing (down, disabled, or a change it may have missed:
/// `read_epoch` is the watcher epoch of the last chain read, `None` for none yet).
async fn poll(
    state: StateRef,
    address: Pubkey,
    tx: watch::Sender<RoomEvent>,
    mut read_epoch: Option<u64>,
) {
    loop {
        tokio::time::sleep(POLL).await;
        if tx.receiver_count() == 0 || tx.borrow().is_ended() {
            state.feeds.remove_if(&address, &tx);
            return;
        }
        let epoch = state.feeds.epoch();
        let watched = state.feeds.watcher_live() && read_epoch == Some(epoch);
        let mut next = tx.borrow().clone();
        if !watched {
            let room = match rooms::load_room(&state, &address, true).await {
                Ok(room) => room,
                Err(e) => {
                    tracing::debug!(room = %address, error = %e, "room events: read failed");
                    continue;
                }
            };
            read_epoch = state.feeds.watcher_live().then_some(epoch);
            if room.status == RoomStatus::Ended {
                // Ended behind the server's back, and the watcher did not say so: the same
                // reaction as the watcher's, which also publishes `ended` to these listeners.
                if !next.is_ended() {
                    chain_changes::apply(&state, &RoomRecord { address, room }).await;
                }
                state.feeds.remove_if(&address, &tx);
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
        crate::rooms::listing::viewers(state, session_id).await,
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
pub fn watch_for_end(state: &StateRef, address: Pubkey) {
    let state = state.clone();
    tokio::spawn(async move {
        let published = state.feeds.published_count();
        let Ok(current) = snapshot(&state, &address).await else {
            return;
        };
        if current.status == status_name(RoomStatus::Ended) {
            return;
        }
        let mut rx = subscribe(&state, address, current, published);
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
    State(state): State<StateRef>,
    Path(room): Path<String>,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let address = rooms::room_address(&state, &room)?;
    let published = state.feeds.published_count();
    let current = snapshot(&state, &address).await?;
    let rx = if current.status == status_name(RoomStatus::Ended) {
        None
    } else {
        Some(subscribe(&state, address, current.clone(), published))
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
