//! Throttles callers that keep failing authentication (guessing the operator key, replaying or
//! forging signatures): after `ROOMCAST_AUTH_FAILURES_PER_MINUTE` (20) 401s in a minute, an address
//! gets 429 for the rest of that minute without its credentials being looked at. One replica
//! counts in memory; replicas sharing Redis count together ([`crate::store::redis::auth_failures`]).
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::core::error::AppError;
use crate::store::redis::auth_failures::SharedAuthFailures;
use crate::store::redis::Redis;

const WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at once; past it, expired windows are pruned, and if none expired a new
/// address is not tracked (throttling is a brake, not a lock).
const MAX_TRACKED: usize = 100_000;

pub struct AuthThrottle {
    max_failures: u32,
    counts: Counts,
}

enum Counts {
    Memory(Mutex<HashMap<IpAddr, (Instant, u32)>>),
    Shared(SharedAuthFailures),
}

impl AuthThrottle {
    pub fn new(max_failures: u32) -> Self {
        AuthThrottle {
            max_failures: max_failures.max(1),
            counts: Counts::Memory(Mutex::default()),
        }
    }

    /// The same throttle, counted in Redis for every replica.
    pub fn shared(max_failures: u32, redis: Arc<Redis>) -> Self {
        AuthThrottle {
            max_failures: max_failures.max(1),
            counts: Counts::Shared(SharedAuthFailures::new(redis)),
        }
    }

    /// 429 when `ip` used up its failures in the current window; 503 `shared_state_unavailable`
    /// when the shared count cannot be read (fail closed).
    pub async fn check(&self, ip: IpAddr) -> Result<(), AppError> {
        let wait = match &self.counts {
            Counts::Memory(failures) => {
                let map = lock(failures);
                match map.get(&ip) {
                    Some((start, count))
                        if *count >= self.max_failures && start.elapsed() < WINDOW =>
                    {
                        Some(WINDOW.saturating_sub(start.elapsed()))
                    }
                    _ => None,
                }
            }
            Counts::Shared(shared) => shared.blocked(&ip.to_string(), self.max_failures).await?,
        };
        match wait {
            Some(wait) => Err(AppError::RateLimited {
                message: "too many failed authentications from this address; wait".into(),
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            }),
            None => Ok(()),
        }
    }

    /// Counts a 401 for `ip`.
    pub async fn failed(&self, ip: IpAddr) {
        let failures = match &self.counts {
            Counts::Memory(failures) => failures,
            Counts::Shared(shared) => {
                // The request is refused (401) either way; an uncounted failure is only logged.
                if let Err(e) = shared.failed(&ip.to_string(), WINDOW).await {
                    tracing::warn!(error = %e, "could not count a failed authentication");
                }
                return;
            }
        };
        let mut map = lock(failures);
        if !map.contains_key(&ip) && map.len() >= MAX_TRACKED {
            map.retain(|_, (start, _)| start.elapsed() < WINDOW);
            if map.len() >= MAX_TRACKED {
                tracing::warn!("auth failure tracking is full; not tracking a new address");
                return;
            }
        }
        let entry = map.entry(ip).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }
}

fn lock(
    failures: &Mutex<HashMap<IpAddr, (Instant, u32)>>,
) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (Instant, u32)>> {
    failures.lock().unwrap_or_else(|p| p.into_inner())
}
