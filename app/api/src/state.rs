//! The server's state, handed to every handler and job: settings, the upstream clients, and one
//! instance of each `live`, `guard` and `store` piece. The layers below never see it (they take
//! the narrow piece they need); the few actions that touch several pieces at once are methods
//! here ([`AppState::apply_broadcast`], [`AppState::bury`]), and it is the [`ReplicaSink`] other
//! replicas' changes land in.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use roomcast_chain::{Pubkey, RoomcastChain};
use roomcast_stream::client::StreamClient;
use secrecy::SecretString;
use tokio_util::task::TaskTracker;

use crate::core::broadcast::{Applied, Broadcast};
use crate::core::config::ReconcilerConfig;
use crate::core::error::AppError;
use crate::guard::auth::AuthConfig;
use crate::guard::limits::CreateLimits;
use crate::live::broadcasts::Broadcasts;
use crate::live::cache::RoomCache;
use crate::live::replicas::Replicas;
use crate::store::{IdempotencyStore, ReplicaSink, StoreError};

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
    pub reconciler: ReconcilerConfig,
    /// Told to hosts in the create answer when the embedded emulator cannot take video (no
    /// ffmpeg: how to install it).
    pub ingest_notice: Option<String>,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `scheme://host[:port]` sign-ins are bound to and absolute URLs (Action icons) use:
    /// `ROOMCAST_PUBLIC_ORIGIN`, else the listen address when loopback; `None` otherwise.
    pub public_origin: Option<String>,
    /// How long a gated room's signed playback URLs are valid.
    pub playback_token_ttl: Duration,
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
    /// The `AUDIENCE` line of signed requests to this server (see `guard::auth`).
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
    /// Viewer answers kept serialized per room (`live::views`).
    pub views: crate::live::views::RenderedViews,
    /// Discovery items kept serialized per room (`live::views`).
    pub list_items: crate::live::views::RenderedViews<crate::live::views::ListItemInputs>,
    /// Discovery's background reads of listed rooms' upstream state (`live::fills`).
    pub fills: crate::live::fills::Fills,
    /// Every room of the registry, fed by the chain (`live::index`, `jobs::room_index`):
    /// discovery reads it.
    pub index: crate::live::index::RoomIndex,
    /// Encoder state per session id (`live::broadcasts`: notifications, else `lifecycle`).
    pub broadcasts: Broadcasts,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub auth: AuthConfig,
    /// Sign-In With Solana sessions (`guard::sign_in`).
    pub sign_in: crate::guard::sign_in::Sessions,
    /// Each watched room's feed, read by `GET /api/rooms/{room}/events` (`http::sse`).
    pub feeds: crate::live::feeds::RoomFeeds,
    /// The cluster's CAIP-2 id for `X-Blockchain-Ids`, asked once.
    pub action_chain_id: tokio::sync::OnceCell<String>,
    /// 401s per client address (repeated failures get 429).
    pub auth_throttle: crate::guard::throttle::AuthThrottle,
    pub create_limits: CreateLimits,
    /// Redis shared with other replicas; `None` for a single replica (all state in memory).
    pub replicas: Option<Replicas>,
    /// The registrar's balance as far as creates are concerned.
    pub funds: crate::guard::funds::RegistrarFunds,
    /// Rooms this server closed: 410 for viewers while remembered.
    pub tombstones: crate::live::tombstones::Tombstones,
    /// Requests in flight and per-IP reads.
    pub load: crate::guard::load::LoadLimits,
    /// Work that must finish even if the client goes away (creates), awaited on shutdown.
    pub tasks: TaskTracker,
    pub info: PublicInfo,
    /// `/readyz`'s cached upstream checks.
    pub readiness: crate::live::readiness::Readiness,
    /// Gated rooms, for public reads (`live::gates`).
    pub gates: crate::live::gates::Gates,
    /// Signed playback for gated rooms: the signing key and the grant limits (`guard::playback`).
    pub playback_signer: crate::guard::playback::PlaybackSigner,
    pub grant_limits: crate::guard::playback::GrantLimits,
    /// Tips per room, read back from the chain (`live::tips`, `rooms::tips`).
    pub tips: crate::live::tips::TipLedger,
    /// Whole public answers kept by request while [`AppState::answers_version`] stands
    /// (`live::answers`).
    pub answers: crate::live::answers::KeptAnswers,
}

/// What handlers and jobs hold: one `AppState` for the whole process.
pub type StateRef = Arc<AppState>;

impl AppState {
    /// Moves whenever anything a public room answer is made of changes: the sum of the change
    /// counters of the room index, cached rooms, broadcast states, gates, tip totals and
    /// discovery's background fills (each only grows, so the sum stands still exactly while none
    /// of them moves).
    pub fn answers_version(&self) -> u64 {
        self.index.changes()
            + self.rooms.changes()
            + self.broadcasts.changes()
            + self.gates.changes()
            + self.tips.changes()
            + self.fills.changes()
    }

    /// Refuses the request unless shared state is reachable (no-op for a single replica).
    pub async fn require_replicas(&self) -> Result<(), AppError> {
        match &self.replicas {
            Some(replicas) => replicas.require().await,
            None => Ok(()),
        }
    }

    /// Applies an encoder state: in Redis for every replica (then here), or in this process.
    pub async fn apply_broadcast(
        &self,
        session_id: &str,
        next: Broadcast,
    ) -> Result<Applied, StoreError> {
        let applied = match &self.replicas {
            // Redis decides what is newest; the other replicas hear it from the channel.
            Some(replicas) => {
                let applied = replicas.bus.apply_broadcast(session_id, &next).await?;
                if applied == Applied::Updated {
                    self.broadcasts.apply(session_id, next);
                }
                applied
            }
            None => self.broadcasts.apply(session_id, next),
        };
        Ok(applied)
    }

    /// Remembers a room this server closed (410 for its viewers): here, and for every replica.
    pub async fn bury(&self, room: Pubkey) {
        self.tombstones.bury(room);
        self.index.remove(&room, u64::MAX);
        if let Some(replicas) = &self.replicas {
            if let Err(e) = replicas.bus.bury(&room).await {
                tracing::warn!(error = %e, %room, "could not tell other replicas a room was closed");
            }
        }
    }
}

/// Another replica's changes, applied to this replica's view only.
#[async_trait]
impl ReplicaSink for AppState {
    async fn broadcast_changed(&self, session_id: &str, broadcast: Broadcast) {
        self.broadcasts.apply(session_id, broadcast);
    }

    async fn room_changed(&self, address: &Pubkey) {
        self.rooms.invalidate_local(address).await;
    }

    async fn room_closed(&self, address: &Pubkey) {
        self.tombstones.bury(*address);
        self.index.remove(address, u64::MAX);
        self.rooms.invalidate_local(address).await;
    }

    fn closed_before(&self, address: Pubkey) {
        self.tombstones.bury(address);
    }

    fn resubscribed(&self) {
        self.rooms.invalidate_all_local();
    }
}
