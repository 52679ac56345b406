//! Playback grant counts shared by every replica: the same fixed window per key as one replica's
//! memory, counted in Redis (one Lua script checks and counts a wallet's and an address's keys
//! atomically), so spreading grants over N replicas gives no more than one replica allows. Keys
//! name only the wallet (public) or the address: `…grant:w:<wallet>`, `…grant:ip:<address>`.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::store::redis::{unavailable, Redis};
use crate::store::{GrantCounters, StoreError};

/// KEYS: the counters. ARGV: the limit, the window (ms). When a key already counted the limit in
/// its window: the milliseconds left in it (the longest of the refusing keys), nothing counted.
/// Else counts one for every key (a key's window starts with its first count) and returns -1.
const COUNT: &str = r"
local limit = tonumber(ARGV[1])
local wait = -1
for i = 1, #KEYS do
  local n = tonumber(redis.call('GET', KEYS[i]) or 0)
  if n >= limit then
    local left = redis.call('PTTL', KEYS[i])
    if left < 0 then
      redis.call('PEXPIRE', KEYS[i], ARGV[2])
      left = tonumber(ARGV[2])
    end
    if left > wait then wait = left end
  end
end
if wait >= 0 then return wait end
for i = 1, #KEYS do
  local n = redis.call('INCR', KEYS[i])
  if n == 1 or redis.call('PTTL', KEYS[i]) < 0 then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
  end
end
return -1
";

pub struct SharedGrantCounters {
    redis: Arc<Redis>,
    script: redis::Script,
}

impl SharedGrantCounters {
    pub fn new(redis: Arc<Redis>) -> Self {
        SharedGrantCounters {
            redis,
            script: redis::Script::new(COUNT),
        }
    }
}

#[async_trait]
impl GrantCounters for SharedGrantCounters {
    async fn count(
        &self,
        keys: &[String],
        per_window: u32,
        window: Duration,
    ) -> Result<Option<Duration>, StoreError> {
        let mut invocation = self.script.prepare_invoke();
        for key in keys {
            invocation.key(self.redis.key(&format!("grant:{key}")));
        }
        invocation
            .arg(per_window)
            .arg(u64::try_from(window.as_millis()).unwrap_or(u64::MAX));
        let mut conn = self.redis.conn();
        let left_ms: i64 = invocation
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable("grant limit"))?;
        Ok((left_ms >= 0).then(|| Duration::from_millis(left_ms as u64)))
    }
}
