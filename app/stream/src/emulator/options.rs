//! How an emulator is configured: the `roomcast stream-emulator` flags ([`EmulatorArgs`]), the
//! in-process options ([`EmulatorOptions`]), when control-triggered notifications are sent
//! ([`WebhookTiming`]), and whether real video ingest runs ([`VideoIngest`]).

use std::net::SocketAddr;
use std::time::Duration;

use rand::Rng;
use secrecy::SecretString;
use serde::Serialize;

use super::webhook::WebhookTarget;
use crate::media::rtmp::RtmpLimits;
use crate::media::webrtc::WebRtcLimits;

/// Customer code used when none is given (16 lowercase alphanumerics, like real ones).
pub const DEFAULT_CUSTOMER_CODE: &str = "roomcastemulator";

fn parse_secret(s: &str) -> Result<SecretString, String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(SecretString::from(s.to_string()))
}

/// `roomcast stream-emulator` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on (port 0 = any free port).
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// The only account id the emulator serves.
    #[arg(long)]
    pub account_id: String,
    /// Bearer token clients must send.
    #[arg(long, env = "ROOMCAST_EMULATOR_TOKEN", value_parser = parse_secret, hide_env_values = true)]
    pub api_token: SecretString,
    /// Customer subdomain code used in `customer-<code>.cloudflarestream.com` URLs.
    #[arg(long, default_value = DEFAULT_CUSTOMER_CODE)]
    pub customer_code: String,
    /// Where to POST live-input notifications.
    #[arg(long)]
    pub webhook_url: Option<String>,
    /// Sent as the `cf-webhook-auth` header with every notification.
    #[arg(long, value_parser = parse_secret, requires = "webhook_url")]
    pub webhook_secret: Option<SecretString>,
    /// RTMP ingest address for real publishes (port 0 = any free port). Needs ffmpeg on PATH
    /// or in ROOMCAST_FFMPEG; without it the emulator runs with video ingest off.
    #[arg(long, env = "ROOMCAST_RTMP_LISTEN", default_value = "127.0.0.1:1935")]
    pub rtmp_listen: SocketAddr,
    /// SRT ingest address (UDP; port 0 = any free port), one port for every input as
    /// Cloudflare's `live.cloudflare.com:778`. Runs with RTMP ingest (it needs ffmpeg too).
    #[arg(long, env = "ROOMCAST_SRT_LISTEN", default_value = "127.0.0.1:7780")]
    pub srt_listen: SocketAddr,
    /// WebRTC (WHIP) broadcasts this process takes at once; more are refused with 503.
    #[arg(long, env = "ROOMCAST_WEBRTC_MAX_BROADCASTS", default_value_t = WebRtcLimits::default().max_broadcasts)]
    pub webrtc_max_broadcasts: usize,
    /// WHEP viewers per WebRTC broadcast; more are refused with 503.
    #[arg(long, env = "ROOMCAST_WEBRTC_MAX_VIEWERS", default_value_t = WebRtcLimits::default().max_viewers_per_broadcast)]
    pub webrtc_max_viewers: usize,
}

/// Whether real video can be published to this emulator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum VideoIngest {
    /// RTMP ingest runs; live inputs' `rtmps.url` is `rtmp_url`.
    #[serde(rename_all = "camelCase")]
    On { rtmp_url: String },
    /// Asked for but impossible (no ffmpeg, or the RTMP address is taken); `reason` says how
    /// to fix it. Inputs keep Cloudflare's ingest URL.
    Off { reason: String },
    /// Not asked for ([`EmulatorOptions::rtmp_listen`] is `None`).
    NotRequested,
}

impl VideoIngest {
    /// The one line `serve` and `stream-emulator` print about it.
    pub fn banner(&self) -> String {
        match self {
            VideoIngest::On { rtmp_url } => format!("Video ingest (RTMP): {rtmp_url}<stream key>"),
            VideoIngest::Off { reason } => format!("Video ingest is off: {reason}"),
            VideoIngest::NotRequested => "Video ingest is off (no RTMP listener requested)".into(),
        }
    }
}

