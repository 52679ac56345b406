//! A local stand-in for Cloudflare Stream (live inputs + delivery), used by
//! tests and as the API server's embedded default.
//!
//! # API routes (same paths, envelope and shapes as Cloudflare)
//! Under `/client/v4/accounts/{account_id}/stream/live_inputs`:
//! `POST` create, `GET` list, `GET|PUT|DELETE /{uid}`, `POST /{uid}/rotate_keys`,
//! `GET /{uid}/videos`. Every call needs `Authorization: Bearer <token>`:
//! missing/not Bearer/empty → 401, wrong token → 403 (code 10000; the
//! legacy `X-Auth-Email`/`X-Auth-Key` pair is not emulated). An unknown account id → 404
//! (code 7003, "Could not route..."), following the issue; real Cloudflare
//! may answer 403 for accounts the token cannot see. Unknown input → 404
//! (code 10003). Invalid bodies → 400 (code 10005), e.g.
//! `deleteRecordingAfterDays` outside 30..=1096. DELETE answers 200 with an
//! empty body. The numeric codes are emulator choices (the reference found
//! no authoritative list); branch on HTTP status, as the client does.
//!
//! # Delivery routes (the `customer-<code>.cloudflarestream.com` host)
//! `GET /{uid}/manifest/video.m3u8` and `.mpd`: 204 while the input is idle
//! (or records nothing: `recording.mode = "off"`), a manifest while live;
//! video uids are served too. A broadcast published over RTMP serves its real
//! fMP4 HLS (`no-cache`, CORS) and `GET /{uid}/manifest/{init.mp4|segNNNNN.m4s}`;
//! one started through the control API gets a placeholder manifest (so does
//! `.mpd` always). `GET /{uid}/lifecycle` → `{isInput, videoUID, live}` (`live` while an
//! encoder is connected, recorded or not; `videoUID` null when nothing is recorded);
//! `GET /{uid}/views` → `{liveViewers}`; `GET /{uid}/iframe` → the player page
//! (hls.js from `GET /player/hls-<version>.min.js`).
//! URLs inside API responses keep the real hosts (`https://customer-<code>...`);
//! `rtmps.url` is `rtmp://<rtmp listener>/live/` when RTMP ingest runs
//! ([`EmulatorOptions::rtmp_listen`], see [`crate::media`]), otherwise
//! `rtmps://live.cloudflare.com:443/live/`.
//!
//! # Control routes (`/__emulator`, no auth; tests only)
//! | Method & path | Body | Effect |
//! |---|---|---|
//! | `GET /__emulator/health` | | `{ok, apiBaseUrl, deliveryBaseUrl, accountId, customerCode, videoIngest}` |
//! | `GET /__emulator/inputs` | | all inputs, full objects |
//! | `GET /__emulator/inputs/{uid}` | | one input (404 if unknown) |
//! | `GET /__emulator/inputs/{uid}/videos` | | its videos, newest first (as the account API) |
//! | `POST /__emulator/inputs/{uid}/connect` | | encoder connects (409 if disabled/already connected) |
//! | `POST /__emulator/inputs/{uid}/disconnect` | | encoder disconnects (409 if not connected) |
//! | `POST /__emulator/inputs/{uid}/error` | `{"code":"ERR_GOP_OUT_OF_RANGE","message"?:..}` | `live_input.errored` |
//! | `PUT /__emulator/inputs/{uid}/views` | `{"liveViewers":n}` | sets the viewer count |
//! | `PUT /__emulator/webhook` | `{"url":..,"secret"?:..}` | notification target |
//! | `DELETE /__emulator/webhook` | | no notifications |
//! | `GET /__emulator/webhook/deliveries` | | notifications sent so far |
//! | `POST /__emulator/faults` | `{"route":"live_inputs.get","fault":{"kind":"rate_limited","retry_after_secs":1},"times":2}` | fault for the next N calls |
//! | `DELETE /__emulator/faults` | | clears faults |
//! | `GET /__emulator/calls` / `DELETE` | | per-route call counters / reset |
//! | `POST /__emulator/reset` | | forget inputs, videos, faults, counters, deliveries |
//!
//! Fault kinds: `latency{ms}`, `rate_limited{retry_after_secs}`,
//! `server_error{status}` (500-599), `status{status}` (400-599), `hang`
//! (answers 503 only when the emulator shuts down), `malformed` (200 with
//! truncated JSON). Route names are
//! those of [`Route::as_str`]. Encoder-control answers are
//! `{event, videoUID, webhook}` where `webhook` is the delivery record (or
//! null when no webhook is configured); errors are `{"error": "..."}`.
//! Notifications caused by control calls are delivered before the control
//! call returns (deterministic tests); those caused by API calls (disabling,
//! rotating or deleting a live input) are sent in the background, like
//! Cloudflare, so an API caller that is also the receiver cannot deadlock.

