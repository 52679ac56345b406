//! `roomcast serve` settings: flags, environment, and `.env` (read by the binary before parsing).
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use roomcast_chain::Pubkey;
use secrecy::SecretString;

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to serve the API on.
    #[arg(long, env = "ROOMCAST_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Cloudflare account id. Without any Cloudflare setting, an embedded Stream emulator is used.
    #[arg(long, env = "CLOUDFLARE_ACCOUNT_ID")]
    pub cloudflare_account_id: Option<String>,
    /// Cloudflare API token with Stream Write.
    #[arg(long, env = "CLOUDFLARE_API_TOKEN", hide_env_values = true)]
    pub cloudflare_api_token: Option<SecretString>,
    /// Customer subdomain code (`customer-<CODE>.cloudflarestream.com`).
    #[arg(long, env = "CLOUDFLARE_CUSTOMER_CODE")]
    pub cloudflare_customer_code: Option<String>,
    /// API base URL (for a proxy or the emulator).
    #[arg(long, env = "CLOUDFLARE_API_URL")]
    pub cloudflare_api_url: Option<String>,
    /// Delivery base URL (default `https://customer-<CODE>.cloudflarestream.com`).
    #[arg(long, env = "CLOUDFLARE_DELIVERY_URL")]
    pub cloudflare_delivery_url: Option<String>,
    /// Secret Cloudflare sends in `cf-webhook-auth` with live-input notifications.
    #[arg(long, env = "CLOUDFLARE_WEBHOOK_SECRET", hide_env_values = true)]
    pub cloudflare_webhook_secret: Option<SecretString>,
    /// Stream signing key for gated rooms' playback tokens: its id (`POST /stream/keys`' `id`), with
    /// CLOUDFLARE_STREAM_SIGNING_KEY_PEM. Without both, the server makes one through the keys API at
    /// its first grant and keeps it for the process.
    #[arg(long, env = "CLOUDFLARE_STREAM_SIGNING_KEY_ID")]
    pub cloudflare_signing_key_id: Option<String>,
    /// The signing key's `pem` as Cloudflare shows it (base64 of a PEM, or the PEM itself).
    #[arg(
        long,
        env = "CLOUDFLARE_STREAM_SIGNING_KEY_PEM",
        hide_env_values = true
    )]
    pub cloudflare_signing_key_pem: Option<SecretString>,
    /// How long a gated room's signed playback URLs are valid (60..=1800 s); pages renew before.
    #[arg(long, env = "ROOMCAST_PLAYBACK_TOKEN_SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(60..=1800))]
    pub playback_token_secs: u64,
    /// Playback grants allowed per minute per wallet and per client IP (each replica counts its own).
    #[arg(
        long,
        env = "ROOMCAST_PLAYBACK_GRANTS_PER_MINUTE",
        default_value = "30"
    )]
    pub playback_grants_per_minute: NonZeroU32,
    /// RTMP ingest of the embedded Stream emulator (port 0 = any free port). Needs ffmpeg on PATH
    /// or in ROOMCAST_FFMPEG; without it the server starts with video ingest off.
    #[arg(long, env = "ROOMCAST_RTMP_LISTEN", default_value = "127.0.0.1:1935")]
    pub rtmp_listen: SocketAddr,
    /// SRT ingest of the embedded Stream emulator (UDP, port 0 = any free port): one port for
    /// every input, `streamid` + `passphrase` as Cloudflare's. Runs with RTMP ingest.
    #[arg(long, env = "ROOMCAST_SRT_LISTEN", default_value = "127.0.0.1:7780")]
    pub srt_listen: SocketAddr,

    /// Solana JSON-RPC URL. Without it, an embedded local node is started.
    #[arg(long, env = "SOLANA_RPC_URL")]
    pub rpc_url: Option<String>,
    /// The RPC URL published to wallets in `/api/info` (default: SOLANA_RPC_URL when it carries no
    /// credentials — an API key in the query or path — else none).
    #[arg(long, env = "ROOMCAST_PUBLIC_RPC_URL")]
    pub public_rpc_url: Option<String>,
    /// Solana WebSocket PubSub URL, for pushed room changes. Default: derived from SOLANA_RPC_URL
    /// (`ws(s)://`, port + 1 when a port is given), or the embedded node's.
    #[arg(long, env = "SOLANA_WS_URL")]
    pub ws_url: Option<String>,
    /// Where the embedded local node's ledger, the embedded registrar's keypair and the embedded
    /// emulator's live inputs are kept across restarts (like solana-test-validator's test-ledger/).
    #[arg(
        long,
        env = "ROOMCAST_DATA_DIR",
        value_name = "DIR",
        default_value = ".roomcast"
    )]
    pub data_dir: PathBuf,
    /// Keep nothing: a fresh embedded chain, registrar and emulator on every start.
    #[arg(long, env = "ROOMCAST_EPHEMERAL")]
    pub ephemeral: bool,
    /// Subscribe to room changes over WebSocket (`false`: the reconciler's polling only).
    #[arg(long, env = "ROOMCAST_CHAIN_WATCH", default_value_t = true, action = clap::ArgAction::Set)]
    pub chain_watch: bool,
    /// Seconds between WebSocket pings on the room subscription.
    #[arg(long, env = "ROOMCAST_CHAIN_WATCH_PING_SECS", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub chain_watch_ping_secs: u64,
    /// Seconds without any answer (no pong, no message) after which the room subscription is
    /// presumed dead (NAT timeout, half-open TCP) and re-established.
    #[arg(long, env = "ROOMCAST_CHAIN_WATCH_DEAD_SECS", default_value_t = 45,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub chain_watch_dead_secs: u64,
    /// Seconds between catch-ups of the room index with the chain (the program's transactions
    /// since the index's checkpoint, only the rooms they wrote read whole; a sliced listing when
    /// the history cannot answer). Without the chain watcher this bounds how stale discovery
    /// is; with it, it bounds how long a room closed by someone else stays listed.
    #[arg(long, env = "ROOMCAST_INDEX_RESYNC_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub index_resync_secs: u64,
    /// Registrar keypair file (signs create/set_live/end and pays rent). Required with --rpc-url.
    #[arg(long, env = "ROOMCAST_REGISTRAR_KEYPAIR")]
    pub registrar_keypair: Option<PathBuf>,
    /// The roomcast program id.
    #[arg(long, env = "ROOMCAST_PROGRAM_ID", default_value_t = roomcast_chain::PROGRAM_ID)]
    pub program_id: Pubkey,
    /// Registry address. Default: the registry whose admin is the registrar.
    #[arg(long, env = "ROOMCAST_REGISTRY")]
    pub registry: Option<Pubkey>,

    /// Bearer key for server-to-server calls (may act for any host).
    #[arg(long, env = "ROOMCAST_OPERATOR_KEY", hide_env_values = true)]
    pub operator_key: Option<SecretString>,
    /// This server's public origin (`https://host[:port]`), signed into every host request as its
    /// audience. Default: the registry address.
    #[arg(long, env = "ROOMCAST_PUBLIC_ORIGIN", value_parser = parse_origin)]
    pub public_origin: Option<String>,
    /// Reverse proxies (CIDRs, comma-separated) whose `X-Forwarded-For`/`Forwarded` give the client
    /// address for per-IP limits. Default: none (the socket peer is the client).
    #[arg(long, env = "ROOMCAST_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Failed authentications (401) allowed per client address per minute; then 429 until the
    /// minute is over.
    #[arg(long, env = "ROOMCAST_AUTH_FAILURES_PER_MINUTE", default_value_t = 20)]
    pub auth_failures_per_minute: u32,
    /// Allowed CORS origins, comma-separated (default: any origin; auth is not cookie-based).
    #[arg(long, env = "ROOMCAST_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Days Cloudflare keeps recordings (30..=1096).
    #[arg(long, env = "ROOMCAST_DELETE_RECORDING_AFTER_DAYS", default_value_t = 45,
          value_parser = clap::value_parser!(u32).range(30..=1096))]
    pub delete_recording_after_days: u32,
    /// Room creations allowed per minute, per client IP and per host.
    #[arg(long, env = "ROOMCAST_CREATE_RATE_PER_MINUTE", default_value = "30")]
    pub create_rate_per_minute: NonZeroU32,
    /// Reads (GET) allowed per minute per client IP (IPv6: per /64), with bursts of the same size.
    #[arg(long, env = "ROOMCAST_READ_RATE_PER_MINUTE", default_value = "1200")]
    pub read_rate_per_minute: NonZeroU32,
    /// Requests handled at once; more get 503 `overloaded` (health, readiness and metrics exempt).
    #[arg(long, env = "ROOMCAST_MAX_CONCURRENT_REQUESTS", default_value_t = 512)]
    pub max_concurrent_requests: usize,
    /// Server-Sent Events streams one client address (IPv6: one /64) may hold open; more get 429.
    #[arg(long, env = "ROOMCAST_SSE_MAX_PER_CLIENT", default_value_t = 32,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub sse_max_per_client: u64,
    /// Server-Sent Events streams open at once, whoever holds them; more get 503 `too_many_streams`.
    #[arg(long, env = "ROOMCAST_SSE_MAX_STREAMS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub sse_max_streams: u64,
    /// Seconds after which the server ends an event stream (EventSource reconnects by itself), so
    /// no client holds a slot forever.
    #[arg(long, env = "ROOMCAST_SSE_MAX_LIFETIME_SECS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub sse_max_lifetime_secs: u64,
    /// On SIGINT/SIGTERM, seconds requests (and creates in flight) get to finish before the
    /// server stops waiting; event streams end at once. A second signal exits immediately.
    #[arg(long, env = "ROOMCAST_SHUTDOWN_DRAIN_SECS", default_value_t = 10)]
    pub shutdown_drain_secs: u64,
    /// Room creations allowed per minute in total, whoever asks (each costs rent and a live input).
    #[arg(long, env = "ROOMCAST_CREATE_BUDGET_PER_MINUTE", default_value = "120")]
    pub create_budget_per_minute: NonZeroU32,
    /// Creates are refused (503 registrar_underfunded) before the registrar's balance would drop
    /// below this many lamports (0: no floor).
    #[arg(
        long,
        env = "ROOMCAST_REGISTRAR_MIN_LAMPORTS",
        default_value_t = 50_000_000
    )]
    pub registrar_min_lamports: u64,
    /// Ended rooms are closed this long after they ended, returning their rent to the registrar
    /// (`30s`, `12h`, `7d`; `off` keeps them).
    #[arg(long, env = "ROOMCAST_CLOSE_ENDED_AFTER", default_value = "7d", value_parser = parse_retention)]
    pub close_ended_after: Retention,
    /// How long viewers may see a cached room state, in milliseconds.
    #[arg(long, env = "ROOMCAST_ROOM_CACHE_MS", default_value_t = 2000)]
    pub room_cache_ms: u64,
    /// Longest a kept public answer (viewer answer, room, discovery page) is served without
    /// rendering it again when nothing it is made of changed, in milliseconds; at most the room
    /// cache TTL; 0 keeps none (`live::answers`).
    #[arg(long, env = "ROOMCAST_ANSWERS_FRESH_MS", default_value_t = 1000)]
    pub answers_fresh_ms: u64,
    /// Request timeout in seconds (creates still finish in the background).
    #[arg(long, env = "ROOMCAST_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "ROOMCAST_MAX_BODY_BYTES", default_value_t = 16 * 1024)]
    pub max_body_bytes: usize,
    /// Seconds between reconciler passes (0 disables the background reconciler).
    #[arg(long, env = "ROOMCAST_RECONCILE_INTERVAL_SECS", default_value_t = 30)]
    pub reconcile_interval_secs: u64,
    /// Age (seconds) at which a roomcast-tagged live input with no room is deleted as an orphan.
    #[arg(long, env = "ROOMCAST_ORPHAN_GRACE_SECS", default_value_t = 600)]
    pub orphan_grace_secs: u64,
    /// How long a Sign-In With Solana message may be signed after it was issued, in seconds.
    #[arg(long, env = "ROOMCAST_SIGN_IN_TTL_SECS", default_value_t = 300)]
    pub sign_in_ttl_secs: u64,
    /// How long a browser session token lasts, in seconds.
    #[arg(long, env = "ROOMCAST_SESSION_TTL_SECS", default_value_t = 3600)]
    pub session_ttl_secs: u64,
    /// Signed requests remembered for replay protection; when full, signed requests get 503.
    #[arg(long, env = "ROOMCAST_REPLAY_CAPACITY", default_value_t = 100_000)]
    pub replay_capacity: usize,
    /// Idempotency keys remembered (24 h each), and as many creates in flight; when full, creates
    /// get 503.
    #[arg(long, env = "ROOMCAST_IDEMPOTENCY_CAPACITY", default_value_t = 100_000)]
    pub idempotency_capacity: usize,
    /// Most rooms the reconciler ends on-chain (live input confirmed gone) in one pass.
    #[arg(long, env = "ROOMCAST_RECONCILE_MAX_ENDS", default_value_t = 10)]
    pub reconcile_max_ends: usize,
    /// Redis shared by API replicas (`redis://HOST:6379/0`). Unset: a single replica keeping its
    /// replay cache, idempotency keys, limits and broadcast state in memory.
    #[arg(long, env = "ROOMCAST_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<SecretString>,
    /// Seconds between PINGs on this replica's subscription to the other replicas' events.
    #[arg(long, env = "ROOMCAST_REDIS_PING_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub redis_ping_secs: u64,
    /// Seconds a PING on that subscription may go unanswered before the link is presumed dead
    /// (a silent partition: NAT, failover) and the replica resubscribes and resyncs.
    #[arg(long, env = "ROOMCAST_REDIS_DEAD_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub redis_dead_secs: u64,
    /// How Redis is run: `single` (one server, the URL), `sentinel` (the URL lists the sentinels,
    /// comma-separated; `ROOMCAST_REDIS_MASTER` names the primary) or `cluster` (the URL lists
    /// seed nodes).
    #[arg(long, env = "ROOMCAST_REDIS_MODE", value_enum, default_value_t = RedisMode::Single)]
    pub redis_mode: RedisMode,
    /// The primary's name at the sentinels (`ROOMCAST_REDIS_MODE=sentinel`).
    #[arg(long, env = "ROOMCAST_REDIS_MASTER")]
    pub redis_master: Option<String>,
    /// PEM CA certificate(s) a `rediss://` server must chain to (default: the system roots).
    #[arg(long, env = "ROOMCAST_REDIS_CA_FILE")]
    pub redis_ca_file: Option<PathBuf>,
    /// PEM client certificate for mutual TLS with Redis (with `ROOMCAST_REDIS_CLIENT_KEY`).
    #[arg(long, env = "ROOMCAST_REDIS_CLIENT_CERT")]
    pub redis_client_cert: Option<PathBuf>,
    /// PEM private key of `ROOMCAST_REDIS_CLIENT_CERT`.
    #[arg(long, env = "ROOMCAST_REDIS_CLIENT_KEY")]
    pub redis_client_key: Option<PathBuf>,
    /// Username for the sentinels themselves (the URL's userinfo is the data user's).
    #[arg(long, env = "ROOMCAST_REDIS_SENTINEL_USERNAME")]
    pub redis_sentinel_username: Option<String>,
    /// Password for the sentinels themselves (`requirepass` of sentinel.conf).
    #[arg(long, env = "ROOMCAST_REDIS_SENTINEL_PASSWORD", hide_env_values = true)]
    pub redis_sentinel_password: Option<SecretString>,
    /// Replicas that must acknowledge (`WAIT`) an idempotency claim or step, a replay entry, a
    /// spent sign-in nonce, an in-flight marker or a lease acquisition before the server acts on
    /// it, so a failover cannot lose it (default: 1 with sentinel, else 0 — no `WAIT`).
    #[arg(long, env = "ROOMCAST_REDIS_WAIT_REPLICAS")]
    pub redis_wait_replicas: Option<u32>,
    /// How long that `WAIT` may take, in milliseconds; fewer acknowledgements → 503.
    #[arg(long, env = "ROOMCAST_REDIS_WAIT_MS", default_value_t = 500,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub redis_wait_ms: u64,
    /// How long one `/readyz` check of the upstreams answers every probe, in milliseconds.
    #[arg(long, env = "ROOMCAST_READYZ_CACHE_MS", default_value_t = 5000)]
    pub readyz_cache_ms: u64,
    /// Log format.
    #[arg(long, env = "ROOMCAST_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Shortest accepted operator bearer key.
