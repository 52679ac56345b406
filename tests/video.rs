//! Real video through the built binary: an RTMP publisher (ffmpeg) pushes to the ingest URL and
//! key from `POST /api/create`, the embedded Stream emulator remuxes it to HLS, and ffprobe and a
//! headless Chromium play it. One test binary, so CI starts few browsers.
mod support;

use support::browser::Chromium;

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
