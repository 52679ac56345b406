//! `/readyz` without spending upstream quota: one check of each upstream (no retries), shared by
//! every caller for a few seconds (`ROOMCAST_READYZ_CACHE_MS`) — anonymous probes cannot multiply
//! Cloudflare account-API calls.
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Mutex;

use roomcast_chain::RoomcastChain;
use roomcast_stream::client::StreamClient;

use crate::guard::funds::{registrar_balance, CREATE_COST_LAMPORTS};
use crate::store::redis::Redis;

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

    /// The upstreams' checks (cached for the TTL), plus a `PING` of `redis` when replicas share
    /// state. `min_lamports`: the registrar's floor.
    pub async fn checks(
        &self,
        chain: &RoomcastChain,
        stream: &StreamClient,
        min_lamports: u64,
        redis: Option<&Redis>,
    ) -> Checks {
        let upstreams = self.upstreams(chain, stream, min_lamports).await;
        let shared = match redis {
            Some(redis) => Some(
                tokio::time::timeout(CHECK_BOUND, redis.ping())
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

    async fn upstreams(
        &self,
        chain: &RoomcastChain,
        stream: &StreamClient,
        min_lamports: u64,
    ) -> Checks {
        let mut last = self.last.lock().await;
        if let Some((at, checks)) = *last {
            if at.elapsed() < self.ttl {
                return checks;
            }
        }
        let stream = stream.without_retries();
        let (chain, cloudflare, balance) = tokio::join!(
            tokio::time::timeout(CHECK_BOUND, chain.health()),
            tokio::time::timeout(CHECK_BOUND, stream.list_live_inputs()),
            tokio::time::timeout(CHECK_BOUND, registrar_balance(chain)),
        );
        let registrar_lamports = balance.ok().and_then(Result::ok);
        let checks = Checks {
            chain: matches!(chain, Ok(Ok(_))),
            cloudflare: matches!(cloudflare, Ok(Ok(_))),
            shared: None,
            registrar_lamports,
            registrar_funded: registrar_lamports
                .is_some_and(|b| b >= min_lamports.saturating_add(CREATE_COST_LAMPORTS)),
        };
        *last = Some((Instant::now(), checks));
        checks
    }
}
