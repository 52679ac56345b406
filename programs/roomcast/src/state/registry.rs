use anchor_lang::prelude::*;

use crate::error::RoomcastError;

/// One operator's registry of rooms. Seeds: `[REGISTRY_SEED, admin]`, so every admin has exactly one
/// and nobody can squat another operator's.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Registry {
    /// Who may change the registrar.
    pub admin: Pubkey,
    /// The backend key that creates rooms and marks them live.
    pub registrar: Pubkey,
    /// Rooms ever created in this registry (never decremented).
    pub rooms_created: u64,
    /// Canonical bump of the registry PDA.
    pub bump: u8,
}

impl Registry {
    pub fn require_registrar(&self, signer: &Pubkey) -> Result<()> {
        require_keys_eq!(*signer, self.registrar, RoomcastError::NotRegistrar);
        Ok(())
    }
}
