//! Real encoders against the emulator's RTMP ingest, in-process (the style of `media.rs`):
//! ffmpeg's native RTMP client, librtmp (GStreamer `rtmpsink`; OBS's RTMP output is a librtmp
//! fork) and GStreamer's own RTMP client (`rtmp2sink`), each publishing H.264 baseline + 48 kHz
//! AAC, H.264 high with B-frames + 44.1 kHz AAC, and video without an audio track. Every
//! publish must be accepted, turn the input live, produce a live fMP4 HLS playlist whose
//! segments ffprobe decodes with exactly the published tracks (codec, profile, resolution,
//! B-frames, audio rate or no audio), and be dropped when the input is disabled. The same over
//! SRT (ffmpeg + libsrt, MPEG-TS, the input's stream id and passphrase), whose wrong credentials
//! are refused before anything happens. Then OBS-style reconnects with the same key.
//!
//! Needs `ffmpeg`, `ffprobe` and `gst-launch-1.0` with the good/bad/ugly/libav plugins on PATH
//! (scripts/test.sh installs them). Nothing waits for a fixed time: every wait polls a
//! condition under a generous bound.
mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use roomcast_stream::client::{CreateLiveInput, LiveInput, Recording, StreamClient};
use roomcast_stream::emulator::{
    Emulator, EmulatorHandle, EmulatorOptions, VideoIngest, WebhookTarget,
};
use secrecy::SecretString;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Bound of every wait (encoders share a busy CI machine); never a pass criterion.
const BOUND: Duration = Duration::from_secs(90);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoder {
    /// ffmpeg's own RTMP client (libavformat/rtmpproto.c).
    Ffmpeg,
    /// librtmp through GStreamer's `rtmpsink`.
    Librtmp,
    /// GStreamer's own RTMP client, `rtmp2sink`.
    Rtmp2,
    /// ffmpeg's SRT output (libsrt), MPEG-TS.
    FfmpegSrt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Video {
    /// H.264 constrained baseline, no B-frames (x264 `tune=zerolatency`).
    Baseline,
    /// H.264 high, two B-frames (x264 `bframes=2`, what OBS sends by default).
    HighBFrames,
}

#[derive(Debug, Clone, Copy)]
struct Case {
    encoder: Encoder,
    video: Video,
    /// AAC sample rate, or no audio track at all.
    audio: Option<u32>,
    width: u32,
    height: u32,
}

/// The encoder's command line for publishing `case` to `url` (runs until killed or dropped).
fn encoder_command(case: Case, url: &str) -> Command {
    let Case {
        encoder,
        video,
        audio,
        width,
        height,
    } = case;
    match encoder {
        Encoder::Ffmpeg | Encoder::FfmpegSrt => {
            let mut c = Command::new("ffmpeg");
            c.args(["-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi"])
                .arg("-i")
                .arg(format!("testsrc=size={width}x{height}:rate=30"));
            if let Some(rate) = audio {
                c.args(["-re", "-f", "lavfi", "-i"])
                    .arg(format!("sine=frequency=440:sample_rate={rate}"));
            }
            c.args([
                "-t", "600", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "30",
            ]);
            c.args(["-preset", "veryfast"]);
            match video {
                Video::Baseline => c.args(["-profile:v", "baseline", "-tune", "zerolatency"]),
                Video::HighBFrames => c.args([
                    "-profile:v",
                    "high",
                    "-bf",
                    "2",
                    "-x264-params",
                    "b-adapt=0:rc-lookahead=10",
                ]),
            };
            match audio {
                Some(_) => c.args(["-c:a", "aac", "-b:a", "64k"]),
                None => c.arg("-an"),
            };
            match encoder {
                Encoder::FfmpegSrt => c.args(["-f", "mpegts", url]),
                _ => c.args(["-f", "flv", url]),
            };
            c
        }
        Encoder::Librtmp | Encoder::Rtmp2 => {
            let mut c = Command::new("gst-launch-1.0");
            c.arg("-q")
                .args(["videotestsrc", "is-live=true", "!"])
                .arg(format!(
                    "video/x-raw,format=I420,width={width},height={height},framerate=30/1"
                ))
                .args(["!", "x264enc", "key-int-max=30", "speed-preset=veryfast"]);
            match video {
                Video::Baseline => c.args([
                    "tune=zerolatency",
                    "bframes=0",
                    "!",
                    "video/x-h264,profile=baseline",
                ]),
                Video::HighBFrames => c.args([
                    "bframes=2",
                    "b-adapt=false",
                    "rc-lookahead=10",
                    "!",
                    "video/x-h264,profile=high",
                ]),
            };
            c.args(["!", "h264parse", "!", "queue", "!"]).args([
                "flvmux",
                "name=m",
                "streamable=true",
                "!",
            ]);
            match encoder {
                // librtmp's URL syntax: options follow the URL, space-separated.
                Encoder::Librtmp => c.arg("rtmpsink").arg(format!("location={url} live=1")),
                _ => c.arg("rtmp2sink").arg(format!("location={url}")),
            };
            if let Some(rate) = audio {
                c.args(["audiotestsrc", "is-live=true", "!", "audioconvert", "!"])
                    .args(["audioresample", "!"])
                    .arg(format!("audio/x-raw,rate={rate},channels=2"))
                    .args(["!", "avenc_aac", "!", "aacparse", "!", "queue", "!", "m."]);
            }
            c
        }
    }
}

/// A running encoder, killed and reaped when the test ends; its stderr goes to a file that a
/// failing assertion prints.
struct Publisher {
    child: Child,
    log: tempfile::NamedTempFile,
    what: String,
}

impl Publisher {
    fn start(case: Case, url: &str) -> Publisher {
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut cmd = encoder_command(case, url);
        let what = format!("{case:?}");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("{:?} runs: {e}", cmd.get_program()));
        Publisher { child, log, what }
    }

    fn exited(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    fn log(&self) -> String {
        let text = std::fs::read_to_string(self.log.path()).unwrap_or_default();
        format!("{}: {}", self.what, text.trim())
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn video_emulator() -> (EmulatorHandle, String) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let mut opts = EmulatorOptions::new(ACCOUNT, SecretString::from(TOKEN.to_string()));
    opts.rtmp_listen = Some("127.0.0.1:0".parse().unwrap());
    opts.srt_listen = Some("127.0.0.1:0".parse().unwrap());
    let emu = Emulator::start(opts).await.expect("emulator starts");
    let VideoIngest::On { rtmp_url } = emu.video_ingest().clone() else {
        panic!(
            "video ingest must be on (ffmpeg on PATH?): {:?}",
            emu.video_ingest()
        )
    };
    (emu, rtmp_url)
}

/// An automatically recorded input: (uid, stream key).
async fn input(client: &StreamClient) -> (String, String) {
    let input = recorded_input(client).await;
    (input.uid, input.rtmps.unwrap().stream_key)
}

async fn recorded_input(client: &StreamClient) -> LiveInput {
    client
        .create_live_input(&CreateLiveInput {
            recording: Some(Recording::automatic()),
            ..Default::default()
        })
        .await
        .unwrap()
}

/// What an SRT encoder is given: `srt.url` with the input's stream id and passphrase.
fn srt_publish_url(input: &LiveInput) -> String {
    let srt = input
        .srt
        .as_ref()
        .expect("a local emulator with SRT lists `srt`");
    format!(
        "{}?streamid={}&passphrase={}",
        srt.url, srt.stream_id, srt.passphrase
    )
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

/// Waits until `uid` is live with a video other than `not`, failing early if the encoder quit.
async fn live_video(
    client: &StreamClient,
    uid: &str,
    publisher: &mut Publisher,
    not: Option<&str>,
) -> String {
    until("the input to be live", BOUND, || {
        let exited = publisher.exited();
        let log = exited.then(|| publisher.log());
        let c = client.clone();
        let uid = uid.to_string();
        let not = not.map(str::to_string);
        async move {
            assert!(log.is_none(), "the encoder quit: {}", log.unwrap());
            let l = c.lifecycle(&uid).await.ok().filter(|l| l.live)?;
            let v = l.video_uid?;
            (Some(&v) != not.as_ref()).then_some(v)
        }
    })
    .await
}

/// Waits for a playlist at `base/{id}/manifest/video.m3u8` with two segments; returns the
/// second's name (a whole GOP: the first starts wherever the publish's first keyframe reached
/// the recorder, and over SRT may hold a fraction of a second).
async fn full_segment(base: &str, id: &str, publisher: &mut Publisher) -> String {
    until("a live playlist with two segments", BOUND, || {
        let exited = publisher.exited();
        let log = exited.then(|| publisher.log());
        let url = format!("{base}/{id}/manifest/video.m3u8");
        async move {
            assert!(log.is_none(), "the encoder quit: {}", log.unwrap());
            let (s, body) = get(&url).await;
            let text = String::from_utf8(body).ok()?;
            if s != 200 {
                return None;
            }
            assert!(text.contains("#EXT-X-MAP:URI=\"init.mp4\""), "{text}");
            let seg = text.lines().filter(|l| l.starts_with("seg")).nth(1)?;
            Some(seg.to_string())
        }
    })
    .await
}

/// What ffprobe finds in `init.mp4` + one segment.
#[derive(Debug)]
struct Probed {
    streams: Vec<Value>,
    video_frames: usize,
    b_frames: usize,
    audio_frames: usize,
}

fn ffprobe(file: &Path) -> Probed {
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
    // Decoding every frame: errors would show on stderr.
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
    Probed {
        streams,
        video_frames: count(&|l| l.starts_with("video")),
        b_frames: count(&|l| l.starts_with("video") && l.ends_with(",B")),
        audio_frames: count(&|l| l.starts_with("audio")),
    }
}

/// Fetches init + `segment` of `id` and checks the tracks are exactly `case`'s.
async fn assert_tracks(base: &str, id: &str, segment: &str, case: Case) {
    let (s, init) = get(&format!("{base}/{id}/manifest/init.mp4")).await;
    assert_eq!(s, 200);
    let (s, seg) = get(&format!("{base}/{id}/manifest/{segment}")).await;
    assert_eq!(s, 200);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), [init, seg].concat()).unwrap();
    let p = ffprobe(file.path());
    let of = |kind: &str| -> Vec<&Value> {
        p.streams
            .iter()
            .filter(|s| s["codec_type"] == kind)
            .collect()
    };
    let (video, audio) = (of("video"), of("audio"));
    assert_eq!(video.len(), 1, "{case:?}: {p:?}");
    let v = video[0];
    assert_eq!(v["codec_name"], "h264", "{case:?}");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(case.width as u64), Some(case.height as u64)),
        "{case:?}"
    );
    let profile = v["profile"].as_str().unwrap_or_default();
    match case.video {
        Video::Baseline => {
            assert!(profile.contains("Baseline"), "{case:?}: {profile}");
            assert_eq!(p.b_frames, 0, "{case:?}");
        }
        Video::HighBFrames => {
            assert_eq!(profile, "High", "{case:?}");
            assert!(p.b_frames > 0, "{case:?}: B-frames in the segment: {p:?}");
        }
    }
    assert!(p.video_frames >= 15, "{case:?}: {p:?}");
    match case.audio {
        Some(rate) => {
            assert_eq!(audio.len(), 1, "{case:?}: {p:?}");
            assert_eq!(audio[0]["codec_name"], "aac", "{case:?}");
            assert_eq!(audio[0]["sample_rate"], rate.to_string(), "{case:?}");
            assert!(p.audio_frames > 0, "{case:?}: {p:?}");
        }
        None => {
            assert!(audio.is_empty(), "{case:?}: {p:?}");
            assert_eq!(p.audio_frames, 0, "{case:?}");
        }
    }
}

