//! One replica's failed authentications per address, in process memory.
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::store::{AuthFailureCounts, StoreError};

/// Addresses tracked at once; past it, expired windows are pruned, and if none expired a new
/// address is not tracked (throttling is a brake, not a lock).
const MAX_TRACKED: usize = 100_000;

#[derive(Default)]
pub struct MemoryAuthFailures {
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl MemoryAuthFailures {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (Instant, u32)>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl AuthFailureCounts for MemoryAuthFailures {
    async fn blocked(
        &self,
        ip: IpAddr,
        max: u32,
        window: Duration,
    ) -> Result<Option<Duration>, StoreError> {
        let map = self.lock();
        Ok(match map.get(&ip) {
            Some((start, count)) if *count >= max && start.elapsed() < window => {
                Some(window.saturating_sub(start.elapsed()))
            }
            _ => None,
        })
    }

    async fn failed(&self, ip: IpAddr, window: Duration) -> Result<(), StoreError> {
        let mut map = self.lock();
        if !map.contains_key(&ip) && map.len() >= MAX_TRACKED {
            map.retain(|_, (start, _)| start.elapsed() < window);
            if map.len() >= MAX_TRACKED {
                tracing::warn!("auth failure tracking is full; not tracking a new address");
                return Ok(());
            }
        }
        let entry = map.entry(ip).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= window {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
        Ok(())
    }
}
