//! Shared state of the API: upstream clients, caches, auth and limits.
use std::sync::Arc;
use std::time::Duration;

use roomcast_chain::{Pubkey, RoomcastChain};
use roomcast_stream::client::StreamClient;
use secrecy::SecretString;
use tokio_util::task::TaskTracker;

use crate::auth::AuthConfig;
use crate::cache::RoomCache;
use crate::live::LiveStates;
use crate::rate_limit::CreateLimits;
use crate::store::IdempotencyStore;

pub struct Settings {
    pub max_body_bytes: usize,
    pub delete_recording_after_days: u32,
    pub request_timeout: Duration,
    /// How long a finished create is replayed to retries with its `Idempotency-Key`.
    pub idempotency_ttl: Duration,
    /// Creates stop before the registrar's balance would drop below this.
    pub registrar_min_lamports: u64,
    /// `cf-webhook-auth` secret for Cloudflare live notifications; `None` disables the webhook.
    pub webhook_secret: Option<SecretString>,
    pub reconciler: crate::reconciler::ReconcilerConfig,
    /// Told to hosts in the create answer when rooms cannot take video (embedded emulator
    /// without ffmpeg).
    pub ingest_notice: Option<String>,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `scheme://host[:port]` sign-ins are bound to and absolute URLs (Action icons) use:
    /// `ROOMCAST_PUBLIC_ORIGIN`, else the listen address when loopback; `None` otherwise.
    pub public_origin: Option<String>,
}

/// What `GET /api/info` tells a frontend, so its wallet talks to the same chain.
#[derive(Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicInfo {
    pub program_id: String,
    pub registry: String,
    pub registrar: String,
    /// The cluster RPC URL wallets should use (`ROOMCAST_PUBLIC_RPC_URL`, else the server's own
    /// when it carries no credentials, else `null`).
    pub rpc_url: Option<String>,
    /// The `AUDIENCE` line of signed requests to this server (see `auth.rs`).
    pub auth_audience: String,
    /// The cluster's WebSocket PubSub URL (subscriptions: `signatureSubscribe`, `logsSubscribe`, …);
    /// `null` when the configured one carries credentials.
    pub ws_url: Option<String>,
    pub cloudflare_customer_code: String,
    pub embedded: EmbeddedInfo,
}

#[derive(Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddedInfo {
    /// True when the local node runs inside this server.
    pub chain: bool,
    /// True when the Stream emulator runs inside this server.
    pub cloudflare: bool,
}

pub struct AppState {
    pub settings: Settings,
    pub stream: StreamClient,
    /// Signs as the registry's registrar.
    pub chain: RoomcastChain,
    pub registry: Pubkey,
    pub rooms: RoomCache,
    /// Encoder state per session id, from notifications and the reconciler.
    pub live: LiveStates,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub auth: AuthConfig,
    /// Sign-In With Solana sessions (`session.rs`).
    pub sessions: crate::session::Sessions,
    /// Live room updates for `GET /api/rooms/{room}/events` (`events.rs`).
    pub events: crate::events::EventHub,
    /// The cluster's CAIP-2 id for `X-Blockchain-Ids`, asked once.
    pub action_chain_id: tokio::sync::OnceCell<String>,
    /// 401s per client address (repeated failures get 429).
    pub auth_throttle: crate::throttle::AuthThrottle,
    pub create_limits: CreateLimits,
    /// Redis shared with other replicas; `None` for a single replica (all state in memory).
    pub shared: Option<crate::shared::Shared>,
    /// The registrar's balance as far as creates are concerned.
    pub funds: crate::funds::RegistrarFunds,
    /// Rooms this server closed: 410 for viewers while remembered.
    pub tombstones: crate::tombstones::Tombstones,
    /// Requests in flight and per-IP reads.
    pub load: crate::load::LoadLimits,
    /// Work that must finish even if the client goes away (creates), awaited on shutdown.
    pub tasks: TaskTracker,
    pub info: PublicInfo,
    /// `/readyz`'s cached upstream checks.
    pub readiness: crate::readiness::Readiness,
}

pub type SharedState = Arc<AppState>;
