//! Broadcast state and cache invalidation across replicas. A webhook (or reconciler refresh)
//! applies an encoder state in Redis — newest `updated_at` wins, atomically — and publishes it; a
//! room write publishes the room's address. Every replica subscribes and updates its in-memory
//! view at once (well under a second), so viewers' reads stay local and keep working without
//! Redis. After a (re)subscription a replica reloads every broadcast state and drops its room
//! caches, so messages missed while disconnected cannot leave it stale. A subscription that goes
//! silent (a partition that never closes the TCP link: NAT timeout, failover) would miss every
//! message without noticing, so the subscriber PINGs on its own connection ([`Keepalive`]) and
//! resubscribes when no answer comes.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use roomcast_chain::Pubkey;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::core::broadcast::{Applied, Broadcast};
use crate::store::redis::{unavailable, Redis};
use crate::store::{ReplicaSink, StoreError};

/// How long a broadcast state is kept in Redis after its last update.
const BROADCAST_TTL: Duration = Duration::from_secs(24 * 3600);
/// Pause between reconnection attempts of the subscription.
const RESUBSCRIBE_DELAY: Duration = Duration::from_millis(200);
/// How long a closed room answers 410 (the tombstones' own lifetime).
const TOMBSTONE_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// Longest a (re)subscription step may take.
const SETUP_TIMEOUT: Duration = Duration::from_secs(5);
/// Width of the zero-padded `updated_at` (unix nanoseconds) that prefixes a stored state.
const STAMP_LEN: usize = 20;

/// Stores `ARGV[1] .. ARGV[2]` unless the stored stamp is the same or newer, then publishes.
const APPLY: &str = r"
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, 1, 20) >= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. ARGV[2], 'EX', ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
";

/// Records a closed room (`KEYS[1]` for `ARGV[1]` s) and publishes `ARGV[3]` on `ARGV[2]`.
const BURY: &str = r"
redis.call('SET', KEYS[1], 1, 'EX', ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
";

/// How the subscription tells a live link from a silently dead one: a PING on the subscriber
/// connection every `ping_every`; one unanswered for `dead_after` ends the subscription (then it
/// resubscribes on a fresh connection and resyncs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    pub ping_every: Duration,
    pub dead_after: Duration,
}

impl Default for Keepalive {
    fn default() -> Self {
        Keepalive {
            ping_every: Duration::from_secs(5),
            dead_after: Duration::from_secs(10),
        }
    }
}

/// Why the pinger gave up the subscriber connection.
enum LinkLost {
    /// A PING went unanswered for [`Keepalive::dead_after`].
    Silent,
    /// The connection failed under the PING.
    Broken(redis::RedisError),
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum Message {
    /// A newer encoder state of `session`.
    Broadcast {
        from: String,
        session: String,
        broadcast: Broadcast,
    },
    /// The room at `address` changed on-chain: drop cached copies.
    Room { from: String, address: String },
    /// The room at `address` was closed (account gone): viewers get 410, not 404.
    Closed { from: String, address: String },
    /// A replica's start-up check that it may publish here (`preflight`): nothing to do.
    Preflight,
}

/// The replicas' channel: broadcast state compare-and-set and the `events` pub/sub channel.
pub struct ReplicaBus {
    redis: Arc<Redis>,
    apply: redis::Script,
    bury: redis::Script,
    channel: String,
    /// True while this replica's subscription is up.
    pub subscribed: AtomicBool,
    keepalive: Keepalive,
}

impl ReplicaBus {
    pub fn new(redis: Arc<Redis>) -> Self {
        ReplicaBus {
            channel: redis.key("events"),
            redis,
            apply: redis::Script::new(APPLY),
            bury: redis::Script::new(BURY),
            subscribed: AtomicBool::new(false),
            keepalive: Keepalive::default(),
        }
    }

    pub fn with_keepalive(mut self, keepalive: Keepalive) -> Self {
        self.keepalive = keepalive;
        self
    }

    fn broadcast_key(&self, session_id: &str) -> String {
        self.redis.key(&format!("live:{session_id}"))
    }

