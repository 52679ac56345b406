//! Start-up and shutdown: builds the state from the settings and the upstreams its caller
//! connected, starts the background jobs, serves the router until stopped.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rand::RngCore;
use roomcast_chain::{Pubkey, RoomcastChain};
use roomcast_stream::client::StreamClient;
use roomcast_stream::emulator::EmulatorHandle;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

use crate::core::config::{ChainMode, CloudflareMode, ReconcilerConfig, ServeArgs};
use crate::core::redact;
use crate::guard::auth::AuthConfig;
use crate::guard::funds::RegistrarFunds;
use crate::guard::limits::CreateLimits;
use crate::guard::load::LoadLimits;
use crate::guard::sign_in::{NonceKey, Sessions, SignInOrigin};
use crate::guard::streams::StreamLimits;
use crate::guard::throttle::AuthThrottle;
use crate::http::app;
use crate::jobs;
use crate::live::broadcasts::Broadcasts;
use crate::live::cache::RoomCache;
use crate::live::readiness::Readiness;
use crate::live::replicas::Replicas;
use crate::state::{AppState, EmbeddedInfo, PublicInfo, Settings, StateRef};
use crate::store::memory::{MemoryAuthFailures, MemoryCreateCounters, MemoryFunds};
use crate::store::redis::auth_failures::SharedAuthFailures;
use crate::store::redis::funds::SharedFunds;
use crate::store::redis::limits::SharedLimiter;
use crate::store::redis::replicas::Keepalive;
use crate::store::redis::seal::Sealer;
use crate::store::redis::sign_in::RedisSessionStore;
use crate::store::redis::Redis;
use crate::store::{
    IdempotencyStore, MemoryIdempotencyStore, MemoryReplayStore, RedisIdempotencyStore,
    RedisReplayStore, ReplayStore,
};

/// How far a signed request's timestamp may be from the server's clock.
const MAX_SIGNATURE_SKEW: Duration = Duration::from_secs(300);
/// How long a `lifecycle` answer stands for `broadcasting` when no webhook updates it.
const BROADCAST_CACHE_TTL: Duration = Duration::from_secs(5);
/// How long a room's live viewer count is reused.
const VIEWERS_CACHE_TTL: Duration = Duration::from_secs(10);
const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);

/// The two upstreams' clients and addresses: what any caller connects (real ones, or the
/// embedded local node and Stream emulator — the same HTTP/JSON-RPC clients either way).
#[derive(Clone)]
pub struct Clients {
    pub stream: StreamClient,
    pub customer_code: String,
    /// Signs as the registry's registrar.
    pub chain: RoomcastChain,
    pub registry: Pubkey,
    pub rpc_url: String,
    /// WebSocket PubSub URL of the same cluster.
    pub ws_url: String,
}

/// What the server talks to, connected by its caller (`roomcast-app`).
pub struct Upstreams<'a> {
    pub clients: Clients,
    /// True when the chain is a local node inside this process (`GET /api/info` says so).
    pub embedded_chain: bool,
    /// The Stream emulator inside this process, if any: its webhook is pointed at this server and
    /// its video ingest state is told to hosts.
    pub emulator: Option<&'a EmulatorHandle>,
    /// The registrar's 32-byte secret key, when replicas share Redis: stored create responses are
    /// sealed with a key derived from it.
    pub registrar_secret: Option<[u8; 32]>,
    /// Where the embedded default keeps its Stream signing key (in the data dir; `None` with
    /// `--ephemeral`: kept in memory for the process). Unused when a key is configured.
    pub signing_key_file: Option<std::path::PathBuf>,
}

/// The first step of a start: settings checked that need no upstream, and the port bound (so a
/// busy port fails before any upstream is started).
pub struct Listener {
    listener: TcpListener,
    pub addr: SocketAddr,
}

