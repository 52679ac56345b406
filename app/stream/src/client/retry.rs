//! Retry policy: exponential backoff with jitter, `retry-after` honoured,
//! bounded both in attempts and in total elapsed time.

use std::time::Duration;

use rand::Rng;

/// How often and how patiently to retry transient failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// Base delay; attempt `n` (0-based) waits about `initial * 2^n`.
    pub initial_backoff: Duration,
    /// Cap on one computed backoff delay.
    pub max_backoff: Duration,
    /// Total time budget across attempts and waits; a retry whose wait
    /// would exceed it is not attempted and the last error is returned.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Delay before retry number `attempt` (0-based). A server-provided
    /// `retry-after` wins over the computed backoff (no jitter: the server
    /// told us exactly when). Otherwise "equal jitter": a uniform value in
    /// `[d/2, d]` so that synchronized clients spread out.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(ra) = retry_after {
            return ra;
        }
        let d = self.backoff_ceiling(attempt);
        let half = d / 2;
        let spread = (d - half).as_nanos() as u64;
        let jitter = if spread == 0 {
            0
        } else {
            rand::thread_rng().gen_range(0..=spread)
        };
        half + Duration::from_nanos(jitter)
    }

    /// Un-jittered `min(max_backoff, initial * 2^attempt)`.
    pub fn backoff_ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// Parses `retry-after` as delta-seconds (what Cloudflare sends on 429).
/// HTTP-dates and junk yield `None`, falling back to computed backoff.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            max_elapsed: Duration::from_secs(10),
        }
    }

    #[test]
    fn backoff_doubles_then_caps() {
        let p = policy();
        assert_eq!(p.backoff_ceiling(0), Duration::from_millis(100));
        assert_eq!(p.backoff_ceiling(1), Duration::from_millis(200));
        assert_eq!(p.backoff_ceiling(3), Duration::from_millis(800));
        assert_eq!(p.backoff_ceiling(4), Duration::from_millis(1000));
        assert_eq!(p.backoff_ceiling(40), Duration::from_millis(1000));
    }

    #[test]
    fn jittered_delay_stays_in_half_to_full_range() {
        let p = policy();
        for attempt in 0..6 {
            let ceil = p.backoff_ceiling(attempt);
            for _ in 0..200 {
                let d = p.delay(attempt, None);
                assert!(d >= ceil / 2 && d <= ceil, "{d:?} vs {ceil:?}");
            }
        }
    }

    #[test]
    fn retry_after_overrides_backoff_exactly() {
        let p = policy();
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert_eq!(p.delay(3, Some(Duration::ZERO)), Duration::ZERO);
    }

    #[test]
    fn retry_after_parsing() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("1.5"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after(""), None);
        assert_eq!(parse_retry_after("99999999999999999999999"), None);
    }

    #[test]
    fn zero_backoff_policy_does_not_panic() {
        let p = RetryPolicy {
            initial_backoff: Duration::ZERO,
            ..policy()
        };
        assert_eq!(p.delay(2, None), Duration::ZERO);
    }
}
