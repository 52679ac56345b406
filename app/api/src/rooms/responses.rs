//! Response bodies. The original contract's keys (`SessionID`, `IngestURL`, `StreamKey`,
//! `playback.hls`, `playback.dash`) are kept exactly; everything else is camelCase.
use roomcast_chain::view::status_name;
use roomcast_chain::{Pubkey, Room};
use roomcast_stream::client::PlaybackUrls;
use serde::Serialize;

/// Public fields of a room: never a secret.
#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomFields {
    pub room: String,
    pub registry: String,
    pub session_id: String,
    pub title: String,
    pub host: String,
    /// `created`, `live` or `ended`.
    #[schema(value_type = String)]
    pub status: &'static str,
    pub ingest_url: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub live_at: Option<i64>,
    pub ended_at: Option<i64>,
}

impl RoomFields {
    pub fn new(address: &Pubkey, room: &Room) -> Self {
        RoomFields {
            room: address.to_string(),
            registry: room.registry.to_string(),
            session_id: room.session_id.clone(),
            title: room.title.clone(),
            host: room.host.to_string(),
            status: status_name(room.status),
            ingest_url: room.ingest_url.clone(),
            created_at: room.created_at,
            updated_at: room.updated_at,
            live_at: room.live_at,
            ended_at: room.ended_at,
        }
    }
}

/// RTMPS, SRT and WebRTC (WHIP) publish details: for the host only.
#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngestDetails {
    pub rtmps: RtmpsIngest,
    pub srt: Option<SrtIngest>,
    pub webrtc: Option<WebRtcIngest>,
}

#[derive(Serialize, Clone, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RtmpsIngest {
    pub url: String,
    pub stream_key: String,
}

#[derive(Serialize, Clone, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SrtIngest {
    pub url: String,
    pub stream_id: String,
    pub passphrase: String,
}

#[derive(Serialize, Clone, utoipa::ToSchema)]
pub struct WebRtcIngest {
    pub url: String,
}

/// `POST /api/create` → 201.
#[derive(Serialize, Clone, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateResponse {
    #[serde(rename = "SessionID")]
    pub session_id_legacy: String,
    #[serde(rename = "IngestURL")]
    pub ingest_url_legacy: String,
    #[serde(rename = "StreamKey")]
    pub stream_key: String,
    #[serde(flatten)]
    pub fields: RoomFields,
    pub ingest: IngestDetails,
    #[schema(value_type = PlaybackUrlsDoc)]
    pub playback: PlaybackUrls,
    /// Signature of the create_room transaction (`null` in the rare case a confirmation was lost but
    /// the room was found on-chain).
    pub signature: Option<String>,
    /// Present with the embedded Stream emulator without ffmpeg: the ingest URL cannot take
    /// video (says how to install it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

/// `GET /api/livestream` and `GET /api/rooms/{room}`.
#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LivestreamResponse {
    #[serde(rename = "SessionID")]
    pub session_id_legacy: String,
    #[serde(flatten)]
    pub fields: RoomFields,
    /// Whether an encoder is broadcasting right now (`null` when Cloudflare could not say).
    pub broadcasting: Option<bool>,
    /// The encoder's last reported state (with Cloudflare's error and a fix for the host), once
    /// Cloudflare has notified one.
    #[schema(value_type = Option<crate::core::broadcast::Broadcast>)]
    pub broadcast: Option<crate::core::broadcast::Broadcast>,
    /// Absent for a gated room: its playback URLs are signed per viewer
    /// (`POST /api/rooms/{room}/playback`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<PlaybackUrlsDoc>)]
    pub playback: Option<PlaybackUrls>,
    /// Present for a gated room only: what a viewer must hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateView>,
    /// Tips viewers sent the host (read back from the chain).
    pub tips: crate::live::tips::TipTotals,
    /// How to watch the live broadcast now (`null` when nothing is live): WebRTC (WHEP) for a
    /// broadcast published over WebRTC (WHIP), HLS for RTMP/SRT (Cloudflare plays each only so).
    pub live_playback: Option<LivePlayback>,
}