/// One cell of the matrix: publish → live → HLS with exactly these tracks → disable drops it.
async fn encoder_case(case: Case) {
    let (emu, rtmp_url) = video_emulator().await;
    let client = client(&emu);
    let base = emu.delivery_base_url();
    let input = recorded_input(&client).await;
    let uid = input.uid.clone();
    let url = match case.encoder {
        Encoder::FfmpegSrt => srt_publish_url(&input),
        _ => format!("{rtmp_url}{}", input.rtmps.as_ref().unwrap().stream_key),
    };
    let mut publisher = Publisher::start(case, &url);

    let video_uid = live_video(&client, &uid, &mut publisher, None).await;
    let segment = full_segment(&base, &uid, &mut publisher).await;
    assert_tracks(&base, &uid, &segment, case).await;
    // The live video's own URL serves the same broadcast.
    assert_eq!(
        get(&format!("{base}/{video_uid}/manifest/video.m3u8"))
            .await
            .0,
        200
    );

    client.set_enabled(&uid, false).await.unwrap();
    until("the encoder to be dropped", BOUND, || {
        let gone = publisher.exited();
        async move { gone.then_some(()) }
    })
    .await;
    assert!(!client.lifecycle(&uid).await.unwrap().live);
    emu.shutdown().await;
}

