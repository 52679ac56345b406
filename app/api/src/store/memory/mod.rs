//! In-memory stores: a map with a per-entry deadline and a hard capacity. Expired entries are pruned
//! in deadline order (O(log n) each); a live entry is never evicted, so a full map refuses new ones.
mod auth_failures;
mod funds;
mod grants;
mod limits;
mod sign_in;

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::store::{
    Claim, IdempotencyStore, KeyState, LeaseToken, Progress, ReplayStore, StoreError,
    StoredResponse,
};

pub use auth_failures::MemoryAuthFailures;
pub use funds::MemoryFunds;
pub use grants::MemoryGrantCounters;
pub use limits::MemoryCreateCounters;
pub use sign_in::MemorySessionStore;

/// The map holds `capacity` live entries; nothing was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// A map whose entries expire, holding at most `capacity` live entries.
pub struct BoundedTtlMap<K, V> {
    capacity: usize,
    entries: HashMap<K, (Instant, V)>,
    deadlines: BTreeSet<(Instant, K)>,
}

impl<K: Hash + Eq + Ord + Clone, V> BoundedTtlMap<K, V> {
    pub fn new(capacity: usize) -> Self {
        BoundedTtlMap {
            capacity,
            entries: HashMap::new(),
            deadlines: BTreeSet::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops every entry whose deadline has passed.
    pub fn prune(&mut self, now: Instant) {
        while let Some((deadline, _)) = self.deadlines.first() {
            if *deadline > now {
                break;
            }
            if let Some((_, key)) = self.deadlines.pop_first() {
                self.entries.remove(&key);
            }
        }
    }

    /// The live value of `key`.
    pub fn get(&mut self, key: &K, now: Instant) -> Option<&V> {
        self.prune(now);
        self.entries.get(key).map(|(_, v)| v)
    }

    /// The live value of `key`, to change in place (its deadline stays).
    pub fn get_mut(&mut self, key: &K, now: Instant) -> Option<&mut V> {
        self.prune(now);
        self.entries.get_mut(key).map(|(_, v)| v)
    }

    /// Inserts or replaces `key`. Fails (storing nothing) when the map is full of live entries and
    /// `key` is not one of them.
    pub fn insert(&mut self, key: K, value: V, ttl: Duration, now: Instant) -> Result<(), Full> {
        self.prune(now);
        if !self.entries.contains_key(&key) && self.entries.len() >= self.capacity {
            return Err(Full);
        }
        let deadline = now + ttl;
        if let Some((old, _)) = self.entries.insert(key.clone(), (deadline, value)) {
            self.deadlines.remove(&(old, key.clone()));
        }
        self.deadlines.insert((deadline, key));
        Ok(())
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let (deadline, value) = self.entries.remove(key)?;
        self.deadlines.remove(&(deadline, key.clone()));
        Some(value)
    }
}

/// Replay protection in this process.
pub struct MemoryReplayStore {
    seen: Mutex<BoundedTtlMap<[u8; 64], ()>>,
}

impl MemoryReplayStore {
    pub fn new(capacity: usize) -> Self {
        MemoryReplayStore {
            seen: Mutex::new(BoundedTtlMap::new(capacity)),
        }
    }
}

#[async_trait]
impl ReplayStore for MemoryReplayStore {
    async fn first_use(&self, id: &[u8; 64], ttl: Duration) -> Result<bool, StoreError> {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.get(id, now).is_some() {
            return Ok(false);
        }
        seen.insert(*id, (), ttl, now)
            .map_err(|Full| StoreError::Full("replay"))?;
        Ok(true)
    }
}

/// One idempotency key in this process: its entry and, while a create runs, its lease.
#[derive(Clone)]
struct IdemEntry {
    fingerprint: [u8; 32],
    progress: Progress,
    response: Option<StoredResponse>,
    lease: Option<(LeaseToken, Instant)>,
}

impl IdemEntry {
    fn leased(&self, now: Instant) -> bool {
        self.lease.as_ref().is_some_and(|(_, until)| *until > now)
    }

    fn held_by(&self, token: &LeaseToken, now: Instant) -> bool {
        self.lease
            .as_ref()
            .is_some_and(|(t, until)| t == token && *until > now)
    }

    fn state(&self, now: Instant) -> KeyState {
        match &self.response {
            Some(response) => KeyState::Done {
                fingerprint: self.fingerprint,
                response: response.clone(),
            },
            None if self.leased(now) => KeyState::InProgress {
                fingerprint: self.fingerprint,
            },
            None => KeyState::Free,
        }
    }
}

/// Idempotency keys in this process: the same leases, fencing and progress as the Redis store
/// (one behaviour behind one trait), though a restart forgets them all.
pub struct MemoryIdempotencyStore {
    keys: Mutex<BoundedTtlMap<String, IdemEntry>>,
    flights: Mutex<BoundedTtlMap<String, Flight>>,
}

/// One create in flight (see the trait's in-flight markers).
#[derive(Clone, Default)]
struct Flight {
    lease_until: Option<Instant>,
    sent: Option<u64>,
    doomed: bool,
}

impl MemoryIdempotencyStore {
    pub fn new(capacity: usize) -> Self {
        MemoryIdempotencyStore {
            keys: Mutex::new(BoundedTtlMap::new(capacity)),
            flights: Mutex::new(BoundedTtlMap::new(capacity)),
        }
    }

    /// Applies `change` to the flight's marker (a fresh one if none) and keeps it for `ttl`,
    /// unless `change` says no.
    fn flight(
        &self,
        flight: &str,
        ttl: Duration,
        change: impl FnOnce(&mut Flight, Instant) -> bool,
    ) -> Result<bool, StoreError> {
        let now = Instant::now();
        let key = flight.to_string();
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        let mut marker = flights.get(&key, now).cloned().unwrap_or_default();
        if !change(&mut marker, now) {
            return Ok(false);
        }
        flights
            .insert(key, marker, ttl, now)
            .map_err(|Full| StoreError::Full("in-flight"))?;
        Ok(true)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BoundedTtlMap<String, IdemEntry>> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies `change` to the entry of `key` if `token` holds its lease; `false` otherwise.
    fn fenced(
        &self,
        key: &str,
        token: &LeaseToken,
        ttl: Option<Duration>,
        change: impl FnOnce(&mut IdemEntry, Instant),
    ) -> Result<bool, StoreError> {
        let now = Instant::now();
        let key = key.to_string();
        let mut keys = self.lock();
        let Some(entry) = keys.get(&key, now).filter(|e| e.held_by(token, now)) else {
            return Ok(false);
        };
        let mut entry = entry.clone();
        change(&mut entry, now);
        match ttl {
            // Replaces the entry's own slot, so it cannot fail for lack of room.
            Some(ttl) => keys
                .insert(key, entry, ttl, now)
                .map_err(|Full| StoreError::Full("idempotency"))?,
            None => {
                keys.remove(&key);
            }
        }
        Ok(true)
    }
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotencyStore {
    async fn get(&self, key: &str) -> Result<KeyState, StoreError> {
        let now = Instant::now();
        Ok(self
            .lock()
            .get(&key.to_string(), now)
            .map(|e| e.state(now))
            .unwrap_or(KeyState::Free))
    }

    async fn claim(
        &self,
        key: &str,
        fingerprint: [u8; 32],
        lease: Duration,
        ttl: Duration,
    ) -> Result<Claim, StoreError> {
        let now = Instant::now();
        let key = key.to_string();
        let mut keys = self.lock();
        let entry = match keys.get(&key, now) {
            Some(e) if e.leased(now) || e.response.is_some() => {
                return Ok(Claim::Taken(e.state(now)))
            }
            Some(e) if e.fingerprint != fingerprint => {
                return Ok(Claim::Taken(KeyState::InProgress {
                    fingerprint: e.fingerprint,
                }))
            }
            Some(e) => e.clone(),
            None => IdemEntry {
                fingerprint,
                progress: Progress::default(),
                response: None,
                lease: None,
            },
        };
        let token = LeaseToken::random();
        let progress = entry.progress.clone();
        let entry = IdemEntry {
            lease: Some((token.clone(), now + lease)),
            ..entry
        };
        keys.insert(key, entry, ttl, now)
            .map_err(|Full| StoreError::Full("idempotency"))?;
        Ok(Claim::Acquired { token, progress })
    }

    async fn renew(
        &self,
        key: &str,
        token: &LeaseToken,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let now = Instant::now();
        let key = key.to_string();
        let mut keys = self.lock();
        // The lease lives inside the entry, whose own deadline (the key's ttl) is not moved.
        let Some(entry) = keys.get_mut(&key, now).filter(|e| e.held_by(token, now)) else {
            return Ok(false);
        };
        entry.lease = Some((token.clone(), now + lease));
        Ok(true)
    }

    async fn record(
        &self,
        key: &str,
        token: &LeaseToken,
        progress: &Progress,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.fenced(key, token, Some(ttl), |e, _| e.progress = progress.clone())
    }

    async fn complete(
        &self,
        key: &str,
        token: &LeaseToken,
        response: StoredResponse,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.fenced(key, token, Some(ttl), |e, _| {
            e.response = Some(response);
            e.progress = Progress::default();
            e.lease = None;
        })
    }

    async fn release(
        &self,
        key: &str,
        token: &LeaseToken,
        forget: bool,
    ) -> Result<bool, StoreError> {
        if forget {
            return self.fenced(key, token, None, |_, _| {});
        }
        let now = Instant::now();
        let key = key.to_string();
        let mut keys = self.lock();
        let Some(entry) = keys.get_mut(&key, now).filter(|e| e.held_by(token, now)) else {
            return Ok(false);
        };
        entry.lease = None;
        Ok(true)
    }

    async fn hold_flight(
        &self,
        flight: &str,
        lease: Duration,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.flight(flight, ttl, |f, now| {
            f.lease_until = Some(now + lease);
            !f.doomed
        })
    }

    async fn flight_sent(
        &self,
        flight: &str,
        last_valid_block_height: u64,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.flight(flight, ttl, |f, _| {
            f.sent = Some(last_valid_block_height);
            !f.doomed
        })
    }

    async fn release_flight(&self, flight: &str, forget: bool) -> Result<(), StoreError> {
        let now = Instant::now();
        let key = flight.to_string();
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if forget {
            flights.remove(&key);
        } else if let Some(f) = flights.get_mut(&key, now) {
            f.lease_until = None;
        }
        Ok(())
    }

    async fn doom_flight(
        &self,
        flight: &str,
        block_height: u64,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.flight(flight, ttl, |f, now| {
            let leased = f.lease_until.is_some_and(|until| until > now);
            let may_land = f.sent.is_some_and(|last| last >= block_height);
            if leased || may_land {
                return false;
            }
            f.doomed = true;
            true
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_refuses_instead_of_dropping_a_live_entry() {
        let mut map = BoundedTtlMap::new(2);
        let t0 = Instant::now();
        let ttl = Duration::from_secs(10);
        map.insert(1u32, "a", ttl, t0).unwrap();
        map.insert(2, "b", ttl, t0).unwrap();
        assert_eq!(map.insert(3, "c", ttl, t0), Err(Full));
        // Both live entries are still there; replacing one is allowed.
        assert_eq!(map.get(&1, t0), Some(&"a"));
        assert_eq!(map.get(&2, t0), Some(&"b"));
        map.insert(2, "B", ttl, t0).unwrap();
        assert_eq!(map.get(&2, t0), Some(&"B"));
        // Once they expire, their room is reused.
        let later = t0 + ttl;
        map.insert(3, "c", ttl, later).unwrap();
        assert_eq!(map.len(), 1);
        assert_eq!(map.get(&1, later), None);
    }

    #[test]
    fn replacing_moves_the_deadline() {
        let mut map = BoundedTtlMap::new(4);
        let t0 = Instant::now();
        map.insert("k", 1, Duration::from_secs(1), t0).unwrap();
        map.insert("k", 2, Duration::from_secs(100), t0).unwrap();
        assert_eq!(map.get(&"k", t0 + Duration::from_secs(50)), Some(&2));
        assert_eq!(map.deadlines.len(), 1);
        assert_eq!(map.remove(&"k"), Some(2));
        assert!(map.is_empty() && map.deadlines.is_empty());
    }

    #[tokio::test]
    async fn replay_store_fails_closed_when_full() {
        let store = MemoryReplayStore::new(2);
        let ttl = Duration::from_secs(60);
        assert_eq!(store.first_use(&[1; 64], ttl).await, Ok(true));
        assert_eq!(store.first_use(&[2; 64], ttl).await, Ok(true));
        assert_eq!(
            store.first_use(&[3; 64], ttl).await,
            Err(StoreError::Full("replay"))
        );
        // The entries it holds still protect.
        assert_eq!(store.first_use(&[1; 64], ttl).await, Ok(false));
    }
}