/// `livePlayback`: the one way a live broadcast plays.
#[derive(Serialize, Clone, Debug, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LivePlayback {
    /// `webrtc` (POST an SDP offer to `url`, WHEP) or `hls` (an HLS manifest).
    pub protocol: String,
    pub url: String,
}

impl LivePlayback {
    /// From the encoder's last reported state and the room's playback URLs.
    pub fn of(
        broadcast: Option<&crate::core::broadcast::Broadcast>,
        urls: &PlaybackUrls,
    ) -> Option<Self> {
        use crate::core::broadcast::{Phase, Protocol};
        let b = broadcast.filter(|b| b.state == Phase::Live)?;
        Some(match b.protocol {
            Some(Protocol::Webrtc) => LivePlayback {
                protocol: "webrtc".into(),
                url: urls.webrtc.clone(),
            },
            _ => LivePlayback {
                protocol: "hls".into(),
                url: urls.hls.clone(),
            },
        })
    }
}

/// A room's token gate as the API shows it.
#[derive(Serialize, Clone, Debug, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GateView {
    /// The mint (SPL Token or Token-2022) a viewer must hold.
    pub mint: String,
    /// Least raw amount (base units, as a decimal string like the RPC's `amount`).
    pub min_amount: String,
    pub decimals: u8,
    /// The mint's token program.
    pub token_program: String,
}

impl GateView {
    pub fn new(gate: &roomcast_chain::Gate) -> Self {
        GateView {
            mint: gate.mint.to_string(),
            min_amount: gate.min_amount.to_string(),
            decimals: gate.decimals,
            token_program: gate.token_program.to_string(),
        }
    }
}

/// Signed playback URLs for a gated room (`POST /api/rooms/{room}/playback`).
#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedPlayback {
    pub hls: String,
    pub dash: String,
    pub iframe: String,
    /// WHEP playback (POST an SDP offer): what a broadcast published over WebRTC (WHIP) plays
    /// through, the token in place of the uid as in the others (every live input has WHEP
    /// playback, Cloudflare's and the emulator's).
    pub webrtc: String,
}

/// `POST /api/rooms/{room}/playback` → 200.
#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlaybackGrant {
    pub room: String,
    #[serde(rename = "SessionID")]
    pub session_id_legacy: String,
    pub playback: SignedPlayback,
    /// Unix seconds after which the URLs stop playing (`null` for an ungated room: they never do).
    pub expires_at: Option<i64>,
    /// The gate that was checked (`null` for an ungated room).
    pub gate: Option<GateView>,
    /// Raw amount the wallet holds (unfrozen accounts), `null` when not checked (ungated room, the
    /// host, the operator).
    pub held: Option<String>,
}

/// `PATCH`/`end` responses: the room after the change and the transaction that changed it.
#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomChangeResponse {
    #[serde(rename = "SessionID")]
    pub session_id_legacy: String,
    #[serde(flatten)]
    pub fields: RoomFields,
    pub signature: String,
    /// For `end`: whether the live input was disabled at Cloudflare (the reconciler retries if not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_input_disabled: Option<bool>,
}

/// `POST /api/rooms/{room}/rotate-key` → the new publish credentials.
#[derive(Serialize, Clone, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotateKeyResponse {
    #[serde(rename = "SessionID")]
    pub session_id_legacy: String,
    #[serde(rename = "IngestURL")]
    pub ingest_url_legacy: String,
    #[serde(rename = "StreamKey")]
    pub stream_key: String,
    pub room: String,
    pub ingest: IngestDetails,
}

/// Shown instead of a stream key, SRT passphrase or WHIP URL in `Debug` output (logs, panics).
const REDACTED: &str = "[redacted]";

impl std::fmt::Debug for RtmpsIngest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtmpsIngest")
            .field("url", &self.url)
            .field("stream_key", &REDACTED)
            .finish()
    }
}

impl std::fmt::Debug for SrtIngest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtIngest")
            .field("url", &self.url)
            .field("stream_id", &self.stream_id)
            .field("passphrase", &REDACTED)
            .finish()
    }
}

