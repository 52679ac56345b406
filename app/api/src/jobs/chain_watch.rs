//! Pushes on-chain room changes into the API within a moment instead of the reconciler's next pass:
//! `programSubscribe` on this registry's rooms (any cluster that offers PubSub). A room ended straight
//! on-chain (by its host's wallet) gets its live input disabled and its cached state replaced, and
//! every change reaches pages listening to the room's events (`rooms::chain_changes`). Pings on an
//! interval tell a silently dead link (NAT timeout, half-open TCP) from a quiet one. The
//! connection is re-established with backoff, then ended rooms are caught up from a listing; while
//! it is down, the events pollers and the reconciler's periodic pass read the chain instead.
use std::time::Duration;

use std::collections::HashSet;

use roomcast_chain::{Keepalive, RoomFilter, RoomStatus, RoomWatch, WatchEnd};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::jobs::room_index;
use crate::rooms::chain_changes;
use crate::state::StateRef;

const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub fn spawn(state: StateRef, ws_url: String, keepalive: Keepalive, stop: CancellationToken) {
    let (changes, mut received) = mpsc::channel::<RoomWatch>(256);
    let subscriber = {
        let state = state.clone();
        let stop = stop.clone();
        async move {
            let mut backoff = FIRST_BACKOFF;
            let program_id = state.chain.program_id();
            // The PubSub URL is derived from the RPC URL and may carry its API key.
            let shown = roomcast_chain::redact::redact_url(&ws_url);
            loop {
                let watch = roomcast_chain::watch_rooms(
                    &ws_url,
                    &program_id,
                    &state.registry,
                    keepalive,
                    changes.clone(),
                );
                let started = tokio::time::Instant::now();
                let result = tokio::select! {
                    _ = stop.cancelled() => return,
                    result = watch => result,
                };
                // Until subscribed again, room events pollers read the chain themselves.
                state.feeds.set_watcher_live(false);
                match result {
                    Ok(WatchEnd::Closed) => {
                        tracing::warn!(url = %shown, "room subscription ended; reconnecting")
                    }
                    Ok(WatchEnd::Silent) => tracing::warn!(
                        url = %shown,
                        silent_for = ?keepalive.dead_after,
                        "room subscription went silent (no pong, no message); reconnecting"
                    ),
                    Err(e) => {
                        tracing::warn!(error = %e, "room subscription failed; polling continues")
                    }
                }
                // A subscription that held for a while starts the backoff over.
                if started.elapsed() > MAX_BACKOFF {
                    backoff = FIRST_BACKOFF;
                }
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    };
    tokio::spawn(subscriber);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                change = received.recv() => match change {
                    Some(RoomWatch::Changed { record, slot }) => {
                        if record.room.registry == state.registry {
                            state.index.apply(&record, slot);
                        }
                        chain_changes::apply(&state, &record).await;
                    }
                    Some(RoomWatch::Subscribed) => {
                        state.feeds.set_watcher_live(true);
                        // What changed while no subscription was in place: the index first (a
                        // sliced listing), then ended rooms' inputs.
                        if let Err(e) = room_index::catch_up(&state).await {
                            tracing::warn!(error = %e, "room index catch-up after subscribing");
                        }
                        catch_up(&state).await;
                    }
                    None => return,
                },
            }
        }
    });
}

/// After (re)subscribing: rooms that ended while no subscription was in place get their live
/// input disabled now (one chain listing and one Cloudflare listing).
async fn catch_up(state: &StateRef) {
    let ended = RoomFilter {
        registry: Some(state.registry),
        status: Some(RoomStatus::Ended),
        host: None,
    };
    // A slot read before the listing is no newer than what the listing says: the index takes the
    // ended rooms at it unless it already holds a newer read (so a viewer read from the index
    // says `ended` once the input is disabled, even when the index's catch-up missed the end).
    let before = state.chain.health().await.ok();
    let (rooms, inputs) = tokio::join!(state.chain.rooms(&ended), state.stream.list_live_inputs());
    let (rooms, inputs) = match (rooms, inputs) {
        (Ok(rooms), Ok(inputs)) => (rooms, inputs),
        (Err(e), _) => return tracing::warn!(error = %e, "catching up on ended rooms"),
        (_, Err(e)) => return tracing::warn!(error = %e, "catching up on ended rooms"),
    };
    let enabled: HashSet<String> = inputs
        .live_inputs
        .into_iter()
        .filter(|i| i.enabled)
        .map(|i| i.uid)
        .collect();
    for record in rooms {
        if enabled.contains(&record.room.session_id) {
            if let Some(slot) = before {
                state.index.apply(&record, slot);
            }
            chain_changes::apply(state, &record).await;
        }
    }
}