pub const MIN_OPERATOR_KEY_BYTES: usize = 32;

/// How Redis is run (`ROOMCAST_REDIS_MODE`).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedisMode {
    Single,
    Sentinel,
    Cluster,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where Cloudflare is: the real API (with its settings) or the embedded emulator.
pub enum CloudflareMode {
    Embedded,
    Remote {
        account_id: String,
        api_token: SecretString,
        customer_code: String,
        api_url: Option<String>,
        delivery_url: Option<String>,
    },
}

/// Where Solana is: a real cluster (with the registrar key) or the embedded local node.
pub enum ChainMode {
    Embedded,
    Remote {
        rpc_url: String,
        registrar_keypair: PathBuf,
    },
}

impl ServeArgs {
    /// Splits the settings into the two upstream modes, or one clear line saying what is wrong.
    pub fn modes(&self) -> Result<(CloudflareMode, ChainMode), String> {
        let cf_given = [
            self.cloudflare_account_id.is_some(),
            self.cloudflare_api_token.is_some(),
            self.cloudflare_customer_code.is_some(),
        ];
        let cloudflare = match (
            &self.cloudflare_account_id,
            &self.cloudflare_api_token,
            &self.cloudflare_customer_code,
        ) {
            (None, None, None) => {
                if self.cloudflare_api_url.is_some() || self.cloudflare_delivery_url.is_some() {
                    return Err("CLOUDFLARE_API_URL/CLOUDFLARE_DELIVERY_URL need CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_API_TOKEN and CLOUDFLARE_CUSTOMER_CODE".into());
                }
                CloudflareMode::Embedded
            }
            (Some(account), Some(token), Some(code)) => CloudflareMode::Remote {
                account_id: account.clone(),
                api_token: token.clone(),
                customer_code: code.clone(),
                api_url: self.cloudflare_api_url.clone(),
                delivery_url: self.cloudflare_delivery_url.clone(),
            },
            _ => {
                let names = [
                    "CLOUDFLARE_ACCOUNT_ID",
                    "CLOUDFLARE_API_TOKEN",
                    "CLOUDFLARE_CUSTOMER_CODE",
                ];
                let missing: Vec<&str> = names
                    .iter()
                    .zip(cf_given)
                    .filter(|(_, g)| !g)
                    .map(|(n, _)| *n)
                    .collect();
                return Err(format!(
                    "incomplete Cloudflare settings: also set {}",
                    missing.join(", ")
                ));
            }
        };
        let chain = match (&self.rpc_url, &self.registrar_keypair) {
            (None, None) => {
                if self.registry.is_some() {
                    return Err("ROOMCAST_REGISTRY needs SOLANA_RPC_URL (the embedded node creates its own registry)".into());
                }
                ChainMode::Embedded
            }
            (Some(url), Some(keypair)) => ChainMode::Remote {
                rpc_url: roomcast_chain::parse_cluster_url(url)?,
                registrar_keypair: keypair.clone(),
            },
            (Some(_), None) => return Err("SOLANA_RPC_URL needs ROOMCAST_REGISTRAR_KEYPAIR (the key that signs room transactions)".into()),
            (None, Some(_)) => return Err("ROOMCAST_REGISTRAR_KEYPAIR needs SOLANA_RPC_URL".into()),
        };
        Ok((cloudflare, chain))
    }

