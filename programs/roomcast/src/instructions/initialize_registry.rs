use anchor_lang::prelude::*;

use crate::constants::REGISTRY_SEED;
use crate::events::RegistryInitialized;
use crate::log::emit_event;
use crate::state::Registry;

#[derive(Accounts)]
pub struct InitializeRegistry<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(
        init,
        payer = admin,
        space = 8 + Registry::INIT_SPACE,
        seeds = [REGISTRY_SEED, admin.key().as_ref()],
        bump,
    )]
    pub registry: Account<'info, Registry>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<InitializeRegistry>, registrar: Pubkey) -> Result<()> {
    let registry = &mut ctx.accounts.registry;
    registry.set_inner(Registry {
        admin: ctx.accounts.admin.key(),
        registrar,
        rooms_created: 0,
        bump: ctx.bumps.registry,
    });
    emit_event!(RegistryInitialized {
        registry: registry.key(),
        admin: registry.admin,
        registrar,
    });
    Ok(())
}
