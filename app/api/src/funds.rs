//! The registrar pays every room's rent (≈ 0.0024 SOL for a typical room, at most 0.0036).
//! Creates stop before its balance would fall below `ROOMCAST_REGISTRAR_MIN_LAMPORTS`
//! (503 `registrar_underfunded`), so the key that also signs `set_live`/`end_room` keeps enough to
//! do so; the balance is exported as a metric and in `/readyz`. Ended rooms are closed after a
//! retention period to bring their rent back.
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::AppError;
use crate::state::AppState;

/// How long a read balance is trusted (less what creates since then reserved).
const BALANCE_TTL: Duration = Duration::from_secs(5);

/// The registrar's last known balance minus the creates accepted since: one `getBalance` per few
/// seconds instead of one per create, and never optimistic.
#[derive(Default)]
pub struct RegistrarFunds {
    known: Mutex<Option<(Instant, u64)>>,
}

/// Upper bound of what one create costs the registrar: the largest room's rent (3,619,200 lamports,
/// every string at its maximum; rooms are sized to their content) plus the fee, rounded up.
pub const CREATE_COST_LAMPORTS: u64 = 3_800_000;

/// Reads the registrar's balance and records it as a gauge.
pub async fn registrar_balance(state: &AppState) -> Result<u64, AppError> {
    let balance = state
        .chain
        .balance(&state.chain.signer_pubkey())
        .await
        .map_err(AppError::from_chain)?;
    metrics::gauge!("roomcast_registrar_balance_lamports").set(balance as f64);
    Ok(balance)
}

/// Refuses a create that would take the registrar below the floor (a floor of 0 disables this).
pub async fn ensure_create_affordable(state: &AppState) -> Result<(), AppError> {
    let floor = state.settings.registrar_min_lamports;
    if floor == 0 {
        return Ok(());
    }
    let cached = {
        let known = state.funds.known.lock().unwrap_or_else(|p| p.into_inner());
        known.filter(|(at, _)| at.elapsed() < BALANCE_TTL)
    };
    let balance = match cached {
        Some((_, balance)) => balance,
        None => {
            let balance = registrar_balance(state).await?;
            *state.funds.known.lock().unwrap_or_else(|p| p.into_inner()) =
                Some((Instant::now(), balance));
            balance
        }
    };
    if balance < floor.saturating_add(CREATE_COST_LAMPORTS) {
        tracing::error!(
            balance,
            floor,
            "registrar balance is at its floor; refusing creates (fund the registrar)"
        );
        return Err(AppError::Unavailable {
            code: "registrar_underfunded",
            message: "the server cannot pay for new rooms right now; try again later".into(),
        });
    }
    // Reserve this create's cost until the next read.
    if let Some((_, known)) = state
        .funds
        .known
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_mut()
    {
        *known = known.saturating_sub(CREATE_COST_LAMPORTS);
    }
    Ok(())
}
