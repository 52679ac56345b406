//! Wire models of the live-input API (camelCase, as Cloudflare sends them).
//! Optional fields use `serde(default)` so additive API changes do not break
//! parsing; credential-bearing structs redact their secrets in `Debug`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// `recording.mode`. HLS/DASH playback only exists with `Automatic`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RecordingMode {
    #[default]
    Off,
    Automatic,
}

/// `recording` settings of a live input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Recording {
    #[serde(default)]
    pub mode: RecordingMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    #[serde(
        default,
        rename = "requireSignedURLs",
        skip_serializing_if = "Option::is_none"
    )]
    pub require_signed_urls: Option<bool>,
    /// `None`/`[]` = any origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_live_viewer_count: Option<bool>,
}

impl Recording {
    /// The setting a room needs: recorded, so playable over HLS/DASH.
    pub fn automatic() -> Self {
        Self {
            mode: RecordingMode::Automatic,
            ..Self::default()
        }
    }
}

/// Body of `POST /live_inputs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CreateLiveInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<Recording>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_recording_after_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_creator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// Body of `PUT /live_inputs/{uid}`: omitted fields are left unchanged.
/// `delete_recording_after_days: Some(None)` sends `null`, which removes it.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct UpdateLiveInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording: Option<Recording>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_recording_after_days: Option<Option<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_creator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

const REDACTED: &str = "[redacted]";

/// RTMPS publish (or pull) credentials.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rtmps {
    pub url: String,
    pub stream_key: String,
}

impl fmt::Debug for Rtmps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rtmps")
            .field("url", &self.url)
            .field("stream_key", &REDACTED)
            .finish()
    }
}

/// SRT publish (or pull) credentials.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Srt {
    pub url: String,
    pub stream_id: String,
    pub passphrase: String,
}

impl fmt::Debug for Srt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Srt")
            .field("url", &self.url)
            .field("stream_id", &self.stream_id)
            .field("passphrase", &REDACTED)
            .finish()
    }
}

/// WebRTC (WHIP) publish URL. The URL itself embeds the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebRtc {
    pub url: String,
}

impl fmt::Debug for WebRtc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebRtc").field("url", &REDACTED).finish()
    }
}

/// WebRTC (WHEP) playback URL; public (contains only the input uid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebRtcPlayback {
    pub url: String,
}

/// `status.current` of the object form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct StatusCurrent {
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_entered_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_last_seen: Option<String>,
    /// How the connected encoder publishes (`rtmp`, `srt`, `webrtc`), seen in captured
    /// responses (reference: observed, not in the schema).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingest_protocol: Option<String>,
}

/// The object form of `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct StatusDetail {
    #[serde(default)]
    pub current: Option<StatusCurrent>,
    #[serde(default)]
    pub history: Vec<Value>,
}

/// Live-input `status`. The schema says nullable string enum, real
/// responses carry an object; we accept all three forms (see reference §2).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum LiveInputStatus {
    /// `null` or absent: never connected (new input).
    #[default]
    None,
    /// String form, e.g. `"connected"` (the SDK-typed enum).
    Reason(String),
    /// Object form `{current:{state,reason,...}, history:[...]}`.
    Detailed(StatusDetail),
}

impl LiveInputStatus {
    /// True when the encoder is currently connected by any of the forms.
    pub fn is_connected(&self) -> bool {
        match self {
            LiveInputStatus::None => false,
            LiveInputStatus::Reason(r) => r == "connected" || r == "reconnected",
            LiveInputStatus::Detailed(d) => d
                .current
                .as_ref()
                .and_then(|c| c.state.as_deref())
                .is_some_and(|s| s == "connected"),
        }
    }
}

impl<'de> Deserialize<'de> for LiveInputStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(LiveInputStatus::None),
            Value::String(s) => Ok(LiveInputStatus::Reason(s)),
            v @ Value::Object(_) => serde_json::from_value(v)
                .map(LiveInputStatus::Detailed)
                .map_err(serde::de::Error::custom),
            other => Err(serde::de::Error::custom(format!(
                "live input status must be null, a string or an object, got {other}"
            ))),
        }
    }
}

