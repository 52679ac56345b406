//! Per-IP and per-host limits on room creation (each create costs a live input and rent).
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use roomcast_chain::Pubkey;

use crate::error::AppError;

pub struct CreateLimits {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_host: DefaultKeyedRateLimiter<Pubkey>,
    /// All creates together: many IPs and hosts cannot add up to an unbounded spend.
    global: governor::DefaultDirectRateLimiter,
}

impl CreateLimits {
    /// `per_minute` creates per IP and per host, `budget` in total, with bursts of the same size.
    pub fn new(per_minute: NonZeroU32, budget: NonZeroU32) -> Self {
        let quota = Quota::per_minute(per_minute);
        CreateLimits {
            per_ip: RateLimiter::keyed(quota),
            per_host: RateLimiter::keyed(quota),
            global: RateLimiter::direct(Quota::per_minute(budget)),
        }
    }

    /// Forgets keys whose limit has fully recovered (they would behave as new ones), so the
    /// limiter's memory follows the recent callers rather than every caller ever seen.
    pub fn prune(&self) {
        self.per_ip.retain_recent();
        self.per_ip.shrink_to_fit();
        self.per_host.retain_recent();
        self.per_host.shrink_to_fit();
    }

    /// Keys currently held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.per_ip.len() + self.per_host.len()
    }

    pub fn check(&self, ip: IpAddr, host: &Pubkey) -> Result<(), AppError> {
        let clock = DefaultClock::default();
        for outcome in [self.per_ip.check_key(&ip), self.per_host.check_key(host)] {
            if let Err(not_until) = outcome {
                let wait: Duration = not_until.wait_time_from(clock.now());
                return Err(AppError::RateLimited {
                    message: "too many rooms created; slow down".into(),
                    retry_after_secs: wait.as_secs().max(1),
                });
            }
        }
        if let Err(not_until) = self.global.check() {
            let wait: Duration = not_until.wait_time_from(clock.now());
            return Err(AppError::RateLimited {
                message: "this server is creating too many rooms right now; try again shortly"
                    .into(),
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        Ok(())
    }
}
