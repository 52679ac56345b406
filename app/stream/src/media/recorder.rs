//! One broadcast's recording: a `kill_on_drop` ffmpeg child that remuxes the publisher's FLV
//! (`-c copy`, no transcoding) into an fMP4 HLS event playlist in the broadcast's directory.
//! While the publish runs the playlist is the live stream; when stdin closes ffmpeg appends
//! `#EXT-X-ENDLIST` and the same files are the recording (VOD).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::files::PLAYLIST;
use super::flv::{self, MediaTag};
use crate::notifications::{error_message, LiveInputErrorCode};

/// Tags buffered between the RTMP session and ffmpeg (about 15 s of a 30 fps stream with audio).
const QUEUE: usize = 1024;
/// How long ffmpeg may take to finish the playlist after its input ends.
const FINISH_BOUND: Duration = Duration::from_secs(15);

/// How a recording ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordOutcome {
    /// ffmpeg finished the playlist.
    Finished,
    /// The stream cannot be recorded: a `live_input.errored` code and message (from
    /// [`crate::notifications`]' catalog).
    Failed { code: String, message: String },
}

/// What a recording reads on its stdin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// FLV built from an RTMP publisher's tags.
    Flv,
    /// MPEG-TS as an SRT publisher sends it, passed through unchanged.
    MpegTs,
}

impl InputFormat {
    fn ffmpeg_name(self) -> &'static str {
        match self {
            InputFormat::Flv => "flv",
            InputFormat::MpegTs => "mpegts",
        }
    }
}

/// A running recording of an RTMP publish: send tags, then drop the sender and await the task.
pub struct Recorder {
    pub tags: mpsc::Sender<MediaTag>,
    pub task: JoinHandle<RecordOutcome>,
}

/// A running recording of an SRT publish: send MPEG-TS bytes, then drop the sender and await
/// the task.
pub struct TsRecorder {
    pub chunks: mpsc::Sender<Bytes>,
    pub task: JoinHandle<RecordOutcome>,
}

/// ffmpeg remuxing `format` from its stdin into `dir`'s playlist (`part` > 0: appended to it).
fn spawn_ffmpeg(
    ffmpeg: &Path,
    dir: &Path,
    format: InputFormat,
    part: u32,
) -> std::io::Result<Child> {
    std::fs::create_dir_all(dir)?;
    let log = std::fs::File::create(dir.join("ffmpeg.log"))?;
    Command::new(ffmpeg)
        .args(ffmpeg_args(dir, format, part))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
}

/// After the input ended: ffmpeg finishes the playlist (or is killed after [`FINISH_BOUND`]);
/// `failure` (a codec refused before ffmpeg saw it) wins over ffmpeg's own status.
async fn finish(mut child: Child, dir: &Path, failure: Option<RecordOutcome>) -> RecordOutcome {
    let status = match tokio::time::timeout(FINISH_BOUND, child.wait()).await {
        Ok(s) => s.ok(),
        Err(_) => {
            tracing::warn!(dir = %dir.display(), "ffmpeg did not finish in time; killing it");
            let _ = child.kill().await;
            None
        }
    };
    if let Some(f) = failure {
        return f;
    }
    match status {
        Some(s) if s.success() => RecordOutcome::Finished,
        _ => {
            let log = std::fs::read_to_string(dir.join("ffmpeg.log")).unwrap_or_default();
            let last = log
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            tracing::warn!(dir = %dir.display(), ?status, last, "ffmpeg failed");
            RecordOutcome::Failed {
                code: LiveInputErrorCode::Unhealthy.as_str().into(),
                message: LiveInputErrorCode::Unhealthy.message().into(),
            }
        }
    }
}

impl Recorder {
    /// Starts ffmpeg writing into `dir` (created if missing).
    pub fn start(ffmpeg: &Path, dir: &Path, part: u32) -> std::io::Result<Recorder> {
        let mut child = spawn_ffmpeg(ffmpeg, dir, InputFormat::Flv, part)?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let (tx, mut rx) = mpsc::channel::<MediaTag>(QUEUE);
        let dir = dir.to_path_buf();
        let task = tokio::spawn(async move {
            let mut failure = None;
            // Tags wait here until the probe knows which tracks the FLV header must name.
            let mut probe = Some(flv::TrackProbe::default());
            let mut pending = Vec::new();
            loop {
                let next = rx.recv().await;
                if let Some(t) = &next {
                    if let Err(code) = flv::check_codec(t) {
                        failure = Some(RecordOutcome::Failed {
                            code: code.into(),
                            message: error_message(code).into(),
                        });
                        break;
                    }
                }
                let mut out = Vec::new();
                match (probe.as_mut(), next) {
                    (Some(p), Some(t)) => {
                        let decided = p.observe(&t);
                        pending.push(t);
                        let Some(tracks) = decided else { continue };
                        out.extend_from_slice(&flv::header(tracks));
                        probe = None;
                    }
                    (Some(p), None) if !pending.is_empty() => {
                        out.extend_from_slice(&flv::header(p.flags()));
                        probe = None;
                    }
                    (None, Some(t)) => pending.push(t),
                    (_, None) => break,
                }
                for t in pending.drain(..) {
                    out.extend(flv::tag(&t).unwrap_or_default());
                }
                if out.is_empty() {
                    continue;
                }
                if stdin.write_all(&out).await.is_err() {
                    break; // ffmpeg exited; its status says why
                }
            }
            // Closing the receiver ends the publish (the RTMP side sees its sends fail).
            drop(rx);
            drop(stdin);
            finish(child, &dir, failure).await
        });
        Ok(Recorder { tags: tx, task })
    }
}

