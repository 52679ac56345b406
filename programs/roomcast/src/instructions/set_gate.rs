use anchor_lang::prelude::*;

use crate::constants::{GATE_SEED, REGISTRY_SEED, ROOM_SEED};
use crate::error::RoomcastError;
use crate::events::GateSet;
use crate::log::emit_event;
use crate::state::{
    read_mint, session_seed, validate_min_amount, Gate, Registry, Room, RoomStatus,
};

/// Creates a room's gate. The registrar sends it in `create_room`'s transaction when the host asked
/// for a gated room; the host may also gate their room later.
#[derive(Accounts)]
pub struct SetGate<'info> {
    /// The room's host or the registry's registrar; pays the gate's rent.
    #[account(mut)]
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
        init,
        payer = authority,
        space = 8 + Gate::INIT_SPACE,
        seeds = [GATE_SEED, room.key().as_ref()],
        bump,
    )]
    pub gate: Account<'info, Gate>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<SetGate>, min_amount: u64) -> Result<()> {
    let signer = ctx.accounts.authority.key();
    let room = &ctx.accounts.room;
    room.require_host_or_registrar(&signer, &ctx.accounts.registry.registrar)?;
    require!(room.status != RoomStatus::Ended, RoomcastError::RoomEnded);
    validate_min_amount(min_amount)?;
    let (token_program, decimals) = read_mint(&ctx.accounts.mint)?;
    let now = Clock::get()?.unix_timestamp;
    let gate = &mut ctx.accounts.gate;
    gate.set_inner(Gate {
        room: room.key(),
        mint: ctx.accounts.mint.key(),
        token_program,
        decimals,
        min_amount,
        payer: signer,
        updated_at: now,
        bump: ctx.bumps.gate,
    });
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
