//! The roomcast HTTP API: create a room (Cloudflare live input + on-chain registration), watch it,
//! change it, end it. See `ARCHITECTURE.md` for the big picture and the README for the contract.

pub mod actions;
pub mod auth;
mod cache;
mod chain_watch;
pub mod client_ip;
pub mod config;
pub mod error;
pub mod events;
mod extract;
pub mod flight;
mod funds;
mod idempotency;
mod listing;
pub mod live;
mod load;
pub mod metrics;
pub mod openapi;
mod rate_limit;
mod readiness;
pub mod reconciler;
pub mod redact;
mod renewals;
mod room_changes;
mod rooms;
mod routes;
pub mod session;
pub mod shared;
pub mod state;
pub mod store;
mod throttle;
mod tombstones;
pub mod upstreams;
pub mod views;
pub mod web;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

pub use config::ServeArgs;
pub use routes::app;

use crate::auth::AuthConfig;
use crate::cache::RoomCache;
use crate::rate_limit::CreateLimits;
use crate::state::{AppState, EmbeddedInfo, PublicInfo, Settings};
use crate::store::{
    IdempotencyStore, MemoryIdempotencyStore, MemoryReplayStore, RedisIdempotencyStore,
    RedisReplayStore, ReplayStore,
};
use crate::upstreams::Upstreams;
use secrecy::ExposeSecret;

/// How far a signed request's timestamp may be from the server's clock.
const MAX_SIGNATURE_SKEW: Duration = Duration::from_secs(300);
/// How long creates in flight may take to finish once shutdown starts.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// How long `broadcasting` may be stale when no webhook updates it.
const BROADCAST_CACHE_TTL: Duration = Duration::from_secs(5);
const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);

/// `roomcast serve`: connects upstreams (or embeds them), serves until Ctrl-C/SIGTERM, then lets
/// in-flight creates finish.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let server = Server::start(args).await?;
    server.print_banner();
    roomcast_localnet::shutdown_signal().await;
    server.shutdown().await
}