const W: u32 = 320;
const H: u32 = 240;

fn case(encoder: Encoder, video: Video, audio: Option<u32>) -> Case {
    // A resolution per video setting, so a mixed-up stream cannot pass.
    let (width, height) = match video {
        Video::Baseline => (W, H),
        Video::HighBFrames => (256, 144),
    };
    Case {
        encoder,
        video,
        audio,
        width,
        height,
    }
}

macro_rules! matrix {
    ($($name:ident: $enc:ident, $video:ident, $audio:expr;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            encoder_case(case(Encoder::$enc, Video::$video, $audio)).await;
        }
    )*};
}

matrix! {
    ffmpeg_baseline_aac_48k: Ffmpeg, Baseline, Some(48_000);
    ffmpeg_high_bframes_aac_44k1: Ffmpeg, HighBFrames, Some(44_100);
    ffmpeg_video_only: Ffmpeg, Baseline, None;
    librtmp_baseline_aac_48k: Librtmp, Baseline, Some(48_000);
    librtmp_high_bframes_aac_44k1: Librtmp, HighBFrames, Some(44_100);
    librtmp_video_only: Librtmp, Baseline, None;
    rtmp2_baseline_aac_48k: Rtmp2, Baseline, Some(48_000);
    rtmp2_high_bframes_aac_44k1: Rtmp2, HighBFrames, Some(44_100);
    rtmp2_video_only: Rtmp2, HighBFrames, None;
    srt_baseline_aac_48k: FfmpegSrt, Baseline, Some(48_000);
    srt_high_bframes_aac_44k1: FfmpegSrt, HighBFrames, Some(44_100);
    srt_video_only: FfmpegSrt, Baseline, None;
}

