//! Account sizes and rent, computed by hand: the numbers the README quotes.
mod common;

use anchor_lang::Space;
use common::*;
use roomcast::state::{Registry, Room};
use solana_signer::Signer;

/// 8 (discriminator) + 3 × 32 (registry, host, payer) + 1 (status) + 1 (bump) + 16 (session id)
/// + 2 × 8 (created_at, updated_at) + 2 × (1 + 8) (live_at, ended_at, reserved at full size)
/// + 4 + 4 (the two strings' length prefixes); the strings' bytes come on top.
const ROOM_FIXED_SIZE: usize = 8 + 3 * 32 + 1 + 1 + 16 + 2 * 8 + 2 * (1 + 8) + 4 + 4;
/// 8 (discriminator) + 2 × 32 (admin, registrar) + 8 (rooms_created) + 1 (bump).
const REGISTRY_ACCOUNT_SIZE: usize = 8 + 2 * 32 + 8 + 1;
/// Rent exemption = (128 bytes of account overhead + data) × 3480 lamports/byte-year × 2 years.
const fn rent(size: usize) -> u64 {
    (128 + size as u64) * 3480 * 2
}
const REGISTRY_RENT_LAMPORTS: u64 = (128 + 81) * 3480 * 2;
/// The title the typical-room tests use: 20 bytes.
const TITLE_20: &str = "Friday night stream!";

#[test]
fn a_typical_room_is_222_bytes_and_holds_2_436_000_lamports() {
    assert_eq!(ROOM_FIXED_SIZE, 164);
    // The typical room: a 38-byte ingest URL and a 20-byte title (was 412 bytes, 3 758 400).
    assert_eq!(Room::space(38, 20), 222);
    assert_eq!(rent(222), 2_436_000);
    // The largest room (every string at its maximum) is the old layout's size minus 20 bytes.
    assert_eq!(8 + Room::INIT_SPACE, ROOM_FIXED_SIZE + 128 + 100);
    assert_eq!((8 + Room::INIT_SPACE, rent(392)), (392, 3_619_200));

    // Cloudflare's RTMPS ingest URL is 37 bytes: with a 20-byte title, 221 bytes.
    let mut env = Env::new();
    assert_eq!((INGEST_URL.len(), TITLE_20.len()), (37, 20));
    assert_eq!(env.svm.minimum_balance_for_rent_exemption(221), rent(221));
    assert_eq!(rent(221), 2_429_040);
    let registrar_before = env.lamports(&env.registrar.pubkey());
    let meta = env
        .create_room(&session_id(1), TITLE_20)
        .expect("create_room");
    let account = env.account(&env.room_addr(&session_id(1))).unwrap();
    assert_eq!((account.data.len(), account.lamports), (221, 2_429_040));
    assert_eq!(
        env.lamports(&env.registrar.pubkey()),
        registrar_before - 2_429_040 - meta.fee
    );
}

#[test]
fn room_size_follows_the_strings_byte_for_byte() {
    let mut env = Env::new();
    for (n, title) in ["t", "Ten bytes!", &"é".repeat(50)].into_iter().enumerate() {
        let sid = session_id(n as u64 + 1);
        env.create_room(&sid, title).expect("create_room");
        let account = env.account(&env.room_addr(&sid)).unwrap();
        let size = ROOM_FIXED_SIZE + 37 + title.len();
        assert_eq!((account.data.len(), account.lamports), (size, rent(size)));
    }
    // 1, 10 and 100 bytes of title.
    assert_eq!(
        [rent(202), rent(211), rent(301)],
        [2_296_800, 2_359_440, 2_985_840]
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
    // "Ended soon": 10 bytes of title.
    let held = rent(ROOM_FIXED_SIZE + 37 + 10);
    assert_eq!((env.lamports(&room), held), (2_359_440, 2_359_440));
    // The host closes and pays the fee, so the registrar's balance moves by the rent alone.
    let ix = env.close_room_ix(&env.host.pubkey(), &room, &env.registrar.pubkey());
    let host = env.host.insecure_clone();
    let meta = env.send_one(ix, &host).expect("close_room");
    assert_eq!(
        env.lamports(&env.registrar.pubkey()),
        registrar_before + held
    );
    assert_eq!(env.lamports(&env.host.pubkey()), host_before - meta.fee);
    assert_eq!(env.account(&room), None);
    let event: roomcast::RoomClosed = single_event(&meta);
    assert_eq!(event.lamports, held);
}
