//! A single replica's Sign-In With Solana nonces and sessions, in process memory (moka caches
//! with the TTLs of the issued inputs and of sessions).
use std::time::Duration;

use async_trait::async_trait;
use moka::sync::Cache;

use crate::store::sign_in::{Issued, Session, SessionStore};
use crate::store::StoreError;

/// A single replica's nonces and sessions, in process memory.
pub struct MemorySessionStore {
    issued: Cache<String, Issued>,
    sessions: Cache<[u8; 32], Session>,
}

impl MemorySessionStore {
    pub fn new(issued_ttl: Duration, session_ttl: Duration) -> Self {
        MemorySessionStore {
            issued: Cache::builder()
                .time_to_live(issued_ttl)
                .max_capacity(100_000)
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
    async fn put_issued(
        &self,
        nonce: &str,
        issued: Issued,
        _ttl: Duration,
    ) -> Result<(), StoreError> {
        self.issued.insert(nonce.to_string(), issued);
        Ok(())
    }

    async fn take_issued(&self, nonce: &str) -> Result<Option<Issued>, StoreError> {
        Ok(self.issued.remove(nonce))
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
