//! How a replica reaches Redis, in the three shapes operators run it (`ROOMCAST_REDIS_MODE`):
//!
//! * `single` — one server (`redis://` or `rediss://`), a self-reconnecting connection manager;
//! * `sentinel` — `ROOMCAST_REDIS_URL` lists the sentinels; the primary of `ROOMCAST_REDIS_MASTER`
//!   is asked of them (in order), checked with `ROLE`, and asked again after any connection
//!   error or `READONLY` answer (a failover): no command is ever sent to a demoted primary twice;
//! * `cluster` — `ROOMCAST_REDIS_URL` lists seed nodes; the cluster client follows `MOVED`/`ASK`.
//!
//! TLS (`rediss://`) verifies the server against the system roots, or the CA of
//! `ROOMCAST_REDIS_CA_FILE`; `ROOMCAST_REDIS_CLIENT_CERT`/`_KEY` add a client certificate
//! (mutual TLS). [`Conn`] hides the shape: every store sends its commands and scripts through it.
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{
    AsyncConnectionConfig, Client, ClientTlsConfig, Cmd, ConnectionAddr, ConnectionInfo,
    IntoConnectionInfo, Pipeline, RedisError, RedisFuture, RedisResult, TlsCertificates, Value,
};

use crate::core::config::RedisMode;

/// How long one Redis command may take before the request fails closed.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Longest a sentinel look-up of the primary (every sentinel in turn) may take.
const DISCOVER_TIMEOUT: Duration = Duration::from_secs(3);

/// What `roomcast serve` was told about its Redis.
#[derive(Clone, Debug)]
pub struct Settings {
    pub mode: RedisMode,
    /// `ROOMCAST_REDIS_URL`: one URL, or comma-separated sentinels / seed nodes.
    pub url: String,
    /// `ROOMCAST_REDIS_MASTER`: the sentinels' name of the primary.
    pub master: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// Credentials for the sentinels themselves (the URLs' userinfo is the data user's).
    pub sentinel_username: Option<String>,
    pub sentinel_password: Option<String>,
    /// `WAIT <replicas> <timeout>` after a write a failover must not lose (0: no WAIT).
    pub wait_replicas: u32,
    pub wait_timeout: Duration,
}

impl Settings {
    /// Settings for one plain server at `url` (tests, tools).
    pub fn single(url: &str) -> Settings {
        Settings {
            mode: RedisMode::Single,
            url: url.to_string(),
            master: None,
            ca_file: None,
            client_cert: None,
            client_key: None,
            sentinel_username: None,
            sentinel_password: None,
            wait_replicas: 0,
            wait_timeout: Duration::from_millis(500),
        }
    }
}

/// The certificates of `settings` (read once at start), when any is configured.
fn certificates(settings: &Settings) -> anyhow::Result<Option<TlsCertificates>> {
    let read = |what: &str, path: &PathBuf| {
        std::fs::read(path).map_err(|e| anyhow::anyhow!("{what} {}: {e}", path.display()))
    };
    let root_cert = match &settings.ca_file {
        Some(path) => Some(read("ROOMCAST_REDIS_CA_FILE", path)?),
        None => None,
    };
    let client_tls = match (&settings.client_cert, &settings.client_key) {
        (Some(cert), Some(key)) => Some(ClientTlsConfig {
            client_cert: read("ROOMCAST_REDIS_CLIENT_CERT", cert)?,
            client_key: read("ROOMCAST_REDIS_CLIENT_KEY", key)?,
        }),
        (None, None) => None,
        _ => anyhow::bail!(
            "ROOMCAST_REDIS_CLIENT_CERT and ROOMCAST_REDIS_CLIENT_KEY go together (mutual TLS)"
        ),
    };
    Ok(
        (root_cert.is_some() || client_tls.is_some()).then_some(TlsCertificates {
            client_tls,
            root_cert,
        }),
    )
}

