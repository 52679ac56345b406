//! Public delivery routes (what `customer-<code>.cloudflarestream.com` serves). A broadcast
//! published over RTMP is served from its recording directory (real fMP4 HLS); a broadcast
//! started through the control API has no media, and gets a placeholder manifest. Each media
//! request for an id that exists counts its client's address as a viewer (`viewers.rs`).
//!
//! Signed URLs ([`admit`]): an input with `recording.requireSignedURLs` (and its recordings) is
//! served only through a token in place of its uid (`crate::signed_urls`); unsigned, tampered,
//! expired, not-yet-valid and revoked-key tokens get 401, an access rule's block 403, and an
//! `Origin` outside `recording.allowedOrigins` 403. `lifecycle` and `views` stay public.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::ConnectInfo;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::player;
use super::route::Route;
use super::service::Service;
use crate::media::{files, MediaFile};
use crate::signed_urls::{self, TokenError};

type S = State<Arc<Service>>;

pub(crate) fn router() -> Router<Arc<Service>> {
    Router::new()
        .route("/{id}/manifest/video.m3u8", get(hls))
        .route("/{id}/manifest/video.mpd", get(dash))
        .route("/{id}/manifest/{file}", get(media_file))
        .route(player::HLS_JS_PATH, get(player::hls_js))
        .route("/{id}/lifecycle", get(lifecycle))
        .route("/{id}/views", get(views))
        .route("/{id}/iframe", get(iframe))
        // A video's `preview` URL: the same player page.
        .route("/{id}/watch", get(iframe))
        .route("/{id}/thumbnails/thumbnail.jpg", get(thumbnail))
}

/// Players run on other origins.
const CORS: (header::HeaderName, &str) = (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, [CORS], "Not Found\n").into_response()
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, [CORS], "Unauthorized\n").into_response()
}

fn forbidden() -> Response {
    (StatusCode::FORBIDDEN, [CORS], "Forbidden\n").into_response()
}

/// The input whose `recording` settings govern `id` (an input, or a video recorded from one).
fn governing_input(s: &Service, id: &str) -> Option<crate::client::Recording> {
    let st = s.lock();
    if let Some(i) = st.inputs.get(id) {
        return Some(i.input.recording.clone());
    }
    let input = st.video(id)?.live_input.clone()?;
    st.inputs.get(&input).map(|i| i.input.recording.clone())
}

/// `origin` (scheme://host[:port]) is allowed by `allowed` (Cloudflare's rules: `*.example.com`
/// matches subdomains but not the apex, a bare host only itself, `host:port` that port).
fn origin_allowed(allowed: &[String], origin: &str) -> bool {
    let host = origin.split_once("://").map_or(origin, |(_, h)| h);
    let host = host.split('/').next().unwrap_or(host);
    let bare = host.rsplit_once(':').map_or(host, |(h, _)| h);
    allowed.iter().any(|rule| {
        if let Some(domain) = rule.strip_prefix("*.") {
            bare.ends_with(&format!(".{domain}"))
        } else {
            rule == host || (!rule.contains(':') && rule == bare && !host.contains(':'))
        }
    })
}

/// Admits a delivery request for `id` (a uid, or a signed token in its place): the uid it plays.
pub(crate) fn admit(
    s: &Service,
    id: &str,
    headers: &HeaderMap,
    client: IpAddr,
) -> Result<String, Response> {
    let uid = if signed_urls::is_token(id) {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let verified = {
            let st = s.lock();
            signed_urls::verify(id, now, client, |kid| {
                st.signing_keys.get(kid).map(|k| k.public.clone())
            })
        };
        match verified {
            Ok(claims) => claims.sub,
            Err(TokenError::Blocked) => return Err(forbidden()),
            Err(_) => return Err(unauthorized()),
        }
    } else {
        let signed = governing_input(s, id).is_some_and(|r| r.require_signed_urls == Some(true));
        if signed {
            return Err(unauthorized());
        }
        id.to_string()
    };
    let allowed = governing_input(s, &uid)
        .and_then(|r| r.allowed_origins)
        .unwrap_or_default();
    let origin = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    if let (false, Some(origin)) = (allowed.is_empty(), origin) {
        if !origin_allowed(&allowed, origin) {
            return Err(forbidden());
        }
    }
    Ok(uid)
}