    /// A bearer key short enough to guess is refused at start.
    pub fn check_operator_key(&self) -> Result<(), String> {
        use secrecy::ExposeSecret;
        match &self.operator_key {
            Some(key) if key.expose_secret().len() < MIN_OPERATOR_KEY_BYTES => Err(format!(
                "ROOMCAST_OPERATOR_KEY must be at least {MIN_OPERATOR_KEY_BYTES} bytes (e.g. `openssl rand -hex 32`)"
            )),
            _ => Ok(()),
        }
    }

    pub fn room_cache_ttl(&self) -> Duration {
        Duration::from_millis(self.room_cache_ms)
    }
}

/// A retention period, or `None` for "keep forever".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention(pub Option<Duration>);

/// `90s`, `15m`, `12h`, `7d`, or `off`.
fn parse_retention(value: &str) -> Result<Retention, String> {
    if value.eq_ignore_ascii_case("off") {
        return Ok(Retention(None));
    }
    let invalid = || format!("{value:?} is not a duration like 30s, 15m, 12h, 7d (or off)");
    let split = value.len().saturating_sub(1);
    let (number, unit) = value.split_at(split);
    let n: u64 = number.parse().map_err(|_| invalid())?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(invalid()),
    };
    Ok(Retention(Some(Duration::from_secs(secs))))
}

