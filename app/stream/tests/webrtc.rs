//! WHIP ingest and WHEP playback of the emulator, driven by an independent WebRTC stack: aiortc
//! (Python, `tests/whip/client.py`, installed in a venv by `tests/whip/setup.sh`). A publish
//! goes live exactly like an RTMP one (webhooks, `lifecycle`), is neither recorded nor served
//! over HLS (Cloudflare's rule), plays over WHEP with real decoded frames, and ends with a
//! DELETE or when the input is disabled; every refusal has its status and nothing happens.
//!
//! Needs ffmpeg (real video on) and python3-venv (scripts/test.sh installs both). Nothing waits
//! for a fixed time: every wait polls a condition under a generous bound.
mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use roomcast_stream::client::{
    CreateLiveInput, LiveInput, LiveInputStatus, Recording, StreamClient,
};
use roomcast_stream::emulator::{
    Emulator, EmulatorHandle, EmulatorOptions, VideoIngest, WebRtcLimits, WebhookTarget,
};
use secrecy::SecretString;
use serde_json::Value;

const BOUND: Duration = Duration::from_secs(90);

/// The venv's python with aiortc (set up once per machine).
fn python() -> String {
    static PY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PY.get_or_init(|| {
        let setup = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/whip/setup.sh");
        let out = Command::new(setup)
            .stderr(Stdio::inherit())
            .output()
            .expect("tests/whip/setup.sh runs");
        assert!(out.status.success(), "tests/whip/setup.sh failed");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
    .clone()
}

/// One aiortc client process; its JSON lines are collected as they come.
struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Arc<Mutex<Vec<Value>>>,
}

impl Peer {
    fn start(mode: &str, url: &str, extra: &[&str]) -> Peer {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/whip/client.py");
        let mut child = Command::new(python())
            .arg(script)
            .args([mode, url, "--seconds", "300"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the aiortc client starts");
        let stdout = child.stdout.take().unwrap();
        let lines: Arc<Mutex<Vec<Value>>> = Arc::default();
        let l = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str(&line) {
                    l.lock().unwrap().push(v);
                }
            }
        });
        Peer {
            stdin: child.stdin.take(),
            child,
            lines,
        }
    }

    fn event(&self, name: &str) -> Option<Value> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|v| v["event"] == name)
            .cloned()
    }

    async fn wait_event(&mut self, name: &str) -> Value {
        let what = format!("the client's {name:?}");
        let deadline = std::time::Instant::now() + BOUND;
        loop {
            if let Some(e) = self.event(name) {
                return e;
            }
            let exited = self.child.try_wait().unwrap();
            // Its last lines may still be on their way.
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let (Some(status), None) = (exited, self.event(name)) {
                panic!(
                    "{what}: the client exited ({status}) after {:?}",
                    self.lines.lock().unwrap()
                );
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
        }
    }

    /// Closing stdin makes the client DELETE its session and exit.
    fn leave(&mut self) {
        self.stdin.take();
    }

    async fn exit_code(&mut self) -> i32 {
        until("the client to exit", BOUND, || {
            let s = self.child.try_wait().unwrap();
            async move { s }
        })
        .await
        .code()
        .unwrap_or(-1)
    }

    /// Video frames decoded so far.
    fn video_frames(&self) -> u64 {
        self.event("frames")
            .and_then(|f| f["video"].as_u64())
            .unwrap_or(0)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn webrtc_emulator(limits: Option<WebRtcLimits>) -> EmulatorHandle {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let mut opts = EmulatorOptions::new(ACCOUNT, SecretString::from(TOKEN.to_string()));
    opts.rtmp_listen = Some("127.0.0.1:0".parse().unwrap());
    if let Some(l) = limits {
        opts.webrtc_limits = l;
    }
    let emu = Emulator::start(opts).await.expect("emulator starts");
    assert!(
        matches!(emu.video_ingest(), VideoIngest::On { .. }),
        "video ingest must be on (ffmpeg on PATH?): {:?}",
        emu.video_ingest()
    );
    emu
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

fn whip_url(i: &LiveInput) -> String {
    i.web_rtc
        .as_ref()
        .expect("webRTC on a video emulator")
        .url
        .clone()
}

fn whep_url(i: &LiveInput) -> String {
    i.web_rtc_playback
        .as_ref()
        .expect("webRTCPlayback on a video emulator")
        .url
        .clone()
}

fn events(sink: &WebhookSink) -> Vec<String> {
    sink.received
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.body["data"]["event_type"].as_str().unwrap().to_string())
        .collect()
}

async fn wait_events(sink: &WebhookSink, want: &[&str]) {
    until(&format!("notifications {want:?}"), BOUND, || {
        let got = events(sink);
        async move { (got == want).then_some(()) }
    })
    .await;
}

fn ingest_protocol(i: &LiveInput) -> Option<String> {
    match &i.status {
        LiveInputStatus::Detailed(d) => d.current.as_ref()?.ingest_protocol.clone(),
        _ => None,
    }
}

async fn post_sdp(url: &str, ctype: &str, body: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(url)
        .header("content-type", ctype)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn error_message(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON error: {body}"));
    assert_eq!(v["success"], false, "{body}");
    v["errors"][0]["message"].as_str().unwrap().to_string()
}

/// aiortc publishes H.264 over WHIP: 201 with an SDP answer and a Location; the input goes
/// live (`connected`, `lifecycle` live without a video, `ingestProtocol` webrtc), nothing is
/// recorded and HLS has nothing (204), an aiortc viewer decodes the 640x360 video and the
/// audio over WHEP, and the publisher's DELETE ends the broadcast (`disconnected`) and the
/// viewer's session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whip_publish_goes_live_plays_over_whep_and_delete_ends_it() {
    for codec in ["H264", "VP8"] {
        let emu = webrtc_emulator(None).await;
        let client = client(&emu);
        let sink = webhook_sink().await;
        emu.set_webhook(Some(WebhookTarget {
            url: sink.url.clone(),
            secret: None,
        }));
        let input = recorded_input(&client).await;
        let uid = input.uid.clone();
        assert_eq!(
            whep_url(&input),
            format!("{}/{uid}/webRTC/play", emu.delivery_base_url())
        );
        assert!(whip_url(&input).starts_with(&format!("{}/", emu.delivery_base_url())));
        assert!(whip_url(&input).ends_with(&format!("k{uid}/webRTC/publish")));

        let mut publisher = Peer::start("publish", &whip_url(&input), &["--codec", codec]);
        let created = publisher.wait_event("created").await;
        assert_eq!(created["status"], 201);
        let location = created["location"].as_str().unwrap().to_string();
        assert!(
            location.starts_with(&format!("{}/webRTC/sessions/", emu.delivery_base_url())),
            "{location}"
        );
        publisher.wait_event("connected").await;
        wait_events(&sink, &["live_input.connected"]).await;
        let life = client.lifecycle(&uid).await.unwrap();
        assert!(life.live, "{codec}");
        assert_eq!(life.video_uid, None, "a WebRTC broadcast is not recorded");
        let now = client.get_live_input(&uid).await.unwrap();
        assert!(now.status.is_connected());
        assert_eq!(ingest_protocol(&now).as_deref(), Some("webrtc"));
        assert_eq!(client.live_input_videos(&uid).await.unwrap(), vec![]);
        let hls = reqwest::get(format!(
            "{}/{uid}/manifest/video.m3u8",
            emu.delivery_base_url()
        ))
        .await
        .unwrap();
        assert_eq!(hls.status().as_u16(), 204, "no HLS for a WHIP broadcast");

        let mut viewer = Peer::start("play", &whep_url(&input), &[]);
        assert_eq!(viewer.wait_event("created").await["status"], 201);
        viewer.wait_event("connected").await;
        assert_eq!(emu.webrtc_sessions(&uid), (1, 1));
        until("60 decoded video frames at the viewer", BOUND, || {
            let n = viewer.video_frames();
            async move { (n >= 60).then_some(()) }
        })
        .await;
        let frames = viewer.event("frames").unwrap();
        assert_eq!(
            (frames["width"].as_u64(), frames["height"].as_u64()),
            (Some(640), Some(360)),
            "{codec}"
        );
        assert!(frames["audio"].as_u64().unwrap() > 0, "{frames}");

        // The publisher leaves (DELETE of its Location): the broadcast ends, and its viewer.
        publisher.leave();
        assert_eq!(publisher.wait_event("deleted").await["status"], 200);
        assert_eq!(publisher.exit_code().await, 0);
        wait_events(&sink, &["live_input.connected", "live_input.disconnected"]).await;
        assert!(!client.lifecycle(&uid).await.unwrap().live);
        until("the viewer's session to end", BOUND, || {
            let n = emu.webrtc_sessions(&uid);
            async move { (n == (0, 0)).then_some(()) }
        })
        .await;
        assert_eq!(client.live_input_videos(&uid).await.unwrap(), vec![]);
        // Its Location is gone.
        let gone = reqwest::Client::new()
            .delete(&location)
            .send()
            .await
            .unwrap();
        assert_eq!(gone.status().as_u16(), 404);
        viewer.leave();
        emu.shutdown().await;
    }
}

/// What is refused, with what, and that nothing happens then: a wrong, another input's or a
/// rotated-away WHIP URL (401), a disabled input (403), a second publisher (409), a body that
/// is not `application/sdp` (415) or not SDP (400); WHEP of an unknown input (404), of an idle
/// input or an RTMP-style broadcast (409); an unknown session's DELETE (404). Disabling the
/// input drops the WHIP publisher (`disconnected`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whip_and_whep_refusals_and_disabling_drops_the_publisher() {
    let emu = webrtc_emulator(None).await;
    let client = client(&emu);
    let sink = webhook_sink().await;
    emu.set_webhook(Some(WebhookTarget {
        url: sink.url.clone(),
        secret: None,
    }));
    let input = recorded_input(&client).await;
    let other = recorded_input(&client).await;
    let uid = input.uid.clone();
    let base = emu.delivery_base_url();

    // A wrong secret (right shape, right uid) and another input's URL with this uid.
    let forged = format!("{base}/{}k{uid}/webRTC/publish", "0".repeat(32));
    let mut p = Peer::start("publish", &forged, &[]);
    let refused = p.wait_event("refused").await;
    assert_eq!(refused["status"], 401, "{refused}");
    assert_eq!(
        error_message(refused["body"].as_str().unwrap()),
        "unknown or rotated WebRTC publish URL"
    );
    assert_eq!(p.exit_code().await, 2);
    let (status, _) = post_sdp(
        &whip_url(&other).replace(&other.uid, &uid),
        "application/sdp",
        "v=0\r\n",
    )
    .await;
    assert_eq!(status, 401);
    // Rotated away.
    let old = whip_url(&input);
    let input = client.rotate_keys(&uid).await.unwrap();
    assert_ne!(whip_url(&input), old);
    let (status, body) = post_sdp(&old, "application/sdp", "v=0\r\n").await;
    assert_eq!(
        (status, error_message(&body).as_str()),
        (401, "unknown or rotated WebRTC publish URL")
    );
    // Not SDP.
    let (status, body) = post_sdp(&whip_url(&input), "application/json", "{}").await;
    assert_eq!(status, 415, "{body}");
    assert_eq!(
        error_message(&body),
        "the body must be an SDP offer (Content-Type: application/sdp)"
    );
    let (status, body) = post_sdp(&whip_url(&input), "application/sdp", "hello").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        error_message(&body),
        "the body is not an SDP offer: it does not start with v=0"
    );
    // Disabled.
    client.set_enabled(&uid, false).await.unwrap();
    let (status, body) = post_sdp(&whip_url(&input), "application/sdp", "v=0\r\n").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        error_message(&body),
        format!("live input {uid} is disabled (enabled=false) and refuses publishers")
    );
    client.set_enabled(&uid, true).await.unwrap();
    // WHEP: unknown input, idle input.
    let (status, body) = post_sdp(
        &format!("{base}/{}/webRTC/play", "f".repeat(32)),
        "application/sdp",
        "v=0\r\n",
    )
    .await;
    assert_eq!(
        (status, error_message(&body)),
        (404, format!("live input {} not found", "f".repeat(32)))
    );
    let (status, body) = post_sdp(&whep_url(&input), "application/sdp", "v=0\r\n").await;
    assert_eq!(
        (status, error_message(&body)),
        (409, format!("live input {uid} is not broadcasting"))
    );
    // An unknown session.
    let r = reqwest::Client::new()
        .delete(format!("{base}/webRTC/sessions/{}", "a".repeat(32)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    // Nothing of this happened to the input.
    assert_eq!(events(&sink), Vec::<String>::new());
    assert!(!client.lifecycle(&uid).await.unwrap().live);

    // A live WHIP publish: a second publisher is refused (409).
    let mut publisher = Peer::start("publish", &whip_url(&input), &[]);
    publisher.wait_event("connected").await;
    wait_events(&sink, &["live_input.connected"]).await;
    let mut second = Peer::start("publish", &whip_url(&input), &[]);
    let refused = second.wait_event("refused").await;
    assert_eq!(refused["status"], 409);
    assert_eq!(
        error_message(refused["body"].as_str().unwrap()),
        format!("live input {uid} already has a publisher")
    );
    assert_eq!(second.exit_code().await, 2);
    // Disabling drops it.
    client.set_enabled(&uid, false).await.unwrap();
    wait_events(&sink, &["live_input.connected", "live_input.disconnected"]).await;
    until("the WHIP session to end", BOUND, || {
        let n = emu.webrtc_sessions(&uid);
        async move { (n == (0, 0)).then_some(()) }
    })
    .await;
    assert!(!client.lifecycle(&uid).await.unwrap().live);
    drop(publisher);

    // An RTMP-style broadcast (the control API's) cannot be played over WHEP.
    client.set_enabled(&uid, true).await.unwrap();
    emu.connect(&uid).await.unwrap();
    let (status, body) = post_sdp(&whep_url(&input), "application/sdp", "v=0\r\n").await;
    assert_eq!(
        (status, error_message(&body)),
        (409, format!("live input {uid} is broadcasting over RTMP/SRT, which plays over HLS/DASH, not WebRTC"))
    );
    // …and a WHIP publish is refused while it is live.
    let (status, _) = post_sdp(&whip_url(&input), "application/sdp", "v=0\r\n").await;
    assert_eq!(status, 409);
    emu.shutdown().await;
}

/// The limits: one broadcast per process and one viewer per broadcast here; the next is 503
/// with nothing started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webrtc_limits_refuse_with_503() {
    let emu = webrtc_emulator(Some(WebRtcLimits {
        max_broadcasts: 1,
        max_viewers_per_broadcast: 1,
        ..WebRtcLimits::default()
    }))
    .await;
    let client = client(&emu);
    let a = recorded_input(&client).await;
    let b = recorded_input(&client).await;
    let mut publisher = Peer::start("publish", &whip_url(&a), &[]);
    publisher.wait_event("connected").await;
    let mut second = Peer::start("publish", &whip_url(&b), &[]);
    let refused = second.wait_event("refused").await;
    assert_eq!(refused["status"], 503);
    assert_eq!(
        error_message(refused["body"].as_str().unwrap()),
        "this emulator takes at most 1 WebRTC broadcasts at once"
    );
    assert!(!client.lifecycle(&b.uid).await.unwrap().live);
    let mut viewer = Peer::start("play", &whep_url(&a), &[]);
    viewer.wait_event("connected").await;
    let mut next = Peer::start("play", &whep_url(&a), &[]);
    let refused = next.wait_event("refused").await;
    assert_eq!(refused["status"], 503);
    assert_eq!(
        error_message(refused["body"].as_str().unwrap()),
        "this broadcast has its 1 WebRTC viewers already"
    );
    assert_eq!(emu.webrtc_sessions(&a.uid), (1, 1));
    drop((publisher, second, viewer, next));
    emu.shutdown().await;
}

