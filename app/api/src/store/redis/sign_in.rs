//! Sign-In With Solana state shared by every replica: spent nonces under
//! `roomcast:{registry}:siws:spent:{nonce}` (`SET NX EX`, so a nonce is redeemed once across
//! replicas; written per sign-in attempt, never per nonce issued, and expiring with the message —
//! nothing walks them with SCAN) and sessions under `roomcast:{registry}:session:{hex SHA-256 of the token}` (the token
//! itself is never stored), both with TTLs. Errors fail closed (503 `shared_state_unavailable`).
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::AsyncCommands;

use super::{unavailable, Redis};
use crate::guard::sign_in::{Session, SessionStore};
use crate::store::StoreError;

pub struct RedisSessionStore {
    redis: Arc<Redis>,
}

impl RedisSessionStore {
    pub fn new(redis: Arc<Redis>) -> Self {
        RedisSessionStore { redis }
    }

    fn spent_key(&self, nonce: &str) -> String {
        self.redis.key(&format!("siws:spent:{nonce}"))
    }

    fn session_key(&self, hash: &[u8; 32]) -> String {
        self.redis.key(&format!("session:{}", hex::encode(hash)))
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Unavailable("session", format!("unreadable {what}"))
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn spend_nonce(&self, nonce: &str, ttl: Duration) -> Result<bool, StoreError> {
        let mut conn = self.redis.durable();
        let set: Option<String> = redis::cmd("SET")
            .arg(self.spent_key(nonce))
            .arg(1)
            .arg("NX")
            .arg("EX")
            .arg(ttl.as_secs().max(1))
            .query_async(&mut conn)
            .await
            .map_err(unavailable("session"))?;
        if set.is_some() {
            conn.replicated("session")?;
        }
        Ok(set.is_some())
    }

    async fn put_session(
        &self,
        hash: &[u8; 32],
        session: Session,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let value = serde_json::to_string(&session).expect("serializable");
        // `SET … EX` rather than `SETEX`: one command fewer for the ACL user.
        redis::cmd("SET")
            .arg(self.session_key(hash))
            .arg(value)
            .arg("EX")
            .arg(ttl.as_secs().max(1))
            .query_async::<()>(&mut self.redis.conn())
            .await
            .map_err(unavailable("session"))
    }

    async fn get_session(&self, hash: &[u8; 32]) -> Result<Option<Session>, StoreError> {
        let raw: Option<String> = self
            .redis
            .conn()
            .get(self.session_key(hash))
            .await
            .map_err(unavailable("session"))?;
        raw.map(|raw| serde_json::from_str(&raw).map_err(|_| corrupt("session")))
            .transpose()
    }

    async fn remove_session(&self, hash: &[u8; 32]) -> Result<(), StoreError> {
        self.redis
            .conn()
            .del::<_, ()>(self.session_key(hash))
            .await
            .map_err(unavailable("session"))
    }
}
