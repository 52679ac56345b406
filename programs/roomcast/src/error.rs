use anchor_lang::prelude::*;

/// Every way an instruction can be refused. Codes are stable: clients match on the names.
#[error_code]
pub enum RoomcastError {
    #[msg("Session id must be exactly 32 lowercase hex characters")]
    InvalidSessionId,
    #[msg("Ingest URL must start with rtmps:// or srt://")]
    InvalidIngestUrlScheme,
    #[msg("Ingest URL is longer than 128 bytes")]
    IngestUrlTooLong,
    #[msg("Title must not be empty")]
    TitleEmpty,
    #[msg("Title is longer than 100 bytes")]
    TitleTooLong,
    #[msg("Signer is not the registry's registrar")]
    NotRegistrar,
    #[msg("Signer is neither the room's host nor the registry's registrar")]
    NotHostOrRegistrar,
    #[msg("Signer is not the registry's admin")]
    NotAdmin,
    #[msg("Room belongs to another registry")]
    RegistryMismatch,
    #[msg("Room has ended")]
    RoomEnded,
    #[msg("Room can go live only from Created")]
    NotCreated,
    #[msg("Room is not ended")]
    RoomNotEnded,
    #[msg("Rent must be returned to the room's payer")]
    PayerMismatch,
}