/// What a delivery id resolves to.
enum Target {
    /// An input: whether an encoder is connected, and the video it records, if any.
    Input { live: bool, video: Option<String> },
    /// Video uid and whether it is live.
    Video(bool),
}

fn resolve(s: &Service, id: &str) -> Option<Target> {
    let st = s.lock();
    if let Some(i) = st.inputs.get(id) {
        return Some(Target::Input {
            live: i.input.status.is_connected(),
            video: i.live_video.clone(),
        });
    }
    st.video(id)
        .map(|v| Target::Video(v.status.state == "live-inprogress"))
}

/// The video whose media `id` serves: an input's current broadcast, or a video itself.
fn media_video(s: &Service, id: &str) -> Option<String> {
    match resolve(s, id)? {
        Target::Input { video, .. } => video,
        Target::Video(_) => Some(id.to_string()),
    }
}

/// Media changes under the player: never cached; players run on other origins.
fn media_response(ctype: &'static str, body: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(ctype)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        body,
    )
        .into_response()
}

/// Real HLS of an RTMP broadcast: `Some` when `video` has a media directory.
async fn real_manifest(s: &Service, video: &str) -> Option<Response> {
    let media = s.media.as_ref()?;
    media.dir(video)?;
    Some(match media.read(video, files::PLAYLIST).await {
        Some((kind, body)) => media_response(kind.content_type(), body),
        // Published, but ffmpeg has not written the first segment yet.
        None => (
            StatusCode::NO_CONTENT,
            [CORS, (header::CACHE_CONTROL, "no-cache")],
        )
            .into_response(),
    })
}

async fn media_file(
    State(s): S,
    Path((id, file)): Path<(String, String)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if MediaFile::parse(&file).is_none() {
        return not_found();
    }
    let id = match admit(&s, &id, &headers, peer.ip()) {
        Ok(uid) => uid,
        Err(refused) => return refused,
    };
    // Only an id that exists counts a viewer (random ids would each add an entry), and by the
    // client's address: a User-Agent is free to rotate.
    if resolve(&s, &id).is_none() {
        return not_found();
    }
    s.watchers.seen(&id, peer.ip());
    let Some(video) = media_video(&s, &id) else {
        return not_found();
    };
    let Some(media) = s.media.as_ref() else {
        return not_found();
    };
    match media.read(&video, &file).await {
        Some((kind, body)) => media_response(kind.content_type(), body),
        None => not_found(),
    }
}

fn hls_manifest(live: bool) -> String {
    let mut m = String::from(
        "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n\
         #EXT-X-STREAM-INF:RESOLUTION=1280x720,CODECS=\"avc1.4d401f,mp4a.40.2\",BANDWIDTH=3000000,FRAME-RATE=30.000\n\
         stream_t720p/video.m3u8\n\
         #EXT-X-STREAM-INF:RESOLUTION=640x360,CODECS=\"avc1.4d401e,mp4a.40.2\",BANDWIDTH=900000,FRAME-RATE=30.000\n\
         stream_t360p/video.m3u8\n",
    );
    if !live {
        m.push_str("#EXT-X-ENDLIST\n");
    }
    m
}

fn dash_manifest(live: bool) -> String {
    let kind = if live { "dynamic" } else { "static" };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"{kind}\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" minBufferTime=\"PT4S\">\n\
         <Period id=\"0\"><AdaptationSet mimeType=\"video/mp4\" segmentAlignment=\"true\">\
         <Representation id=\"720p\" codecs=\"avc1.4d401f\" bandwidth=\"3000000\" width=\"1280\" height=\"720\"/>\
         </AdaptationSet></Period>\n</MPD>\n"
    )
}

