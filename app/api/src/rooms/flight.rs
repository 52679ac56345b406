//! A create in flight: the reconciler must not delete a live input that a running create (or a
//! dead one's `create_room` still on its way) may yet turn into a room.
//!
//! Every create names itself with a random flight id, holds it in the idempotency store with a
//! short renewed lease *before* Cloudflare makes the input, and puts the id in the input's `meta`
//! (an opaque reference, nothing secret). Before sending `create_room` it writes down the
//! transaction's last valid block height. The reconciler deletes a tagged input without a room only
//! after dooming its flight (an atomic check in the store), which is refused while the lease lives
//! or the sent transaction can still land; once doomed, the create can no longer send. One code
//! path for the memory and Redis stores, so every replica's reconciler sees every replica's creates.
use std::sync::Arc;
use std::time::Duration;

use crate::core::error::AppError;
use crate::rooms::renewals::Renewals;
use crate::rooms::renewals::LEASE;
use crate::store::IdempotencyStore;

/// The key in a live input's `meta` that names its create's flight.
pub const META_FLIGHT_KEY: &str = "flight";

/// How long a marker outlives its last write: longer than any create or blockhash, so it
/// protects for as long as needed, and then goes away by itself.
pub const FLIGHT_TTL: Duration = Duration::from_secs(3600);

/// This create's hold on its flight.
pub struct Flight {
    store: Arc<dyn IdempotencyStore>,
    id: String,
}

impl Flight {
    /// A new flight, held before anything is made (the store unavailable: 503, nothing made).
    pub async fn begin(store: Arc<dyn IdempotencyStore>) -> Result<Flight, AppError> {
        let mut bytes = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
        let flight = Flight {
            store,
            id: hex::encode(bytes),
        };
        if !flight.hold().await? {
            // A fresh random id is never doomed; say so rather than go on unprotected.
            return Err(AppError::Internal(
                "a fresh flight was already doomed".into(),
            ));
        }
        Ok(flight)
    }

    /// An earlier holder's flight, taken over by a resumed create. `Ok(None)`: the reconciler
    /// doomed it — its input is deleted or about to be, so the create starts afresh.
    pub async fn resume(
        store: Arc<dyn IdempotencyStore>,
        id: String,
    ) -> Result<Option<Flight>, AppError> {
        let flight = Flight { store, id };
        Ok(flight.hold().await?.then_some(flight))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    async fn hold(&self) -> Result<bool, AppError> {
        self.store
            .hold_flight(&self.id, LEASE, FLIGHT_TTL)
            .await
            .map_err(AppError::from)
    }

    /// Writes down that `create_room` is about to be sent; the caller sends it only on `Ok`.
    pub async fn sending(&self, last_valid_block_height: u64) -> Result<(), AppError> {
        match self
            .store
            .flight_sent(&self.id, last_valid_block_height, FLIGHT_TTL)
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => {
                tracing::warn!(flight = %self.id, "the reconciler took this create's live input for an orphan (its lease had run out); not sending create_room");
                Err(AppError::Unavailable {
                    code: "create_interrupted",
                    message: "the create could not finish in time; try again".into(),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Ends the hold. `landed`: the room exists, the marker is dropped; otherwise a sent
    /// `create_room` keeps protecting the input until it can no longer land (a keyed retry
    /// resumes it), and a create that never sent leaves its input to the reconciler at once.
    pub async fn settle(&self, landed: bool) {
        if let Err(e) = self.store.release_flight(&self.id, landed).await {
            // The lease runs out by itself within seconds.
            tracing::warn!(flight = %self.id, error = %e, "could not release an in-flight marker");
        }
    }

    /// Renews the lease every [`crate::rooms::renewals::RENEW_EVERY`] until [`Renewals::stop`].
    pub fn renewals(&self) -> Renewals {
        let (store, id) = (self.store.clone(), self.id.clone());
        Renewals::spawn(format!("in-flight marker {id}"), move || {
            let (store, id) = (store.clone(), id.clone());
            async move { store.hold_flight(&id, LEASE, FLIGHT_TTL).await }
        })
    }
}
