//! `GET /api/rooms/{room}/events`: a room's live state as Server-Sent Events, so pages never poll.
//!
//! One poller per watched room (however many pages listen) reads the room from the chain every
//! [`POLL`], with the broadcast state and viewer count, and publishes it on a `watch` channel when it
//! changed. Each stream starts with the current state and ends after the room has ended. A room
//! ended straight on-chain (by the host's wallet) is noticed here too, and its live input is
//! disabled at once so the publisher is dropped.
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use roomcast_chain::view::status_name;
use roomcast_chain::{Pubkey, RoomStatus};
use serde::Serialize;
use tokio::sync::watch;

use crate::error::{AppError, AppResult};
use crate::rooms;
use crate::state::{AppState, SharedState};

/// How often a watched room is read from the chain.
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

/// Pollers of watched rooms, by address.
#[derive(Default)]
pub struct EventHub {
    rooms: Mutex<HashMap<Pubkey, watch::Sender<RoomEvent>>>,
}

impl EventHub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Pubkey, watch::Sender<RoomEvent>>> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Listens to `address`, starting its poller if nobody else listens.
    fn subscribe(
        &self,
        state: &SharedState,
        address: Pubkey,
        current: RoomEvent,
    ) -> watch::Receiver<RoomEvent> {
        let mut rooms = self.lock();
        if let Some(tx) = rooms.get(&address) {
            return tx.subscribe();
        }
        let (tx, rx) = watch::channel(current);
        rooms.insert(address, tx.clone());
        tokio::spawn(poll(state.clone(), address, tx));
        rx
    }

    /// Rooms with a poller (for tests and metrics).
    pub fn watched(&self) -> usize {
        self.lock().len()
    }
}

async fn poll(state: SharedState, address: Pubkey, tx: watch::Sender<RoomEvent>) {
    loop {
        tokio::time::sleep(POLL).await;
        {
            let mut rooms = state.events.lock();
            if tx.receiver_count() == 0 {
                rooms.remove(&address);
                return;
            }
        }
        let next = match snapshot(&state, &address).await {
            Ok(next) => next,
            Err(e) => {
                tracing::debug!(room = %address, error = %e, "room events: read failed");
                continue;
            }
        };
        let ended = next.status == status_name(RoomStatus::Ended);
        let was_ended = tx.borrow().status == status_name(RoomStatus::Ended);
        if ended && !was_ended {
            // Possibly ended behind the server's back (straight on-chain): stop the broadcast
            // first, so whoever sees `ended` also sees the publisher gone.
            rooms::disable_input(&state, &next.session_id).await;
        }
        tx.send_if_modified(|current| {
            let changed = *current != next;
            *current = next.clone();
            changed
        });
        if ended {
            state.events.lock().remove(&address);
            return;
        }
    }
}

/// The room's current state, read fresh from the chain.
async fn snapshot(state: &AppState, address: &Pubkey) -> AppResult<RoomEvent> {
    let room = rooms::load_room(state, address, true).await?;
    let ended = room.status == RoomStatus::Ended;
    let (broadcasting, live_viewers) = if ended {
        (Some(false), None)
    } else {
        (
            rooms::broadcasting(state, &room.session_id).await,
            crate::listing::viewers(state, &room.session_id).await,
        )
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
        let Ok(current) = snapshot(&state, &address).await else {
            return;
        };
        if current.status == status_name(RoomStatus::Ended) {
            return;
        }
        let mut rx = state.events.subscribe(&state, address, current);
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
    let current = snapshot(&state, &address).await?;
    let rx = if current.status == status_name(RoomStatus::Ended) {
        None
    } else {
        Some(state.events.subscribe(&state, address, current.clone()))
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