    /// Applies `next` for every replica if it is newer than the shared state.
    pub async fn apply_broadcast(
        &self,
        session_id: &str,
        next: &Broadcast,
    ) -> Result<Applied, StoreError> {
        let stamp = format!(
            "{:0width$}",
            next.updated_at.unix_timestamp_nanos().max(0),
            width = STAMP_LEN
        );
        let json = serde_json::to_string(next).expect("serializable");
        let message = serde_json::to_string(&Message::Broadcast {
            from: self.redis.replica.clone(),
            session: session_id.to_string(),
            broadcast: next.clone(),
        })
        .expect("serializable");
        let mut conn = self.redis.conn();
        let applied: i64 = self
            .apply
            .key(self.broadcast_key(session_id))
            .arg(stamp)
            .arg(json)
            .arg(BROADCAST_TTL.as_secs())
            .arg(&self.channel)
            .arg(message)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable("broadcast"))?;
        Ok(if applied == 1 {
            Applied::Updated
        } else {
            Applied::Stale
        })
    }

    /// Records a closed room in Redis (`closed:<address>`, as long as tombstones are kept) and
    /// tells the other replicas.
    pub async fn bury(&self, address: &Pubkey) -> Result<(), StoreError> {
        let message = serde_json::to_string(&Message::Closed {
            from: self.redis.replica.clone(),
            address: address.to_string(),
        })
        .expect("serializable");
        let mut conn = self.redis.conn();
        // One script (not MULTI/EXEC): atomic in every shape, and no `MULTI`/`EXEC` for the ACL user.
        self.bury
            .key(self.closed_key(&address.to_string()))
            .arg(TOMBSTONE_TTL.as_secs())
            .arg(&self.channel)
            .arg(message)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(|_| ())
            .map_err(unavailable("events"))
    }

    fn closed_key(&self, address: &str) -> String {
        self.redis.key(&format!("closed:{address}"))
    }

    /// Tells the other replicas that the room at `address` changed.
    pub async fn publish_room(&self, address: &Pubkey) -> Result<(), StoreError> {
        let message = serde_json::to_string(&Message::Room {
            from: self.redis.replica.clone(),
            address: address.to_string(),
        })
        .expect("serializable");
        let mut conn = self.redis.conn();
        redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(message)
            .query_async::<i64>(&mut conn)
            .await
            .map(|_| ())
            .map_err(unavailable("events"))
    }

