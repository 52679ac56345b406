//! Redis implementations of the security stores, shared by every replica: the same `SET NX`
//! shapes as the in-memory ones, with Redis expiring the keys. Errors are
//! [`StoreError::Unavailable`]: the request fails closed.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use crate::store::redis::seal::Sealer;
use crate::store::redis::{unavailable, Redis};
use crate::store::{
    Claim, IdempotencyStore, KeyState, LeaseToken, Progress, ReplayStore, StoreError,
    StoredResponse,
};

/// `SET roomcast:{registry}:replay:{signature} 1 NX EX ttl`.
pub struct RedisReplayStore {
    redis: Arc<Redis>,
}

impl RedisReplayStore {
    pub fn new(redis: Arc<Redis>) -> Self {
        RedisReplayStore { redis }
    }
}

#[async_trait]
impl ReplayStore for RedisReplayStore {
    async fn first_use(&self, id: &[u8; 64], ttl: Duration) -> Result<bool, StoreError> {
        let key = self.redis.key(&format!("replay:{}", hex::encode(id)));
        let mut conn = self.redis.durable();
        let set: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(1)
            .arg("NX")
            .arg("EX")
            .arg(ttl.as_secs().max(1))
            .query_async(&mut conn)
            .await
            .map_err(unavailable("replay"))?;
        if set.is_some() {
            // A promoted replica must know the signature was used before it is acted on.
            conn.replicated("replay")?;
        }
        Ok(set.is_some())
    }
}

/// What an idempotency key's entry holds in Redis. The response is sealed (it contains the stream
/// key); the progress holds nothing secret.
#[derive(Serialize, Deserialize)]
struct Entry {
    fp: String,
    /// Base64 of the sealed `StoredResponse` JSON; absent until the create completes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    progress: Option<Progress>,
}

