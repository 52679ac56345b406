//! WHIP ingest and WHEP playback (RFC 9725 / Cloudflare's `webRTC` and `webRTCPlayback` URLs),
//! served by the emulator itself when it runs real video:
//!
//! * `POST /{secret}/webRTC/publish` (`application/sdp` offer) → `201` + SDP answer + `Location`
//!   (`/webRTC/sessions/{id}`): the input connects (`live_input.connected`, `lifecycle` live,
//!   `status.current.ingestProtocol = "webrtc"`), never recorded and never served over HLS/DASH
//!   (Cloudflare's rule). A wrong or rotated secret is `401`, a disabled input `403`, an input
//!   with a publisher already (WHIP, RTMP or SRT) `409`, more than
//!   [`WebRtcLimits::max_broadcasts`] `503`.
//! * `POST /{input uid}/webRTC/play` → `201` + answer + `Location`: a viewer of the input's WHIP
//!   broadcast (admitted as every delivery request, `delivery::admit`: an input with
//!   `requireSignedURLs` refuses its uid, `401`, and plays only through a valid signed token in
//!   its place — an assumption: Cloudflare documents tokens in place of the uid for delivery URLs,
//!   not for WHEP) (an RTMP/SRT broadcast cannot be played over WHEP: `409`; nothing live: `409`;
//!   unknown input: `404`; over [`WebRtcLimits::max_viewers_per_broadcast`]: `503`).
//! * `DELETE /webRTC/sessions/{id}` → `200` ends the session (a publisher's end is the
//!   broadcast's: `live_input.disconnected`); unknown `404`.
//!
//! Errors are the v4 envelope. Disabling, deleting or rotating the input ends a WHIP broadcast
//! (`State::end_broadcast` calls its `Stopper`), which ends its viewers too.
//!
//! [`WebRtcLimits::max_broadcasts`]: crate::media::webrtc::WebRtcLimits
//! [`WebRtcLimits::max_viewers_per_broadcast`]: crate::media::webrtc::WebRtcLimits

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::Router;
use subtle::ConstantTimeEq;

use super::envelope::envelope_error;
use super::ids::{new_uid, secret_for};
use super::service::{Service, Urls};
use crate::client::{LiveInput, WebRtc as WebRtcUrl, WebRtcPlayback};
use crate::media::rtmp::{PublishEnd, Stopper};
use crate::media::webrtc::{self, OfferError, Room};

type S = State<Arc<Service>>;

const SESSIONS: &str = "/webRTC/sessions";

/// Points an input's WHIP/WHEP URLs at `urls` (after a restart on another address), keeping
/// the publish secret; an input saved without them gets them (a fresh secret).
pub(super) fn repoint(input: &mut LiveInput, urls: &Urls) {
    if !urls.webrtc {
        input.web_rtc = None;
        input.web_rtc_playback = None;
        return;
    }
    let secret = input
        .web_rtc
        .as_ref()
        .and_then(|w| w.url.rsplit('/').nth(2).map(str::to_string))
        .unwrap_or_else(|| secret_for(&input.uid));
    input.web_rtc = Some(WebRtcUrl {
        url: format!("{}/{secret}/webRTC/publish", urls.delivery),
    });
    input.web_rtc_playback = Some(WebRtcPlayback {
        url: format!("{}/{}/webRTC/play", urls.delivery, input.uid),
    });
}

pub(crate) fn router() -> Router<Arc<Service>> {
    Router::new()
        .route("/{secret}/webRTC/publish", post(whip).options(preflight))
        .route("/{uid}/webRTC/play", post(whep).options(preflight))
        .route(
            &format!("{SESSIONS}/{{id}}"),
            delete(end_session).options(preflight),
        )
}

/// Pages on other origins (the app's host and watch pages) POST offers and DELETE sessions.
fn cors(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Location"),
    );
    r
}

async fn preflight() -> Response {
    cors(
        (
            StatusCode::NO_CONTENT,
            [
                (
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    "POST, DELETE, OPTIONS",
                ),
                (header::ACCESS_CONTROL_ALLOW_HEADERS, "Content-Type"),
                (header::ACCESS_CONTROL_MAX_AGE, "600"),
            ],
        )
            .into_response(),
    )
}

fn error(status: StatusCode, code: i64, message: impl Into<String>) -> Response {
    cors(envelope_error(status, code, message))
}