mod control;
mod delivery;
mod ingest;
mod persist;
mod player;
mod routes;
mod state;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use anyhow::Context;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;
use tokio::sync::{mpsc, watch};

use crate::client::{LiveInput, Video};
use crate::media::{self, Media};
pub use ingest::APP as RTMP_APP;
pub use persist::InputStore;
pub use player::HLS_JS;
pub(crate) use state::error_message;
pub use state::{ControlError, Fault, Route, WebhookDelivery, WebhookTarget};
use state::{Notification, State};

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
        }
    }
}

/// Serves until ctrl-c; prints the API base URL on one line first.
pub async fn run(args: EmulatorArgs) -> anyhow::Result<()> {
    let handle = Emulator::start(args.into()).await?;
    println!("{}", handle.api_base_url());
    println!("{}", handle.video_ingest().banner());
    tokio::signal::ctrl_c()
        .await
        .context("waiting for ctrl-c")?;
    handle.shutdown().await;
    Ok(())
}

/// Result of an encoder-control operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlOutcome {
    /// `live_input.connected`, `live_input.disconnected` or `live_input.errored`.
    pub event: String,
    /// The live video created by `connect` (None when recording is off).
    #[serde(rename = "videoUID")]
    pub video_uid: Option<String>,
    /// Delivery record of the notification, if a webhook is configured.
    pub webhook: Option<WebhookDelivery>,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    account_id: String,
    api_token: SecretString,
    customer_code: String,
    addr: SocketAddr,
    http: reqwest::Client,
    shutdown: watch::Receiver<bool>,
    video: VideoIngest,
    media: Option<Media>,
    publishes: Mutex<HashMap<u64, ingest::Publish>>,
    next_publish: AtomicU64,
    /// Notifications not tied to a control call, delivered one after another in order.
    ordered: mpsc::UnboundedSender<Vec<Notification>>,
    /// Who fetched each input's live media recently (live viewer counts).
    pub(crate) watchers: delivery::Watchers,
}

impl Shared {
    /// What live inputs' `rtmps.url` says.
    fn ingest_url(&self) -> &str {
        match &self.video {
            VideoIngest::On { rtmp_url } => rtmp_url,
            _ => state::RTMPS_URL,
        }
    }

    /// Queues notifications for in-order background delivery (the caller never waits).
    fn notify_in_order(&self, events: Vec<Notification>) {
        if !events.is_empty() {
            let _ = self.ordered.send(events);
        }
    }

