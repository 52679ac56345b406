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
    /// Redis, when replicas share state (checked on every probe: a `PING` costs no quota).
    pub shared: Option<bool>,
}

impl Checks {
    pub fn ready(&self) -> bool {
        self.chain && self.cloudflare && self.shared != Some(false)
    }

    pub fn to_json(self) -> Value {
        let mut checks = json!({ "solanaRpc": self.chain, "cloudflare": self.cloudflare });
        if let Some(shared) = self.shared {
            checks["sharedState"] = json!(shared);
        }
        checks
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
        let upstreams = self.upstreams(state).await;
        let shared = match &state.shared {
            Some(shared) => Some(
                tokio::time::timeout(CHECK_BOUND, shared.redis.ping())
                    .await
                    .is_ok_and(|r| r.is_ok()),
            ),
            None => None,
        };
        Checks {
            shared,
            ..upstreams
        }
    }

    async fn upstreams(&self, state: &AppState) -> Checks {
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
            shared: None,
        };
        *last = Some((Instant::now(), checks));
        checks
    }
}
