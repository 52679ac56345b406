//! Caps on open Server-Sent Events streams: per client address (IPv6: per /64, the key
//! `guard::client_ip` gives) and in total. A stream holds no request slot (`guard::load`'s
//! in-flight cap would be used up by idle viewers), so without these an anonymous client could
//! open streams until memory or file descriptors run out. Over the per-address cap → 429, over the
//! global cap → 503, both with `Retry-After`. Each stream also ends after a maximum lifetime, so
//! a slot is never held forever (EventSource reconnects by itself).
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::core::error::AppError;

/// How long a refused client is told to wait before trying again.
pub const RETRY_AFTER_SECS: u64 = 5;

/// The stream caps and the counts they guard.
pub struct StreamLimits {
    per_client: usize,
    global: usize,
    /// How long one stream may stay open before the server ends it.
    pub max_lifetime: Duration,
    open: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    by_client: Mutex<HashMap<IpAddr, usize>>,
    total: AtomicUsize,
}

/// Why a stream was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum StreamRefused {
    /// This address has its share open (429).
    PerClient,
    /// The server has every stream it takes open (503).
    Global,
}

impl StreamRefused {
    /// The JSON error for the refusal (the caller adds `Retry-After` to a 503; a 429 carries it).
    pub fn error(&self) -> AppError {
        match self {
            StreamRefused::PerClient => AppError::RateLimited {
                message: "too many open event streams from this address; close one or retry later"
                    .into(),
                retry_after_secs: RETRY_AFTER_SECS,
            },
            StreamRefused::Global => AppError::Unavailable {
                code: "too_many_streams",
                message: "the server has as many open event streams as it takes; retry shortly"
                    .into(),
            },
        }
    }
}

/// One open stream; frees its slot when dropped.
pub struct StreamPermit {
    client: IpAddr,
    open: Arc<Counts>,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut by_client = self.open.lock();
        if let Some(n) = by_client.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                by_client.remove(&self.client);
            }
        }
        self.open.total.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Counts {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.by_client.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl StreamLimits {
    pub fn new(per_client: usize, global: usize, max_lifetime: Duration) -> Self {
        StreamLimits {
            per_client: per_client.max(1),
            global: global.max(1),
            max_lifetime,
            open: Default::default(),
        }
    }

    /// A slot for one stream of `client` (already its limit key: IPv6 collapsed to its /64).
    pub fn try_open(&self, client: IpAddr) -> Result<StreamPermit, StreamRefused> {
        let mut by_client = self.open.lock();
        let mine = by_client.get(&client).copied().unwrap_or(0);
        if mine >= self.per_client {
            return Err(StreamRefused::PerClient);
        }
        if self.open.total.load(Ordering::SeqCst) >= self.global {
            return Err(StreamRefused::Global);
        }
        by_client.insert(client, mine + 1);
        self.open.total.fetch_add(1, Ordering::SeqCst);
        Ok(StreamPermit {
            client,
            open: self.open.clone(),
        })
    }

    /// Streams open now (for metrics).
    pub fn open(&self) -> usize {
        self.open.total.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_client_and_in_total_and_frees_on_drop() {
        let limits = StreamLimits::new(2, 3, Duration::from_secs(60));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let a1 = limits.try_open(a).unwrap();
        let _a2 = limits.try_open(a).unwrap();
        assert_eq!(limits.try_open(a).err(), Some(StreamRefused::PerClient));
        let _b1 = limits.try_open(b).unwrap();
        assert_eq!(limits.try_open(b).err(), Some(StreamRefused::Global));
        assert_eq!(limits.open(), 3);
        drop(a1);
        assert_eq!(limits.open(), 2);
        let _b2 = limits.try_open(b).unwrap();
        assert_eq!(limits.try_open(b).err(), Some(StreamRefused::PerClient));
    }
}
