//! The media path of the Stream emulator: real RTMP publishes become real HLS.
//!
//! ```text
//! encoder ──RTMP──► rtmp.rs (scuffle-rtmp) ──Ingest──► emulator (key, enabled, one publisher)
//!                        │ FLV tags                                   │ webhooks, lifecycle
//!                        ▼                                            ▼
//!                 recorder.rs: ffmpeg -c copy ──► <tmp>/<video uid>/video.m3u8, init.mp4, seg*.m4s
//!                                                          ▲
//!              delivery: /{uid}/manifest/video.m3u8 ───────┘ (files.rs: only those names)
//! ```
//!
//! Each accepted publish of a `recording.mode = automatic` input costs one ffmpeg process, which
//! exits when the publish ends (its playlist then ends with `#EXT-X-ENDLIST`: the recording) and
//! is killed if the emulator is dropped. Recordings live in a temporary directory removed when
//! the emulator stops.

pub mod files;
pub mod flv;
pub mod recorder;
pub mod rtmp;
pub mod srt;
pub mod webrtc;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub use files::MediaFile;
pub use recorder::{find_ffmpeg, InputFormat, RecordOutcome, Recorder, TsRecorder};

/// A video's thumbnail, beside its segments.
const THUMBNAIL: &str = "thumbnail.jpg";

/// How to install what the media path needs, for the "video ingest is off" line.
pub const INSTALL_HINT: &str =
    "install ffmpeg (apt-get install ffmpeg) or point ROOMCAST_FFMPEG at an ffmpeg binary";

/// Where an emulator keeps its broadcasts and recordings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaRoot {
    /// A temporary directory removed when the emulator stops (`--ephemeral`, tests).
    Temp,
    /// A directory that outlives the process (`<data dir>/media`): recordings survive restarts.
    Dir(PathBuf),
}

/// The directory itself: removed on drop when temporary.
enum Root {
    Temp(tempfile::TempDir),
    Kept(PathBuf),
}

impl Root {
    fn path(&self) -> &Path {
        match self {
            Root::Temp(t) => t.path(),
            Root::Kept(p) => p,
        }
    }
}

/// Temporary media directories are named `roomcast-media-<pid>-…`, so one whose process is gone
/// (killed: no destructor ran) can be told apart and removed by the next emulator.
const TEMP_PREFIX: &str = "roomcast-media-";

/// Broadcast directories and running recordings of one emulator.
pub struct Media {
    ffmpeg: PathBuf,
    root: Root,
    /// Video uid → its directory (live broadcasts and kept recordings).
    dirs: Mutex<HashMap<String, PathBuf>>,
}

impl Media {
    /// Media in a fresh temporary directory.
    pub fn new(ffmpeg: PathBuf) -> std::io::Result<Media> {
        Media::with_root(ffmpeg, MediaRoot::Temp)
    }

    pub fn with_root(ffmpeg: PathBuf, root: MediaRoot) -> std::io::Result<Media> {
        let root = match root {
            MediaRoot::Temp => {
                remove_dead_temp_dirs(&std::env::temp_dir());
                Root::Temp(
                    tempfile::Builder::new()
                        .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
                        .tempdir()?,
                )
            }
            MediaRoot::Dir(dir) => {
                std::fs::create_dir_all(&dir)?;
                Root::Kept(dir)
            }
        };
        Ok(Media {
            ffmpeg,
            root,
            dirs: Mutex::new(HashMap::new()),
        })
    }

    /// Where the recordings are.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Takes over the recordings of a previous run that are still wanted (`keep`: their video
    /// uids) and deletes every other directory under the root; returns the uids taken over.
    pub fn adopt(&self, keep: &std::collections::HashSet<String>) -> Vec<String> {
        let mut adopted = vec![];
        let Ok(entries) = std::fs::read_dir(self.root.path()) else {
            return adopted;
        };
        let mut dirs = self.dirs.lock().unwrap();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if dirs.contains_key(&name) {
                continue;
            }
            if keep.contains(&name) && e.path().join(files::PLAYLIST).is_file() {
                dirs.insert(name.clone(), e.path());
                adopted.push(name);
            } else if e.path().is_dir() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        adopted
    }

    /// Ends a recording a previous run left unfinished (killed mid-broadcast): its playlist gets
    /// `#EXT-X-ENDLIST`, so players treat it as the finished recording it now is.
    pub fn seal(&self, video_uid: &str) {
        let Some(dir) = self.dir(video_uid) else {
            return;
        };
        let path = dir.join(files::PLAYLIST);
        if let Ok(text) = std::fs::read_to_string(&path) {
            if !text.contains("#EXT-X-ENDLIST") {
                let _ = std::fs::write(&path, format!("{}\n#EXT-X-ENDLIST\n", text.trim_end()));
            }
        }
    }

    pub fn ffmpeg(&self) -> &Path {
        &self.ffmpeg
    }

    /// Starts recording the video `video_uid` from an RTMP publish's FLV tags (a further part
    /// of it when it already has media: an encoder back within the reconnect window).
    pub fn record(&self, video_uid: &str) -> std::io::Result<Recorder> {
        let dir = self.dir_for(video_uid);
        Recorder::start(&self.ffmpeg, &dir, next_part(&dir)?)
    }

    /// Starts recording the video `video_uid` from MPEG-TS (an SRT publish); see [`Media::record`].
    pub fn record_ts(&self, video_uid: &str) -> std::io::Result<TsRecorder> {
        let dir = self.dir_for(video_uid);
        TsRecorder::start(&self.ffmpeg, &dir, next_part(&dir)?)
    }

    /// Names `video_uid`'s directory before its recording starts: from now on it is a video with
    /// real media (served "not yet" until ffmpeg wrote its playlist).
    pub fn reserve(&self, video_uid: &str) {
        self.dir_for(video_uid);
    }

