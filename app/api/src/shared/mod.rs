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
pub mod events;
pub mod funds;
pub mod lease;
pub mod limits;
pub mod seal;
pub mod sessions;

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use roomcast_chain::Pubkey;

use tokio_util::sync::CancellationToken;

use crate::error::AppError;
use crate::live::{Applied, Broadcast, Phase};
use crate::state::AppState;
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

    /// Refuses the request (503 `shared_state_unavailable`) unless Redis answers.
    pub async fn require(&self) -> Result<(), AppError> {
        self.ping().await.map_err(shared_state_unavailable)
    }
}

/// Maps a Redis error of the `what` store to [`StoreError::Unavailable`].
pub fn unavailable(what: &'static str) -> impl Fn(redis::RedisError) -> StoreError {
    move |e| StoreError::Unavailable(what, e.to_string())
}

/// The answer when shared state cannot be reached.
pub fn shared_state_unavailable(err: StoreError) -> AppError {
    tracing::warn!(error = %err, "shared state unavailable");
    AppError::Unavailable {
        code: "shared_state_unavailable",
        message: "the shared state store (Redis) is unreachable; try again shortly".into(),
    }
}

/// Everything a replica shares: the connection and the event channel.
pub struct Shared {
    pub redis: Arc<Redis>,
    pub events: Arc<events::Events>,
}

impl Shared {
    pub fn new(redis: Arc<Redis>) -> Shared {
        Shared {
            events: Arc::new(events::Events::new(redis.clone())),
            redis,
        }
    }

    /// Subscribes to events and forwards this replica's room invalidations, until `stop`.
    pub fn start(&self, state: Arc<AppState>, stop: CancellationToken) {
        self.events
            .clone()
            .spawn_subscriber(state.clone(), stop.clone());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Pubkey>();
        state.rooms.on_invalidate(tx);
        let events = self.events.clone();
        tokio::spawn(async move {
            loop {
                let address = tokio::select! {
                    _ = stop.cancelled() => return,
                    a = rx.recv() => match a { Some(a) => a, None => return },
                };
                if let Err(e) = events.publish_room(&address).await {
                    tracing::warn!(error = %e, room = %address, "could not tell other replicas about a room change");
                }
            }
        });
    }
}

/// Refuses the request unless shared state is reachable (no-op for a single replica).
pub async fn require(state: &AppState) -> Result<(), AppError> {
    match &state.shared {
        Some(shared) => shared.redis.require().await,
        None => Ok(()),
    }
}

/// Applies an encoder state: in Redis for every replica (then here), or in this process.
pub async fn apply_broadcast(
    state: &AppState,
    session_id: &str,
    next: Broadcast,
) -> Result<Applied, StoreError> {
    let live = next.state == Phase::Live;
    let applied = match &state.shared {
        // Redis decides what is newest; the other replicas hear it from the event.
        Some(shared) => {
            let applied = shared.events.apply_broadcast(session_id, &next).await?;
            if applied == Applied::Updated {
                state.live.apply(session_id, next);
            }
            applied
        }
        None => state.live.apply(session_id, next),
    };
    if applied == Applied::Updated {
        state.rooms.put_broadcasting(session_id, live).await;
    }
    Ok(applied)
}

/// Remembers a room this server closed (410 for its viewers): here, and for every replica.
pub async fn bury(state: &AppState, room: Pubkey) {
    state.tombstones.bury(room);
    if let Some(shared) = &state.shared {
        if let Err(e) = shared.events.bury(&room).await {
            tracing::warn!(error = %e, %room, "could not tell other replicas a room was closed");
        }
    }
}
