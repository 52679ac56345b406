use anchor_lang::prelude::*;

use crate::constants::{SPL_TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID};
use crate::error::RoomcastError;

/// A room's token gate: only wallets holding at least `min_amount` (raw units) of `mint` may
/// watch. Seeds: `[GATE_SEED, room]`. A separate account, created only for gated rooms, so an
/// ungated room keeps its size and rent (a gate is 154 bytes: 1,962,720 lamports, paid by whoever
/// sets it and returned to them by `remove_gate`).
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Gate {
    /// The gated room.
    pub room: Pubkey,
    /// The token a viewer must hold (SPL Token or Token-2022 mint).
    pub mint: Pubkey,
    /// The program that owns `mint` (SPL Token or Token-2022).
    pub token_program: Pubkey,
    /// The mint's decimals, copied when the gate was set (a mint's decimals never change).
    pub decimals: u8,
    /// Least raw amount a viewer must hold; at least 1.
    pub min_amount: u64,
    /// Who paid the rent and gets it back on `remove_gate`.
    pub payer: Pubkey,
    pub updated_at: i64,
    /// Canonical bump of the gate PDA.
    pub bump: u8,
}

/// Size of a base SPL mint; Token-2022 mints with extensions are longer, their account type byte
/// (1 = mint) at [`ACCOUNT_TYPE_OFFSET`].
const MINT_LEN: usize = 82;
const ACCOUNT_TYPE_OFFSET: usize = 165;
const MINT_DECIMALS_OFFSET: usize = 44;
const MINT_INITIALIZED_OFFSET: usize = 45;

/// Checks that `mint` is an initialized mint of SPL Token or Token-2022 (not a token account, not
/// another program's account) and returns its owner program and decimals.
pub fn read_mint(mint: &AccountInfo) -> Result<(Pubkey, u8)> {
    let owner = *mint.owner;
    require!(
        owner == SPL_TOKEN_PROGRAM_ID || owner == TOKEN_2022_PROGRAM_ID,
        RoomcastError::NotATokenMint
    );
    let data = mint.try_borrow_data()?;
    let is_mint = data.len() == MINT_LEN
        || (owner == TOKEN_2022_PROGRAM_ID
            && data.len() > ACCOUNT_TYPE_OFFSET
            && data[ACCOUNT_TYPE_OFFSET] == 1);
    require!(
        is_mint && data[MINT_INITIALIZED_OFFSET] == 1,
        RoomcastError::NotATokenMint
    );
    Ok((owner, data[MINT_DECIMALS_OFFSET]))
}

pub fn validate_min_amount(min_amount: u64) -> Result<()> {
    require!(min_amount > 0, RoomcastError::GateAmountZero);
    Ok(())
}
