//! An encoder's broadcast state as values: what Cloudflare's live-input notifications (and the
//! public `lifecycle` endpoint) say, ordered by `updated_at`. Held per room by `live::broadcasts`,
//! shared between replicas by `store::redis::replicas`.
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// An encoder is connected and sending.
    Live,
    /// No encoder (never connected, or disconnected).
    Idle,
    /// The encoder's input was rejected; see `error`.
    Errored,
}

/// Why Cloudflare rejected the input, with what the host should do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EncoderError {
    pub code: String,
    pub message: String,
    /// A plain-language fix for the host.
    pub hint: String,
}

/// How the encoder publishes; it decides how viewers play it (Cloudflare: a WebRTC/WHIP
/// broadcast plays only over WebRTC/WHEP, an RTMP/SRT one only over HLS/DASH).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Rtmp,
    Srt,
    Webrtc,
}

impl Protocol {
    /// Cloudflare's `status.current.ingestProtocol` (`rtmp`, `rtmps`, `srt`, `webrtc`/`whip`).
    pub fn parse(s: &str) -> Option<Protocol> {
        match s.to_ascii_lowercase().as_str() {
            "rtmp" | "rtmps" => Some(Protocol::Rtmp),
            "srt" => Some(Protocol::Srt),
            "webrtc" | "whip" => Some(Protocol::Webrtc),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Broadcast {
    pub state: Phase,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    pub error: Option<EncoderError>,
    /// How a live encoder publishes, when Cloudflare said (`status.current.ingestProtocol` of
    /// the live input, read on `connected`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
}

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Updated,
    /// Same or older than what is known: replay or out-of-order delivery.
    Stale,
}

/// Plain-language fixes for Cloudflare's documented live-input error codes (the catalog is
/// `roomcast_stream::notifications::LiveInputErrorCode`); an unknown code keeps Cloudflare's words.
pub fn hint_for(code: &str, cloudflare_message: &str) -> String {
    use roomcast_stream::notifications::LiveInputErrorCode as Code;
    match Code::parse(code) {
        Some(Code::GopOutOfRange) => {
            "Set your encoder's keyframe interval between 2 and 10 seconds (4 s works well).".into()
        }
        Some(Code::UnsupportedVideoCodec) => "Send H.264 video (over RTMPS or SRT).".into(),
        Some(Code::UnsupportedAudioCodec) => {
            "Send AAC audio (ADTS), e.g. OBS's default AAC encoder.".into()
        }
        Some(Code::StorageQuotaExhausted) => {
            "The operator's Cloudflare account is out of storage; contact the operator.".into()
        }
        Some(Code::MissingSubscription) => {
            "The operator's Cloudflare account cannot stream live; contact the operator.".into()
        }
        Some(Code::Unhealthy) => {
            "The stream is unhealthy: check your upload bandwidth and bitrate (under 10 Mbps, CBR)."
                .into()
        }
        None if !cloudflare_message.is_empty() => cloudflare_message.to_string(),
        None => "Cloudflare rejected the stream; check your encoder settings.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingest_protocols() {
        assert_eq!(Protocol::parse("webrtc"), Some(Protocol::Webrtc));
        assert_eq!(Protocol::parse("WHIP"), Some(Protocol::Webrtc));
        assert_eq!(Protocol::parse("rtmps"), Some(Protocol::Rtmp));
        assert_eq!(Protocol::parse("srt"), Some(Protocol::Srt));
        assert_eq!(Protocol::parse("carrier-pigeon"), None);
        // Stored broadcasts from before the field (Redis) still read.
        let old: Broadcast = serde_json::from_str(
            r#"{"state":"live","updatedAt":"2026-01-01T00:00:00Z","error":null}"#,
        )
        .unwrap();
        assert_eq!(old.protocol, None);
        let json = serde_json::to_value(Broadcast {
            protocol: Some(Protocol::Webrtc),
            ..old
        })
        .unwrap();
        assert_eq!(json["protocol"], "webrtc");
    }

    #[test]
    fn hints() {
        assert!(hint_for("ERR_GOP_OUT_OF_RANGE", "x").contains("keyframe"));
        assert_eq!(hint_for("ERR_NEW", "Cloudflare says"), "Cloudflare says");
        assert!(hint_for("ERR_NEW", "").contains("encoder"));
        // Every documented code has its own fix, not Cloudflare's message.
        for code in roomcast_stream::notifications::LiveInputErrorCode::ALL {
            assert_ne!(hint_for(code.as_str(), code.message()), code.message());
        }
    }
}
