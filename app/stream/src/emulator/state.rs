//! In-memory state of the emulator and its pure transitions. Handlers lock,
//! call one transition, unlock, and only then send webhooks (never while
//! holding the lock).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::str::FromStr;

use rand::RngCore;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::client::{
    LiveInput, LiveInputStatus, LiveInputSummary, Recording, RecordingMode, Rtmps, Srt,
    StatusCurrent, StatusDetail, Video, VideoPlayback, VideoStatus, WebRtc, WebRtcPlayback,
};

pub(crate) const RTMPS_URL: &str = "rtmps://live.cloudflare.com:443/live/";
pub(crate) const SRT_URL: &str = "srt://live.cloudflare.com:778";

/// Emulated routes, as named in counters and fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Route {
    CreateLiveInput,
    ListLiveInputs,
    GetLiveInput,
    UpdateLiveInput,
    DeleteLiveInput,
    RotateKeys,
    LiveInputVideos,
    ManifestHls,
    ManifestDash,
    Lifecycle,
    Views,
    Iframe,
}

impl Route {
    pub const ALL: [Route; 12] = [
        Route::CreateLiveInput,
        Route::ListLiveInputs,
        Route::GetLiveInput,
        Route::UpdateLiveInput,
        Route::DeleteLiveInput,
        Route::RotateKeys,
        Route::LiveInputVideos,
        Route::ManifestHls,
        Route::ManifestDash,
        Route::Lifecycle,
        Route::Views,
        Route::Iframe,
    ];

    /// Stable name used by the HTTP control API.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::CreateLiveInput => "live_inputs.create",
            Route::ListLiveInputs => "live_inputs.list",
            Route::GetLiveInput => "live_inputs.get",
            Route::UpdateLiveInput => "live_inputs.update",
            Route::DeleteLiveInput => "live_inputs.delete",
            Route::RotateKeys => "live_inputs.rotate_keys",
            Route::LiveInputVideos => "live_inputs.videos",
            Route::ManifestHls => "delivery.manifest_hls",
            Route::ManifestDash => "delivery.manifest_dash",
            Route::Lifecycle => "delivery.lifecycle",
            Route::Views => "delivery.views",
            Route::Iframe => "delivery.iframe",
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Route {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Route::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Route::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown route {s:?}; expected one of {}", names.join(", "))
            })
    }
}

/// A fault to inject into the next calls of a route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Delay, then answer normally.
    Latency { ms: u64 },
    /// 429 with `retry-after: <retry_after_secs>` and an error envelope.
    RateLimited { retry_after_secs: u64 },
    /// The given 5xx status with an error envelope.
    ServerError { status: u16 },
    /// Any 4xx/5xx status with an error envelope (e.g. 401 to exercise
    /// auth handling without a missing header).
    Status { status: u16 },
    /// Never answer (until the emulator shuts down).
    Hang,
    /// 200 with a truncated, unparsable JSON body.
    Malformed,
    /// The change is made, then the connection drops before the answer's body: "done upstream,
    /// answer lost" (mutating routes; others behave as `hang`-free normal answers).
    AppliedThenDrop,
    /// The change is made, then the answer never comes (until the emulator shuts down).
    AppliedThenHang,
    /// The change is made, then the answer comes `ms` late.
    AppliedThenLatency { ms: u64 },
}

impl Fault {
    /// Faults that act after the request was processed.
    pub fn after_apply(&self) -> bool {
        matches!(
            self,
            Fault::AppliedThenDrop | Fault::AppliedThenHang | Fault::AppliedThenLatency { .. }
        )
    }
}

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
    pub event_type: &'static str,
    pub updated_at: String,
    pub ts: i64,
    pub error: Option<(String, String)>,
}

