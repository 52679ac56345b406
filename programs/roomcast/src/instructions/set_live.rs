use anchor_lang::prelude::*;

use crate::constants::{REGISTRY_SEED, ROOM_SEED};
use crate::error::RoomcastError;
use crate::events::RoomLive;
use crate::log::emit_event;
use crate::state::{session_seed, Registry, Room};

#[derive(Accounts)]
pub struct SetLive<'info> {
    pub registrar: Signer<'info>,
    #[account(
        seeds = [REGISTRY_SEED, registry.admin.as_ref()],
        bump = registry.bump,
        has_one = registrar @ RoomcastError::NotRegistrar,
    )]
    pub registry: Account<'info, Registry>,
    #[account(
        mut,
        seeds = [ROOM_SEED, registry.key().as_ref(), &session_seed(&room.session_id)],
        bump = room.bump,
        has_one = registry @ RoomcastError::RegistryMismatch,
    )]
    pub room: Account<'info, Room>,
}

pub fn handler(ctx: Context<SetLive>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let room = &mut ctx.accounts.room;
    room.go_live(now)?;
    emit_event!(RoomLive {
        room: room.key(),
        session_id: room.session_id_hex(),
        live_at: now,
    });
    Ok(())
}