    /// Keeps this replica subscribed until `stop` (reconnecting by itself).
    pub fn spawn_subscriber(self: Arc<Self>, sink: Arc<dyn ReplicaSink>, stop: CancellationToken) {
        tokio::spawn(async move {
            let mut warned = false;
            while !stop.is_cancelled() {
                match self.subscribe_once(&*sink, &stop).await {
                    Ok(()) => warned = false,
                    Err(e) if !warned => {
                        tracing::warn!(error = %e, "shared-state subscription down; retrying");
                        warned = true;
                    }
                    Err(_) => {}
                }
                self.subscribed.store(false, Ordering::SeqCst);
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(RESUBSCRIBE_DELAY) => {}
                }
            }
        });
    }

    /// One subscription: subscribe, resynchronize, then follow messages until the connection ends.
    async fn subscribe_once(
        &self,
        sink: &dyn ReplicaSink,
        stop: &CancellationToken,
    ) -> Result<(), redis::RedisError> {
        // Bounded, so an unreachable (not refusing) Redis cannot stall reconnection.
        let bounded = |e: tokio::time::error::Elapsed| {
            redis::RedisError::from((redis::ErrorKind::Io, "timed out", e.to_string()))
        };
        let mut pubsub = tokio::time::timeout(SETUP_TIMEOUT, self.redis.pubsub())
            .await
            .map_err(bounded)??;
        tokio::time::timeout(SETUP_TIMEOUT, pubsub.subscribe(&self.channel))
            .await
            .map_err(bounded)??;
        tokio::time::timeout(SETUP_TIMEOUT, self.resync(sink))
            .await
            .map_err(bounded)??;
        self.subscribed.store(true, Ordering::SeqCst);
        tracing::info!(channel = %self.channel, "subscribed to shared-state events");
        let (mut commands, mut messages) = pubsub.split();
        let keepalive = self.keepalive;
        let pinger = async move {
            let mut tick = tokio::time::interval(keepalive.ping_every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                // A PING into a dead link is usually "sent" (the kernel buffers it): only the
                // missing answer tells.
                match tokio::time::timeout(keepalive.dead_after, commands.ping::<redis::Value>())
                    .await
                {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return LinkLost::Broken(e),
                    Err(_) => return LinkLost::Silent,
                }
            }
        };
        tokio::pin!(pinger);
        loop {
            let message = tokio::select! {
                _ = stop.cancelled() => return Ok(()),
                m = messages.next() => m,
                lost = &mut pinger => {
                    match lost {
                        LinkLost::Silent => {
                            metrics::counter!("roomcast_replica_subscription_silent_total")
                                .increment(1);
                            tracing::warn!(
                                dead_after = ?keepalive.dead_after,
                                "shared-state subscription went silent (no answer to PING); resubscribing"
                            );
                        }
                        LinkLost::Broken(e) => tracing::warn!(
                            error = %e,
                            "shared-state subscription lost; resubscribing"
                        ),
                    }
                    return Ok(());
                }
            };
            let Some(message) = message else {
                tracing::warn!("shared-state subscription lost; resubscribing");
                return Ok(());
            };
            let Ok(payload) = message.get_payload::<String>() else {
                continue;
            };
            match serde_json::from_str::<Message>(&payload) {
                Ok(message) => self.handle(sink, message).await,
                Err(e) => tracing::warn!(error = %e, "ignoring an unreadable shared-state event"),
            }
        }
    }

    async fn handle(&self, sink: &dyn ReplicaSink, message: Message) {
        match message {
            Message::Broadcast { from, .. }
            | Message::Room { from, .. }
            | Message::Closed { from, .. }
                if from == self.redis.replica => {}
            Message::Broadcast {
                session, broadcast, ..
            } => sink.broadcast_changed(&session, broadcast).await,
            Message::Room { address, .. } => {
                if let Ok(address) = address.parse::<Pubkey>() {
                    sink.room_changed(&address).await;
                }
            }
            Message::Closed { address, .. } => {
                if let Ok(address) = address.parse::<Pubkey>() {
                    sink.room_closed(&address).await;
                }
            }
            Message::Preflight => {}
        }
    }

    /// Loads every shared broadcast state and closed room, and drops local room caches (missed
    /// invalidations).
    async fn resync(&self, sink: &dyn ReplicaSink) -> Result<(), redis::RedisError> {
        sink.resubscribed();
        let closed_prefix = self.closed_key("");
        for key in self.scan(&format!("{closed_prefix}*")).await? {
            if let Ok(address) = key[closed_prefix.len()..].parse::<Pubkey>() {
                sink.closed_before(address);
            }
        }
        let mut conn = self.redis.conn();
        let prefix_len = self.broadcast_key("").len();
        let keys = self.scan(&self.broadcast_key("*")).await?;
        for keys in keys.chunks(500) {
            let values: Vec<Option<String>> =
                redis::cmd("MGET").arg(keys).query_async(&mut conn).await?;
            for (key, value) in keys.iter().zip(values) {
                let Some(value) = value.filter(|v| v.len() > STAMP_LEN) else {
                    continue;
                };
                if let Ok(broadcast) = serde_json::from_str(&value[STAMP_LEN..]) {
                    sink.broadcast_changed(&key[prefix_len..], broadcast).await;
                }
            }
        }
        Ok(())
    }
}

impl ReplicaBus {
    /// Every key matching `pattern` (SCAN, never KEYS).
    async fn scan(&self, pattern: &str) -> Result<Vec<String>, redis::RedisError> {
        self.redis.scan(pattern).await
    }
}
