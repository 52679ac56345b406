//! Public delivery routes (what `customer-<code>.cloudflarestream.com` serves). A broadcast
//! published over RTMP is served from its recording directory (real fMP4 HLS); a broadcast
//! started through the control API has no media, and gets a placeholder manifest. Each media
//! request for an id that exists counts its client's address as a viewer (`viewers.rs`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::player;
use super::route::Route;
use super::service::Service;
use crate::media::{files, MediaFile};

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
) -> Response {
    if MediaFile::parse(&file).is_none() {
        return not_found();
    }
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

async fn manifest(s: &Service, route: Route, id: &str, dash: bool) -> Response {
    if let Some(r) = s.enter(route).await {
        return r;
    }
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

async fn hls(State(s): S, Path(id): Path<String>) -> Response {
    manifest(&s, Route::ManifestHls, &id, false).await
}

async fn dash(State(s): S, Path(id): Path<String>) -> Response {
    manifest(&s, Route::ManifestDash, &id, true).await
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

async fn iframe(State(s): S, Path(id): Path<String>) -> Response {
    if let Some(r) = s.enter(Route::Iframe).await {
        return r;
    }
    if resolve(&s, &id).is_none() {
        return not_found();
    }
    player::page(&id)
}

/// A video's `thumbnail`: a frame of its recording as JPEG (made once by ffmpeg, then served
/// from the video's directory); 404 for anything without recorded media.
async fn thumbnail(State(s): S, Path(id): Path<String>) -> Response {
    if let Some(r) = s.enter(Route::Thumbnail).await {
        return r;
    }
    let (Some(media), Some(video)) = (&s.media, media_video(&s, &id)) else {
        return not_found();
    };
    match media.thumbnail(&video).await {
        Some(jpeg) => media_response("image/jpeg", jpeg),
        None => not_found(),
    }
}
