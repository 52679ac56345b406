//! Which publishes are accepted, per transport: RTMP ([`media::rtmp::Ingest`]: the stream key of
//! an existing, enabled input, under the `live` application) and SRT ([`media::srt::SrtIngest`]:
//! an enabled input's SRT stream id, admitted with its passphrase). What an accepted publish
//! then does is the same for both (`publish.rs`).
//!
//! [`media::rtmp::Ingest`]: crate::media::rtmp::Ingest
//! [`media::srt::SrtIngest`]: crate::media::srt::SrtIngest

use subtle::ConstantTimeEq;

use super::publish::MediaSink;
use super::service::Service;
use crate::media::rtmp::{Accepted, Ingest, PublishEnd, Refusal, Stopper};
use crate::media::srt::{SrtAccepted, SrtIngest};
use crate::media::InputFormat;

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
        let known = self.lock().inputs.get(&uid).is_some_and(|s| {
            s.input
                .rtmps
                .as_ref()
                .is_some_and(|r| bool::from(r.stream_key.as_bytes().ct_eq(stream_key.as_bytes())))
        });
        if !known {
            return Err(Refusal("unknown stream key".into()));
        }
        let (id, media) = self.accept_publish(&uid, stopper, InputFormat::Flv)?;
        let media = match media {
            Some(MediaSink::Flv(tags)) => Some(tags),
            _ => None,
        };
        Ok(Accepted { id, media })
    }

    async fn end(&self, id: u64, how: PublishEnd) {
        self.end_publish(id, how).await
    }
}

impl SrtIngest for Service {
    fn passphrase(&self, stream_id: &str) -> Option<String> {
        let st = self.lock();
        let s = st.inputs.get(stream_id)?;
        let srt = s.input.srt.as_ref()?;
        // Cloudflare refuses SRT connections to a disabled input.
        (s.input.enabled && srt.stream_id == stream_id).then(|| srt.passphrase.clone())
    }

    fn begin(&self, stream_id: &str, stopper: Stopper) -> Result<SrtAccepted, Refusal> {
        let (id, media) = self.accept_publish(stream_id, stopper, InputFormat::MpegTs)?;
        let media = match media {
            Some(MediaSink::Ts(chunks)) => Some(chunks),
            _ => None,
        };
        Ok(SrtAccepted { id, media })
    }

    async fn end(&self, id: u64, how: PublishEnd) {
        self.end_publish(id, how).await
    }
}
