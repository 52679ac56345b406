//! WebRTC media of the Stream emulator: a one-room SFU per broadcast, on `str0m` (sans-IO).
//!
//! ```text
//! browser / aiortc ──WHIP offer──► publish(): Rtc (recv) ─ frames ─► Room ─► play(): Rtc (send) ──► WHEP viewer
//!                                        ▲ keyframe requests (PLI) ◄───┘ on a viewer's join / loss
//! ```
//!
//! Each session (publisher or viewer) is one [`Rtc`] with its own UDP socket on the configured
//! address (one host candidate, no TURN) driven by one task ([`session`]). The publisher's
//! depacketized frames go to every viewer through a bounded broadcast channel (a viewer that
//! falls behind skips ahead and asks for a keyframe); nothing is transcoded. Codecs are
//! Cloudflare's for WebRTC: H.264 (constrained baseline), VP8, VP9 video and Opus audio.
//! Which publishes and viewers are admitted is decided by the emulator (`emulator/webrtc.rs`);
//! this module never calls into it.

mod session;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use str0m::change::SdpOffer;
use str0m::format::PayloadParams;
use str0m::media::{MediaKind, MediaTime};
use str0m::{Candidate, Rtc};
use tokio::sync::{broadcast, mpsc, watch};

use super::rtmp::{PublishEnd, Stopper};

/// What one process's WebRTC side may hold: broadcasts (WHIP publishers) at once, viewers
/// (WHEP sessions) per broadcast, and how long a session may take to connect (ICE + DTLS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebRtcLimits {
    pub max_broadcasts: usize,
    pub max_viewers_per_broadcast: usize,
    pub connect_deadline: Duration,
}

impl Default for WebRtcLimits {
    fn default() -> Self {
        WebRtcLimits {
            max_broadcasts: 16,
            max_viewers_per_broadcast: 100,
            connect_deadline: Duration::from_secs(15),
        }
    }
}

/// Where sessions listen (their one host candidate) and what they may hold.
#[derive(Debug, Clone)]
pub struct WebRtcConfig {
    pub ip: IpAddr,
    pub limits: WebRtcLimits,
}