/// `scheme://host[:port]`, no path, query or trailing slash (the form browsers send in `Origin`).
fn parse_origin(value: &str) -> Result<String, String> {
    let trimmed = value.trim_end_matches('/');
    let uri: axum::http::Uri = trimmed
        .parse()
        .map_err(|_| format!("{value:?} is not an origin like https://rooms.example.com"))?;
    match (
        uri.scheme_str(),
        uri.authority(),
        uri.path_and_query().map(|p| p.as_str()),
    ) {
        (Some("http" | "https"), Some(_), None | Some("") | Some("/")) => Ok(trimmed.to_string()),
        _ => Err(format!(
            "{value:?} is not an origin like https://rooms.example.com (scheme and host only)"
        )),
    }
}

/// How the reconciler runs (`jobs::reconciler`).
#[derive(Debug, Clone, Copy)]
pub struct ReconcilerConfig {
    /// Time between passes; zero disables the background task.
    pub interval: Duration,
    /// How old an input without a room must be before it counts as an orphan.
    pub orphan_grace: Duration,
    /// Most rooms ended on-chain (input gone) in one pass.
    pub max_ends_per_pass: usize,
    /// Ended rooms are closed (rent back to the registrar) this long after they ended.
    pub close_ended_after: Option<Duration>,
}