impl Serialize for LiveInputStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            LiveInputStatus::None => s.serialize_none(),
            LiveInputStatus::Reason(r) => s.serialize_str(r),
            LiveInputStatus::Detailed(d) => d.serialize(s),
        }
    }
}

/// A live input as returned by create/get/update/rotate (with credentials).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveInput {
    pub uid: String,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub modified: Option<String>,
    #[serde(default)]
    pub meta: Value,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys_rotated_at: Option<String>,
    #[serde(default)]
    pub delete_recording_after_days: Option<u32>,
    /// LL-HLS beta flag; only present when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefer_low_latency: Option<bool>,
    #[serde(default)]
    pub recording: Recording,
    #[serde(default)]
    pub rtmps: Option<Rtmps>,
    #[serde(default)]
    pub rtmps_playback: Option<Rtmps>,
    #[serde(default)]
    pub srt: Option<Srt>,
    #[serde(default)]
    pub srt_playback: Option<Srt>,
    #[serde(default, rename = "webRTC")]
    pub web_rtc: Option<WebRtc>,
    #[serde(default, rename = "webRTCPlayback")]
    pub web_rtc_playback: Option<WebRtcPlayback>,
    #[serde(default)]
    pub status: LiveInputStatus,
}

fn yes() -> bool {
    true
}

/// An item of the list result: no credentials (reference §2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveInputSummary {
    pub uid: String,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub modified: Option<String>,
    #[serde(default)]
    pub meta: Value,
    #[serde(default)]
    pub delete_recording_after_days: Option<u32>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// Result of `GET /live_inputs`: pagination lives inside `result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveInputList {
    pub live_inputs: Vec<LiveInputSummary>,
    #[serde(default)]
    pub range: Option<u64>,
    #[serde(default)]
    pub total: Option<u64>,
}

/// `status` of a video (`state` e.g. `live-inprogress`, `ready`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct VideoStatus {
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pct_complete: Option<String>,
    #[serde(default)]
    pub error_reason_code: String,
    #[serde(default)]
    pub error_reason_text: String,
}

/// `playback` of a video.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VideoPlayback {
    #[serde(default)]
    pub hls: Option<String>,
    #[serde(default)]
    pub dash: Option<String>,
}

/// A video (recording or in-progress broadcast) of a live input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Video {
    pub uid: String,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub modified: Option<String>,
    #[serde(default)]
    pub live_input: Option<String>,
    #[serde(default)]
    pub creator: Option<String>,
    #[serde(default)]
    pub meta: Value,
    pub status: VideoStatus,
    #[serde(default)]
    pub ready_to_stream: bool,
    #[serde(default)]
    pub ready_to_stream_at: Option<String>,
    #[serde(default)]
    pub duration: Option<f64>,
    #[serde(default)]
    pub preview: Option<String>,
    #[serde(default)]
    pub thumbnail: Option<String>,
    #[serde(default)]
    pub playback: Option<VideoPlayback>,
}

/// Public `GET /<uid>/lifecycle`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lifecycle {
    pub is_input: bool,
    #[serde(rename = "videoUID")]
    pub video_uid: Option<String>,
    pub live: bool,
}

/// Public `GET /<uid>/views`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Views {
    pub live_viewers: u64,
}