/// Why an offer was not taken.
#[derive(Debug, thiserror::Error)]
pub enum OfferError {
    #[error("the body is not an SDP offer: {0}")]
    Malformed(String),
    #[error("the offer has no {0} this endpoint accepts (H.264, VP8, VP9 video; Opus audio)")]
    NoMedia(&'static str),
    #[error("the offer could not be accepted: {0}")]
    Refused(String),
    #[error("cannot open a UDP socket for the session: {0}")]
    Socket(#[from] std::io::Error),
}

/// One depacketized frame of the publisher, as every viewer writes it.
#[derive(Debug)]
pub(crate) struct Frame {
    kind: MediaKind,
    params: PayloadParams,
    time: MediaTime,
    network_time: Instant,
    data: Arc<[u8]>,
    keyframe: bool,
}

/// One broadcast's fan-out: the publisher's frames to its viewers, their keyframe requests back.
pub struct Room {
    frames: broadcast::Sender<Arc<Frame>>,
    keyframes: mpsc::UnboundedSender<()>,
    keyframe_rx: std::sync::Mutex<Option<mpsc::UnboundedReceiver<()>>>,
    viewers: AtomicUsize,
    ended: watch::Sender<bool>,
}

impl Room {
    pub fn new() -> Arc<Room> {
        // ~2 s of 30 fps video plus its audio: a viewer further behind skips ahead.
        let (frames, _) = broadcast::channel(256);
        let (keyframes, rx) = mpsc::unbounded_channel();
        Arc::new(Room {
            frames,
            keyframes,
            keyframe_rx: std::sync::Mutex::new(Some(rx)),
            viewers: AtomicUsize::new(0),
            ended: watch::channel(false).0,
        })
    }

    /// Viewers playing now.
    pub fn viewers(&self) -> usize {
        self.viewers.load(Ordering::SeqCst)
    }

    /// The publish is over: every viewer's session ends.
    pub fn end(&self) {
        let _ = self.ended.send(true);
    }
}

/// A started session: the SDP answer, and the task that ends with the session.
pub struct Started {
    pub answer: String,
    pub task: tokio::task::JoinHandle<PublishEnd>,
}

fn rtc_for(config: &WebRtcConfig) -> Result<(Rtc, std::net::UdpSocket), OfferError> {
    let socket = std::net::UdpSocket::bind(SocketAddr::new(config.ip, 0))?;
    socket.set_nonblocking(true)?;
    let mut rtc = Rtc::builder()
        .set_crypto_provider(Arc::new(str0m::crypto::from_feature_flags()))
        .clear_codecs()
        .enable_h264(true)
        .enable_vp8(true)
        .enable_vp9(true)
        .enable_opus(true, false)
        .build(Instant::now());
    let candidate = Candidate::host(socket.local_addr()?, "udp")
        .map_err(|e| OfferError::Refused(e.to_string()))?;
    rtc.add_local_candidate(candidate)
        .ok_or_else(|| OfferError::Refused("the host candidate was not taken".into()))?;
    Ok((rtc, socket))
}

fn parse_offer(sdp: &str) -> Result<SdpOffer, OfferError> {
    if !sdp.trim_start().starts_with("v=0") {
        return Err(OfferError::Malformed("it does not start with v=0".into()));
    }
    // Browsers hide their host addresses behind mDNS names (`….local`), which this side cannot
    // resolve: those candidates are dropped, and the browser's address is learned from its
    // connectivity checks (peer-reflexive) instead.
    let sdp: String = sdp
        .split_inclusive('\n')
        .filter(|l| !(l.starts_with("a=candidate:") && l.contains(".local ")))
        .collect();
    SdpOffer::from_sdp_string(&sdp).map_err(|e| OfferError::Malformed(e.to_string()))
}

/// Whether an answer accepted at least one m-line of `kind` (a rejected one has port 0).
fn accepted(answer: &str, kind: &str) -> bool {
    answer
        .lines()
        .any(|l| l.starts_with(&format!("m={kind} ")) && !l.starts_with(&format!("m={kind} 0 ")))
}

/// Takes a WHIP offer for `room`: the session receives the publisher's media and hands it to
/// the room's viewers until it ends by itself (the publisher left: [`PublishEnd::Left`]; it
/// never connected or its connection broke: [`PublishEnd::Broken`]) or `stop` turns true
/// ([`PublishEnd::Dropped`]). The room ends with it.
pub fn publish(
    config: &WebRtcConfig,
    offer: &str,
    room: Arc<Room>,
    stop: watch::Receiver<bool>,
) -> Result<Started, OfferError> {
    let offer = parse_offer(offer)?;
    let (mut rtc, socket) = rtc_for(config)?;
    let answer = rtc
        .sdp_api()
        .accept_offer(offer)
        .map_err(|e| OfferError::Refused(e.to_string()))?
        .to_sdp_string();
    if !accepted(&answer, "video") {
        return Err(OfferError::NoMedia("video"));
    }
    let keyframes = room
        .keyframe_rx
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .ok_or_else(|| OfferError::Refused("this broadcast already has a publisher".into()))?;
    let socket = tokio::net::UdpSocket::from_std(socket)?;
    let deadline = config.limits.connect_deadline;
    let task = tokio::spawn(async move {
        let how = session::run(
            rtc,
            socket,
            session::Role::Publisher {
                room: room.clone(),
                keyframes,
            },
            stop,
            deadline,
        )
        .await;
        room.end();
        how
    });
    Ok(Started { answer, task })
}

/// Takes a WHEP offer for `room`: the session sends the publisher's media until the viewer
/// leaves, the room ends or `stop` turns true. `None` when the room has its viewers already.
pub fn play(
    config: &WebRtcConfig,
    offer: &str,
    room: Arc<Room>,
    stop: watch::Receiver<bool>,
) -> Result<Option<Started>, OfferError> {
    let offer = parse_offer(offer)?;
    let (mut rtc, socket) = rtc_for(config)?;
    let answer = rtc
        .sdp_api()
        .accept_offer(offer)
        .map_err(|e| OfferError::Refused(e.to_string()))?
        .to_sdp_string();
    if !accepted(&answer, "video") && !accepted(&answer, "audio") {
        return Err(OfferError::NoMedia("video or audio"));
    }
    // Counted in before the task starts, so the limit holds for offers arriving together.
    let max = config.limits.max_viewers_per_broadcast;
    if room
        .viewers
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < max).then_some(n + 1)
        })
        .is_err()
    {
        return Ok(None);
    }
    let socket = tokio::net::UdpSocket::from_std(socket)?;
    let deadline = config.limits.connect_deadline;
    let frames = room.frames.subscribe();
    let ended = room.ended.subscribe();
    let task = tokio::spawn(async move {
        let how = session::run(
            rtc,
            socket,
            session::Role::Viewer {
                frames,
                keyframes: room.keyframes.clone(),
                ended,
            },
            stop,
            deadline,
        )
        .await;
        room.viewers.fetch_sub(1, Ordering::SeqCst);
        how
    });
    Ok(Some(Started { answer, task }))
}

/// The WebRTC side of one emulator: its config, its broadcasts and sessions (which ones are
/// admitted is the emulator's to decide).
pub struct Hub {
    pub config: WebRtcConfig,
    /// Input uid → its WHIP broadcast.
    pub(crate) rooms: Mutex<HashMap<String, Arc<Room>>>,
    /// Session id (the `Location`) → how to end it.
    pub(crate) sessions: Mutex<HashMap<String, Stopper>>,
}

impl Hub {
    pub fn new(config: WebRtcConfig) -> Hub {
        Hub {
            config,
            rooms: Mutex::default(),
            sessions: Mutex::default(),
        }
    }

    /// WHIP broadcasts running now.
    pub fn broadcasts(&self) -> usize {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// WHEP viewers of `input`'s broadcast now.
    pub fn viewers(&self, input: &str) -> usize {
        self.rooms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(input)
            .map_or(0, |r| r.viewers())
    }
}
