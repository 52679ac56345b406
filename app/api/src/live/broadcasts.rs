//! The one home of each room's broadcast state (is an encoder sending?), in this process.
//! Two sources, one answer: Cloudflare's live-input notifications (ordered by their `updated_at`,
//! so replays and out-of-order deliveries cannot move it backwards), and — for rooms no
//! notification has told about — the public `lifecycle` endpoint, looked up once per short TTL
//! however many viewers ask. With replicas, Redis orders the notifications for the whole
//! deployment (`store::redis::replicas`, via `AppState::apply_broadcast`) and each replica's
//! copy lands here.
use std::collections::HashMap;
use std::future::Future;
use std::sync::RwLock;
use std::time::Duration;

use crate::core::broadcast::{Applied, Broadcast, Phase};

/// Broadcast states kept at most (rooms being broadcast right now); past it the oldest is dropped
/// (viewers then fall back to the public `lifecycle` endpoint).
pub const MAX_LIVE_STATES: usize = 100_000;

pub struct Broadcasts {
    /// From notifications: the newest event per session id.
    /// Read by every viewer request, written by notifications: a read-write lock.
    by_session: RwLock<HashMap<String, Broadcast>>,
    capacity: usize,
    /// From `lifecycle` (or an end): live or not, for rooms without a notification; short TTL.
    observed: moka::future::Cache<String, bool>,
    /// Rooms whose `lifecycle` lookup failed just now: viewers get "unknown" without asking again
    /// until [`FAILED_TTL`] is over, so a failing Cloudflare costs one lookup per room per period,
    /// not one per viewer.
    failed: moka::future::Cache<String, ()>,
    /// Moves on a notification, an end or a reconciler's `lifecycle` answer (`live::answers`).
    changes: crate::live::changes::Changes,
}

/// How long a failed `lifecycle` lookup stands (at most the `observed` TTL).
pub const FAILED_TTL: Duration = Duration::from_secs(2);

impl Broadcasts {
    /// `observed_ttl`: how long a `lifecycle` answer stands in for a notification.
    pub fn new(observed_ttl: Duration) -> Self {
        Broadcasts::with_capacity(MAX_LIVE_STATES, observed_ttl)
    }

    pub fn with_capacity(capacity: usize, observed_ttl: Duration) -> Self {
        Broadcasts {
            by_session: RwLock::default(),
            capacity: capacity.max(1),
            observed: moka::future::Cache::builder()
                .time_to_live(observed_ttl)
                .max_capacity(100_000)
                .build(),
            failed: moka::future::Cache::builder()
                .time_to_live(FAILED_TTL.min(observed_ttl))
                .max_capacity(100_000)
                .build(),
            changes: Default::default(),
        }
    }

    /// How many times a broadcast state changed (`live::answers`).
    pub fn changes(&self) -> u64 {
        self.changes.get()
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The room ended: nothing broadcasts on its input any more.
    pub async fn ended(&self, session_id: &str) {
        self.lock().remove(session_id);
        self.observed.insert(session_id.to_string(), false).await;
        self.failed.invalidate(session_id).await;
        self.changes.bump();
    }

    /// Forgets a room's notification state (the room is known to have ended; cheaper than
    /// [`Broadcasts::ended`] for a sweep over many rooms).
    pub fn forget(&self, session_id: &str) {
        if self.lock().remove(session_id).is_some() {
            self.changes.bump();
        }
    }

    /// The newest notification's state, if any.
    pub fn get(&self, session_id: &str) -> Option<Broadcast> {
        self.read().get(session_id).cloned()
    }

    /// Applies a notification if it is newer than the known state.
    pub fn apply(&self, session_id: &str, next: Broadcast) -> Applied {
        let mut map = self.lock();
        match map.get(session_id) {
            Some(known) if known.updated_at >= next.updated_at => Applied::Stale,
            known => {
                if known.is_none() && map.len() >= self.capacity {
                    let oldest = map
                        .iter()
                        .min_by_key(|(_, b)| b.updated_at)
                        .map(|(k, _)| k.clone());
                    if let Some(oldest) = oldest {
                        map.remove(&oldest);
                    }
                }
                map.insert(session_id.to_string(), next);
                drop(map);
                self.changes.bump();
                Applied::Updated
            }
        }
    }

    /// What `lifecycle` said just now (the reconciler's refresh of watched rooms).
    pub async fn observed(&self, session_id: &str, live: bool) {
        let changed = self.observed.get(session_id).await != Some(live);
        self.observed.insert(session_id.to_string(), live).await;
        if changed {
            self.changes.bump();
        }
    }

    /// Whether an encoder is live: the newest notification, else a recent `lifecycle` answer,
    /// else `lookup` (run once for all concurrent callers). `None` (unknown) when the lookup
    /// failed, now or within [`FAILED_TTL`] (then it is not asked again).
    pub async fn is_live<E: std::fmt::Display + Send + Sync + 'static>(
        &self,
        session_id: &str,
        lookup: impl Future<Output = Result<bool, E>>,
    ) -> Option<bool> {
        if let Some(known) = self.known(session_id).await {
            return known;
        }
        match self.observed.try_get_with_by_ref(session_id, lookup).await {
            Ok(live) => Some(live),
            Err(e) => {
                tracing::debug!(error = %e, "lifecycle lookup failed");
                self.failed.insert(session_id.to_string(), ()).await;
                None
            }
        }
    }