/// A real RTMP publish (ffmpeg) names its protocol (`ingestProtocol: rtmp`), plays over HLS and
/// not over WHEP (409), and keeps WHIP publishers out (409) while live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rtmp_broadcast_says_rtmp_and_is_not_played_over_whep() {
    let emu = webrtc_emulator(None).await;
    let client = client(&emu);
    let input = recorded_input(&client).await;
    let uid = input.uid.clone();
    let rtmps = input.rtmps.clone().unwrap();
    let mut ffmpeg = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-re",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg("testsrc=size=320x240:rate=30")
        .args([
            "-t", "600", "-c:v", "libx264", "-preset", "veryfast", "-g", "30",
        ])
        .args(["-pix_fmt", "yuv420p", "-an", "-f", "flv"])
        .arg(format!("{}{}", rtmps.url, rtmps.stream_key))
        .stdin(Stdio::null())
        .spawn()
        .expect("ffmpeg runs");
    let live = until("the RTMP publish to be live", BOUND, || {
        let client = &client;
        let uid = uid.clone();
        async move {
            let i = client.get_live_input(&uid).await.ok()?;
            i.status.is_connected().then_some(i)
        }
    })
    .await;
    assert_eq!(ingest_protocol(&live).as_deref(), Some("rtmp"));
    let (status, body) = post_sdp(&whep_url(&input), "application/sdp", "v=0\r\n").await;
    assert_eq!(
        (status, error_message(&body)),
        (409, format!("live input {uid} is broadcasting over RTMP/SRT, which plays over HLS/DASH, not WebRTC"))
    );
    let (status, body) = post_sdp(&whip_url(&input), "application/sdp", "v=0\r\n").await;
    assert_eq!(
        (status, error_message(&body)),
        (409, format!("live input {uid} already has a publisher"))
    );
    assert_eq!(emu.webrtc_sessions(&uid), (0, 0));
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    emu.shutdown().await;
}

