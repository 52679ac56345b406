//! Which rooms are gated, for public reads: every gate of the program from one
//! `getProgramAccounts`, shared by all callers (single flight), so a listing of a thousand rooms
//! costs one chain read, not one per room. A grant never uses it: it reads the room's gate fresh
//! (`rooms::playback`), so a gate change binds the next renewal at once.
//!
//! Once loaded, a read never waits for the chain: when the map is older than the TTL, the first
//! reader starts one refresh in the background and every reader keeps the map it has until the
//! refresh lands (stale-while-revalidate). A registry of 100k rooms makes that read a scan of every
//! program account; viewers waiting on it every TTL were the slowest requests of the viewer path.
//! Staleness is bounded by the TTL plus one read; the server's own gate changes `invalidate`,
//! after which the next reader waits for a fresh read (read-your-writes). A gated room's input
//! refuses unsigned playback at Cloudflare anyway, so a stale "ungated" costs no access.
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use roomcast_chain::{Gate, Pubkey};

/// Gates by room address.
pub type GateMap = Arc<HashMap<Pubkey, Gate>>;

#[derive(Clone)]
pub struct Gates {
    inner: Arc<Inner>,
}

struct Inner {
    ttl: Duration,
    current: RwLock<Option<Loaded>>,
    /// Set by `invalidate`: the next reader waits for a read that began after it.
    dirty: AtomicBool,
    /// One background refresh at a time.
    refreshing: AtomicBool,
    /// Readers that must wait share one read.
    waiting: tokio::sync::Mutex<()>,
    /// Reads are numbered when they begin; an older read never replaces a newer one.
    tickets: AtomicU64,
    /// Moves when a read lands with other gates than the kept ones, and on `invalidate`.
    changes: crate::live::changes::Changes,
}

#[derive(Clone)]
struct Loaded {
    map: GateMap,
    at: Instant,
    ticket: u64,
}

impl Gates {
    pub fn new(ttl: Duration) -> Self {
        Gates {
            inner: Arc::new(Inner {
                ttl,
                current: RwLock::new(None),
                dirty: AtomicBool::new(false),
                refreshing: AtomicBool::new(false),
                waiting: tokio::sync::Mutex::new(()),
                tickets: AtomicU64::new(1),
                changes: Default::default(),
            }),
        }
    }

    /// How many times the gates changed (`live::answers`).
    pub fn changes(&self) -> u64 {
        self.inner.changes.get()
    }

    /// Every gate: the kept map (refreshed in the background once older than the TTL), or — the
    /// first time and after `invalidate` — a read from `load()`, shared by concurrent callers.
    /// `load` is called only when a read starts (not on the common path, which costs a lock read).
    pub async fn all<L, F, E>(&self, load: L) -> Result<GateMap, Arc<E>>
    where
        L: FnOnce() -> F,
        F: Future<Output = Result<Vec<Gate>, E>> + Send + 'static,
        E: std::fmt::Display + Send + Sync + 'static,
    {
        let inner = &self.inner;
        if !inner.dirty.load(Ordering::Acquire) {
            if let Some(kept) = inner.kept() {
                if kept.at.elapsed() >= inner.ttl
                    && inner
                        .refreshing
                        .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                {
                    let inner = self.inner.clone();
                    let ticket = inner.tickets.fetch_add(1, Ordering::AcqRel);
                    let load = load();
                    tokio::spawn(async move {
                        match load.await {
                            Ok(gates) => {
                                inner.store(gates, ticket);
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "gates: background refresh failed; keeping the last read");
                                inner.touch();
                            }
                        }
                        inner.refreshing.store(false, Ordering::Release);
                    });
                }
                return Ok(kept.map);
            }
        }
        let asked = inner.tickets.load(Ordering::Acquire);
        let _one = inner.waiting.lock().await;
        // A read that began after this caller asked has landed meanwhile: take it.
        if !inner.dirty.load(Ordering::Acquire) {
            if let Some(kept) = inner.kept().filter(|k| k.ticket >= asked) {
                return Ok(kept.map);
            }
        }
        inner.dirty.store(false, Ordering::Release);
        let ticket = inner.tickets.fetch_add(1, Ordering::AcqRel);
        let gates = load().await.map_err(Arc::new)?;
        Ok(inner.store(gates, ticket))
    }

    /// Forgets the gates, so the next read sees a change this server just made.
    pub async fn invalidate(&self) {
        self.inner.dirty.store(true, Ordering::Release);
        self.inner.changes.bump();
    }
}

impl Inner {
    fn kept(&self) -> Option<Loaded> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Keeps `gates` unless a read that began later has already landed; answers the kept map.
    fn store(&self, gates: Vec<Gate>, ticket: u64) -> GateMap {
        let map: GateMap = Arc::new(gates.into_iter().map(|g| (g.room, g)).collect());
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        match current.as_ref() {
            Some(newer) if newer.ticket > ticket => newer.map.clone(),
            kept => {
                if kept.is_none_or(|kept| kept.map != map) {
                    self.changes.bump();
                }
                *current = Some(Loaded {
                    map: map.clone(),
                    at: Instant::now(),
                    ticket,
                });
                map
            }
        }
    }

