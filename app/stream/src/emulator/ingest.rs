//! The emulator's side of a real RTMP publish ([`media::rtmp::Ingest`]): which publishes are
//! accepted (the stream key of an existing, enabled input without a publisher, under the `live`
//! application), and what an accepted or ended publish does to the live input, its video and
//! the webhook — the same transitions as the encoder-control routes, driven by real media.

use std::sync::atomic::Ordering;

use subtle::ConstantTimeEq;

use super::service::{Publish, Service};
use super::webhook::Notification;
use crate::client::RecordingMode;
use crate::media::rtmp::{Accepted, Ingest, PublishEnd, Refusal, Stopper};
use crate::media::RecordOutcome;
use crate::notifications::{LiveInputError, LiveInputErrorCode};

/// The RTMP application name in `rtmp://HOST:PORT/live/<key>`.
pub const APP: &str = "live";

impl Ingest for Service {
    fn begin(&self, app: &str, stream_key: &str, stopper: Stopper) -> Result<Accepted, Refusal> {
        if app != APP {
            return Err(Refusal(format!(
                "unknown application {app:?} (expected {APP:?})"
            )));
        }
        // Keys end in `k<input uid>`; the whole key is then compared in constant time.
        let uid = stream_key
            .rsplit_once('k')
            .map(|(_, uid)| uid)
            .unwrap_or_default()
            .to_string();
        let id = self.next_publish.fetch_add(1, Ordering::Relaxed);
        let (notifications, video_uid) = {
            let mut st = self.lock();
            let known = st.inputs.get(&uid).is_some_and(|s| {
                s.input.rtmps.as_ref().is_some_and(|r| {
                    bool::from(r.stream_key.as_bytes().ct_eq(stream_key.as_bytes()))
                })
            });
            if !known {
                return Err(Refusal("unknown stream key".into()));
            }
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
                tracing::info!(input = %uid, "rtmp publish takes over from a previous connection");
                events.push(st.end_broadcast(&uid, "client_disconnect", None));
            }
            let n = st
                .connect(&uid, &self.customer_code)
                .map_err(|e| Refusal(e.to_string()))?;
            events.push(n);
            let s = st.inputs.get_mut(&uid).expect("connected above");
            s.publisher = Some((id, stopper));
            let video = match s.input.recording.mode {
                RecordingMode::Automatic => s.live_video.clone(),
                _ => None,
            };
            (events, video)
        };
        let mut recording = None;
        let mut media_tx = None;
        if let (Some(media), Some(vuid)) = (&self.media, &video_uid) {
            match media.record(vuid) {
                Ok(r) => {
                    media_tx = Some(r.tags);
                    recording = Some(r.task);
                }
                // The publish goes on; it just is not recorded (and not playable).
                Err(e) => tracing::error!(error = %e, input = %uid, "cannot start ffmpeg"),
            }
        }
        tracing::info!(input = %uid, video = ?video_uid, "rtmp publish accepted");
        self.publishes.lock().unwrap().insert(
            id,
            Publish {
                input_uid: uid,
                video_uid,
                recording,
            },
        );
        self.notify_in_order(notifications);
        Ok(Accepted {
            id,
            media: media_tx,
        })
    }

    async fn end(&self, id: u64, how: PublishEnd) {
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
                tracing::warn!(input = %p.input_uid, %why, "rtmp connection broke");
                Some(LiveInputError::from_code(LiveInputErrorCode::Unhealthy))
            }
            _ => None,
        };
        tracing::info!(input = %p.input_uid, ?how, ?outcome, "rtmp publish ended");
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
            if let Some(v) = &p.video_uid {
                match duration {
                    Some(d) if d > 0.0 => st.finish_video(v, d),
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
}
