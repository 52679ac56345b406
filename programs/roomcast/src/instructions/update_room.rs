use anchor_lang::prelude::*;

use crate::constants::{REGISTRY_SEED, ROOM_SEED};
use crate::error::RoomcastError;
use crate::events::RoomUpdated;
use crate::log::emit_event;
use crate::state::{Registry, Room};

#[derive(Accounts)]
pub struct UpdateRoom<'info> {
    /// The room's host or the registry's registrar.
    pub authority: Signer<'info>,
    #[account(seeds = [REGISTRY_SEED, registry.admin.as_ref()], bump = registry.bump)]
    pub registry: Account<'info, Registry>,
    #[account(
        mut,
        seeds = [ROOM_SEED, registry.key().as_ref(), room.session_id.as_bytes()],
        bump = room.bump,
        has_one = registry @ RoomcastError::RegistryMismatch,
    )]
    pub room: Account<'info, Room>,
}

pub fn handler(ctx: Context<UpdateRoom>, title: String) -> Result<()> {
    let signer = ctx.accounts.authority.key();
    let room = &mut ctx.accounts.room;
    room.require_host_or_registrar(&signer, &ctx.accounts.registry.registrar)?;
    let now = Clock::get()?.unix_timestamp;
    room.set_title(title, now)?;
    emit_event!(RoomUpdated {
        room: room.key(),
        session_id: room.session_id.clone(),
        title: room.title.clone(),
        updated_by: signer,
        updated_at: now,
    });
    Ok(())
}
