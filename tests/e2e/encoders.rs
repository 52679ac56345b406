//! Issue 19, item 2 through the whole path: every RTMP client a host would use (ffmpeg's native
//! client, librtmp as in OBS, GStreamer's `rtmp2sink`), publishing what OBS sends by default
//! (H.264 high with B-frames + AAC), to a room created through the API of the built `roomcast
//! serve`: the room turns Live on-chain, its HLS decodes with ffprobe with exactly those tracks,
//! `/watch/{room}` plays in headless Chromium, and ending the room through the API drops the
//! encoder. One server and one browser for all three; the encoders publish side by side.
use crate::support;

use std::process::Command;
use std::time::{Duration, Instant};

use roomcast_chain::{Keypair, RoomStatus};
use serde_json::Value;
use support::browser::Chromium;
use support::encoder::{Encoder, Publisher, AUDIO_RATE, HEIGHT, WIDTH};
use support::{Auth, Server, EVENTUALLY};

/// Generous bound for video to start (encoder start-up, first segments, player start-up) on a
/// busy machine; never a pass criterion.
const VIDEO_BOUND: Duration = Duration::from_secs(90);

/// One broadcast: its room and the encoder publishing to it.
struct Cast {
    room: String,
    uid: String,
    hls: String,
    publisher: Publisher,
}

