//! Background work no request waits for: the reconciler (chain ⇄ Cloudflare repair), its leader
//! lease loop when several replicas share Redis (`leader`), and the chain watcher (on-chain room
//! changes the moment they land), and the room index's feed (`room_index`). Uses `rooms`, `state` and everything below.
pub mod chain_watch;
pub mod leader;
pub mod reconciler;
pub mod room_index;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::core::config::ReconcilerConfig;
use crate::state::StateRef;
use crate::store::redis::Redis;

/// Starts the reconciler: on this replica alone, or — when replicas share `redis` — on whichever
/// one holds the lease.
pub fn spawn_reconciler(
    state: StateRef,
    redis: Option<Arc<Redis>>,
    config: ReconcilerConfig,
    stop: CancellationToken,
) {
    if config.interval.is_zero() {
        return;
    }
    match redis {
        Some(redis) => leader::spawn(state, redis, config, stop),
        None => reconciler::spawn(state, config, stop),
    }
}
