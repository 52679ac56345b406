//! FLV framing of RTMP media messages, which is what `ffmpeg -f flv -i pipe:0` reads. RTMP audio
//! and video message payloads already are FLV tag bodies; this only adds the file header and the
//! 11-byte tag headers with their back-pointers. No muxing happens here: ffmpeg does that.

use bytes::Bytes;

/// One media message of a publish, as the RTMP server hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaTag {
    pub kind: TagKind,
    /// Milliseconds since the start of the publish (RTMP timestamps).
    pub timestamp: u32,
    /// The FLV tag body (the RTMP message payload).
    pub data: Bytes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    Audio,
    Video,
}

/// FLV header flag: the file has audio tags.
pub const HAS_AUDIO: u8 = 0b100;
/// FLV header flag: the file has video tags.
pub const HAS_VIDEO: u8 = 0b001;

/// `FLV`, version 1, the tracks present (`HAS_AUDIO | HAS_VIDEO`), header length 9, then
/// `PreviousTagSize0` = 0.
pub fn header(tracks: u8) -> [u8; 13] {
    [b'F', b'L', b'V', 1, tracks, 0, 0, 0, 9, 0, 0, 0, 0]
}

/// How much of one track, without a tag of the other, decides that the other is absent.
const PROBE_SPAN_MS: u32 = 1000;
/// ... or this many tags of it (timestamps that never advance).
const PROBE_TAGS: usize = 200;

/// Decides the FLV header's track flags from a publish's first media tags.
///
/// The header must name exactly the tracks the stream has: ffmpeg's FLV demuxer waits for every
/// track the header announces (up to 90 s for FLV) before it writes anything, so a video-only
/// publish (OBS without an audio source, `ffmpeg -an`) under an "audio + video" header produced
/// no HLS at all. RTMP has no header of its own and `onMetaData` is optional, so the tags decide:
/// both kinds seen → both; one kind alone for [`PROBE_SPAN_MS`] of timestamps (or
/// [`PROBE_TAGS`] tags) → that one alone. Encoders interleave audio within a frame or two.
#[derive(Debug, Default)]
pub struct TrackProbe {
    first: [Option<u32>; 2],
    tags: usize,
}

impl TrackProbe {
    /// Observes the next tag; `Some(flags)` once the tracks are known.
    pub fn observe(&mut self, t: &MediaTag) -> Option<u8> {
        if t.data.is_empty() {
            return None; // an empty message announces nothing
        }
        let i = match t.kind {
            TagKind::Audio => 0,
            TagKind::Video => 1,
        };
        let first = *self.first[i].get_or_insert(t.timestamp);
        self.tags += 1;
        if self.first[1 - i].is_some() {
            return Some(HAS_AUDIO | HAS_VIDEO);
        }
        let alone = t.timestamp.saturating_sub(first) >= PROBE_SPAN_MS || self.tags >= PROBE_TAGS;
        alone.then_some(self.flags())
    }

    /// The tracks seen so far (the input ended before [`TrackProbe::observe`] decided);
    /// both when nothing was seen.
    pub fn flags(&self) -> u8 {
        match self.first {
            [Some(_), None] => HAS_AUDIO,
            [None, Some(_)] => HAS_VIDEO,
            _ => HAS_AUDIO | HAS_VIDEO,
        }
    }
}

/// Encodes one tag: header (type, 24-bit size, 24+8-bit timestamp, stream id 0), body, and the
/// `PreviousTagSize` that follows every tag. `None` if the body does not fit FLV's 24-bit size.
pub fn tag(t: &MediaTag) -> Option<Vec<u8>> {
    let len = t.data.len();
    if len >= 1 << 24 {
        return None;
    }
    let kind = match t.kind {
        TagKind::Audio => 8,
        TagKind::Video => 9,
    };
    let ts = t.timestamp.to_be_bytes();
    let mut out = Vec::with_capacity(11 + len + 4);
    out.push(kind);
    out.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
    // Lower 24 bits, then the upper 8 bits ("TimestampExtended").
    out.extend_from_slice(&[ts[1], ts[2], ts[3], ts[0]]);
    out.extend_from_slice(&[0, 0, 0]);
    out.extend_from_slice(&t.data);
    out.extend_from_slice(&((11 + len) as u32).to_be_bytes());
    Some(out)
}

