//! Room operations: the two-sided (Cloudflare + chain) workflows behind the routes — `read`
//! (address, cached account, broadcast state), `create` (with `idempotency`, `flight` and
//! `renewals`), `change` (title, key rotation, end) — plus discovery (`listing`), the response
//! bodies (`responses`) and where an on-chain change this server did not make lands
//! (`chain_changes`). Their functions are re-exported here (`rooms::load_room`, `rooms::end`, …).
//! Uses `state` and the layers below; never `http` or `jobs`.
pub mod answers;
pub mod chain_changes;
pub mod change;
pub mod create;
pub mod flight;
pub mod idempotency;
pub mod listing;
pub mod playback;
pub mod read;
pub mod renewals;
pub mod responses;
pub mod tips;

use roomcast_stream::client::LiveInput;

use crate::core::error::{AppError, AppResult};
use crate::rooms::responses::*;

/// Marks live inputs roomcast created, so the reconciler never touches anyone else's.
pub const META_TAG_KEY: &str = "roomcast";
pub const META_TAG_VALUE: &str = "v1";

/// Longest title, in bytes of UTF-8 (the program's bound).
pub const MAX_TITLE_BYTES: usize = roomcast_chain::MAX_TITLE_LEN as usize;

pub fn validate_title(title: &str) -> AppResult<()> {
    if title.trim().is_empty() {
        return Err(AppError::bad_request(
            "invalid_title",
            "title must not be empty",
        ));
    }
    if title.len() > MAX_TITLE_BYTES {
        return Err(AppError::bad_request(
            "invalid_title",
            format!(
                "title is {} bytes; at most {MAX_TITLE_BYTES} bytes of UTF-8 are allowed",
                title.len()
            ),
        ));
    }
    Ok(())
}

pub use change::*;
pub use create::*;
pub use read::*;

pub(crate) fn ingest_details(input: &LiveInput) -> AppResult<IngestDetails> {
    let rtmps = input.rtmps.as_ref().ok_or_else(|| AppError::BadGateway {
        code: "cloudflare_error",
        message: "Cloudflare returned a live input without RTMPS credentials".into(),
    })?;
    Ok(IngestDetails {
        rtmps: RtmpsIngest {
            url: rtmps.url.clone(),
            stream_key: rtmps.stream_key.clone(),
        },
        srt: input.srt.as_ref().map(|s| SrtIngest {
            url: s.url.clone(),
            stream_id: s.stream_id.clone(),
            passphrase: s.passphrase.clone(),
        }),
        webrtc: input
            .web_rtc
            .as_ref()
            .map(|w| WebRtcIngest { url: w.url.clone() }),
    })
}