impl TsRecorder {
    /// Starts ffmpeg reading MPEG-TS and writing into `dir` (created if missing). Codecs are
    /// ffmpeg's to judge: SRT may carry more than RTMP's H.264/AAC (Cloudflare accepts HEVC over
    /// SRT), and a stream ffmpeg cannot remux fails the recording (`ERR_UNHEALTHY`).
    pub fn start(ffmpeg: &Path, dir: &Path, part: u32) -> std::io::Result<TsRecorder> {
        let mut child = spawn_ffmpeg(ffmpeg, dir, InputFormat::MpegTs, part)?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let (tx, mut rx) = mpsc::channel::<Bytes>(QUEUE);
        let dir = dir.to_path_buf();
        let task = tokio::spawn(async move {
            while let Some(chunk) = rx.recv().await {
                if stdin.write_all(&chunk).await.is_err() {
                    break; // ffmpeg exited; its status says why
                }
            }
            drop(rx);
            drop(stdin);
            finish(child, &dir, None).await
        });
        Ok(TsRecorder { chunks: tx, task })
    }
}

/// `ffmpeg -f <format> -i pipe:0 -c copy -f hls ...`: 2 s fMP4 segments (or the publisher's
/// keyframe interval, whichever is longer), every segment kept so the finished playlist is the
/// recording. Part `n` > 0 of a recording (an encoder back within `recording.timeoutSeconds`) is
/// appended to the same playlist after a discontinuity, with its own `init-n.mp4`.
pub fn ffmpeg_args(dir: &Path, format: InputFormat, part: u32) -> Vec<String> {
    let p = |name: &str| dir.join(name).display().to_string();
    let input = [
        "-hide_banner",
        "-loglevel",
        "warning",
        "-f",
        format.ffmpeg_name(),
    ];
    // MPEG-TS carries AAC with ADTS headers; fMP4 wants the raw frames and their config.
    let audio_bsf: &[&str] = match format {
        InputFormat::MpegTs => &["-bsf:a", "aac_adtstoasc"],
        InputFormat::Flv => &[],
    };
    input
        .into_iter()
        .chain([
            "-i", "pipe:0",
            // Audio and video only: MPEG-TS may also carry data streams (SCTE-35, KLV).
            "-map", "0:v?", "-map", "0:a?", "-c", "copy",
        ])
        .chain(audio_bsf.iter().copied())
        .chain([
            "-f",
            "hls",
            "-hls_time",
            "2",
            "-hls_list_size",
            "0",
            "-hls_playlist_type",
            "event",
            "-hls_segment_type",
            "fmp4",
            "-hls_flags",
        ])
        .map(String::from)
        .chain(match part {
            0 => [
                "independent_segments+temp_file".to_string(),
                "-hls_fmp4_init_filename".into(),
                super::files::INIT.into(),
            ],
            n => [
                "independent_segments+temp_file+append_list+discont_start".to_string(),
                "-hls_fmp4_init_filename".into(),
                super::files::part_init(n),
            ],
        })
        .chain(["-hls_segment_filename".to_string()])
        .chain([p("seg%05d.m4s"), p(PLAYLIST)])
        .collect()
}

/// Total of the `#EXTINF` durations of a media playlist, in seconds.
pub fn playlist_duration(playlist: &str) -> f64 {
    playlist
        .lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .filter_map(|v| v.split(',').next()?.trim().parse::<f64>().ok())
        .sum()
}

/// Finds ffmpeg: `ROOMCAST_FFMPEG` if set, else `ffmpeg` on `PATH`.
pub fn find_ffmpeg() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("ROOMCAST_FFMPEG") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("ROOMCAST_FFMPEG={} is not a file", p.display()))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("ffmpeg"))
        .find(|p| p.is_file())
        .ok_or_else(|| "ffmpeg was not found on PATH".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_add_up() {
        let m = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI=\"init.mp4\"\n\
                 #EXTINF:2.000000,\nseg00000.m4s\n#EXTINF:1.500000,\nseg00001.m4s\n#EXT-X-ENDLIST\n";
        assert_eq!(playlist_duration(m), 3.5);
        assert_eq!(playlist_duration(""), 0.0);
    }

    #[test]
    fn remux_only_never_transcodes() {
        let args = ffmpeg_args(Path::new("/x"), InputFormat::Flv, 0);
        let i = args.iter().position(|a| a == "-c").unwrap();
        assert_eq!(args[i + 1], "copy");
        assert_eq!(args.last().unwrap(), "/x/video.m3u8");
        assert!(args.contains(&"/x/seg%05d.m4s".to_string()));
        assert!(!args.iter().any(|a| a == "-bsf:a"));
        let part = ffmpeg_args(Path::new("/x"), InputFormat::Flv, 2);
        let i = part
            .iter()
            .position(|a| a == "-hls_fmp4_init_filename")
            .unwrap();
        assert_eq!(part[i + 1], "init-2.mp4");
        assert!(part.iter().any(|a| a.contains("append_list+discont_start")));
        let ts = ffmpeg_args(Path::new("/x"), InputFormat::MpegTs, 0);
        let i = ts.iter().position(|a| a == "-f").unwrap();
        assert_eq!(ts[i + 1], "mpegts");
        let i = ts.iter().position(|a| a == "-bsf:a").unwrap();
        assert_eq!(ts[i + 1], "aac_adtstoasc");
    }
}
