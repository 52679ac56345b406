//! Live viewer counts as Cloudflare counts them from playback: distinct clients that fetched an
//! input's media recently (the delivery routes record each fetch; `/{uid}/views` reads the count).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a player counts as watching after its last media request.
const WATCHING_FOR: Duration = Duration::from_secs(10);

/// Live viewers, as Cloudflare counts them from playback: distinct clients (address and user
/// agent) that fetched an input's media within [`WATCHING_FOR`].
#[derive(Default)]
pub(crate) struct Watchers(Mutex<HashMap<String, HashMap<String, Instant>>>);

impl Watchers {
    pub(super) fn seen(&self, id: &str, client: String) {
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let clients = all.entry(id.to_string()).or_default();
        // Players that left are forgotten as new requests come in, so the map stays small.
        clients.retain(|_, at| at.elapsed() < WATCHING_FOR);
        clients.insert(client, Instant::now());
    }

    pub(crate) fn count(&self, id: &str) -> u64 {
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let Some(clients) = all.get_mut(id) else {
            return 0;
        };
        clients.retain(|_, at| at.elapsed() < WATCHING_FOR);
        clients.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::Watchers;

    #[test]
    fn viewers_are_distinct_recent_clients_per_input() {
        let w = Watchers::default();
        assert_eq!(w.count("input"), 0);
        w.seen("input", "127.0.0.1 Chrome".into());
        w.seen("input", "127.0.0.1 Chrome".into());
        w.seen("input", "10.0.0.2 Safari".into());
        w.seen("other", "127.0.0.1 Chrome".into());
        assert_eq!(w.count("input"), 2);
        assert_eq!(w.count("other"), 1);
        assert_eq!(w.count("unknown"), 0);
    }
}