/// Every URL a local emulator hands out points at itself or is absent: `srt.url` is its own SRT
/// listener (one port for every input, Cloudflare's shape: the stream id is the input's uid),
/// WHIP/WHEP are its own (issue 23; the WHIP URL embeds the key), the pull-playback credentials
/// (which only Cloudflare serves) are left out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_emulator_names_its_own_srt_listener_and_leaves_out_what_it_cannot_serve() {
    let (emu, rtmp_url) = video_emulator().await;
    let client = client(&emu);
    let srt_url = emu.srt_url().expect("SRT listens").to_string();
    assert!(srt_url.starts_with("srt://127.0.0.1:"), "{srt_url}");
    let input = recorded_input(&client).await;
    assert_eq!(input.rtmps.as_ref().unwrap().url, rtmp_url);
    let srt = input.srt.clone().unwrap();
    assert_eq!(
        (srt.url.as_str(), srt.stream_id.as_str()),
        (srt_url.as_str(), input.uid.as_str())
    );
    assert!(srt.passphrase.ends_with(&format!("k{}", input.uid)));
    let whip = input.web_rtc.clone().expect("WHIP is served locally").url;
    let whep = input.web_rtc_playback.clone().expect("WHEP too").url;
    assert!(
        whip.starts_with("http://127.0.0.1:") && whip.ends_with("/webRTC/publish"),
        "{whip}"
    );
    assert_eq!(
        whep,
        format!(
            "{}/{}/webRTC/play",
            whip.split('/').take(3).collect::<Vec<_>>().join("/"),
            input.uid
        )
    );
    assert!(input.rtmps_playback.is_none() && input.srt_playback.is_none());
    // Read back the same, and rotated keys keep it local.
    assert_eq!(client.get_live_input(&input.uid).await.unwrap(), input);
    let rotated = client.rotate_keys(&input.uid).await.unwrap();
    assert_eq!(rotated.srt.as_ref().unwrap().url, srt_url);
    assert_ne!(rotated.srt.unwrap().passphrase, srt.passphrase);
    assert_ne!(
        rotated.web_rtc.unwrap().url,
        whip,
        "a new key, a new WHIP URL"
    );
    emu.shutdown().await;
}

/// Tries an SRT publish that must be refused: the encoder fails to connect, and nothing
/// happens on the input (no notification, not live, no new video).
async fn assert_srt_refused(
    client: &StreamClient,
    sink: &WebhookSink,
    uid: &str,
    url: &str,
    why: &str,
) {
    let videos = || async {
        let v = client.live_input_videos(uid).await.unwrap();
        v.into_iter().map(|v| v.uid).collect::<Vec<_>>()
    };
    let events_before = events(sink);
    let videos_before = videos().await;
    let mut publisher = Publisher::start(case(Encoder::FfmpegSrt, Video::Baseline, None), url);
    let status = until("the refused encoder to give up", BOUND, || {
        let status = publisher.child.try_wait().unwrap();
        async move { status }
    })
    .await;
    assert!(!status.success(), "{why}: {}", publisher.log());
    assert!(!client.lifecycle(uid).await.unwrap().live, "{why}");
    assert_eq!(videos().await, videos_before, "{why}");
    assert_eq!(events(sink), events_before, "{why}");
}

