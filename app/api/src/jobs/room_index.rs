//! Keeps the room index (`live::index`) fed: one full load at start (the registry's addresses from a
//! sliced `getProgramAccounts` with its context slot, then the rooms in pages of 100; retried with
//! backoff until it succeeds), then a catch-up after every
//! (re)subscription of the chain watcher and every `ROOMCAST_INDEX_RESYNC_SECS`. The watcher's
//! notifications are applied in `jobs::chain_watch`; the server's own writes in `rooms::read`.
//!
//! A catch-up starts from the index's place in the program's history (a [`Checkpoint`]: the
//! newest program transaction seen, and its slot): the program's transactions since
//! (`getSignaturesForAddress` on the program id, paged), the accounts they wrote (`getTransaction`),
//! and only those read whole (`getMultipleAccounts`) — a closed room comes back empty and leaves
//! the index; this is also how a room closed by anyone else is noticed (a closed account leaves
//! the program, so no `programNotification` tells of it). When the history cannot answer — no
//! checkpoint yet, the node does not know it (its history was lost, e.g. the local node's on
//! restart), more than [`HISTORY_BOUND`] transactions since, or the RPC refuses the calls — the
//! catch-up lists instead: one `getProgramAccounts` sliced to 34 bytes a room (status through
//! `updated_at`) shows which rooms are new, changed or gone, and only those are read whole. Rooms
//! written since shortly before the previous catch-up began are read whole too (two writes in the
//! same second leave `updated_at` as it was). Each catch-up counts and logs its path
//! (`roomcast_index_catch_ups_total{path,reason}`, [`RoomIndex::catch_ups`]).
//!
//! [`RoomIndex::catch_ups`]: crate::live::index::RoomIndex::catch_ups
use std::collections::HashSet;
use std::time::{Duration, Instant};

use roomcast_chain::{ChainError, Checkpoint, RoomRecord, Since};
use tokio_util::sync::CancellationToken;

use crate::state::{AppState, StateRef};

const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Rooms written this many seconds before the previous catch-up began are read whole again.
const SKEW_SECS: i64 = 2;

/// Program transactions since the checkpoint past which a catch-up lists instead.
pub const HISTORY_BOUND: usize = 1_000;

/// How a catch-up found what changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum CatchUpPath {
    /// None ran: the first load is not in yet.
    #[default]
    Skipped,
    /// From the program's history since the checkpoint.
    History,
    /// From a sliced listing of the registry, because of this.
    Listing(Fallback),
}

/// Why a catch-up listed instead of reading the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// The index has no checkpoint (the node had no program history when it was taken).
    NoCheckpoint,
    /// The node does not know the checkpoint (history lost or pruned).
    Unknown,
    /// More than the bound landed since.
    TooLong,
    /// The RPC refused or failed a history call.
    Refused,
}

impl Fallback {
    fn label(self) -> &'static str {
        match self {
            Fallback::NoCheckpoint => "no_checkpoint",
            Fallback::Unknown => "checkpoint_unknown",
            Fallback::TooLong => "history_too_long",
            Fallback::Refused => "history_refused",
        }
    }
}

/// What one catch-up did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CatchUp {
    pub path: CatchUpPath,
    /// Program transactions read from the history.
    pub signatures: usize,
    /// Rooms in the sliced listing (0 on the history path).
    pub listed: usize,
    /// Accounts read whole.
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
    // Before the listing: what lands meanwhile is after the checkpoint, so read again later.
    let (checkpoint, history_empty) = take_checkpoint(state).await;
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
    state.index.set_listed_at(checkpoint, history_empty);
    tracing::info!(rooms = count, slot, took = ?began.elapsed(), "room index loaded");
    Ok(())
}

/// Brings the index up to the chain without reading every room (see the module docs). Before the
/// first load has succeeded there is nothing to catch up: the load (retried by [`spawn`]'s task)
/// reads everything anyway.
pub async fn catch_up(state: &AppState) -> Result<CatchUp, ChainError> {
    catch_up_bounded(state, HISTORY_BOUND).await
}

/// [`catch_up`], listing instead once more than `bound` program transactions landed since the
/// checkpoint.
pub async fn catch_up_bounded(state: &AppState, bound: usize) -> Result<CatchUp, ChainError> {
    if !state.index.is_loaded() {
        return Ok(CatchUp::default());
    }
    let _one_at_a_time = state.index.catching_up.lock().await;
    let fallback = match state.index.checkpoint() {
        None if empty_history_holds(state).await => {
            state.index.count_catch_up(true);
            metrics::counter!("roomcast_index_catch_ups_total", "path" => "history", "reason" => "empty_history").increment(1);
            tracing::debug!("room index caught up: the program's history is still empty");
            return Ok(CatchUp {
                path: CatchUpPath::History,
                ..CatchUp::default()
            });
        }
        None => Fallback::NoCheckpoint,
        Some(checkpoint) => match from_history(state, &checkpoint, bound).await {
            Ok(done) => {
                state.index.count_catch_up(true);
                metrics::counter!("roomcast_index_catch_ups_total", "path" => "history", "reason" => "checkpoint").increment(1);
                tracing::debug!(?done, "room index caught up from the program's history");
                return Ok(done);
            }
            Err(fallback) => fallback,
        },
    };
    let done = from_listing(state, fallback).await?;
    state.index.count_catch_up(false);
    metrics::counter!("roomcast_index_catch_ups_total", "path" => "listing", "reason" => fallback.label()).increment(1);
    tracing::info!(
        reason = fallback.label(),
        listed = done.listed,
        fetched = done.fetched,
        removed = done.removed,
        "room index caught up from a sliced listing"
    );
    Ok(done)
}

