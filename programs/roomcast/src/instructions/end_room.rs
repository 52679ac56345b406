use anchor_lang::prelude::*;

use crate::constants::{REGISTRY_SEED, ROOM_SEED};
use crate::error::RoomcastError;
use crate::events::RoomEnded;
use crate::log::emit_event;
use crate::state::{session_seed, Registry, Room};

#[derive(Accounts)]
pub struct EndRoom<'info> {
    /// The room's host (a wallet ending its own room) or the registry's registrar.
    pub authority: Signer<'info>,
    #[account(seeds = [REGISTRY_SEED, registry.admin.as_ref()], bump = registry.bump)]
    pub registry: Account<'info, Registry>,
    #[account(
        mut,
        seeds = [ROOM_SEED, registry.key().as_ref(), &session_seed(&room.session_id)],
        bump = room.bump,
        has_one = registry @ RoomcastError::RegistryMismatch,
    )]
    pub room: Account<'info, Room>,
}

pub fn handler(ctx: Context<EndRoom>) -> Result<()> {
    let signer = ctx.accounts.authority.key();
    let room = &mut ctx.accounts.room;
    room.require_host_or_registrar(&signer, &ctx.accounts.registry.registrar)?;
    let now = Clock::get()?.unix_timestamp;
    let previous_status = room.end(now)?;
    emit_event!(RoomEnded {
        room: room.key(),
        session_id: room.session_id_hex(),
        previous_status,
        ended_by: signer,
        ended_at: now,
    });
    Ok(())
}
