//! Whole public answers kept by request (`GET /api/livestream?…`, `GET /api/rooms/{room}`,
//! `GET /api/rooms?…`): the bytes last answered for the same query, served again while nothing
//! they are made of has changed. "Nothing changed" is a number: the sum of the change counters of
//! everything a public answer reads (the room index, cached rooms, broadcast states, gates, tip
//! totals; `AppState::answers_version`). Every change there (a chain notification, a webhook, a
//! `lifecycle` answer from the reconciler, this server's own write) moves it, so the next request
//! renders again — read-your-writes is kept.
//!
//! What changes with time alone (a `lifecycle` answer's or a viewer count's TTL) is bounded by
//! `fresh_for` (`ROOMCAST_ANSWERS_FRESH_MS`, default 1 s, at most the room cache TTL): an older
//! answer is still served while one request renders it again in the background
//! (stale-while-revalidate, like the gates), so a viewer never waits for an upstream on the hot
//! path; one older than twice `fresh_for` is rendered in the request. A hit costs a hash
//! lookup under a read lock: no query parse, no base58, no index or cache reads.
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;

/// Answers kept per kind at most; past it, answers of older versions go, then all.
pub const MAX_KEPT: usize = 16_384;

/// The routes whose answers are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `GET /api/livestream?{query}`.
    Livestream = 0,
    /// `GET /api/rooms/{room}`.
    Room = 1,
    /// `GET /api/rooms?{query}`.
    Listing = 2,
}

struct Kept {
    version: u64,
    at: Instant,
    bytes: Bytes,
    /// Set while one request renders this answer again in the background.
    refreshing: Arc<AtomicBool>,
}

/// What a lookup found.
pub enum Lookup {
    /// Current: serve it.
    Fresh(Bytes),
    /// Older than `fresh_for` but current otherwise: serve it; `Some` is the one caller that
    /// renders it again (the claim ends when the [`Refresh`] is dropped, whatever happened).
    Stale(Bytes, Option<Refresh>),
    /// Nothing usable: render in the request.
    Miss,
}

/// The claim on one background render of a stale answer; dropped, it lets the next caller claim.
pub struct Refresh(Arc<AtomicBool>);

impl Drop for Refresh {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

pub struct KeptAnswers {
    fresh_for: Duration,
    max: usize,
    by_kind: [RwLock<HashMap<Box<str>, Kept>>; 3],
}

impl KeptAnswers {
    /// `fresh_for` zero keeps nothing (every request renders).
    pub fn new(fresh_for: Duration) -> Self {
        KeptAnswers::with_capacity(fresh_for, MAX_KEPT)
    }

