use anchor_lang::prelude::Pubkey;

/// The registry PDA of `admin`.
pub fn registry_address(program_id: &Pubkey, admin: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[roomcast::REGISTRY_SEED, admin.as_ref()], program_id).0
}

/// The room PDA of `session_id` in `registry`: derivable by anyone who knows the session id.
pub fn room_address(program_id: &Pubkey, registry: &Pubkey, session_id: &str) -> Pubkey {
    Pubkey::find_program_address(
        &[
            roomcast::ROOM_SEED,
            registry.as_ref(),
            roomcast::room_seed(session_id),
        ],
        program_id,
    )
    .0
}
