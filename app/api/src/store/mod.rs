//! Security stores behind small async traits, shaped like Redis `SET key NX EX ttl` so a shared
//! implementation can replace the in-memory one. Every store **fails closed**: when it cannot record
//! an entry it says so ([`StoreError::Full`]) and the request is refused with 503, instead of silently
//! forgetting (which would turn replay protection or idempotency off under a flood).
mod memory;
mod redis;

use std::time::Duration;

use async_trait::async_trait;
use axum::http::StatusCode;

pub use memory::{BoundedTtlMap, MemoryIdempotencyStore, MemoryReplayStore};
pub use redis::{RedisIdempotencyStore, RedisReplayStore};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Every slot holds a live entry; nothing was stored.
    #[error("the {0} store is full")]
    Full(&'static str),
    /// The store could not be reached (shared stores).
    #[error("the {0} store is unavailable: {1}")]
    Unavailable(&'static str, String),
}

/// Signed requests already accepted, kept while their timestamp is within the skew window.
#[async_trait]
pub trait ReplayStore: Send + Sync {
    /// Records `id` for `ttl` if it is new (`SET id 1 NX EX ttl`). `Ok(true)`: first use;
    /// `Ok(false)`: seen before (a replay).
    async fn first_use(&self, id: &[u8; 64], ttl: Duration) -> Result<bool, StoreError>;
}

/// A finished response, replayed verbatim to retries with the same `Idempotency-Key`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub body: serde_json::Value,
}

impl StoredResponse {
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK)
    }
}

/// The state of an idempotency key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// Nobody holds the key.
    Free,
    /// A request with this key is being processed (a lease).
    InProgress { fingerprint: [u8; 32] },
    /// A request with this key finished with this response.
    Done {
        fingerprint: [u8; 32],
        response: StoredResponse,
    },
}

/// What a claim found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The caller now holds the lease and must `complete` or `release` it.
    Acquired,
    /// Someone else holds it (or held it and finished): see the state.
    Taken(KeyState),
}

/// `Idempotency-Key` outcomes. A claim is a lease (`SET key in-progress NX EX lease`) that the work
/// owning it turns into the stored response (`complete`) or gives back (`release`).
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    async fn get(&self, key: &str) -> Result<KeyState, StoreError>;
    async fn claim(
        &self,
        key: &str,
        fingerprint: [u8; 32],
        lease: Duration,
    ) -> Result<Claim, StoreError>;
    async fn complete(
        &self,
        key: &str,
        fingerprint: [u8; 32],
        response: StoredResponse,
        ttl: Duration,
    ) -> Result<(), StoreError>;
    async fn release(&self, key: &str) -> Result<(), StoreError>;
}
