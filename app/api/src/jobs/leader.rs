//! With several replicas, only the holder of the reconciler lease (`store::redis::lease`)
//! reconciles: this loop takes or renews the lease, runs a fenced pass while the lease is
//! confirmed and due, and releases the lease on shutdown.
use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use crate::core::config::ReconcilerConfig;
use crate::jobs::reconciler::reconcile_fenced;
use crate::state::StateRef;
use crate::store::redis::lease::{lease_ttl, Lease};
use crate::store::redis::Redis;

/// Runs the reconciler on whichever replica holds the lease, until `stop`; releases it then.
pub fn spawn(
    state: StateRef,
    redis: Arc<Redis>,
    config: ReconcilerConfig,
    stop: CancellationToken,
) {
    if config.interval.is_zero() {
        return;
    }
    let ttl = lease_ttl(config.interval);
    let lease = Lease::new(redis, ttl);
    // Renew well within the lease; a pass runs every `interval` while held.
    let tick = (ttl / 3).min(config.interval);
    let task_state = state.clone();
    state.tasks.spawn(async move {
        let state = task_state;
        let mut held: Option<u64> = None;
        let mut renewed_at = Instant::now();
        let mut last_pass: Option<Instant> = None;
        loop {
            match lease.acquire_or_renew(held).await {
                Ok(now_held) => {
                    if now_held != held {
                        match now_held {
                            Some(token) => tracing::info!(token, "reconciler lease acquired"),
                            None if held.is_some() => tracing::warn!("reconciler lease lost"),
                            None => {}
                        }
                    }
                    held = now_held;
                    renewed_at = Instant::now();
                }
                Err(e) => tracing::warn!(error = %e, "cannot renew the reconciler lease"),
            }
            metrics::gauge!("roomcast_reconciler_lease_held").set(if held.is_some() { 1.0 } else { 0.0 });
            // Fencing: act only on a lease confirmed within its period, and stop making changes
            // once that period is over (another replica may hold the lease by then).
            let valid_until = renewed_at + ttl - ttl / 10;
            let valid = held.is_some() && Instant::now() < valid_until;
            let due = last_pass.is_none_or(|t| t.elapsed() >= config.interval);
            if valid && due {
                last_pass = Some(Instant::now());
                let report = reconcile_fenced(&state, &config, Some(valid_until)).await;
                metrics::counter!("roomcast_reconciler_passes_total").increment(1);
                tracing::debug!(token = held, ?report, "reconciled");
            }
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(tick) => {}
            }
        }
        if let Some(token) = held {
            match lease.release(token).await {
                Ok(()) => tracing::info!(token, "reconciler lease released"),
                Err(e) => tracing::warn!(error = %e, "could not release the reconciler lease; it expires by itself"),
            }
        }
    });
}
