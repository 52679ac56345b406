//! `Idempotency-Key` for `POST /api/create`: a retried request returns the first one's response and
//! never creates a second room. Keys are scoped to the caller and kept for 24 hours.
//!
//! The outcome belongs to the create task, not to the HTTP handler: the task completes (or releases)
//! the key when the create finishes, even if the request already timed out or the client went away.
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::error::AppError;
use crate::store::{KeyState, StoreError};

pub const MAX_KEY_LEN: usize = 255;

/// The store key for `key` used by `principal` (keys of different callers never collide).
pub fn scoped_key(principal: &Principal, key: &str) -> Result<String, AppError> {
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::bad_request(
            "invalid_idempotency_key",
            format!("Idempotency-Key must be 1..={MAX_KEY_LEN} printable ASCII characters"),
        ));
    }
    Ok(match principal {
        Principal::Operator => format!("operator:{key}"),
        Principal::Host(wallet) => format!("{wallet}:{key}"),
    })
}

pub fn fingerprint(body: &[u8]) -> [u8; 32] {
    Sha256::digest(body).into()
}

/// The answer for a key someone already holds: 409 in progress, 409 reused with another body, or
/// the stored response.
pub fn taken(
    state: KeyState,
    fingerprint: [u8; 32],
) -> Result<Option<crate::store::StoredResponse>, AppError> {
    match state {
        KeyState::Free => Ok(None),
        KeyState::InProgress { fingerprint: f } | KeyState::Done { fingerprint: f, .. }
            if f != fingerprint =>
        {
            Err(reused())
        }
        KeyState::InProgress { .. } => Err(AppError::Conflict {
            code: "idempotency_key_in_progress",
            message: "a request with this Idempotency-Key is still in progress; retry shortly"
                .into(),
        }),
        KeyState::Done { response, .. } => Ok(Some(response)),
    }
}

fn reused() -> AppError {
    AppError::Conflict {
        code: "idempotency_key_reused",
        message: "this Idempotency-Key was already used with a different request body".into(),
    }
}

/// A store that cannot record is a 503: the request is refused rather than left unprotected.
pub fn store_error(err: StoreError) -> AppError {
    if let StoreError::Unavailable(..) = err {
        return crate::shared::shared_state_unavailable(err);
    }
    tracing::warn!(error = %err, "security store refused");
    let code = match err {
        StoreError::Full("replay") => "replay_store_full",
        StoreError::Full(_) => "idempotency_store_full",
        StoreError::Unavailable(..) => unreachable!("answered above"),
    };
    AppError::Unavailable {
        code,
        message: "the server is too busy to accept this request safely; try again later".into(),
    }
}
