//! Client configuration. The token is a `SecretString`, whose `Debug`
//! prints `[REDACTED]`, so deriving `Debug` here cannot leak it.

use std::time::Duration;

use secrecy::SecretString;

use super::retry::RetryPolicy;

/// Production API base.
pub const DEFAULT_API_BASE_URL: &str = "https://api.cloudflare.com/client/v4";

/// Everything the client needs to talk to one Cloudflare account.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// API v4 root, e.g. `https://api.cloudflare.com/client/v4` or an
    /// emulator's `http://127.0.0.1:8787/client/v4`.
    pub api_base_url: String,
    pub account_id: String,
    pub api_token: SecretString,
    /// Public delivery host; `None` = `https://customer-{code}.cloudflarestream.com`.
    pub delivery_base_url: Option<String>,
    /// The account's customer subdomain code (`customer-<CODE>`).
    pub customer_code: String,
    /// Bound on one attempt (connect + response body).
    pub request_timeout: Duration,
    /// Bound on establishing the TCP/TLS connection.
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
}

impl StreamConfig {
    /// Production defaults for the given account.
    pub fn new(
        account_id: impl Into<String>,
        api_token: SecretString,
        customer_code: impl Into<String>,
    ) -> Self {
        Self {
            api_base_url: DEFAULT_API_BASE_URL.to_string(),
            account_id: account_id.into(),
            api_token,
            delivery_base_url: None,
            customer_code: customer_code.into(),
            request_timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
        }
    }

    /// The delivery base actually used (explicit, or derived from the code).
    pub fn effective_delivery_base_url(&self) -> String {
        match &self.delivery_base_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!(
                "https://customer-{}.cloudflarestream.com",
                self.customer_code
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_base_defaults_to_customer_host() {
        let mut c = StreamConfig::new("acc", SecretString::from("tok".to_string()), "abc123");
        assert_eq!(
            c.effective_delivery_base_url(),
            "https://customer-abc123.cloudflarestream.com"
        );
        c.delivery_base_url = Some("http://127.0.0.1:9/".into());
        assert_eq!(c.effective_delivery_base_url(), "http://127.0.0.1:9");
    }

    #[test]
    fn debug_never_shows_token() {
        let c = StreamConfig::new(
            "acc",
            SecretString::from("super-secret-token".to_string()),
            "abc",
        );
        let d = format!("{c:?}");
        assert!(!d.contains("super-secret-token"), "{d}");
        assert!(d.contains("REDACTED"), "{d}");
    }
}
