//! The live-input notification Cloudflare POSTs to a webhook destination (Cloudflare
//! Notifications, "Stream Live Input": `live_input.connected`, `.disconnected`, `.errored`;
//! reference §5a), and the catalog of its error codes ([`LiveInputErrorCode`]). Defined once here:
//! the emulator sends exactly this, a receiver parses it.
//!
//! ```json
//! {"name": "Stream Live Input", "text": "Notification type: Stream Live Input\n…",
//!  "data": {"notification_name": "Stream Live Input", "input_id": "…",
//!           "event_type": "live_input.errored", "updated_at": "2024-07-09T18:07:51.077371662Z",
//!           "live_input_errored": {"error": {"code": "ERR_GOP_OUT_OF_RANGE", "message": "…"},
//!                                  "video_codec": "", "audio_codec": ""}},
//!  "ts": 1720548474}
//! ```
//!
//! Reading is as tolerant as a receiver must be: a destination test (no `data`, or `data` without
//! the live-input fields) still parses, with those fields `None`; the fields a receiver does not
//! act on (`name`, `text`, `ts`, `notification_name`, the codecs) read as their default when they
//! have another type. The secret travels in [`AUTH_HEADER`]; notifications are not signed.

mod error_code;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

pub use error_code::{error_message, LiveInputErrorCode, UNKNOWN_ERROR_MESSAGE};

/// The header carrying the destination's secret, as is, with every notification.
pub const AUTH_HEADER: &str = "cf-webhook-auth";
/// `name` and `data.notification_name` of a live-input notification.
pub const NOTIFICATION_NAME: &str = "Stream Live Input";

/// What happened to a live input (`data.event_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LiveInputEvent {
    #[serde(rename = "live_input.connected")]
    Connected,
    #[serde(rename = "live_input.disconnected")]
    Disconnected,
    #[serde(rename = "live_input.errored")]
    Errored,
}

impl LiveInputEvent {
    pub const ALL: [LiveInputEvent; 3] = [
        LiveInputEvent::Connected,
        LiveInputEvent::Disconnected,
        LiveInputEvent::Errored,
    ];

    /// The event type named `s`, if it is one of these.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// `live_input.connected`, `live_input.disconnected` or `live_input.errored`.
    pub fn as_str(self) -> &'static str {
        match self {
            LiveInputEvent::Connected => "live_input.connected",
            LiveInputEvent::Disconnected => "live_input.disconnected",
            LiveInputEvent::Errored => "live_input.errored",
        }
    }
}

/// The whole body of one notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveInputNotification {
    #[serde(default, deserialize_with = "lenient")]
    pub name: String,
    /// The same facts as `data`, as lines of text.
    #[serde(default, deserialize_with = "lenient")]
    pub text: String,
    /// Absent from some destination tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<LiveInputEventData>,
    /// Unix seconds when it was sent.
    #[serde(default, deserialize_with = "lenient")]
    pub ts: i64,
}

/// `data`: which input, what happened, when, and (for `errored`) why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveInputEventData {
    #[serde(default, deserialize_with = "lenient")]
    pub notification_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_id: Option<String>,
    /// A [`LiveInputEvent`] as text (kept as text: a receiver decides what an unknown type means);
    /// [`LiveInputEventData::event`] reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// RFC 3339 with nanoseconds; order events by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_input_errored: Option<LiveInputErrored>,
}

/// `data.live_input_errored`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveInputErrored {
    pub error: LiveInputError,
    #[serde(default, deserialize_with = "lenient")]
    pub video_codec: String,
    #[serde(default, deserialize_with = "lenient")]
    pub audio_codec: String,
}

/// `data.live_input_errored.error`: a code (documented ones are [`LiveInputErrorCode`]; others
/// are kept as sent) and its message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveInputError {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl LiveInputError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        LiveInputError {
            code: code.into(),
            message: message.into(),
        }
    }

    /// A documented code with Cloudflare's message for it.
    pub fn from_code(code: LiveInputErrorCode) -> Self {
        LiveInputError::new(code.as_str(), code.message())
    }

    /// The code, if the catalog documents it.
    pub fn known_code(&self) -> Option<LiveInputErrorCode> {
        LiveInputErrorCode::parse(&self.code)
    }
}

impl LiveInputEventData {
    /// `event_type`, if it is one of the three live-input events.
    pub fn event(&self) -> Option<LiveInputEvent> {
        LiveInputEvent::parse(self.event_type.as_deref()?)
    }
}

