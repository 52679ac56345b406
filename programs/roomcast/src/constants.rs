//! Seeds and bounds shared by the program and its clients.
use anchor_lang::prelude::*;

/// Seed prefix of a registry PDA: `[REGISTRY_SEED, admin]`.
#[constant]
pub const REGISTRY_SEED: &[u8] = b"registry";

/// Seed prefix of a room PDA: `[ROOM_SEED, registry, session_id]`.
#[constant]
pub const ROOM_SEED: &[u8] = b"room";

/// A session id is a Cloudflare live-input uid: exactly 32 lowercase hex characters.
///
/// The bounds are `u32`, not `usize`: the IDL has no `usize` type, so `#[constant]` on a `usize`
/// breaks `idl-build`.
#[constant]
pub const SESSION_ID_LEN: u32 = 32;

/// A session id's size once decoded and stored in a room (not an IDL constant: a `usize`).
pub const SESSION_ID_BYTES: usize = 16;

/// Longest ingest URL accepted, in bytes.
#[constant]
pub const MAX_INGEST_URL_LEN: u32 = 128;

/// Longest title accepted, in bytes of UTF-8 (not characters).
#[constant]
pub const MAX_TITLE_LEN: u32 = 100;

/// Ingest URL schemes a room may record: what Cloudflare Stream hands out for publishing
/// (`rtmps://`, `srt://`) and the local Stream emulator's plain `rtmp://` listener.
pub const INGEST_URL_SCHEMES: [&str; 3] = ["rtmps://", "rtmp://", "srt://"];

/// Seed prefix of a room's gate PDA: `[GATE_SEED, room]`.
#[constant]
pub const GATE_SEED: &[u8] = b"gate";

/// The SPL Token program, one of the two programs a gate's mint may belong to.
pub const SPL_TOKEN_PROGRAM_ID: Pubkey = pubkey!("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");

/// The Token-2022 program, the other.
pub const TOKEN_2022_PROGRAM_ID: Pubkey = pubkey!("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");