/// The codecs Cloudflare Stream ingests: H.264 video, AAC (or MP3) audio. `Err` names what the
/// first byte of a tag body announces instead, as a `live_input.errored` code.
pub fn check_codec(t: &MediaTag) -> Result<(), &'static str> {
    let Some(&first) = t.data.first() else {
        return Ok(()); // empty messages carry nothing to judge
    };
    match t.kind {
        TagKind::Video => {
            // Enhanced RTMP (high bit set) carries a FourCC; only `avc1` is H.264.
            let avc = if first & 0x80 != 0 {
                t.data.get(1..5) == Some(b"avc1")
            } else {
                first & 0x0f == 7
            };
            if avc {
                Ok(())
            } else {
                Err("ERR_UNSUPPORTED_VIDEO_CODEC")
            }
        }
        // SoundFormat 10 = AAC, 2 = MP3.
        TagKind::Audio => match first >> 4 {
            10 | 2 => Ok(()),
            _ => Err("ERR_UNSUPPORTED_AUDIO_CODEC"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(ts: u32, data: &'static [u8]) -> MediaTag {
        MediaTag {
            kind: TagKind::Video,
            timestamp: ts,
            data: Bytes::from_static(data),
        }
    }

    #[test]
    fn tag_layout_matches_the_flv_spec() {
        let t = video(0x0102_0304, &[0x17, 0, 0xaa]);
        assert_eq!(
            tag(&t).unwrap(),
            vec![
                9, 0, 0, 3, // video, 3 bytes
                0x02, 0x03, 0x04, 0x01, // timestamp low 24 bits, then the high byte
                0, 0, 0, // stream id
                0x17, 0, 0xaa, // body
                0, 0, 0, 14 // previous tag size = 11 + 3
            ]
        );
        let a = MediaTag {
            kind: TagKind::Audio,
            timestamp: 40,
            data: Bytes::from_static(&[0xaf, 1]),
        };
        assert_eq!(tag(&a).unwrap()[..8], [8, 0, 0, 2, 0, 0, 40, 0]);
        assert_eq!(
            header(HAS_AUDIO | HAS_VIDEO),
            [b'F', b'L', b'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]
        );
        assert_eq!(header(HAS_VIDEO)[4], 1);
    }

    fn audio(ts: u32) -> MediaTag {
        MediaTag {
            kind: TagKind::Audio,
            timestamp: ts,
            data: Bytes::from_static(&[0xaf, 1, 0]),
        }
    }

    #[test]
    fn the_header_names_the_tracks_the_publish_has() {
        // Audio + video: decided as soon as both were seen.
        let mut p = TrackProbe::default();
        assert_eq!(p.observe(&video(0, &[0x17, 0])), None);
        assert_eq!(p.observe(&audio(0)), Some(HAS_AUDIO | HAS_VIDEO));

        // Video only (ffmpeg -an, OBS without audio): after a second of video.
        let mut p = TrackProbe::default();
        let decided: Vec<_> = (0..40)
            .map(|i| p.observe(&video(1000 + i * 33, &[0x27, 1])))
            .collect();
        let at = decided.iter().position(Option::is_some).unwrap();
        assert_eq!((at, decided[at]), (31, Some(HAS_VIDEO)));

        // Empty messages say nothing; timestamps that never advance decide by count.
        let mut p = TrackProbe::default();
        assert_eq!(p.observe(&video(0, &[])), None);
        assert!((1..PROBE_TAGS).all(|_| p.observe(&audio(5)).is_none()));
        assert_eq!(p.observe(&audio(5)), Some(HAS_AUDIO));

        // Ended early: what was seen; nothing seen: both.
        let mut p = TrackProbe::default();
        p.observe(&video(0, &[0x17, 0]));
        assert_eq!(p.flags(), HAS_VIDEO);
        assert_eq!(TrackProbe::default().flags(), HAS_AUDIO | HAS_VIDEO);
    }

    #[test]
    fn oversized_bodies_are_refused() {
        let t = MediaTag {
            kind: TagKind::Video,
            timestamp: 0,
            data: Bytes::from(vec![0x17; 1 << 24]),
        };
        assert_eq!(tag(&t), None);
    }

    #[test]
    fn only_h264_and_aac_or_mp3_pass() {
        assert_eq!(check_codec(&video(0, &[0x17, 1])), Ok(()));
        assert_eq!(check_codec(&video(0, &[0x27, 1])), Ok(()));
        // Sorenson H.263 (ffmpeg's default FLV codec) and VP6.
        assert_eq!(
            check_codec(&video(0, &[0x12, 0])),
            Err("ERR_UNSUPPORTED_VIDEO_CODEC")
        );
        assert_eq!(
            check_codec(&video(0, &[0x14, 0])),
            Err("ERR_UNSUPPORTED_VIDEO_CODEC")
        );
        // Enhanced RTMP: HEVC refused, AVC accepted.
        assert_eq!(
            check_codec(&video(0, b"\x90hvc1")),
            Err("ERR_UNSUPPORTED_VIDEO_CODEC")
        );
        assert_eq!(check_codec(&video(0, b"\x90avc1")), Ok(()));
        let audio = |b: &'static [u8]| MediaTag {
            kind: TagKind::Audio,
            timestamp: 0,
            data: Bytes::from_static(b),
        };
        assert_eq!(check_codec(&audio(&[0xaf, 1])), Ok(()));
        assert_eq!(check_codec(&audio(&[0x2f])), Ok(()));
        assert_eq!(
            check_codec(&audio(&[0xbe])), // Speex
            Err("ERR_UNSUPPORTED_AUDIO_CODEC")
        );
        assert_eq!(check_codec(&video(0, &[])), Ok(()));
    }
}
