//! State shared between API replicas through Redis (`ROOMCAST_REDIS_URL`): replay protection,
//! idempotency keys, Sign-In With Solana nonces and sessions, create rate limits, the registrar's
//! balance reservations, failed authentications per address, broadcast state, cache invalidation
//! and the reconciler lease. Without a Redis URL the server is a single replica and keeps all of it in memory.
//!
//! Every key lives under `roomcast:{<registry>}:` (the braces are a Redis Cluster hash tag: one
//! deployment, one slot) and carries a TTL. Shared state **fails closed**:
//! when Redis cannot be reached, writes and authenticated calls answer 503
//! `shared_state_unavailable` (never a silent per-process fallback), public reads keep working from
//! the chain, `/readyz` says so, and the connection manager reconnects by itself.
pub mod auth_failures;
pub mod connect;
pub mod funds;
pub mod grants;
pub mod idempotency;
pub mod lease;
pub mod limits;
pub mod preflight;
pub mod replicas;
pub mod seal;
pub mod sign_in;

use std::time::Duration;

use roomcast_chain::Pubkey;

use crate::store::redis::connect::{Conn, Link, Settings};
use crate::store::StoreError;

/// A connection to the shared Redis, with the key prefix of this registry.
pub struct Redis {
    link: Link,
    prefix: String,
    /// The one Redis Cluster hash slot of every key of this registry (`{<registry>}`).
    slot: u16,
    wait_replicas: u32,
    wait_timeout: Duration,
    /// Random id of this process (lease holder name, origin of pub/sub messages).
    pub replica: String,
}

impl Redis {
    /// Parses the settings and prepares a lazily connecting, self-reconnecting connection (the
    /// server starts even if Redis is down, failing closed until it is reachable).
    pub fn new(settings: &Settings, registry: &Pubkey) -> anyhow::Result<Redis> {
        let link = Link::new(settings)?;
        let mut id = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut id);
        // The registry in braces is the keys' hash tag: under Redis Cluster every key of one
        // deployment lives in one slot, so every multi-key script stays valid.
        let prefix = format!("roomcast:{{{registry}}}:");
        Ok(Redis {
            link,
            slot: connect::slot(&prefix),
            prefix,
            wait_replicas: settings.wait_replicas,
            wait_timeout: settings.wait_timeout,
            replica: hex::encode(id),
        })
    }

    /// `roomcast:{<registry>}:{suffix}`.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A handle for commands (cheap clone).
    pub fn conn(&self) -> Conn {
        self.link.conn.clone()
    }

    /// A fresh pub/sub connection for the subscriber.
    pub async fn pubsub(&self) -> redis::RedisResult<redis::aio::PubSub> {
        self.link.pubsub().await
    }

    /// A command naming no key, sent to the node holding this registry's keys.
    pub async fn keyless<T: redis::FromRedisValue>(
        &self,
        cmd: redis::Cmd,
    ) -> redis::RedisResult<T> {
        let value = self.conn().keyless(cmd, self.slot).await?;
        Ok(redis::from_redis_value(value)?)
    }

    /// `PING`: is the shared state reachable right now?
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.keyless::<String>(redis::cmd("PING"))
            .await
            .map(|_| ())
            .map_err(unavailable("shared"))
    }

    /// A connection for one write a failover must not lose: the command goes out in one pipeline
    /// with `WAIT <ROOMCAST_REDIS_WAIT_REPLICAS> <ROOMCAST_REDIS_WAIT_MS>`, so the acknowledgement
    /// is about this very write on this very server — also when the connection was replaced
    /// between them (a failover: a `WAIT` alone on a fresh connection to the new primary would
    /// count replicas of nothing). [`Durable::replicated`] then says whether enough replicas have it.
    pub fn durable(&self) -> Durable {
        Durable {
            conn: self.conn(),
            replicas: self.wait_replicas,
            timeout_ms: self.wait_timeout.as_millis() as u64,
            acked: None,
        }
    }

    /// Every key matching `pattern` (`SCAN`, never `KEYS`), on the node holding this registry's keys.
    pub async fn scan(&self, pattern: &str) -> redis::RedisResult<Vec<String>> {
        let mut all = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(500);
            let (next, keys): (u64, Vec<String>) = self.keyless(scan).await?;
            all.extend(keys);
            if next == 0 {
                return Ok(all);
            }
            cursor = next;
        }
    }
}

/// Maps a Redis error of the `what` store to [`StoreError::Unavailable`].
pub fn unavailable(what: &'static str) -> impl Fn(redis::RedisError) -> StoreError {
    move |e| StoreError::Unavailable(what, e.to_string())
}

/// See [`Redis::durable`].
pub struct Durable {
    conn: Conn,
    replicas: u32,
    timeout_ms: u64,
    /// What the `WAIT` after the last write answered.
    acked: Option<u32>,
}

impl Durable {
    /// `Ok` when `WAIT` is off or enough replicas acknowledged the last write; else
    /// [`StoreError::Unavailable`] (the caller must not act on the write: 503).
    pub fn replicated(&self, what: &'static str) -> Result<(), StoreError> {
        if self.replicas == 0 {
            return Ok(());
        }
        let acked = self.acked.unwrap_or(0);
        if acked < self.replicas {
            metrics::counter!("roomcast_redis_unreplicated_total").increment(1);
            return Err(StoreError::Unavailable(
                what,
                format!(
                    "write reached {acked} of {} replicas in {} ms",
                    self.replicas, self.timeout_ms
                ),
            ));
        }
        Ok(())
    }
}

impl redis::aio::ConnectionLike for Durable {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        Box::pin(async move {
            // `SCRIPT LOAD` (after `NOSCRIPT`) writes nothing and goes to every primary.
            let loading = matches!(
                cmd.args_iter().next(),
                Some(redis::Arg::Simple(name)) if name.eq_ignore_ascii_case(b"SCRIPT")
            );
            if self.replicas == 0 || loading {
                return self.conn.req_packed_command(cmd).await;
            }
            let mut pipe = redis::pipe();
            pipe.add_command(cmd.clone())
                .cmd("WAIT")
                .arg(self.replicas)
                .arg(self.timeout_ms);
            let mut values = self.conn.req_packed_commands(&pipe, 0, 2).await?;
            let wait = values.pop();
            let first = values.pop();
            self.acked = match wait {
                Some(redis::Value::Int(n)) => Some(n.max(0) as u32),
                _ => Some(0),
            };
            match first {
                Some(redis::Value::ServerError(e)) => Err(e.into()),
                Some(value) => Ok(value),
                None => Err(redis::RedisError::from((
                    redis::ErrorKind::Io,
                    "no answer to the write",
                ))),
            }
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        self.conn.req_packed_commands(pipeline, offset, count)
    }

    fn get_db(&self) -> i64 {
        self.conn.get_db()
    }
}
