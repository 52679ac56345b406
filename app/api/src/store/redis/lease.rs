//! The reconciler's lease: with several replicas, exactly one reconciles at a time. The lease is
//! `SET roomcast:{registry}:reconciler <replica>:<token> NX PX <ttl>`, renewed by its holder (only
//! while the value is still its own), released on shutdown, and taken over by another replica
//! once the holder stops renewing (e.g. it died) and the key expires. Every acquisition takes a
//! new fencing token from a counter (`…:reconciler:fence`, kept 30 days after the last
//! acquisition — tokens only need to grow across live leases): a holder that lost the lease — its
//! renewal found another token — stops before its next pass; it never starts a pass unless its
//! last renewal is younger than the lease, and a pass makes no change (ending, disabling,
//! deleting) after the lease it started under may have run out (the loop that does so:
//! `jobs::leader`).
use std::sync::Arc;
use std::time::Duration;

use crate::store::redis::{unavailable, Redis};
use crate::store::StoreError;

/// ARGV: replica, ttl ms, our current token (or ""). Returns the token held, or 0 when another
/// replica holds the lease.
const ACQUIRE_OR_RENEW: &str = r"
local current = redis.call('GET', KEYS[1])
if ARGV[3] ~= '' and current == ARGV[1] .. ':' .. ARGV[3] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(ARGV[3])
end
if current then return 0 end
local token = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], 2592000)
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
return token
";

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

pub struct Lease {
    redis: Arc<Redis>,
    key: String,
    fence: String,
    ttl: Duration,
    acquire: redis::Script,
    release: redis::Script,
}

impl Lease {
    pub fn new(redis: Arc<Redis>, ttl: Duration) -> Lease {
        Lease {
            key: redis.key("reconciler"),
            fence: redis.key("reconciler:fence"),
            redis,
            ttl,
            acquire: redis::Script::new(ACQUIRE_OR_RENEW),
            release: redis::Script::new(RELEASE),
        }
    }

    /// Renews `held` if it is still ours, or takes the lease if it is free. `Some(token)` while
    /// this replica holds it.
    pub async fn acquire_or_renew(&self, held: Option<u64>) -> Result<Option<u64>, StoreError> {
        let mut conn = self.redis.durable();
        let token: u64 = self
            .acquire
            .key(&self.key)
            .key(&self.fence)
            .arg(&self.redis.replica)
            .arg(self.ttl.as_millis() as u64)
            .arg(held.map(|t| t.to_string()).unwrap_or_default())
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable("lease"))?;
        if token != 0 && held != Some(token) {
            // A new holder: a promoted replica must not hand the lease to a second one.
            conn.replicated("lease")?;
        }
        Ok((token != 0).then_some(token))
    }

    /// Gives the lease up (only if `token` still holds it).
    pub async fn release(&self, token: u64) -> Result<(), StoreError> {
        let mut conn = self.redis.conn();
        self.release
            .key(&self.key)
            .arg(format!("{}:{token}", self.redis.replica))
            .invoke_async::<i64>(&mut conn)
            .await
            .map(|_| ())
            .map_err(unavailable("lease"))
    }
}

/// The lease period for a reconciler running every `interval`.
pub fn lease_ttl(interval: Duration) -> Duration {
    (interval * 3).max(Duration::from_secs(3))
}
