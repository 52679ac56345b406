//! Off-chain broadcast state of each room's encoder, fed by Cloudflare's live-input notifications
//! (and refreshed by the reconciler from the public `lifecycle` endpoint). Ordered by the
//! notification's `updated_at`, so replays and out-of-order deliveries cannot move it backwards.
use std::collections::HashMap;
use std::sync::Mutex;

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Broadcast {
    pub state: Phase,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    pub error: Option<EncoderError>,
}

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Updated,
    /// Same or older than what is known: replay or out-of-order delivery.
    Stale,
}

/// Broadcast states kept at most (rooms being broadcast right now); past it the oldest is dropped
/// (viewers then fall back to the public `lifecycle` endpoint).
pub const MAX_LIVE_STATES: usize = 100_000;

pub struct LiveStates {
    by_session: Mutex<HashMap<String, Broadcast>>,
    capacity: usize,
}

impl Default for LiveStates {
    fn default() -> Self {
        LiveStates::with_capacity(MAX_LIVE_STATES)
    }
}

impl LiveStates {
    pub fn with_capacity(capacity: usize) -> Self {
        LiveStates {
            by_session: Mutex::default(),
            capacity: capacity.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets a room's state (it ended).
    pub fn remove(&self, session_id: &str) {
        self.lock().remove(session_id);
    }

    pub fn get(&self, session_id: &str) -> Option<Broadcast> {
        self.lock().get(session_id).cloned()
    }

    /// Applies an event if it is newer than the known state.
    pub fn apply(&self, session_id: &str, next: Broadcast) -> Applied {
        let mut map = self.lock();
        match map.get(session_id) {
            Some(known) if known.updated_at >= next.updated_at => Applied::Stale,
            known => {
                if known.is_none() && map.len() >= self.capacity {
                    let oldest = map
                        .iter()
                        .min_by_key(|(_, b)| b.updated_at)
                        .map(|(k, _)| k.clone());
                    if let Some(oldest) = oldest {
                        map.remove(&oldest);
                    }
                }
                map.insert(session_id.to_string(), next);
                Applied::Updated
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Broadcast>> {
        self.by_session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Plain-language fixes for Cloudflare's documented live-input error codes.
pub fn hint_for(code: &str, cloudflare_message: &str) -> String {
    match code {
        "ERR_GOP_OUT_OF_RANGE" => {
            "Set your encoder's keyframe interval between 2 and 10 seconds (4 s works well).".into()
        }
        "ERR_UNSUPPORTED_VIDEO_CODEC" => "Send H.264 video (over RTMPS or SRT).".into(),
        "ERR_UNSUPPORTED_AUDIO_CODEC" => {
            "Send AAC audio (ADTS), e.g. OBS's default AAC encoder.".into()
        }
        "ERR_STORAGE_QUOTA_EXHAUSTED" => {
            "The operator's Cloudflare account is out of storage; contact the operator.".into()
        }
        "ERR_MISSING_SUBSCRIPTION" => {
            "The operator's Cloudflare account cannot stream live; contact the operator.".into()
        }
        "ERR_UNHEALTHY" => {
            "The stream is unhealthy: check your upload bandwidth and bitrate (under 10 Mbps, CBR)."
                .into()
        }
        _ if !cloudflare_message.is_empty() => cloudflare_message.to_string(),
        _ => "Cloudflare rejected the stream; check your encoder settings.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn at(t: OffsetDateTime, state: Phase) -> Broadcast {
        Broadcast {
            state,
            updated_at: t,
            error: None,
        }
    }

    #[test]
    fn newer_events_win_replays_and_older_ones_are_stale() {
        let live = LiveStates::default();
        let t1 = datetime!(2026-01-01 10:00:00.000000001 UTC);
        let t2 = datetime!(2026-01-01 10:00:00.000000002 UTC);
        assert_eq!(live.apply("a", at(t2, Phase::Idle)), Applied::Updated);
        assert_eq!(
            live.apply("a", at(t1, Phase::Live)),
            Applied::Stale,
            "out of order"
        );
        assert_eq!(
            live.apply("a", at(t2, Phase::Live)),
            Applied::Stale,
            "replay at the same instant"
        );
        assert_eq!(live.get("a").unwrap().state, Phase::Idle);
        assert_eq!(live.get("b"), None);
    }

    #[test]
    fn the_map_is_bounded_and_drops_the_oldest() {
        let live = LiveStates::with_capacity(2);
        let t = |n| datetime!(2026-01-01 10:00:00 UTC) + time::Duration::seconds(n);
        live.apply("a", at(t(1), Phase::Live));
        live.apply("b", at(t(3), Phase::Live));
        live.apply("c", at(t(2), Phase::Live));
        assert_eq!(live.len(), 2);
        assert_eq!(live.get("a"), None, "the oldest went");
        assert!(live.get("b").is_some() && live.get("c").is_some());
        live.remove("b");
        assert_eq!(live.len(), 1);
    }

    #[test]
    fn hints() {
        assert!(hint_for("ERR_GOP_OUT_OF_RANGE", "x").contains("keyframe"));
        assert_eq!(hint_for("ERR_NEW", "Cloudflare says"), "Cloudflare says");
        assert!(hint_for("ERR_NEW", "").contains("encoder"));
    }
}
