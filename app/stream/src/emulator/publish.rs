//! What an accepted publish does, whatever carried it (RTMP or SRT, see `ingest.rs`): the same
//! transitions as the encoder-control routes, driven by real media — the input connects (taking
//! over from a stale publisher), ffmpeg records, and when the publish ends the broadcast ends and
//! the recording is kept or forgotten.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::service::{Publish, Service};
use super::state::Resume;
use super::webhook::Notification;
use crate::client::RecordingMode;
use crate::media::flv::MediaTag;
use crate::media::rtmp::{PublishEnd, Refusal, Stopper};
use crate::media::{InputFormat, RecordOutcome};
use crate::notifications::{LiveInputError, LiveInputErrorCode};

/// Where an accepted publish's media goes: its recording's input.
pub(super) enum MediaSink {
    Flv(mpsc::Sender<MediaTag>),
    Ts(mpsc::Sender<Bytes>),
}

impl Service {
    /// A publish of `uid` by a caller that proved its credential (the RTMP stream key, or the
    /// SRT passphrase in the handshake): the input connects — taking over from a stale publisher
    /// of the same input — and, when it records, ffmpeg starts reading `format`.
    pub(super) fn accept_publish(
        &self,
        uid: &str,
        stopper: Stopper,
        format: InputFormat,
    ) -> Result<(u64, Option<MediaSink>), Refusal> {
        let uid = uid.to_string();
        let id = self.next_publish.fetch_add(1, Ordering::Relaxed);
        let (notifications, video_uid) = {
            let mut st = self.lock();
            // The right key while a real publish still holds the input: the encoder came back
            // (OBS reconnecting after a drop) before its old connection was seen to end (a TCP
            // drop without FIN/RST, or ffmpeg still finishing the old recording). The newcomer
            // takes over: the old publisher is dropped and its broadcast ends as a disconnect.
            let mut events = vec![];
            if st
                .inputs
                .get(&uid)
                .is_some_and(|s| s.publisher.is_some() && s.input.enabled)
            {
                tracing::info!(input = %uid, "publish takes over from a previous connection");
                events.push(st.end_broadcast(&uid, "client_disconnect", None));
            }
            let n = st
                .connect(&uid, &self.urls().delivery)
                .map_err(|e| Refusal(e.to_string()))?;
            events.push(n);
            let protocol = match format {
                InputFormat::Flv => "rtmp",
                InputFormat::MpegTs => "srt",
            };
            st.set_ingest_protocol(&uid, protocol);
            let s = st.inputs.get_mut(&uid).expect("connected above");
            s.publisher = Some((id, stopper));
            let video = match s.input.recording.mode {
                RecordingMode::Automatic => s.live_video.clone(),
                _ => None,
            };
            // Before the lock goes: a player asking now gets "nothing yet" (204) until ffmpeg
            // wrote the first segment, never the placeholder of a broadcast without media.
            if let (Some(media), Some(v)) = (&self.media, &video) {
                media.reserve(v);
            }
            (events, video)
        };
        let mut recording = None;
        let mut sink = None;
        if let (Some(media), Some(vuid)) = (&self.media, &video_uid) {
            let started = match format {
                InputFormat::Flv => media.record(vuid).map(|r| (MediaSink::Flv(r.tags), r.task)),
                InputFormat::MpegTs => media
                    .record_ts(vuid)
                    .map(|r| (MediaSink::Ts(r.chunks), r.task)),
            };
            match started {
                Ok((s, task)) => {
                    sink = Some(s);
                    recording = Some(task);
                }
                // The publish goes on; it just is not recorded (and not playable).
                Err(e) => tracing::error!(error = %e, input = %uid, "cannot start ffmpeg"),
            }
        }
        tracing::info!(input = %uid, video = ?video_uid, ?format, "publish accepted");
        self.publishes.lock().unwrap().insert(
            id,
            Publish {
                input_uid: uid,
                video_uid,
                recording,
            },
        );
        self.notify_in_order(notifications);
        Ok((id, sink))
    }