impl Notification {
    fn new(input_id: &str, event_type: &'static str, error: Option<(String, String)>) -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            input_id: input_id.to_string(),
            event_type,
            updated_at: rfc3339(now),
            ts: now.unix_timestamp(),
            error,
        }
    }

    /// Body shaped like a Cloudflare Notifications "Stream Live Input" event.
    pub fn body(&self) -> Value {
        let mut text = format!(
            "Notification type: Stream Live Input\nInput ID: {}\nEvent type: {}\nUpdated at: {}",
            self.input_id, self.event_type, self.updated_at
        );
        let mut data = json!({
            "notification_name": "Stream Live Input",
            "input_id": self.input_id,
            "event_type": self.event_type,
            "updated_at": self.updated_at,
        });
        if let Some((code, message)) = &self.error {
            text.push_str(&format!(
                "\nError Code: {code}\nError Message: {message}\nVideo Codec: \nAudio Codec: "
            ));
            data["live_input_errored"] = json!({
                "error": {"code": code, "message": message},
                "video_codec": "",
                "audio_codec": "",
            });
        }
        json!({"name": "Stream Live Input", "text": text, "data": data, "ts": self.ts})
    }
}

/// Failures of the encoder-control operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("live input {0} not found")]
    NotFound(String),
    #[error("live input {0} is disabled (enabled=false) and refuses encoder connections")]
    Disabled(String),
    #[error("live input {0} already has a connected encoder")]
    AlreadyConnected(String),
    #[error("live input {0} has no connected encoder")]
    NotConnected(String),
    #[error("bad request: {0}")]
    BadRequest(String),
}

/// Validated create/update body. `None` = field absent (unchanged).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct InputPatch {
    pub meta: Option<Value>,
    pub recording: Option<Map<String, Value>>,
    pub delete_after: Option<Option<u32>>,
    pub default_creator: Option<Option<String>>,
    pub enabled: Option<bool>,
    pub prefer_low_latency: Option<bool>,
}

pub(crate) struct StoredInput {
    pub input: LiveInput,
    pub default_creator: Option<String>,
    pub live_video: Option<String>,
    pub views: u64,
}

#[derive(Default)]
pub(crate) struct State {
    pub order: Vec<String>,
    pub inputs: HashMap<String, StoredInput>,
    pub videos: Vec<Video>,
    pub faults: HashMap<Route, VecDeque<(Fault, u32)>>,
    pub calls: HashMap<Route, u64>,
    pub deliveries: Vec<WebhookDelivery>,
    pub webhook: Option<WebhookTarget>,
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

fn now() -> String {
    rfc3339(OffsetDateTime::now_utc())
}

/// 32 lowercase hex characters, the shape of Cloudflare uids.
pub(crate) fn new_uid() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Secrets observed in the wild end in `k<uid>` (reference §2).
fn secret_for(uid: &str) -> String {
    format!("{}k{uid}", new_uid())
}

fn customer_host(code: &str) -> String {
    format!("https://customer-{code}.cloudflarestream.com")
}

fn status_with(prev: &LiveInputStatus, state: &str, reason: &str) -> LiveInputStatus {
    let at = now();
    let mut history = match prev {
        LiveInputStatus::Detailed(d) => {
            let mut h = d.history.clone();
            if let Some(c) = &d.current {
                h.insert(0, serde_json::to_value(c).unwrap_or(Value::Null));
            }
            h
        }
        _ => vec![],
    };
    history.truncate(10);
    LiveInputStatus::Detailed(StatusDetail {
        current: Some(StatusCurrent {
            state: Some(state.into()),
            reason: Some(reason.into()),
            status_entered_at: Some(at.clone()),
            status_last_seen: Some(at),
        }),
        history,
    })
}

/// Known `live_input.errored` codes and their messages (reference §5a).
pub(crate) fn error_message(code: &str) -> &'static str {
    match code {
        "ERR_STORAGE_QUOTA_EXHAUSTED" => "Storage quota exhausted.",
        "ERR_GOP_OUT_OF_RANGE" => "Input GOP size or keyframe interval is out of range.",
        "ERR_UNSUPPORTED_VIDEO_CODEC" => "Unsupported video codec.",
        "ERR_UNSUPPORTED_AUDIO_CODEC" => "Unsupported audio codec.",
        "ERR_MISSING_SUBSCRIPTION" => "Unauthorized to start a live stream.",
        "ERR_UNHEALTHY" => "The live stream is unhealthy.",
        _ => "Live input error.",
    }
}

