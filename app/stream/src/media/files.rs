//! The files a broadcast's directory may serve, and their HTTP headers. Only names ffmpeg is told
//! to write are ever opened: nothing from the request reaches the filesystem unchecked.

/// The media playlist ffmpeg writes (live: growing event playlist; finished: VOD).
pub const PLAYLIST: &str = "video.m3u8";
/// The fMP4 initialization segment.
pub const INIT: &str = "init.mp4";

/// What a request path segment names inside a broadcast directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaFile {
    Playlist,
    Init,
    Segment,
}

impl MediaFile {
    /// `video.m3u8`, `init.mp4` or `seg` + 5 to 9 digits + `.m4s`; anything else is `None`.
    pub fn parse(name: &str) -> Option<MediaFile> {
        match name {
            PLAYLIST => Some(MediaFile::Playlist),
            INIT => Some(MediaFile::Init),
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
    fn only_ffmpeg_output_names_pass() {
        assert_eq!(MediaFile::parse("video.m3u8"), Some(MediaFile::Playlist));
        assert_eq!(MediaFile::parse("init.mp4"), Some(MediaFile::Init));
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
