//! Throttles callers that keep failing authentication (guessing the operator key, replaying or
//! forging signatures): after `ROOMCAST_AUTH_FAILURES_PER_MINUTE` (20) 401s in a minute, an address
//! gets 429 for the rest of that minute without its credentials being looked at.
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::AppError;

const WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at once; past it, expired windows are pruned, and if none expired a new
/// address is not tracked (throttling is a brake, not a lock).
const MAX_TRACKED: usize = 100_000;

pub struct AuthThrottle {
    max_failures: u32,
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl AuthThrottle {
    pub fn new(max_failures: u32) -> Self {
        AuthThrottle {
            max_failures: max_failures.max(1),
            failures: Mutex::default(),
        }
    }

    /// 429 when `ip` used up its failures in the current window.
    pub fn check(&self, ip: IpAddr) -> Result<(), AppError> {
        let map = self.lock();
        match map.get(&ip) {
            Some((start, count)) if *count >= self.max_failures && start.elapsed() < WINDOW => {
                let wait = WINDOW.saturating_sub(start.elapsed());
                Err(AppError::RateLimited {
                    message: "too many failed authentications from this address; wait".into(),
                    retry_after_secs: wait.as_secs().max(1),
                })
            }
            _ => Ok(()),
        }
    }

    /// Counts a 401 for `ip`.
    pub fn failed(&self, ip: IpAddr) {
        let mut map = self.lock();
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (Instant, u32)>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }
}
