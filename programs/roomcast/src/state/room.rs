use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::RoomcastError;

/// Where a room is in its life. Only ever moves forward: Created → Live → Ended (or Created → Ended).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum RoomStatus {
    Created,
    Live,
    Ended,
}

/// A livestream room. Seeds: `[ROOM_SEED, registry, session id as its 32 hex characters]`.
///
/// Sized to its content: the strings are allocated at their actual length ([`Room::space`]), so a
/// typical room (38-byte ingest URL, 20-byte title) is 222 bytes; at most 392. Every fixed-size field comes
/// before the strings so clients can filter with `memcmp` at stable offsets ([`room_offsets`]); the
/// session id sits before the `Option` timestamps, whose borsh size (1 or 9 bytes) would move it.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Room {
    pub registry: Pubkey,
    /// The streamer's wallet; may update and end the room.
    pub host: Pubkey,
    /// Who paid the rent and gets it back on close (and on a shrinking title).
    pub payer: Pubkey,
    pub status: RoomStatus,
    /// Canonical bump of the room PDA.
    pub bump: u8,
    /// Cloudflare live-input uid: its 32 lowercase hex characters decoded to 16 bytes.
    pub session_id: [u8; 16],
    pub created_at: i64,
    pub updated_at: i64,
    pub live_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// Public ingest endpoint (no stream key: that is a secret). Allocated at its length.
    #[max_len(MAX_INGEST_URL_LEN)]
    pub ingest_url: String,
    /// Allocated at its length; `update_room` resizes the account when it changes.
    #[max_len(MAX_TITLE_LEN)]
    pub title: String,
}

/// Byte offsets of the filterable fields inside the account data (discriminator included).
pub mod room_offsets {
    pub const REGISTRY: usize = 8;
    pub const HOST: usize = 8 + 32;
    pub const PAYER: usize = 8 + 64;
    pub const STATUS: usize = 8 + 96;
    /// The session id's 16 bytes (after status and bump).
    pub const SESSION_ID: usize = 8 + 96 + 1 + 1;
}

impl Room {
    /// Account size (discriminator included) of a room whose strings have these byte lengths.
    ///
    /// The `Option` timestamps are reserved at their full 9 bytes, so `set_live`/`end_room` never
    /// need to grow the account; only the title's length can change after creation.
    pub const fn space(ingest_url_len: usize, title_len: usize) -> usize {
        8 + Self::INIT_SPACE - MAX_INGEST_URL_LEN as usize - MAX_TITLE_LEN as usize
            + ingest_url_len
            + title_len
    }

    /// The size this room's account must have for its current content.
    pub fn space_needed(&self) -> usize {
        Self::space(self.ingest_url.len(), self.title.len())
    }

    /// The session id as clients know it (32 lowercase hex).
    pub fn session_id_hex(&self) -> String {
        session_id_to_hex(&self.session_id)
    }

    /// Checks that `signer` may act as host or registrar on this room.
    pub fn require_host_or_registrar(&self, signer: &Pubkey, registrar: &Pubkey) -> Result<()> {
        require!(
            *signer == self.host || signer == registrar,
            RoomcastError::NotHostOrRegistrar
        );
        Ok(())
    }

    pub fn set_title(&mut self, title: String, now: i64) -> Result<()> {
        require!(self.status != RoomStatus::Ended, RoomcastError::RoomEnded);
        validate_title(&title)?;
        self.title = title;
        self.updated_at = now;
        Ok(())
    }

    pub fn go_live(&mut self, now: i64) -> Result<()> {
        match self.status {
            RoomStatus::Created => {
                self.status = RoomStatus::Live;
                self.live_at = Some(now);
                self.updated_at = now;
                Ok(())
            }
            RoomStatus::Ended => err!(RoomcastError::RoomEnded),
            RoomStatus::Live => err!(RoomcastError::NotCreated),
        }
    }

    /// Returns the status the room had before ending.
    pub fn end(&mut self, now: i64) -> Result<RoomStatus> {
        let previous = self.status;
        require!(previous != RoomStatus::Ended, RoomcastError::RoomEnded);
        self.status = RoomStatus::Ended;
        self.ended_at = Some(now);
        self.updated_at = now;
        Ok(previous)
    }

    pub fn require_closable(&self) -> Result<()> {
        require!(
            self.status == RoomStatus::Ended,
            RoomcastError::RoomNotEnded
        );
        Ok(())
    }
}

/// The room PDA's session seed: the session id's bytes, cut to the 32-byte seed limit.
///
/// Valid session ids are exactly 32 bytes, so this is the id itself. The cut only matters for
/// over-long input, which would otherwise make address derivation abort before `create_room` can
/// reject it with [`RoomcastError::InvalidSessionId`].
pub fn room_seed(session_id: &str) -> &[u8] {
    let bytes = session_id.as_bytes();
    &bytes[..bytes.len().min(SESSION_ID_LEN as usize)]
}

/// Session ids are Cloudflare live-input uids: exactly 32 characters of `[0-9a-f]`.
pub fn validate_session_id(session_id: &str) -> Result<()> {
    parse_session_id(session_id).map(|_| ())
}

/// Decodes a session id (32 lowercase hex) to the 16 bytes a room stores.
pub fn parse_session_id(session_id: &str) -> Result<[u8; SESSION_ID_BYTES]> {
    let text = session_id.as_bytes();
    require!(
        text.len() == SESSION_ID_LEN as usize,
        RoomcastError::InvalidSessionId
    );
    let mut bytes = [0u8; SESSION_ID_BYTES];
    for (byte, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
        match (hex_value(pair[0]), hex_value(pair[1])) {
            (Some(high), Some(low)) => *byte = (high << 4) | low,
            _ => return err!(RoomcastError::InvalidSessionId),
        }
    }
    Ok(bytes)
}

/// The 32 lowercase hex characters of a stored session id, as bytes (the PDA seed).
pub fn session_seed(session_id: &[u8; SESSION_ID_BYTES]) -> [u8; SESSION_ID_LEN as usize] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = [0u8; SESSION_ID_LEN as usize];
    for (pair, byte) in text.chunks_exact_mut(2).zip(session_id) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    text
}

/// A stored session id as its 32-hex string.
pub fn session_id_to_hex(session_id: &[u8; SESSION_ID_BYTES]) -> String {
    session_seed(session_id)
        .iter()
        .map(|&b| char::from(b))
        .collect()
}

/// Lowercase hex digits only: an uppercase id would derive a different PDA than its bytes re-encode.
fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

pub fn validate_ingest_url(url: &str) -> Result<()> {
    require!(
        INGEST_URL_SCHEMES
            .iter()
            .any(|s| url.starts_with(s) && url.len() > s.len()),
        RoomcastError::InvalidIngestUrlScheme
    );
    require!(
        url.len() <= MAX_INGEST_URL_LEN as usize,
        RoomcastError::IngestUrlTooLong
    );
    Ok(())
}

pub fn validate_title(title: &str) -> Result<()> {
    require!(!title.is_empty(), RoomcastError::TitleEmpty);
    require!(
        title.len() <= MAX_TITLE_LEN as usize,
        RoomcastError::TitleTooLong
    );
    Ok(())
}