/// Viewer-facing URLs for a live input (or video uid / signed token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaybackUrls {
    pub hls: String,
    pub dash: String,
    pub iframe: String,
    /// WHEP playback endpoint (POST an SDP offer).
    pub webrtc: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_null_string_and_object_forms() {
        let s: LiveInputStatus = serde_json::from_value(json!(null)).unwrap();
        assert_eq!(s, LiveInputStatus::None);
        assert!(!s.is_connected());

        let s: LiveInputStatus = serde_json::from_value(json!("connected")).unwrap();
        assert_eq!(s, LiveInputStatus::Reason("connected".into()));
        assert!(s.is_connected());
        let s: LiveInputStatus = serde_json::from_value(json!("client_disconnect")).unwrap();
        assert!(!s.is_connected());

        let s: LiveInputStatus = serde_json::from_value(json!({
            "current": {"reason": "connected", "state": "connected",
                        "statusEnteredAt": "2022-09-13T12:42:36.679Z",
                        "statusLastSeen": "2022-09-13T12:42:37.000Z"},
            "history": []
        }))
        .unwrap();
        assert_eq!(
            s,
            LiveInputStatus::Detailed(StatusDetail {
                current: Some(StatusCurrent {
                    state: Some("connected".into()),
                    reason: Some("connected".into()),
                    status_entered_at: Some("2022-09-13T12:42:36.679Z".into()),
                    status_last_seen: Some("2022-09-13T12:42:37.000Z".into()),
                    ingest_protocol: None,
                }),
                history: vec![],
            })
        );
        assert!(s.is_connected());
    }

    #[test]
    fn status_rejects_other_json_types() {
        let e = serde_json::from_value::<LiveInputStatus>(json!(42)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "live input status must be null, a string or an object, got 42"
        );
    }

    #[test]
    fn status_absent_means_none_and_round_trips() {
        let li: LiveInput = serde_json::from_value(json!({"uid": "abc"})).unwrap();
        assert_eq!(li.status, LiveInputStatus::None);
        assert!(li.enabled);
        assert_eq!(serde_json::to_value(&li.status).unwrap(), json!(null));
        assert_eq!(
            serde_json::to_value(LiveInputStatus::Reason("x".into())).unwrap(),
            json!("x")
        );
    }

    #[test]
    fn credential_debug_is_redacted() {
        let r = Rtmps {
            url: "rtmps://live.cloudflare.com:443/live/".into(),
            stream_key: "SECRETKEY".into(),
        };
        let s = Srt {
            url: "srt://live.cloudflare.com:778".into(),
            stream_id: "abc".into(),
            passphrase: "SECRETPASS".into(),
        };
        let w = WebRtc {
            url: "https://customer-x.cloudflarestream.com/SECRETW/webRTC/publish".into(),
        };
        let all = format!("{r:?} {s:?} {w:?}");
        assert!(!all.contains("SECRET"), "{all}");
        assert_eq!(
            format!("{r:?}"),
            "Rtmps { url: \"rtmps://live.cloudflare.com:443/live/\", stream_key: \"[redacted]\" }"
        );
    }

    #[test]
    fn update_serialises_tri_state_retention() {
        let u = UpdateLiveInput {
            delete_recording_after_days: Some(None),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&u).unwrap(),
            json!({"deleteRecordingAfterDays": null})
        );
        let u = UpdateLiveInput {
            enabled: Some(false),
            ..Default::default()
        };
        assert_eq!(serde_json::to_value(&u).unwrap(), json!({"enabled": false}));
    }

    #[test]
    fn create_serialises_camel_case() {
        let c = CreateLiveInput {
            meta: Some(json!({"name": "room-1"})),
            recording: Some(Recording::automatic()),
            delete_recording_after_days: Some(45),
            default_creator: Some("user_42".into()),
            enabled: Some(true),
        };
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!({"meta": {"name": "room-1"}, "recording": {"mode": "automatic"},
                   "deleteRecordingAfterDays": 45, "defaultCreator": "user_42", "enabled": true})
        );
    }
}

/// `POST /stream/keys`' result as read by the client (the `jwk` copy is not kept).
#[derive(Deserialize)]
pub(crate) struct CreatedSigningKey {
    pub id: String,
    pub pem: String,
}

/// One of `GET /stream/keys`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningKeyInfo {
    pub id: String,
    #[serde(default)]
    pub created: Option<String>,
}
