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
    /// What is POSTed, stamped when the transition happened.
    pub payload: LiveInputNotification,
}

impl Notification {
    pub fn new(input_id: &str, event: LiveInputEvent, error: Option<LiveInputError>) -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            input_id: input_id.to_string(),
            event,
            payload: LiveInputNotification::new(
                input_id,
                event,
                rfc3339(now),
                now.unix_timestamp(),
                error,
            ),
        }
    }

    /// Body shaped like a Cloudflare Notifications "Stream Live Input" event.
    pub fn body(&self) -> Value {
        serde_json::to_value(&self.payload).unwrap_or(Value::Null)
    }
}

/// Notifications waiting in the ordered queue, and when they may be sent.
pub(crate) struct Queued {
    pub events: Vec<Notification>,
    pub due: tokio::time::Instant,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notifications::LiveInputErrorCode;

    #[test]
    fn body_is_the_notification_cloudflare_sends() {
        let error = LiveInputError::from_code(LiveInputErrorCode::GopOutOfRange);
        let n = Notification::new("abc", LiveInputEvent::Errored, Some(error.clone()));
        let body: LiveInputNotification = serde_json::from_value(n.body()).unwrap();
        let data = body.data.expect("data");
        assert_eq!(data.input_id.as_deref(), Some("abc"));
        assert_eq!(data.event(), Some(LiveInputEvent::Errored));
        assert_eq!(data.live_input_errored.map(|e| e.error), Some(error));
        assert_eq!(body.name, "Stream Live Input");
    }
}