/// Claim (KEYS: entry, lease; ARGV: fingerprint, token, lease ms, fresh entry, ttl ms): taken
/// while a lease is live, once done, or by another body; otherwise the caller gets the lease and
/// the entry (with an earlier holder's progress). One round trip, atomic.
const CLAIM: &str = r"
local entry = redis.call('GET', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 1 then return {0, entry or ''} end
if entry then
  local e = cjson.decode(entry)
  if e.sealed or e.fp ~= ARGV[1] then return {0, entry} end
else
  entry = ARGV[4]
  redis.call('SET', KEYS[1], entry, 'PX', ARGV[5])
end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return {1, entry}
";

/// Fenced write (KEYS: entry, lease; ARGV: token, entry, ttl ms, '1' to end the lease).
const FENCED_SET: &str = r"
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
if ARGV[4] == '1' then redis.call('DEL', KEYS[2]) end
return 1
";

/// Fenced renew (KEYS: lease; ARGV: token, lease ms).
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
";

/// Fenced release (KEYS: entry, lease; ARGV: token, '1' to forget the entry too).
const RELEASE: &str = r"
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
if ARGV[2] == '1' then redis.call('DEL', KEYS[1]) end
return 1
";

/// Flight hold (KEYS: flight, flight lease; ARGV: lease ms, ttl ms): refused once doomed.
const HOLD_FLIGHT: &str = r"
if redis.call('HGET', KEYS[1], 'doomed') == '1' then return 0 end
redis.call('HSET', KEYS[1], 'held', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return 1
";

/// Flight about to send `create_room` (KEYS: flight; ARGV: last valid block height, ttl ms).
const FLIGHT_SENT: &str = r"
if redis.call('HGET', KEYS[1], 'doomed') == '1' then return 0 end
redis.call('HSET', KEYS[1], 'sent', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
";

/// The reconciler's doom (KEYS: flight, flight lease; ARGV: block height, ttl ms): refused while
/// the lease lives or the sent transaction is valid at that height.
const DOOM_FLIGHT: &str = r"
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local sent = redis.call('HGET', KEYS[1], 'sent')
if sent and tonumber(sent) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'doomed', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
";

/// Idempotency keys in Redis: the entry under `roomcast:{registry}:idem:{scope}:{key}` (24 h), the
/// holder's lease under `roomcast:{registry}:idem-lease:{scope}:{key}` (seconds, renewed).
pub struct RedisIdempotencyStore {
    redis: Arc<Redis>,
    sealer: Sealer,
    claim: redis::Script,
    fenced_set: redis::Script,
    renew: redis::Script,
    release: redis::Script,
    hold_flight: redis::Script,
    flight_sent: redis::Script,
    doom_flight: redis::Script,
}

impl RedisIdempotencyStore {
    pub fn new(redis: Arc<Redis>, sealer: Sealer) -> Self {
        RedisIdempotencyStore {
            redis,
            sealer,
            claim: redis::Script::new(CLAIM),
            fenced_set: redis::Script::new(FENCED_SET),
            renew: redis::Script::new(RENEW),
            release: redis::Script::new(RELEASE),
            hold_flight: redis::Script::new(HOLD_FLIGHT),
            flight_sent: redis::Script::new(FLIGHT_SENT),
            doom_flight: redis::Script::new(DOOM_FLIGHT),
        }
    }

    /// `roomcast:{registry}:flight:{id}` (hash: `sent`, `doomed`) and its lease
    /// `roomcast:{registry}:flight-lease:{id}`.
    fn flight_keys(&self, flight: &str) -> (String, String) {
        (
            self.redis.key(&format!("flight:{flight}")),
            self.redis.key(&format!("flight-lease:{flight}")),
        )
    }

    fn key(&self, key: &str) -> String {
        self.redis.key(&format!("idem:{key}"))
    }

    fn lease_key(&self, key: &str) -> String {
        self.redis.key(&format!("idem-lease:{key}"))
    }

    fn parse(raw: &str) -> Result<(Entry, [u8; 32]), StoreError> {
        let entry: Entry =
            serde_json::from_str(raw).map_err(|_| corrupt("unreadable idempotency entry"))?;
        let fingerprint: [u8; 32] = hex::decode(&entry.fp)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| corrupt("unreadable idempotency fingerprint"))?;
        Ok((entry, fingerprint))
    }

    /// The state of an entry; `leased`: a holder's lease is live.
    fn decode(&self, redis_key: &str, raw: &str, leased: bool) -> Result<KeyState, StoreError> {
        let (entry, fingerprint) = Self::parse(raw)?;
        let Some(sealed) = entry.sealed else {
            return Ok(if leased {
                KeyState::InProgress { fingerprint }
            } else {
                KeyState::Free
            });
        };
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| corrupt("unreadable stored response"))?;
        let plain = self
            .sealer
            .open(&sealed, redis_key.as_bytes())
            .map_err(|e| corrupt(&e.to_string()))?;
        let response: StoredResponse =
            serde_json::from_slice(&plain).map_err(|_| corrupt("unreadable stored response"))?;
        Ok(KeyState::Done {
            fingerprint,
            response,
        })
    }

    async fn fenced_set(
        &self,
        key: &str,
        token: &LeaseToken,
        entry: &Entry,
        ttl: Duration,
        end_lease: bool,
    ) -> Result<bool, StoreError> {
        let entry = serde_json::to_string(entry).expect("serializable");
        let mut conn = self.redis.durable();
        let done: i64 = self
            .fenced_set
            .key(self.key(key))
            .key(self.lease_key(key))
            .arg(&token.0)
            .arg(entry)
            .arg(millis(ttl))
            .arg(if end_lease { "1" } else { "0" })
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable("idempotency"))?;
        if done == 1 {
            conn.replicated("idempotency")?;
        }
        Ok(done == 1)
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Unavailable("idempotency", what.to_string())
}

fn millis(d: Duration) -> u64 {
    (d.as_millis() as u64).max(1)
}

#[async_trait]
impl IdempotencyStore for RedisIdempotencyStore {
    async fn get(&self, key: &str) -> Result<KeyState, StoreError> {
        let (entry_key, lease_key) = (self.key(key), self.lease_key(key));
        let (raw, leased): (Option<String>, bool) = redis::pipe()
            .get(&entry_key)
            .exists(&lease_key)
            .query_async(&mut self.redis.conn())
            .await
            .map_err(unavailable("idempotency"))?;
        match raw {
            None => Ok(KeyState::Free),
            Some(raw) => self.decode(&entry_key, &raw, leased),
        }
    }

    async fn claim(
        &self,
        key: &str,
        fingerprint: [u8; 32],
        lease: Duration,
        ttl: Duration,
    ) -> Result<Claim, StoreError> {
        let entry_key = self.key(key);
        let fresh = serde_json::to_string(&Entry {
            fp: hex::encode(fingerprint),
            sealed: None,
            progress: None,
        })
        .expect("serializable");
        let token = LeaseToken::random();
        let mut conn = self.redis.durable();
        let (acquired, raw): (i64, String) = self
            .claim
            .key(&entry_key)
            .key(self.lease_key(key))
            .arg(hex::encode(fingerprint))
            .arg(&token.0)
            .arg(millis(lease))
            .arg(fresh)
            .arg(millis(ttl))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable("idempotency"))?;
        if acquired == 1 {
            let (entry, _) = Self::parse(&raw)?;
            // The claim must survive a failover before the create acts on it. When it cannot be
            // replicated, the create does not run: its lease is given back at once (best effort),
            // so a retry after the failover window is not held off by it for the lease's length.
            if let Err(e) = conn.replicated("idempotency") {
                let _ = self.release(key, &token, entry.progress.is_none()).await;
                return Err(e);
            }
            return Ok(Claim::Acquired {
                token,
                progress: entry.progress.unwrap_or_default(),
            });
        }
        if raw.is_empty() {
            // A lease without its entry (cannot be written so; say "in progress").
            return Ok(Claim::Taken(KeyState::InProgress { fingerprint }));
        }
        let (entry, other) = Self::parse(&raw)?;
        if entry.sealed.is_none() {
            return Ok(Claim::Taken(KeyState::InProgress { fingerprint: other }));
        }
        Ok(Claim::Taken(self.decode(&entry_key, &raw, false)?))
    }

    async fn renew(
        &self,
        key: &str,
        token: &LeaseToken,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let mut conn = self.redis.conn();
        let done: i64 = self
            .renew
            .key(self.lease_key(key))
            .arg(&token.0)
            .arg(millis(lease))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable("idempotency"))?;
        Ok(done == 1)
    }

    async fn record(
        &self,
        key: &str,
        token: &LeaseToken,
        progress: &Progress,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        // The fingerprint is rewritten as claimed: only the holder (same body) gets here.
        let raw: Option<String> = self
            .redis
            .conn()
            .get(self.key(key))
            .await
            .map_err(unavailable("idempotency"))?;
        let Some(raw) = raw else { return Ok(false) };
        let (entry, _) = Self::parse(&raw)?;
        let entry = Entry {
            progress: Some(progress.clone()),
            ..entry
        };
        self.fenced_set(key, token, &entry, ttl, false).await
    }

    async fn complete(
        &self,
        key: &str,
        token: &LeaseToken,
        response: StoredResponse,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let raw: Option<String> = self
            .redis
            .conn()
            .get(self.key(key))
            .await
            .map_err(unavailable("idempotency"))?;
        let Some(raw) = raw else { return Ok(false) };
        let (entry, _) = Self::parse(&raw)?;
        let plain = serde_json::to_vec(&response).expect("serializable");
        let sealed = self.sealer.seal(&plain, self.key(key).as_bytes());
        let entry = Entry {
            fp: entry.fp,
            sealed: Some(base64::engine::general_purpose::STANDARD.encode(sealed)),
            progress: None,
        };
        self.fenced_set(key, token, &entry, ttl, true).await
    }

    async fn release(
        &self,
        key: &str,
        token: &LeaseToken,
        forget: bool,
    ) -> Result<bool, StoreError> {
        let mut conn = self.redis.conn();
        let done: i64 = self
            .release
            .key(self.key(key))
            .key(self.lease_key(key))
            .arg(&token.0)
            .arg(if forget { "1" } else { "0" })
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable("idempotency"))?;
        Ok(done == 1)
    }

    async fn hold_flight(
        &self,
        flight: &str,
        lease: Duration,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let (marker, lease_key) = self.flight_keys(flight);
        let mut conn = self.redis.durable();
        let done: i64 = self
            .hold_flight
            .key(marker)
            .key(lease_key)
            .arg(millis(lease))
            .arg(millis(ttl))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable("in-flight"))?;
        if done == 1 {
            conn.replicated("in-flight")?;
        }
        Ok(done == 1)
    }

    async fn flight_sent(
        &self,
        flight: &str,
        last_valid_block_height: u64,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let (marker, _) = self.flight_keys(flight);
        let mut conn = self.redis.durable();
        let done: i64 = self
            .flight_sent
            .key(marker)
            .arg(last_valid_block_height)
            .arg(millis(ttl))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable("in-flight"))?;
        if done == 1 {
            conn.replicated("in-flight")?;
        }
        Ok(done == 1)
    }

    async fn release_flight(&self, flight: &str, forget: bool) -> Result<(), StoreError> {
        let (marker, lease_key) = self.flight_keys(flight);
        let mut pipe = redis::pipe();
        pipe.del(lease_key).ignore();
        if forget {
            pipe.del(marker).ignore();
        }
        pipe.query_async::<()>(&mut self.redis.conn())
            .await
            .map_err(unavailable("in-flight"))
    }

    async fn doom_flight(
        &self,
        flight: &str,
        block_height: u64,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let (marker, lease_key) = self.flight_keys(flight);
        let mut conn = self.redis.durable();
        let done: i64 = self
            .doom_flight
            .key(marker)
            .key(lease_key)
            .arg(block_height)
            .arg(millis(ttl))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable("in-flight"))?;
        if done == 1 {
            conn.replicated("in-flight")?;
        }
        Ok(done == 1)
    }
}
