//! Typed async client for the roomcast program, over JSON-RPC through anchor-client.
//!
//! Used by the API server and the CLI alike; against the local node (`roomcast localnet`) or a real
//! cluster the code path is the same. Program errors come back as [`ChainError::Program`] carrying
//! the program's error name; transport problems and timeouts are separate variants.

mod address;
mod client;
mod cluster;
mod error;
pub mod gate;
pub mod history;
pub mod redact;
mod room;
pub mod tips;
pub mod token;
pub mod view;
mod watch;

pub use address::{registry_address, room_address};
pub use client::{NewRoom, RoomFilter, RoomRecord, RoomStamp, RoomcastChain, SignedTransaction};
pub use cluster::parse_cluster_url;
pub use error::ChainError;
pub use gate::{gate_address, Gate, NewGate};
pub use history::{Checkpoint, Landed, Since};
pub use room::Room;
pub use roomcast::state::{room_offsets, Registry, RoomStatus};
pub use roomcast::MAX_TITLE_LEN;
pub use tips::{read_tip, tip_instructions, tip_memo, Tip};
pub use watch::{derive_ws_url, watch_rooms, Keepalive, RoomWatch, WatchEnd};

pub use anchor_client::anchor_lang::prelude::Pubkey;
/// The program id roomcast is deployed at (same on every cluster).
pub const PROGRAM_ID: Pubkey = roomcast::ID;
pub use solana_keypair::Keypair;
pub use solana_signature::Signature;
pub use solana_signer::Signer;

/// True when `s` is shaped like a session id (a Cloudflare live-input uid: 32 lowercase hex).
pub fn is_session_id(s: &str) -> bool {
    // Cheap checks first: most ids viewers send are room addresses (base58), refused here
    // without the program's check building an error value to say no.
    s.len() == roomcast::constants::SESSION_ID_LEN as usize
        && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && roomcast::state::validate_session_id(s).is_ok()
}