/// The comma-separated URLs of `ROOMCAST_REDIS_URL`, parsed.
fn parse_urls(url: &str) -> anyhow::Result<Vec<ConnectionInfo>> {
    let infos = url
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| {
            let info = u
                .into_connection_info()
                .map_err(|e| anyhow::anyhow!("ROOMCAST_REDIS_URL is not a valid Redis URL: {e}"))?;
            // No `CLIENT SETINFO` on connect: one command fewer for the ACL user to need.
            let redis = info.redis_settings().clone().set_skip_set_lib_name();
            Ok(info.set_redis_settings(redis))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(!infos.is_empty(), "ROOMCAST_REDIS_URL is empty");
    Ok(infos)
}

fn is_tls(info: &ConnectionInfo) -> bool {
    matches!(info.addr(), ConnectionAddr::TcpTls { .. })
}

/// A client for `info`, with `certs` when it is a TLS address.
fn client(info: ConnectionInfo, certs: &Option<TlsCertificates>) -> RedisResult<Client> {
    match certs {
        Some(certs) if is_tls(&info) => Client::build_with_tls(info, certs.clone()),
        _ => Client::open(info),
    }
}

fn connection_config() -> AsyncConnectionConfig {
    AsyncConnectionConfig::new()
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
}

/// A connection to the shared state, whichever shape it has. Cheap to clone.
#[derive(Clone)]
pub enum Conn {
    Single(ConnectionManager),
    Sentinel(Arc<SentinelLink>),
    Cluster(Arc<ClusterLink>),
}

/// Everything needed to (re)connect, built from [`Settings`] without touching the network.
pub struct Link {
    pub conn: Conn,
    /// For the subscriber connection: the node to subscribe on (its own connection).
    subscriber: Subscriber,
}

enum Subscriber {
    Single(Box<Client>),
    Sentinel(Arc<SentinelLink>),
    /// Classic pub/sub is cluster-wide: any node delivers every `PUBLISH`; the seeds in order.
    Cluster(Vec<Client>),
}

impl Link {
    pub fn new(settings: &Settings) -> anyhow::Result<Link> {
        let certs = certificates(settings)?;
        let infos = parse_urls(&settings.url)?;
        if certs.is_some() && !infos.iter().all(is_tls) {
            anyhow::bail!(
                "ROOMCAST_REDIS_CA_FILE / ROOMCAST_REDIS_CLIENT_CERT need rediss:// URLs (TLS)"
            );
        }
        let many = infos.len() > 1;
        match settings.mode {
            RedisMode::Single => {
                anyhow::ensure!(
                    !many,
                    "ROOMCAST_REDIS_URL lists several servers: set ROOMCAST_REDIS_MODE=sentinel or cluster"
                );
                let client = client(infos[0].clone(), &certs).map_err(|e| {
                    anyhow::anyhow!("ROOMCAST_REDIS_URL is not a valid Redis URL: {e}")
                })?;
                let config = ConnectionManagerConfig::new()
                    .set_response_timeout(Some(RESPONSE_TIMEOUT))
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500));
                let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
                Ok(Link {
                    conn: Conn::Single(manager),
                    subscriber: Subscriber::Single(Box::new(client)),
                })
            }
            RedisMode::Sentinel => {
                let master = settings.master.clone().filter(|m| !m.is_empty()).ok_or_else(|| {
                    anyhow::anyhow!("ROOMCAST_REDIS_MODE=sentinel needs ROOMCAST_REDIS_MASTER (the primary's name at the sentinels)")
                })?;
                let link = Arc::new(SentinelLink::new(settings, infos, master, certs));
                Ok(Link {
                    conn: Conn::Sentinel(link.clone()),
                    subscriber: Subscriber::Sentinel(link),
                })
            }
            RedisMode::Cluster => {
                let mut builder = ClusterClientBuilder::new(infos.clone())
                    .connection_timeout(CONNECT_TIMEOUT)
                    .response_timeout(RESPONSE_TIMEOUT)
                    .retries(2);
                if let Some(certs) = &certs {
                    builder = builder.certs(certs.clone());
                }
                let cluster = builder.build().map_err(|e| {
                    anyhow::anyhow!("ROOMCAST_REDIS_URL is not a valid Redis Cluster: {e}")
                })?;
                let seeds = infos
                    .into_iter()
                    .map(|info| client(info, &certs))
                    .collect::<RedisResult<Vec<_>>>()?;
                Ok(Link {
                    conn: Conn::Cluster(Arc::new(ClusterLink {
                        client: cluster,
                        conn: tokio::sync::OnceCell::new(),
                    })),
                    subscriber: Subscriber::Cluster(seeds),
                })
            }
        }
    }

    /// A fresh pub/sub connection (the subscriber's own).
    pub async fn pubsub(&self) -> RedisResult<redis::aio::PubSub> {
        match &self.subscriber {
            Subscriber::Single(client) => client.get_async_pubsub().await,
            Subscriber::Sentinel(link) => link.primary_client().await?.get_async_pubsub().await,
            Subscriber::Cluster(seeds) => {
                let mut last = None;
                for seed in seeds {
                    match seed.get_async_pubsub().await {
                        Ok(pubsub) => return Ok(pubsub),
                        Err(e) => last = Some(e),
                    }
                }
                Err(last.expect("at least one seed"))
            }
        }
    }
}

