//! Account sizes and rent, computed by hand: the numbers the README quotes.
mod common;

use anchor_lang::Space;
use common::*;
use roomcast::state::{Registry, Room};
use solana_signer::Signer;

/// 8 (discriminator) + 3 × 32 (registry, host, payer) + 1 (status) + 1 (bump) + 2 × 8 (created_at,
/// updated_at) + 2 × (1 + 8) (live_at, ended_at) + (4 + 32) (session_id) + (4 + 128) (ingest_url)
/// + (4 + 100) (title).
const ROOM_ACCOUNT_SIZE: usize =
    8 + 3 * 32 + 1 + 1 + 2 * 8 + 2 * (1 + 8) + (4 + 32) + (4 + 128) + (4 + 100);
/// 8 (discriminator) + 2 × 32 (admin, registrar) + 8 (rooms_created) + 1 (bump).
const REGISTRY_ACCOUNT_SIZE: usize = 8 + 2 * 32 + 8 + 1;
/// Rent exemption = (128 bytes of account overhead + data) × 3480 lamports/byte-year × 2 years.
const ROOM_RENT_LAMPORTS: u64 = (128 + 412) * 3480 * 2;
const REGISTRY_RENT_LAMPORTS: u64 = (128 + 81) * 3480 * 2;

#[test]
fn room_account_is_412_bytes_and_holds_3_758_400_lamports() {
    assert_eq!(ROOM_ACCOUNT_SIZE, 412);
    assert_eq!(8 + Room::INIT_SPACE, ROOM_ACCOUNT_SIZE);
    assert_eq!(ROOM_RENT_LAMPORTS, 3_758_400);

    let mut env = Env::new();
    assert_eq!(
        env.svm
            .minimum_balance_for_rent_exemption(ROOM_ACCOUNT_SIZE),
        ROOM_RENT_LAMPORTS
    );
    let registrar_before = env.lamports(&env.registrar.pubkey());
    let meta = env.create_room(&session_id(1), "t").expect("create_room");
    let account = env.account(&env.room_addr(&session_id(1))).unwrap();
    // The size does not depend on the content: the smallest room has the full size.
    assert_eq!(account.data.len(), ROOM_ACCOUNT_SIZE);
    assert_eq!(account.lamports, ROOM_RENT_LAMPORTS);
    assert_eq!(
        env.lamports(&env.registrar.pubkey()),
        registrar_before - ROOM_RENT_LAMPORTS - meta.fee
    );
}

#[test]
fn registry_account_is_81_bytes_and_holds_1_454_640_lamports() {
    assert_eq!(REGISTRY_ACCOUNT_SIZE, 81);
    assert_eq!(8 + Registry::INIT_SPACE, REGISTRY_ACCOUNT_SIZE);
    assert_eq!(REGISTRY_RENT_LAMPORTS, 1_454_640);
    let env = Env::new();
    assert_eq!(
        env.svm
            .minimum_balance_for_rent_exemption(REGISTRY_ACCOUNT_SIZE),
        REGISTRY_RENT_LAMPORTS
    );
    let account = env.account(&env.registry).unwrap();
    assert_eq!(
        (account.data.len(), account.lamports),
        (REGISTRY_ACCOUNT_SIZE, REGISTRY_RENT_LAMPORTS)
    );
}

#[test]
fn close_returns_exactly_the_rent_to_the_payer() {
    let mut env = Env::new();
    let room = env.ended_room(&session_id(1));
    let registrar_before = env.lamports(&env.registrar.pubkey());
    let host_before = env.lamports(&env.host.pubkey());
    // The host closes and pays the fee, so the registrar's balance moves by the rent alone.
    let ix = env.close_room_ix(&env.host.pubkey(), &room, &env.registrar.pubkey());
    let host = env.host.insecure_clone();
    let meta = env.send_one(ix, &host).expect("close_room");
    assert_eq!(
        env.lamports(&env.registrar.pubkey()),
        registrar_before + ROOM_RENT_LAMPORTS
    );
    assert_eq!(env.lamports(&env.host.pubkey()), host_before - meta.fee);
    assert_eq!(env.account(&room), None);
    let event: roomcast::RoomClosed = single_event(&meta);
    assert_eq!(event.lamports, ROOM_RENT_LAMPORTS);
}