    pub fn with_capacity(fresh_for: Duration, max: usize) -> Self {
        KeptAnswers {
            fresh_for,
            max: max.max(1),
            by_kind: Default::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.fresh_for.is_zero()
    }

    /// The answer kept for `key` if it was rendered at `version`.
    pub fn get(&self, kind: Kind, key: &str, version: u64) -> Lookup {
        if !self.enabled() {
            return Lookup::Miss;
        }
        let map = self.map(kind).read().unwrap_or_else(|e| e.into_inner());
        let Some(kept) = map.get(key).filter(|k| k.version == version) else {
            return Lookup::Miss;
        };
        let age = kept.at.elapsed();
        if age < self.fresh_for {
            return Lookup::Fresh(kept.bytes.clone());
        }
        if age >= self.fresh_for * 2 {
            return Lookup::Miss;
        }
        let claimed = kept
            .refreshing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        Lookup::Stale(
            kept.bytes.clone(),
            claimed.then(|| Refresh(kept.refreshing.clone())),
        )
    }

    /// Keeps `bytes` as `key`'s answer rendered at `version` (a render that began before a newer
    /// kept one does not replace it).
    pub fn put(&self, kind: Kind, key: &str, version: u64, bytes: Bytes) {
        if !self.enabled() {
            return;
        }
        let mut map = self.map(kind).write().unwrap_or_else(|e| e.into_inner());
        if let Some(kept) = map.get_mut(key) {
            if kept.version <= version {
                kept.version = version;
                kept.at = Instant::now();
                kept.bytes = bytes;
            }
            return;
        }
        if map.len() >= self.max {
            map.retain(|_, k| k.version >= version);
            if map.len() >= self.max {
                map.clear();
            }
        }
        map.insert(
            key.into(),
            Kept {
                version,
                at: Instant::now(),
                bytes,
                refreshing: Arc::default(),
            },
        );
    }

    /// Drops `key`'s answer (its render failed: the next request renders and gets the error).
    pub fn forget(&self, kind: Kind, key: &str) {
        self.map(kind)
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    pub fn len(&self, kind: Kind) -> usize {
        self.map(kind)
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    fn map(&self, kind: Kind) -> &RwLock<HashMap<Box<str>, Kept>> {
        &self.by_kind[kind as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(l: Lookup) -> Option<Bytes> {
        match l {
            Lookup::Fresh(b) => Some(b),
            _ => None,
        }
    }

    #[test]
    fn an_answer_is_served_only_at_the_version_it_was_rendered_at() {
        let kept = KeptAnswers::new(Duration::from_secs(60));
        assert!(matches!(
            kept.get(Kind::Livestream, "room=a", 1),
            Lookup::Miss
        ));
        kept.put(Kind::Livestream, "room=a", 1, Bytes::from_static(b"one"));
        assert_eq!(
            fresh(kept.get(Kind::Livestream, "room=a", 1)).as_deref(),
            Some(&b"one"[..])
        );
        // Another kind, another key, another version: not this answer.
        assert!(matches!(kept.get(Kind::Listing, "room=a", 1), Lookup::Miss));
        assert!(matches!(
            kept.get(Kind::Livestream, "room=b", 1),
            Lookup::Miss
        ));
        assert!(matches!(
            kept.get(Kind::Livestream, "room=a", 2),
            Lookup::Miss
        ));
        // A render that began at an older version does not replace a newer answer.
        kept.put(Kind::Livestream, "room=a", 3, Bytes::from_static(b"three"));
        kept.put(Kind::Livestream, "room=a", 2, Bytes::from_static(b"two"));
        assert_eq!(
            fresh(kept.get(Kind::Livestream, "room=a", 3)).as_deref(),
            Some(&b"three"[..])
        );
        kept.forget(Kind::Livestream, "room=a");
        assert!(matches!(
            kept.get(Kind::Livestream, "room=a", 3),
            Lookup::Miss
        ));
    }

    #[test]
    fn an_older_answer_is_served_while_one_caller_renders_it_again_then_not_at_all() {
        // Wide windows (stale from 1 s to 2 s): a thread held up under load stays inside them.
        let kept = KeptAnswers::new(Duration::from_secs(1));
        kept.put(Kind::Room, "r", 7, Bytes::from_static(b"old"));
        std::thread::sleep(Duration::from_millis(1_100));
        let Lookup::Stale(bytes, Some(refresh)) = kept.get(Kind::Room, "r", 7) else {
            panic!("the first caller after fresh_for renders again");
        };
        assert_eq!(&bytes[..], b"old");
        // Everyone else meanwhile: the same bytes, no second render.
        assert!(matches!(
            kept.get(Kind::Room, "r", 7),
            Lookup::Stale(_, None)
        ));
        drop(refresh);
        assert!(matches!(
            kept.get(Kind::Room, "r", 7),
            Lookup::Stale(_, Some(_))
        ));
        kept.put(Kind::Room, "r", 7, Bytes::from_static(b"new"));
        assert_eq!(
            fresh(kept.get(Kind::Room, "r", 7)).as_deref(),
            Some(&b"new"[..])
        );
        // Past twice fresh_for nothing is served unrendered.
        std::thread::sleep(Duration::from_millis(2_100));
        assert!(matches!(kept.get(Kind::Room, "r", 7), Lookup::Miss));
    }

    #[test]
    fn it_is_bounded_and_zero_keeps_nothing() {
        let kept = KeptAnswers::with_capacity(Duration::from_secs(60), 2);
        kept.put(Kind::Listing, "a", 1, Bytes::new());
        kept.put(Kind::Listing, "b", 2, Bytes::new());
        // Full: the answers of older versions make room.
        kept.put(Kind::Listing, "c", 2, Bytes::new());
        assert_eq!(kept.len(Kind::Listing), 2);
        assert!(matches!(kept.get(Kind::Listing, "a", 1), Lookup::Miss));
        // Still full at the current version: all go.
        kept.put(Kind::Listing, "d", 2, Bytes::new());
        assert_eq!(kept.len(Kind::Listing), 1);

        let off = KeptAnswers::new(Duration::ZERO);
        off.put(Kind::Listing, "a", 1, Bytes::new());
        assert!(matches!(off.get(Kind::Listing, "a", 1), Lookup::Miss));
        assert_eq!(off.len(Kind::Listing), 0);
    }
}
