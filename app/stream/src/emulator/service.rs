//! One running emulator ([`Service`]): its state behind one lock, identity and token, webhook
//! HTTP client, media and publishes, shared by the HTTP handlers, the RTMP ingest and the
//! handle. What a request goes through is in `gate.rs`, notification sending in `notify.rs`.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::sync::{Mutex, MutexGuard};

use secrecy::SecretString;
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use super::broadcast::ControlError;
use super::faults::Fault;
use super::ids::{customer_host, RTMPS_URL, SRT_URL};
use super::options::{VideoIngest, WebhookTiming};
use super::route::Route;
use super::state::State;
use super::viewers::Watchers;
use super::webhook::{Notification, Queued, WebhookDelivery};
use crate::media::{Media, RecordOutcome};

/// Result of an encoder-control operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlOutcome {
    /// `live_input.connected`, `live_input.disconnected` or `live_input.errored`.
    pub event: String,
    /// The live video created by `connect` (None when recording is off).
    #[serde(rename = "videoUID")]
    pub video_uid: Option<String>,
    /// Delivery record of the notification: only with [`WebhookTiming::Synchronous`] and a
    /// webhook configured (otherwise it is sent later; see the deliveries).
    pub webhook: Option<WebhookDelivery>,
}

/// Where an emulator's inputs and videos point ([`Service::urls`]).
pub(crate) struct Urls {
    /// `rtmps.url`.
    pub rtmps: String,
    /// `srt.url`; `None` leaves `srt` out (real video without an SRT listener).
    pub srt: Option<String>,
    /// Base of videos' playback, preview and thumbnail URLs.
    pub delivery: String,
    /// Real video on this machine: URLs only Cloudflare could serve are left out.
    pub local: bool,
    /// Whether `webRTC`/`webRTCPlayback` are given: Cloudflare's hosts, or this emulator's own
    /// WHIP/WHEP endpoints when it runs real video.
    pub webrtc: bool,
}

/// A real RTMP publish in progress (see `ingest.rs`).
pub(crate) struct Publish {
    pub input_uid: String,
    pub video_uid: Option<String>,
    pub recording: Option<tokio::task::JoinHandle<RecordOutcome>>,
}

/// One running emulator (one per [`super::EmulatorHandle`]).
pub(crate) struct Service {
    pub(super) state: Mutex<State>,
    pub(super) account_id: String,
    pub(super) api_token: SecretString,
    pub(super) customer_code: String,
    pub(super) addr: SocketAddr,
    pub(super) http: reqwest::Client,
    pub(super) shutdown: watch::Receiver<bool>,
    pub(super) video: VideoIngest,
    /// `srt://ADDR` when the SRT listener runs.
    pub(super) srt_url: Option<String>,
    pub(super) media: Option<Media>,
    pub(super) publishes: Mutex<HashMap<u64, Publish>>,
    pub(super) next_publish: AtomicU64,
    /// Notifications delivered in the background, one batch after another in order.
    pub(super) ordered: mpsc::UnboundedSender<Queued>,
    /// Whether control calls deliver their notification before answering, or queue it.
    pub(super) webhook_timing: WebhookTiming,
    /// Who fetched each input's live media recently (live viewer counts).
    pub(super) watchers: Watchers,
    /// Itself, for timers it starts (a recording's reconnect window).
    pub(super) me: std::sync::Weak<Service>,
    /// RTMP connections ended by the listener's limits.
    pub(super) rtmp_stats: Arc<crate::media::rtmp::RtmpStats>,
    /// WHIP/WHEP (with real video): where sessions listen, their limits, and what runs.
    pub(super) webrtc: Option<crate::media::webrtc::Hub>,
}

impl Service {
    /// Where inputs and videos point: Cloudflare's hosts for an API-only emulator; with real
    /// video, its own listeners (RTMP, SRT when it listens) and delivery address.
    pub(super) fn urls(&self) -> Urls {
        match &self.video {
            VideoIngest::On { rtmp_url } => Urls {
                rtmps: rtmp_url.clone(),
                srt: self.srt_url.clone(),
                delivery: self.delivery_base_url(),
                local: true,
                webrtc: self.webrtc.is_some(),
            },
            _ => Urls {
                rtmps: RTMPS_URL.into(),
                srt: Some(SRT_URL.into()),
                delivery: customer_host(&self.customer_code),
                local: false,
                webrtc: true,
            },
        }
    }

    /// A panic in one handler must not wedge the emulator: ignore poisoning.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn api_base_url(&self) -> String {
        format!("http://{}/client/v4", self.addr)
    }

    pub(super) fn delivery_base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(super) async fn until_shutdown(&self) {
        let mut rx = self.shutdown.clone();
        let _ = rx.wait_for(|stop| *stop).await;
    }

    /// Runs one encoder transition; its notification is queued, or delivered before answering
    /// ([`WebhookTiming::Synchronous`]).
    pub(super) async fn control(
        &self,
        op: impl FnOnce(&mut State, &str) -> Result<Notification, ControlError>,
        uid: &str,
    ) -> Result<ControlOutcome, ControlError> {
        let (n, video_uid) = {
            let mut st = self.lock();
            let live = |st: &State| st.inputs.get(uid).and_then(|s| s.live_video.clone());
            let before = live(&st);
            let n = op(&mut st, &self.urls().delivery)?;
            // The video just started (connect) or just ended (disconnect/error).
            (n, live(&st).or(before))
        };
        let event = n.event.as_str().to_string();
        let webhook = match self.webhook_timing {
            WebhookTiming::Synchronous => self.notify(vec![n]).await.pop(),
            WebhookTiming::Asynchronous { .. } => {
                self.notify_in_order(vec![n]);
                None
            }
        };
        Ok(ControlOutcome {
            event,
            video_uid,
            webhook,
        })
    }

    pub(super) fn inject(
        &self,
        route: Route,
        fault: Fault,
        times: u32,
    ) -> Result<(), ControlError> {
        if let Some(why) = fault.invalid() {
            return Err(ControlError::BadRequest(why));
        }
        self.lock().faults.inject(route, fault, times);
        Ok(())
    }

    pub(super) fn set_views(&self, uid: &str, n: u64) -> Result<(), ControlError> {
        let mut st = self.lock();
        let s = st
            .inputs
            .get_mut(uid)
            .ok_or_else(|| ControlError::NotFound(uid.into()))?;
        s.views = n;
        Ok(())
    }

    pub(super) fn reset(&self) {
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

    pub(super) fn calls(&self) -> BTreeMap<String, u64> {
        self.lock()
            .calls
            .iter()
            .map(|(r, n)| (r.as_str().to_string(), *n))
            .collect()
    }
}
