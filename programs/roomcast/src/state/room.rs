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

/// A livestream room. Seeds: `[ROOM_SEED, registry, session_id]`.
///
/// Fixed-size fields come first so that clients can filter with `memcmp` at stable offsets:
/// registry at 8, host at 40, status at 104 (after the 8-byte discriminator).
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Room {
    pub registry: Pubkey,
    /// The streamer's wallet; may update and end the room.
    pub host: Pubkey,
    /// Who paid the rent and gets it back on close.
    pub payer: Pubkey,
    pub status: RoomStatus,
    /// Canonical bump of the room PDA.
    pub bump: u8,
    pub created_at: i64,
    pub updated_at: i64,
    pub live_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// Cloudflare live-input uid (32 lowercase hex).
    #[max_len(SESSION_ID_LEN)]
    pub session_id: String,
    /// Public ingest endpoint (no stream key: that is a secret).
    #[max_len(MAX_INGEST_URL_LEN)]
    pub ingest_url: String,
    #[max_len(MAX_TITLE_LEN)]
    pub title: String,
}

/// Byte offsets of the filterable fields inside the account data (discriminator included).
pub mod room_offsets {
    pub const REGISTRY: usize = 8;
    pub const HOST: usize = 8 + 32;
    pub const PAYER: usize = 8 + 64;
    pub const STATUS: usize = 8 + 96;
}

impl Room {
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
    let ok = session_id.len() == SESSION_ID_LEN as usize
        && session_id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    require!(ok, RoomcastError::InvalidSessionId);
    Ok(())
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