impl State {
    pub fn count(&mut self, route: Route) {
        *self.calls.entry(route).or_insert(0) += 1;
    }

    /// Pops the fault (if any) that applies to this call of `route`.
    pub fn take_fault(&mut self, route: Route) -> Option<Fault> {
        let q = self.faults.get_mut(&route)?;
        let (fault, left) = q.front_mut()?;
        let f = fault.clone();
        *left -= 1;
        if *left == 0 {
            q.pop_front();
        }
        Some(f)
    }

    pub fn inject(&mut self, route: Route, fault: Fault, times: u32) {
        if times > 0 {
            self.faults
                .entry(route)
                .or_default()
                .push_back((fault, times));
        }
    }

    pub fn create(&mut self, code: &str, patch: InputPatch) -> LiveInput {
        let uid = new_uid();
        let at = now();
        let host = customer_host(code);
        let mut recording = Recording {
            mode: RecordingMode::Off,
            timeout_seconds: Some(0),
            require_signed_urls: Some(false),
            allowed_origins: None,
            hide_live_viewer_count: Some(false),
        };
        if let Some(r) = &patch.recording {
            apply_recording(&mut recording, r);
        }
        let input = LiveInput {
            uid: uid.clone(),
            created: Some(at.clone()),
            modified: Some(at),
            meta: patch.meta.unwrap_or_else(|| json!({})),
            enabled: patch.enabled.unwrap_or(true),
            keys_rotated_at: None,
            delete_recording_after_days: patch.delete_after.flatten(),
            prefer_low_latency: patch.prefer_low_latency,
            recording,
            rtmps: Some(Rtmps {
                url: RTMPS_URL.into(),
                stream_key: secret_for(&uid),
            }),
            rtmps_playback: Some(Rtmps {
                url: RTMPS_URL.into(),
                stream_key: secret_for(&uid),
            }),
            srt: Some(Srt {
                url: SRT_URL.into(),
                stream_id: uid.clone(),
                passphrase: secret_for(&uid),
            }),
            srt_playback: Some(Srt {
                url: SRT_URL.into(),
                stream_id: format!("play{uid}"),
                passphrase: secret_for(&uid),
            }),
            web_rtc: Some(WebRtc {
                url: format!("{host}/{}/webRTC/publish", secret_for(&uid)),
            }),
            web_rtc_playback: Some(WebRtcPlayback {
                url: format!("{host}/{uid}/webRTC/play"),
            }),
            status: LiveInputStatus::None,
        };
        self.order.push(uid.clone());
        self.inputs.insert(
            uid,
            StoredInput {
                input: input.clone(),
                default_creator: patch.default_creator.flatten(),
                live_video: None,
                views: 0,
            },
        );
        input
    }

    pub fn list(&self) -> Vec<LiveInputSummary> {
        self.order
            .iter()
            .filter_map(|uid| self.inputs.get(uid))
            .map(|s| LiveInputSummary {
                uid: s.input.uid.clone(),
                created: s.input.created.clone(),
                modified: s.input.modified.clone(),
                meta: s.input.meta.clone(),
                delete_recording_after_days: s.input.delete_recording_after_days,
                enabled: s.input.enabled,
            })
            .collect()
    }

    pub fn get(&self, uid: &str) -> Option<LiveInput> {
        self.inputs.get(uid).map(|s| s.input.clone())
    }

    pub fn update(
        &mut self,
        uid: &str,
        patch: InputPatch,
    ) -> Option<(LiveInput, Vec<Notification>)> {
        let s = self.inputs.get_mut(uid)?;
        let i = &mut s.input;
        if let Some(m) = patch.meta {
            i.meta = m;
        }
        if let Some(r) = &patch.recording {
            apply_recording(&mut i.recording, r);
        }
        if let Some(d) = patch.delete_after {
            i.delete_recording_after_days = d;
        }
        if let Some(c) = patch.default_creator {
            s.default_creator = c;
        }
        if let Some(p) = patch.prefer_low_latency {
            i.prefer_low_latency = Some(p);
        }
        if let Some(e) = patch.enabled {
            i.enabled = e;
        }
        i.modified = Some(now());
        let disable = patch.enabled == Some(false);
        let mut events = vec![];
        // `enabled=false` terminates a running broadcast immediately.
        if disable && s.input.status.is_connected() {
            events.push(self.end_broadcast(uid, "client_disconnect", None));
        }
        Some((self.inputs.get(uid)?.input.clone(), events))
    }

