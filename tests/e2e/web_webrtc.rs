//! Going live from the browser (issue 23) in real headless Chromium with a fake camera and
//! microphone: the host console publishes over WHIP to the embedded emulator, the room goes Live
//! on-chain from that alone, a watch page plays it over WHEP with its video advancing (decoded
//! frames) and shows low latency, HLS has nothing for it (Cloudflare's rule); the host switches to
//! an encoder (RTMP) and back to the browser sharing its screen, the same watch page following by
//! itself (HLS, then WHEP); ending the room stops both pages.
use crate::support;
use crate::web::{click, text};

use std::time::Duration;

use roomcast_chain::RoomStatus;
use serde_json::{json, Value};
use support::browser::{Chromium, Tab};
use support::encoder::{Encoder, Publisher as Encoding};
use support::{Server, EVENTUALLY};

/// Generous bound for WebRTC to connect and frames to flow (a busy 2-core machine).
const MEDIA_BOUND: Duration = Duration::from_secs(60);
/// For HLS to start (ffmpeg start-up, first segments, player start-up).
const VIDEO_BOUND: Duration = Duration::from_secs(90);

/// Chromium's fake capture devices, granted without a prompt; screen sharing picks the screen.
const FAKE_MEDIA: &[&str] = &[
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--auto-select-desktop-capture-source=Entire screen",
];

async fn frames(tab: &Tab) -> u64 {
    tab.eval("document.getElementById('player').getVideoPlaybackQuality().totalVideoFrames")
        .await
}

/// Clicks "Go live from this browser" (or "Share your screen instead": `button`) and waits for
/// the console to publish and show live.
async fn go_live_from_the_browser(console: &Tab, button: &str) {
    click(console, button).await;
    console
        .wait_for_with(
            "the console publishes and shows live",
            "document.getElementById('browser-live').dataset.state === 'publishing' \
             && document.getElementById('room-panel').dataset.state === 'live'",
            "[document.getElementById('browser-live-state').textContent, \
              document.getElementById('message').textContent, \
              document.getElementById('room-panel').dataset.state]",
            MEDIA_BOUND,
        )
        .await;
    assert_eq!(
        text(console, "#browser-live-state").await,
        "Publishing from this browser (WebRTC)"
    );
    assert_eq!(text(console, "#room-state").await, "You are live");
}

