//! Tips read back from the chain: the room's transaction history after the last read
//! (`RoomcastChain::tips_after`: only transactions that name the room, carry its tip memo and
//! really pay its host count), into the room's ledger (`live::tips`), which publishes each new tip
//! to the room's event streams. Called by the room's events poller every second while someone
//! watches, and for the room view and discovery in the background (at most once per [`FRESH_FOR`]
//! per room; a viewer's request never waits for the chain once a room's history was read).
use std::time::{Duration, Instant};

use roomcast_chain::Pubkey;

use crate::live::tips::{RoomEntry, RoomTips, TipTotals};
use crate::state::AppState;

/// Totals younger than this are answered without reading the chain.
pub const FRESH_FOR: Duration = Duration::from_secs(2);
/// The same for discovery's items: a page of 100 rooms would otherwise be 100 history reads every
/// 2 s while anyone lists; a room's own view and event stream stay at [`FRESH_FOR`] (and a new
/// tip any reader counts shows in every listing at once: the ledger's counter moves).
pub const LISTED_FRESH_FOR: Duration = Duration::from_secs(10);
/// Longest a read of the history may hold up a request; past it the last totals are answered.
pub const READ_BOUND: Duration = Duration::from_secs(2);

/// `room`'s tip totals, read from the chain unless read within `max_age`. A failed or slow read
/// (past [`READ_BOUND`]) answers the last totals and is not tried again for `max_age` (a chain
/// outage costs a request at most one bounded read per room and window, never a hang).
pub async fn totals(
    state: &AppState,
    room: &Pubkey,
    host: &Pubkey,
    max_age: Duration,
) -> TipTotals {
    let entry = state.tips.room(room);
    let mut tips = entry.ledger.lock().await;
    if tips.read_at.is_some_and(|at| at.elapsed() < max_age) {
        return tips.totals;
    }
    read_history(&state.chain, &entry, &mut tips, room, host).await
}

/// The totals a viewer read shows (the room view, `livestream`): never waits for the chain once
/// the room's history was read (the first read waits, bounded by [`READ_BOUND`]); see
/// [`kept_totals`].
pub async fn totals_for_view(state: &AppState, room: &Pubkey, host: &Pubkey) -> TipTotals {
    match kept_totals(state, room, host, FRESH_FOR) {
        Some(totals) => totals,
        None => totals(state, room, host, FRESH_FOR).await,
    }
}

/// The totals last read, never waiting for the chain (discovery): `None` until the room's history
/// was read once — then that first read runs in the background and, when it lands, moves the
/// ledger's change counter (`live::answers`). Totals older than `fresh_for` are answered as they
/// are while one background read per room brings them up to date; the room's event streams hear
/// of new tips from their own poller.
pub fn kept_totals(
    state: &AppState,
    room: &Pubkey,
    host: &Pubkey,
    fresh_for: Duration,
) -> Option<TipTotals> {
    let entry = state.tips.room(room);
    let last = entry.last();
    let stale = last.read_at.is_none_or(|at| at.elapsed() >= fresh_for);
    if stale && entry.claim_refresh() {
        let (chain, room, host) = (state.chain.clone(), *room, *host);
        tokio::spawn(async move {
            let mut tips = entry.ledger.lock().await;
            if let Some(at) = tips.read_at.filter(|at| at.elapsed() < fresh_for) {
                // Read in the meantime (a waiting first read): nothing to do.
                entry.read_done(tips.totals, at);
                return;
            }
            read_history(&chain, &entry, &mut tips, &room, &host).await;
        });
    }
    last.read_at.map(|_| last.totals)
}

/// Reads the room's history after the ledger's last read, counts what is new and records the
/// read (in the ledger and in the entry's last totals).
async fn read_history(
    chain: &roomcast_chain::RoomcastChain,
    entry: &RoomEntry,
    tips: &mut RoomTips,
    room: &Pubkey,
    host: &Pubkey,
) -> TipTotals {
    let read = tokio::time::timeout(READ_BOUND, chain.tips_after(room, host, tips.after)).await;
    let at = Instant::now();
    tips.read_at = Some(at);
    match read {
        Ok(Ok((found, newest))) => {
            for tip in found {
                if tips.count(tip.signature, &tip.from, tip.lamports) {
                    metrics::counter!("roomcast_tips_total").increment(1);
                }
            }
            tips.after = newest;
        }
        Ok(Err(e)) => tracing::debug!(%room, error = %e, "reading tips failed"),
        Err(_) => tracing::debug!(%room, "reading tips timed out"),
    }
    entry.read_done(tips.totals, at);
    tips.totals
}

/// The lamports of the tip `signature` to `room`, if it was counted.
pub async fn counted(
    state: &AppState,
    room: &Pubkey,
    signature: &roomcast_chain::Signature,
) -> Option<u64> {
    state.tips.room(room).ledger.lock().await.counted(signature)
}
