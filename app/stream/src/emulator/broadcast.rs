//! Encoder transitions of a live input: connect (a `live-inprogress` video when recording is
//! automatic), disconnect, error, and the end of a broadcast however it ends; each returns the
//! notification to send. Driven by the control routes and by real RTMP publishes alike.

use serde_json::Value;

use super::ids::{new_uid, now};
use super::state::State;
use super::webhook::Notification;
use crate::client::{
    LiveInputStatus, RecordingMode, StatusCurrent, StatusDetail, Video, VideoPlayback, VideoStatus,
};
use crate::notifications::{error_message, LiveInputError, LiveInputEvent};

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
            ingest_protocol: None,
        }),
        history,
    })
}

impl State {
    /// `delivery`: where the new video is played from (its URLs are minted there).
    pub fn connect(&mut self, uid: &str, delivery: &str) -> Result<Notification, ControlError> {
        self.connect_with(uid, delivery, true)
    }

    /// A connect that never records (a WebRTC broadcast: Cloudflare neither records it nor
    /// serves it over HLS/DASH).
    pub fn connect_unrecorded(&mut self, uid: &str) -> Result<Notification, ControlError> {
        self.connect_with(uid, "", false)
    }

    /// Names how the connected encoder publishes (`status.current.ingestProtocol`).
    pub fn set_ingest_protocol(&mut self, uid: &str, protocol: &str) {
        if let Some(s) = self.inputs.get_mut(uid) {
            if let LiveInputStatus::Detailed(d) = &mut s.input.status {
                if let Some(c) = &mut d.current {
                    c.ingest_protocol = Some(protocol.into());
                }
            }
        }
    }

    fn connect_with(
        &mut self,
        uid: &str,
        delivery: &str,
        record: bool,
    ) -> Result<Notification, ControlError> {
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
        // Back within the reconnect window: the same recording goes on.
        // (An expired window is left for its timer, which finishes that recording.)
        let resumed = match &s.resume {
            Some(r) if record && r.until > std::time::Instant::now() => s.resume.take(),
            _ => None,
        };
        if let Some(r) = resumed {
            if let Some(v) = self.videos.iter_mut().find(|v| v.uid == r.video) {
                v.status.state = "live-inprogress".into();
                v.modified = Some(now());
                if let Some(s) = self.inputs.get_mut(uid) {
                    s.live_video = Some(r.video);
                }
                return Ok(Notification::new(uid, LiveInputEvent::Connected, None));
            }
        }
        // Without automatic recording there is nothing to play or record.
        if record && s.input.recording.mode == RecordingMode::Automatic {
            let vuid = new_uid();
            let at = now();
            let mut video = Video {
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
                preview: None,
                thumbnail: None,
                playback: None,
            };
            served_from(&mut video, delivery);
            self.videos.push(video);
            s.live_video = Some(vuid);
        }
        Ok(Notification::new(uid, LiveInputEvent::Connected, None))
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
        Ok(self.end_broadcast(
            uid,
            "failed_to_connect",
            Some(LiveInputError::new(code, message)),
        ))
    }

    /// Ends any live broadcast and records the new status. A real publisher is dropped and its
    /// video stays `inprogress` until ffmpeg has finished the recording ([`State::finish_video`]);
    /// a control-API broadcast's video becomes `ready` at once (the real service takes ~60 s).
    pub fn end_broadcast(
        &mut self,
        uid: &str,
        reason: &str,
        error: Option<LiveInputError>,
    ) -> Notification {
        let mut ended = None;
        let mut real = false;
        if let Some(s) = self.inputs.get_mut(uid) {
            s.input.status = status_with(&s.input.status, "disconnected", reason);
            s.views = 0;
            ended = s.live_video.take();
            if let Some((_, stopper)) = s.publisher.take() {
                stopper.stop();
                real = true;
            }
        }
        if let Some(vuid) = ended {
            if real {
                if let Some(v) = self.videos.iter_mut().find(|v| v.uid == vuid) {
                    v.status.state = "inprogress".into();
                    v.modified = Some(now());
                }
            } else {
                self.finish_video(&vuid, 0.0);
            }
        }
        let event = if error.is_some() {
            LiveInputEvent::Errored
        } else {
            LiveInputEvent::Disconnected
        };
        Notification::new(uid, event, error)
    }

    /// The recording of `vuid` is complete: `ready`, with its real duration.
    pub fn finish_video(&mut self, vuid: &str, duration: f64) {
        if let Some(v) = self.videos.iter_mut().find(|v| v.uid == vuid) {
            let at = now();
            v.status.state = "ready".into();
            v.status.pct_complete = Some("100.000000".into());
            v.ready_to_stream = true;
            v.ready_to_stream_at = Some(at.clone());
            v.modified = Some(at);
            v.duration = Some(duration);
        }
    }
}

/// Points a video's `preview`, `thumbnail` and `playback` at the delivery host `host`.
pub(super) fn served_from(v: &mut Video, host: &str) {
    let vuid = &v.uid;
    v.preview = Some(format!("{host}/{vuid}/watch"));
    v.thumbnail = Some(format!("{host}/{vuid}/thumbnails/thumbnail.jpg"));
    v.playback = Some(VideoPlayback {
        hls: Some(format!("{host}/{vuid}/manifest/video.m3u8")),
        dash: Some(format!("{host}/{vuid}/manifest/video.mpd")),
    });
}