    /// A publish is over (the caller left, was dropped, or its connection broke): the broadcast
    /// ends (unless something else already ended it), and its recording is kept when it has
    /// media, else forgotten.
    pub(super) async fn end_publish(&self, id: u64, how: PublishEnd) {
        let Some(p) = self.publishes.lock().unwrap().remove(&id) else {
            return;
        };
        let outcome = match p.recording {
            Some(task) => task.await.unwrap_or(RecordOutcome::Finished),
            None => RecordOutcome::Finished,
        };
        let error = match (&outcome, &how) {
            (RecordOutcome::Failed { code, message }, _) => {
                Some(LiveInputError::new(code.clone(), message.clone()))
            }
            (_, PublishEnd::Broken(why)) => {
                tracing::warn!(input = %p.input_uid, %why, "publisher connection broke");
                Some(LiveInputError::from_code(LiveInputErrorCode::Unhealthy))
            }
            _ => None,
        };
        tracing::info!(input = %p.input_uid, ?how, ?outcome, "publish ended");
        // A stream that could not be recorded leaves no video (nor files) behind.
        let duration = match outcome {
            RecordOutcome::Finished => p
                .video_uid
                .as_deref()
                .and_then(|v| self.media.as_ref()?.duration(v)),
            RecordOutcome::Failed { .. } => None,
        };
        let mut events: Vec<Notification> = vec![];
        {
            let mut st = self.lock();
            // Still this publish's input (not already ended by disable/delete/rotate)?
            let current = st
                .inputs
                .get(&p.input_uid)
                .is_some_and(|s| s.publisher.as_ref().map(|(i, _)| *i) == Some(id));
            if current {
                let reason = if error.is_some() {
                    "failed_to_connect"
                } else {
                    "client_disconnect"
                };
                events.push(st.end_broadcast(&p.input_uid, reason, error));
            }
            // An encoder that left by itself may come back within `recording.timeoutSeconds`
            // and continue this recording (Cloudflare's reconnect window); 0 = no window.
            let window = st
                .inputs
                .get(&p.input_uid)
                .and_then(|s| s.input.recording.timeout_seconds)
                .filter(|secs| current && *secs > 0)
                .map(std::time::Duration::from_secs);
            if let Some(v) = &p.video_uid {
                match duration {
                    Some(d) if d > 0.0 && st.video(v).is_some() && window.is_some() => {
                        let window = window.unwrap_or_default();
                        if let Some(s) = st.inputs.get_mut(&p.input_uid) {
                            s.resume = Some(Resume {
                                video: v.clone(),
                                until: std::time::Instant::now() + window,
                            });
                        }
                        self.close_window_after(&p.input_uid, v, window);
                    }
                    // (A video deleted with its input meanwhile has nothing to finish.)
                    Some(d) if d > 0.0 && st.video(v).is_some() => st.finish_video(v, d),
                    // Nothing playable was recorded: no video is left behind.
                    _ => {
                        st.videos.retain(|x| &x.uid != v);
                        if let Some(m) = &self.media {
                            m.remove(v);
                        }
                    }
                }
            }
        }
        self.notify_in_order(events);
    }

    /// When `input`'s reconnect window for `video` closes without the encoder back, the recording
    /// is finished (`ready`, with the duration of all its parts).
    fn close_window_after(&self, input: &str, video: &str, window: std::time::Duration) {
        let (me, input, video) = (self.me.clone(), input.to_string(), video.to_string());
        tokio::spawn(async move {
            tokio::time::sleep(window).await;
            let Some(service) = me.upgrade() else { return };
            let duration = service
                .media
                .as_ref()
                .and_then(|m| m.duration(&video))
                .unwrap_or(0.0);
            let mut st = service.lock();
            let still_open = st
                .inputs
                .get(&input)
                .is_some_and(|s| s.resume.as_ref().map(|r| &r.video) == Some(&video));
            if still_open {
                if let Some(s) = st.inputs.get_mut(&input) {
                    s.resume = None;
                }
                st.finish_video(&video, duration);
            }
        });
    }
}
