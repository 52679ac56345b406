use anchor_lang::prelude::*;

use crate::constants::{REGISTRY_SEED, ROOM_SEED};
use crate::error::RoomcastError;
use crate::events::RoomCreated;
use crate::log::emit_event;
use crate::state::{
    parse_session_id, room_seed, validate_ingest_url, validate_title, Registry, Room, RoomStatus,
};

#[derive(Accounts)]
#[instruction(session_id: String, ingest_url: String, title: String)]
pub struct CreateRoom<'info> {
    /// The registry's backend key; pays the rent and is recorded as the room's payer.
    #[account(mut)]
    pub registrar: Signer<'info>,
    #[account(
        mut,
        seeds = [REGISTRY_SEED, registry.admin.as_ref()],
        bump = registry.bump,
        has_one = registrar @ RoomcastError::NotRegistrar,
    )]
    pub registry: Account<'info, Registry>,
    // Allocated for exactly these strings; the seed is the session id's text (cut to 32 bytes so
    // that over-long input reaches the handler's typed error).
    #[account(
        init,
        payer = registrar,
        space = Room::space(ingest_url.len(), title.len()),
        seeds = [ROOM_SEED, registry.key().as_ref(), room_seed(&session_id)],
        bump,
    )]
    pub room: Account<'info, Room>,
    pub system_program: Program<'info, System>,
}

pub fn handler(
    ctx: Context<CreateRoom>,
    session_id: String,
    ingest_url: String,
    title: String,
    host: Pubkey,
) -> Result<()> {
    let session_bytes = parse_session_id(&session_id)?;
    validate_ingest_url(&ingest_url)?;
    validate_title(&title)?;

    let now = Clock::get()?.unix_timestamp;
    let registry = &mut ctx.accounts.registry;
    registry.rooms_created = registry.rooms_created.saturating_add(1);

    let payer = ctx.accounts.registrar.key();
    let room = &mut ctx.accounts.room;
    room.set_inner(Room {
        registry: registry.key(),
        host,
        payer,
        status: RoomStatus::Created,
        bump: ctx.bumps.room,
        created_at: now,
        updated_at: now,
        live_at: None,
        ended_at: None,
        session_id: session_bytes,
        ingest_url,
        title,
    });
    emit_event!(RoomCreated {
        registry: room.registry,
        room: room.key(),
        session_id,
        host,
        payer,
        ingest_url: room.ingest_url.clone(),
        title: room.title.clone(),
        created_at: now,
    });
    Ok(())
}