/// The history path: the program's transactions since `checkpoint`, the accounts they wrote, those
/// read whole. `Err` says why the history cannot answer (then the caller lists).
async fn from_history(
    state: &AppState,
    checkpoint: &Checkpoint,
    bound: usize,
) -> Result<CatchUp, Fallback> {
    let began_unix = unix_now();
    let refused = |e: ChainError| {
        tracing::warn!(error = %e, "reading the program's history; listing instead");
        Fallback::Refused
    };
    let landed = match state
        .chain
        .program_history_since(checkpoint, bound)
        .await
        .map_err(refused)?
    {
        Since::Landed(landed) => landed,
        Since::Unknown => return Err(Fallback::Unknown),
        Since::TooLong => return Err(Fallback::TooLong),
    };
    let succeeded: Vec<_> = landed
        .iter()
        .filter(|l| !l.failed)
        .map(|l| l.signature)
        .collect();
    let Some(mut written) = state
        .chain
        .written_accounts(&succeeded)
        .await
        .map_err(refused)?
    else {
        return Err(Fallback::Unknown);
    };
    // The registry account is written by every create; it is not a room.
    written.remove(&state.registry);
    written.remove(&state.chain.program_id());
    let addresses: Vec<_> = written.into_iter().collect();
    let (read_at, rooms) = state.chain.rooms_at(&addresses).await.map_err(refused)?;
    let mut removed = 0;
    for (address, room) in rooms {
        match room {
            Some(room) if room.registry == state.registry => {
                state.index.apply(&RoomRecord { address, room }, read_at);
            }
            // Closed (or never a room of ours: a wallet, another registry's room).
            _ => {
                if state.index.remove(&address, read_at) {
                    removed += 1;
                }
            }
        }
    }
    state.index.set_checkpoint(Some(checkpoint.after(&landed)));
    state.index.set_synced_at(began_unix);
    Ok(CatchUp {
        path: CatchUpPath::History,
        signatures: landed.len(),
        listed: 0,
        fetched: addresses.len(),
        removed,
    })
}

/// The listing path: one sliced `getProgramAccounts`; only new, changed and recently written
/// rooms read whole. Moves the checkpoint to the history's newest (taken before the listing).
async fn from_listing(state: &AppState, fallback: Fallback) -> Result<CatchUp, ChainError> {
    let began_unix = unix_now();
    let since = state.index.synced_at() - SKEW_SECS;
    let (checkpoint, history_empty) = take_checkpoint(state).await;
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
    state.index.set_listed_at(checkpoint, history_empty);
    Ok(CatchUp {
        path: CatchUpPath::Listing(fallback),
        signatures: 0,
        listed: stamps.len(),
        fetched: stale.len(),
        removed,
    })
}

/// The program's newest transactions (`None` if it has none or the RPC will not say: catch-ups
/// then list), and whether the history was read and found empty.
async fn take_checkpoint(state: &AppState) -> (Option<Checkpoint>, bool) {
    match state.chain.program_checkpoint().await {
        Ok(checkpoint) => {
            let empty = checkpoint.is_none();
            (checkpoint, empty)
        }
        Err(e) => {
            tracing::warn!(error = %e, "reading the program's newest transaction; catch-ups list");
            (None, false)
        }
    }
}

/// How long an empty program history stands in for a listing (see [`empty_history_holds`]).
const EMPTY_HISTORY_TRUST_SECS: i64 = 600;

/// True when the last listing found the program's history empty, not longer than
/// [`EMPTY_HISTORY_TRUST_SECS`] ago, and it is still empty: nothing has landed since (a node shows
/// every transaction after its start — one restarted on a ledger it did not write has none),
/// so there is nothing to read, and listing every room again each catch-up (seconds of CPU at
/// 100k rooms) would find nothing new. Past the bound a listing is made anyway, so an RPC that
/// serves no history at all never leaves the index to the watcher alone.
async fn empty_history_holds(state: &AppState) -> bool {
    state.index.history_was_empty()
        && unix_now() - state.index.synced_at() < EMPTY_HISTORY_TRUST_SECS
        && matches!(state.chain.program_checkpoint().await, Ok(None))
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