async fn manifest(
    s: &Service,
    route: Route,
    dash: bool,
    admitted: Result<String, Response>,
) -> Response {
    if let Some(r) = s.enter(route).await {
        return r;
    }
    let id = match admitted {
        Ok(uid) => uid,
        Err(refused) => return refused,
    };
    let id = id.as_str();
    let live = match resolve(s, id) {
        None => return not_found(),
        // By input uid: 204 with an empty body while nothing is live or recorded (nothing to play).
        Some(Target::Input { video: None, .. }) => {
            return (StatusCode::NO_CONTENT, [CORS]).into_response()
        }
        Some(Target::Input { video: Some(_), .. }) => true,
        Some(Target::Video(live)) => live,
    };
    // DASH stays a placeholder (see README: dash.js did not play ffmpeg's live DASH).
    if !dash {
        if let Some(video) = media_video(s, id) {
            if let Some(r) = real_manifest(s, &video).await {
                return r;
            }
        }
    }
    let (ctype, body) = if dash {
        ("application/dash+xml", dash_manifest(live))
    } else {
        ("application/vnd.apple.mpegurl", hls_manifest(live))
    };
    (StatusCode::OK, [(header::CONTENT_TYPE, ctype), CORS], body).into_response()
}

async fn hls(
    State(s): S,
    Path(id): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let admitted = admit(&s, &id, &headers, peer.ip());
    manifest(&s, Route::ManifestHls, false, admitted).await
}

async fn dash(
    State(s): S,
    Path(id): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let admitted = admit(&s, &id, &headers, peer.ip());
    manifest(&s, Route::ManifestDash, true, admitted).await
}

/// `live` is whether an encoder is connected to the input, recorded or not; `videoUID` is the
/// video being recorded, `null` when none is (`recording.mode = "off"`: "the input will not be
/// recorded or available for playback", Cloudflare docs stream-live/start-stream-live, so there is
/// no video to name). Shapes as documented in stream-live/watch-live-stream:
/// `{"isInput":true,"videoUID":"…","live":true}`, `{"isInput":true,"videoUID":null,"live":false}`
/// (the project's verified notes: `cloudflare-stream.md` §2 recording modes, §7 lifecycle).
async fn lifecycle(State(s): S, Path(id): Path<String>) -> Response {
    if let Some(r) = s.enter(Route::Lifecycle).await {
        return r;
    }
    let body = match resolve(&s, &id) {
        None => return not_found(),
        Some(Target::Input { live, video }) => {
            json!({"isInput": true, "live": live, "videoUID": video})
        }
        Some(Target::Video(live)) => json!({"isInput": false, "videoUID": id, "live": live}),
    };
    ([CORS], Json(body)).into_response()
}

async fn views(State(s): S, Path(id): Path<String>) -> Response {
    if let Some(r) = s.enter(Route::Views).await {
        return r;
    }
    // The count the control API set (tests of the API's caching), plus real players.
    let n = s
        .lock()
        .inputs
        .get(&id)
        .map(|i| i.views + s.watchers.count(&id));
    match n {
        Some(n) => ([CORS], Json(json!({"liveViewers": n}))).into_response(),
        None => not_found(),
    }
}

async fn iframe(
    State(s): S,
    Path(id): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = s.enter(Route::Iframe).await {
        return r;
    }
    let uid = match admit(&s, &id, &headers, peer.ip()) {
        Ok(uid) => uid,
        Err(refused) => return refused,
    };
    if resolve(&s, &uid).is_none() {
        return not_found();
    }
    // The page plays what its path names: the token, when it came with one.
    player::page(&id)
}

/// A video's `thumbnail`: a frame of its recording as JPEG (made once by ffmpeg, then served
/// from the video's directory); 404 for anything without recorded media.
async fn thumbnail(
    State(s): S,
    Path(id): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = s.enter(Route::Thumbnail).await {
        return r;
    }
    let id = match admit(&s, &id, &headers, peer.ip()) {
        Ok(uid) => uid,
        Err(refused) => return refused,
    };
    let (Some(media), Some(video)) = (&s.media, media_video(&s, &id)) else {
        return not_found();
    };
    match media.thumbnail(&video).await {
        Some(jpeg) => media_response("image/jpeg", jpeg),
        None => not_found(),
    }
}