    pub fn delete(&mut self, uid: &str) -> Option<Vec<Notification>> {
        let connected = self.inputs.get(uid)?.input.status.is_connected();
        let mut events = vec![];
        if connected {
            events.push(self.end_broadcast(uid, "client_disconnect", None));
        }
        self.inputs.remove(uid);
        self.order.retain(|u| u != uid);
        Some(events)
    }

    pub fn rotate(&mut self, uid: &str, code: &str) -> Option<(LiveInput, Vec<Notification>)> {
        let s = self.inputs.get_mut(uid)?;
        let at = now();
        let i = &mut s.input;
        if let Some(r) = &mut i.rtmps {
            r.stream_key = secret_for(uid);
        }
        if let Some(r) = &mut i.srt {
            r.passphrase = secret_for(uid);
        }
        i.web_rtc = Some(WebRtc {
            url: format!("{}/{}/webRTC/publish", customer_host(code), secret_for(uid)),
        });
        i.keys_rotated_at = Some(at.clone());
        i.modified = Some(at);
        let connected = i.status.is_connected();
        let mut events = vec![];
        // Broadcasts using the stale credentials are disconnected.
        if connected {
            events.push(self.end_broadcast(uid, "client_disconnect", None));
        }
        Some((self.inputs.get(uid)?.input.clone(), events))
    }

    pub fn videos_of(&self, uid: &str) -> Vec<Video> {
        let mut v: Vec<Video> = self
            .videos
            .iter()
            .filter(|v| v.live_input.as_deref() == Some(uid))
            .cloned()
            .collect();
        v.reverse(); // newest first
        v
    }

    pub fn video(&self, uid: &str) -> Option<&Video> {
        self.videos.iter().find(|v| v.uid == uid)
    }

    pub fn connect(&mut self, uid: &str, code: &str) -> Result<Notification, ControlError> {
        let s = self
            .inputs
            .get_mut(uid)
            .ok_or_else(|| ControlError::NotFound(uid.into()))?;
        if !s.input.enabled {
            return Err(ControlError::Disabled(uid.into()));
        }
        if s.input.status.is_connected() {
            return Err(ControlError::AlreadyConnected(uid.into()));
        }
        s.input.status = status_with(&s.input.status, "connected", "connected");
        // Without automatic recording there is nothing to play or record.
        if s.input.recording.mode == RecordingMode::Automatic {
            let vuid = new_uid();
            let at = now();
            let host = customer_host(code);
            self.videos.push(Video {
                uid: vuid.clone(),
                created: Some(at.clone()),
                modified: Some(at),
                live_input: Some(uid.into()),
                creator: s.default_creator.clone(),
                meta: s.input.meta.clone(),
                status: VideoStatus {
                    state: "live-inprogress".into(),
                    pct_complete: None,
                    error_reason_code: String::new(),
                    error_reason_text: String::new(),
                },
                ready_to_stream: false,
                ready_to_stream_at: None,
                duration: Some(-1.0),
                preview: Some(format!("{host}/{vuid}/watch")),
                thumbnail: Some(format!("{host}/{vuid}/thumbnails/thumbnail.jpg")),
                playback: Some(VideoPlayback {
                    hls: Some(format!("{host}/{vuid}/manifest/video.m3u8")),
                    dash: Some(format!("{host}/{vuid}/manifest/video.mpd")),
                }),
            });
            s.live_video = Some(vuid);
        }
        Ok(Notification::new(uid, "live_input.connected", None))
    }

