//! The ports: every store the server keeps cross-request state in is a small async trait here,
//! shaped like Redis (`SET key NX EX ttl`, `GETDEL`, …), with two implementations — `memory/` (one
//! replica, process memory) and `redis/` (several replicas sharing `ROOMCAST_REDIS_URL`). Every
//! store **fails closed**: when it cannot record an entry it says so ([`StoreError`]) and the
//! request is refused with 503, instead of silently forgetting (which would turn replay protection
//! or idempotency off under a flood). Uses only `core`.
pub mod memory;
pub mod redis;
pub mod sign_in;

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use axum::http::StatusCode;
use roomcast_chain::Pubkey;

use crate::core::broadcast::Broadcast;
use crate::core::error::AppError;

pub use memory::{BoundedTtlMap, MemoryIdempotencyStore, MemoryReplayStore};
pub use redis::idempotency::{RedisIdempotencyStore, RedisReplayStore};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Every slot holds a live entry; nothing was stored.
    #[error("the {0} store is full")]
    Full(&'static str),
    /// The store could not be reached (shared stores).
    #[error("the {0} store is unavailable: {1}")]
    Unavailable(&'static str, String),
}

/// A store that cannot record is a 503: the request is refused rather than left unprotected.
/// Unreachable shared state (Redis) is `shared_state_unavailable`; a full in-memory store is
/// `replay_store_full` or `idempotency_store_full`.
impl From<StoreError> for AppError {
    fn from(err: StoreError) -> AppError {
        if let StoreError::Unavailable(..) = err {
            tracing::warn!(error = %err, "shared state unavailable");
            return AppError::Unavailable {
                code: "shared_state_unavailable",
                message: "the shared state store (Redis) is unreachable; try again shortly".into(),
            };
        }
        tracing::warn!(error = %err, "security store refused");
        let code = match err {
            StoreError::Full("replay") => "replay_store_full",
            StoreError::Full(_) => "idempotency_store_full",
            StoreError::Unavailable(..) => unreachable!("answered above"),
        };
        AppError::Unavailable {
            code,
            message: "the server is too busy to accept this request safely; try again later".into(),
        }
    }
}

/// Where another replica's changes land in this one (`live::replicas` feeds it from
/// `redis::replicas`' subscription). Implemented by the server's state.
#[async_trait]
pub trait ReplicaSink: Send + Sync {
    /// A newer encoder state of `session_id`, already applied in the shared store.
    async fn broadcast_changed(&self, session_id: &str, broadcast: Broadcast);
    /// The room at `address` changed on-chain: drop cached copies.
    async fn room_changed(&self, address: &Pubkey);
    /// The room at `address` was closed (account gone): viewers get 410, not 404.
    async fn room_closed(&self, address: &Pubkey);
    /// A room closed before this replica (re)subscribed (its cached copy is already gone).
    fn closed_before(&self, address: Pubkey);
    /// (Re)subscribed: changes may have been missed, drop every cached room.
    fn resubscribed(&self);
}

/// Failed authentications per client address, counted in a fixed window that starts with the
/// address's first failure (`guard::throttle`).
#[async_trait]
pub trait AuthFailureCounts: Send + Sync {
    /// How long `ip` must still wait, when it used up `max` failures in its current `window`.
    async fn blocked(
        &self,
        ip: IpAddr,
        max: u32,
        window: Duration,
    ) -> Result<Option<Duration>, StoreError>;
    /// Counts one failure of `ip` in a window of `window`.
    async fn failed(&self, ip: IpAddr, window: Duration) -> Result<(), StoreError>;
}

/// Create limits: per client address, per host and for all creates together (`guard::limits`),
/// each `per_minute` (`budget` for the global one) with bursts of the same size.
#[async_trait]
pub trait CreateCounters: Send + Sync {
    /// Spends one create of `ip`, of `host` and of the global budget, or none: `Err(refused)` names
    /// the first limit that refused (0: address, 1: host, 2: global) and when it allows again.
    async fn spend(
        &self,
        ip: IpAddr,
        host: &Pubkey,
        per_minute: u32,
        budget: u32,
    ) -> Result<Result<(), Refused>, StoreError>;
    /// Forgets callers whose limits fully recovered (memory only; Redis expires its keys).
    fn prune(&self) {}
    /// Keys held in process memory (for tests and metrics).
    fn len(&self) -> usize {
        0
    }
}

/// Playback grant limits (`guard::playback::GrantLimits`): a fixed window per key (a wallet, a
/// client address), counted in this process's memory or in Redis for every replica.
#[async_trait]
pub trait GrantCounters: Send + Sync {
    /// Counts one grant for every key of `keys` unless one of them already counted `per_window` in
    /// its current `window` (which starts with its first grant): then nothing is counted and the
    /// answer is how long until that window ends (the longest, if several refuse).
    async fn count(
        &self,
        keys: &[String],
        per_window: u32,
        window: Duration,
    ) -> Result<Option<Duration>, StoreError>;
}

/// Which limit refused, and how long until it allows again.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    pub cell: usize,
    pub retry_after: Duration,
}

