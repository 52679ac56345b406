//! Redis implementations of the security stores, shared by every replica: the same `SET NX`
//! shapes as the in-memory ones, with Redis expiring the keys. Errors are
//! [`StoreError::Unavailable`]: the request fails closed.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use super::{Claim, IdempotencyStore, KeyState, ReplayStore, StoreError, StoredResponse};
use crate::shared::seal::Sealer;
use crate::shared::{unavailable, Redis};

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
        let mut conn = self.redis.conn();
        let set: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(1)
            .arg("NX")
            .arg("EX")
            .arg(ttl.as_secs().max(1))
            .query_async(&mut conn)
            .await
            .map_err(unavailable("replay"))?;
        Ok(set.is_some())
    }
}

/// What an idempotency key holds in Redis. The response is sealed (it contains the stream key).
#[derive(Serialize, Deserialize)]
struct Entry {
    fp: String,
    /// Base64 of the sealed `StoredResponse` JSON; absent while in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<String>,
}

/// Claim = `SET key in-progress NX PX lease`, answering what is there when taken (one round trip).
const CLAIM: &str = r"
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
";

/// Idempotency keys in Redis under `roomcast:{registry}:idem:{scope}:{key}`.
pub struct RedisIdempotencyStore {
    redis: Arc<Redis>,
    sealer: Sealer,
    claim: redis::Script,
}

impl RedisIdempotencyStore {
    pub fn new(redis: Arc<Redis>, sealer: Sealer) -> Self {
        RedisIdempotencyStore {
            redis,
            sealer,
            claim: redis::Script::new(CLAIM),
        }
    }

    fn key(&self, key: &str) -> String {
        self.redis.key(&format!("idem:{key}"))
    }

    fn decode(&self, redis_key: &str, raw: &str) -> Result<KeyState, StoreError> {
        let corrupt = |what: &str| StoreError::Unavailable("idempotency", what.to_string());
        let entry: Entry =
            serde_json::from_str(raw).map_err(|_| corrupt("unreadable idempotency entry"))?;
        let fingerprint: [u8; 32] = hex::decode(&entry.fp)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| corrupt("unreadable idempotency fingerprint"))?;
        let Some(sealed) = entry.sealed else {
            return Ok(KeyState::InProgress { fingerprint });
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
}

fn millis(d: Duration) -> u64 {
    (d.as_millis() as u64).max(1)
}

#[async_trait]
impl IdempotencyStore for RedisIdempotencyStore {
    async fn get(&self, key: &str) -> Result<KeyState, StoreError> {
        let key = self.key(key);
        let raw: Option<String> = self
            .redis
            .conn()
            .get(&key)
            .await
            .map_err(unavailable("idempotency"))?;
        match raw {
            None => Ok(KeyState::Free),
            Some(raw) => self.decode(&key, &raw),
        }
    }

    async fn claim(
        &self,
        key: &str,
        fingerprint: [u8; 32],
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let key = self.key(key);
        let entry = serde_json::to_string(&Entry {
            fp: hex::encode(fingerprint),
            sealed: None,
        })
        .expect("serializable");
        let mut conn = self.redis.conn();
        let current: Option<String> = self
            .claim
            .key(&key)
            .arg(entry)
            .arg(millis(lease))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable("idempotency"))?;
        match current {
            None => Ok(Claim::Acquired),
            Some(raw) => Ok(Claim::Taken(self.decode(&key, &raw)?)),
        }
    }

    async fn complete(
        &self,
        key: &str,
        fingerprint: [u8; 32],
        response: StoredResponse,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let key = self.key(key);
        let plain = serde_json::to_vec(&response).expect("serializable");
        let sealed = self.sealer.seal(&plain, key.as_bytes());
        let entry = serde_json::to_string(&Entry {
            fp: hex::encode(fingerprint),
            sealed: Some(base64::engine::general_purpose::STANDARD.encode(sealed)),
        })
        .expect("serializable");
        self.redis
            .conn()
            .pset_ex::<_, _, ()>(&key, entry, millis(ttl))
            .await
            .map_err(unavailable("idempotency"))
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        self.redis
            .conn()
            .del::<_, ()>(self.key(key))
            .await
            .map_err(unavailable("idempotency"))
    }
}
