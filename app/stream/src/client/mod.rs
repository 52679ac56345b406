//! Typed client for the Cloudflare Stream live-input API (v4) and the public
//! delivery endpoints. See `shared/reference/cloudflare-stream.md`.
//!
//! Retry rules: idempotent calls (GET/PUT/DELETE and `rotate_keys`, whose
//! outcome converges: fresh keys returned to us) retry on 429, 5xx,
//! connect failures and timeouts. `create_live_input` retries only when the
//! request never left the client (connect failure), so a lost response can
//! never create two inputs.

mod config;
mod envelope;
mod error;
mod model;
mod retry;

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, Url};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;

pub use config::{StreamConfig, DEFAULT_API_BASE_URL};
pub use error::{ApiMessage, ApiMessageSource, StreamError};
pub use model::*;
pub use retry::{parse_retry_after, RetryPolicy};

/// Whether a request may be re-sent after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Safety {
    /// Re-sending cannot cause a second side effect.
    Idempotent,
    /// Only re-send when the first attempt never reached the server.
    UnsentOnly,
}

/// Cloudflare Stream client for one account. Cheap to clone.
#[derive(Clone)]
pub struct StreamClient {
    http: reqwest::Client,
    /// `Bearer <token>`, marked sensitive; added only to API requests.
    auth: HeaderValue,
    api_base: Url,
    delivery_base: Url,
    account_id: String,
    request_timeout: Duration,
    retry: RetryPolicy,
}

impl std::fmt::Debug for StreamClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamClient")
            .field("api_base", &self.api_base.as_str())
            .field("delivery_base", &self.delivery_base.as_str())
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

fn invalid(msg: impl Into<String>) -> StreamError {
    StreamError::InvalidArgument(msg.into())
}

/// Cloudflare identifiers are at most 32 characters; we also restrict them
/// to alphanumerics so they can never alter the request path.
fn check_id(kind: &str, id: &str) -> Result<(), StreamError> {
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(invalid(format!(
            "{kind} must be 1-32 ASCII letters or digits, got {id:?}"
        )));
    }
    Ok(())
}

fn parse_base(kind: &str, raw: &str) -> Result<Url, StreamError> {
    let url = Url::parse(raw.trim_end_matches('/'))
        .map_err(|e| invalid(format!("{kind} {raw:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(invalid(format!("{kind} {raw:?} must be an http(s) URL")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(format!(
            "{kind} {raw:?} must not have a query or fragment"
        )));
    }
    Ok(url)
}

fn with_segments(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut p) = url.path_segments_mut() {
        p.pop_if_empty();
        p.extend(segments);
    }
    url
}