/// The watch page plays over WebRTC (low latency shown), its video advancing with decoded frames
/// (a still screen may send a frame only when it changes: then only that it decoded one).
async fn plays_over_webrtc(viewer: &Tab, advancing: bool) {
    viewer.bring_to_front().await;
    viewer
        .wait_for_with(
            "the watch page plays over WebRTC",
            "document.body.dataset.playback === 'webrtc' && document.getElementById('player').currentTime > 0",
            "[document.body.dataset.state, document.body.dataset.playback, document.getElementById('player').currentTime]",
            MEDIA_BOUND,
        )
        .await;
    assert_eq!(text(viewer, "#latency").await, "Low latency (WebRTC)");
    assert_eq!(text(viewer, "#badge").await, "LIVE");
    if !advancing {
        viewer
            .wait_for(
                "a decoded frame",
                "document.getElementById('player').videoWidth > 0",
                MEDIA_BOUND,
            )
            .await;
        return;
    }
    let (t0, f0): (f64, u64) = (
        viewer
            .eval("document.getElementById('player').currentTime")
            .await,
        frames(viewer).await,
    );
    viewer
        .wait_for_with(
            "the video advances",
            &format!(
                "document.getElementById('player').currentTime > {t0} + 2 && \
                 document.getElementById('player').getVideoPlaybackQuality().totalVideoFrames > {f0} + 30"
            ),
            "[document.getElementById('player').currentTime, document.getElementById('player').getVideoPlaybackQuality().totalVideoFrames]",
            MEDIA_BOUND,
        )
        .await;
    let size: Value = viewer
        .eval("[document.getElementById('player').videoWidth, document.getElementById('player').videoHeight]")
        .await;
    assert!(
        size[0].as_u64().unwrap() > 0 && size[1].as_u64().unwrap() > 0,
        "{size}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_goes_live_from_the_browser_and_a_viewer_watches_over_webrtc() {
    let server = Server::start(&[]);
    let browser = Chromium::launch_with(FAKE_MEDIA).await;
    let console = browser.open(&server.host_console).await;
    console
        .wait_for(
            "the local test wallet is offered",
            "!document.getElementById('local-wallet-offer').classList.contains('hidden')",
            EVENTUALLY,
        )
        .await;
    click(&console, "#local-wallet").await;
    console
        .wait_for(
            "the local wallet is connected",
            "document.body.dataset.step === 'sign-in'",
            EVENTUALLY,
        )
        .await;
    click(&console, "#sign-in").await;
    console
        .wait_for(
            "signed in",
            "document.body.dataset.step === 'rooms'",
            EVENTUALLY,
        )
        .await;
    let title = console.page().find_element("#create-title").await.unwrap();
    title.click().await.unwrap();
    title.type_str("Browser show").await.unwrap();
    click(&console, "#create").await;
    console
        .wait_for(
            "the console waits for the host",
            "document.getElementById('room-panel').dataset.state === 'waiting'",
            EVENTUALLY,
        )
        .await;
    let record = server
        .rooms(None)
        .await
        .into_iter()
        .find(|r| r.room.title == "Browser show")
        .unwrap();
    let room = record.address.to_string();
    let session_id = record.room.session_id.clone();

    // Go live from this browser: the fake camera is previewed and published over WHIP.
    assert_eq!(
        text(&console, "#go-live-camera").await,
        "Go live from this browser"
    );
    go_live_from_the_browser(&console, "#go-live-camera").await;
    let previewing: bool = console
        .eval("(() => { const v = document.getElementById('camera'); return !!v.srcObject && v.srcObject.getVideoTracks().length === 1; })()")
        .await;
    assert!(previewing, "the local preview shows the camera");
    // Live as the server sees it: on-chain (from the WHIP publish alone), at the emulator (over
    // WebRTC), in the room view.
    support::eventually("the room is Live on-chain", || {
        let server = &server;
        let room = room.clone();
        async move {
            let r = server
                .rooms(None)
                .await
                .into_iter()
                .find(|r| r.address.to_string() == room)?;
            (r.room.status == RoomStatus::Live).then_some(())
        }
    })
    .await;
    let input = server.emulator().input(&session_id).await.unwrap();
    assert_eq!(
        input["status"]["current"]["ingestProtocol"], "webrtc",
        "{input}"
    );
    let view = server.api().get(&format!("/api/rooms/{room}")).await;
    view.assert_status(200);
    assert_eq!(
        view.json["broadcast"]["protocol"], "webrtc",
        "{}",
        view.json
    );
    assert_eq!(
        view.json["livePlayback"],
        json!({"protocol": "webrtc", "url": input["webRTCPlayback"]["url"]})
    );
    // No HLS for a WHIP broadcast, as on Cloudflare.
    let hls = view.json["playback"]["hls"].as_str().unwrap().to_string();
    assert_eq!(
        reqwest::get(&hls).await.unwrap().status().as_u16(),
        204,
        "{hls}"
    );

    // A viewer: the watch page plays over WebRTC, its video advancing with decoded frames.
    let viewer = browser.open(&format!("{}/watch/{room}", server.base)).await;
    plays_over_webrtc(&viewer, true).await;

    // The host stops and broadcasts with an encoder (RTMP) instead: the same page switches to HLS.
    click(&console, "#stop-browser").await;
    viewer
        .wait_for(
            "the watch page says interrupted",
            "document.body.dataset.state === 'interrupted' && document.getElementById('player').srcObject === null",
            EVENTUALLY,
        )
        .await;
    let key = input["rtmps"]["streamKey"].as_str().unwrap().to_string();
    let mut encoder = Encoding::start(Encoder::Ffmpeg, &format!("{}{key}", server.ingest_url()));
    viewer.bring_to_front().await;
    viewer
        .wait_for_with(
            "the watch page plays HLS",
            "document.body.dataset.playback === 'hls' && document.getElementById('player').currentTime > 0",
            "[document.body.dataset.state, document.body.dataset.playback, document.getElementById('player').currentTime]",
            VIDEO_BOUND,
        )
        .await;
    encoder.assert_running();
    assert_eq!(text(&viewer, "#latency").await, "");
    let view = server.api().get(&format!("/api/rooms/{room}")).await;
    assert_eq!(view.json["broadcast"]["protocol"], "rtmp", "{}", view.json);
    assert_eq!(
        view.json["livePlayback"]["protocol"], "hls",
        "{}",
        view.json
    );
    // …and back to the browser, sharing the screen this time: the page switches back to WebRTC.
    drop(encoder);
    viewer
        .wait_for(
            "the watch page says interrupted",
            "document.body.dataset.state === 'interrupted'",
            EVENTUALLY,
        )
        .await;
    go_live_from_the_browser(&console, "#go-live-screen").await;
    let screen: String = console
        .eval("document.getElementById('camera').srcObject.getVideoTracks()[0].label")
        .await;
    assert!(screen.starts_with("screen:"), "{screen}");
    plays_over_webrtc(&viewer, false).await;

    // Ending the room stops both pages: the console's publish and the viewer's playback.
    console.bring_to_front().await;
    click(&console, "#end-api").await;
    console
        .wait_for_with(
            "the console stops publishing",
            "document.getElementById('room-panel').dataset.state === 'ended' \
             && document.getElementById('browser-live').dataset.state === ''",
            "[document.getElementById('room-panel').dataset.state, document.getElementById('browser-live').dataset.state]",
            EVENTUALLY,
        )
        .await;
    let camera_off: bool = console
        .eval("document.getElementById('camera').srcObject === null")
        .await;
    assert!(camera_off);
    viewer.bring_to_front().await;
    viewer
        .wait_for_with(
            "the watch page says ended and stops",
            "document.body.dataset.state === 'ended' && document.getElementById('player').srcObject === null",
            "[document.body.dataset.state, String(document.getElementById('player').srcObject)]",
            EVENTUALLY,
        )
        .await;
    assert_eq!(text(&viewer, "#state").await, "This room has ended.");
    support::eventually("the emulator's input is disabled and not live", || {
        let emulator = server.emulator();
        let session_id = session_id.clone();
        async move {
            let i = emulator.input(&session_id).await?;
            (i["enabled"] == false && i["status"]["current"]["state"] == "disconnected")
                .then_some(())
        }
    })
    .await;
    browser.close().await;
}
