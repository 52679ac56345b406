//! Sign-In With Solana state shared by every replica: issued sign-in inputs under
//! `roomcast:{registry}:siws:nonce:{nonce}` (taken with `GETDEL`, so a nonce is redeemed once across
//! replicas) and sessions under `roomcast:{registry}:session:{hex SHA-256 of the token}` (the token
//! itself is never stored), both with TTLs. Errors fail closed (503 `shared_state_unavailable`).
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::AsyncCommands;

use super::{unavailable, Redis};
use crate::guard::sign_in::{Issued, Session, SessionStore};
use crate::store::StoreError;

pub struct RedisSessionStore {
    redis: Arc<Redis>,
}

impl RedisSessionStore {
    pub fn new(redis: Arc<Redis>) -> Self {
        RedisSessionStore { redis }
    }

    fn nonce_key(&self, nonce: &str) -> String {
        self.redis.key(&format!("siws:nonce:{nonce}"))
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
    async fn put_issued(
        &self,
        nonce: &str,
        issued: Issued,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let value = serde_json::to_string(&issued).expect("serializable");
        self.redis
            .conn()
            .set_ex::<_, _, ()>(self.nonce_key(nonce), value, ttl.as_secs().max(1))
            .await
            .map_err(unavailable("session"))
    }

    async fn take_issued(&self, nonce: &str) -> Result<Option<Issued>, StoreError> {
        let mut conn = self.redis.conn();
        let raw: Option<String> = redis::cmd("GETDEL")
            .arg(self.nonce_key(nonce))
            .query_async(&mut conn)
            .await
            .map_err(unavailable("session"))?;
        raw.map(|raw| serde_json::from_str(&raw).map_err(|_| corrupt("sign-in nonce")))
            .transpose()
    }

    async fn put_session(
        &self,
        hash: &[u8; 32],
        session: Session,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let value = serde_json::to_string(&session).expect("serializable");
        self.redis
            .conn()
            .set_ex::<_, _, ()>(self.session_key(hash), value, ttl.as_secs().max(1))
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