impl Conn {
    /// Sends a command that names no key (`SCAN`, `WAIT`, `PING`) to the node holding `slot` —
    /// in a cluster, the one node holding every key of this registry; elsewhere, the server.
    pub async fn keyless(&mut self, cmd: Cmd, slot: u16) -> RedisResult<Value> {
        match self {
            Conn::Cluster(link) => {
                let mut conn = link.get().await?;
                let route = Route::new(slot, SlotAddr::Master);
                conn.route_command(
                    cmd,
                    RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route)),
                )
                .await
            }
            _ => cmd.query_async(self).await,
        }
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(manager) => manager.req_packed_command(cmd),
            Conn::Sentinel(link) => Box::pin(async move {
                let mut conn = link.primary().await?;
                let result = conn.req_packed_command(cmd).await;
                link.check(&result);
                result
            }),
            Conn::Cluster(link) => Box::pin(async move {
                let mut conn = link.get().await?;
                conn.req_packed_command(cmd).await
            }),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(manager) => manager.req_packed_commands(pipeline, offset, count),
            Conn::Sentinel(link) => Box::pin(async move {
                let mut conn = link.primary().await?;
                let result = conn.req_packed_commands(pipeline, offset, count).await;
                link.check(&result);
                result
            }),
            Conn::Cluster(link) => Box::pin(async move {
                let mut conn = link.get().await?;
                conn.req_packed_commands(pipeline, offset, count).await
            }),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(manager) => manager.get_db(),
            _ => 0,
        }
    }
}

/// A cluster connection, made on first use (and again after a failed first connection); the
/// cluster client then follows the topology by itself.
pub struct ClusterLink {
    client: ClusterClient,
    conn: tokio::sync::OnceCell<ClusterConnection>,
}

impl ClusterLink {
    async fn get(&self) -> RedisResult<ClusterConnection> {
        self.conn
            .get_or_try_init(|| async {
                tokio::time::timeout(DISCOVER_TIMEOUT, self.client.get_async_connection())
                    .await
                    .map_err(|_| timed_out("connecting to the cluster"))?
            })
            .await
            .cloned()
    }
}

/// The primary as the sentinels name it: asked on first use and again after a connection error
/// or a `READONLY`/`MASTERDOWN` answer.
pub struct SentinelLink {
    sentinels: Vec<Client>,
    master: String,
    /// The data user's settings (from the URLs' userinfo) and TLS for the primary.
    template: ConnectionInfo,
    certs: Option<TlsCertificates>,
    current: Mutex<Option<MultiplexedConnection>>,
    /// One look-up at a time.
    discovering: tokio::sync::Mutex<()>,
}

impl SentinelLink {
    fn new(
        settings: &Settings,
        infos: Vec<ConnectionInfo>,
        master: String,
        certs: Option<TlsCertificates>,
    ) -> SentinelLink {
        let template = infos[0].clone();
        let sentinels = infos
            .into_iter()
            .filter_map(|info| {
                let mut redis = redis::RedisConnectionInfo::default().set_skip_set_lib_name();
                if let Some(user) = &settings.sentinel_username {
                    redis = redis.set_username(user);
                }
                if let Some(password) = &settings.sentinel_password {
                    redis = redis.set_password(password);
                }
                client(info.set_redis_settings(redis), &certs).ok()
            })
            .collect();
        SentinelLink {
            sentinels,
            master,
            template,
            certs,
            current: Mutex::new(None),
            discovering: tokio::sync::Mutex::new(()),
        }
    }

    /// Forgets the primary after an error that may mean it is gone or demoted.
    fn check<T>(&self, result: &RedisResult<T>) {
        if let Err(e) = result {
            let lost = e.is_io_error()
                || e.is_connection_dropped()
                || e.is_connection_refusal()
                || e.is_timeout()
                || matches!(e.code(), Some("READONLY" | "MASTERDOWN" | "LOADING"));
            if lost {
                self.current.lock().unwrap().take();
            }
        }
    }

