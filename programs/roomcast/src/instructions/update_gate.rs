use anchor_lang::prelude::*;

use crate::constants::{GATE_SEED, REGISTRY_SEED, ROOM_SEED};
use crate::error::RoomcastError;
use crate::events::GateSet;
use crate::log::emit_event;
use crate::state::{
    read_mint, session_seed, validate_min_amount, Gate, Registry, Room, RoomStatus,
};

/// Changes a gate's mint and minimum amount. Host or registrar; not after the room ended.
#[derive(Accounts)]
pub struct UpdateGate<'info> {
    pub authority: Signer<'info>,
    #[account(seeds = [REGISTRY_SEED, registry.admin.as_ref()], bump = registry.bump)]
    pub registry: Account<'info, Registry>,
    #[account(
        seeds = [ROOM_SEED, registry.key().as_ref(), &session_seed(&room.session_id)],
        bump = room.bump,
        has_one = registry @ RoomcastError::RegistryMismatch,
    )]
    pub room: Account<'info, Room>,
    /// CHECK: checked by `read_mint` (owned by a token program, an initialized mint).
    pub mint: UncheckedAccount<'info>,
    #[account(
        mut,
        seeds = [GATE_SEED, room.key().as_ref()],
        bump = gate.bump,
        has_one = room @ RoomcastError::GateMismatch,
    )]
    pub gate: Account<'info, Gate>,
}

pub fn handler(ctx: Context<UpdateGate>, min_amount: u64) -> Result<()> {
    let signer = ctx.accounts.authority.key();
    let room = &ctx.accounts.room;
    room.require_host_or_registrar(&signer, &ctx.accounts.registry.registrar)?;
    require!(room.status != RoomStatus::Ended, RoomcastError::RoomEnded);
    validate_min_amount(min_amount)?;
    let (token_program, decimals) = read_mint(&ctx.accounts.mint)?;
    let now = Clock::get()?.unix_timestamp;
    let gate = &mut ctx.accounts.gate;
    gate.mint = ctx.accounts.mint.key();
    gate.token_program = token_program;
    gate.decimals = decimals;
    gate.min_amount = min_amount;
    gate.updated_at = now;
    emit_event!(GateSet {
        room: gate.room,
        gate: gate.key(),
        mint: gate.mint,
        token_program,
        decimals,
        min_amount,
        set_by: signer,
        set_at: now,
    });
    Ok(())
}
