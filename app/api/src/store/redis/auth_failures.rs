//! Failed authentications per client address, counted by every replica together: spreading
//! guesses over N replicas gives no more attempts than one replica allows.
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::store::redis::{unavailable, Redis};
use async_trait::async_trait;

use crate::store::{AuthFailureCounts, StoreError};

/// KEYS: the address's counter. ARGV: the window (ms). Counts one failure; the window starts
/// with the first one (the same fixed window as one replica's memory).
const COUNT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
";

/// KEYS: the address's counter. ARGV: the limit. The milliseconds left in the window when the
/// address used up its failures, else -1.
const CHECK: &str = r"
local n = tonumber(redis.call('GET', KEYS[1]) or 0)
if n < tonumber(ARGV[1]) then return -1 end
return redis.call('PTTL', KEYS[1])
";

pub struct SharedAuthFailures {
    redis: Arc<Redis>,
    count: redis::Script,
    check: redis::Script,
}

impl SharedAuthFailures {
    pub fn new(redis: Arc<Redis>) -> Self {
        SharedAuthFailures {
            redis,
            count: redis::Script::new(COUNT),
            check: redis::Script::new(CHECK),
        }
    }

    fn key(&self, address: &str) -> String {
        self.redis.key(&format!("auth-fail:{address}"))
    }

    /// How long `address` must still wait, if it used up `max` failures.
    pub async fn blocked(&self, address: &str, max: u32) -> Result<Option<Duration>, StoreError> {
        let mut conn = self.redis.conn();
        let left_ms: i64 = self
            .check
            .key(self.key(address))
            .arg(max)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable("auth failures"))?;
        // -2: expired between GET and PTTL; -1 from the script: not blocked.
        Ok((left_ms >= 0).then(|| Duration::from_millis(left_ms as u64)))
    }

    /// Counts one failure of `address` in a window of `window`.
    pub async fn failed(&self, address: &str, window: Duration) -> Result<u64, StoreError> {
        let mut conn = self.redis.conn();
        self.count
            .key(self.key(address))
            .arg(window.as_millis() as u64)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable("auth failures"))
    }
}

#[async_trait]
impl AuthFailureCounts for SharedAuthFailures {
    async fn blocked(
        &self,
        ip: IpAddr,
        max: u32,
        _window: Duration,
    ) -> Result<Option<Duration>, StoreError> {
        SharedAuthFailures::blocked(self, &ip.to_string(), max).await
    }

    async fn failed(&self, ip: IpAddr, window: Duration) -> Result<(), StoreError> {
        SharedAuthFailures::failed(self, &ip.to_string(), window)
            .await
            .map(|_| ())
    }
}
