use anchor_lang::prelude::*;

use crate::constants::{GATE_SEED, REGISTRY_SEED, ROOM_SEED};
use crate::error::RoomcastError;
use crate::events::GateRemoved;
use crate::log::emit_event;
use crate::state::{session_seed, Gate, Registry, Room};

/// Removes a room's gate (the room is public again) and returns its rent to whoever paid it.
/// Host or registrar; also after the room ended, so the rent comes back before `close_room`.
#[derive(Accounts)]
pub struct RemoveGate<'info> {
    pub authority: Signer<'info>,
    #[account(seeds = [REGISTRY_SEED, registry.admin.as_ref()], bump = registry.bump)]
    pub registry: Account<'info, Registry>,
    #[account(
        seeds = [ROOM_SEED, registry.key().as_ref(), &session_seed(&room.session_id)],
        bump = room.bump,
        has_one = registry @ RoomcastError::RegistryMismatch,
    )]
    pub room: Account<'info, Room>,
    #[account(
        mut,
        close = payer,
        seeds = [GATE_SEED, room.key().as_ref()],
        bump = gate.bump,
        has_one = room @ RoomcastError::GateMismatch,
        has_one = payer @ RoomcastError::PayerMismatch,
    )]
    pub gate: Account<'info, Gate>,
    /// CHECK: only receives lamports; must equal `gate.payer` (`has_one`).
    #[account(mut)]
    pub payer: UncheckedAccount<'info>,
}

pub fn handler(ctx: Context<RemoveGate>) -> Result<()> {
    let signer = ctx.accounts.authority.key();
    let room = &ctx.accounts.room;
    room.require_host_or_registrar(&signer, &ctx.accounts.registry.registrar)?;
    let gate = &ctx.accounts.gate;
    emit_event!(GateRemoved {
        room: room.key(),
        gate: gate.key(),
        removed_by: signer,
        rent_to: gate.payer,
    });
    Ok(())
}
