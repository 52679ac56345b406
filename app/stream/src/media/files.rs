//! The files a broadcast's directory may serve, and their HTTP headers. Only names ffmpeg is told
//! to write are ever opened: nothing from the request reaches the filesystem unchecked.

/// The media playlist ffmpeg writes (live: growing event playlist; finished: VOD).
pub const PLAYLIST: &str = "video.m3u8";
/// The fMP4 initialization segment.
pub const INIT: &str = "init.mp4";

/// The init segment of part `n` > 0 of a recording.
pub fn part_init(n: u32) -> String {
    format!("init-{n}.mp4")
}

/// Where each part of a recording starts: lines `<first segment number> <init file>`, one per
/// part after the first (which starts at 0 with `init.mp4`).
pub const PARTS: &str = "parts";

/// The playlist with each part's `#EXT-X-MAP` before its first segment: ffmpeg's `append_list`
/// keeps only the newest map at the top, which would make players decode the first parts with
/// the last part's init segment.
pub fn with_part_maps(playlist: &str, parts: &str) -> String {
    let mut starts: Vec<(u64, String)> = vec![(0, INIT.to_string())];
    starts.extend(parts.lines().filter_map(|l| {
        let (first, init) = l.split_once(' ')?;
        Some((first.parse().ok()?, init.to_string()))
    }));
    let segment =
        |uri: &str| -> Option<u64> { uri.strip_prefix("seg")?.strip_suffix(".m4s")?.parse().ok() };
    let lines: Vec<&str> = playlist
        .lines()
        .filter(|l| !l.starts_with("#EXT-X-MAP:"))
        .collect();
    let mut out = String::with_capacity(playlist.len() + 64);
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("#EXTINF:") {
            let n = lines.get(i + 1).and_then(|u| segment(u));
            if let Some((_, init)) = starts.iter().find(|(first, _)| Some(*first) == n) {
                out.push_str(&format!("#EXT-X-MAP:URI=\"{init}\"\n"));
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// What a request path segment names inside a broadcast directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaFile {
    Playlist,
    Init,
    Segment,
}

impl MediaFile {
    /// `video.m3u8`, `init.mp4`, `init-N.mp4` (a reconnect's part, N of 1 to 3 digits) or `seg`
    /// + 5 to 9 digits + `.m4s`; anything else is `None`.
    pub fn parse(name: &str) -> Option<MediaFile> {
        match name {
            PLAYLIST => Some(MediaFile::Playlist),
            INIT => Some(MediaFile::Init),
            _ if name.starts_with("init-") => {
                let digits = name.strip_prefix("init-")?.strip_suffix(".mp4")?;
                let ok = (1..=3).contains(&digits.len())
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && !digits.starts_with('0');
                ok.then_some(MediaFile::Init)
            }
            _ => {
                let digits = name.strip_prefix("seg")?.strip_suffix(".m4s")?;
                let ok =
                    (5..=9).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
                ok.then_some(MediaFile::Segment)
            }
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            MediaFile::Playlist => "application/vnd.apple.mpegurl",
            MediaFile::Init => "video/mp4",
            MediaFile::Segment => "video/iso.segment",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_part_gets_its_own_map() {
        let appended = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init-1.mp4\"\n\
                        #EXTINF:2.0,\nseg00000.m4s\n#EXTINF:1.0,\nseg00001.m4s\n#EXT-X-DISCONTINUITY\n\
                        #EXTINF:2.0,\nseg00002.m4s\n#EXT-X-ENDLIST\n";
        assert_eq!(
            with_part_maps(appended, "2 init-1.mp4\n"),
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init.mp4\"\n\
             #EXTINF:2.0,\nseg00000.m4s\n#EXTINF:1.0,\nseg00001.m4s\n#EXT-X-DISCONTINUITY\n\
             #EXT-X-MAP:URI=\"init-1.mp4\"\n#EXTINF:2.0,\nseg00002.m4s\n#EXT-X-ENDLIST\n"
        );
    }

    #[test]
    fn only_ffmpeg_output_names_pass() {
        assert_eq!(MediaFile::parse("video.m3u8"), Some(MediaFile::Playlist));
        assert_eq!(MediaFile::parse("init.mp4"), Some(MediaFile::Init));
        assert_eq!(MediaFile::parse("init-1.mp4"), Some(MediaFile::Init));
        assert_eq!(MediaFile::parse("init-999.mp4"), Some(MediaFile::Init));
        for bad in [
            "init-0.mp4",
            "init-01.mp4",
            "init-1000.mp4",
            "init-.mp4",
            "init-x.mp4",
        ] {
            assert_eq!(MediaFile::parse(bad), None, "{bad}");
        }
        assert_eq!(MediaFile::parse("seg00012.m4s"), Some(MediaFile::Segment));
        assert_eq!(
            MediaFile::parse("seg123456789.m4s"),
            Some(MediaFile::Segment)
        );
        for bad in [
            "",
            "..",
            "../video.m3u8",
            "seg0001.m4s",
            "seg1234567890.m4s",
            "seg0000a.m4s",
            "seg00001.m4s/..",
            "seg/../00001.m4s",
            "ffmpeg.log",
            "%2e%2e",
            "VIDEO.M3U8",
            "init.mp4.tmp",
            "seg00001.m4s.tmp",
        ] {
            assert_eq!(MediaFile::parse(bad), None, "{bad:?}");
        }
    }
}
