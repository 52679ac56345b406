//! Several replicas, one picture: with `ROOMCAST_REDIS_URL`, each replica tells the others what it
//! changed (broadcast states, room writes, closed rooms) over `store::redis::replicas`' channel and
//! applies what they tell it (through a [`ReplicaSink`], the server's state). Viewer reads never
//! touch Redis; every write and authenticated call first checks that Redis answers
//! ([`Replicas::require`]), failing closed.
use std::sync::Arc;

use roomcast_chain::Pubkey;
use tokio_util::sync::CancellationToken;

use crate::core::error::AppError;
use crate::live::cache::RoomCache;
use crate::store::redis::replicas::{Keepalive, ReplicaBus};
use crate::store::redis::Redis;
use crate::store::ReplicaSink;

/// Everything a replica shares: the connection and the replicas' channel.
pub struct Replicas {
    pub redis: Arc<Redis>,
    pub bus: Arc<ReplicaBus>,
}

impl Replicas {
    pub fn new(redis: Arc<Redis>) -> Replicas {
        Replicas {
            bus: Arc::new(ReplicaBus::new(redis.clone())),
            redis,
        }
    }

    /// How this replica tells a silently dead subscription from a quiet one.
    pub fn with_keepalive(self, keepalive: Keepalive) -> Replicas {
        Replicas {
            bus: Arc::new(ReplicaBus::new(self.redis.clone()).with_keepalive(keepalive)),
            redis: self.redis,
        }
    }

    /// Refuses the request (503 `shared_state_unavailable`) unless Redis answers.
    pub async fn require(&self) -> Result<(), AppError> {
        Ok(self.redis.ping().await?)
    }

    /// Subscribes `sink` to the other replicas' changes and sends them this replica's room
    /// invalidations (from `rooms`), until `stop`.
    pub fn start(&self, sink: Arc<dyn ReplicaSink>, rooms: &RoomCache, stop: CancellationToken) {
        self.bus.clone().spawn_subscriber(sink, stop.clone());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Pubkey>();
        rooms.on_invalidate(tx);
        let bus = self.bus.clone();
        tokio::spawn(async move {
            loop {
                let address = tokio::select! {
                    _ = stop.cancelled() => return,
                    a = rx.recv() => match a { Some(a) => a, None => return },
                };
                if let Err(e) = bus.publish_room(&address).await {
                    tracing::warn!(error = %e, room = %address, "could not tell other replicas about a room change");
                }
            }
        });
    }
}