    /// A panic in one handler must not wedge the emulator: ignore poisoning.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn api_base_url(&self) -> String {
        format!("http://{}/client/v4", self.addr)
    }

    fn delivery_base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn until_shutdown(&self) {
        let mut rx = self.shutdown.clone();
        let _ = rx.wait_for(|stop| *stop).await;
    }

    /// Counts the call and applies an injected fault; `Some` short-circuits.
    async fn enter(&self, route: Route) -> Option<Response> {
        match self.enter_mutation(route).await {
            Err(early) => Some(early),
            // A read changes nothing: a late or missing answer is the same as before processing.
            Ok(Some(Fault::AppliedThenLatency { ms })) => {
                self.before(route, Fault::Latency { ms }).await
            }
            Ok(Some(Fault::AppliedThenHang)) => self.before(route, Fault::Hang).await,
            Ok(Some(lost)) => Some(
                self.after_apply(lost, envelope_ok(StatusCode::OK, serde_json::Value::Null))
                    .await,
            ),
            Ok(None) => None,
        }
    }

    /// Counts the call and takes its fault: faults that act before processing answer now
    /// (`Err`), a post-apply fault is handed back to apply to the answer once the change is made.
    async fn enter_mutation(&self, route: Route) -> Result<Option<Fault>, Response> {
        let fault = {
            let mut st = self.lock();
            st.count(route);
            st.take_fault(route)
        };
        let Some(fault) = fault else {
            return Ok(None);
        };
        if fault.after_apply() {
            tracing::debug!(%route, ?fault, "emulator will lose this answer after applying");
            return Ok(Some(fault));
        }
        match self.before(route, fault).await {
            Some(r) => Err(r),
            None => Ok(None),
        }
    }

    /// Applies a post-apply fault to `answer`: drop it mid-body, never send it, or send it late.
    async fn after_apply(&self, fault: Fault, answer: Response) -> Response {
        match fault {
            Fault::AppliedThenDrop => {
                let (parts, _) = answer.into_parts();
                Response::from_parts(parts, axum::body::Body::new(control::LostBody))
            }
            Fault::AppliedThenHang => {
                self.until_shutdown().await;
                shutting_down()
            }
            Fault::AppliedThenLatency { ms } => {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(ms)) => answer,
                    _ = self.until_shutdown() => shutting_down(),
                }
            }
            _ => answer,
        }
    }

    async fn before(&self, route: Route, fault: Fault) -> Option<Response> {
        tracing::debug!(%route, ?fault, "emulator injecting fault");
        match fault {
            Fault::Latency { ms } => {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(ms)) => None,
                    _ = self.until_shutdown() => Some(shutting_down()),
                }
            }
            Fault::RateLimited { retry_after_secs } => {
                let mut r = envelope_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    971,
                    "Please wait and consider throttling your request speed",
                );
                r.headers_mut().insert(
                    "retry-after",
                    HeaderValue::from_str(&retry_after_secs.to_string())
                        .unwrap_or(HeaderValue::from_static("1")),
                );
                Some(r)
            }
            Fault::ServerError { status } | Fault::Status { status } => {
                let st = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let (code, msg) = match status {
                    401 | 403 => (10000, "Authentication error (injected)"),
                    404 => (10003, "Not found (injected)"),
                    400..=499 => (10005, "Bad request (injected)"),
                    _ => (10001, "Internal server error (injected)"),
                };
                Some(envelope_error(st, code, msg))
            }
            Fault::Hang => {
                self.until_shutdown().await;
                Some(shutting_down())
            }
            Fault::Malformed => Some(
                (
                    StatusCode::OK,
                    [("content-type", "application/json")],
                    r#"{"success":true,"errors":[],"messages":[],"result":{"uid":"#,
                )
                    .into_response(),
            ),
            Fault::AppliedThenDrop | Fault::AppliedThenHang | Fault::AppliedThenLatency { .. } => {
                None
            }
        }
    }

    /// Bearer check (constant time), then account check; `Some` = rejected.
    fn reject(&self, headers: &HeaderMap, account: &str) -> Option<Response> {
        let Some(raw) = headers.get("authorization") else {
            return Some(envelope_error(
                StatusCode::UNAUTHORIZED,
                10000,
                "Authentication error: missing Authorization: Bearer header",
            ));
        };
        let token = raw
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .filter(|t| !t.is_empty());
        // No usable bearer credential at all → 401; a wrong one → 403.
        let Some(token) = token else {
            return Some(envelope_error(
                StatusCode::UNAUTHORIZED,
                10000,
                "Authentication error: Authorization header must be \"Bearer <token>\"",
            ));
        };
        let ok = bool::from(
            token
                .as_bytes()
                .ct_eq(self.api_token.expose_secret().as_bytes()),
        );
        if !ok {
            return Some(envelope_error(
                StatusCode::FORBIDDEN,
                10000,
                "Authentication error",
            ));
        }
        if account != self.account_id {
            return Some(envelope_error(
                StatusCode::NOT_FOUND,
                7003,
                format!("Could not route to /accounts/{account}/stream/live_inputs, perhaps your object identifier is invalid?"),
            ));
        }
        None
    }

    /// Delivers notifications (after the state lock is released).
    async fn notify(&self, events: Vec<Notification>) -> Vec<WebhookDelivery> {
        let target = self.lock().webhook.clone();
        let Some(target) = target else {
            return vec![];
        };
        let mut out = vec![];
        for n in events {
            let body = n.body();
            let mut req = self.http.post(&target.url).json(&body);
            if let Some(secret) = &target.secret {
                match HeaderValue::from_str(secret.expose_secret()) {
                    Ok(mut v) => {
                        v.set_sensitive(true);
                        req = req.header("cf-webhook-auth", v);
                    }
                    Err(_) => tracing::warn!(
                        "webhook secret is not a valid header value; sent without it"
                    ),
                }
            }
            let (status, error) = match req.send().await {
                Ok(r) => (Some(r.status().as_u16()), None),
                Err(e) => (None, Some(e.to_string())),
            };
            tracing::info!(event = n.event_type, input = %n.input_id, ?status, "emulator sent live notification");
            let d = WebhookDelivery {
                url: target.url.clone(),
                body,
                status,
                error,
            };
            self.lock().deliveries.push(d.clone());
            out.push(d);
        }
        out
    }

    async fn control(
        &self,
        op: impl FnOnce(&mut State, &str) -> Result<Notification, ControlError>,
        uid: &str,
    ) -> Result<ControlOutcome, ControlError> {
        let (n, video_uid) = {
            let mut st = self.lock();
            let live = |st: &State| st.inputs.get(uid).and_then(|s| s.live_video.clone());
            let before = live(&st);
            let n = op(&mut st, &self.customer_code)?;
            // The video just started (connect) or just ended (disconnect/error).
            (n, live(&st).or(before))
        };
        let event = n.event_type.to_string();
        let webhook = self.notify(vec![n]).await.pop();
        Ok(ControlOutcome {
            event,
            video_uid,
            webhook,
        })
    }

    fn inject(&self, route: Route, fault: Fault, times: u32) -> Result<(), ControlError> {
        match fault {
            Fault::ServerError { status } if !(500..=599).contains(&status) => {
                return Err(ControlError::BadRequest(format!(
                    "server_error status must be 500-599, got {status}"
                )));
            }
            Fault::Status { status } if !(400..=599).contains(&status) => {
                return Err(ControlError::BadRequest(format!(
                    "status must be 400-599, got {status}"
                )));
            }
            _ => {}
        }
        self.lock().inject(route, fault, times);
        Ok(())
    }

    fn set_views(&self, uid: &str, n: u64) -> Result<(), ControlError> {
        let mut st = self.lock();
        let s = st
            .inputs
            .get_mut(uid)
            .ok_or_else(|| ControlError::NotFound(uid.into()))?;
        s.views = n;
        Ok(())
    }

    fn reset(&self) {
        let mut st = self.lock();
        for s in st.inputs.values_mut() {
            if let Some((_, stopper)) = s.publisher.take() {
                stopper.stop();
            }
        }
        let webhook = st.webhook.take();
        *st = State::default();
        st.webhook = webhook;
    }

    fn calls(&self) -> BTreeMap<String, u64> {
        self.lock()
            .calls
            .iter()
            .map(|(r, n)| (r.as_str().to_string(), *n))
            .collect()
    }
}

