//! The room as callers see it: the on-chain account decoded, its session id back as 32-hex text.
//!
//! The program stores the id as 16 bytes (`roomcast::state::Room`); everything above the chain
//! client — API, CLI, caches, JSON — keeps the string Cloudflare and users know.
use anchor_client::anchor_lang::AccountDeserialize;
use anchor_lang::prelude::Pubkey;

use roomcast::state::RoomStatus;

/// A decoded room account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub registry: Pubkey,
    /// The streamer's wallet; may update and end the room.
    pub host: Pubkey,
    /// Who paid the rent and gets it back on close (and on a shrinking title).
    pub payer: Pubkey,
    pub status: RoomStatus,
    pub bump: u8,
    /// The Cloudflare live-input uid: 32 lowercase hex characters.
    pub session_id: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub live_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub ingest_url: String,
    pub title: String,
}

impl Room {
    /// Decodes a room account's data (discriminator checked); `None` for anything else, such as
    /// a registry account of the same program.
    pub fn decode(data: &[u8]) -> Option<Room> {
        roomcast::state::Room::try_deserialize(&mut &data[..])
            .ok()
            .map(Room::from)
    }
}

impl Room {
    /// The account data the program would store for this room (discriminator first); `None` if
    /// the session id is not 32 lowercase hex. For tools and tests that build a ledger directly.
    pub fn encode(&self) -> Option<Vec<u8>> {
        use anchor_client::anchor_lang::AccountSerialize;
        let account = roomcast::state::Room {
            registry: self.registry,
            host: self.host,
            payer: self.payer,
            status: self.status,
            bump: self.bump,
            session_id: roomcast::state::parse_session_id(&self.session_id).ok()?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            live_at: self.live_at,
            ended_at: self.ended_at,
            ingest_url: self.ingest_url.clone(),
            title: self.title.clone(),
        };
        let space = account.space_needed();
        let mut data = Vec::with_capacity(space);
        account.try_serialize(&mut data).ok()?;
        // Allocated like the program does: the `Option` timestamps at their full size.
        data.resize(space.max(data.len()), 0);
        Some(data)
    }
}

impl From<roomcast::state::Room> for Room {
    fn from(room: roomcast::state::Room) -> Self {
        Room {
            session_id: room.session_id_hex(),
            registry: room.registry,
            host: room.host,
            payer: room.payer,
            status: room.status,
            bump: room.bump,
            created_at: room.created_at,
            updated_at: room.updated_at,
            live_at: room.live_at,
            ended_at: room.ended_at,
            ingest_url: room.ingest_url,
            title: room.title,
        }
    }
}

#[cfg(test)]
mod tests {
    use anchor_client::anchor_lang::AccountSerialize;

    use super::*;

    fn account(session_id: [u8; 16]) -> roomcast::state::Room {
        roomcast::state::Room {
            registry: Pubkey::new_from_array([1; 32]),
            host: Pubkey::new_from_array([2; 32]),
            payer: Pubkey::new_from_array([3; 32]),
            status: RoomStatus::Live,
            bump: 254,
            session_id,
            created_at: 10,
            updated_at: 20,
            live_at: Some(20),
            ended_at: None,
            ingest_url: "srt://live.cloudflare.com:778".into(),
            title: "Title".into(),
        }
    }

    #[test]
    fn decodes_the_session_id_to_its_32_hex_characters() {
        let mut data = Vec::new();
        account([
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00, 0x10, 0x20, 0x30, 0xa0, 0xb0,
            0xc0, 0xff,
        ])
        .try_serialize(&mut data)
        .unwrap();
        // Serialized, the unset `ended_at` takes 1 byte; the account reserves 9 for it.
        assert_eq!(data.len(), 164 + 29 + 5 - 8);
        let room = Room::decode(&data).expect("a room decodes");
        assert_eq!(room.session_id, "0123456789abcdef00102030a0b0c0ff");
        assert_eq!(
            (room.status, room.live_at, room.title.as_str()),
            (RoomStatus::Live, Some(20), "Title")
        );
        // Not a room: a registry's discriminator, or truncated data.
        assert_eq!(Room::decode(&data[..100]), None);
        let mut registry = Vec::new();
        roomcast::state::Registry {
            admin: Pubkey::default(),
            registrar: Pubkey::default(),
            rooms_created: 0,
            bump: 255,
        }
        .try_serialize(&mut registry)
        .unwrap();
        assert_eq!(Room::decode(&registry), None);
    }
}
