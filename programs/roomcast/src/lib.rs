//! roomcast: an on-chain registry of livestream rooms.
//!
//! Each operator owns a [`state::Registry`]; each room is a PDA of (registry, Cloudflare live-input uid),
//! so anyone can derive a room's address from its session id. Secrets (stream keys, SRT passphrases,
//! WebRTC publish URLs) never live here: account data is public.
//!
//! This file only forwards to `instructions/`.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod constants;
pub mod error;
pub mod events;
pub mod instructions;
mod log;
pub mod state;

pub use constants::*;
pub use error::RoomcastError;
pub use events::*;
pub use instructions::*;
pub use state::*;

declare_id!("CMjK3BfCNh747XGhxcDrB8krgJRzP6isffmHnSqrfpUu");

#[program]
pub mod roomcast {
    use super::*;

    /// Creates the caller's registry (one per admin) and names the backend key allowed to create rooms.
    pub fn initialize_registry(ctx: Context<InitializeRegistry>, registrar: Pubkey) -> Result<()> {
        instructions::initialize_registry::handler(ctx, registrar)
    }

    /// Replaces the registry's registrar. Admin only.
    pub fn set_registrar(ctx: Context<SetRegistrar>, new_registrar: Pubkey) -> Result<()> {
        instructions::set_registrar::handler(ctx, new_registrar)
    }

    /// Registers a room for a Cloudflare live input. Registrar only; the registrar pays the rent.
    pub fn create_room(
        ctx: Context<CreateRoom>,
        session_id: String,
        ingest_url: String,
        title: String,
        host: Pubkey,
    ) -> Result<()> {
        instructions::create_room::handler(ctx, session_id, ingest_url, title, host)
    }

    /// Changes a room's title. Host or registrar; not after the room ended.
    pub fn update_room(ctx: Context<UpdateRoom>, title: String) -> Result<()> {
        instructions::update_room::handler(ctx, title)
    }

    /// Marks a room as broadcasting (Created → Live). Registrar only.
    pub fn set_live(ctx: Context<SetLive>) -> Result<()> {
        instructions::set_live::handler(ctx)
    }

    /// Ends a room for good (Created/Live → Ended). Host or registrar.
    pub fn end_room(ctx: Context<EndRoom>) -> Result<()> {
        instructions::end_room::handler(ctx)
    }

    /// Closes an ended room and returns its rent to the recorded payer. Host or registrar.
    pub fn close_room(ctx: Context<CloseRoom>) -> Result<()> {
        instructions::close_room::handler(ctx)
    }

    /// Gates a room: only holders of at least `min_amount` (raw units) of `mint` may watch it.
    /// Host or registrar (who pays the gate's rent); not after the room ended.
    pub fn set_gate(ctx: Context<SetGate>, min_amount: u64) -> Result<()> {
        instructions::set_gate::handler(ctx, min_amount)
    }

    /// Changes a gated room's mint and minimum amount. Host or registrar; not after the room ended.
    pub fn update_gate(ctx: Context<UpdateGate>, min_amount: u64) -> Result<()> {
        instructions::update_gate::handler(ctx, min_amount)
    }

    /// Removes a room's gate and returns its rent to whoever paid it. Host or registrar.
    pub fn remove_gate(ctx: Context<RemoveGate>) -> Result<()> {
        instructions::remove_gate::handler(ctx)
    }
}