fn offer_error(e: OfferError) -> Response {
    match e {
        OfferError::Socket(e) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            10503,
            format!("cannot open a UDP socket for the session: {e}"),
        ),
        e => error(StatusCode::BAD_REQUEST, 10400, e.to_string()),
    }
}

/// The offer body, when the request is `application/sdp`.
fn sdp_offer(headers: &HeaderMap, body: &Bytes) -> Result<String, Response> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ctype
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/sdp"))
    {
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            10415,
            "the body must be an SDP offer (Content-Type: application/sdp)",
        ));
    }
    String::from_utf8(body.to_vec())
        .map_err(|_| error(StatusCode::BAD_REQUEST, 10400, "the offer is not UTF-8"))
}

fn created(id: &str, answer: String) -> Response {
    cors(
        (
            StatusCode::CREATED,
            [
                (header::CONTENT_TYPE, "application/sdp".to_string()),
                (header::LOCATION, format!("{SESSIONS}/{id}")),
            ],
            answer,
        )
            .into_response(),
    )
}

fn over_broadcasts(rtc: &crate::media::webrtc::Hub) -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        10503,
        format!(
            "this emulator takes at most {} WebRTC broadcasts at once",
            rtc.config.limits.max_broadcasts
        ),
    )
}

fn unavailable() -> Response {
    error(
        StatusCode::NOT_FOUND,
        10404,
        "WebRTC is served only by an emulator running real video (--rtmp-listen with ffmpeg)",
    )
}