/// Reads the registrar's balance (lamports) when a ledger needs a fresh one.
pub type BalanceRead<'a> =
    &'a (dyn Fn() -> futures_util::future::BoxFuture<'a, Result<u64, AppError>> + Send + Sync);

/// How a funds ledger trusts reads and reservations (`guard::funds` sets it).
#[derive(Clone, Copy, Debug)]
pub struct FundsPolicy {
    /// How long a read balance is trusted (less what creates since then reserved).
    pub balance_ttl: Duration,
    /// With Redis: how long after it was made a reservation still counts against a newly read
    /// balance (its create may not have landed when the balance was read).
    pub lands_within: Duration,
}

/// The registrar's balance as far as creates are concerned (`guard::funds`): the last read balance
/// less what admitted creates reserved since.
#[async_trait]
pub trait FundsLedger: Send + Sync {
    /// Reserves `cost` unless the registrar would drop below `floor` (`Ok(false)`: refused),
    /// reading the balance with `read` only when no recent read is known.
    async fn reserve(
        &self,
        floor: u64,
        cost: u64,
        policy: FundsPolicy,
        read: BalanceRead<'_>,
    ) -> Result<bool, AppError>;
}

/// Signed requests already accepted, kept while their timestamp is within the skew window.
#[async_trait]
pub trait ReplayStore: Send + Sync {
    /// Records `id` for `ttl` if it is new (`SET id 1 NX EX ttl`). `Ok(true)`: first use;
    /// `Ok(false)`: seen before (a replay).
    async fn first_use(&self, id: &[u8; 64], ttl: Duration) -> Result<bool, StoreError>;
}

/// A finished response, replayed verbatim to retries with the same `Idempotency-Key`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub body: serde_json::Value,
}

impl StoredResponse {
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK)
    }
}

/// The state of an idempotency key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// Nobody holds the key (it may hold the progress of a create whose owner died: a claim resumes it).
    Free,
    /// A request with this key is being processed (a live lease).
    InProgress { fingerprint: [u8; 32] },
    /// A request with this key finished with this response.
    Done {
        fingerprint: [u8; 32],
        response: StoredResponse,
    },
}

/// What a create did before each irreversible step (write-ahead), so the claim that takes over
/// from a dead owner finishes the same room instead of making a second one. Nothing secret: the
/// stream key is read again from Cloudflare.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    /// The live input's uid (= the room's session id), once Cloudflare made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// `create_room` for that input was signed and (maybe) sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<SentCreate>,
    /// The create's in-flight marker (also in the input's `meta`), which a resume takes over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flight: Option<String>,
}

/// A signed `create_room`: it lands by `last_valid_block_height` or never.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentCreate {
    pub signature: String,
    pub last_valid_block_height: u64,
}