/// In-process start options.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// Port 0 binds an ephemeral port.
    pub listen: SocketAddr,
    pub account_id: String,
    pub api_token: SecretString,
    pub customer_code: String,
    pub webhook: Option<WebhookTarget>,
    /// RTMP ingest address (port 0 = ephemeral); `None` = no real video (Cloudflare's ingest
    /// URL in answers, control-API broadcasts only).
    pub rtmp_listen: Option<SocketAddr>,
    /// What anonymous RTMP clients can make the listener hold (connections, publish deadline,
    /// message size before publish).
    pub rtmp_limits: RtmpLimits,
    /// SRT ingest address (UDP, port 0 = ephemeral), used only with RTMP ingest on; `None` =
    /// no SRT listener (inputs then have no `srt` when video is on).
    pub srt_listen: Option<SocketAddr>,
    /// Where recordings are kept (`None`: a temporary directory removed on exit).
    pub media_dir: Option<std::path::PathBuf>,
    /// When control-triggered notifications are sent (asynchronous unless a test asks).
    pub webhook_timing: WebhookTiming,
    /// WHIP broadcasts per process, WHEP viewers per broadcast, connect deadline (WebRTC runs
    /// with real video ingest, on the HTTP listener's address).
    pub webrtc_limits: WebRtcLimits,
}

/// When the notification of an encoder-control call (`connect`, `disconnect`, `error`) reaches
/// the webhook. Cloudflare sends notifications on its own schedule, after whatever caused them;
/// a receiver that assumes otherwise is wrong, so tests run against the asynchronous mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookTiming {
    /// After the control call has answered: queued with every other notification (one ordered
    /// queue, so `connected` never arrives after the `disconnected` that follows it) and sent
    /// `delay` plus up to `jitter` after it happened. The answer's `webhook` is `null`.
    Asynchronous { delay: Duration, jitter: Duration },
    /// Sent before the control call answers, its delivery record in the answer: only for tests
    /// about what one delivery returned. Background notifications are sent without delay.
    Synchronous,
}

impl Default for WebhookTiming {
    /// 20 ms plus up to 80 ms: late enough that a caller reading right after a control call
    /// sees the state from before it, soon enough to keep tests quick.
    fn default() -> Self {
        WebhookTiming::Asynchronous {
            delay: Duration::from_millis(20),
            jitter: Duration::from_millis(80),
        }
    }
}

impl WebhookTiming {
    /// How long after it happened one notification is sent.
    pub(super) fn pause(&self) -> Duration {
        match *self {
            WebhookTiming::Asynchronous { delay, jitter } => {
                let extra = rand::thread_rng().gen_range(0..=jitter.as_micros() as u64);
                delay + Duration::from_micros(extra)
            }
            WebhookTiming::Synchronous => Duration::ZERO,
        }
    }
}

impl EmulatorOptions {
    /// Loopback, ephemeral port, default customer code, no webhook, no RTMP ingest.
    pub fn new(account_id: impl Into<String>, api_token: SecretString) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            account_id: account_id.into(),
            api_token,
            customer_code: DEFAULT_CUSTOMER_CODE.into(),
            webhook: None,
            rtmp_listen: None,
            rtmp_limits: RtmpLimits::default(),
            srt_listen: None,
            media_dir: None,
            webhook_timing: WebhookTiming::default(),
            webrtc_limits: WebRtcLimits::default(),
        }
    }
}

impl From<EmulatorArgs> for EmulatorOptions {
    fn from(a: EmulatorArgs) -> Self {
        Self {
            listen: a.listen,
            account_id: a.account_id,
            api_token: a.api_token,
            customer_code: a.customer_code,
            webhook: a.webhook_url.map(|url| WebhookTarget {
                url,
                secret: a.webhook_secret,
            }),
            rtmp_listen: Some(a.rtmp_listen),
            rtmp_limits: RtmpLimits::default(),
            srt_listen: Some(a.srt_listen),
            media_dir: None,
            webhook_timing: WebhookTiming::default(),
            webrtc_limits: WebRtcLimits {
                max_broadcasts: a.webrtc_max_broadcasts,
                max_viewers_per_broadcast: a.webrtc_max_viewers,
                ..WebRtcLimits::default()
            },
        }
    }
}
