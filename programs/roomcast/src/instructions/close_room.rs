use anchor_lang::prelude::*;

use crate::constants::{REGISTRY_SEED, ROOM_SEED};
use crate::error::RoomcastError;
use crate::events::RoomClosed;
use crate::log::emit_event;
use crate::state::{session_seed, Registry, Room};

#[derive(Accounts)]
pub struct CloseRoom<'info> {
    /// The room's host or the registry's registrar.
    pub authority: Signer<'info>,
    #[account(seeds = [REGISTRY_SEED, registry.admin.as_ref()], bump = registry.bump)]
    pub registry: Account<'info, Registry>,
    #[account(
        mut,
        close = payer,
        seeds = [ROOM_SEED, registry.key().as_ref(), &session_seed(&room.session_id)],
        bump = room.bump,
        has_one = registry @ RoomcastError::RegistryMismatch,
        has_one = payer @ RoomcastError::PayerMismatch,
    )]
    pub room: Account<'info, Room>,
    /// CHECK: only receives lamports; must equal `room.payer` (checked by `has_one`).
    #[account(mut)]
    pub payer: UncheckedAccount<'info>,
}

pub fn handler(ctx: Context<CloseRoom>) -> Result<()> {
    let signer = ctx.accounts.authority.key();
    let room = &ctx.accounts.room;
    room.require_host_or_registrar(&signer, &ctx.accounts.registry.registrar)?;
    room.require_closable()?;
    emit_event!(RoomClosed {
        room: room.key(),
        session_id: room.session_id_hex(),
        closed_by: signer,
        rent_to: room.payer,
        lamports: room.to_account_info().lamports(),
    });
    Ok(())
}
