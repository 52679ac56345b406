//! Per-IP, per-host and global limits on room creation (each create costs a live input and rent).
//! One replica counts in memory (`governor`); replicas sharing Redis count together
//! ([`crate::store::redis::limits`]), so adding replicas does not multiply the limits.
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use roomcast_chain::Pubkey;

use crate::core::error::AppError;
use crate::store::CreateCounters;

const BY_IP: &str = "too many rooms created from this address; slow down";
const BY_HOST: &str = "too many rooms created for this host; slow down";
const GLOBAL: &str = "this server is creating too many rooms right now; try again shortly";

pub struct CreateLimits {
    per_minute: NonZeroU32,
    budget: NonZeroU32,
    counters: Arc<dyn CreateCounters>,
}

impl CreateLimits {
    /// `per_minute` creates per IP and per host, `budget` in total, with bursts of the same size,
    /// counted in `counters` (this process's memory, or Redis for every replica).
    pub fn new(
        per_minute: NonZeroU32,
        budget: NonZeroU32,
        counters: Arc<dyn CreateCounters>,
    ) -> Self {
        CreateLimits {
            per_minute,
            budget,
            counters,
        }
    }

    /// Forgets keys whose limit has fully recovered (memory only; Redis expires shared cells by
    /// itself).
    pub fn prune(&self) {
        self.counters.prune();
    }

    /// Keys currently held in memory (for tests and metrics).
    pub fn len(&self) -> usize {
        self.counters.len()
    }

    pub async fn check(&self, ip: IpAddr, host: &Pubkey) -> Result<(), AppError> {
        match self
            .counters
            .spend(ip, host, self.per_minute.get(), self.budget.get())
            .await?
        {
            Ok(()) => Ok(()),
            Err(refused) => {
                let message = [BY_IP, BY_HOST, GLOBAL][refused.cell.min(2)];
                Err(limited(message, refused.retry_after))
            }
        }
    }
}

fn limited(message: &str, wait: Duration) -> AppError {
    AppError::RateLimited {
        message: message.into(),
        retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
    }
}
