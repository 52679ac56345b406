//! The registrar's balance floor for every replica at once: the last read balance and every
//! create's reservation live in Redis, and one Lua script reserves or refuses atomically, so all
//! replicas together never admit more creates than the balance above the floor pays for.
use std::sync::Arc;
use std::time::Duration;

use crate::store::redis::{unavailable, Redis};
use async_trait::async_trait;

use crate::core::error::AppError;
use crate::store::{BalanceRead, FundsLedger, FundsPolicy, StoreError};

/// KEYS: the balance snapshot (`<lamports>:<read start, µs>`), the reservations (sorted set of
/// `<cost>:<id>` scored by when they were made, µs). ARGV: floor, cost, id, window (µs), snapshot
/// TTL (ms), and optionally a fresh read: balance, read start (µs).
///
/// A reservation counts against every snapshot read less than `window` after it was made (its
/// create may not have landed when the balance was read). Returns `{-1, now}` when there is no
/// snapshot (read the balance, starting now, and call again with it), `{0, available}` when
/// refused, `{1, available after this}` when reserved.
const RESERVE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[4])
local ttl_ms = tonumber(ARGV[5])
if ARGV[6] then
  local current = redis.call('GET', KEYS[1])
  local older = true
  if current then
    older = tonumber(string.match(current, ':(%d+)$')) < tonumber(ARGV[7])
  end
  if older then
    redis.call('SET', KEYS[1], ARGV[6] .. ':' .. ARGV[7], 'PX', ttl_ms)
  end
end
local snapshot = redis.call('GET', KEYS[1])
if not snapshot then return {-1, now} end
local balance, read_at = string.match(snapshot, '^(%d+):(%d+)$')
balance = tonumber(balance)
read_at = tonumber(read_at)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('(%.0f', now - window - ttl_ms * 1000))
local held = 0
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], string.format('%.0f', read_at - window), '+inf')) do
  held = held + tonumber(string.match(m, '^(%d+):'))
end
local cost = tonumber(ARGV[2])
local available = balance - held
if available - cost < tonumber(ARGV[1]) then return {0, available} end
redis.call('ZADD', KEYS[2], string.format('%.0f', now), ARGV[2] .. ':' .. ARGV[3])
redis.call('PEXPIRE', KEYS[2], math.ceil(window / 1000) + ttl_ms)
return {1, available - cost}
";

/// What the script decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Reserve {
    /// No recent balance: read it (the read started at this Redis time) and call again.
    NeedBalance {
        read_at_us: u64,
    },
    /// Refused: this is what the registrar has left above nothing, less the reservations.
    Refused {
        available: i64,
    },
    Reserved,
}

/// A fresh balance read to store with the reservation.
pub struct Read {
    pub lamports: u64,
    pub read_at_us: u64,
}

pub struct SharedFunds {
    redis: Arc<Redis>,
    script: redis::Script,
}

impl SharedFunds {
    pub fn new(redis: Arc<Redis>) -> Self {
        SharedFunds {
            redis,
            script: redis::Script::new(RESERVE),
        }
    }

    /// Reserves `cost` unless the registrar would drop below `floor`, against the snapshot in
    /// Redis (replaced by `read` when that is newer).
    pub async fn reserve(
        &self,
        floor: u64,
        cost: u64,
        window: Duration,
        ttl: Duration,
        read: Option<Read>,
    ) -> Result<Reserve, StoreError> {
        let mut id = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut id);
        let mut invocation = self.script.prepare_invoke();
        invocation
            .key(self.redis.key("funds:balance"))
            .key(self.redis.key("funds:reserved"))
            .arg(floor)
            .arg(cost)
            .arg(hex::encode(id))
            .arg(window.as_micros() as u64)
            .arg(ttl.as_millis() as u64);
        if let Some(read) = read {
            invocation.arg(read.lamports).arg(read.read_at_us);
        }
        let mut conn = self.redis.conn();
        let (outcome, value): (i64, i64) = invocation
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable("registrar funds"))?;
        Ok(match outcome {
            -1 => Reserve::NeedBalance {
                read_at_us: value.max(0) as u64,
            },
            0 => Reserve::Refused { available: value },
            _ => Reserve::Reserved,
        })
    }
}

#[async_trait]
impl FundsLedger for SharedFunds {
    /// Reserve-or-refuse in Redis; reads the balance only when no replica did for the policy's
    /// `balance_ttl`. Redis unreachable → 503 `shared_state_unavailable` (fail closed).
    async fn reserve(
        &self,
        floor: u64,
        cost: u64,
        policy: FundsPolicy,
        read: BalanceRead<'_>,
    ) -> Result<bool, AppError> {
        let reserve = |fresh| {
            SharedFunds::reserve(
                self,
                floor,
                cost,
                policy.lands_within,
                policy.balance_ttl,
                fresh,
            )
        };
        let mut outcome = reserve(None).await?;
        if let Reserve::NeedBalance { read_at_us } = outcome {
            let lamports = read().await?;
            outcome = reserve(Some(Read {
                lamports,
                read_at_us,
            }))
            .await?;
        }
        match outcome {
            Reserve::Reserved => Ok(true),
            Reserve::Refused { available } => {
                tracing::warn!(available, floor, "registrar reservation refused");
                Ok(false)
            }
            // The fresh read was stored a moment ago; only a Redis without the key (evicted,
            // flushed) gets here: refuse rather than guess.
            Reserve::NeedBalance { .. } => Err(AppError::from(StoreError::Unavailable(
                "registrar funds",
                "the balance snapshot vanished".into(),
            ))),
        }
    }
}