    /// What is known without asking `lifecycle`: `Some(Some(live))` from a notification or a
    /// recent answer, `Some(None)` while a failed lookup stands, `None` when nothing is known.
    pub async fn known(&self, session_id: &str) -> Option<Option<bool>> {
        if let Some(known) = self.get(session_id) {
            return Some(Some(known.state == Phase::Live));
        }
        if let Some(live) = self.observed.get(session_id).await {
            return Some(Some(live));
        }
        if self.failed.contains_key(session_id) {
            return Some(None);
        }
        None
    }

    fn lock(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Broadcast>> {
        self.by_session
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Broadcast>> {
        self.by_session
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::broadcast::Phase;
    use time::macros::datetime;
    use time::OffsetDateTime;

    fn at(t: OffsetDateTime, state: Phase) -> Broadcast {
        Broadcast {
            state,
            updated_at: t,
            error: None,
            protocol: None,
        }
    }

    #[test]
    fn newer_events_win_replays_and_older_ones_are_stale() {
        let live = Broadcasts::new(Duration::from_secs(60));
        let t1 = datetime!(2026-01-01 10:00:00.000000001 UTC);
        let t2 = datetime!(2026-01-01 10:00:00.000000002 UTC);
        assert_eq!(live.apply("a", at(t2, Phase::Idle)), Applied::Updated);
        assert_eq!(
            live.apply("a", at(t1, Phase::Live)),
            Applied::Stale,
            "out of order"
        );
        assert_eq!(
            live.apply("a", at(t2, Phase::Live)),
            Applied::Stale,
            "replay at the same instant"
        );
        assert_eq!(live.get("a").unwrap().state, Phase::Idle);
        assert_eq!(live.get("b"), None);
    }

    #[tokio::test]
    async fn the_map_is_bounded_and_drops_the_oldest() {
        let live = Broadcasts::with_capacity(2, Duration::from_secs(60));
        let t = |n| datetime!(2026-01-01 10:00:00 UTC) + time::Duration::seconds(n);
        live.apply("a", at(t(1), Phase::Live));
        live.apply("b", at(t(3), Phase::Live));
        live.apply("c", at(t(2), Phase::Live));
        assert_eq!(live.len(), 2);
        assert_eq!(live.get("a"), None, "the oldest went");
        assert!(live.get("b").is_some() && live.get("c").is_some());
        live.ended("b").await;
        assert_eq!(live.len(), 1);
    }

    #[tokio::test]
    async fn notifications_win_over_lifecycle_and_an_end_is_not_live() {
        let live = Broadcasts::new(Duration::from_secs(60));
        let t = datetime!(2026-01-01 10:00:00 UTC);
        let never = async { Err::<bool, String>("down".into()) };
        // No notification: lifecycle's answer, once (then cached).
        assert_eq!(
            live.is_live("a", async { Ok::<_, String>(true) }).await,
            Some(true)
        );
        assert_eq!(live.is_live("a", never).await, Some(true));
        // A notification says otherwise: it wins.
        live.apply("a", at(t, Phase::Idle));
        assert_eq!(
            live.is_live("a", async { Ok::<_, String>(true) }).await,
            Some(false)
        );
        assert_eq!(live.known("a").await, Some(Some(false)));
        assert_eq!(live.known("b").await, None, "nothing known, nothing asked");
        // A failed lookup stands for a moment: the next viewer is not a second lookup.
        assert_eq!(
            live.is_live("b", async { Err::<bool, String>("down".into()) })
                .await,
            None
        );
        assert_eq!(
            live.is_live("b", async { Ok::<_, String>(true) }).await,
            None
        );
        assert_eq!(
            live.known("b").await,
            Some(None),
            "failed just now: unknown"
        );
        // An ended room is not live, whatever was known, without asking lifecycle.
        live.apply("b", at(t, Phase::Live));
        live.ended("b").await;
        assert_eq!(live.get("b"), None);
        assert_eq!(
            live.is_live("b", async { Ok::<_, String>(true) }).await,
            Some(false)
        );
    }

    #[tokio::test]
    async fn a_failed_lookup_is_asked_again_once_its_moment_is_over() {
        let live = Broadcasts::new(Duration::from_millis(300));
        let asked = std::sync::atomic::AtomicUsize::new(0);
        let lookup = |answer: Result<bool, String>| {
            asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move { answer }
        };
        assert_eq!(live.is_live("c", lookup(Err("down".into()))).await, None);
        for _ in 0..100 {
            assert_eq!(
                live.is_live("c", async { Ok::<_, String>(true) }).await,
                None
            );
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(live.is_live("c", lookup(Ok(true))).await, Some(true));
        assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
