//! Load shedding in front of every route: a global cap on requests in flight (503 `overloaded`
//! instead of an unbounded queue of upstream calls) and a per-IP budget for reads, which are
//! anonymous and each may cost an RPC or Cloudflare call (429 `rate_limited`). Health, readiness
//! and metrics are exempt so probes keep working under load (the middleware: `http::load`).
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::core::error::AppError;
use crate::guard::streams::StreamLimits;

pub struct LoadLimits {
    in_flight: Arc<Semaphore>,
    reads: DefaultKeyedRateLimiter<IpAddr>,
    /// Open Server-Sent Events streams (they hold no in-flight slot; capped on their own).
    pub streams: StreamLimits,
}

impl LoadLimits {
    pub fn new(max_in_flight: usize, reads_per_minute: NonZeroU32, streams: StreamLimits) -> Self {
        LoadLimits {
            in_flight: Arc::new(Semaphore::new(max_in_flight.max(1))),
            reads: RateLimiter::keyed(Quota::per_minute(reads_per_minute)),
            streams,
        }
    }

    /// A slot among the requests in flight, held until dropped; `Err` when every slot is taken.
    pub fn try_enter(&self) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.in_flight.clone().try_acquire_owned()
    }

    /// Forgets callers whose read budget has fully recovered.
    pub fn prune(&self) {
        self.reads.retain_recent();
        self.reads.shrink_to_fit();
    }

    /// Spends one of `ip`'s reads (429 when its budget is used up).
    pub fn check_read(&self, ip: IpAddr) -> Result<(), AppError> {
        self.reads.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            AppError::RateLimited {
                message: "too many requests from this address; slow down".into(),
                retry_after_secs: wait.as_secs().max(1),
            }
        })
    }
}