/// Who holds a key's lease: a random token that fences every later write of the holder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseToken(pub String);

impl LeaseToken {
    pub fn random() -> LeaseToken {
        let mut bytes = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
        LeaseToken(hex::encode(bytes))
    }
}

/// What a claim found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The caller now holds the lease (`token`) and must keep it renewed until it `complete`s or
    /// `release`s it. `progress` is what an earlier holder whose lease ran out had done.
    Acquired {
        token: LeaseToken,
        progress: Progress,
    },
    /// Someone else holds it (or held it and finished): see the state.
    Taken(KeyState),
}

/// `Idempotency-Key` outcomes. A claim takes a short lease (`SET lease token NX PX`) that its
/// holder renews while the create runs; the key's entry (fingerprint, progress, later the
/// response) lives for `ttl`. Every write after the claim is fenced on the holder's token, so a
/// holder presumed dead (lease expired, key taken over) can never overwrite its successor.
/// `Ok(false)` from a fenced call: the caller no longer holds the lease and must stop.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    async fn get(&self, key: &str) -> Result<KeyState, StoreError>;
    async fn claim(
        &self,
        key: &str,
        fingerprint: [u8; 32],
        lease: Duration,
        ttl: Duration,
    ) -> Result<Claim, StoreError>;
    /// Extends the lease by `lease` from now.
    async fn renew(
        &self,
        key: &str,
        token: &LeaseToken,
        lease: Duration,
    ) -> Result<bool, StoreError>;
    /// Records what the create has done (before its next irreversible step).
    async fn record(
        &self,
        key: &str,
        token: &LeaseToken,
        progress: &Progress,
        ttl: Duration,
    ) -> Result<bool, StoreError>;
    /// Stores the response and ends the lease.
    async fn complete(
        &self,
        key: &str,
        token: &LeaseToken,
        response: StoredResponse,
        ttl: Duration,
    ) -> Result<bool, StoreError>;
    /// Ends the lease. `forget`: the create left nothing behind, the key is free again; otherwise
    /// its progress stays for the next claim to resume.
    async fn release(
        &self,
        key: &str,
        token: &LeaseToken,
        forget: bool,
    ) -> Result<bool, StoreError>;

    // In-flight markers: a create (keyed or not) names itself with a random flight id, in its
    // live input's `meta` and here, before Cloudflare makes the input. The reconciler may delete a
    // tagged input without a room only after dooming its flight, which is refused while the
    // create may still turn the input into a room; once doomed, the create can no longer send
    // `create_room` for it. Each marker lives for `ttl` from its last write.

    /// Takes (or renews) the flight's lease for `lease` from now, creating the marker if needed.
    /// `Ok(false)`: the reconciler doomed it (its input is deleted or about to be).
    async fn hold_flight(
        &self,
        flight: &str,
        lease: Duration,
        ttl: Duration,
    ) -> Result<bool, StoreError>;
    /// Writes down that `create_room` is about to be sent (it lands by `last_valid_block_height`
    /// or never). `Ok(false)`: doomed — the create must not send it.
    async fn flight_sent(
        &self,
        flight: &str,
        last_valid_block_height: u64,
        ttl: Duration,
    ) -> Result<bool, StoreError>;
    /// Ends the lease. `forget`: the create is over (its room exists), drop the marker; otherwise
    /// its sent transaction, if any, keeps protecting the input until it can no longer land.
    async fn release_flight(&self, flight: &str, forget: bool) -> Result<(), StoreError>;
    /// The reconciler's atomic check before deleting a flight's input: refused (`Ok(false)`)
    /// while the lease is live or the sent `create_room` is valid at `block_height`; otherwise the
    /// flight is doomed (`Ok(true)`) and every later hold or send fails.
    async fn doom_flight(
        &self,
        flight: &str,
        block_height: u64,
        ttl: Duration,
    ) -> Result<bool, StoreError>;
}