/// WHEP of an input with `recording.requireSignedURLs`, admitted as every delivery request (an
/// assumption: Cloudflare documents signed tokens in place of the uid for delivery URLs, not for
/// WHEP): the uid is refused (401, the body of any unsigned delivery), a valid token in its place
/// plays (an aiortc viewer decodes the video), an expired, a tampered and a revoked-key token are
/// refused — and nothing starts for a refused one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whep_of_a_signed_input_plays_only_with_a_valid_token() {
    use roomcast_stream::signed_urls::Claims;
    let emu = webrtc_emulator(None).await;
    let client = client(&emu);
    let input = client
        .create_live_input(&CreateLiveInput {
            recording: Some(Recording {
                require_signed_urls: Some(true),
                ..Recording::automatic()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let uid = input.uid.clone();
    let key = client.create_signing_key().await.unwrap();
    let mut publisher = Peer::start("publish", &whip_url(&input), &[]);
    assert_eq!(publisher.wait_event("created").await["status"], 201);
    publisher.wait_event("connected").await;
    let whep = whep_url(&input);
    let signed = |token: &str| whep.replace(&format!("/{uid}/"), &format!("/{token}/"));
    let sdp = offer(true);

    // The uid: refused as an unsigned manifest is.
    let (status, body) = post_sdp(&whep, "application/sdp", &sdp).await;
    assert_eq!((status, body.as_str()), (401, "Unauthorized\n"));
    let manifest = reqwest::get(format!(
        "{}/{uid}/manifest/video.m3u8",
        emu.delivery_base_url()
    ))
    .await
    .unwrap();
    assert_eq!(manifest.status().as_u16(), 401);
    // Expired, and tampered (its claims changed, the signature kept).
    let t = time::OffsetDateTime::now_utc().unix_timestamp();
    let expired = key.sign(&Claims::new(&uid, t - 600, t - 1));
    let good = key.sign(&Claims::new(&uid, t - 60, t + 300));
    let other = key.sign(&Claims::new("0".repeat(32).as_str(), t - 60, t + 300));
    let parts: Vec<&str> = good.split('.').collect();
    let other_claims = other.split('.').nth(1).unwrap();
    let tampered = format!("{}.{other_claims}.{}", parts[0], parts[2]);
    for token in [&expired, &tampered] {
        let (status, body) = post_sdp(&signed(token), "application/sdp", &sdp).await;
        assert_eq!((status, body.as_str()), (401, "Unauthorized\n"));
    }
    assert_eq!(emu.webrtc_sessions(&uid), (1, 0), "no viewer started");

    // A valid token plays.
    let mut viewer = Peer::start("play", &signed(&good), &[]);
    assert_eq!(viewer.wait_event("created").await["status"], 201);
    viewer.wait_event("connected").await;
    until("decoded video frames at the signed viewer", BOUND, || {
        let n = viewer.video_frames();
        async move { (n >= 10).then_some(()) }
    })
    .await;
    assert_eq!(emu.webrtc_sessions(&uid), (1, 1));

    // Its key revoked: the same token no longer opens a session.
    client.delete_signing_key(key.id()).await.unwrap();
    let (status, body) = post_sdp(&signed(&good), "application/sdp", &sdp).await;
    assert_eq!((status, body.as_str()), (401, "Unauthorized\n"));
    viewer.leave();
    publisher.leave();
    emu.shutdown().await;
}

/// An offer from aiortc that is never followed by a connection.
fn offer(video: bool) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/whip/client.py");
    let mut cmd = Command::new(python());
    cmd.arg(script).args(["offer", "-"]);
    if !video {
        cmd.arg("--no-video");
    }
    let out = cmd.output().expect("the aiortc client runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// Publishers that go away: one whose offer is taken but that never connects ends when the
/// connect deadline passes (`errored`, Cloudflare's unhealthy code), one killed mid-broadcast
/// (no DELETE, no goodbye) ends when its connection times out (`disconnected`); an offer
/// without video is refused (400) with nothing happening.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishers_that_never_connect_or_vanish_end_their_broadcast() {
    let emu = webrtc_emulator(Some(WebRtcLimits {
        connect_deadline: Duration::from_secs(2),
        ..WebRtcLimits::default()
    }))
    .await;
    let client = client(&emu);
    let sink = webhook_sink().await;
    emu.set_webhook(Some(WebhookTarget {
        url: sink.url.clone(),
        secret: None,
    }));
    let input = recorded_input(&client).await;
    let uid = input.uid.clone();

    let (status, body) = post_sdp(&whip_url(&input), "application/sdp", &offer(false)).await;
    assert_eq!(
        (status, error_message(&body)),
        (
            400,
            "the offer has no video this endpoint accepts (H.264, VP8, VP9 video; Opus audio)"
                .to_string()
        )
    );
    assert_eq!(events(&sink), Vec::<String>::new());

    let (status, answer) = post_sdp(&whip_url(&input), "application/sdp", &offer(true)).await;
    assert_eq!(status, 201, "{answer}");
    assert!(answer.starts_with("v=0"), "{answer}");
    assert!(answer.contains("a=candidate:"), "{answer}");
    wait_events(&sink, &["live_input.connected", "live_input.errored"]).await;
    let errored = sink.received.lock().unwrap()[1].body.clone();
    assert_eq!(
        errored["data"]["live_input_errored"]["error"]["code"], "ERR_UNHEALTHY",
        "{errored}"
    );
    assert!(!client.lifecycle(&uid).await.unwrap().live);
    assert_eq!(emu.webrtc_sessions(&uid), (0, 0));

    let mut publisher = Peer::start("publish", &whip_url(&input), &[]);
    publisher.wait_event("connected").await;
    wait_events(
        &sink,
        &[
            "live_input.connected",
            "live_input.errored",
            "live_input.connected",
        ],
    )
    .await;
    publisher.child.kill().unwrap();
    wait_events(
        &sink,
        &[
            "live_input.connected",
            "live_input.errored",
            "live_input.connected",
            "live_input.disconnected",
        ],
    )
    .await;
    assert!(!client.lifecycle(&uid).await.unwrap().live);
    assert_eq!(emu.webrtc_sessions(&uid), (0, 0));
    emu.shutdown().await;
}

/// Inputs kept across a restart (`save_inputs`/`load_inputs`) point their WHIP/WHEP URLs at the
/// new emulator's address, with the same publish secret, which the new emulator accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whip_urls_follow_a_restart_with_their_secret() {
    let first = webrtc_emulator(None).await;
    let input = recorded_input(&client(&first)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inputs.json");
    first.save_inputs(&path).unwrap();
    let secret = |url: &str| url.rsplit('/').nth(2).unwrap().to_string();
    let old = whip_url(&input);
    first.shutdown().await;

    let second = webrtc_emulator(None).await;
    assert_eq!(second.load_inputs(&path).unwrap(), 1);
    let again = client(&second).get_live_input(&input.uid).await.unwrap();
    let base = second.delivery_base_url();
    assert_eq!(
        whip_url(&again),
        format!("{base}/{}/webRTC/publish", secret(&old))
    );
    assert_eq!(
        whep_url(&again),
        format!("{base}/{}/webRTC/play", input.uid)
    );
    // The secret still opens the door (the body is checked next).
    let (status, body) = post_sdp(&whip_url(&again), "application/sdp", "hello").await;
    assert_eq!(
        (status, error_message(&body)),
        (
            400,
            "the body is not an SDP offer: it does not start with v=0".to_string()
        )
    );
    second.shutdown().await;
}
