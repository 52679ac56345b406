//! Per-IP, per-host and global limits on room creation (each create costs a live input and rent).
//! One replica counts in memory (`governor`); replicas sharing Redis count together
//! ([`crate::store::redis::limits`]), so adding replicas does not multiply the limits.
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use roomcast_chain::Pubkey;

use crate::core::error::AppError;
use crate::store::redis::limits::{Cell, SharedLimiter};
use crate::store::redis::Redis;

const BY_IP: &str = "too many rooms created from this address; slow down";
const BY_HOST: &str = "too many rooms created for this host; slow down";
const GLOBAL: &str = "this server is creating too many rooms right now; try again shortly";

pub struct CreateLimits {
    per_minute: NonZeroU32,
    budget: NonZeroU32,
    counters: Counters,
}

enum Counters {
    Memory(Box<MemoryCounters>),
    Shared(SharedLimiter),
}

struct MemoryCounters {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_host: DefaultKeyedRateLimiter<Pubkey>,
    /// All creates together: many IPs and hosts cannot add up to an unbounded spend.
    global: DefaultDirectRateLimiter,
}

impl CreateLimits {
    /// `per_minute` creates per IP and per host, `budget` in total, with bursts of the same size,
    /// counted in this process.
    pub fn new(per_minute: NonZeroU32, budget: NonZeroU32) -> Self {
        let quota = Quota::per_minute(per_minute);
        CreateLimits {
            per_minute,
            budget,
            counters: Counters::Memory(Box::new(MemoryCounters {
                per_ip: RateLimiter::keyed(quota),
                per_host: RateLimiter::keyed(quota),
                global: RateLimiter::direct(Quota::per_minute(budget)),
            })),
        }
    }

    /// Forgets keys whose limit has fully recovered (they would behave as new ones), so the
    /// limiter's memory follows the recent callers rather than every caller ever seen. (Redis
    /// expires shared cells by itself.)
    pub fn prune(&self) {
        if let Counters::Memory(counters) = &self.counters {
            counters.per_ip.retain_recent();
            counters.per_ip.shrink_to_fit();
            counters.per_host.retain_recent();
            counters.per_host.shrink_to_fit();
        }
    }

    /// Keys currently held in memory (for tests and metrics).
    pub fn len(&self) -> usize {
        match &self.counters {
            Counters::Memory(counters) => counters.per_ip.len() + counters.per_host.len(),
            Counters::Shared(_) => 0,
        }
    }

    /// The same limits, counted in Redis for every replica.
    pub fn shared(per_minute: NonZeroU32, budget: NonZeroU32, redis: Arc<Redis>) -> Self {
        CreateLimits {
            per_minute,
            budget,
            counters: Counters::Shared(SharedLimiter::new(redis)),
        }
    }

    pub async fn check(&self, ip: IpAddr, host: &Pubkey) -> Result<(), AppError> {
        match &self.counters {
            Counters::Memory(counters) => {
                let MemoryCounters {
                    per_ip,
                    per_host,
                    global,
                } = &**counters;
                let clock = DefaultClock::default();
                let refused = |not_until: governor::NotUntil<_>, message| {
                    limited(message, not_until.wait_time_from(clock.now()))
                };
                per_ip.check_key(&ip).map_err(|n| refused(n, BY_IP))?;
                per_host.check_key(host).map_err(|n| refused(n, BY_HOST))?;
                global.check().map_err(|n| refused(n, GLOBAL))?;
                Ok(())
            }
            Counters::Shared(limiter) => {
                let per_minute = self.per_minute.get();
                let cells = [
                    Cell {
                        key: format!("rl:create:ip:{ip}"),
                        per_minute,
                    },
                    Cell {
                        key: format!("rl:create:host:{host}"),
                        per_minute,
                    },
                    Cell {
                        key: "rl:create:global".into(),
                        per_minute: self.budget.get(),
                    },
                ];
                match limiter.check(&cells).await? {
                    Ok(()) => Ok(()),
                    Err(refused) => {
                        let message = [BY_IP, BY_HOST, GLOBAL][refused.cell.min(2)];
                        Err(limited(message, refused.retry_after))
                    }
                }
            }
        }
    }
}

fn limited(message: &str, wait: Duration) -> AppError {
    AppError::RateLimited {
        message: message.into(),
        retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
    }
}