impl Listener {
    pub async fn bind(args: &ServeArgs) -> anyhow::Result<Listener> {
        let (cloudflare_mode, chain_mode) = args.modes().map_err(anyhow::Error::msg)?;
        args.check_operator_key().map_err(anyhow::Error::msg)?;
        if args.redis_url.is_some()
            && (matches!(chain_mode, ChainMode::Embedded)
                || matches!(cloudflare_mode, CloudflareMode::Embedded))
        {
            anyhow::bail!("ROOMCAST_REDIS_URL needs SOLANA_RPC_URL, ROOMCAST_REGISTRAR_KEYPAIR and the Cloudflare settings: replicas must share one chain, one registrar and one Cloudflare account");
        }
        // A quiet but healthy link answers a ping within one interval; a shorter silence limit
        // would drop it over and over.
        anyhow::ensure!(
            args.chain_watch_dead_secs > args.chain_watch_ping_secs,
            "ROOMCAST_CHAIN_WATCH_DEAD_SECS ({}) must be longer than ROOMCAST_CHAIN_WATCH_PING_SECS ({})",
            args.chain_watch_dead_secs,
            args.chain_watch_ping_secs
        );
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        Ok(Listener { listener, addr })
    }
}

/// A running API server (in-process; `roomcast-app` wraps it with its upstreams).
pub struct Server {
    pub addr: SocketAddr,
    pub state: StateRef,
    stop: tokio_util::sync::CancellationToken,
    http: tokio::task::JoinHandle<std::io::Result<()>>,
    /// How long requests and creates in flight get once shutdown starts.
    drain: Duration,
}

