//! Hosted RPC providers put the API key in the URL (`?api-key=…`, `/v2/<key>`, `/<uuid>`), so a
//! configured RPC URL (and the PubSub URL derived from it) is a secret: it is published only when it
//! carries nothing that looks like a credential, and every URL in a log line or error is redacted.
//! Here, below both the chain client (its errors and its watcher's logs) and the API (its banner,
//! `/api/info`, error bodies).
use url::Url;

const HIDDEN: &str = "***";

/// Whether `url` has a user/password, a query, or a path segment that looks like a key.
pub fn has_credentials(url: &str) -> bool {
    let Ok(parsed) = Url::parse(url) else {
        return true;
    };
    !parsed.username().is_empty()
        || parsed.password().is_some()
        || parsed.query().is_some()
        || parsed
            .path_segments()
            .is_some_and(|mut segments| segments.any(looks_like_key))
}

/// A path segment that is probably a token: mixing digits with letters (UUIDs, hex, base58/base64
/// keys), or long — not words like `v2` or `solana-mainnet`.
fn looks_like_key(segment: &str) -> bool {
    let digits = segment.chars().filter(|c| c.is_ascii_digit()).count();
    let letters = segment.chars().filter(|c| c.is_ascii_alphabetic()).count();
    segment.len() >= 12 && digits >= 2 && letters >= 2
        || segment.len() >= 24
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `url` with user info, query values and key-like path segments replaced by `***`.
pub fn redact_url(url: &str) -> String {
    if !has_credentials(url) {
        // Nothing to hide: keep the text exactly as configured.
        return url.to_string();
    }
    let Ok(mut parsed) = Url::parse(url) else {
        return HIDDEN.to_string();
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        let _ = parsed.set_username(HIDDEN);
        let _ = parsed.set_password(None);
    }
    if parsed.query().is_some() {
        let pairs: Vec<String> = parsed
            .query_pairs()
            .map(|(k, _)| format!("{k}={HIDDEN}"))
            .collect();
        parsed.set_query(Some(&pairs.join("&")));
    }
    let path: Vec<String> = parsed
        .path_segments()
        .map(|segments| {
            segments
                .map(|s| {
                    if looks_like_key(s) {
                        HIDDEN.to_string()
                    } else {
                        s.to_string()
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    if !path.is_empty() {
        parsed.set_path(&path.join("/"));
    }
    parsed.to_string().replace("%2A%2A%2A", HIDDEN)
}

/// `text` (an error message) with every `http(s)://` or `ws(s)://` URL in it redacted.
pub fn redact_urls_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = ["https://", "http://", "wss://", "ws://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>' | ','))
            .unwrap_or(tail.len());
        // Punctuation that ends a sentence ends the URL ("… ws://host/path: refused").
        let end = tail[..end].trim_end_matches(['.', ':', ';']).len();
        out.push_str(&redact_url(&tail[..end]));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// The RPC URL wallets should use: the configured public one, else the server's own when it
/// carries no credentials, else none.
pub fn public_rpc_url(public: Option<&str>, configured: &str) -> Option<String> {
    match public {
        Some(url) => Some(url.to_string()),
        None if has_credentials(configured) => None,
        None => Some(configured.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_urls_with_keys_are_recognised_and_redacted() {
        let cases = [
            (
                "https://mainnet.helius-rpc.com/?api-key=1b2c3d4e-aaaa-bbbb-cccc-0123456789ab",
                "https://mainnet.helius-rpc.com/?api-key=***",
            ),
            (
                "https://solana-mainnet.g.alchemy.com/v2/AbCdEf0123456789GhIjKl",
                "https://solana-mainnet.g.alchemy.com/v2/***",
            ),
            (
                "https://example.solana-mainnet.quiknode.pro/0123456789abcdef0123456789abcdef/",
                "https://example.solana-mainnet.quiknode.pro/***/",
            ),
            (
                "https://user:pass@rpc.example.com/",
                "https://***@rpc.example.com/",
            ),
        ];
        for (url, redacted) in cases {
            assert!(has_credentials(url), "{url}");
            assert_eq!(redact_url(url), redacted);
            assert_eq!(public_rpc_url(None, url), None);
            assert!(
                !redact_urls_in(&format!("error sending request for url ({url})")).contains("0123")
            );
        }
        assert_eq!(redact_url("http://127.0.0.1:8899"), "http://127.0.0.1:8899");
        // The PubSub URL derived from a keyed RPC URL, and a shorter path token.
        assert_eq!(
            redact_url("wss://mainnet.helius-rpc.com/v2/abc123def456?api-key=k3y"),
            "wss://mainnet.helius-rpc.com/v2/***?api-key=***"
        );
        assert_eq!(
            redact_urls_in("websocket ws://127.0.0.1:9/v2/SECRET-path-7f3a9c2e4b1d: refused"),
            "websocket ws://127.0.0.1:9/v2/***: refused"
        );
        for url in [
            "https://api.devnet.solana.com",
            "https://api.mainnet-beta.solana.com/",
            "http://127.0.0.1:8899/",
        ] {
            assert!(!has_credentials(url), "{url}");
            assert_eq!(public_rpc_url(None, url).as_deref(), Some(url));
        }
        assert_eq!(
            public_rpc_url(Some("https://rpc.example.com"), "https://x.io/?api-key=k"),
            Some("https://rpc.example.com".into())
        );
        assert_eq!(
            redact_urls_in("rpc https://x.io/?api-key=secret failed, retrying"),
            "rpc https://x.io/?api-key=*** failed, retrying"
        );
    }
}
