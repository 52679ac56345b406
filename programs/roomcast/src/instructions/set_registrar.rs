use anchor_lang::prelude::*;

use crate::constants::REGISTRY_SEED;
use crate::error::RoomcastError;
use crate::events::RegistrarChanged;
use crate::log::emit_event;
use crate::state::Registry;

#[derive(Accounts)]
pub struct SetRegistrar<'info> {
    pub admin: Signer<'info>,
    #[account(
        mut,
        seeds = [REGISTRY_SEED, registry.admin.as_ref()],
        bump = registry.bump,
        has_one = admin @ RoomcastError::NotAdmin,
    )]
    pub registry: Account<'info, Registry>,
}

pub fn handler(ctx: Context<SetRegistrar>, new_registrar: Pubkey) -> Result<()> {
    let registry = &mut ctx.accounts.registry;
    let old_registrar = registry.registrar;
    registry.registrar = new_registrar;
    emit_event!(RegistrarChanged {
        registry: registry.key(),
        old_registrar,
        new_registrar,
    });
    Ok(())
}