impl Server {
    /// Serves `args` on `listener` with `upstreams`: checks the registry, wires the emulator's
    /// webhook (if any) to this server, builds the state and starts the background jobs.
    pub async fn start(
        args: &ServeArgs,
        listener: Listener,
        upstreams: Upstreams<'_>,
    ) -> anyhow::Result<Server> {
        let Listener {
            listener,
            addr: local_addr,
        } = listener;
        check_registry(&upstreams.clients.chain, &upstreams.clients.registry).await?;

        let webhook_secret = match (&upstreams.emulator, &args.cloudflare_webhook_secret) {
            (_, Some(secret)) => Some(secret.clone()),
            (Some(_), None) => Some(random_secret()),
            (None, None) => None,
        };
        if let (Some(emulator), Some(secret)) = (&upstreams.emulator, &webhook_secret) {
            emulator.set_webhook(Some(roomcast_stream::emulator::WebhookTarget {
                url: format!("http://{local_addr}/api/webhooks/cloudflare"),
                secret: Some(secret.clone()),
            }));
        }

        // Sign-in is bound to one origin: the configured public one, else the listen address when
        // only this machine can reach it. A non-loopback listener without ROOMCAST_PUBLIC_ORIGIN
        // has sessions off (503 sign_in_unavailable): its Host header is the client's to choose.
        let sign_in_origin = match &args.public_origin {
            Some(origin) => Some(SignInOrigin::new(origin)),
            None if local_addr.ip().is_loopback() => {
                Some(SignInOrigin::new(&format!("http://{local_addr}")))
            }
            None => {
                tracing::warn!(
                    listen = %local_addr,
                    "sign-in with a wallet is off: set ROOMCAST_PUBLIC_ORIGIN to the URL hosts open"
                );
                None
            }
        };
        let auth_audience = args
            .public_origin
            .clone()
            .unwrap_or_else(|| upstreams.clients.registry.to_string());
        let info = PublicInfo {
            program_id: upstreams.clients.chain.program_id().to_string(),
            registry: upstreams.clients.registry.to_string(),
            registrar: upstreams.clients.chain.signer_pubkey().to_string(),
            rpc_url: redact::public_rpc_url(
                args.public_rpc_url.as_deref(),
                &upstreams.clients.rpc_url,
            ),
            auth_audience: auth_audience.clone(),
            // Like the RPC URL, a WebSocket URL carrying credentials is not published.
            ws_url: redact::public_rpc_url(None, &upstreams.clients.ws_url),
            cloudflare_customer_code: upstreams.clients.customer_code.clone(),
            embedded: EmbeddedInfo {
                chain: upstreams.embedded_chain,
                cloudflare: upstreams.emulator.is_some(),
            },
        };
        crate::http::metrics::handle();
        let sign_in_ttl = Duration::from_secs(args.sign_in_ttl_secs);
        let session_ttl = Duration::from_secs(args.session_ttl_secs);
        let (replicas, idempotency, replay, create_limits, sign_in, auth_throttle, funds) =
            match (&args.redis_url, &upstreams.registrar_secret) {
                (Some(url), Some(registrar_secret)) => {
                    let settings = redis_settings(args, url.expose_secret());
                    let redis = Arc::new(Redis::new(&settings, &upstreams.clients.registry)?);
                    crate::store::redis::preflight::check(
                        &redis,
                        settings.mode,
                        settings.wait_replicas > 0,
                    )
                    .await?;
                    // Stored create responses are sealed with a key only the replicas can derive.
                    let sealer = Sealer::new(registrar_secret, upstreams.clients.registry.as_ref());
                    let idempotency: Arc<dyn IdempotencyStore> =
                        Arc::new(RedisIdempotencyStore::new(redis.clone(), sealer));
                    let replay: Arc<dyn ReplayStore> =
                        Arc::new(RedisReplayStore::new(redis.clone()));
                    let limits = CreateLimits::new(
                        args.create_rate_per_minute,
                        args.create_budget_per_minute,
                        Arc::new(SharedLimiter::new(redis.clone())),
                    );
                    let sign_in = Sessions::with_store(
                        sign_in_origin.clone(),
                        Arc::new(RedisSessionStore::new(redis.clone())),
                        // Every replica tags and checks nonces with the same key.
                        NonceKey::derived(registrar_secret, upstreams.clients.registry.as_ref()),
                        sign_in_ttl,
                        session_ttl,
                    );
                    let throttle = AuthThrottle::new(
                        args.auth_failures_per_minute,
                        Arc::new(SharedAuthFailures::new(redis.clone())),
                    );
                    let funds = RegistrarFunds::new(Arc::new(SharedFunds::new(redis.clone())));
                    (
                        Some(Replicas::new(redis).with_keepalive(Keepalive {
                            ping_every: Duration::from_secs(args.redis_ping_secs),
                            dead_after: Duration::from_secs(args.redis_dead_secs),
                        })),
                        idempotency,
                        replay,
                        limits,
                        sign_in,
                        throttle,
                        funds,
                    )
                }
                _ => (
                    None,
                    Arc::new(MemoryIdempotencyStore::new(args.idempotency_capacity)) as _,
                    Arc::new(MemoryReplayStore::new(args.replay_capacity)) as _,
                    CreateLimits::new(
                        args.create_rate_per_minute,
                        args.create_budget_per_minute,
                        Arc::new(MemoryCreateCounters::new(
                            args.create_rate_per_minute,
                            args.create_budget_per_minute,
                        )),
                    ),
                    Sessions::new(sign_in_origin.clone(), sign_in_ttl, session_ttl),
                    AuthThrottle::new(
                        args.auth_failures_per_minute,
                        Arc::new(MemoryAuthFailures::default()),
                    ),
                    RegistrarFunds::new(Arc::new(MemoryFunds::default())),
                ),
            };
        // Grants are counted where creates are: Redis for every replica, or this one's memory.
        let grant_counters: Arc<dyn crate::store::GrantCounters> = match &replicas {
            Some(replicas) => Arc::new(crate::store::redis::grants::SharedGrantCounters::new(
                replicas.redis.clone(),
            )),
            None => Arc::new(crate::store::memory::MemoryGrantCounters::default()),
        };
        let state = Arc::new(AppState {
            settings: Settings {
                max_body_bytes: args.max_body_bytes,
                delete_recording_after_days: args.delete_recording_after_days,
                request_timeout: Duration::from_secs(args.request_timeout_secs),
                idempotency_ttl: IDEMPOTENCY_TTL,
                registrar_min_lamports: args.registrar_min_lamports,
                webhook_secret,
                trusted_proxies: args.trusted_proxies.clone(),
                public_origin: sign_in_origin.as_ref().map(|o| o.origin.clone()),
                playback_token_ttl: Duration::from_secs(args.playback_token_secs),
                reconciler: ReconcilerConfig {
                    interval: Duration::from_secs(args.reconcile_interval_secs),
                    orphan_grace: Duration::from_secs(args.orphan_grace_secs),
                    max_ends_per_pass: args.reconcile_max_ends,
                    close_ended_after: args.close_ended_after.0,
                },
                // Real video (RTMP, SRT and WebRTC) runs locally: nothing to say then.
                ingest_notice: upstreams.emulator.and_then(|e| match e.video_ingest() {
                    roomcast_stream::emulator::VideoIngest::On { .. } => None,
                    off => Some(off.banner()),
                }),
            },
            stream: upstreams.clients.stream.clone(),
            chain: upstreams.clients.chain.clone(),
            registry: upstreams.clients.registry,
            rooms: RoomCache::new(args.room_cache_ttl(), VIEWERS_CACHE_TTL),
            index: Default::default(),
            views: Default::default(),
            list_items: Default::default(),
            fills: Default::default(),
            broadcasts: Broadcasts::new(BROADCAST_CACHE_TTL),
            idempotency,
            auth: AuthConfig::new(
                args.operator_key.clone(),
                auth_audience,
                MAX_SIGNATURE_SKEW,
                replay,
            ),
            sign_in,
            feeds: Default::default(),
            tips: Default::default(),
            action_chain_id: Default::default(),
            auth_throttle,
            create_limits,
            replicas,
            tombstones: Default::default(),
            funds,
            load: LoadLimits::new(
                args.max_concurrent_requests,
                args.read_rate_per_minute,
                StreamLimits::new(
                    usize::try_from(args.sse_max_per_client).unwrap_or(usize::MAX),
                    usize::try_from(args.sse_max_streams).unwrap_or(usize::MAX),
                    Duration::from_secs(args.sse_max_lifetime_secs),
                ),
            ),
            tasks: TaskTracker::new(),
            info,
            readiness: Readiness::new(Duration::from_millis(args.readyz_cache_ms)),
            gates: crate::live::gates::Gates::new(args.room_cache_ttl()),
            playback_signer: crate::guard::playback::PlaybackSigner::new(
                configured_signing_key(args)?,
                upstreams.signing_key_file.clone(),
            ),
            grant_limits: crate::guard::playback::GrantLimits::new(
                args.playback_grants_per_minute.get(),
                Duration::from_secs(60),
                grant_counters,
            ),
            answers: crate::live::answers::KeptAnswers::new(
                Duration::from_millis(args.answers_fresh_ms).min(args.room_cache_ttl()),
            ),
        });

        let stop = tokio_util::sync::CancellationToken::new();
        if let Some(replicas) = &state.replicas {
            replicas.start(state.clone(), &state.rooms, stop.clone());
        }
        jobs::spawn_reconciler(
            state.clone(),
            state.replicas.as_ref().map(|r| r.redis.clone()),
            state.settings.reconciler,
            stop.clone(),
        );
        spawn_pruning(state.clone(), stop.clone());
        jobs::room_index::spawn(
            state.clone(),
            Duration::from_secs(args.index_resync_secs),
            stop.clone(),
        );
        if args.chain_watch {
            let keepalive = roomcast_chain::Keepalive {
                ping_every: Duration::from_secs(args.chain_watch_ping_secs),
                dead_after: Duration::from_secs(args.chain_watch_dead_secs),
            };
            jobs::chain_watch::spawn(
                state.clone(),
                upstreams.clients.ws_url.clone(),
                keepalive,
                stop.clone(),
            );
        }
        let router = app(state.clone(), &args.cors_origins);
        let http_stop = stop.clone();
        let http = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move { http_stop.cancelled().await })
            .await
        });
        Ok(Server {
            addr: local_addr,
            state,
            stop,
            http,
            drain: Duration::from_secs(args.shutdown_drain_secs),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests; event streams end at once, requests in flight and background
    /// creates get the drain time (`ROOMCAST_SHUTDOWN_DRAIN_SECS`), after which open connections
    /// are dropped — so no client can hold the shutdown (and the caller's final saves) up. The
    /// upstreams are the caller's to stop.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + self.drain;
        tracing::info!(
            drain_secs = self.drain.as_secs(),
            "shutting down: event streams end now, requests get the drain time"
        );
        self.state.feeds.close();
        self.stop.cancel();
        let mut http = self.http;
        match tokio::time::timeout_at(deadline, &mut http).await {
            Ok(Ok(result)) => result.context("serving the API")?,
            Ok(Err(e)) => tracing::error!(error = %e, "server task failed"),
            Err(_) => {
                tracing::warn!("connections still open after the drain time: dropping them");
                http.abort();
            }
        }
        tracing::info!("shutting down: waiting for in-flight creates");
        self.state.tasks.close();
        if tokio::time::timeout_at(deadline, self.state.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "in-flight creates did not finish within the drain time; the reconciler and \
                 their idempotency journal finish them after a restart"
            );
        }
        Ok(())
    }
}

