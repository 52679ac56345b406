//! Where the emulator sends live-input notifications ([`WebhookTarget`]), what it keeps of each
//! attempt ([`WebhookDelivery`]), and the notification a state transition produces
//! ([`Notification`], sent after the state lock is released; the body is
//! [`crate::notifications::LiveInputNotification`]). Sending is in `notify.rs`.

use secrecy::SecretString;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::ids::rfc3339;
use crate::notifications::{LiveInputError, LiveInputEvent, LiveInputNotification};

/// Where live notifications go, and the `cf-webhook-auth` secret.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    pub url: String,
    pub secret: Option<SecretString>,
}

/// One attempted notification delivery (for inspection by tests).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    pub url: String,
    pub body: Value,
    /// HTTP status returned by the receiver, if it answered.
    pub status: Option<u16>,
    /// Transport error, if it did not.
    pub error: Option<String>,
}
/// A notification produced by a transition, sent after unlocking.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Notification {
    pub input_id: String,
    pub event: LiveInputEvent,
    pub updated_at: String,
    pub ts: i64,
    pub error: Option<LiveInputError>,
}

impl Notification {
    pub fn new(input_id: &str, event: LiveInputEvent, error: Option<LiveInputError>) -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            input_id: input_id.to_string(),
            event,
            updated_at: rfc3339(now),
            ts: now.unix_timestamp(),
            error,
        }
    }

    /// Body shaped like a Cloudflare Notifications "Stream Live Input" event.
    pub fn body(&self) -> Value {
        let n = LiveInputNotification::new(
            &self.input_id,
            self.event,
            self.updated_at.clone(),
            self.ts,
            self.error.clone(),
        );
        serde_json::to_value(n).unwrap_or(Value::Null)
    }
}
