//! Tips read back from the chain: the room's transaction history after the last read
//! (`RoomcastChain::tips_after`: only transactions that name the room, carry its tip memo and
//! really pay its host count), into the room's ledger (`live::tips`), which publishes each new tip
//! to the room's event streams. Called by the room's events poller every second while someone
//! watches, and by the room view and discovery (at most once per [`FRESH_FOR`] per room).
use std::time::Duration;

use roomcast_chain::Pubkey;

use crate::live::tips::TipTotals;
use crate::state::AppState;

/// Totals younger than this are answered without reading the chain.
pub const FRESH_FOR: Duration = Duration::from_secs(2);
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
    let ledger = state.tips.room(room);
    let mut tips = ledger.lock().await;
    if tips.read_at.is_some_and(|at| at.elapsed() < max_age) {
        return tips.totals;
    }
    let read =
        tokio::time::timeout(READ_BOUND, state.chain.tips_after(room, host, tips.after)).await;
    tips.read_at = Some(std::time::Instant::now());
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
    tips.totals
}

/// The lamports of the tip `signature` to `room`, if it was counted.
pub async fn counted(
    state: &AppState,
    room: &Pubkey,
    signature: &roomcast_chain::Signature,
) -> Option<u64> {
    state.tips.room(room).lock().await.counted(signature)
}