/// Every minute, drops limiter state of callers whose limits have recovered.
fn spawn_pruning(state: StateRef, stop: tokio_util::sync::CancellationToken) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(60)) => {
                    state.create_limits.prune();
                    state.load.prune();
                }
            }
        }
    });
}

/// Checks that the registry exists and names this server's key as registrar.
/// The configured Stream signing key (id and PEM together, or neither).
fn configured_signing_key(
    args: &ServeArgs,
) -> anyhow::Result<Option<roomcast_stream::signed_urls::SigningKey>> {
    use secrecy::ExposeSecret;
    match (
        &args.cloudflare_signing_key_id,
        &args.cloudflare_signing_key_pem,
    ) {
        (None, None) => Ok(None),
        (Some(id), Some(pem)) => {
            roomcast_stream::signed_urls::SigningKey::from_pem(id, pem.expose_secret())
                .map(Some)
                .map_err(|e| anyhow::anyhow!("CLOUDFLARE_STREAM_SIGNING_KEY_PEM: {e}"))
        }
        _ => anyhow::bail!(
            "CLOUDFLARE_STREAM_SIGNING_KEY_ID and CLOUDFLARE_STREAM_SIGNING_KEY_PEM go together"
        ),
    }
}

pub async fn check_registry(chain: &RoomcastChain, registry: &Pubkey) -> anyhow::Result<()> {
    let found = tokio::time::timeout(Duration::from_secs(10), chain.registry(registry))
        .await
        .context("timed out reading the registry from SOLANA_RPC_URL")?
        .with_context(|| format!("cannot read registry {registry} from the RPC node"))?
        .with_context(|| {
            format!(
                "registry {registry} does not exist (run `roomcast registry init` or migrations/deploy.ts)"
            )
        })?;
    anyhow::ensure!(
        found.registrar == chain.signer_pubkey(),
        "registry {} names registrar {}, but ROOMCAST_REGISTRAR_KEYPAIR is {}",
        registry,
        found.registrar,
        chain.signer_pubkey()
    );
    Ok(())
}

/// A random secret for the embedded emulator's webhook.
fn random_secret() -> SecretString {
    let mut buf = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut buf);
    SecretString::from(hex::encode(buf))
}

/// The Redis settings of `serve`'s flags.
fn redis_settings(args: &ServeArgs, url: &str) -> crate::store::redis::connect::Settings {
    use crate::core::config::RedisMode;
    crate::store::redis::connect::Settings {
        mode: args.redis_mode,
        url: url.to_string(),
        master: args.redis_master.clone(),
        ca_file: args.redis_ca_file.clone(),
        client_cert: args.redis_client_cert.clone(),
        client_key: args.redis_client_key.clone(),
        sentinel_username: args.redis_sentinel_username.clone(),
        sentinel_password: args
            .redis_sentinel_password
            .as_ref()
            .map(|p| p.expose_secret().to_string()),
        wait_replicas: args.redis_wait_replicas.unwrap_or(
            if args.redis_mode == RedisMode::Sentinel {
                1
            } else {
                0
            },
        ),
        wait_timeout: Duration::from_millis(args.redis_wait_ms),
    }
}
