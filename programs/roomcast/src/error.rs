use anchor_lang::prelude::*;

/// Every way an instruction can be refused. Codes are stable: clients match on the names.
#[error_code]
pub enum RoomcastError {
    #[msg("Session id must be exactly 32 lowercase hex characters")]
    InvalidSessionId,
    #[msg("Ingest URL must start with rtmps://, rtmp:// or srt://")]
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
    #[msg("Mint must be an initialized SPL Token or Token-2022 mint")]
    NotATokenMint,
    #[msg("Gate minimum amount must be at least 1")]
    GateAmountZero,
    #[msg("Gate belongs to another room")]
    GateMismatch,
}

impl RoomcastError {
    /// Every variant in code order, so clients can map a custom error code back to its name.
    pub const ALL: [RoomcastError; 16] = [
        RoomcastError::InvalidSessionId,
        RoomcastError::InvalidIngestUrlScheme,
        RoomcastError::IngestUrlTooLong,
        RoomcastError::TitleEmpty,
        RoomcastError::TitleTooLong,
        RoomcastError::NotRegistrar,
        RoomcastError::NotHostOrRegistrar,
        RoomcastError::NotAdmin,
        RoomcastError::RegistryMismatch,
        RoomcastError::RoomEnded,
        RoomcastError::NotCreated,
        RoomcastError::RoomNotEnded,
        RoomcastError::PayerMismatch,
        RoomcastError::NotATokenMint,
        RoomcastError::GateAmountZero,
        RoomcastError::GateMismatch,
    ];

    /// The variant whose custom error code (6000 + index) is `code`.
    pub fn from_code(code: u32) -> Option<RoomcastError> {
        Self::ALL.into_iter().find(|e| u32::from(*e) == code)
    }
}
