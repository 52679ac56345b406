//! `Idempotency-Key` for `POST /api/create`: a retried request returns the first one's response and
//! never creates a second room. Keys are scoped to the caller and kept for 24 hours.
//!
//! The outcome belongs to the create task, not to the HTTP handler: the task completes (or releases)
//! the key when the create finishes, even if the request already timed out or the client went away.
//! The task holds a short lease it keeps renewing and writes down each step before taking it
//! ([`Journal`]), so when its process dies the key is taken over within seconds and the create is
//! finished, not redone.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::core::error::AppError;
use crate::guard::auth::Principal;
use crate::rooms::renewals::Renewals;
use crate::store::{IdempotencyStore, KeyState, LeaseToken, Progress, StoreError, StoredResponse};

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
        KeyState::InProgress { .. } => Err(in_progress()),
        KeyState::Done { response, .. } => Ok(Some(response)),
    }
}

fn reused() -> AppError {
    AppError::Conflict {
        code: "idempotency_key_reused",
        message: "this Idempotency-Key was already used with a different request body".into(),
    }
}

pub use crate::rooms::renewals::{LEASE, RENEW_EVERY};

/// A create task's hold on its `Idempotency-Key`: it writes down each step before taking it, keeps
/// the lease alive, and ends with the response or a release. Every write is fenced on the lease
/// token, so once the lease is lost (the holder was presumed dead and the key taken over) nothing
/// this holder writes lands.
pub struct Journal {
    store: Arc<dyn IdempotencyStore>,
    key: String,
    token: LeaseToken,
    ttl: Duration,
    progress: Mutex<Progress>,
    /// Completed or released: later calls do nothing.
    settled: AtomicBool,
}

impl Journal {
    /// `progress`: what an earlier holder had done (the create resumes from there).
    pub fn new(
        store: Arc<dyn IdempotencyStore>,
        key: String,
        token: LeaseToken,
        progress: Progress,
        ttl: Duration,
    ) -> Journal {
        Journal {
            store,
            key,
            token,
            ttl,
            progress: Mutex::new(progress),
            settled: AtomicBool::new(false),
        }
    }

    /// What has been written down so far.
    pub fn progress(&self) -> Progress {
        self.progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Writes `progress` down; the caller takes its next irreversible step only on `Ok`.
    pub async fn record(&self, progress: Progress) -> Result<(), AppError> {
        match self
            .store
            .record(&self.key, &self.token, &progress, self.ttl)
            .await
        {
            Ok(true) => {
                *self.progress.lock().unwrap_or_else(|p| p.into_inner()) = progress;
                Ok(())
            }
            Ok(false) => Err(in_progress()),
            Err(e) => Err(e.into()),
        }
    }

    /// Stores the response for every retry.
    pub async fn complete(&self, response: StoredResponse) -> bool {
        if self.settled.swap(true, Ordering::SeqCst) {
            return false;
        }
        self.settle(
            self.store
                .complete(&self.key, &self.token, response, self.ttl)
                .await,
        )
    }

    /// Gives the key back. `forget`: nothing of the create is left, the key is free again;
    /// otherwise its progress stays for the next claim to resume. `true` if this holder still held
    /// it (only then may it undo what it did).
    pub async fn release(&self, forget: bool) -> bool {
        if self.settled.swap(true, Ordering::SeqCst) {
            return false;
        }
        self.settle(self.store.release(&self.key, &self.token, forget).await)
    }

    fn settle(&self, outcome: Result<bool, StoreError>) -> bool {
        match outcome {
            Ok(true) => true,
            Ok(false) => {
                tracing::warn!("the idempotency lease of this create was lost; leaving its key to the holder that took it over");
                false
            }
            Err(e) => {
                tracing::error!(error = %e, "could not record the outcome of an idempotent create");
                false
            }
        }
    }

    /// Renews the lease every [`RENEW_EVERY`] until [`Renewals::stop`] (or the lease is lost).
    pub fn heartbeat(self: &Arc<Self>) -> Renewals {
        let journal = self.clone();
        Renewals::spawn("the idempotency lease".into(), move || {
            let journal = journal.clone();
            async move {
                journal
                    .store
                    .renew(&journal.key, &journal.token, LEASE)
                    .await
            }
        })
    }
}

/// 409: someone holds the key right now.
pub fn in_progress() -> AppError {
    AppError::Conflict {
        code: "idempotency_key_in_progress",
        message: "a request with this Idempotency-Key is still in progress; retry shortly".into(),
    }
}
