//! The live inputs themselves: create, list, read, update, delete and rotate keys, as the
//! account API does them (ending a broadcast where Cloudflare would), and an input's videos.

use serde_json::json;

use super::ids::{new_uid, now, secret_for, RTMPS_URL, SRT_URL};
use super::patch::{apply_recording, InputPatch};
use super::service::Urls;
use super::state::{State, StoredInput};
use super::webhook::Notification;
use crate::client::{
    LiveInput, LiveInputStatus, LiveInputSummary, Recording, RecordingMode, Rtmps, Srt, Video,
    WebRtc, WebRtcPlayback,
};

impl State {
    /// `urls` say where this emulator's ingest and delivery are (Cloudflare's hosts, or its own
    /// listeners when it runs real video: then what it cannot serve is left out).
    pub fn create(&mut self, urls: &Urls, patch: InputPatch) -> LiveInput {
        let uid = new_uid();
        let at = now();
        let host = &urls.delivery;
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
                url: urls.rtmps.clone(),
                stream_key: secret_for(&uid),
            }),
            // Pulling the live feed back out (RTMPS/SRT playback) is Cloudflare's alone: a local
            // emulator leaves it out rather than hand out URLs that do not work. WebRTC (WHIP /
            // WHEP) is served by the emulator itself when it runs real video (`webrtc.rs`).
            rtmps_playback: (!urls.local).then(|| Rtmps {
                url: RTMPS_URL.into(),
                stream_key: secret_for(&uid),
            }),
            srt: urls.srt.as_ref().map(|url| Srt {
                url: url.clone(),
                stream_id: uid.clone(),
                passphrase: secret_for(&uid),
            }),
            srt_playback: (!urls.local).then(|| Srt {
                url: SRT_URL.into(),
                stream_id: format!("play{uid}"),
                passphrase: secret_for(&uid),
            }),
            web_rtc: urls.webrtc.then(|| WebRtc {
                url: format!("{host}/{}/webRTC/publish", secret_for(&uid)),
            }),
            web_rtc_playback: urls.webrtc.then(|| WebRtcPlayback {
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
                publisher: None,
                resume: None,
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

    /// Deletes the input and its videos (recordings go with their input); returns the
    /// notifications to send and the deleted videos' uids (their media is the caller's to remove).
    pub fn delete(&mut self, uid: &str) -> Option<(Vec<Notification>, Vec<String>)> {
        let connected = self.inputs.get(uid)?.input.status.is_connected();
        let mut events = vec![];
        if connected {
            events.push(self.end_broadcast(uid, "client_disconnect", None));
        }
        self.inputs.remove(uid);
        self.order.retain(|u| u != uid);
        let videos: Vec<String> = self
            .videos
            .iter()
            .filter(|v| v.live_input.as_deref() == Some(uid))
            .map(|v| v.uid.clone())
            .collect();
        self.videos.retain(|v| v.live_input.as_deref() != Some(uid));
        Some((events, videos))
    }

    pub fn rotate(&mut self, uid: &str, urls: &Urls) -> Option<(LiveInput, Vec<Notification>)> {
        let s = self.inputs.get_mut(uid)?;
        let at = now();
        let i = &mut s.input;
        if let Some(r) = &mut i.rtmps {
            r.stream_key = secret_for(uid);
        }
        if let Some(r) = &mut i.srt {
            r.passphrase = secret_for(uid);
        }
        if let Some(w) = &mut i.web_rtc {
            w.url = format!("{}/{}/webRTC/publish", urls.delivery, secret_for(uid));
        }
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
}
