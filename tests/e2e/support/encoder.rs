//! Real RTMP encoders publishing what OBS sends by default — H.264 high profile with B-frames
//! (x264 `bframes=2`) and 48 kHz AAC — live-encoded test patterns: ffmpeg's native RTMP client,
//! librtmp (GStreamer `rtmpsink`; OBS's RTMP output is a librtmp fork) and GStreamer's own
//! `rtmp2sink`. The pipelines are the ones `app/stream/tests/encoders.rs` runs against the
//! emulator alone; here they go through `roomcast serve`. `scripts/test.sh` installs GStreamer.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{die_with_parent, scratch_dir};

/// Size of every pattern published (a mixed-up stream of another size cannot pass).
pub const WIDTH: u32 = 426;
pub const HEIGHT: u32 = 240;
/// OBS's default audio sample rate.
pub const AUDIO_RATE: u32 = 48_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoder {
    /// ffmpeg's own RTMP client (libavformat/rtmpproto.c).
    Ffmpeg,
    /// librtmp through GStreamer's `rtmpsink` (OBS's RTMP output is a librtmp fork).
    Librtmp,
    /// GStreamer's own RTMP client, `rtmp2sink`.
    Rtmp2,
}

impl Encoder {
    pub const ALL: [Encoder; 3] = [Encoder::Ffmpeg, Encoder::Librtmp, Encoder::Rtmp2];

    /// The command publishing H.264 high + B-frames + AAC to `url` until killed or dropped.
    fn command(self, url: &str) -> Command {
        match self {
            Encoder::Ffmpeg => {
                let mut c = Command::new(
                    std::env::var("ROOMCAST_FFMPEG").unwrap_or_else(|_| "ffmpeg".into()),
                );
                c.args(["-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi"])
                    .arg("-i")
                    .arg(format!("testsrc=size={WIDTH}x{HEIGHT}:rate=30"))
                    .args(["-re", "-f", "lavfi", "-i"])
                    .arg(format!("sine=frequency=440:sample_rate={AUDIO_RATE}"))
                    .args(["-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "30"])
                    .args(["-preset", "veryfast", "-profile:v", "high", "-bf", "2"])
                    .args(["-x264-params", "b-adapt=0:rc-lookahead=10"])
                    .args(["-c:a", "aac", "-b:a", "64k", "-f", "flv", url]);
                c
            }
            Encoder::Librtmp | Encoder::Rtmp2 => {
                let mut c = Command::new("gst-launch-1.0");
                c.arg("-q")
                    .args(["videotestsrc", "is-live=true", "!"])
                    .arg(format!(
                        "video/x-raw,format=I420,width={WIDTH},height={HEIGHT},framerate=30/1"
                    ))
                    .args(["!", "x264enc", "key-int-max=30", "speed-preset=veryfast"])
                    .args(["bframes=2", "b-adapt=false", "rc-lookahead=10", "!"])
                    .args(["video/x-h264,profile=high", "!", "h264parse", "!", "queue"])
                    .args(["!", "flvmux", "name=m", "streamable=true", "!"]);
                match self {
                    // librtmp's URL syntax: options follow the URL, space-separated.
                    Encoder::Librtmp => c.arg("rtmpsink").arg(format!("location={url} live=1")),
                    _ => c.arg("rtmp2sink").arg(format!("location={url}")),
                };
                c.args(["audiotestsrc", "is-live=true", "!", "audioconvert", "!"])
                    .args(["audioresample", "!"])
                    .arg(format!("audio/x-raw,rate={AUDIO_RATE},channels=2"))
                    .args(["!", "avenc_aac", "!", "aacparse", "!", "queue", "!", "m."]);
                c
            }
        }
    }
}

/// A running encoder, killed when dropped (and when the test process dies); its stderr goes to
/// a file the assertions print.
pub struct Publisher {
    child: Child,
    log: PathBuf,
    pub encoder: Encoder,
}

impl Publisher {
    pub fn start(encoder: Encoder, url: &str) -> Publisher {
        let log = scratch_dir("encoder").join(format!("{encoder:?}.log"));
        let mut cmd = encoder.command(url);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        die_with_parent(&mut cmd);
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "{:?} runs (scripts/test.sh installs it): {e}",
                cmd.get_program()
            )
        });
        Publisher {
            child,
            log,
            encoder,
        }
    }

    pub fn exited(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// Panics with the encoder's log if it quit (call while waiting for it to be live).
    pub fn assert_running(&mut self) {
        assert!(!self.exited(), "the encoder quit: {}", self.log());
    }

    /// Waits up to `bound` for the encoder to exit: the server dropped it.
    pub async fn dropped(&mut self, bound: Duration) -> bool {
        let deadline = Instant::now() + bound;
        while Instant::now() < deadline {
            if self.exited() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    }

    pub fn log(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        format!("{:?}: {}", self.encoder, text.trim())
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
