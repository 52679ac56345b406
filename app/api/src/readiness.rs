//! `/readyz` without spending upstream quota: one check of each upstream (no retries), shared by
//! every caller for a few seconds (`ROOMCAST_READYZ_CACHE_MS`) — anonymous probes cannot multiply
//! Cloudflare account-API calls.
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::state::AppState;

/// Longest a check may take before it counts as "not ready".
const CHECK_BOUND: Duration = Duration::from_secs(3);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checks {
    pub chain: bool,
    pub cloudflare: bool,
}

impl Checks {
    pub fn ready(&self) -> bool {
        self.chain && self.cloudflare
    }

    pub fn to_json(self) -> Value {
        json!({ "solanaRpc": self.chain, "cloudflare": self.cloudflare })
    }
}

/// The last result; the lock makes concurrent probes wait for one check instead of each running one.
pub struct Readiness {
    ttl: Duration,
    last: Mutex<Option<(Instant, Checks)>>,
}

impl Readiness {
    pub fn new(ttl: Duration) -> Self {
        Readiness {
            ttl,
            last: Mutex::new(None),
        }
    }

    pub async fn checks(&self, state: &AppState) -> Checks {
        let mut last = self.last.lock().await;
        if let Some((at, checks)) = *last {
            if at.elapsed() < self.ttl {
                return checks;
            }
        }
        let stream = state.stream.without_retries();
        let (chain, cloudflare) = tokio::join!(
            tokio::time::timeout(CHECK_BOUND, state.chain.health()),
            tokio::time::timeout(CHECK_BOUND, stream.list_live_inputs()),
        );
        let checks = Checks {
            chain: matches!(chain, Ok(Ok(_))),
            cloudflare: matches!(cloudflare, Ok(Ok(_))),
        };
        *last = Some((Instant::now(), checks));
        checks
    }
}
