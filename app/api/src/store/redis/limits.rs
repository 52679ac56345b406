//! Create rate limits shared by every replica: GCRA (the generic cell rate algorithm, as in
//! `redis-cell` and `governor`) in one Lua script, so the per-IP, per-host and global cells are
//! checked and spent atomically against Redis's own clock.
use std::sync::Arc;
use std::time::Duration;

use crate::store::redis::{unavailable, Redis};
use std::net::IpAddr;

use async_trait::async_trait;
use roomcast_chain::Pubkey;

use crate::store::{CreateCounters, Refused, StoreError};

/// KEYS: the cells. ARGV: per cell, the emission interval and the burst (both in microseconds /
/// cells). Spends one unit of every cell, or none. Returns `{0, 0}` when allowed, else
/// `{index of the refusing cell (1-based), microseconds until it allows}`.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local next_tats = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local next_tat = tat + interval
  local allow_at = next_tat - interval * burst
  if allow_at > now then return {i, allow_at - now} end
  next_tats[i] = next_tat
end
for i = 1, #KEYS do
  local ttl_ms = math.ceil((next_tats[i] - now) / 1000) + 1
  redis.call('SET', KEYS[i], string.format('%.0f', next_tats[i]), 'PX', ttl_ms)
end
return {0, 0}
";

/// One limited quantity: `per_minute` units, with bursts of the same size.
pub struct Cell {
    pub key: String,
    pub per_minute: u32,
}

pub struct SharedLimiter {
    redis: Arc<Redis>,
    script: redis::Script,
}

impl SharedLimiter {
    pub fn new(redis: Arc<Redis>) -> Self {
        SharedLimiter {
            redis,
            script: redis::Script::new(GCRA),
        }
    }

    /// Spends one unit of every cell if all allow it.
    pub async fn check(&self, cells: &[Cell]) -> Result<Result<(), Refused>, StoreError> {
        let mut invocation = self.script.prepare_invoke();
        for cell in cells {
            let interval_us = 60_000_000 / u64::from(cell.per_minute.max(1));
            invocation
                .key(self.redis.key(&cell.key))
                .arg(interval_us)
                .arg(cell.per_minute);
        }
        let mut conn = self.redis.conn();
        let (refused, wait_us): (usize, u64) = invocation
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable("rate limit"))?;
        Ok(if refused == 0 {
            Ok(())
        } else {
            Err(Refused {
                cell: refused - 1,
                retry_after: Duration::from_micros(wait_us),
            })
        })
    }
}

#[async_trait]
impl CreateCounters for SharedLimiter {
    async fn spend(
        &self,
        ip: IpAddr,
        host: &Pubkey,
        per_minute: u32,
        budget: u32,
    ) -> Result<Result<(), Refused>, StoreError> {
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
                per_minute: budget,
            },
        ];
        self.check(&cells).await
    }
}
