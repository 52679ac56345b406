//! One event per state change, carrying what an indexer needs to mirror the registry.
use anchor_lang::prelude::*;

use crate::state::RoomStatus;

#[event]
pub struct RegistryInitialized {
    pub registry: Pubkey,
    pub admin: Pubkey,
    pub registrar: Pubkey,
}

#[event]
pub struct RegistrarChanged {
    pub registry: Pubkey,
    pub old_registrar: Pubkey,
    pub new_registrar: Pubkey,
}

#[event]
pub struct RoomCreated {
    pub registry: Pubkey,
    pub room: Pubkey,
    pub session_id: String,
    pub host: Pubkey,
    pub payer: Pubkey,
    pub ingest_url: String,
    pub title: String,
    pub created_at: i64,
}

#[event]
pub struct RoomUpdated {
    pub room: Pubkey,
    pub session_id: String,
    pub title: String,
    pub updated_by: Pubkey,
    pub updated_at: i64,
}

#[event]
pub struct RoomLive {
    pub room: Pubkey,
    pub session_id: String,
    pub live_at: i64,
}

#[event]
pub struct RoomEnded {
    pub room: Pubkey,
    pub session_id: String,
    pub previous_status: RoomStatus,
    pub ended_by: Pubkey,
    pub ended_at: i64,
}

#[event]
pub struct RoomClosed {
    pub room: Pubkey,
    pub session_id: String,
    pub closed_by: Pubkey,
    pub rent_to: Pubkey,
    pub lamports: u64,
}

/// A room's gate was created or changed.
#[event]
pub struct GateSet {
    pub room: Pubkey,
    pub gate: Pubkey,
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub decimals: u8,
    pub min_amount: u64,
    pub set_by: Pubkey,
    pub set_at: i64,
}

/// A room's gate was removed: the room is public again.
#[event]
pub struct GateRemoved {
    pub room: Pubkey,
    pub gate: Pubkey,
    pub removed_by: Pubkey,
    pub rent_to: Pubkey,
}
