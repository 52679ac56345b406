//! Live viewer counts as Cloudflare counts them from playback: distinct clients that fetched an
//! input's media recently (the delivery routes record each fetch of an id that exists;
//! `/{uid}/views` reads the count).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a player counts as watching after its last media request.
const WATCHING_FOR: Duration = Duration::from_secs(10);
/// Most distinct clients remembered per id: past it, new clients are not counted until some
/// leave (the map stays bounded whatever a swarm of addresses does).
const MAX_CLIENTS_PER_ID: usize = 10_000;

/// Live viewers, as Cloudflare counts them from playback: distinct client addresses (IPv6 by
/// /64; a User-Agent is free to rotate, an address is not) that fetched an id's media within
/// [`WATCHING_FOR`].
#[derive(Default)]
pub(crate) struct Watchers(Mutex<Seen>);

#[derive(Default)]
struct Seen {
    by_id: HashMap<String, HashMap<IpAddr, Instant>>,
    /// When the whole map was last swept of clients gone quiet: a sweep is O(all clients), so it
    /// runs at most once per [`SWEEP_EVERY`], not on every media request.
    swept: Option<Instant>,
}

const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The part of an address a client cannot rotate for free: IPv4 as is, IPv6 by its /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

fn watching(at: Instant, now: Instant) -> bool {
    now.saturating_duration_since(at) < WATCHING_FOR
}

impl Watchers {
    /// `client` fetched media of `id`, an id the caller resolved (an input or a video).
    pub(super) fn seen(&self, id: &str, client: IpAddr) {
        self.seen_at(id, client, Instant::now());
    }

    pub(crate) fn count(&self, id: &str) -> u64 {
        self.count_at(id, Instant::now())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// [`Self::seen`] at `now` (the tests' clock).
    fn seen_at(&self, id: &str, client: IpAddr, now: Instant) {
        let mut seen = self.lock();
        // Ids nobody watches any more are forgotten as new requests come in.
        if seen
            .swept
            .is_none_or(|at| now.saturating_duration_since(at) >= SWEEP_EVERY)
        {
            seen.by_id.retain(|_, clients| {
                clients.retain(|_, at| watching(*at, now));
                !clients.is_empty()
            });
            seen.swept = Some(now);
        }
        let clients = seen.by_id.entry(id.to_string()).or_default();
        let key = client_key(client);
        if clients.len() >= MAX_CLIENTS_PER_ID && !clients.contains_key(&key) {
            // Full: room only for clients that left since the last sweep.
            clients.retain(|_, at| watching(*at, now));
        }
        if clients.len() < MAX_CLIENTS_PER_ID || clients.contains_key(&key) {
            clients.insert(key, now);
        }
    }

    fn count_at(&self, id: &str, now: Instant) -> u64 {
        let mut seen = self.lock();
        let Some(clients) = seen.by_id.get_mut(id) else {
            return 0;
        };
        clients.retain(|_, at| watching(*at, now));
        clients.len() as u64
    }

    #[cfg(test)]
    fn ids(&self) -> usize {
        self.lock().by_id.len()
    }
}

#[cfg(test)]
mod tests {
    use super::Watchers;

    #[test]
    fn viewers_are_distinct_recent_addresses_per_id() {
        let w = Watchers::default();
        assert_eq!(w.count("input"), 0);
        w.seen("input", "127.0.0.1".parse().unwrap());
        w.seen("input", "127.0.0.1".parse().unwrap());
        w.seen("input", "10.0.0.2".parse().unwrap());
        // One /64 is one client, whatever its interface id.
        w.seen("input", "2001:db8:1:2::1".parse().unwrap());
        w.seen("input", "2001:db8:1:2:ffff::9".parse().unwrap());
        w.seen("other", "127.0.0.1".parse().unwrap());
        assert_eq!(w.count("input"), 3);
        assert_eq!(w.count("other"), 1);
        assert_eq!(w.count("unknown"), 0);
        assert_eq!(w.ids(), 2);
    }

    #[test]
    fn clients_per_id_are_bounded() {
        // One instant for the whole swarm: the bound, not the clock, decides the count (the
        // test once read the wall clock and lost its first clients when a loaded machine took
        // over 10 s to insert 10k of them).
        let w = Watchers::default();
        let now = std::time::Instant::now();
        for n in 0..(super::MAX_CLIENTS_PER_ID as u32 + 50) {
            w.seen_at("input", std::net::Ipv4Addr::from(n).into(), now);
        }
        assert_eq!(w.count_at("input", now), super::MAX_CLIENTS_PER_ID as u64);
        // Once they left, new clients are counted again.
        let later = now + super::WATCHING_FOR;
        w.seen_at("input", "10.9.9.9".parse().unwrap(), later);
        assert_eq!(w.count_at("input", later), 1);
    }
}