impl StreamClient {
    /// Validates the configuration and builds the HTTP client (rustls).
    pub fn new(config: StreamConfig) -> Result<Self, StreamError> {
        let api_base = parse_base("api_base_url", &config.api_base_url)?;
        let delivery_base = parse_base("delivery_base_url", &config.effective_delivery_base_url())?;
        check_id("account_id", &config.account_id)?;
        if config.api_token.expose_secret().trim().is_empty() {
            return Err(invalid("api_token must not be empty"));
        }
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", config.api_token.expose_secret()))
                .map_err(|_| invalid("api_token contains characters not allowed in a header"))?;
        // Keeps hyper/reqwest from ever printing the header value.
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("roomcast-stream/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .build()
            .map_err(|e| invalid(format!("cannot build HTTP client: {e}")))?;
        Ok(Self {
            http,
            auth,
            api_base,
            delivery_base,
            account_id: config.account_id,
            request_timeout: config.request_timeout,
            retry: config.retry,
        })
    }

    /// The same client, trying each call once (for probes that must not multiply upstream load).
    pub fn without_retries(&self) -> StreamClient {
        StreamClient {
            retry: RetryPolicy::none(),
            ..self.clone()
        }
    }

    /// An API request: the only place the token is attached.
    fn api_request(&self, method: Method, url: &Url) -> RequestBuilder {
        self.http
            .request(method, url.clone())
            .header(AUTHORIZATION, self.auth.clone())
    }

    fn api_url(&self, tail: &[&str]) -> Url {
        let mut segs = vec![
            "accounts",
            self.account_id.as_str(),
            "stream",
            "live_inputs",
        ];
        segs.extend_from_slice(tail);
        with_segments(&self.api_base, &segs)
    }

    /// `POST /live_inputs`.
    pub async fn create_live_input(&self, req: &CreateLiveInput) -> Result<LiveInput, StreamError> {
        let url = self.api_url(&[]);
        let (status, body) = self
            .execute("create_live_input", Safety::UnsentOnly, || {
                self.api_request(Method::POST, &url).json(req)
            })
            .await?;
        envelope::parse_result(status, &body)
    }

    /// `GET /live_inputs/{uid}` (includes credentials).
    pub async fn get_live_input(&self, uid: &str) -> Result<LiveInput, StreamError> {
        check_id("live input uid", uid)?;
        self.api_json("get_live_input", Method::GET, &[uid]).await
    }

    /// `GET /live_inputs` (items carry no credentials).
    pub async fn list_live_inputs(&self) -> Result<LiveInputList, StreamError> {
        self.api_json("list_live_inputs", Method::GET, &[]).await
    }

    /// `PUT /live_inputs/{uid}`; omitted fields stay unchanged.
    pub async fn update_live_input(
        &self,
        uid: &str,
        req: &UpdateLiveInput,
    ) -> Result<LiveInput, StreamError> {
        check_id("live input uid", uid)?;
        let url = self.api_url(&[uid]);
        let (status, body) = self
            .execute("update_live_input", Safety::Idempotent, || {
                self.api_request(Method::PUT, &url).json(req)
            })
            .await?;
        envelope::parse_result(status, &body)
    }

    /// `DELETE /live_inputs/{uid}`. Recorded videos are kept by Cloudflare.
    pub async fn delete_live_input(&self, uid: &str) -> Result<(), StreamError> {
        check_id("live input uid", uid)?;
        let url = self.api_url(&[uid]);
        let (status, body) = self
            .execute("delete_live_input", Safety::Idempotent, || {
                self.api_request(Method::DELETE, &url)
                    .header(ACCEPT, HeaderValue::from_static("*/*"))
            })
            .await?;
        envelope::parse_empty_ok(status, &body)
    }

    /// `POST /live_inputs/{uid}/rotate_keys`: revokes the publish credentials
    /// and returns the input with new ones.
    pub async fn rotate_keys(&self, uid: &str) -> Result<LiveInput, StreamError> {
        check_id("live input uid", uid)?;
        self.api_json("rotate_keys", Method::POST, &[uid, "rotate_keys"])
            .await
    }

    /// `PUT {"enabled": b}`; disabling rejects/terminates encoder connections.
    pub async fn set_enabled(&self, uid: &str, enabled: bool) -> Result<LiveInput, StreamError> {
        let req = UpdateLiveInput {
            enabled: Some(enabled),
            ..UpdateLiveInput::default()
        };
        self.update_live_input(uid, &req).await
    }

    /// `GET /live_inputs/{uid}/videos`: in-progress broadcast and recordings.
    pub async fn live_input_videos(&self, uid: &str) -> Result<Vec<Video>, StreamError> {
        check_id("live input uid", uid)?;
        self.api_json("live_input_videos", Method::GET, &[uid, "videos"])
            .await
    }

    /// Public `GET <delivery>/<uid>/lifecycle` (no token is sent).
    pub async fn lifecycle(&self, uid: &str) -> Result<Lifecycle, StreamError> {
        check_id("uid", uid)?;
        self.delivery_json("lifecycle", &[uid, "lifecycle"]).await
    }

    /// Public `GET <delivery>/<uid>/views` (no token is sent).
    pub async fn views(&self, uid: &str) -> Result<Views, StreamError> {
        check_id("uid", uid)?;
        self.delivery_json("views", &[uid, "views"]).await
    }

    fn keys_url(&self, tail: &[&str]) -> Url {
        let mut segs = vec!["accounts", self.account_id.as_str(), "stream", "keys"];
        segs.extend_from_slice(tail);
        with_segments(&self.api_base, &segs)
    }

    /// `POST /stream/keys`: a new signing key, its private half shown this once (never retried
    /// once sent: a second key would be made).
    pub async fn create_signing_key(&self) -> Result<crate::signed_urls::SigningKey, StreamError> {
        let url = self.keys_url(&[]);
        let (status, body) = self
            .execute("create_signing_key", Safety::UnsentOnly, || {
                self.api_request(Method::POST, &url)
            })
            .await?;
        let created: CreatedSigningKey = envelope::parse_result(status, &body)?;
        crate::signed_urls::SigningKey::from_pem(&created.id, &created.pem).map_err(|e| {
            StreamError::MalformedResponse {
                status,
                message: format!("signing key: {e}"),
            }
        })
    }

    /// `GET /stream/keys`: the account's signing keys (ids and creation times only).
    pub async fn list_signing_keys(&self) -> Result<Vec<SigningKeyInfo>, StreamError> {
        let url = self.keys_url(&[]);
        let (status, body) = self
            .execute("list_signing_keys", Safety::Idempotent, || {
                self.api_request(Method::GET, &url)
            })
            .await?;
        envelope::parse_result(status, &body)
    }

    /// `DELETE /stream/keys/{id}`: revokes the key; every token it signed stops playing.
    pub async fn delete_signing_key(&self, id: &str) -> Result<(), StreamError> {
        check_id("signing key id", id)?;
        let url = self.keys_url(&[id]);
        let (status, body) = self
            .execute("delete_signing_key", Safety::Idempotent, || {
                self.api_request(Method::DELETE, &url)
            })
            .await?;
        let _: serde_json::Value = envelope::parse_result(status, &body)?;
        Ok(())
    }

    /// Viewer URLs for an input uid, video uid or signed token; pure (no
    /// network). The id is percent-encoded as one path segment.
    pub fn playback_urls(&self, uid: &str) -> PlaybackUrls {
        let u = |tail: &[&str]| {
            let mut segs = vec![uid];
            segs.extend_from_slice(tail);
            with_segments(&self.delivery_base, &segs).to_string()
        };
        PlaybackUrls {
            hls: u(&["manifest", "video.m3u8"]),
            dash: u(&["manifest", "video.mpd"]),
            iframe: u(&["iframe"]),
            webrtc: u(&["webRTC", "play"]),
        }
    }

    async fn api_json<T: DeserializeOwned>(
        &self,
        op: &'static str,
        method: Method,
        tail: &[&str],
    ) -> Result<T, StreamError> {
        let url = self.api_url(tail);
        let (status, body) = self
            .execute(op, Safety::Idempotent, || {
                self.api_request(method.clone(), &url)
            })
            .await?;
        envelope::parse_result(status, &body)
    }

    async fn delivery_json<T: DeserializeOwned>(
        &self,
        op: &'static str,
        tail: &[&str],
    ) -> Result<T, StreamError> {
        let url = with_segments(&self.delivery_base, tail);
        let (status, body) = self
            // The customer host is public: never send it our token.
            .execute(op, Safety::Idempotent, || self.http.get(url.clone()))
            .await?;
        envelope::parse_plain(status, &body)
    }

    /// Sends with retries; returns status and body of a 2xx answer.
    async fn execute(
        &self,
        op: &'static str,
        safety: Safety,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<(u16, Vec<u8>), StreamError> {
        let started = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            let outcome = self.attempt(build()).await;
            // One sample per HTTP attempt (retries included): what Cloudflare actually saw.
            metrics::counter!(
                "roomcast_upstream_requests_total",
                "upstream" => "cloudflare",
                "operation" => op,
                "outcome" => if outcome.is_ok() { "ok" } else { "error" },
            )
            .increment(1);
            let err = match outcome {
                Ok(ok) => {
                    tracing::debug!(
                        op,
                        attempt,
                        status = ok.0,
                        "cloudflare stream call succeeded"
                    );
                    return Ok(ok);
                }
                Err(e) => e,
            };
            let may_retry = match safety {
                Safety::Idempotent => err.is_retryable(),
                Safety::UnsentOnly => err.is_unsent(),
            };
            if !may_retry || attempt >= self.retry.max_retries {
                // Transient failures that survived retries deserve a warning;
                // caller errors (404, 400...) are routine and left to the caller.
                if err.is_retryable() {
                    tracing::warn!(op, attempt, error = %err, "cloudflare stream call failed");
                } else {
                    tracing::debug!(op, attempt, error = %err, "cloudflare stream call failed");
                }
                return Err(err);
            }
            let retry_after = match &err {
                StreamError::RateLimited { retry_after, .. } => *retry_after,
                _ => None,
            };
            let delay = self.retry.delay(attempt, retry_after);
            if started.elapsed() + delay > self.retry.max_elapsed {
                tracing::warn!(op, attempt, error = %err, ?delay, "cloudflare stream retry budget exhausted");
                return Err(err);
            }
            tracing::info!(op, attempt, error = %err, ?delay, "retrying cloudflare stream call");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn attempt(&self, req: RequestBuilder) -> Result<(u16, Vec<u8>), StreamError> {
        let resp = req.send().await.map_err(|e| self.transport(e))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = resp.bytes().await.map_err(|e| self.transport(e))?;
        if (200..300).contains(&status) {
            Ok((status, body.to_vec()))
        } else {
            Err(StreamError::from_status(
                status,
                retry_after,
                envelope::error_items(&body),
            ))
        }
    }

    /// Maps a reqwest error without its URL (keeps messages short; the URL
    /// never contains the token anyway, which travels in a header).
    fn transport(&self, e: reqwest::Error) -> StreamError {
        if e.is_connect() {
            return StreamError::Transport {
                connect: true,
                message: chain(&e.without_url()),
            };
        }
        if e.is_timeout() {
            return StreamError::Timeout {
                timeout: self.request_timeout,
            };
        }
        StreamError::Transport {
            connect: false,
            message: chain(&e.without_url()),
        }
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn client(delivery: Option<&str>) -> StreamClient {
        let mut c = StreamConfig::new(
            "0123456789abcdef0123456789abcdef",
            SecretString::from("tok".to_string()),
            "abc123",
        );
        c.delivery_base_url = delivery.map(str::to_string);
        StreamClient::new(c).unwrap()
    }

    #[test]
    fn playback_urls_from_customer_code() {
        let p = client(None).playback_urls("66be4bf738797e01e1fca35a7bdecdcd");
        let b = "https://customer-abc123.cloudflarestream.com/66be4bf738797e01e1fca35a7bdecdcd";
        assert_eq!(
            p,
            PlaybackUrls {
                hls: format!("{b}/manifest/video.m3u8"),
                dash: format!("{b}/manifest/video.mpd"),
                iframe: format!("{b}/iframe"),
                webrtc: format!("{b}/webRTC/play"),
            }
        );
    }

    #[test]
    fn playback_urls_from_explicit_base_and_encoded_ids() {
        let p = client(Some("http://127.0.0.1:8787/")).playback_urls("a/b?c");
        assert_eq!(p.hls, "http://127.0.0.1:8787/a%2Fb%3Fc/manifest/video.m3u8");
        let p = client(Some("http://h/prefix")).playback_urls("x");
        assert_eq!(p.iframe, "http://h/prefix/x/iframe");
    }

    #[test]
    fn api_url_layout() {
        let c = client(None);
        assert_eq!(
            c.api_url(&["u1", "rotate_keys"]).as_str(),
            "https://api.cloudflare.com/client/v4/accounts/0123456789abcdef0123456789abcdef/stream/live_inputs/u1/rotate_keys"
        );
    }

    #[test]
    fn bad_configuration_is_a_clear_error() {
        let base = StreamConfig::new("acc", SecretString::from("t".to_string()), "c");
        let mut c = base.clone();
        c.api_base_url = "not a url".into();
        assert_eq!(
            StreamClient::new(c).unwrap_err().to_string(),
            "cloudflare stream: invalid argument: api_base_url \"not a url\" is not a URL: relative URL without a base"
        );
        let mut c = base.clone();
        c.api_base_url = "ftp://x/".into();
        assert!(matches!(
            StreamClient::new(c),
            Err(StreamError::InvalidArgument(_))
        ));
        let mut c = base.clone();
        c.account_id = "../x".into();
        assert_eq!(
            StreamClient::new(c).unwrap_err().to_string(),
            "cloudflare stream: invalid argument: account_id must be 1-32 ASCII letters or digits, got \"../x\""
        );
        let mut c = base.clone();
        c.api_token = SecretString::from("bad\ntoken".to_string());
        let e = StreamClient::new(c).unwrap_err().to_string();
        assert_eq!(
            e,
            "cloudflare stream: invalid argument: api_token contains characters not allowed in a header"
        );
    }

    #[tokio::test]
    async fn bad_uid_fails_before_network() {
        let c = client(None);
        let e = c.get_live_input("../../x").await.unwrap_err();
        assert_eq!(
            e,
            StreamError::InvalidArgument(
                "live input uid must be 1-32 ASCII letters or digits, got \"../../x\"".into()
            )
        );
        assert!(c.delete_live_input("").await.is_err());
        assert!(c.views(&"a".repeat(33)).await.is_err());
    }

    #[test]
    fn debug_shows_no_token() {
        let mut c = StreamConfig::new("acc", SecretString::from("tok-SECRET".to_string()), "c");
        c.retry = RetryPolicy::none();
        let client = StreamClient::new(c).unwrap();
        let d = format!("{client:?}");
        assert!(!d.contains("tok-SECRET"), "{d}");
    }
}