/// SRT admits a caller only with an enabled input's stream id and that input's passphrase:
/// a wrong passphrase, an unknown stream id, a disabled input or a rotated-away passphrase is
/// refused in the handshake, with no event and nothing recorded. With the right ones the
/// publish goes live, and rotating the keys drops it (its passphrase is stale).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn srt_refuses_wrong_credentials_and_rotating_drops_the_publisher() {
    let (emu, _) = video_emulator().await;
    let client = client(&emu);
    let sink = webhook_sink().await;
    emu.set_webhook(Some(WebhookTarget {
        url: sink.url.clone(),
        secret: None,
    }));
    let input = recorded_input(&client).await;
    let uid = input.uid.clone();
    let srt = input.srt.clone().unwrap();
    let with = |stream_id: &str, passphrase: &str| {
        format!("{}?streamid={stream_id}&passphrase={passphrase}", srt.url)
    };
    assert_srt_refused(
        &client,
        &sink,
        &uid,
        &with(&uid, "wrong-passphrase-0123"),
        "wrong passphrase",
    )
    .await;
    let other = recorded_input(&client).await;
    assert_srt_refused(
        &client,
        &sink,
        &uid,
        &with(&uid, &other.srt.unwrap().passphrase),
        "another input's passphrase",
    )
    .await;
    assert_srt_refused(
        &client,
        &sink,
        &uid,
        &with("0123456789abcdef0123456789abcdef", &srt.passphrase),
        "unknown stream id",
    )
    .await;
    client.set_enabled(&uid, false).await.unwrap();
    assert_srt_refused(
        &client,
        &sink,
        &uid,
        &srt_publish_url(&input),
        "disabled input",
    )
    .await;
    client.set_enabled(&uid, true).await.unwrap();

    // The access-control form of the stream id works too.
    let case = case(Encoder::FfmpegSrt, Video::Baseline, None);
    let acl = format!(
        "{}?streamid=#!::r={uid},m=publish&passphrase={}",
        srt.url, srt.passphrase
    );
    let mut publisher = Publisher::start(case, &acl);
    live_video(&client, &uid, &mut publisher, None).await;
    let rotated = client.rotate_keys(&uid).await.unwrap();
    until("the stale publisher to be dropped", BOUND, || {
        let gone = publisher.exited();
        async move { gone.then_some(()) }
    })
    .await;
    assert!(!client.lifecycle(&uid).await.unwrap().live);
    // The old passphrase no longer works; the new one does. (First the dropped publish's
    // notifications arrive and its recording settles: kept as ready, or gone when nothing
    // playable was recorded.)
    until("connected, disconnected", BOUND, || {
        let n = events(&sink).len();
        async move { (n >= 2).then_some(()) }
    })
    .await;
    until("the dropped publish's recording to settle", BOUND, || {
        let c = client.clone();
        let uid = uid.clone();
        async move {
            let videos = c.live_input_videos(&uid).await.ok()?;
            videos
                .iter()
                .all(|v| v.status.state == "ready")
                .then_some(())
        }
    })
    .await;
    assert_srt_refused(
        &client,
        &sink,
        &uid,
        &srt_publish_url(&input),
        "rotated-away passphrase",
    )
    .await;
    let mut publisher = Publisher::start(case, &srt_publish_url(&rotated));
    live_video(&client, &uid, &mut publisher, None).await;
    emu.shutdown().await;
}

/// A TCP relay whose path can die like a network does: on `cut`, the encoder's side is closed
/// and the server's side goes silent (held open, nothing sent, no FIN or RST), so the server
/// only learns of it from its own read timeout.
async fn dying_path(target: SocketAddr) -> (SocketAddr, watch::Sender<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (cut, cut_rx) = watch::channel(false);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(upstream) = TcpStream::connect(target).await else {
                continue;
            };
            let mut cut = cut_rx.clone();
            tokio::spawn(async move {
                let (mut cr, mut cw) = client.into_split();
                let (mut ur, mut uw) = upstream.into_split();
                tokio::select! {
                    _ = tokio::io::copy(&mut cr, &mut uw) => return,
                    _ = tokio::io::copy(&mut ur, &mut cw) => return,
                    _ = cut.wait_for(|c| *c) => {}
                }
                drop((cr, cw));
                let _silent = (ur, uw);
                std::future::pending::<()>().await;
            });
        }
    });
    (addr, cut)
}

