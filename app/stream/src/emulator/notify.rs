//! Sending notifications to the webhook: each one POSTed with the `cf-webhook-auth` secret and
//! recorded as a delivery. All but the control calls' in [`super::WebhookTiming::Synchronous`]
//! go through one ordered queue, each batch sent its pause after it happened (the delay and
//! jitter of [`super::WebhookTiming::Asynchronous`]), so `connected` is never delivered after the
//! `disconnected` that follows it.

use std::sync::Weak;

use axum::http::HeaderValue;
use secrecy::ExposeSecret;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::service::Service;
use super::webhook::{Notification, Queued, WebhookDelivery};
use crate::notifications::AUTH_HEADER;

impl Service {
    /// Queues notifications for in-order background delivery (the caller never waits).
    pub(super) fn notify_in_order(&self, events: Vec<Notification>) {
        if !events.is_empty() {
            let due = Instant::now() + self.webhook_timing.pause();
            let _ = self.ordered.send(Queued { events, due });
        }
    }

    /// Delivers notifications (after the state lock is released).
    pub(super) async fn notify(&self, events: Vec<Notification>) -> Vec<WebhookDelivery> {
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
                        req = req.header(AUTH_HEADER, v);
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
            tracing::info!(event = n.event.as_str(), input = %n.input_id, ?status, "emulator sent live notification");
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
}

/// Delivers queued notifications one batch after another, none before it is due (a batch due
/// before the one ahead of it waits for that one: order wins over jitter); ends with the emulator.
pub(super) async fn deliver_in_order(
    service: Weak<Service>,
    mut rx: mpsc::UnboundedReceiver<Queued>,
) {
    while let Some(Queued { events, due }) = rx.recv().await {
        tokio::time::sleep_until(due).await;
        let Some(s) = service.upgrade() else { return };
        s.notify(events).await;
    }
}
