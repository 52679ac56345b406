//! Keeps the room index (`live::index`) fed: one full load at start (the registry's addresses from a
//! sliced `getProgramAccounts` with its context slot, then the rooms in pages of 100; retried with
//! backoff until it succeeds), then a catch-up after every
//! (re)subscription of the chain watcher and every `ROOMCAST_INDEX_RESYNC_SECS`. The watcher's
//! notifications are applied in `jobs::chain_watch`; the server's own writes in `rooms::read`.
//!
//! A catch-up does not re-read every room: one `getProgramAccounts` sliced to 34 bytes a room
//! (status through `updated_at`) shows which rooms are new, changed or gone, and only those are
//! read whole (`getMultipleAccounts`). Rooms written since shortly before the previous catch-up
//! began are read whole too (two writes in the same second leave `updated_at` as it was). Without
//! the watcher, the resync period bounds how stale the index can be; with it, the resync catches
//! what PubSub never reports — a room closed by anyone else (a closed account leaves the program,
//! so no `programNotification` tells of it).
use std::collections::HashSet;
use std::time::{Duration, Instant};

use roomcast_chain::{ChainError, RoomRecord};
use tokio_util::sync::CancellationToken;

use crate::state::{AppState, StateRef};

const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Rooms written this many seconds before the previous catch-up began are read whole again.
const SKEW_SECS: i64 = 2;

/// What one catch-up did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CatchUp {
    pub listed: usize,
    pub fetched: usize,
    pub removed: usize,
}

pub fn spawn(state: StateRef, resync: Duration, stop: CancellationToken) {
    tokio::spawn(async move {
        let mut backoff = FIRST_BACKOFF;
        loop {
            match load(&state).await {
                Ok(()) => break,
                Err(e) => tracing::warn!(error = %e, "loading the room index; retrying"),
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        let mut every = tokio::time::interval(resync);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = every.tick() => {}
            }
            if let Err(e) = catch_up(&state).await {
                tracing::warn!(error = %e, "room index catch-up failed; the next one retries");
            }
        }
    });
}

/// Rooms read whole per `getMultipleAccounts`, and such reads in flight at once.
const PAGE: usize = 100;
const PAGES_IN_FLIGHT: usize = 4;

/// The first full load, in pages: the registry's addresses from one sliced `getProgramAccounts`
/// (34 bytes a room, with its context slot), then the rooms 100 at a time (`getMultipleAccounts`,
/// a few pages in flight). A whole-account listing of 100k rooms would be tens of MB in one answer
/// (over the local node's 32 MB response limit, and refused or throttled by many providers).
pub async fn load(state: &AppState) -> Result<(), ChainError> {
    let began = Instant::now();
    let began_unix = unix_now();
    let (slot, stamps) = state.chain.registry_room_stamps_at(&state.registry).await?;
    let addresses: Vec<_> = stamps.iter().map(|s| s.address).collect();
    let mut rooms: Vec<RoomRecord> = Vec::with_capacity(addresses.len());
    for group in addresses.chunks(PAGE * PAGES_IN_FLIGHT) {
        // Owned pages and a cloned client: the reads run side by side as tasks.
        let mut reads = tokio::task::JoinSet::new();
        for (n, page) in group.chunks(PAGE).enumerate() {
            let chain = state.chain.clone();
            let page = page.to_vec();
            reads.spawn(async move { (n, chain.rooms_at(&page).await) });
        }
        let mut pages = Vec::with_capacity(PAGES_IN_FLIGHT);
        while let Some(read) = reads.join_next().await {
            let (n, read) = read.map_err(|e| ChainError::Rpc(format!("reading rooms: {e}")))?;
            pages.push((n, read?.1));
        }
        pages.sort_by_key(|(n, _)| *n);
        for (_, page) in pages {
            rooms.extend(page.into_iter().filter_map(|(address, room)| {
                room.filter(|r| r.registry == state.registry)
                    .map(|room| RoomRecord { address, room })
            }));
        }
    }
    let count = rooms.len();
    state.index.load(slot, rooms);
    state.index.set_synced_at(began_unix);
    tracing::info!(rooms = count, slot, took = ?began.elapsed(), "room index loaded");
    Ok(())
}

/// Brings the index up to the chain without reading every room (see the module docs). Before the
/// first load has succeeded there is nothing to catch up: the load (retried by [`spawn`]'s task)
/// reads everything anyway.
pub async fn catch_up(state: &AppState) -> Result<CatchUp, ChainError> {
    if !state.index.is_loaded() {
        return Ok(CatchUp::default());
    }
    let began_unix = unix_now();
    let since = state.index.synced_at() - SKEW_SECS;
    let (slot, stamps) = state.chain.registry_room_stamps_at(&state.registry).await?;
    let held = state.index.stamps();
    let mut stale = Vec::new();
    for stamp in &stamps {
        let changed = match held.get(&stamp.address) {
            None => true,
            Some(&(status, updated_at, held_slot)) => {
                held_slot < slot
                    && (status != stamp.status
                        || updated_at != stamp.updated_at
                        || stamp.updated_at >= since)
            }
        };
        if changed {
            stale.push(stamp.address);
        }
    }
    let listed: HashSet<_> = stamps.iter().map(|s| s.address).collect();
    let mut removed = 0;
    for (address, (_, _, held_slot)) in &held {
        if !listed.contains(address) && *held_slot < slot && state.index.remove(address, slot) {
            removed += 1;
        }
    }
    let (read_at, rooms) = state.chain.rooms_at(&stale).await?;
    for (address, room) in rooms {
        match room {
            Some(room) if room.registry == state.registry => {
                state.index.apply(&RoomRecord { address, room }, read_at);
            }
            _ => {
                if state.index.remove(&address, read_at) {
                    removed += 1;
                }
            }
        }
    }
    state.index.set_synced_at(began_unix);
    let done = CatchUp {
        listed: stamps.len(),
        fetched: stale.len(),
        removed,
    };
    tracing::debug!(?done, slot, "room index caught up");
    Ok(done)
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
