//! State shared between API replicas through Redis (`ROOMCAST_REDIS_URL`): replay protection,
//! idempotency keys, Sign-In With Solana nonces and sessions, create rate limits, the registrar's
//! balance reservations, failed authentications per address, broadcast state, cache invalidation
//! and the reconciler lease. Without a Redis URL the server is a single replica and keeps all of it in memory.
//!
//! Every key lives under `roomcast:{registry}:` and carries a TTL. Shared state **fails closed**:
//! when Redis cannot be reached, writes and authenticated calls answer 503
//! `shared_state_unavailable` (never a silent per-process fallback), public reads keep working from
//! the chain, `/readyz` says so, and the connection manager reconnects by itself.
pub mod auth_failures;
pub mod funds;
pub mod idempotency;
pub mod lease;
pub mod limits;
pub mod replicas;
pub mod seal;
pub mod sign_in;

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use roomcast_chain::Pubkey;

use crate::store::StoreError;

/// How long one Redis command may take before the request fails closed.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// A connection to the shared Redis, with the key prefix of this registry.
pub struct Redis {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
    /// Random id of this process (lease holder name, origin of pub/sub messages).
    pub replica: String,
}

impl Redis {
    /// Parses `url` and prepares a lazily connecting, self-reconnecting connection manager (the
    /// server starts even if Redis is down, failing closed until it is reachable).
    pub fn new(url: &str, registry: &Pubkey) -> anyhow::Result<Redis> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("ROOMCAST_REDIS_URL is not a valid Redis URL: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        let mut id = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut id);
        Ok(Redis {
            client,
            conn,
            prefix: format!("roomcast:{registry}:"),
            replica: hex::encode(id),
        })
    }

    /// `roomcast:{registry}:{suffix}`.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A handle for commands (cheap clone of the managed multiplexed connection).
    pub fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// `PING`: is the shared state reachable right now?
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
            .map_err(unavailable("shared"))
    }
}

/// Maps a Redis error of the `what` store to [`StoreError::Unavailable`].
pub fn unavailable(what: &'static str) -> impl Fn(redis::RedisError) -> StoreError {
    move |e| StoreError::Unavailable(what, e.to_string())
}
