//! The registrar pays every room's rent (≈ 0.0024 SOL for a typical room, at most 0.0036).
//! Creates stop before its balance would fall below `ROOMCAST_REGISTRAR_MIN_LAMPORTS`
//! (503 `registrar_underfunded`), so the key that also signs `set_live`/`end_room` keeps enough to
//! do so; the balance is exported as a metric and in `/readyz`. Ended rooms are closed after a
//! retention period to bring their rent back. With Redis, the reservation is deployment-wide
//! ([`crate::store::redis::funds`]): N replicas do not admit N times the creates the balance pays for.
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::core::error::AppError;
use crate::store::redis::funds::{Read, Reserve, SharedFunds};
use crate::store::redis::Redis;
use crate::store::StoreError;
use roomcast_chain::RoomcastChain;

/// How long a read balance is trusted (less what creates since then reserved).
const BALANCE_TTL: Duration = Duration::from_secs(5);

/// With Redis: how long after it was made a create's reservation still counts against a newly
/// read balance (the create may not have landed when the balance was read: Cloudflare's call plus
/// a `create_room` that stays valid for ~150 blocks).
const LANDS_WITHIN: Duration = Duration::from_secs(90);

/// The registrar's balance as far as creates are concerned: one `getBalance` per few seconds
/// instead of one per create, less what accepted creates reserved, and never optimistic.
pub struct RegistrarFunds {
    ledger: Ledger,
}

enum Ledger {
    /// This process's last known balance minus the creates it accepted since.
    Memory(tokio::sync::Mutex<Option<(Instant, u64)>>),
    /// The deployment's last known balance and every replica's reservations, in Redis.
    Shared(SharedFunds),
}

impl Default for RegistrarFunds {
    fn default() -> Self {
        RegistrarFunds {
            ledger: Ledger::Memory(Default::default()),
        }
    }
}

impl RegistrarFunds {
    /// Reservations shared by every replica through Redis.
    pub fn shared(redis: Arc<Redis>) -> Self {
        RegistrarFunds {
            ledger: Ledger::Shared(SharedFunds::new(redis)),
        }
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
        let affordable = match &self.ledger {
            Ledger::Memory(known) => reserve_in_memory(chain, known, floor).await?,
            Ledger::Shared(funds) => reserve_shared(chain, funds, floor).await?,
        };
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

/// One check at a time: a request that finds no recent balance reads it while holding the lock,
/// so concurrent creates wait for that read and see each other's reservations instead of each
/// starting from the fresh balance.
async fn reserve_in_memory(
    chain: &RoomcastChain,
    known: &tokio::sync::Mutex<Option<(Instant, u64)>>,
    floor: u64,
) -> Result<bool, AppError> {
    let mut known = known.lock().await;
    let balance = match known.filter(|(at, _)| at.elapsed() < BALANCE_TTL) {
        Some((_, balance)) => balance,
        None => {
            let balance = registrar_balance(chain).await?;
            *known = Some((Instant::now(), balance));
            balance
        }
    };
    if balance < floor.saturating_add(CREATE_COST_LAMPORTS) {
        return Ok(false);
    }
    // Reserve this create's cost until the next read.
    if let Some((_, known)) = known.as_mut() {
        *known = known.saturating_sub(CREATE_COST_LAMPORTS);
    }
    Ok(true)
}

/// Reserve-or-refuse in Redis; reads the balance only when no replica did for `BALANCE_TTL`.
/// Redis unreachable → 503 `shared_state_unavailable` (fail closed).
async fn reserve_shared(
    chain: &RoomcastChain,
    funds: &SharedFunds,
    floor: u64,
) -> Result<bool, AppError> {
    let reserve =
        |read| funds.reserve(floor, CREATE_COST_LAMPORTS, LANDS_WITHIN, BALANCE_TTL, read);
    let mut outcome = reserve(None).await?;
    if let Reserve::NeedBalance { read_at_us } = outcome {
        let lamports = registrar_balance(chain).await?;
        outcome = reserve(Some(Read {
            lamports,
            read_at_us,
        }))
        .await?;
    }
    match outcome {
        Reserve::Reserved => Ok(true),
        Reserve::Refused { available } => {
            tracing::warn!(available, floor, "registrar reservation refused");
            Ok(false)
        }
        // The fresh read was stored a moment ago; only a Redis without the key (evicted,
        // flushed) gets here: refuse rather than guess.
        Reserve::NeedBalance { .. } => Err(AppError::from(StoreError::Unavailable(
            "registrar funds",
            "the balance snapshot vanished".into(),
        ))),
    }
}