impl LiveInputNotification {
    /// The notification Cloudflare sends for `event` on `input_id` (`error` only for `errored`;
    /// codecs are left empty, as Cloudflare leaves them when it cannot tell).
    pub fn new(
        input_id: &str,
        event: LiveInputEvent,
        updated_at: impl Into<String>,
        ts: i64,
        error: Option<LiveInputError>,
    ) -> Self {
        let updated_at = updated_at.into();
        let mut text = format!(
            "Notification type: {NOTIFICATION_NAME}\nInput ID: {input_id}\nEvent type: {}\nUpdated at: {updated_at}",
            event.as_str()
        );
        if let Some(e) = &error {
            text.push_str(&format!(
                "\nError Code: {}\nError Message: {}\nVideo Codec: \nAudio Codec: ",
                e.code, e.message
            ));
        }
        LiveInputNotification {
            name: NOTIFICATION_NAME.into(),
            text,
            data: Some(LiveInputEventData {
                notification_name: NOTIFICATION_NAME.into(),
                input_id: Some(input_id.into()),
                event_type: Some(event.as_str().into()),
                updated_at: Some(updated_at),
                live_input_errored: error.map(|error| LiveInputErrored {
                    error,
                    video_codec: String::new(),
                    audio_codec: String::new(),
                }),
            }),
            ts,
        }
    }
}

/// A field receivers do not act on: its value when it has the documented type, else the default
/// (Cloudflare does not document its destination tests field by field).
fn lenient<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    let v = serde_json::Value::deserialize(d)?;
    Ok(T::deserialize(v).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn errored_notification_shape() {
        let n = LiveInputNotification::new(
            "abc",
            LiveInputEvent::Errored,
            "2024-07-09T18:07:51.077371662Z",
            1720548474,
            Some(LiveInputError::new("ERR_GOP_OUT_OF_RANGE", "m")),
        );
        let body = json!({
            "name": "Stream Live Input",
            "text": "Notification type: Stream Live Input\nInput ID: abc\nEvent type: live_input.errored\nUpdated at: 2024-07-09T18:07:51.077371662Z\nError Code: ERR_GOP_OUT_OF_RANGE\nError Message: m\nVideo Codec: \nAudio Codec: ",
            "data": {
                "notification_name": "Stream Live Input",
                "input_id": "abc",
                "event_type": "live_input.errored",
                "updated_at": "2024-07-09T18:07:51.077371662Z",
                "live_input_errored": {"error": {"code": "ERR_GOP_OUT_OF_RANGE", "message": "m"},
                                       "video_codec": "", "audio_codec": ""}
            },
            "ts": 1720548474
        });
        assert_eq!(serde_json::to_value(&n).unwrap(), body);
        assert_eq!(
            serde_json::from_value::<LiveInputNotification>(body).unwrap(),
            n
        );
    }

    #[test]
    fn connected_has_no_error_and_reads_back() {
        let n = LiveInputNotification::new("abc", LiveInputEvent::Connected, "t", 1, None);
        let v = serde_json::to_value(&n).unwrap();
        assert!(v["data"].get("live_input_errored").is_none());
        assert_eq!(
            v["text"],
            "Notification type: Stream Live Input\nInput ID: abc\nEvent type: live_input.connected\nUpdated at: t"
        );
        let back: LiveInputNotification = serde_json::from_value(v).unwrap();
        assert_eq!(back.data.unwrap().event(), Some(LiveInputEvent::Connected));
    }

    #[test]
    fn destination_tests_and_odd_fields_still_parse() {
        let test: LiveInputNotification =
            serde_json::from_str(r#"{"name":"Live Webhook Test","text":"hi","ts":"soon"}"#)
                .unwrap();
        assert_eq!((test.data, test.ts), (None, 0));
        let odd: LiveInputNotification = serde_json::from_str(
            r#"{"name":null,"data":{"event_type":"live_input.new","live_input_errored":{"error":{},"video_codec":7}}}"#,
        )
        .unwrap();
        let data = odd.data.unwrap();
        assert_eq!((data.input_id.as_deref(), data.event()), (None, None));
        assert_eq!(
            data.live_input_errored.unwrap().error,
            LiveInputError::new("", "")
        );
        // The fields a receiver acts on keep their types.
        assert!(
            serde_json::from_str::<LiveInputNotification>(r#"{"data":{"input_id":5}}"#).is_err()
        );
        assert!(serde_json::from_str::<LiveInputNotification>(r#"{"data":"x"}"#).is_err());
    }

    #[test]
    fn event_names_round_trip() {
        for e in LiveInputEvent::ALL {
            assert_eq!(LiveInputEvent::parse(e.as_str()), Some(e));
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
        assert_eq!(
            LiveInputError::from_code(LiveInputErrorCode::Unhealthy).known_code(),
            Some(LiveInputErrorCode::Unhealthy)
        );
    }
}