async fn whip(
    State(s): S,
    Path(secret): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(rtc) = &s.webrtc else {
        return unavailable();
    };
    let offer = match sdp_offer(&headers, &body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    // Secrets end in `k<input uid>`; the whole URL secret is compared in constant time.
    let uid = secret
        .rsplit_once('k')
        .map(|(_, u)| u.to_string())
        .unwrap_or_default();
    let want = format!("{}/{secret}/webRTC/publish", s.delivery_base_url());
    {
        let st = s.lock();
        let known = st.inputs.get(&uid).filter(|i| {
            i.input
                .web_rtc
                .as_ref()
                .is_some_and(|w| bool::from(w.url.as_bytes().ct_eq(want.as_bytes())))
        });
        let Some(i) = known else {
            return error(
                StatusCode::UNAUTHORIZED,
                10401,
                "unknown or rotated WebRTC publish URL",
            );
        };
        if !i.input.enabled {
            return error(
                StatusCode::FORBIDDEN,
                10403,
                format!("live input {uid} is disabled (enabled=false) and refuses publishers"),
            );
        }
        if i.publisher.is_some() || i.input.status.is_connected() {
            return error(
                StatusCode::CONFLICT,
                10409,
                format!("live input {uid} already has a publisher"),
            );
        }
    }
    if rtc.broadcasts() >= rtc.config.limits.max_broadcasts {
        return over_broadcasts(rtc);
    }
    let room = Room::new();
    let (stopper, stop) = Stopper::new();
    let started = match webrtc::publish(&rtc.config, &offer, room.clone(), stop) {
        Ok(s) => s,
        Err(e) => return offer_error(e),
    };
    let id = s.next_publish.fetch_add(1, Ordering::Relaxed);
    let session = new_uid();
    let events = {
        let mut st = s.lock();
        // Both checked again under the locks (state, then rooms): publishes accepted meanwhile
        // count too.
        let mut rooms = rtc.rooms.lock().unwrap_or_else(|p| p.into_inner());
        if rooms.len() >= rtc.config.limits.max_broadcasts {
            stopper.stop();
            return over_broadcasts(rtc);
        }
        let free = st
            .inputs
            .get(&uid)
            .is_some_and(|i| i.publisher.is_none() && i.input.enabled);
        let connected = if free {
            st.connect_unrecorded(&uid).ok()
        } else {
            None
        };
        let Some(n) = connected else {
            stopper.stop();
            return error(
                StatusCode::CONFLICT,
                10409,
                format!("live input {uid} already has a publisher"),
            );
        };
        rooms.insert(uid.clone(), room.clone());
        drop(rooms);
        st.set_ingest_protocol(&uid, "webrtc");
        if let Some(i) = st.inputs.get_mut(&uid) {
            i.publisher = Some((id, stopper.clone()));
        }
        rtc.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(session.clone(), stopper);
        vec![n]
    };
    tracing::info!(input = %uid, "WHIP publish accepted");
    s.notify_in_order(events);
    let me = s.me.clone();
    let (task, sid) = (started.task, session.clone());
    tokio::spawn(async move {
        let how = task
            .await
            .unwrap_or(PublishEnd::Broken("session task failed".into()));
        let Some(s) = me.upgrade() else { return };
        s.end_whip(&uid, id, &sid, &room, how);
    });
    created(&session, started.answer)
}

impl Service {
    /// A WHIP publish is over: its room, its session and (unless something else ended it
    /// already) its broadcast.
    fn end_whip(&self, uid: &str, id: u64, session: &str, room: &Arc<Room>, how: PublishEnd) {
        tracing::info!(input = %uid, ?how, "WHIP publish ended");
        if let Some(rtc) = &self.webrtc {
            let mut rooms = rtc.rooms.lock().unwrap_or_else(|p| p.into_inner());
            if rooms.get(uid).is_some_and(|r| Arc::ptr_eq(r, room)) {
                rooms.remove(uid);
            }
            drop(rooms);
            rtc.sessions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(session);
        }
        room.end();
        let mut events = vec![];
        {
            let mut st = self.lock();
            let current = st
                .inputs
                .get(uid)
                .is_some_and(|s| s.publisher.as_ref().map(|(i, _)| *i) == Some(id));
            if current {
                let error = match &how {
                    PublishEnd::Broken(why) => {
                        tracing::warn!(input = %uid, %why, "WHIP publisher connection broke");
                        Some(crate::notifications::LiveInputError::from_code(
                            crate::notifications::LiveInputErrorCode::Unhealthy,
                        ))
                    }
                    _ => None,
                };
                let reason = if error.is_some() {
                    "failed_to_connect"
                } else {
                    "client_disconnect"
                };
                events.push(st.end_broadcast(uid, reason, error));
            }
        }
        self.notify_in_order(events);
    }
}

async fn whep(
    State(s): S,
    Path(id): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(rtc) = &s.webrtc else {
        return unavailable();
    };
    // Admitted as every delivery request: a uid, or a signed token in its place (an input with
    // `requireSignedURLs` plays only through a valid token).
    let uid = match super::delivery::admit(&s, &id, &headers, peer.ip()) {
        Ok(uid) => uid,
        Err(refused) => return cors(refused),
    };
    let offer = match sdp_offer(&headers, &body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let live = match s.lock().inputs.get(&uid) {
        None => {
            return error(
                StatusCode::NOT_FOUND,
                10404,
                format!("live input {uid} not found"),
            )
        }
        Some(i) => i.input.status.is_connected(),
    };
    let room = rtc
        .rooms
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&uid)
        .cloned();
    let Some(room) = room else {
        let why = if live {
            "is broadcasting over RTMP/SRT, which plays over HLS/DASH, not WebRTC"
        } else {
            "is not broadcasting"
        };
        return error(
            StatusCode::CONFLICT,
            10409,
            format!("live input {uid} {why}"),
        );
    };
    let (stopper, stop) = Stopper::new();
    let started = match webrtc::play(&rtc.config, &offer, room, stop) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                10503,
                format!(
                    "this broadcast has its {} WebRTC viewers already",
                    rtc.config.limits.max_viewers_per_broadcast
                ),
            )
        }
        Err(e) => return offer_error(e),
    };
    let session = new_uid();
    rtc.sessions
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(session.clone(), stopper);
    let me = s.me.clone();
    let (task, sid) = (started.task, session.clone());
    tokio::spawn(async move {
        let how = task.await;
        tracing::debug!(input = %uid, ?how, "WHEP viewer ended");
        if let Some(rtc) = me.upgrade().as_ref().and_then(|s| s.webrtc.as_ref()) {
            rtc.sessions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&sid);
        }
    });
    created(&session, started.answer)
}

async fn end_session(State(s): S, Path(id): Path<String>) -> Response {
    let stopper = s.webrtc.as_ref().and_then(|rtc| {
        rtc.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id)
    });
    match stopper {
        Some(stopper) => {
            stopper.stop();
            cors(StatusCode::OK.into_response())
        }
        None => error(
            StatusCode::NOT_FOUND,
            10404,
            "no such WebRTC session (already ended?)",
        ),
    }
}
