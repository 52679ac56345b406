//! The emulator's media path in-process: real RTMP publishes (ffmpeg) to an emulator with RTMP
//! ingest on an ephemeral port, checked through the typed client, the delivery routes and the
//! webhook receiver. Needs `ffmpeg` on PATH (scripts/test.sh installs it).
mod common;

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::*;
use roomcast_stream::client::{CreateLiveInput, Recording, StreamClient};
use roomcast_stream::emulator::{
    Emulator, EmulatorHandle, EmulatorOptions, VideoIngest, WebhookTarget,
};
use secrecy::SecretString;
use serde_json::Value;

const BOUND: Duration = Duration::from_secs(30);

async fn video_emulator() -> EmulatorHandle {
    video_emulator_in(None).await
}

/// With `media_dir`, recordings are kept there (as `serve --data-dir` keeps them).
async fn video_emulator_in(media_dir: Option<&std::path::Path>) -> EmulatorHandle {
    // `RUST_LOG=roomcast_stream=debug` shows the emulator's side when a test fails.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let mut opts = EmulatorOptions::new(ACCOUNT, SecretString::from(TOKEN.to_string()));
    opts.rtmp_listen = Some("127.0.0.1:0".parse().unwrap());
    opts.media_dir = media_dir.map(|d| d.to_path_buf());
    let emu = Emulator::start(opts).await.expect("emulator starts");
    assert!(
        matches!(emu.video_ingest(), VideoIngest::On { .. }),
        "video ingest must be on (is ffmpeg on PATH?): {:?}",
        emu.video_ingest()
    );
    emu
}

