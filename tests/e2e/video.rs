//! Real video through the built binary: an RTMP publisher (ffmpeg) pushes to the ingest URL and
//! key from `POST /api/create`, the embedded Stream emulator remuxes it to HLS, and ffprobe and a
//! headless Chromium play it. One test binary, so CI starts few browsers; publishers push
//! pre-encoded H.264/AAC test patterns with `-c copy`, so pushing costs no encoding.
use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use roomcast_chain::RoomStatus;
use serde_json::Value;
use support::browser::{Chromium, Tab};
use support::*;

fn ffmpeg_bin() -> PathBuf {
    std::env::var_os("ROOMCAST_FFMPEG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("ffmpeg"))
}

/// The audio codec of a [`fixture`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Audio {
    /// AAC at 48 kHz.
    Aac,
    /// MP3 at 44.1 kHz (FLV's MP3 rates stop there).
    Mp3,
}

/// A 6-second 25 fps H.264 (1 s GOP) test pattern of the given size with a sine tone in `audio`,
/// encoded once.
fn fixture(width: u32, height: u32, audio: Audio) -> PathBuf {
    static MADE: OnceLock<Mutex<Vec<((u32, u32, Audio), PathBuf)>>> = OnceLock::new();
    let made = MADE.get_or_init(Default::default);
    let mut made = made.lock().unwrap();
    let wanted = (width, height, audio);
    if let Some((_, p)) = made.iter().find(|(k, _)| *k == wanted) {
        return p.clone();
    }
    let (codec, rate) = match audio {
        Audio::Aac => ("aac", 48000),
        Audio::Mp3 => ("libmp3lame", 44100),
    };
    let path = scratch_dir("fixture").join(format!("testsrc-{width}x{height}-{codec}.flv"));
    let out = Command::new(ffmpeg_bin())
        .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=size={width}x{height}:rate=25"))
        .args(["-f", "lavfi", "-i"])
        .arg(format!("sine=frequency=440:sample_rate={rate}"))
        .args([
            "-t", "6", "-c:v", "libx264", "-preset", "veryfast", "-g", "25",
        ])
        .args(["-pix_fmt", "yuv420p", "-c:a", codec, "-f", "flv"])
        .arg(&path)
        .output()
        .expect("ffmpeg runs (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    made.push((wanted, path.clone()));
    path
}

/// An RTMP publisher: ffmpeg looping a fixture in real time to `url`. Killed on drop.
struct Publisher {
    child: Child,
    log: PathBuf,
}

impl Publisher {
    /// Pushes `fixture` over RTMP (FLV) to `url`.
    fn start(url: &str, fixture: &Path) -> Publisher {
        Publisher::start_as(url, fixture, "flv")
    }

    /// Pushes `fixture` to `url` in `format`: `flv` for RTMP, `mpegts` for SRT.
    fn start_as(url: &str, fixture: &Path, format: &str) -> Publisher {
        let log = scratch_dir("publisher").join("ffmpeg.log");
        let mut cmd = Command::new(ffmpeg_bin());
        cmd.args([
            "-hide_banner",
            "-loglevel",
            "warning",
            "-re",
            "-stream_loop",
            "-1",
            "-i",
        ])
        .arg(fixture)
        .args(["-c", "copy", "-f", format, url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
        crate::support::die_with_parent(&mut cmd);
        Publisher {
            child: cmd.spawn().expect("spawning the ffmpeg publisher"),
            log,
        }
    }

    /// Waits up to `bound` for the publisher to exit.
    fn exited_within(&mut self, bound: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + bound;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server closed the publisher's connection (refused it, or dropped it later): a looping
    /// publisher (it never ends by itself) exits, unsuccessfully. Eventually, not within a bound.
    fn assert_closed(&mut self, what: &str) {
        let status = self
            .exited_within(EVENTUALLY)
            .unwrap_or_else(|| panic!("{what}: the publisher is still connected"));
        assert!(!status.success(), "{what}: the publisher exited {status}");
    }

    fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `(width, height, decoded frames)` of the first video stream ffprobe reads at `url`.
fn probe(url: &str) -> (u64, u64, u64) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-count_frames"])
        .args(["-read_intervals", "%+3", "-show_entries"])
        .args(["stream=width,height,nb_read_frames", "-of", "json", url])
        .output()
        .expect("ffprobe runs");
    assert!(
        out.status.success(),
        "ffprobe {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["streams"][0];
    let frames = s["nb_read_frames"].as_str().unwrap_or("0").parse().unwrap();
    (
        s["width"].as_u64().unwrap(),
        s["height"].as_u64().unwrap(),
        frames,
    )
}

/// A server whose temp dir (where the emulator keeps recordings) is its own.
fn start_server() -> (Server, PathBuf) {
    start_server_with(&[])
}

fn start_server_with(envs: &[(&str, &str)]) -> (Server, PathBuf) {
    let tmp = scratch_dir("video-tmp");
    let mut all = vec![("TMPDIR", tmp.to_str().unwrap())];
    all.extend_from_slice(envs);
    let server = Server::start(&all);
    assert!(
        server.rtmp_ingest.is_some(),
        "video ingest must be on (is ffmpeg installed?); output:\n{}",
        server.proc.output()
    );
    (server, tmp)
}

/// Broadcast directories the emulator has created under `tmp`.
fn recordings(tmp: &Path) -> Vec<String> {
    let mut out = vec![];
    for root in std::fs::read_dir(tmp).unwrap().flatten() {
        if root
            .file_name()
            .to_string_lossy()
            .starts_with("roomcast-media-")
        {
            for d in std::fs::read_dir(root.path()).unwrap().flatten() {
                out.push(d.file_name().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// `(event_type, receiver status)` of the notifications about `uid`.
async fn events_of(emu: &Emulator, uid: &str) -> Vec<(String, u64)> {
    emu.deliveries()
        .await
        .iter()
        .filter(|d| d["body"]["data"]["input_id"] == uid)
        .map(|d| {
            (
                d["body"]["data"]["event_type"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                d["status"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// Waits until the player page's video has advanced by more than 2 s, then checks it.
async fn assert_plays(tab: &Tab, width: u64, height: u64) {
    let state = "JSON.stringify({player: window.roomcastPlayer, t: document.querySelector('video').currentTime})";
    tab.wait_for_with(
        "the player starts by itself",
        "window.roomcastPlayer && roomcastPlayer.state === 'playing'",
        state,
        EVENTUALLY,
    )
    .await;
    let t0: f64 = tab
        .eval("document.querySelector('video').currentTime")
        .await;
    tab.wait_for_with(
        "the video advances by more than 2 s",
        &format!("document.querySelector('video').currentTime > {t0} + 2"),
        state,
        EVENTUALLY,
    )
    .await;
    let (engine, errors, w, h): (String, Vec<String>, u64, u64) = tab
        .eval(
            "(() => { const v = document.querySelector('video'); \
             return [roomcastPlayer.engine, roomcastPlayer.errors, v.videoWidth, v.videoHeight]; })()",
        )
        .await;
    assert_eq!(engine, "hls.js", "Chromium supports MSE: hls.js plays");
    assert_eq!(errors, Vec::<String>::new(), "no player error");
    assert_eq!(
        (w, h),
        (width, height),
        "the page shows this room's picture"
    );
    let frames: u64 = tab
        .eval("document.querySelector('video').getVideoPlaybackQuality().totalVideoFrames")
        .await;
    assert!(frames > 25, "frames decoded: {frames}");
}

/// The browser this suite drives can decode what the emulator serves (H.264 + AAC in fMP4 via
/// Media Source Extensions), and the harness evaluates JavaScript and takes screenshots.
#[tokio::test]
async fn headless_chromium_plays_h264_aac_through_mse() {
    let browser = Chromium::launch().await;
    let tab = browser
        .open("data:text/html,<title>harness</title><video></video>")
        .await;
    assert_eq!(tab.eval::<String>("document.title").await, "harness");
    let supported: Vec<bool> = tab
        .eval(
            r#"['video/mp4; codecs="avc1.42E01E"', 'video/mp4; codecs="avc1.64001F"',
                'audio/mp4; codecs="mp4a.40.2"', 'video/mp4; codecs="nope.1"']
               .map(t => MediaSource.isTypeSupported(t))"#,
        )
        .await;
    assert_eq!(supported, vec![true, true, true, false]);
    let png = tab.screenshot("harness").await;
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    browser.close().await;
}

/// The whole story with a real encoder: create → push → live on both sides from the real
/// connect → ffprobe and a browser play it → end during the push drops the publisher, refuses
/// it again, answers 410, and the broadcast is a recording that plays as VOD.
#[tokio::test]
async fn a_real_push_goes_live_plays_and_ending_the_room_drops_it_and_keeps_the_recording() {
    // Debug logs: the stream key must not reach them even from the RTMP layer.
    let (s, tmp) = start_server_with(&[("RUST_LOG", "debug")]);
    let api = s.api();
    let emu = s.emulator();
    let host = wallet();
    let c = api.create_as_host(&host, "Live from ffmpeg").await;
    c.assert_status(201);
    let (uid, room) = (c.str("SessionID"), c.str("room"));
    let ingest = s.rtmp_ingest.clone().unwrap();
    assert!(ingest.starts_with("rtmp://127.0.0.1:") && ingest.ends_with("/live/"));
    assert_eq!(c.str("IngestURL"), ingest);
    let room_addr = s.room_address(&uid);
    let on_chain = s.chain_reader().room(&room_addr).await.unwrap().unwrap();
    assert_eq!(on_chain.ingest_url, ingest, "the room records the real URL");
    assert_eq!(on_chain.status, RoomStatus::Created);
    let input = emu.input(&uid).await.unwrap();
    assert_eq!(input["deleteRecordingAfterDays"], 45, "echoed");
    let hls = c.json["playback"]["hls"].as_str().unwrap().to_string();
    let iframe = c.json["playback"]["iframe"].as_str().unwrap().to_string();
    let status = |u: &str| {
        let u = u.to_string();
        async move { reqwest::get(&u).await.unwrap().status().as_u16() }
    };
    assert_eq!(status(&hls).await, 204, "idle: nothing to play");

    // A viewer opens the player before the broadcast starts.
    let browser = Chromium::launch().await;
    let tab = browser.open(&iframe).await;
    tab.wait_for(
        "the idle player waits",
        "window.roomcastPlayer && roomcastPlayer.state === 'waiting'",
        EVENTUALLY,
    )
    .await;
    assert_eq!(
        tab.eval::<String>("document.getElementById('status').textContent")
            .await,
        "waiting for the broadcast"
    );

    let mut publisher = Publisher::start(
        &format!("{ingest}{}", c.str("StreamKey")),
        &fixture(640, 360, Audio::Aac),
    );

    // Live on both sides, from the real connect (no control call was made).
    let watch = format!("/api/livestream?room={room}");
    eventually("the API reports the broadcast", || {
        let api = api.clone();
        let watch = watch.clone();
        async move {
            let r = api.get(&watch).await;
            (r.json["broadcasting"] == true).then_some(())
        }
    })
    .await;
    let live = eventually("the room is live on-chain", || {
        let chain = s.chain_reader();
        async move {
            let r = chain.room(&room_addr).await.unwrap().unwrap();
            (r.status == RoomStatus::Live).then_some(r)
        }
    })
    .await;
    assert!(live.live_at.is_some());
    // The emulator records a delivery once the receiver has answered.
    let events = eventually("the connect notification is recorded", || {
        let emu = emu.clone();
        let uid = uid.clone();
        async move {
            let e = events_of(&emu, &uid).await;
            (!e.is_empty()).then_some(e)
        }
    })
    .await;
    assert_eq!(events, vec![("live_input.connected".to_string(), 200)]);
    let lifecycle: Value = reqwest::get(format!("{}/{uid}/lifecycle", emu.delivery_base()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(lifecycle["live"], true);
    let video_uid = lifecycle["videoUID"].as_str().unwrap().to_string();
    assert_eq!(recordings(&tmp), vec![video_uid.clone()]);

    // Real HLS: headers, then frames of the pushed size.
    let manifest = eventually("the first segments", || {
        let hls = hls.clone();
        async move {
            let r = reqwest::get(&hls).await.unwrap();
            if r.status() != 200 {
                return None;
            }
            assert_eq!(r.headers()["content-type"], "application/vnd.apple.mpegurl");
            assert_eq!(r.headers()["cache-control"], "no-cache");
            assert_eq!(r.headers()["access-control-allow-origin"], "*");
            let body = r.text().await.unwrap();
            (body.matches("#EXTINF").count() >= 2).then_some(body)
        }
    })
    .await;
    assert!(
        manifest.contains("#EXT-X-MAP:URI=\"init.mp4\""),
        "{manifest}"
    );
    assert!(!manifest.contains("#EXT-X-ENDLIST"), "live: {manifest}");
    let (w, h, frames) = probe(&hls);
    assert_eq!((w, h), (640, 360));
    assert!(frames >= 25, "decoded {frames} frames");
    let base = hls.trim_end_matches("video.m3u8");
    assert_eq!(status(&format!("{base}..%2Fvideo.m3u8")).await, 404);
    assert_eq!(status(&format!("{base}ffmpeg.log")).await, 404);
    assert_eq!(status(&format!("{base}seg99999.m4s")).await, 404);

    // The page opened while idle started by itself, and plays.
    assert_plays(&tab, 640, 360).await;
    browser.close().await;
    assert!(publisher.running(), "{}", publisher.output());

    // End the room during the push.
    api.call(
        "POST",
        &format!("/api/rooms/{room}/end"),
        None,
        Auth::Host(&host),
    )
    .await
    .assert_status(200);
    publisher.assert_closed("after the room ended");
    eventually("the disconnect notification", || {
        let emu = emu.clone();
        let uid = uid.clone();
        async move { (events_of(&emu, &uid).await.len() == 2).then_some(()) }
    })
    .await;
    let mut again = Publisher::start(
        &format!("{ingest}{}", c.str("StreamKey")),
        &fixture(640, 360, Audio::Aac),
    );
    again.assert_closed("reconnecting to an ended room");
    assert_eq!(
        events_of(&emu, &uid).await,
        vec![
            ("live_input.connected".to_string(), 200),
            ("live_input.disconnected".to_string(), 200)
        ]
    );
    api.get(&watch).await.assert_error(410, "room_ended");
    assert_eq!(
        s.chain_reader()
            .room(&room_addr)
            .await
            .unwrap()
            .unwrap()
            .status,
        RoomStatus::Ended
    );

    // The broadcast became a recording, served as VOD.
    let videos = eventually("the recording is ready", || {
        let emu = emu.clone();
        let uid = uid.clone();
        async move {
            let v = emu.videos(&uid).await;
            (v.len() == 1 && v[0]["status"]["state"] == "ready").then_some(v)
        }
    })
    .await;
    let v = &videos[0];
    assert_eq!(v["uid"], video_uid.as_str());
    assert_eq!(v["liveInput"], uid.as_str());
    assert!(v["duration"].as_f64().unwrap() > 1.0, "{v}");
    assert!(v["created"].is_string());
    let vod = format!("{}/{video_uid}/manifest/video.m3u8", emu.delivery_base());
    assert!(v["playback"]["hls"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/{video_uid}/manifest/video.m3u8")));
    let body = reqwest::get(&vod).await.unwrap().text().await.unwrap();
    assert!(body.trim_end().ends_with("#EXT-X-ENDLIST"), "{body}");
    let (w, h, frames) = probe(&vod);
    assert_eq!((w, h), (640, 360));
    assert!(frames >= 25);
    assert_eq!(
        recordings(&tmp),
        vec![video_uid],
        "the refused reconnect recorded nothing"
    );
    let key = c.str("StreamKey");
    let log = s.proc.output();
    assert!(log.contains("publish accepted"), "debug logs were on");
    assert!(
        !log.contains(&key),
        "the stream key leaked into the server's log"
    );
    assert!(!log.contains(&key[..32]), "part of the stream key leaked");
}

/// A host goes live over SRT with nothing but the create answer: `ingest.srt` names the embedded
/// emulator's own SRT listener (one port, the input's stream id, its passphrase), where an encoder
/// publishes MPEG-TS → the room is live on-chain → its HLS plays → ending the room drops the
/// publisher and refuses it again. WebRTC is absent locally, and the answer's `notice` says why.
#[tokio::test]
async fn a_host_goes_live_over_srt_with_the_create_answers_credentials() {
    let (s, _tmp) = start_server();
    let api = s.api();
    let host = wallet();
    let c = api.create_as_host(&host, "Live over SRT").await;
    c.assert_status(201);
    let (uid, room) = (c.str("SessionID"), c.str("room"));
    let srt = &c.json["ingest"]["srt"];
    let srt_url = srt["url"].as_str().unwrap().to_string();
    assert!(srt_url.starts_with("srt://127.0.0.1:"), "{srt}");
    assert_eq!(srt["streamId"], uid.as_str());
    let passphrase = srt["passphrase"].as_str().unwrap().to_string();
    assert!(
        s.proc.output().contains(&format!(
            "Video ingest (SRT): {srt_url}?streamid=<stream id>&passphrase=<passphrase>"
        )),
        "the banner names the SRT listener"
    );
    // WebRTC (WHIP) is the emulator's own endpoint; nothing is missing, so no notice.
    let whip = c.json["ingest"]["webrtc"]["url"].as_str().unwrap();
    assert!(
        whip.starts_with("http://127.0.0.1:") && whip.ends_with(&format!("k{uid}/webRTC/publish")),
        "{whip}"
    );
    assert!(c.json.get("notice").is_none(), "{}", c.json);

    let url = format!("{srt_url}?streamid={uid}&passphrase={passphrase}");
    let mut publisher = Publisher::start_as(&url, &fixture(640, 360, Audio::Aac), "mpegts");
    let room_addr = s.room_address(&uid);
    eventually("the room is live on-chain", || {
        let chain = s.chain_reader();
        async move {
            let r = chain.room(&room_addr).await.unwrap().unwrap();
            (r.status == RoomStatus::Live).then_some(())
        }
    })
    .await;
    let hls = c.json["playback"]["hls"].as_str().unwrap().to_string();
    eventually("two segments", || {
        let hls = hls.clone();
        async move {
            let r = reqwest::get(&hls).await.ok()?;
            let body = r.text().await.ok()?;
            (body.matches("#EXTINF").count() >= 2).then_some(())
        }
    })
    .await;
    let (w, h, frames) = probe(&hls);
    assert_eq!((w, h), (640, 360));
    assert!(frames >= 25, "decoded {frames} frames");
    assert!(publisher.running(), "{}", publisher.output());

    api.call(
        "POST",
        &format!("/api/rooms/{room}/end"),
        None,
        Auth::Host(&host),
    )
    .await
    .assert_status(200);
    publisher.assert_closed("after the room ended");
    let mut again = Publisher::start_as(&url, &fixture(640, 360, Audio::Aac), "mpegts");
    again.assert_closed("publishing to an ended room over SRT");
    api.get(&format!("/api/livestream?room={room}"))
        .await
        .assert_error(410, "room_ended");
}

/// Publishes that must not happen end at publish time: no event fires, nothing is recorded.
#[tokio::test]
async fn wrong_unknown_second_rotated_and_disabled_publishes_are_refused() {
    let (s, tmp) = start_server();
    let api = s.api();
    let emu = s.emulator();
    let ingest = s.rtmp_ingest.clone().unwrap();
    let host = wallet();
    let c = api.create_as_host(&host, "Refusals").await;
    let (uid, room, key) = (c.str("SessionID"), c.str("room"), c.str("StreamKey"));
    let clip = fixture(320, 240, Audio::Aac);

    let mut wrong = key.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    let other_app = ingest.replace("/live/", "/other/");
    for (what, url) in [
        ("a wrong key for the input", format!("{ingest}{wrong}")),
        (
            "an unknown key",
            format!("{ingest}{}k{}", "0".repeat(32), "f".repeat(32)),
        ),
        (
            "the right key under another application",
            format!("{other_app}{key}"),
        ),
    ] {
        Publisher::start(&url, &clip).assert_closed(what);
        assert_eq!(
            emu.deliveries().await,
            Vec::<Value>::new(),
            "{what}: no event"
        );
        assert_eq!(recordings(&tmp), Vec::<String>::new(), "{what}: no files");
        assert_eq!(
            emu.input(&uid).await.unwrap()["status"],
            Value::Null,
            "{what}"
        );
    }

    // One publisher per input. The same key again takes over (issue 19: an OBS reconnect whose
    // old connection is not yet noticed dead must get in at once): the old publisher is dropped,
    // the new one is live with a recording of its own.
    let mut stale = Publisher::start(&format!("{ingest}{key}"), &clip);
    eventually("the first publisher is connected", || {
        let emu = emu.clone();
        let uid = uid.clone();
        async move { (events_of(&emu, &uid).await.len() == 1).then_some(()) }
    })
    .await;
    assert_eq!(recordings(&tmp).len(), 1);
    let mut first = Publisher::start(&format!("{ingest}{key}"), &clip);
    stale.assert_closed("the publisher the same key took over from");
    eventually("the takeover's disconnect and connect", || {
        let emu = emu.clone();
        let uid = uid.clone();
        async move { (events_of(&emu, &uid).await.len() == 3).then_some(()) }
    })
    .await;
    assert!(first.running(), "{}", first.output());
    assert_eq!(recordings(&tmp).len(), 2);

    // Rotating the key drops the publisher and refuses the old key; the new one works.
    let r = api
        .call(
            "POST",
            &format!("/api/rooms/{room}/rotate-key"),
            None,
            Auth::Host(&host),
        )
        .await;
    r.assert_status(200);
    let new_key = r.str("StreamKey");
    first.assert_closed("the publisher on the rotated key");
    eventually("the disconnect after rotation", || {
        let emu = emu.clone();
        let uid = uid.clone();
        async move { (events_of(&emu, &uid).await.len() == 4).then_some(()) }
    })
    .await;
    Publisher::start(&format!("{ingest}{key}"), &clip).assert_closed("the old key");
    assert_eq!(events_of(&emu, &uid).await.len(), 4);
    let mut renewed = Publisher::start(&format!("{ingest}{new_key}"), &clip);
    eventually("the new key connects", || {
        let emu = emu.clone();
        let uid = uid.clone();
        async move { (events_of(&emu, &uid).await.len() == 5).then_some(()) }
    })
    .await;

    // Ending the room disables the input: dropped, then refused.
    api.call(
        "POST",
        &format!("/api/rooms/{room}/end"),
        None,
        Auth::Host(&host),
    )
    .await
    .assert_status(200);
    renewed.assert_closed("after ending the room");
    assert_eq!(emu.input(&uid).await.unwrap()["enabled"], false);
    eventually("the disconnect after ending", || {
        let emu = emu.clone();
        let uid = uid.clone();
        async move { (events_of(&emu, &uid).await.len() == 6).then_some(()) }
    })
    .await;
    // The dropped publish's recording settles (ready, or removed when nothing was recorded).
    eventually("the last recording settles", || {
        let emu = emu.clone();
        let uid = uid.clone();
        async move {
            let v = emu.videos(&uid).await;
            v.iter()
                .all(|v| v["status"]["state"] == "ready")
                .then_some(())
        }
    })
    .await;
    let before = recordings(&tmp);
    Publisher::start(&format!("{ingest}{new_key}"), &clip).assert_closed("a disabled input");
    assert_eq!(
        events_of(&emu, &uid)
            .await
            .into_iter()
            .map(|(e, _)| e)
            .collect::<Vec<_>>(),
        [
            "live_input.connected",
            "live_input.disconnected",
            "live_input.connected",
            "live_input.disconnected",
            "live_input.connected",
            "live_input.disconnected"
        ]
    );
    assert_eq!(recordings(&tmp), before);
}

/// Two rooms broadcast at once, each with its own ffmpeg, each page showing its own picture.
#[tokio::test]
async fn two_rooms_broadcast_at_once_each_with_its_own_picture() {
    let (s, _tmp) = start_server();
    let api = s.api();
    let ingest = s.rtmp_ingest.clone().unwrap();
    let sizes = [(640u64, 360u64), (320, 240)];
    let mut rooms = vec![];
    let mut publishers = vec![];
    for (i, (w, h)) in sizes.iter().enumerate() {
        let c = api.create_as_host(&wallet(), &format!("Room {i}")).await;
        publishers.push(Publisher::start(
            &format!("{ingest}{}", c.str("StreamKey")),
            &fixture(*w as u32, *h as u32, Audio::Aac),
        ));
        rooms.push(c.json.clone());
    }
    let serve = s.proc.pid();
    eventually("one ffmpeg per broadcast", || async move {
        (children_named(serve, "ffmpeg").len() == 2).then_some(())
    })
    .await;
    for (room, (w, h)) in rooms.iter().zip(sizes) {
        let hls = room["playback"]["hls"].as_str().unwrap().to_string();
        eventually("segments", || {
            let hls = hls.clone();
            async move {
                let r = reqwest::get(&hls).await.unwrap();
                let body = r.text().await.unwrap();
                (body.matches("#EXTINF").count() >= 2).then_some(())
            }
        })
        .await;
        let (pw, ph, _) = probe(&hls);
        assert_eq!((pw, ph), (w, h));
    }
    let browser = Chromium::launch().await;
    for (room, (w, h)) in rooms.iter().zip(sizes) {
        let tab = browser
            .open(room["playback"]["iframe"].as_str().unwrap())
            .await;
        assert_plays(&tab, w, h).await;
    }
    browser.close().await;
    drop(publishers);
    eventually("every ffmpeg exits with its publish", || async move {
        children_named(serve, "ffmpeg").is_empty().then_some(())
    })
    .await;
}

/// README: "Only H.264 video (and AAC/MP3 audio) is taken": an H.264 + MP3 push goes live and its
/// HLS carries the MP3 audio (remuxed, not transcoded).
#[tokio::test]
async fn h264_with_mp3_audio_is_taken_and_keeps_its_audio() {
    let fixture = fixture(320, 240, Audio::Mp3);
    let (s, _tmp) = start_server();
    let api = s.api();
    let c = api.create_as_host(&wallet(), "MP3 audio").await;
    let uid = c.str("sessionId");
    let _publisher = Publisher::start(
        &format!("{}{}", s.rtmp_ingest.clone().unwrap(), c.str("StreamKey")),
        &fixture,
    );
    let hls = c.json["playback"]["hls"].as_str().unwrap().to_string();
    eventually("segments", || {
        let hls = hls.clone();
        async move {
            let body = reqwest::get(&hls).await.unwrap().text().await.unwrap();
            (body.matches("#EXTINF").count() >= 2).then_some(())
        }
    })
    .await;
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,codec_name",
        ])
        .args(["-of", "json", &hls])
        .output()
        .expect("ffprobe runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut streams: Vec<(String, String)> = v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["codec_type"].as_str().unwrap().to_string(),
                s["codec_name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    streams.sort();
    assert_eq!(
        streams,
        vec![
            ("audio".to_string(), "mp3".to_string()),
            ("video".to_string(), "h264".to_string())
        ]
    );
    let live = api.get(&format!("/api/livestream?sessionId={uid}")).await;
    assert_eq!(live.json["broadcasting"], true, "{}", live.text);
    let errored: Vec<_> = events_of(&s.emulator(), &uid)
        .await
        .into_iter()
        .filter(|(e, _)| e.contains("errored"))
        .collect();
    assert!(errored.is_empty(), "{errored:?}");
}

/// Ctrl-C (SIGINT) to `serve` during a push stops it cleanly and leaves no ffmpeg behind.
#[tokio::test]
async fn ctrl_c_during_a_push_leaves_no_ffmpeg_behind() {
    let (mut s, tmp) = start_server();
    let c = s.api().create_as_host(&wallet(), "Ctrl-C").await;
    let ingest = s.rtmp_ingest.clone().unwrap();
    let _publisher = Publisher::start(
        &format!("{ingest}{}", c.str("StreamKey")),
        &fixture(320, 240, Audio::Aac),
    );
    let serve = s.proc.pid();
    let recorders = eventually("the recorder runs", || async move {
        let c = children_named(serve, "ffmpeg");
        (c.len() == 1).then_some(c)
    })
    .await;
    // SAFETY: plain kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(serve as i32, libc::SIGINT) }, 0);
    let deadline = Instant::now() + EVENTUALLY;
    while alive(serve) {
        assert!(Instant::now() < deadline, "serve did not stop after SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    }
    for pid in recorders {
        assert!(!alive(pid), "ffmpeg {pid} outlived serve");
    }
    assert!(children_named(serve, "ffmpeg").is_empty());
    assert!(
        s.proc.output().contains("shutting down"),
        "{}",
        s.proc.output()
    );
    s.proc.kill();
    // The recordings' temp dir is removed with the emulator.
    assert_eq!(recordings(&tmp), Vec::<String>::new());
}

/// Without ffmpeg the server still starts: one line says video ingest is off and how to install
/// it, rooms get Cloudflare's ingest URL (nothing fake), and the create answer says so too.
#[tokio::test]
async fn without_ffmpeg_serve_starts_with_video_ingest_off_and_says_so() {
    let missing = scratch_dir("no-ffmpeg").join("ffmpeg");
    let s = Server::start(&[("ROOMCAST_FFMPEG", missing.to_str().unwrap())]);
    let expected = format!(
        "Video ingest is off: ROOMCAST_FFMPEG={} is not a file; install ffmpeg (apt-get install \
         ffmpeg) or point ROOMCAST_FFMPEG at an ffmpeg binary",
        missing.display()
    );
    let output = s.proc.output();
    let lines: Vec<&str> = output
        .lines()
        .filter(|l| l.contains("Video ingest"))
        .collect();
    assert_eq!(lines, vec![expected.as_str()], "{output}");
    assert_eq!(s.rtmp_ingest, None);
    let c = s.api().create_as_host(&wallet(), "No video").await;
    c.assert_status(201);
    assert_eq!(c.str("IngestURL"), CLOUDFLARE_INGEST);
    assert_eq!(c.str("notice"), expected);
    let on_chain = s
        .chain_reader()
        .room(&s.room_address(&c.str("SessionID")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(on_chain.ingest_url, CLOUDFLARE_INGEST);
    // With ffmpeg every ingest (RTMP, SRT, WebRTC) runs locally: no notice.
    let (with, _tmp) = start_server();
    let c = with.api().create_as_host(&wallet(), "Video").await;
    assert!(c.json.get("notice").is_none(), "{}", c.json);
}
