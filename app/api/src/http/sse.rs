//! `GET /api/rooms/{room}/events`: a room's live state as Server-Sent Events, so pages never poll.
//!
//! Each watched room has one `watch` channel (however many pages listen) and one poller. Room
//! changes come from the chain watcher (`jobs::chain_watch` → `rooms::chain_changes` →
//! `live::feeds::RoomFeeds::publish`) the moment they land; the poller adds the broadcast state
//! and viewer count every [`POLL`] without touching the chain. Only while the watcher is not
//! subscribed (down, `--chain-watch false`, a cluster without PubSub) does the poller read the
//! room from the chain, so pages still learn of ends. Each stream starts with the current state —
//! the feed's, or the room cache's for the first listener (never a chain read per connect) — and
//! ends after the room has ended, after its maximum lifetime (`retry:` tells EventSource when to
//! come back) or at once on shutdown. Open streams are capped per client address and in total
//! (`guard::streams`).
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use roomcast_chain::view::status_name;
use roomcast_chain::{Pubkey, RoomRecord, RoomStatus};
use tokio::sync::watch;

use crate::core::error::{AppError, AppResult};
use crate::guard::streams::{StreamRefused, RETRY_AFTER_SECS};
use crate::http::extract::ClientIp;
pub use crate::live::feeds::RoomEvent;
use crate::rooms::{self, chain_changes};
use crate::state::{AppState, StateRef};

/// How often a watched room's broadcast state and viewer count are refreshed (and, while the chain
/// watcher is down, the room is read from the chain).
pub const POLL: Duration = Duration::from_millis(1000);

/// The `retry:` sent with each stream's first event: how long EventSource waits before it
/// reconnects once the server ended the stream (lifetime over, shutdown).
pub const RECONNECT_AFTER: Duration = Duration::from_secs(3);

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
    let _slot = state.feeds.poller_slot();
    let closing = state.feeds.closing();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = closing.cancelled() => return,
        }
        if tx.borrow().is_ended() {
            state.feeds.remove_if(&address, &tx);
            return;
        }
        if state.feeds.retire_if_unwatched(&address, &tx) {
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
        next.tips = tips_of(&state, &address, &next.host, Duration::ZERO).await;
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

/// The room's tip totals, read from the chain's history unless read within `max_age`; each new
/// tip reaches the room's streams as `event: tip` on the way.
async fn tips_of(
    state: &AppState,
    address: &Pubkey,
    host: &str,
    max_age: Duration,
) -> crate::live::tips::TipTotals {
    match host.parse::<Pubkey>() {
        Ok(host) => rooms::tips::totals(state, address, &host, max_age).await,
        Err(_) => Default::default(),
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

/// The room's current state: its feed's when someone already listens, else from the room cache
/// (a connect never costs a chain read of its own; the cache is replaced by every change the
/// server makes or the chain watcher sees).
async fn snapshot(state: &AppState, address: &Pubkey) -> AppResult<RoomEvent> {
    if let Some(current) = state.feeds.current(address) {
        return Ok(current);
    }
    let room = rooms::load_room(state, address, false).await?;
    let ended = room.status == RoomStatus::Ended;
    let (broadcasting, live_viewers) = if ended {
        (Some(false), None)
    } else {
        live_parts(state, &room.session_id).await
    };
    let tips = rooms::tips::totals(state, address, &room.host, rooms::tips::FRESH_FOR).await;
    Ok(RoomEvent {
        tips,
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
/// on-chain, its live input is disabled at once even when no page is listening. One watch per
/// room: asking again while it is watched does nothing.
pub fn watch_for_end(state: &StateRef, address: Pubkey) {
    let Some(watch) = state.feeds.watch_after_action(address) else {
        return;
    };
    let state = state.clone();
    tokio::spawn(async move {
        let _watch = watch;
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
        let closing = state.feeds.closing();
        tokio::select! {
            _ = tokio::time::timeout(WATCH_AFTER_ACTION, ended) => {}
            _ = closing.cancelled() => {}
        }
    });
}

/// `GET /api/rooms/{room}/events`.
pub async fn events(
    State(state): State<StateRef>,
    ClientIp(client): ClientIp,
    Path(room): Path<String>,
) -> Result<Response, AppError> {
    let address = rooms::room_address(&state, &room)?;
    let permit = match state.load.streams.try_open(client) {
        Ok(permit) => permit,
        Err(refused) => {
            let mut response = refused.error().into_response();
            if refused == StreamRefused::Global {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
            }
            return Ok(response);
        }
    };
    let published = state.feeds.published_count();
    let current = snapshot(&state, &address).await?;
    // A tip counted between the snapshot and here comes in the next `room` event's totals.
    let tips_rx = Some(state.tips.subscribe(&address).await);
    let rx = if current.is_ended() {
        None
    } else {
        Some(subscribe(&state, address, current.clone(), published))
    };
    let ends_at = tokio::time::Instant::now() + state.load.streams.max_lifetime;
    let closing = state.feeds.closing();
    let first = Some(current);
    let stream = futures_util::stream::unfold(
        (first, rx, tips_rx, permit),
        move |(first, mut rx, mut tips_rx, permit)| {
            let closing = closing.clone();
            async move {
                let (next, retry) = match first {
                    Some(first) => (first, Some(RECONNECT_AFTER)),
                    None => {
                        let rx_ref = rx.as_mut()?;
                        tokio::select! {
                            // A tip is counted before the totals that include it are published:
                            // its event goes first.
                            biased;
                            tip = async {
                                match tips_rx.as_mut() {
                                    Some(tips) => tips.recv().await,
                                    None => std::future::pending().await,
                                }
                            }, if tips_rx.is_some() => {
                                let event = match tip {
                                    Ok(tip) => Event::default()
                                        .event("tip")
                                        .json_data(&tip)
                                        .unwrap_or_else(|_| Event::default().event("tip")),
                                    // A stream too slow for the tips: the next `room` event
                                    // carries the totals anyway.
                                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                                        Event::default().comment("tips skipped")
                                    }
                                    // The room's ledger was forgotten: totals still come with
                                    // `room` events; no more `tip` events on this stream.
                                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                                        tips_rx = None;
                                        Event::default().comment("tips ended")
                                    }
                                };
                                return Some((Ok::<_, Infallible>(event), (None, rx, tips_rx, permit)));
                            }
                            changed = rx_ref.changed() => changed.ok()?,
                            // Lifetime over or shutting down: the stream ends here.
                            _ = tokio::time::sleep_until(ends_at) => return None,
                            _ = closing.cancelled() => return None,
                        }
                        let value = rx_ref.borrow_and_update().clone();
                        (value, None)
                    }
                };
                if next.is_ended() {
                    rx = None;
                }
                let mut event = Event::default()
                    .event("room")
                    .json_data(&next)
                    .map_err(|e| AppError::Internal(e.to_string()))
                    .unwrap_or_else(|_| Event::default().event("room"));
                if let Some(retry) = retry {
                    event = event.retry(retry);
                }
                Some((Ok::<_, Infallible>(event), (None, rx, tips_rx, permit)))
            }
        },
    );
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}