/// Polls `f` until it answers, failing early with the encoder's log if the encoder quit.
async fn until<T, F, Fut>(what: &str, publisher: &mut Publisher, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + VIDEO_BOUND;
    loop {
        publisher.assert_running();
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{:?}: no {what} after {VIDEO_BOUND:?}; {}",
            publisher.encoder,
            publisher.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn get(url: &str) -> (u16, Vec<u8>) {
    match reqwest::get(url).await {
        Ok(r) => {
            let status = r.status().as_u16();
            (
                status,
                r.bytes().await.map(|b| b.to_vec()).unwrap_or_default(),
            )
        }
        Err(_) => (0, vec![]),
    }
}

/// ffprobe on `init.mp4` + one segment: the streams, and every frame decoded without an error.
/// Returns (streams, video frames, B-frames, audio frames).
fn ffprobe(file: &std::path::Path) -> (Vec<Value>, usize, usize, usize) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_streams", "-of", "json"])
        .arg(file)
        .output()
        .expect("ffprobe runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let streams = json["streams"].as_array().cloned().unwrap_or_default();
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "frame=media_type,pict_type"])
        .args(["-of", "csv=p=0"])
        .arg(file)
        .output()
        .expect("ffprobe runs");
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && errors.trim().is_empty(),
        "decoding: {errors}"
    );
    let frames = String::from_utf8(out.stdout).unwrap();
    let count = |p: &dyn Fn(&str) -> bool| frames.lines().filter(|l| p(l)).count();
    (
        streams,
        count(&|l| l.starts_with("video")),
        count(&|l| l.starts_with("video") && l.ends_with(",B")),
        count(&|l| l.starts_with("audio")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_encoder_goes_live_through_the_api_decodes_plays_in_a_browser_and_ends() {
    let server = Server::start(&[]);
    let api = server.api();
    let ingest = server
        .rtmp_ingest
        .clone()
        .expect("video ingest is on (is ffmpeg installed?)");
    let host = Keypair::new();

    // A room per encoder, created through the API; each encoder pushes to its room's URL + key.
    let mut casts = Vec::new();
    for encoder in Encoder::ALL {
        let c = api
            .create_as_host(&host, &format!("{encoder:?} show"))
            .await;
        assert_eq!(c.str("IngestURL"), ingest);
        let publisher = Publisher::start(encoder, &format!("{ingest}{}", c.str("StreamKey")));
        casts.push(Cast {
            room: c.str("room"),
            uid: c.str("SessionID"),
            hls: c.json["playback"]["hls"].as_str().unwrap().to_string(),
            publisher,
        });
    }

    let browser = Chromium::launch().await;
    for cast in &mut casts {
        let encoder = cast.publisher.encoder;
        let address = server.room_address(&cast.uid);

        // Live on-chain, from the encoder's real connect.
        let chain = server.chain_reader();
        until("Live room on-chain", &mut cast.publisher, || {
            let chain = &chain;
            async move {
                let r = chain.room(&address).await.ok()??;
                (r.status == RoomStatus::Live).then_some(())
            }
        })
        .await;

        // The room's HLS: a live fMP4 playlist whose init + first segment decode with exactly
        // the published tracks.
        let hls = cast.hls.clone();
        let segment = until("playlist with a segment", &mut cast.publisher, || {
            let hls = hls.clone();
            async move {
                let (status, body) = get(&hls).await;
                let text = String::from_utf8(body).ok()?;
                if status != 200 {
                    return None;
                }
                assert!(text.contains("#EXT-X-MAP:URI=\"init.mp4\""), "{text}");
                Some(text.lines().find(|l| l.starts_with("seg"))?.to_string())
            }
        })
        .await;
        let base = hls.trim_end_matches("video.m3u8");
        let (s, init) = get(&format!("{base}init.mp4")).await;
        assert_eq!(s, 200, "{encoder:?}");
        let (s, seg) = get(&format!("{base}{segment}")).await;
        assert_eq!(s, 200, "{encoder:?}");
        let file = support::scratch_dir("encoders").join(format!("{encoder:?}.mp4"));
        std::fs::write(&file, [init, seg].concat()).unwrap();
        let (streams, video_frames, b_frames, audio_frames) = ffprobe(&file);
        let of = |kind: &str| -> Vec<&Value> {
            streams.iter().filter(|s| s["codec_type"] == kind).collect()
        };
        let (video, audio) = (of("video"), of("audio"));
        assert_eq!(
            (video.len(), audio.len()),
            (1, 1),
            "{encoder:?}: {streams:?}"
        );
        assert_eq!(video[0]["codec_name"], "h264", "{encoder:?}");
        assert_eq!(video[0]["profile"], "High", "{encoder:?}");
        assert_eq!(
            (video[0]["width"].as_u64(), video[0]["height"].as_u64()),
            (Some(WIDTH as u64), Some(HEIGHT as u64)),
            "{encoder:?}"
        );
        assert!(
            video_frames >= 15,
            "{encoder:?}: {video_frames} video frames"
        );
        assert!(b_frames > 0, "{encoder:?}: no B-frame in the segment");
        assert_eq!(audio[0]["codec_name"], "aac", "{encoder:?}");
        assert_eq!(
            audio[0]["sample_rate"],
            AUDIO_RATE.to_string(),
            "{encoder:?}"
        );
        assert!(audio_frames > 0, "{encoder:?}: no audio frame");

        // The watch page plays it (the visible tab: background tabs do not play muted video).
        let tab = browser
            .open(&format!("{}/watch/{}", server.base, cast.room))
            .await;
        tab.bring_to_front().await;
        let state = "[document.body.dataset.state, document.getElementById('player').currentTime]";
        tab.wait_for_with(
            &format!("{encoder:?}: the watch page plays"),
            "document.body.dataset.state === 'live' && document.getElementById('player').currentTime > 0",
            state,
            VIDEO_BOUND,
        )
        .await;
        let t0: f64 = tab
            .eval("document.getElementById('player').currentTime")
            .await;
        tab.wait_for_with(
            &format!("{encoder:?}: the video advances"),
            &format!("document.getElementById('player').currentTime > {t0} + 2"),
            state,
            VIDEO_BOUND,
        )
        .await;
        cast.publisher.assert_running();

        // Ending through the API drops the encoder; the room is Ended on-chain.
        api.call(
            "POST",
            &format!("/api/rooms/{}/end", cast.room),
            None,
            Auth::Host(&host),
        )
        .await
        .assert_status(200);
        assert!(
            cast.publisher.dropped(EVENTUALLY).await,
            "{encoder:?} is still publishing after the room ended"
        );
        let ended = chain.room(&address).await.unwrap().unwrap();
        assert_eq!(ended.status, RoomStatus::Ended, "{encoder:?}");
        tab.wait_for(
            &format!("{encoder:?}: the watch page says ended"),
            "document.body.dataset.state === 'ended'",
            EVENTUALLY,
        )
        .await;
        tab.page().clone().close().await.unwrap();
    }
    browser.close().await;
}