/// A running API server with its upstreams (in-process; `serve` wraps it, tests drive it).
pub struct Server {
    pub addr: SocketAddr,
    pub state: state::SharedState,
    pub upstreams: Upstreams,
    operator: bool,
    stop: tokio_util::sync::CancellationToken,
    http: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    pub async fn start(args: ServeArgs) -> anyhow::Result<Server> {
        let (cloudflare_mode, chain_mode) = args.modes().map_err(anyhow::Error::msg)?;
        args.check_operator_key().map_err(anyhow::Error::msg)?;
        if args.redis_url.is_some()
            && (matches!(chain_mode, config::ChainMode::Embedded)
                || matches!(cloudflare_mode, config::CloudflareMode::Embedded))
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
        let local_addr = listener.local_addr()?;

        let upstreams = Upstreams::connect(&args, cloudflare_mode, chain_mode).await?;
        upstreams.check_registry().await?;

        let webhook_secret = match (&upstreams.emulator, &args.cloudflare_webhook_secret) {
            (_, Some(secret)) => Some(secret.clone()),
            (Some(_), None) => Some(upstreams::random_secret()),
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
            Some(origin) => Some(session::SignInOrigin::new(origin)),
            None if local_addr.ip().is_loopback() => {
                Some(session::SignInOrigin::new(&format!("http://{local_addr}")))
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
            .unwrap_or_else(|| upstreams.registry.to_string());
        let info = PublicInfo {
            program_id: upstreams.chain.program_id().to_string(),
            registry: upstreams.registry.to_string(),
            registrar: upstreams.chain.signer_pubkey().to_string(),
            rpc_url: redact::public_rpc_url(args.public_rpc_url.as_deref(), &upstreams.rpc_url),
            auth_audience: auth_audience.clone(),
            // Like the RPC URL, a WebSocket URL carrying credentials is not published.
            ws_url: redact::public_rpc_url(None, &upstreams.ws_url),
            cloudflare_customer_code: upstreams.customer_code.clone(),
            embedded: EmbeddedInfo {
                chain: upstreams.node.is_some(),
                cloudflare: upstreams.emulator.is_some(),
            },
        };
        metrics::handle();
        let sign_in_ttl = Duration::from_secs(args.sign_in_ttl_secs);
        let session_ttl = Duration::from_secs(args.session_ttl_secs);
        let (shared, idempotency, replay, create_limits, sessions, auth_throttle, funds) =
            match (&args.redis_url, &args.registrar_keypair) {
                (Some(url), Some(registrar)) => {
                    let redis = Arc::new(shared::Redis::new(
                        url.expose_secret(),
                        &upstreams.registry,
                    )?);
                    // Stored create responses are sealed with a key only the replicas can derive.
                    let registrar = roomcast_localnet::keypair_file::read(registrar)
                        .context("ROOMCAST_REGISTRAR_KEYPAIR")?;
                    let sealer = shared::seal::Sealer::new(
                        &registrar.to_bytes()[..32],
                        upstreams.registry.as_ref(),
                    );
                    let idempotency: Arc<dyn IdempotencyStore> =
                        Arc::new(RedisIdempotencyStore::new(redis.clone(), sealer));
                    let replay: Arc<dyn ReplayStore> =
                        Arc::new(RedisReplayStore::new(redis.clone()));
                    let limits = CreateLimits::shared(
                        args.create_rate_per_minute,
                        args.create_budget_per_minute,
                        redis.clone(),
                    );
                    let sessions = session::Sessions::with_store(
                        sign_in_origin.clone(),
                        Arc::new(shared::sessions::RedisSessionStore::new(redis.clone())),
                        sign_in_ttl,
                        session_ttl,
                    );
                    let throttle = throttle::AuthThrottle::shared(
                        args.auth_failures_per_minute,
                        redis.clone(),
                    );
                    let funds = funds::RegistrarFunds::shared(redis.clone());
                    (
                        Some(shared::Shared::new(redis)),
                        idempotency,
                        replay,
                        limits,
                        sessions,
                        throttle,
                        funds,
                    )
                }
                _ => (
                    None,
                    Arc::new(MemoryIdempotencyStore::new(args.idempotency_capacity)) as _,
                    Arc::new(MemoryReplayStore::new(args.replay_capacity)) as _,
                    CreateLimits::new(args.create_rate_per_minute, args.create_budget_per_minute),
                    session::Sessions::new(sign_in_origin.clone(), sign_in_ttl, session_ttl),
                    throttle::AuthThrottle::new(args.auth_failures_per_minute),
                    funds::RegistrarFunds::default(),
                ),
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
                reconciler: reconciler::ReconcilerConfig {
                    interval: Duration::from_secs(args.reconcile_interval_secs),
                    orphan_grace: Duration::from_secs(args.orphan_grace_secs),
                    max_ends_per_pass: args.reconcile_max_ends,
                    close_ended_after: args.close_ended_after.0,
                },
                ingest_notice: upstreams
                    .emulator
                    .as_ref()
                    .and_then(|e| match e.video_ingest() {
                        roomcast_stream::emulator::VideoIngest::On { .. } => None,
                        off => Some(off.banner()),
                    }),
            },
            stream: upstreams.stream.clone(),
            chain: upstreams.chain.clone(),
            registry: upstreams.registry,
            rooms: RoomCache::new(args.room_cache_ttl(), BROADCAST_CACHE_TTL),
            live: Default::default(),
            idempotency,
            auth: AuthConfig::new(
                args.operator_key.clone(),
                auth_audience,
                MAX_SIGNATURE_SKEW,
                replay,
            ),
            sessions,
            events: Default::default(),
            action_chain_id: Default::default(),
            auth_throttle,
            create_limits,
            shared,
            tombstones: Default::default(),
            funds,
            load: load::LoadLimits::new(args.max_concurrent_requests, args.read_rate_per_minute),
            tasks: TaskTracker::new(),
            info,
            readiness: readiness::Readiness::new(Duration::from_millis(args.readyz_cache_ms)),
        });

        let stop = tokio_util::sync::CancellationToken::new();
        if let Some(shared) = &state.shared {
            shared.start(state.clone(), stop.clone());
        }
        reconciler::spawn(state.clone(), state.settings.reconciler, stop.clone());
        spawn_pruning(state.clone(), stop.clone());
        if args.chain_watch {
            let keepalive = roomcast_chain::Keepalive {
                ping_every: Duration::from_secs(args.chain_watch_ping_secs),
                dead_after: Duration::from_secs(args.chain_watch_dead_secs),
            };
            chain_watch::spawn(
                state.clone(),
                upstreams.ws_url.clone(),
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
            upstreams,
            operator: args.operator_key.is_some(),
            stop,
            http,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests, lets in-flight ones and background creates finish, stops upstreams.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.stop.cancel();
        match self.http.await {
            Ok(result) => result.context("serving the API")?,
            Err(e) => tracing::error!(error = %e, "server task failed"),
        }
        tracing::info!("shutting down: waiting for in-flight creates");
        self.state.tasks.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.state.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("in-flight creates did not finish within {SHUTDOWN_GRACE:?}");
        }
        self.upstreams.shutdown().await;
        Ok(())
    }

    pub fn print_banner(&self) {
        print_banner(self.addr, &self.state, &self.upstreams, self.operator);
    }
}

/// Every minute, drops limiter state of callers whose limits have recovered.
fn spawn_pruning(state: state::SharedState, stop: tokio_util::sync::CancellationToken) {
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

fn print_banner(addr: SocketAddr, state: &AppState, upstreams: &Upstreams, operator: bool) {
    let info = &state.info;
    println!("roomcast API listening on http://{addr}");
    let chain_kind = if info.embedded.chain {
        "embedded local node"
    } else {
        "cluster"
    };
    println!(
        "Solana RPC ({chain_kind}): {}",
        redact::redact_url(&upstreams.rpc_url)
    );
    println!(
        "Solana WebSocket: {}",
        redact::redact_url(&upstreams.ws_url)
    );
    println!("Program id: {}", info.program_id);
    println!("Registry: {}", info.registry);
    println!("Registrar: {}", info.registrar);
    match &upstreams.emulator {
        Some(emulator) => {
            println!(
                "Cloudflare Stream (embedded emulator): {}",
                emulator.api_base_url()
            );
            println!(
                "Stream emulator control: {}/__emulator",
                emulator.delivery_base_url()
            );
            println!("{}", emulator.video_ingest().banner());
        }
        None => println!(
            "Cloudflare Stream: account API ({})",
            info.cloudflare_customer_code
        ),
    }
    match &upstreams.data_dir {
        Some(dir) => println!(
            "Data dir: {} (local node ledger, registrar keypair, emulator live inputs)",
            dir.display()
        ),
        None if info.embedded.chain || info.embedded.cloudflare => {
            println!("Data dir: none (--ephemeral: nothing is kept)")
        }
        None => {}
    }
    match &state.shared {
        Some(shared) => println!(
            "Shared state: Redis (keys under {}; replica {})",
            shared.redis.prefix(),
            shared.redis.replica
        ),
        None => println!(
            "Shared state: single replica (in memory; set ROOMCAST_REDIS_URL to run several)"
        ),
    }
    println!(
        "Operator key: {}",
        if operator {
            "configured"
        } else {
            "not configured (host signatures only)"
        }
    );
}

/// Initializes logging (`--log-format json` for structured logs). Never logs request bodies.
pub fn init_tracing(format: config::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        config::LogFormat::Json => builder.json().try_init(),
        config::LogFormat::Text => builder.try_init(),
    };
}
