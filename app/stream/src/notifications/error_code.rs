//! The live-input error codes Cloudflare documents for `live_input.errored` (reference §5a), with
//! the message each carries. One catalog for whoever names or explains an encoder error: the
//! emulator's control route and media path, and a receiver of notifications.

use serde::{Deserialize, Serialize};

/// The message of a code this catalog does not know.
pub const UNKNOWN_ERROR_MESSAGE: &str = "Live input error.";

/// A documented `live_input.errored` code (`data.live_input_errored.error.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LiveInputErrorCode {
    #[serde(rename = "ERR_STORAGE_QUOTA_EXHAUSTED")]
    StorageQuotaExhausted,
    #[serde(rename = "ERR_GOP_OUT_OF_RANGE")]
    GopOutOfRange,
    #[serde(rename = "ERR_UNSUPPORTED_VIDEO_CODEC")]
    UnsupportedVideoCodec,
    #[serde(rename = "ERR_UNSUPPORTED_AUDIO_CODEC")]
    UnsupportedAudioCodec,
    #[serde(rename = "ERR_MISSING_SUBSCRIPTION")]
    MissingSubscription,
    #[serde(rename = "ERR_UNHEALTHY")]
    Unhealthy,
}

impl LiveInputErrorCode {
    pub const ALL: [LiveInputErrorCode; 6] = [
        LiveInputErrorCode::StorageQuotaExhausted,
        LiveInputErrorCode::GopOutOfRange,
        LiveInputErrorCode::UnsupportedVideoCodec,
        LiveInputErrorCode::UnsupportedAudioCodec,
        LiveInputErrorCode::MissingSubscription,
        LiveInputErrorCode::Unhealthy,
    ];

    /// The code named `s`, if it is one of these.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The code as Cloudflare writes it (`ERR_...`).
    pub fn as_str(self) -> &'static str {
        match self {
            LiveInputErrorCode::StorageQuotaExhausted => "ERR_STORAGE_QUOTA_EXHAUSTED",
            LiveInputErrorCode::GopOutOfRange => "ERR_GOP_OUT_OF_RANGE",
            LiveInputErrorCode::UnsupportedVideoCodec => "ERR_UNSUPPORTED_VIDEO_CODEC",
            LiveInputErrorCode::UnsupportedAudioCodec => "ERR_UNSUPPORTED_AUDIO_CODEC",
            LiveInputErrorCode::MissingSubscription => "ERR_MISSING_SUBSCRIPTION",
            LiveInputErrorCode::Unhealthy => "ERR_UNHEALTHY",
        }
    }

    /// The message Cloudflare sends with the code.
    pub fn message(self) -> &'static str {
        match self {
            LiveInputErrorCode::StorageQuotaExhausted => "Storage quota exhausted.",
            LiveInputErrorCode::GopOutOfRange => {
                "Input GOP size or keyframe interval is out of range."
            }
            LiveInputErrorCode::UnsupportedVideoCodec => "Unsupported video codec.",
            LiveInputErrorCode::UnsupportedAudioCodec => "Unsupported audio codec.",
            LiveInputErrorCode::MissingSubscription => "Unauthorized to start a live stream.",
            LiveInputErrorCode::Unhealthy => "The live stream is unhealthy.",
        }
    }
}

/// The message for any code: the catalog's, or [`UNKNOWN_ERROR_MESSAGE`] for one it does not know.
pub fn error_message(code: &str) -> &'static str {
    LiveInputErrorCode::parse(code).map_or(UNKNOWN_ERROR_MESSAGE, LiveInputErrorCode::message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_as_text_and_json() {
        for c in LiveInputErrorCode::ALL {
            assert_eq!(LiveInputErrorCode::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
            assert_eq!(error_message(c.as_str()), c.message());
        }
        assert_eq!(error_message("ERR_NEW"), UNKNOWN_ERROR_MESSAGE);
        assert_eq!(
            error_message("ERR_GOP_OUT_OF_RANGE"),
            "Input GOP size or keyframe interval is out of range."
        );
    }
}
