//! The renewal loop of a running create's short leases — on its `Idempotency-Key`
//! ([`crate::rooms::idempotency::Journal`]) and on its flight ([`crate::rooms::flight::Flight`]) — so a process
//! that dies loses its holds within seconds, while a live one keeps them.
use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::StoreError;

/// How long a create's hold (its claimed `Idempotency-Key`, its flight) lasts without a renewal: a
/// killed holder's key is taken over (and its create resumed) this soon after its last heartbeat.
pub const LEASE: Duration = Duration::from_secs(10);
/// How often the holder renews its lease (well inside [`LEASE`], so one slow renewal is harmless).
pub const RENEW_EVERY: Duration = Duration::from_secs(3);

/// Renews a hold every [`RENEW_EVERY`] until [`Renewals::stop`]; aborted if dropped.
pub struct Renewals {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Renewals {
    /// Calls `renew` every [`RENEW_EVERY`]. `Ok(false)`: the hold is gone (taken over, doomed), so
    /// renewing ends and the create's next fenced step stops. An error is logged and the next tick
    /// tries again: the lease outlives one failed renewal.
    pub fn spawn<F, Fut>(what: String, renew: F) -> Renewals
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = Result<bool, StoreError>> + Send,
    {
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stopped.cancelled() => return,
                    _ = tokio::time::sleep(RENEW_EVERY) => {}
                }
                match renew().await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!("{what} lost; the create's next step will stop");
                        return;
                    }
                    Err(e) => tracing::warn!(error = %e, "could not renew {what}"),
                }
            }
        });
        Renewals { stop, task }
    }

    /// Stops renewing and returns once no renewal is under way, so none lands after the caller's
    /// next write (a late one would bring a released lease back, or find a completed one gone).
    pub async fn stop(mut self) {
        self.stop.cancel();
        let _ = (&mut self.task).await;
    }
}

impl Drop for Renewals {
    fn drop(&mut self) {
        self.task.abort();
    }
}
