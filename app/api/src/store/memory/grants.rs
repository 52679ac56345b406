//! Playback grant counts of one replica: a fixed window per key, in memory.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::store::{GrantCounters, StoreError};

/// Most keys remembered; past it, expired windows are swept, then the oldest are dropped.
const MAX_KEYS: usize = 100_000;

#[derive(Default)]
pub struct MemoryGrantCounters {
    seen: Mutex<HashMap<String, (Instant, u32)>>,
}

#[async_trait]
impl GrantCounters for MemoryGrantCounters {
    async fn count(
        &self,
        keys: &[String],
        per_window: u32,
        window: Duration,
    ) -> Result<Option<Duration>, StoreError> {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= MAX_KEYS {
            seen.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let mut refused: Option<Duration> = None;
        for key in keys {
            let (start, count) = seen.get(key).copied().unwrap_or((now, 0));
            if now.duration_since(start) < window && count >= per_window {
                let left = window.saturating_sub(now.duration_since(start));
                refused = Some(refused.map_or(left, |r| r.max(left)));
            }
        }
        if refused.is_some() {
            return Ok(refused);
        }
        for key in keys {
            let entry = seen.entry(key.clone()).or_insert((now, 0));
            if now.duration_since(entry.0) >= window {
                *entry = (now, 0);
            }
            entry.1 += 1;
        }
        Ok(None)
    }
}
