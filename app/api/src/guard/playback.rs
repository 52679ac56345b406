//! Signed playback for gated rooms: the deployment's Stream signing key ([`PlaybackSigner`]:
//! configured id + PEM, or made once through the keys API and kept for the process) and the grant
//! limit per wallet and per client address ([`GrantLimits`], a fixed window per key, in this
//! replica's memory).
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use roomcast_stream::signed_urls::{Claims, SigningKey};
use tokio::sync::OnceCell;

use crate::core::error::AppError;

/// Signs playback tokens (RS256, Cloudflare's self-signed JWT) with one key per deployment.
pub struct PlaybackSigner {
    key: OnceCell<SigningKey>,
}

impl PlaybackSigner {
    /// With a configured key, or empty (the first grant makes one through the keys API).
    pub fn new(configured: Option<SigningKey>) -> Self {
        let key = match configured {
            Some(key) => OnceCell::new_with(Some(key)),
            None => OnceCell::new(),
        };
        PlaybackSigner { key }
    }

    /// The key, made by `create` the first time when none was configured (concurrent first grants
    /// make one key).
    pub async fn key<F, E>(&self, create: impl FnOnce() -> F) -> Result<&SigningKey, E>
    where
        F: Future<Output = Result<SigningKey, E>>,
    {
        self.key.get_or_try_init(create).await
    }

    /// A token for `uid` valid from a minute ago (clock skew) until `expires_at`.
    pub fn sign(key: &SigningKey, uid: &str, now: i64, expires_at: i64) -> String {
        key.sign(&Claims::new(uid, now - 60, expires_at))
    }
}

/// Grants allowed per key (wallet, client address) per window.
pub struct GrantLimits {
    per_window: u32,
    window: Duration,
    seen: Mutex<HashMap<String, (Instant, u32)>>,
}

/// Most keys remembered; past it, expired windows are swept, then the oldest are dropped.
const MAX_KEYS: usize = 100_000;

impl GrantLimits {
    pub fn new(per_window: u32, window: Duration) -> Self {
        GrantLimits {
            per_window,
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a grant for `wallet` from `ip`; 429 when either has used its window.
    pub fn check(&self, wallet: &str, ip: IpAddr) -> Result<(), AppError> {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= MAX_KEYS {
            seen.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let keys = [
            format!("w:{wallet}"),
            format!("ip:{}", crate::guard::client_ip::limit_key(ip)),
        ];
        let mut refused = None;
        for key in &keys {
            let (start, count) = seen.get(key).copied().unwrap_or((now, 0));
            let (start, count) = if now.duration_since(start) >= self.window {
                (now, 0)
            } else {
                (start, count)
            };
            if count >= self.per_window {
                let left = self.window.saturating_sub(now.duration_since(start));
                refused = Some(left.as_secs().max(1));
            }
        }
        if let Some(retry_after_secs) = refused {
            return Err(AppError::RateLimited {
                message: "too many playback grants; try again shortly".into(),
                retry_after_secs,
            });
        }
        for key in keys {
            let entry = seen.entry(key).or_insert((now, 0));
            if now.duration_since(entry.0) >= self.window {
                *entry = (now, 0);
            }
            entry.1 += 1;
        }
        Ok(())
    }
}
