//! `Idempotency-Key` for `POST /api/create`: a retried request returns the first one's response and
//! never creates a second room. Keys are scoped to the caller and kept for 24 hours (in memory).
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use moka::sync::Cache;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::auth::Principal;
use crate::error::AppError;

/// A finished response, replayed verbatim.
#[derive(Clone)]
pub struct StoredResponse {
    pub status: StatusCode,
    pub body: serde_json::Value,
}

#[derive(Clone)]
struct Slot {
    /// Hash of the request body the key was first used with.
    fingerprint: [u8; 32],
    result: Arc<Mutex<Option<StoredResponse>>>,
}

pub struct IdempotencyStore {
    slots: Cache<String, Slot>,
}

pub const MAX_KEY_LEN: usize = 255;

fn slot_key(principal: &Principal, key: &str) -> String {
    match principal {
        Principal::Operator => format!("operator:{key}"),
        Principal::Host(wallet) => format!("{wallet}:{key}"),
    }
}

impl IdempotencyStore {
    pub fn new(ttl: Duration) -> Self {
        IdempotencyStore {
            slots: Cache::builder()
                .time_to_live(ttl)
                .max_capacity(1_000_000)
                .build(),
        }
    }

    /// Claims `key` for this caller and body. Returns a guard holding the slot's lock: either with a
    /// stored response to replay, or empty, in which case the caller does the work and stores it.
    pub async fn claim(
        &self,
        principal: &Principal,
        key: &str,
        body: &[u8],
    ) -> Result<tokio::sync::OwnedMutexGuard<Option<StoredResponse>>, AppError> {
        if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::bad_request(
                "invalid_idempotency_key",
                format!("Idempotency-Key must be 1..={MAX_KEY_LEN} printable ASCII characters"),
            ));
        }
        let fingerprint: [u8; 32] = Sha256::digest(body).into();
        let slot = self
            .slots
            .entry(slot_key(principal, key))
            .or_insert_with(|| Slot {
                fingerprint,
                result: Arc::new(Mutex::new(None)),
            })
            .into_value();
        if slot.fingerprint != fingerprint {
            return Err(AppError::Conflict {
                code: "idempotency_key_reused",
                message: "this Idempotency-Key was already used with a different request body"
                    .into(),
            });
        }
        slot.result
            .try_lock_owned()
            .map_err(|_| AppError::Conflict {
                code: "idempotency_key_in_progress",
                message: "a request with this Idempotency-Key is still in progress; retry shortly"
                    .into(),
            })
    }

    /// Frees a key whose request failed, so it can be used again (with any body). Call while
    /// holding the claim's guard.
    pub fn release(&self, principal: &Principal, key: &str) {
        self.slots.invalidate(&slot_key(principal, key));
    }
}