fn events(sink: &WebhookSink) -> Vec<String> {
    sink.received
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.body["data"]["event_type"].as_str().unwrap().to_string())
        .collect()
}

/// OBS after a drop: the encoder comes back with the same key within seconds, while the
/// emulator may still hold the old connection (a dead network path: no FIN, no RST) or still
/// be finishing its recording (an encoder killed outright). The new publish is accepted at
/// once and takes over; every connection is its own recording (the emulator does not merge
/// reconnects into one video whatever `recording.timeoutSeconds` says), and the input's live
/// playlist URL serves the newest broadcast.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_that_drops_and_comes_back_with_the_same_key_is_live_again() {
    let (emu, rtmp_url) = video_emulator().await;
    let sink = webhook_sink().await;
    emu.set_webhook(Some(WebhookTarget {
        url: sink.url.clone(),
        secret: None,
    }));
    let client = client(&emu);
    let base = emu.delivery_base_url();
    let (uid, key) = input(&client).await;
    let c = case(Encoder::Ffmpeg, Video::Baseline, Some(48_000));
    let rtmp_addr: SocketAddr = rtmp_url
        .trim_start_matches("rtmp://")
        .trim_end_matches("/live/")
        .parse()
        .unwrap();

    // 1. Through a path that will die.
    let (relay, cut) = dying_path(rtmp_addr).await;
    let mut first = Publisher::start(c, &format!("rtmp://{relay}/live/{key}"));
    let v1 = live_video(&client, &uid, &mut first, None).await;
    full_segment(&base, &uid, &mut first).await;

    // The network dies; the encoder restarts and reconnects directly, same key.
    cut.send(true).unwrap();
    first.kill();
    let mut second = Publisher::start(c, &format!("{rtmp_url}{key}"));
    let v2 = live_video(&client, &uid, &mut second, Some(&v1)).await;
    let segment = full_segment(&base, &v2, &mut second).await;
    // The input's playlist URL now plays the new broadcast.
    let (s, input_playlist) = get(&format!("{base}/{uid}/manifest/video.m3u8")).await;
    assert_eq!(s, 200);
    let (_, v2_playlist) = get(&format!("{base}/{v2}/manifest/video.m3u8")).await;
    let text = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .lines()
            .take(8)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(text(&input_playlist), text(&v2_playlist));
    assert_tracks(&base, &uid, &segment, c).await;

    // 2. The encoder is killed outright and restarted at once.
    second.kill();
    let mut third = Publisher::start(c, &format!("{rtmp_url}{key}"));
    let v3 = live_video(&client, &uid, &mut third, Some(&v2)).await;
    full_segment(&base, &v3, &mut third).await;

    // The earlier broadcasts are finished recordings; the third is live.
    let videos = until("the first two recordings to be ready", BOUND, || {
        let c = client.clone();
        let uid = uid.clone();
        let (v1, v2) = (v1.clone(), v2.clone());
        async move {
            let v = c.live_input_videos(&uid).await.ok()?;
            let state = |id: &str| {
                v.iter()
                    .find(|x| x.uid == id)
                    .map(|x| x.status.state.clone())
            };
            (state(&v1).as_deref() == Some("ready") && state(&v2).as_deref() == Some("ready"))
                .then_some(v)
        }
    })
    .await;
    assert_eq!(videos.len(), 3, "{videos:?}");
    for v in videos.iter().filter(|v| v.uid != v3) {
        assert!(v.duration.unwrap() > 0.0, "{v:?}");
    }
    let live = videos.iter().find(|v| v.uid == v3).unwrap();
    assert_eq!(live.status.state, "live-inprogress");

    client.set_enabled(&uid, false).await.unwrap();
    until("the encoder to be dropped", BOUND, || {
        let gone = third.exited();
        async move { gone.then_some(()) }
    })
    .await;
    until("six notifications", BOUND, || {
        let n = events(&sink).len();
        async move { (n >= 6).then_some(()) }
    })
    .await;
    assert_eq!(
        events(&sink),
        [
            "live_input.connected",
            "live_input.disconnected",
            "live_input.connected",
            "live_input.disconnected",
            "live_input.connected",
            "live_input.disconnected",
        ]
    );
    emu.shutdown().await;
}
