//! Room gates on-chain: the gate PDA of a room, reading it, and the gate instructions.
use anchor_lang::prelude::Pubkey;

pub use roomcast::state::Gate;

/// The gate PDA of `room`: `["gate", room]`.
pub fn gate_address(program_id: &Pubkey, room: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[roomcast::GATE_SEED, room.as_ref()], program_id).0
}

/// A gate to set: the mint a viewer must hold and the least raw amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewGate {
    pub mint: Pubkey,
    pub min_amount: u64,
}