    pub fn disconnect(&mut self, uid: &str) -> Result<Notification, ControlError> {
        let s = self
            .inputs
            .get(uid)
            .ok_or_else(|| ControlError::NotFound(uid.into()))?;
        if !s.input.status.is_connected() {
            return Err(ControlError::NotConnected(uid.into()));
        }
        Ok(self.end_broadcast(uid, "client_disconnect", None))
    }

    pub fn error(
        &mut self,
        uid: &str,
        code: &str,
        message: Option<String>,
    ) -> Result<Notification, ControlError> {
        if code.is_empty()
            || code.len() > 64
            || !code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(ControlError::BadRequest(format!(
                "error code must look like ERR_SOMETHING, got {code:?}"
            )));
        }
        if !self.inputs.contains_key(uid) {
            return Err(ControlError::NotFound(uid.into()));
        }
        let message = message.unwrap_or_else(|| error_message(code).to_string());
        Ok(self.end_broadcast(uid, "failed_to_connect", Some((code.to_string(), message))))
    }

    /// Ends any live broadcast (the recording becomes `ready` at once; the
    /// real service takes ~60 s) and records the new status.
    fn end_broadcast(
        &mut self,
        uid: &str,
        reason: &str,
        error: Option<(String, String)>,
    ) -> Notification {
        let mut ended = None;
        if let Some(s) = self.inputs.get_mut(uid) {
            s.input.status = status_with(&s.input.status, "disconnected", reason);
            s.views = 0;
            ended = s.live_video.take();
        }
        if let Some(vuid) = ended {
            if let Some(v) = self.videos.iter_mut().find(|v| v.uid == vuid) {
                let at = now();
                v.status.state = "ready".into();
                v.status.pct_complete = Some("100.000000".into());
                v.ready_to_stream = true;
                v.ready_to_stream_at = Some(at.clone());
                v.modified = Some(at);
                v.duration = Some(0.0);
            }
        }
        let event = if error.is_some() {
            "live_input.errored"
        } else {
            "live_input.disconnected"
        };
        Notification::new(uid, event, error)
    }
}

fn apply_recording(r: &mut Recording, m: &Map<String, Value>) {
    if let Some(v) = m.get("mode").and_then(Value::as_str) {
        r.mode = if v == "automatic" {
            RecordingMode::Automatic
        } else {
            RecordingMode::Off
        };
    }
    if let Some(v) = m.get("timeoutSeconds").and_then(Value::as_u64) {
        r.timeout_seconds = Some(v);
    }
    if let Some(v) = m.get("requireSignedURLs").and_then(Value::as_bool) {
        r.require_signed_urls = Some(v);
    }
    if let Some(v) = m.get("allowedOrigins") {
        r.allowed_origins = v.as_array().map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        });
    }
    if let Some(v) = m.get("hideLiveViewerCount").and_then(Value::as_bool) {
        r.hide_live_viewer_count = Some(v);
    }
}

