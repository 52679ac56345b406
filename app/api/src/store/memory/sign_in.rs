//! A single replica's spent Sign-In With Solana nonces and sessions, in process memory (moka
//! caches with the TTLs of sign-in messages and of sessions). Issuing a nonce stores nothing; a
//! nonce is marked spent when a sign-in names it, so the set grows only with sign-in attempts.
use std::time::Duration;

use async_trait::async_trait;
use moka::sync::Cache;

use crate::store::sign_in::{Session, SessionStore};
use crate::store::StoreError;

/// A single replica's nonces and sessions, in process memory.
pub struct MemorySessionStore {
    /// Spent nonces, each kept until its sign-in message has expired anyway.
    spent: Cache<String, ()>,
    sessions: Cache<[u8; 32], Session>,
}

impl MemorySessionStore {
    pub fn new(spent_ttl: Duration, session_ttl: Duration) -> Self {
        MemorySessionStore {
            spent: Cache::builder()
                .time_to_live(spent_ttl)
                .max_capacity(1_000_000)
                .build(),
            sessions: Cache::builder()
                .time_to_live(session_ttl)
                .max_capacity(1_000_000)
                .build(),
        }
    }
}

#[async_trait]
impl SessionStore for MemorySessionStore {
    async fn spend_nonce(&self, nonce: &str, _ttl: Duration) -> Result<bool, StoreError> {
        Ok(self.spent.entry(nonce.to_string()).or_insert(()).is_fresh())
    }

    async fn put_session(
        &self,
        hash: &[u8; 32],
        session: Session,
        _ttl: Duration,
    ) -> Result<(), StoreError> {
        self.sessions.insert(*hash, session);
        Ok(())
    }

    async fn get_session(&self, hash: &[u8; 32]) -> Result<Option<Session>, StoreError> {
        Ok(self.sessions.get(hash))
    }

    async fn remove_session(&self, hash: &[u8; 32]) -> Result<(), StoreError> {
        self.sessions.invalidate(hash);
        Ok(())
    }
}
