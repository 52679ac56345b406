//! [`EmulatorHandle`]: what a test or the server holds of a running emulator: its addresses,
//! inputs and videos, encoder controls, webhook, faults and call counters, and shutdown.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;

use super::broadcast::ControlError;
use super::faults::Fault;
use super::options::VideoIngest;
use super::route::Route;
use super::service::{ControlOutcome, Service};
use super::webhook::{WebhookDelivery, WebhookTarget};
use crate::client::{LiveInput, Video};

/// A running emulator. Dropping it stops the server too; prefer
/// [`EmulatorHandle::shutdown`] to wait for it.
pub struct EmulatorHandle {
    pub(super) service: Arc<Service>,
    pub(super) stop: watch::Sender<bool>,
    pub(super) task: Option<tokio::task::JoinHandle<()>>,
    /// The RTMP and SRT listeners (each ends once its publishers have).
    pub(super) ingest_tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("addr", &self.service.addr)
            .field("account_id", &self.service.account_id)
            .finish_non_exhaustive()
    }
}

impl EmulatorHandle {
    pub fn addr(&self) -> SocketAddr {
        self.service.addr
    }
    /// `http://ADDR/client/v4`.
    pub fn api_base_url(&self) -> String {
        self.service.api_base_url()
    }
    /// `http://ADDR` (stands in for `https://customer-<code>.cloudflarestream.com`).
    pub fn delivery_base_url(&self) -> String {
        self.service.delivery_base_url()
    }
    pub fn account_id(&self) -> &str {
        &self.service.account_id
    }
    /// `srt://ADDR` of the SRT listener, when real video runs and the port could be bound.
    pub fn srt_url(&self) -> Option<&str> {
        self.service.srt_url.as_deref()
    }

    pub fn customer_code(&self) -> &str {
        &self.service.customer_code
    }
    /// Whether real RTMP publishes are taken, and where.
    pub fn video_ingest(&self) -> &VideoIngest {
        &self.service.video
    }

    /// Sets (or clears) where live notifications go.
    pub fn set_webhook(&self, target: Option<WebhookTarget>) {
        self.service.lock().webhook = target;
    }
    /// Notifications sent so far, oldest first.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.service.lock().deliveries.clone()
    }

    /// Full stored input (with credentials), if it exists.
    pub fn live_input(&self, uid: &str) -> Option<LiveInput> {
        self.service.lock().get(uid)
    }
    /// All inputs in creation order.
    pub fn live_inputs(&self) -> Vec<LiveInput> {
        let st = self.service.lock();
        st.order.iter().filter_map(|u| st.get(u)).collect()
    }
    /// Videos of an input, newest first.
    pub fn videos(&self, uid: &str) -> Vec<Video> {
        self.service.lock().videos_of(uid)
    }

    /// Calls that reached `route` (including faulted and unauthorised ones).
    /// RTMP connections the listener ended because of its limits, by limit.
    /// WHIP broadcasts running now, and WHEP viewers of `input`'s (0 without WebRTC).
    pub fn webrtc_sessions(&self, input: &str) -> (usize, usize) {
        self.service
            .webrtc
            .as_ref()
            .map_or((0, 0), |w| (w.broadcasts(), w.viewers(input)))
    }

    pub fn rtmp_drops(&self) -> crate::media::rtmp::RtmpDrops {
        self.service.rtmp_stats.snapshot()
    }

    pub fn call_count(&self, route: Route) -> u64 {
        self.service.lock().calls.get(&route).copied().unwrap_or(0)
    }
    /// All counters by route name.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.service.calls()
    }
    pub fn reset_calls(&self) {
        self.service.lock().calls.clear();
    }

    /// Encoder connects: status → connected, a `live-inprogress` video (when
    /// recording is automatic), `live_input.connected` notification.
    pub async fn connect(&self, uid: &str) -> Result<ControlOutcome, ControlError> {
        self.service
            .control(|st, code| st.connect(uid, code), uid)
            .await
    }
    /// Encoder disconnects: the video becomes `ready`, notification sent.
    pub async fn disconnect(&self, uid: &str) -> Result<ControlOutcome, ControlError> {
        self.service.control(|st, _| st.disconnect(uid), uid).await
    }
    /// Encoder error (`ERR_...`): ends any broadcast, `live_input.errored`.
    pub async fn error(&self, uid: &str, code: &str) -> Result<ControlOutcome, ControlError> {
        self.service
            .control(|st, _| st.error(uid, code, None), uid)
            .await
    }
    /// Sets what `/{uid}/views` reports.
    pub fn set_views(&self, uid: &str, live_viewers: u64) -> Result<(), ControlError> {
        self.service.set_views(uid, live_viewers)
    }

    /// Applies `fault` to the next `times` calls of `route` (queued after
    /// faults already pending for it).
    pub fn inject_fault(&self, route: Route, fault: Fault, times: u32) -> Result<(), ControlError> {
        self.service.inject(route, fault, times)
    }
    /// Calls of `route` that will still get an injected fault: 0 once every one has fired.
    pub fn pending_faults(&self, route: Route) -> u32 {
        self.service.lock().faults.pending(route)
    }
    pub fn clear_faults(&self) {
        self.service.lock().faults.clear();
    }
    /// Forgets inputs, videos, faults, counters and deliveries (keeps the webhook).
    pub fn reset(&self) {
        self.service.reset()
    }

    /// Stops accepting, ends hung requests, drops every publisher and waits for ffmpeg to
    /// finish, then for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for t in std::mem::take(&mut self.ingest_tasks) {
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