    /// `video_uid`'s directory (a 32-hex uid, so a safe name), registered as having media.
    fn dir_for(&self, video_uid: &str) -> PathBuf {
        debug_assert!(video_uid.bytes().all(|b| b.is_ascii_hexdigit()));
        let dir = self.root().join(video_uid);
        self.dirs
            .lock()
            .unwrap()
            .insert(video_uid.to_string(), dir.clone());
        dir
    }

    /// The directory of `video_uid`, if it has real media.
    pub fn dir(&self, video_uid: &str) -> Option<PathBuf> {
        self.dirs.lock().unwrap().get(video_uid).cloned()
    }

    /// Forgets a video and deletes its files.
    pub fn remove(&self, video_uid: &str) {
        if let Some(dir) = self.dirs.lock().unwrap().remove(video_uid) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// Reads one validated file of a video; `None` when it does not exist (yet).
    pub async fn read(&self, video_uid: &str, file: &str) -> Option<(MediaFile, Vec<u8>)> {
        let kind = MediaFile::parse(file)?;
        let dir = self.dir(video_uid)?;
        let bytes = tokio::fs::read(dir.join(file)).await.ok()?;
        if kind == MediaFile::Playlist {
            if let Ok(parts) = tokio::fs::read_to_string(dir.join(files::PARTS)).await {
                let text = String::from_utf8_lossy(&bytes);
                return Some((kind, files::with_part_maps(&text, &parts).into_bytes()));
            }
        }
        Some((kind, bytes))
    }

    /// A JPEG frame of `video_uid`'s recording (its first segment), made by ffmpeg on the first
    /// request and kept beside the segments; `None` while nothing is recorded yet. Concurrent
    /// first requests may each run ffmpeg once; each writes its own file and renames it.
    pub async fn thumbnail(&self, video_uid: &str) -> Option<Vec<u8>> {
        let dir = self.dir(video_uid)?;
        let path = dir.join(THUMBNAIL);
        if let Ok(jpeg) = tokio::fs::read(&path).await {
            return Some(jpeg);
        }
        let playlist = tokio::fs::read_to_string(dir.join(files::PLAYLIST))
            .await
            .ok()?;
        let first = playlist.lines().find(|l| l.starts_with("seg"))?;
        MediaFile::parse(first)?;
        // init + first segment is a complete fMP4 file ffmpeg can read one frame from.
        let mut mp4 = tokio::fs::read(dir.join("init.mp4")).await.ok()?;
        mp4.extend(tokio::fs::read(dir.join(first)).await.ok()?);
        let tmp = tempfile::Builder::new()
            .prefix("thumb-")
            .suffix(".jpg")
            .tempfile_in(&dir)
            .ok()?;
        let mut child = tokio::process::Command::new(&self.ffmpeg)
            .args([
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "mp4",
                "-i",
                "pipe:0",
            ])
            .args([
                "-frames:v",
                "1",
                "-q:v",
                "4",
                "-f",
                "image2",
                "-c:v",
                "mjpeg",
            ])
            .arg(tmp.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .ok()?;
        let mut stdin = child.stdin.take()?;
        tokio::io::AsyncWriteExt::write_all(&mut stdin, &mp4)
            .await
            .ok()?;
        drop(stdin);
        let done = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait()).await;
        if !matches!(done, Ok(Ok(status)) if status.success()) {
            return None;
        }
        let jpeg = tokio::fs::read(tmp.path()).await.ok()?;
        tmp.persist(&path).ok()?;
        (!jpeg.is_empty()).then_some(jpeg)
    }

    /// Seconds of media in a finished recording.
    pub fn duration(&self, video_uid: &str) -> Option<f64> {
        let dir = self.dir(video_uid)?;
        let text = std::fs::read_to_string(dir.join(files::PLAYLIST)).ok()?;
        Some(recorder::playlist_duration(&text))
    }
}

/// Which part of its recording the next publish into `dir` is: 0 for a new recording; else the
/// next part, noted in [`files::PARTS`] with the segment number it starts at (ffmpeg's
/// `append_list` continues the numbering).
fn next_part(dir: &Path) -> std::io::Result<u32> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    let (mut inits, mut segments) = (0u32, 0u64);
    for e in entries.flatten() {
        match MediaFile::parse(&e.file_name().to_string_lossy()) {
            Some(MediaFile::Init) => inits += 1,
            Some(MediaFile::Segment) => segments += 1,
            _ => {}
        }
    }
    if inits == 0 {
        return Ok(0);
    }
    let mut parts = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(files::PARTS))?;
    std::io::Write::write_all(
        &mut parts,
        format!("{segments} {}\n", files::part_init(inits)).as_bytes(),
    )?;
    Ok(inits)
}

/// Removes `roomcast-media-<pid>-…` directories under `tmp` whose process no longer runs.
fn remove_dead_temp_dirs(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(pid) = name
            .strip_prefix(TEMP_PREFIX)
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            tracing::info!(dir = %e.path().display(), "removing the media directory of a process that is gone");
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_dirs_of_dead_processes_are_removed_and_live_ones_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let dead = tmp
            .path()
            .join(format!("{TEMP_PREFIX}{}-abc", u32::MAX - 1));
        let live = tmp
            .path()
            .join(format!("{TEMP_PREFIX}{}-abc", std::process::id()));
        let other = tmp.path().join("roomcast-media-old");
        for d in [&dead, &live, &other] {
            std::fs::create_dir_all(d.join("x")).unwrap();
        }
        remove_dead_temp_dirs(tmp.path());
        assert!(!dead.exists());
        assert!(live.exists() && other.exists());
    }
}
