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
    /// The registrar's balance (lamports), when the node answered.
    pub registrar_lamports: Option<u64>,
    /// Whether creates are possible (balance above the floor plus one room).
    pub registrar_funded: bool,
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

    /// Reported next to the checks: a drained registrar stops creates, not reads.
    pub fn registrar_json(self) -> Value {
        json!({ "balanceLamports": self.registrar_lamports, "funded": self.registrar_funded })
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
        let (chain, cloudflare, balance) = tokio::join!(
            tokio::time::timeout(CHECK_BOUND, state.chain.health()),
            tokio::time::timeout(CHECK_BOUND, stream.list_live_inputs()),
            tokio::time::timeout(CHECK_BOUND, crate::funds::registrar_balance(state)),
        );
        let registrar_lamports = balance.ok().and_then(Result::ok);
        let checks = Checks {
            chain: matches!(chain, Ok(Ok(_))),
            cloudflare: matches!(cloudflare, Ok(Ok(_))),
            shared: None,
            registrar_lamports,
            registrar_funded: registrar_lamports.is_some_and(|b| {
                b >= state
                    .settings
                    .registrar_min_lamports
                    .saturating_add(crate::funds::CREATE_COST_LAMPORTS)
            }),
        };
        *last = Some((Instant::now(), checks));
        checks
    }
}