    /// A failed refresh: the kept map serves another TTL before the next try.
    fn touch(&self) {
        if let Some(kept) = self
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            kept.at = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn gate(room: Pubkey, min_amount: u64) -> Gate {
        Gate {
            room,
            mint: Pubkey::new_unique(),
            token_program: Pubkey::new_unique(),
            decimals: 0,
            min_amount,
            payer: Pubkey::new_unique(),
            updated_at: 0,
            bump: 255,
        }
    }

    /// A loader that counts its reads (when its future runs, not when it is made) and answers what
    /// `source` holds at the time it runs.
    fn loader(
        source: &Arc<std::sync::Mutex<Vec<Gate>>>,
        reads: &Arc<AtomicUsize>,
        fail: bool,
    ) -> impl FnOnce() -> std::pin::Pin<Box<dyn Future<Output = Result<Vec<Gate>, String>> + Send>>
    {
        let (source, reads) = (source.clone(), reads.clone());
        move || {
            Box::pin(async move {
                reads.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
                if fail {
                    return Err("rpc down".to_string());
                }
                Ok(source.lock().unwrap().clone())
            })
        }
    }

    async fn settle(gates: &Gates) {
        while gates.inner.refreshing.load(Ordering::Acquire) {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_stale_map_is_answered_at_once_and_refreshed_once_in_the_background() {
        let room = Pubkey::new_unique();
        let source = Arc::new(std::sync::Mutex::new(vec![gate(room, 5)]));
        let reads = Arc::new(AtomicUsize::new(0));
        let gates = Gates::new(Duration::ZERO);
        let first = gates.all(loader(&source, &reads, false)).await.unwrap();
        assert_eq!(first[&room].min_amount, 5);
        assert_eq!(reads.load(Ordering::SeqCst), 1);

        // The chain changes; the map is stale (TTL 0): readers get the kept map at once, and
        // only one refresh starts however many read meanwhile.
        *source.lock().unwrap() = vec![gate(room, 9)];
        for _ in 0..10 {
            let kept = gates.all(loader(&source, &reads, false)).await.unwrap();
            assert_eq!(kept[&room].min_amount, 5);
        }
        settle(&gates).await;
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        let after = gates.all(loader(&source, &reads, false)).await.unwrap();
        assert_eq!(after[&room].min_amount, 9);
    }

    #[tokio::test]
    async fn after_invalidate_the_next_reader_waits_for_a_fresh_read() {
        let room = Pubkey::new_unique();
        let source = Arc::new(std::sync::Mutex::new(vec![]));
        let reads = Arc::new(AtomicUsize::new(0));
        let gates = Gates::new(Duration::from_secs(3600));
        assert!(gates
            .all(loader(&source, &reads, false))
            .await
            .unwrap()
            .is_empty());
        *source.lock().unwrap() = vec![gate(room, 1)];
        // Fresh within the TTL: no read.
        assert!(gates
            .all(loader(&source, &reads, false))
            .await
            .unwrap()
            .is_empty());
        gates.invalidate().await;
        let seen = gates.all(loader(&source, &reads, false)).await.unwrap();
        assert_eq!(seen[&room].min_amount, 1);
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_first_read_is_an_error_and_a_failed_refresh_keeps_the_map() {
        let room = Pubkey::new_unique();
        let source = Arc::new(std::sync::Mutex::new(vec![gate(room, 3)]));
        let reads = Arc::new(AtomicUsize::new(0));
        let gates = Gates::new(Duration::ZERO);
        let err = gates.all(loader(&source, &reads, true)).await.unwrap_err();
        assert_eq!(*err, "rpc down");
        assert_eq!(
            gates.all(loader(&source, &reads, false)).await.unwrap()[&room].min_amount,
            3
        );
        let kept = gates.all(loader(&source, &reads, true)).await.unwrap();
        assert_eq!(kept[&room].min_amount, 3);
        settle(&gates).await;
        assert_eq!(reads.load(Ordering::SeqCst), 3);
        assert_eq!(
            gates.all(loader(&source, &reads, false)).await.unwrap()[&room].min_amount,
            3
        );
    }

    #[test]
    fn an_older_read_never_replaces_a_newer_one() {
        let room = Pubkey::new_unique();
        let gates = Gates::new(Duration::from_secs(60));
        gates.inner.store(vec![gate(room, 2)], 7);
        let answered = gates.inner.store(vec![gate(room, 1)], 6);
        assert_eq!(answered[&room].min_amount, 2);
        assert_eq!(gates.inner.kept().unwrap().map[&room].min_amount, 2);
    }
}