fn shutting_down() -> Response {
    envelope_error(
        StatusCode::SERVICE_UNAVAILABLE,
        10001,
        "Emulator shutting down",
    )
}

/// `{success:true, errors:[], messages:[], result}`.
pub(crate) fn envelope_ok(status: StatusCode, result: Value) -> Response {
    (
        status,
        axum::Json(json!({"success": true, "errors": [], "messages": [], "result": result})),
    )
        .into_response()
}

/// `{success:false, errors:[{code,message}], messages:[], result:null}`.
pub(crate) fn envelope_error(
    status: StatusCode,
    code: i64,
    message: impl Into<String>,
) -> Response {
    (
        status,
        axum::Json(json!({
            "success": false,
            "errors": [{"code": code, "message": message.into()}],
            "messages": [],
            "result": null
        })),
    )
        .into_response()
}

/// Entry point for starting emulators in-process.
pub struct Emulator;

impl Emulator {
    /// Binds (port 0 = ephemeral) and serves in a background task.
    pub async fn start(opts: EmulatorOptions) -> anyhow::Result<EmulatorHandle> {
        let id_ok = |s: &str| {
            !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphanumeric())
        };
        anyhow::ensure!(
            id_ok(&opts.account_id),
            "account id must be 1-32 ASCII letters or digits, got {:?}",
            opts.account_id
        );
        anyhow::ensure!(
            id_ok(&opts.customer_code),
            "customer code must be 1-32 ASCII letters or digits, got {:?}",
            opts.customer_code
        );
        anyhow::ensure!(
            !opts.api_token.expose_secret().is_empty(),
            "api token must not be empty"
        );
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .with_context(|| format!("binding the stream emulator to {}", opts.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .context("building the webhook HTTP client")?;
        let (video, media, rtmp) = match opts.rtmp_listen {
            None => (VideoIngest::NotRequested, None, None),
            Some(rtmp_addr) => match media::find_ffmpeg() {
                Err(why) => (
                    VideoIngest::Off {
                        reason: format!("{why}; {}", media::INSTALL_HINT),
                    },
                    None,
                    None,
                ),
                // A taken port (e.g. a second server on one machine) turns video off, like a
                // missing ffmpeg: the rest of the emulator works without it.
                Ok(ffmpeg) => match tokio::net::TcpListener::bind(rtmp_addr).await {
                    Err(e) => (
                        VideoIngest::Off {
                            reason: format!(
                                "cannot listen for RTMP on {rtmp_addr} ({e}); choose another \
                                 address with --rtmp-listen (ROOMCAST_RTMP_LISTEN)"
                            ),
                        },
                        None,
                        None,
                    ),
                    Ok(listener) => {
                        let bound = listener.local_addr().context("reading the RTMP address")?;
                        let media = Media::new(ffmpeg).context("creating the media directory")?;
                        let url = format!("rtmp://{bound}/{}/", ingest::APP);
                        (
                            VideoIngest::On { rtmp_url: url },
                            Some(media),
                            Some(listener),
                        )
                    }
                },
            },
        };
        let (ordered, ordered_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                webhook: opts.webhook,
                ..State::default()
            }),
            account_id: opts.account_id,
            api_token: opts.api_token,
            customer_code: opts.customer_code,
            addr,
            http,
            shutdown: stop_rx.clone(),
            video,
            media,
            publishes: Mutex::new(HashMap::new()),
            watchers: Default::default(),
            next_publish: AtomicU64::new(1),
            ordered,
        });
        tokio::spawn(deliver_in_order(Arc::downgrade(&shared), ordered_rx));
        let rtmp_task = rtmp.map(|listener| {
            tracing::info!(addr = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), "rtmp ingest listening");
            tokio::spawn(media::rtmp::serve(listener, shared.clone(), stop_rx.clone()))
        });
        let app = routes::router(shared.clone());
        let mut rx = stop_rx;
        let task = tokio::spawn(async move {
            let stop = async move {
                let _ = rx.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(stop)
            .await
            {
                tracing::error!(error = %e, "stream emulator server failed");
            }
        });
        tracing::info!(%addr, "stream emulator listening");
        Ok(EmulatorHandle {
            shared,
            stop: stop_tx,
            task: Some(task),
            rtmp_task,
        })
    }
}

