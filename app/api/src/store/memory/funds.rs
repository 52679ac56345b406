//! One replica's registrar ledger: this process's last known balance minus the creates it
//! accepted since, one check at a time.
use std::time::Instant;

use async_trait::async_trait;

use crate::core::error::AppError;
use crate::store::{BalanceRead, FundsLedger, FundsPolicy};

#[derive(Default)]
pub struct MemoryFunds {
    known: tokio::sync::Mutex<Option<(Instant, u64)>>,
}

#[async_trait]
impl FundsLedger for MemoryFunds {
    /// One check at a time: a request that finds no recent balance reads it while holding the
    /// lock, so concurrent creates wait for that read and see each other's reservations instead of
    /// each starting from the fresh balance.
    async fn reserve(
        &self,
        floor: u64,
        cost: u64,
        policy: FundsPolicy,
        read: BalanceRead<'_>,
    ) -> Result<bool, AppError> {
        let mut known = self.known.lock().await;
        let balance = match known.filter(|(at, _)| at.elapsed() < policy.balance_ttl) {
            Some((_, balance)) => balance,
            None => {
                let balance = read().await?;
                *known = Some((Instant::now(), balance));
                balance
            }
        };
        if balance < floor.saturating_add(cost) {
            return Ok(false);
        }
        // Reserve this create's cost until the next read.
        if let Some((_, known)) = known.as_mut() {
            *known = known.saturating_sub(cost);
        }
        Ok(true)
    }
}