impl std::fmt::Debug for WebRtcIngest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The WHIP URL itself is the credential.
        f.debug_struct("WebRtcIngest")
            .field("url", &REDACTED)
            .finish()
    }
}

impl std::fmt::Debug for CreateResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateResponse")
            .field("session_id", &self.session_id_legacy)
            .field("ingest_url", &self.ingest_url_legacy)
            .field("stream_key", &REDACTED)
            .field("fields", &self.fields)
            .field("ingest", &self.ingest)
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for RotateKeyResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotateKeyResponse")
            .field("session_id", &self.session_id_legacy)
            .field("ingest_url", &self.ingest_url_legacy)
            .field("stream_key", &REDACTED)
            .field("room", &self.room)
            .field("ingest", &self.ingest)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_publish_credentials() {
        let ingest = IngestDetails {
            rtmps: RtmpsIngest {
                url: "rtmps://live.cloudflare.com:443/live/".into(),
                stream_key: "SECRET-STREAM-KEY".into(),
            },
            srt: Some(SrtIngest {
                url: "srt://live.cloudflare.com:778".into(),
                stream_id: "uid".into(),
                passphrase: "SECRET-PASSPHRASE".into(),
            }),
            webrtc: Some(WebRtcIngest {
                url: "https://customer-x.cloudflarestream.com/SECRET-WHIP/webRTC/publish".into(),
            }),
        };
        let rotate = RotateKeyResponse {
            session_id_legacy: "uid".into(),
            ingest_url_legacy: "rtmps://live.cloudflare.com:443/live/".into(),
            stream_key: "SECRET-STREAM-KEY".into(),
            room: "room".into(),
            ingest,
        };
        let text = format!("{rotate:?} {rotate:#?}");
        assert!(!text.contains("SECRET"), "{text}");
        assert!(text.contains("[redacted]") && text.contains("rtmps://live.cloudflare.com"));
    }
}

/// HLS, DASH, player iframe and WebRTC (WHEP) playback URLs, derived from the session id.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PlaybackUrlsDoc {
    pub hls: String,
    pub dash: String,
    pub iframe: String,
    pub webrtc: String,
}

#[cfg(test)]
mod live_playback_tests {
    use super::*;
    use crate::core::broadcast::{Broadcast, Phase, Protocol};

    fn urls() -> PlaybackUrls {
        PlaybackUrls {
            hls: "https://d/x/manifest/video.m3u8".into(),
            dash: "https://d/x/manifest/video.mpd".into(),
            iframe: "https://d/x/iframe".into(),
            webrtc: "https://d/x/webRTC/play".into(),
        }
    }

    fn b(state: Phase, protocol: Option<Protocol>) -> Broadcast {
        Broadcast {
            state,
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
            error: None,
            protocol,
        }
    }

    #[test]
    fn webrtc_broadcasts_play_over_whep_others_over_hls_idle_not_at_all() {
        let u = urls();
        let of = |x: Option<Broadcast>| LivePlayback::of(x.as_ref(), &u);
        let whep = LivePlayback {
            protocol: "webrtc".into(),
            url: u.webrtc.clone(),
        };
        let hls = LivePlayback {
            protocol: "hls".into(),
            url: u.hls.clone(),
        };
        assert_eq!(of(Some(b(Phase::Live, Some(Protocol::Webrtc)))), Some(whep));
        assert_eq!(
            of(Some(b(Phase::Live, Some(Protocol::Rtmp)))),
            Some(hls.clone())
        );
        assert_eq!(
            of(Some(b(Phase::Live, Some(Protocol::Srt)))),
            Some(hls.clone())
        );
        assert_eq!(of(Some(b(Phase::Live, None))), Some(hls));
        assert_eq!(of(Some(b(Phase::Idle, Some(Protocol::Webrtc)))), None);
        assert_eq!(of(Some(b(Phase::Errored, None))), None);
        assert_eq!(of(None), None);
    }
}
