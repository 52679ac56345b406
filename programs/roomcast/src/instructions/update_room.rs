use anchor_lang::prelude::*;
use anchor_lang::system_program::{transfer, Transfer};

use crate::constants::{REGISTRY_SEED, ROOM_SEED};
use crate::error::RoomcastError;
use crate::events::RoomUpdated;
use crate::log::emit_event;
use crate::state::{session_seed, Registry, Room};

#[derive(Accounts)]
pub struct UpdateRoom<'info> {
    /// The room's host or the registry's registrar; pays the rent of a longer title.
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(seeds = [REGISTRY_SEED, registry.admin.as_ref()], bump = registry.bump)]
    pub registry: Account<'info, Registry>,
    // The seed is a function of the stored bytes, which the IDL cannot express: it lists no PDA
    // for this account rather than a wrong one.
    #[account(
        mut,
        seeds = [ROOM_SEED, registry.key().as_ref(), &session_seed(&room.session_id)],
        bump = room.bump,
        has_one = registry @ RoomcastError::RegistryMismatch,
        has_one = payer @ RoomcastError::PayerMismatch,
    )]
    pub room: Account<'info, Room>,
    /// CHECK: only receives the rent a shorter title frees; must equal `room.payer` (`has_one`).
    #[account(mut)]
    pub payer: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<UpdateRoom>, title: String) -> Result<()> {
    let signer = ctx.accounts.authority.key();
    let room = &mut ctx.accounts.room;
    room.require_host_or_registrar(&signer, &ctx.accounts.registry.registrar)?;
    let now = Clock::get()?.unix_timestamp;
    room.set_title(title, now)?;
    fit_to_content(ctx.accounts)?;
    let room = &ctx.accounts.room;
    emit_event!(RoomUpdated {
        room: room.key(),
        session_id: room.session_id_hex(),
        title: room.title.clone(),
        updated_by: signer,
        updated_at: now,
    });
    Ok(())
}

/// Resizes the room to its new content, keeping it exactly rent-exempt: a larger account is topped
/// up by the signer (system transfer), a smaller one gives the lamports above the new minimum back
/// to the payer who funded it. Runs before Anchor serializes the room on exit, so the data fits.
fn fit_to_content(accounts: &UpdateRoom) -> Result<()> {
    let room = accounts.room.to_account_info();
    let (old_len, new_len) = (room.data_len(), accounts.room.space_needed());
    if new_len == old_len {
        return Ok(());
    }
    let minimum = Rent::get()?.minimum_balance(new_len);
    let held = room.lamports();
    if new_len > old_len {
        if let Some(missing) = minimum.checked_sub(held).filter(|m| *m > 0) {
            let cpi = CpiContext::new(
                accounts.system_program.key(),
                Transfer {
                    from: accounts.authority.to_account_info(),
                    to: room.clone(),
                },
            );
            transfer(cpi, missing)?;
        }
    } else if let Some(excess) = held.checked_sub(minimum).filter(|e| *e > 0) {
        room.sub_lamports(excess)?;
        accounts.payer.add_lamports(excess)?;
    }
    room.resize(new_len)?;
    Ok(())
}
