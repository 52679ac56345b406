//! Throttles callers that keep failing authentication (guessing the operator key, replaying or
//! forging signatures): after `ROOMCAST_AUTH_FAILURES_PER_MINUTE` (20) 401s in a minute, an address
//! gets 429 for the rest of that minute without its credentials being looked at. One replica
//! counts in memory; replicas sharing Redis count together ([`crate::store::redis::auth_failures`]).
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::core::error::AppError;
use crate::store::AuthFailureCounts;

const WINDOW: Duration = Duration::from_secs(60);

pub struct AuthThrottle {
    max_failures: u32,
    counts: Arc<dyn AuthFailureCounts>,
}

impl AuthThrottle {
    /// After `max_failures` 401s in a minute an address gets 429, as counted in `counts`.
    pub fn new(max_failures: u32, counts: Arc<dyn AuthFailureCounts>) -> Self {
        AuthThrottle {
            max_failures: max_failures.max(1),
            counts,
        }
    }

    /// 429 when `ip` used up its failures in the current window; 503 `shared_state_unavailable`
    /// when the shared count cannot be read (fail closed).
    pub async fn check(&self, ip: IpAddr) -> Result<(), AppError> {
        match self.counts.blocked(ip, self.max_failures, WINDOW).await? {
            Some(wait) => Err(AppError::RateLimited {
                message: "too many failed authentications from this address; wait".into(),
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            }),
            None => Ok(()),
        }
    }

    /// Counts a 401 for `ip`.
    pub async fn failed(&self, ip: IpAddr) {
        // The request is refused (401) either way; an uncounted failure is only logged.
        if let Err(e) = self.counts.failed(ip, WINDOW).await {
            tracing::warn!(error = %e, "could not count a failed authentication");
        }
    }
}