    async fn primary(&self) -> RedisResult<MultiplexedConnection> {
        if let Some(conn) = self.current.lock().unwrap().clone() {
            return Ok(conn);
        }
        let _one = self.discovering.lock().await;
        if let Some(conn) = self.current.lock().unwrap().clone() {
            return Ok(conn);
        }
        let client = self.primary_client().await?;
        let mut conn = tokio::time::timeout(
            DISCOVER_TIMEOUT,
            client.get_multiplexed_async_connection_with_config(&connection_config()),
        )
        .await
        .map_err(|_| timed_out("connecting to the primary"))??;
        // The sentinels may not have noticed a failover yet: only a primary is used.
        let role: Vec<Value> = redis::cmd("ROLE").query_async(&mut conn).await?;
        let is_primary = matches!(role.first(), Some(Value::BulkString(b)) if b == b"master")
            || matches!(role.first(), Some(Value::SimpleString(s)) if s == "master");
        if !is_primary {
            return Err(RedisError::from((
                redis::ErrorKind::Io,
                "the server the sentinels name is not a primary (failover in progress)",
            )));
        }
        *self.current.lock().unwrap() = Some(conn.clone());
        Ok(conn)
    }

    /// A client for the primary the first answering sentinel names.
    async fn primary_client(&self) -> RedisResult<Client> {
        let mut last = RedisError::from((redis::ErrorKind::Io, "no sentinel answered"));
        for sentinel in &self.sentinels {
            let asked = async {
                let mut conn = sentinel
                    .get_multiplexed_async_connection_with_config(&connection_config())
                    .await?;
                redis::cmd("SENTINEL")
                    .arg("get-master-addr-by-name")
                    .arg(&self.master)
                    .query_async::<Option<(String, u16)>>(&mut conn)
                    .await
            };
            match tokio::time::timeout(DISCOVER_TIMEOUT, asked).await {
                Ok(Ok(Some((host, port)))) => {
                    let addr = match self.template.addr() {
                        ConnectionAddr::TcpTls { insecure, .. } => ConnectionAddr::TcpTls {
                            host,
                            port,
                            insecure: *insecure,
                            tls_params: None,
                        },
                        _ => ConnectionAddr::Tcp(host, port),
                    };
                    return client(self.template.clone().set_addr(addr), &self.certs);
                }
                Ok(Ok(None)) => {
                    last = RedisError::from((
                        redis::ErrorKind::Io,
                        "the sentinels know no primary of that name",
                        self.master.clone(),
                    ))
                }
                Ok(Err(e)) if is_auth_error(&e) => {
                    return Err(RedisError::from((
                        redis::ErrorKind::AuthenticationFailed,
                        "the sentinels refused the credentials of ROOMCAST_REDIS_SENTINEL_USERNAME/_PASSWORD",
                        e.to_string(),
                    )))
                }
                Ok(Err(e)) => last = e,
                Err(_) => last = timed_out("asking a sentinel"),
            }
        }
        Err(last)
    }
}

/// The server refused or asked for credentials.
pub fn is_auth_error(e: &RedisError) -> bool {
    matches!(e.code(), Some("WRONGPASS" | "NOAUTH"))
        || e.kind() == redis::ErrorKind::AuthenticationFailed
        || e.to_string().contains("NOAUTH")
        || e.to_string().contains("WRONGPASS")
}

fn timed_out(what: &'static str) -> RedisError {
    RedisError::from((redis::ErrorKind::Io, "timed out", what.to_string()))
}

/// The hash slot of `key` (CRC16/XMODEM of its `{tag}` mod 16384), as Redis Cluster computes it.
pub fn slot(key: &str) -> u16 {
    let bytes = key.as_bytes();
    let tagged = bytes
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let close = bytes[open + 1..].iter().position(|&b| b == b'}')?;
            (close > 0).then(|| &bytes[open + 1..open + 1 + close])
        })
        .unwrap_or(bytes);
    let mut crc: u16 = 0;
    for &b in tagged {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % 16384
}

#[cfg(test)]
mod tests {
    use super::slot;

    #[test]
    fn slots_match_redis_cluster_keyslot() {
        // `CLUSTER KEYSLOT` answers of a real Redis 7.0.
        assert_eq!(slot("foo"), 12182);
        assert_eq!(slot("123456789"), 12739);
        // An empty tag hashes the whole key; the first `{` … `}` is the tag.
        assert_eq!(slot("foo{}{bar}"), 8363);
        assert_eq!(slot("foo{{bar}}zap"), 4015);
        let registry = "3pfEDmDKWXvrfvEWMaZrETNkbA2VwQYtR3EL9uPJBWhT";
        assert_eq!(slot(&format!("roomcast:{{{registry}}}:events")), 4492);
        assert_eq!(slot(registry), 4492);
    }
}