/// ffmpeg encoding a small lavfi pattern in real time with `video_codec`, pushed to `url`.
fn publish(url: &str, seconds: u32, video_codec: &str) -> Reaped {
    let child = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi"])
        .args(["-i", "testsrc=size=160x120:rate=25", "-f", "lavfi"])
        .args(["-i", "sine=frequency=440:sample_rate=48000"])
        .args(["-t", &seconds.to_string(), "-c:v", video_codec])
        .args([
            "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", url,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ffmpeg runs");
    Reaped(child)
}

/// Kills and reaps the child when the test ends, pass or fail.
struct Reaped(Child);
impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
impl Reaped {
    /// Polls without blocking the runtime the emulator runs on.
    async fn exited_within(&mut self, bound: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + bound;
        loop {
            if let Some(s) = self.0.try_wait().unwrap() {
                return Some(s);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn create(
    client: &StreamClient,
    recording: Recording,
    days: Option<u32>,
) -> (String, String) {
    let input = client
        .create_live_input(&CreateLiveInput {
            recording: Some(recording),
            delete_recording_after_days: days,
            ..Default::default()
        })
        .await
        .unwrap();
    let rtmps = input.rtmps.unwrap();
    (input.uid, format!("{}{}", rtmps.url, rtmps.stream_key))
}

fn events(sink: &WebhookSink) -> Vec<String> {
    sink.received
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.body["data"]["event_type"].as_str().unwrap().to_string())
        .collect()
}

async fn get(url: &str) -> (u16, String, String) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    let ctype = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ctype, r.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_is_live_hls_then_a_ready_recording_served_as_vod() {
    let emu = video_emulator().await;
    let sink = webhook_sink().await;
    emu.set_webhook(Some(WebhookTarget {
        url: sink.url.clone(),
        secret: Some(SecretString::from("hook-secret".to_string())),
    }));
    let client = client(&emu);
    let (uid, url) = create(&client, Recording::automatic(), Some(30)).await;
    let VideoIngest::On { rtmp_url } = emu.video_ingest() else {
        unreachable!()
    };
    assert!(url.starts_with(rtmp_url.as_str()), "{url} under {rtmp_url}");
    let base = emu.delivery_base_url();
    assert_eq!(
        get(&format!("{base}/{uid}/manifest/video.m3u8")).await.0,
        204
    );

    let mut publisher = publish(&url, 5, "libx264");
    let lifecycle = until("live", BOUND, || {
        let c = client.clone();
        let uid = uid.clone();
        async move { c.lifecycle(&uid).await.ok().filter(|l| l.live) }
    })
    .await;
    let video_uid = lifecycle.video_uid.clone().expect("the live video");
    let playlist = until("segments", BOUND, || {
        let u = format!("{base}/{uid}/manifest/video.m3u8");
        async move {
            let (s, ctype, body) = get(&u).await;
            (s == 200 && body.contains("#EXTINF")).then_some((ctype, body))
        }
    })
    .await;
    assert_eq!(playlist.0, "application/vnd.apple.mpegurl");
    assert!(playlist.1.contains("#EXT-X-PLAYLIST-TYPE:EVENT"));
    // The video uid serves the same broadcast.
    let (s, _, by_video) = get(&format!("{base}/{video_uid}/manifest/video.m3u8")).await;
    assert_eq!(s, 200);
    assert!(by_video.starts_with("#EXTM3U"));
    let (s, ctype, _) = get(&format!("{base}/{uid}/manifest/init.mp4")).await;
    assert_eq!((s, ctype.as_str()), (200, "video/mp4"));
    let (s, ctype, _) = get(&format!("{base}/{uid}/manifest/seg00000.m4s")).await;
    assert_eq!((s, ctype.as_str()), (200, "video/iso.segment"));
    for bad in [
        "..%2F..%2Fetc%2Fpasswd",
        "ffmpeg.log",
        "seg0.m4s",
        "video.m3u8.tmp",
    ] {
        assert_eq!(
            get(&format!("{base}/{uid}/manifest/{bad}")).await.0,
            404,
            "{bad}"
        );
    }
    let live: Vec<_> = client.live_input_videos(&uid).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].status.state, "live-inprogress");

    let status = publisher
        .exited_within(BOUND)
        .await
        .expect("the 5 s push ends");
    assert!(status.success());
    let videos = until("the recording is ready", BOUND, || {
        let c = client.clone();
        let uid = uid.clone();
        async move {
            let v = c.live_input_videos(&uid).await.unwrap();
            (v.first()?.status.state == "ready").then_some(v)
        }
    })
    .await;
    let v = &videos[0];
    assert_eq!(v.uid, video_uid);
    assert_eq!(v.live_input.as_deref(), Some(uid.as_str()));
    assert!(v.ready_to_stream);
    let duration = v.duration.unwrap();
    assert!((4.0..=6.5).contains(&duration), "duration {duration}");
    let playback = v.playback.as_ref().unwrap();
    // A local emulator's recordings point at itself, and each URL works.
    let host = emu.delivery_base_url();
    assert_eq!(
        playback.hls.as_deref(),
        Some(format!("{host}/{video_uid}/manifest/video.m3u8").as_str())
    );
    assert_eq!(
        playback.dash.as_deref(),
        Some(format!("{host}/{video_uid}/manifest/video.mpd").as_str())
    );
    let fetch = |url: String| async move {
        let r = reqwest::get(&url).await.unwrap();
        let ctype = r.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string();
        (
            r.status().as_u16(),
            ctype,
            r.bytes().await.unwrap().to_vec(),
        )
    };
    let (status, _, body) = fetch(playback.hls.clone().unwrap()).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8(body).unwrap().contains("#EXT-X-ENDLIST"));
    let preview = v.preview.clone().unwrap();
    assert_eq!(preview, format!("{host}/{video_uid}/watch"));
    let (status, ctype, body) = fetch(preview).await;
    assert_eq!((status, ctype.as_str()), (200, "text/html; charset=utf-8"));
    assert!(String::from_utf8(body).unwrap().contains(&video_uid));
    let thumbnail = v.thumbnail.clone().unwrap();
    assert_eq!(
        thumbnail,
        format!("{host}/{video_uid}/thumbnails/thumbnail.jpg")
    );
    let (status, ctype, jpeg) = fetch(thumbnail.clone()).await;
    assert_eq!((status, ctype.as_str()), (200, "image/jpeg"));
    assert_eq!(jpeg[..3], [0xff, 0xd8, 0xff], "a JPEG");
    assert_eq!(
        fetch(thumbnail).await.2,
        jpeg,
        "made once, then the same file"
    );
    assert_eq!(
        fetch(format!(
            "{host}/0123456789abcdef0123456789abcdef/thumbnails/thumbnail.jpg"
        ))
        .await
        .0,
        404
    );
    assert_eq!(
        client
            .get_live_input(&uid)
            .await
            .unwrap()
            .delete_recording_after_days,
        Some(30)
    );
    let (s, _, vod) = get(&format!("{base}/{video_uid}/manifest/video.m3u8")).await;
    assert_eq!(s, 200);
    assert!(vod.trim_end().ends_with("#EXT-X-ENDLIST"), "{vod}");
    assert_eq!(
        get(&format!("{base}/{uid}/manifest/video.m3u8")).await.0,
        204
    );
    let lifecycle: Value =
        serde_json::from_str(&get(&format!("{base}/{video_uid}/lifecycle")).await.2).unwrap();
    assert_eq!(lifecycle["live"], false);

    until("both notifications", BOUND, || {
        let n = events(&sink).len();
        async move { (n == 2).then_some(()) }
    })
    .await;
    assert_eq!(
        events(&sink),
        ["live_input.connected", "live_input.disconnected"]
    );
    let received = sink.received.lock().unwrap().clone();
    assert!(received
        .iter()
        .all(|r| r.auth.as_deref() == Some("hook-secret")));
    assert!(received
        .iter()
        .all(|r| r.body["data"]["input_id"] == uid.as_str()));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsupported_codec_is_errored_dropped_and_leaves_no_video() {
    let emu = video_emulator().await;
    let sink = webhook_sink().await;
    emu.set_webhook(Some(WebhookTarget {
        url: sink.url.clone(),
        secret: None,
    }));
    let client = client(&emu);
    let (uid, url) = create(&client, Recording::automatic(), None).await;
    // Sorenson H.263, FLV's historical default: Cloudflare takes H.264 only.
    let mut publisher = publish(&url, 30, "flv1");
    let status = publisher
        .exited_within(BOUND)
        .await
        .expect("the publisher is dropped");
    assert!(!status.success());
    until("two notifications", BOUND, || {
        let n = events(&sink).len();
        async move { (n == 2).then_some(()) }
    })
    .await;
    assert_eq!(
        events(&sink),
        ["live_input.connected", "live_input.errored"]
    );
    let errored = sink.received.lock().unwrap()[1].body.clone();
    assert_eq!(
        errored["data"]["live_input_errored"]["error"]["code"],
        "ERR_UNSUPPORTED_VIDEO_CODEC"
    );
    assert_eq!(
        errored["data"]["live_input_errored"]["error"]["message"],
        "Unsupported video codec."
    );
    assert!(!client.lifecycle(&uid).await.unwrap().live);
    assert!(client.live_input_videos(&uid).await.unwrap().is_empty());
    emu.shutdown().await;
}

/// Recording off (`recording.mode = "off"`): Cloudflare's `lifecycle` is `live: true` while an
/// encoder is connected, recorded or not; there is no video (`videoUID: null`) and nothing to play.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_automatic_recording_a_publish_is_live_but_nothing_is_served() {
    let emu = video_emulator().await;
    let sink = webhook_sink().await;
    emu.set_webhook(Some(WebhookTarget {
        url: sink.url.clone(),
        secret: None,
    }));
    let client = client(&emu);
    let (uid, url) = create(&client, Recording::default(), None).await;
    let mut publisher = publish(&url, 4, "libx264");
    let lifecycle = until("live", BOUND, || {
        let c = client.clone();
        let uid = uid.clone();
        async move { c.lifecycle(&uid).await.ok().filter(|l| l.live) }
    })
    .await;
    assert_eq!(
        (lifecycle.is_input, lifecycle.live, lifecycle.video_uid),
        (true, true, None)
    );
    assert!(client
        .get_live_input(&uid)
        .await
        .unwrap()
        .status
        .is_connected());
    let base = emu.delivery_base_url();
    let raw: Value =
        serde_json::from_str(&get(&format!("{base}/{uid}/lifecycle")).await.2).unwrap();
    assert_eq!(
        raw,
        serde_json::json!({"isInput": true, "videoUID": null, "live": true})
    );
    assert_eq!(
        get(&format!("{base}/{uid}/manifest/video.m3u8")).await.0,
        204
    );
    assert!(client.live_input_videos(&uid).await.unwrap().is_empty());

    // The encoder finishes: no longer live, still no video.
    let status = publisher
        .exited_within(BOUND)
        .await
        .expect("the publish ends");
    assert!(status.success());
    until("disconnected", BOUND, || {
        let n = events(&sink).len();
        async move { (n == 2).then_some(()) }
    })
    .await;
    assert_eq!(
        events(&sink),
        ["live_input.connected", "live_input.disconnected"]
    );
    let lifecycle = client.lifecycle(&uid).await.unwrap();
    assert_eq!(
        (lifecycle.is_input, lifecycle.live, lifecycle.video_uid),
        (true, false, None)
    );
    assert!(client.live_input_videos(&uid).await.unwrap().is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drops_publishers_and_stops_ffmpeg() {
    let emu = video_emulator().await;
    let client = client(&emu);
    let (uid, url) = create(&client, Recording::automatic(), None).await;
    let mut publisher = publish(&url, 60, "libx264");
    let video_uid = until("live", BOUND, || {
        let c = client.clone();
        let uid = uid.clone();
        async move { c.lifecycle(&uid).await.ok().filter(|l| l.live)?.video_uid }
    })
    .await;
    // This broadcast's ffmpeg (other tests run their own in this process).
    let recorders = || {
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| {
                let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
                let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
                let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
                let ppid = stat.split_once(") ")?.1.split(' ').nth(1)?.to_string();
                (ppid == std::process::id().to_string() && cmd.contains(&video_uid)).then_some(cmd)
            })
            .count()
    };
    // The input is live (under the emulator's lock) a moment before its recorder is spawned, and
    // a child shows its own command line only once it has exec'd: wait for it, then exactly one.
    until("the broadcast's ffmpeg", BOUND, || {
        let n = recorders();
        async move { (n >= 1).then_some(()) }
    })
    .await;
    assert_eq!(recorders(), 1, "one ffmpeg per broadcast");
    emu.shutdown().await;
    assert!(publisher.exited_within(BOUND).await.is_some());
    assert_eq!(recorders(), 0, "no ffmpeg outlives the emulator");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_rtmp_address_turns_video_off_with_a_reason_and_the_emulator_still_serves() {
    let first = video_emulator().await;
    let VideoIngest::On { rtmp_url } = first.video_ingest() else {
        unreachable!()
    };
    let taken: std::net::SocketAddr = rtmp_url
        .trim_start_matches("rtmp://")
        .trim_end_matches("/live/")
        .parse()
        .unwrap();
    let mut opts = EmulatorOptions::new(ACCOUNT, SecretString::from(TOKEN.to_string()));
    opts.rtmp_listen = Some(taken);
    let second = Emulator::start(opts).await.expect("starts without video");
    let VideoIngest::Off { reason } = second.video_ingest() else {
        panic!("{:?}", second.video_ingest())
    };
    assert!(
        reason.starts_with(&format!("cannot listen for RTMP on {taken} (")),
        "{reason}"
    );
    assert!(
        second
            .video_ingest()
            .banner()
            .ends_with("choose another address with --rtmp-listen (ROOMCAST_RTMP_LISTEN)"),
        "{}",
        second.video_ingest().banner()
    );
    let input = client(&second)
        .create_live_input(&CreateLiveInput::default())
        .await
        .unwrap();
    assert_eq!(
        input.rtmps.unwrap().url,
        "rtmps://live.cloudflare.com:443/live/",
        "no fake local URL without a listener"
    );
    second.shutdown().await;
    first.shutdown().await;
}

/// Recordings live in the media directory and outlive the emulator: saved with their input, a
/// new emulator on the same directory lists them again (served from its own, new address) and
/// plays them as VOD — also one still broadcasting when its inputs were saved (a process that
/// died mid-broadcast), which comes back sealed and ready. Deleting the input deletes its
/// recordings and their files; a directory no saved video names is removed at load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_survive_a_restart_in_the_media_dir_and_go_with_their_input() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    let inputs = dir.path().join("inputs.json");
    let emu = video_emulator_in(Some(&media)).await;
    let client = client(&emu);
    let (uid, url) = create(&client, Recording::automatic(), None).await;
    // One finished recording, then a second broadcast still running when the inputs are saved.
    let mut first = publish(&url, 3, "libx264");
    assert!(first
        .exited_within(BOUND)
        .await
        .is_some_and(|s| s.success()));
    let done = until("the first recording is ready", BOUND, || {
        let c = client.clone();
        let uid = uid.clone();
        async move {
            let v = c.live_input_videos(&uid).await.ok()?;
            (v.len() == 1 && v[0].status.state == "ready").then(|| v[0].uid.clone())
        }
    })
    .await;
    let _second = publish(&url, 600, "libx264");
    let live = until("the second broadcast has segments", BOUND, || {
        let c = client.clone();
        let uid = uid.clone();
        let base = emu.delivery_base_url();
        async move {
            let l = c.lifecycle(&uid).await.ok().filter(|l| l.live)?;
            let v = l.video_uid?;
            let (s, _, body) = get(&format!("{base}/{v}/manifest/video.m3u8")).await;
            (s == 200 && body.contains("seg00001")).then_some(v)
        }
    })
    .await;
    assert_eq!(emu.save_inputs(&inputs).unwrap(), 1);
    let old_base = emu.delivery_base_url();
    emu.shutdown().await;
    std::fs::create_dir_all(media.join("0123456789abcdef0123456789abcdef")).unwrap();

    let emu = video_emulator_in(Some(&media)).await;
    assert_eq!(emu.load_inputs(&inputs).unwrap(), 1);
    let client = self::client(&emu);
    let base = emu.delivery_base_url();
    assert_ne!(base, old_base);
    let videos = client.live_input_videos(&uid).await.unwrap();
    let mut uids: Vec<&str> = videos.iter().map(|v| v.uid.as_str()).collect();
    uids.sort();
    let mut expected = vec![done.as_str(), live.as_str()];
    expected.sort();
    assert_eq!(uids, expected);
    for v in &videos {
        assert_eq!(v.status.state, "ready", "{v:?}");
        assert!(v.duration.unwrap() > 1.0, "{v:?}");
        let hls = v.playback.as_ref().unwrap().hls.clone().unwrap();
        assert_eq!(hls, format!("{base}/{}/manifest/video.m3u8", v.uid));
        let (status, _, body) = get(&hls).await;
        assert_eq!(status, 200);
        assert!(body.trim_end().ends_with("#EXT-X-ENDLIST"), "{body}");
    }
    assert!(
        !media.join("0123456789abcdef0123456789abcdef").exists(),
        "media no video names is removed"
    );

    client.delete_live_input(&uid).await.unwrap();
    assert_eq!(
        get(&format!("{base}/{done}/manifest/video.m3u8")).await.0,
        404
    );
    assert!(!media.join(&done).exists() && !media.join(&live).exists());
    emu.shutdown().await;
}

/// An encoder that comes back within `recording.timeoutSeconds` continues the same recording
/// (Cloudflare's reconnect window): one video, live again with the same uid, both halves in one
/// VOD playlist (each part with its own init segment after a discontinuity) that ffprobe decodes
/// through; it turns `ready` only once the window closed. Back after the window: a new video.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_within_the_timeout_continues_the_recording_and_after_it_starts_a_new_one() {
    let emu = video_emulator().await;
    let client = client(&emu);
    // Far above an encoder's restart here; the test waits for conditions, not for the window.
    let window = Recording {
        timeout_seconds: Some(15),
        ..Recording::automatic()
    };
    let (uid, url) = create(&client, window, None).await;
    let live_video = |uid: String| {
        let c = client.clone();
        async move { c.lifecycle(&uid).await.ok().filter(|l| l.live)?.video_uid }
    };
    let mut first = publish(&url, 3, "libx264");
    let video = until("live", BOUND, || live_video(uid.clone())).await;
    assert!(first
        .exited_within(BOUND)
        .await
        .is_some_and(|s| s.success()));
    until("the first half ended", BOUND, || {
        let c = client.clone();
        let uid = uid.clone();
        async move { (!c.lifecycle(&uid).await.ok()?.live).then_some(()) }
    })
    .await;
    let v = client.live_input_videos(&uid).await.unwrap();
    assert_eq!(
        (v.len(), v[0].status.state.as_str()),
        (1, "inprogress"),
        "window open: {v:?}"
    );

    let mut second = publish(&url, 3, "libx264");
    let again = until("live again", BOUND, || live_video(uid.clone())).await;
    assert_eq!(again, video, "the same recording goes on");
    assert!(second
        .exited_within(BOUND)
        .await
        .is_some_and(|s| s.success()));
    let videos = until(
        "the recording is ready once the window closed",
        BOUND,
        || {
            let c = client.clone();
            let uid = uid.clone();
            async move {
                let v = c.live_input_videos(&uid).await.ok()?;
                (v.iter().all(|v| v.status.state == "ready")).then_some(v)
            }
        },
    )
    .await;
    assert_eq!(videos.len(), 1, "{videos:?}");
    let duration = videos[0].duration.unwrap();
    assert!((5.0..=7.5).contains(&duration), "both halves: {duration}");
    let hls = format!("{}/{video}/manifest/video.m3u8", emu.delivery_base_url());
    let (status, _, body) = get(&hls).await;
    assert_eq!(status, 200);
    assert_eq!(
        body.matches("#EXT-X-MAP:URI=\"init.mp4\"").count(),
        1,
        "{body}"
    );
    assert_eq!(
        body.matches("#EXT-X-MAP:URI=\"init-1.mp4\"").count(),
        1,
        "{body}"
    );
    assert!(body.contains("#EXT-X-DISCONTINUITY") && body.trim_end().ends_with("#EXT-X-ENDLIST"));
    let (s, _, _) = get(&format!(
        "{}/{video}/manifest/init-1.mp4",
        emu.delivery_base_url()
    ))
    .await;
    assert_eq!(s, 200);
    // Each part decodes with its own init segment: init + its segments, as a player joins them.
    let base = emu.delivery_base_url();
    let mut parts: Vec<(String, Vec<String>)> = vec![];
    for line in body.lines() {
        if let Some(init) = line.strip_prefix("#EXT-X-MAP:URI=\"") {
            parts.push((init.trim_end_matches('"').to_string(), vec![]));
        } else if line.starts_with("seg") {
            parts
                .last_mut()
                .expect("a map first")
                .1
                .push(line.to_string());
        }
    }
    assert_eq!(parts.len(), 2, "{body}");
    let mut frames = vec![];
    for (init, segments) in &parts {
        let mut mp4 = reqwest::get(format!("{base}/{video}/manifest/{init}"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .to_vec();
        for seg in segments {
            let bytes = reqwest::get(format!("{base}/{video}/manifest/{seg}"))
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            mp4.extend_from_slice(&bytes);
        }
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &mp4).unwrap();
        let out = Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-count_frames"])
            .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
            .arg(file.path())
            .output()
            .unwrap();
        let errors = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(errors.trim().is_empty(), "{init}: {errors}");
        let n: u64 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .trim_end_matches(',')
            .parse()
            .unwrap();
        frames.push(n);
    }
    // Each half is 3 s at 25 fps.
    assert!(frames.iter().all(|n| (60..=80).contains(n)), "{frames:?}");

    // After the window: a new recording.
    let mut third = publish(&url, 2, "libx264");
    let newer = until("live a third time", BOUND, || live_video(uid.clone())).await;
    assert_ne!(newer, video);
    assert!(third.exited_within(BOUND).await.is_some());
    emu.shutdown().await;
}
