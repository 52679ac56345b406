//! One replica's create limits, counted in process memory with `governor` (GCRA, like the Redis
//! script).
use std::net::IpAddr;
use std::num::NonZeroU32;

use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use roomcast_chain::Pubkey;

use crate::store::{CreateCounters, Refused, StoreError};

pub struct MemoryCreateCounters {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_host: DefaultKeyedRateLimiter<Pubkey>,
    /// All creates together: many IPs and hosts cannot add up to an unbounded spend.
    global: DefaultDirectRateLimiter,
}

impl MemoryCreateCounters {
    /// `per_minute` creates per IP and per host, `budget` in total (the quotas are fixed here; the
    /// numbers [`CreateCounters::spend`] is given are the same ones).
    pub fn new(per_minute: NonZeroU32, budget: NonZeroU32) -> Self {
        let quota = Quota::per_minute(per_minute);
        MemoryCreateCounters {
            per_ip: RateLimiter::keyed(quota),
            per_host: RateLimiter::keyed(quota),
            global: RateLimiter::direct(Quota::per_minute(budget)),
        }
    }
}

#[async_trait]
impl CreateCounters for MemoryCreateCounters {
    async fn spend(
        &self,
        ip: IpAddr,
        host: &Pubkey,
        _per_minute: u32,
        _budget: u32,
    ) -> Result<Result<(), Refused>, StoreError> {
        let clock = DefaultClock::default();
        let refused = |cell, not_until: governor::NotUntil<_>| Refused {
            cell,
            retry_after: not_until.wait_time_from(clock.now()),
        };
        Ok((|| {
            self.per_ip.check_key(&ip).map_err(|n| refused(0, n))?;
            self.per_host.check_key(host).map_err(|n| refused(1, n))?;
            self.global.check().map_err(|n| refused(2, n))?;
            Ok(())
        })())
    }

    /// Forgets keys whose limit has fully recovered (they would behave as new ones), so the
    /// limiter's memory follows the recent callers rather than every caller ever seen.
    fn prune(&self) {
        self.per_ip.retain_recent();
        self.per_ip.shrink_to_fit();
        self.per_host.retain_recent();
        self.per_host.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.per_ip.len() + self.per_host.len()
    }
}