/// Validates a create/update body the way the API documents it.
pub(crate) fn parse_patch(body: &[u8]) -> Result<InputPatch, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(InputPatch::default());
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("request body is not valid JSON: {e}"))?;
    let Value::Object(o) = v else {
        return Err("request body must be a JSON object".into());
    };
    let mut p = InputPatch::default();
    if let Some(m) = o.get("meta") {
        p.meta = Some(match m {
            Value::Object(_) => m.clone(),
            Value::Null => json!({}),
            _ => return Err("meta must be an object".into()),
        });
    }
    if let Some(r) = o.get("recording") {
        let Value::Object(r) = r else {
            return Err("recording must be an object".into());
        };
        if let Some(m) = r.get("mode") {
            if !matches!(m.as_str(), Some("off" | "automatic")) {
                return Err("recording.mode must be \"off\" or \"automatic\"".into());
            }
        }
        if let Some(t) = r.get("timeoutSeconds") {
            if t.as_u64().is_none() {
                return Err("recording.timeoutSeconds must be a non-negative integer".into());
            }
        }
        for k in ["requireSignedURLs", "hideLiveViewerCount"] {
            if r.get(k).is_some_and(|b| !b.is_boolean()) {
                return Err(format!("recording.{k} must be a boolean"));
            }
        }
        if let Some(a) = r.get("allowedOrigins") {
            let ok = a.is_null() || a.as_array().is_some_and(|a| a.iter().all(Value::is_string));
            if !ok {
                return Err("recording.allowedOrigins must be an array of strings".into());
            }
        }
        p.recording = Some(r.clone());
    }
    if let Some(d) = o.get("deleteRecordingAfterDays") {
        p.delete_after = Some(match d {
            Value::Null => None,
            _ => match d.as_u64() {
                Some(n @ 30..=1096) => Some(n as u32),
                _ => {
                    return Err(
                        "deleteRecordingAfterDays must be an integer between 30 and 1096".into(),
                    )
                }
            },
        });
    }
    if let Some(c) = o.get("defaultCreator") {
        p.default_creator = Some(match c {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            _ => return Err("defaultCreator must be a string".into()),
        });
    }
    for (k, slot) in [
        ("enabled", &mut p.enabled),
        ("preferLowLatency", &mut p.prefer_low_latency),
    ] {
        if let Some(b) = o.get(k) {
            *slot = Some(
                b.as_bool()
                    .ok_or_else(|| format!("{k} must be a boolean"))?,
            );
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_shape() {
        let u = new_uid();
        assert_eq!(u.len(), 32);
        assert!(u
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        let s = secret_for(&u);
        assert!(s.ends_with(&format!("k{u}")));
    }

    #[test]
    fn route_names_round_trip() {
        for r in Route::ALL {
            assert_eq!(r.as_str().parse::<Route>(), Ok(r));
        }
        assert!("nope"
            .parse::<Route>()
            .unwrap_err()
            .starts_with("unknown route \"nope\""));
    }

    #[test]
    fn faults_apply_n_times_in_order() {
        let mut s = State::default();
        s.inject(Route::GetLiveInput, Fault::Hang, 2);
        s.inject(Route::GetLiveInput, Fault::Malformed, 1);
        s.inject(Route::GetLiveInput, Fault::Malformed, 0);
        assert_eq!(s.take_fault(Route::GetLiveInput), Some(Fault::Hang));
        assert_eq!(s.take_fault(Route::GetLiveInput), Some(Fault::Hang));
        assert_eq!(s.take_fault(Route::GetLiveInput), Some(Fault::Malformed));
        assert_eq!(s.take_fault(Route::GetLiveInput), None);
        assert_eq!(s.take_fault(Route::Views), None);
    }

    #[test]
    fn patch_validation_messages() {
        let e = |b: &str| parse_patch(b.as_bytes()).unwrap_err();
        assert_eq!(
            e(r#"{"deleteRecordingAfterDays": 29}"#),
            "deleteRecordingAfterDays must be an integer between 30 and 1096"
        );
        assert_eq!(
            e(r#"{"deleteRecordingAfterDays": 1097}"#),
            "deleteRecordingAfterDays must be an integer between 30 and 1096"
        );
        assert_eq!(
            e(r#"{"recording": {"mode": "always"}}"#),
            "recording.mode must be \"off\" or \"automatic\""
        );
        assert_eq!(e(r#"{"meta": 3}"#), "meta must be an object");
        assert_eq!(e(r#"{"enabled": "yes"}"#), "enabled must be a boolean");
        assert_eq!(e("[1]"), "request body must be a JSON object");
        assert!(e("{").starts_with("request body is not valid JSON"));
        let ok = parse_patch(br#"{"deleteRecordingAfterDays": null, "enabled": false}"#).unwrap();
        assert_eq!(ok.delete_after, Some(None));
        assert_eq!(ok.enabled, Some(false));
        assert_eq!(parse_patch(b"").unwrap(), InputPatch::default());
    }

    #[test]
    fn errored_notification_shape() {
        let n = Notification {
            input_id: "abc".into(),
            event_type: "live_input.errored",
            updated_at: "2024-07-09T18:07:51.077371662Z".into(),
            ts: 1720548474,
            error: Some(("ERR_GOP_OUT_OF_RANGE".into(), "m".into())),
        };
        assert_eq!(
            n.body(),
            json!({
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
            })
        );
    }
}