/// Delivers queued notifications one batch after another; ends with the emulator.
async fn deliver_in_order(
    shared: Weak<Shared>,
    mut rx: mpsc::UnboundedReceiver<Vec<Notification>>,
) {
    while let Some(events) = rx.recv().await {
        let Some(s) = shared.upgrade() else { return };
        s.notify(events).await;
    }
}

/// A running emulator. Dropping it stops the server too; prefer
/// [`EmulatorHandle::shutdown`] to wait for it.
pub struct EmulatorHandle {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    rtmp_task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("addr", &self.shared.addr)
            .field("account_id", &self.shared.account_id)
            .finish_non_exhaustive()
    }
}

impl EmulatorHandle {
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }
    /// `http://ADDR/client/v4`.
    pub fn api_base_url(&self) -> String {
        self.shared.api_base_url()
    }
    /// `http://ADDR` (stands in for `https://customer-<code>.cloudflarestream.com`).
    pub fn delivery_base_url(&self) -> String {
        self.shared.delivery_base_url()
    }
    pub fn account_id(&self) -> &str {
        &self.shared.account_id
    }
    pub fn customer_code(&self) -> &str {
        &self.shared.customer_code
    }
    /// Whether real RTMP publishes are taken, and where.
    pub fn video_ingest(&self) -> &VideoIngest {
        &self.shared.video
    }

    /// Sets (or clears) where live notifications go.
    pub fn set_webhook(&self, target: Option<WebhookTarget>) {
        self.shared.lock().webhook = target;
    }
    /// Notifications sent so far, oldest first.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.shared.lock().deliveries.clone()
    }

    /// Full stored input (with credentials), if it exists.
    pub fn live_input(&self, uid: &str) -> Option<LiveInput> {
        self.shared.lock().get(uid)
    }
    /// All inputs in creation order.
    pub fn live_inputs(&self) -> Vec<LiveInput> {
        let st = self.shared.lock();
        st.order.iter().filter_map(|u| st.get(u)).collect()
    }
    /// Videos of an input, newest first.
    pub fn videos(&self, uid: &str) -> Vec<Video> {
        self.shared.lock().videos_of(uid)
    }

    /// Calls that reached `route` (including faulted and unauthorised ones).
    pub fn call_count(&self, route: Route) -> u64 {
        self.shared.lock().calls.get(&route).copied().unwrap_or(0)
    }
    /// All counters by route name.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.shared.calls()
    }
    pub fn reset_calls(&self) {
        self.shared.lock().calls.clear();
    }

    /// Encoder connects: status → connected, a `live-inprogress` video (when
    /// recording is automatic), `live_input.connected` notification.
    pub async fn connect(&self, uid: &str) -> Result<ControlOutcome, ControlError> {
        self.shared
            .control(|st, code| st.connect(uid, code), uid)
            .await
    }
    /// Encoder disconnects: the video becomes `ready`, notification sent.
    pub async fn disconnect(&self, uid: &str) -> Result<ControlOutcome, ControlError> {
        self.shared.control(|st, _| st.disconnect(uid), uid).await
    }
    /// Encoder error (`ERR_...`): ends any broadcast, `live_input.errored`.
    pub async fn error(&self, uid: &str, code: &str) -> Result<ControlOutcome, ControlError> {
        self.shared
            .control(|st, _| st.error(uid, code, None), uid)
            .await
    }
    /// Sets what `/{uid}/views` reports.
    pub fn set_views(&self, uid: &str, live_viewers: u64) -> Result<(), ControlError> {
        self.shared.set_views(uid, live_viewers)
    }

    /// Applies `fault` to the next `times` calls of `route` (queued after
    /// faults already pending for it).
    pub fn inject_fault(&self, route: Route, fault: Fault, times: u32) -> Result<(), ControlError> {
        self.shared.inject(route, fault, times)
    }
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }
    /// Forgets inputs, videos, faults, counters and deliveries (keeps the webhook).
    pub fn reset(&self) {
        self.shared.reset()
    }

    /// Stops accepting, ends hung requests, drops every publisher and waits for ffmpeg to
    /// finish, then for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.rtmp_task.take() {
            let _ = t.await;
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
