//! The registrar pays every room's rent (≈ 0.0024 SOL for a typical room, at most 0.0036).
//! Creates stop before its balance would fall below `ROOMCAST_REGISTRAR_MIN_LAMPORTS`
//! (503 `registrar_underfunded`), so the key that also signs `set_live`/`end_room` keeps enough to
//! do so; the balance is exported as a metric and in `/readyz`. Ended rooms are closed after a
//! retention period to bring their rent back. With Redis, the reservation is deployment-wide
//! ([`crate::store::redis::funds`]): N replicas do not admit N times the creates the balance pays for.
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use roomcast_chain::RoomcastChain;

use crate::core::error::AppError;
use crate::store::{FundsLedger, FundsPolicy};

/// How long a read balance is trusted (less what creates since then reserved).
const BALANCE_TTL: Duration = Duration::from_secs(5);

/// With Redis: how long after it was made a create's reservation still counts against a newly
/// read balance (the create may not have landed when the balance was read: Cloudflare's call plus
/// a `create_room` that stays valid for ~150 blocks).
const LANDS_WITHIN: Duration = Duration::from_secs(90);

/// The registrar's balance as far as creates are concerned: one `getBalance` per few seconds
/// instead of one per create, less what accepted creates reserved, and never optimistic. Kept in
/// a [`FundsLedger`]: this process's memory, or Redis for every replica.
pub struct RegistrarFunds {
    ledger: Arc<dyn FundsLedger>,
}

impl RegistrarFunds {
    pub fn new(ledger: Arc<dyn FundsLedger>) -> Self {
        RegistrarFunds { ledger }
    }
}

/// Upper bound of what one create costs the registrar: the largest room's rent (3,619,200 lamports,
/// every string at its maximum; rooms are sized to their content) plus the fee, rounded up.
pub const CREATE_COST_LAMPORTS: u64 = 3_800_000;

/// Reads the registrar's balance and records it as a gauge.
pub async fn registrar_balance(chain: &RoomcastChain) -> Result<u64, AppError> {
    let balance = chain
        .balance(&chain.signer_pubkey())
        .await
        .map_err(AppError::from_chain)?;
    metrics::gauge!("roomcast_registrar_balance_lamports").set(balance as f64);
    Ok(balance)
}

impl RegistrarFunds {
    /// Refuses a create that would take `chain`'s registrar below `floor` (a floor of 0 disables
    /// this); otherwise reserves its cost.
    pub async fn ensure_create_affordable(
        &self,
        chain: &RoomcastChain,
        floor: u64,
    ) -> Result<(), AppError> {
        if floor == 0 {
            return Ok(());
        }
        let policy = FundsPolicy {
            balance_ttl: BALANCE_TTL,
            lands_within: LANDS_WITHIN,
        };
        let read = || registrar_balance(chain).boxed();
        let affordable = self
            .ledger
            .reserve(floor, CREATE_COST_LAMPORTS, policy, &read)
            .await?;
        if affordable {
            return Ok(());
        }
        tracing::error!(
            floor,
            "registrar balance is at its floor; refusing creates (fund the registrar)"
        );
        Err(AppError::Unavailable {
            code: "registrar_underfunded",
            message: "the server cannot pay for new rooms right now; try again later".into(),
        })
    }
}
