//! update_room resizes the room to its new title: a longer title is paid by the signer, a shorter
//! one refunds the payer, the room stays exactly rent-exempt, and close still returns every lamport.
mod common;

use common::*;
use roomcast::state::{room_offsets, Room, RoomStatus};
use roomcast::RoomcastError;
use solana_instruction::error::InstructionError;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

/// Rent of one byte of account data: 3480 lamports/byte-year × 2 years.
const RENT_PER_BYTE: u64 = 6960;
/// A 5-byte and a 30-byte title: 25 bytes, 174 000 lamports of rent apart.
const SHORT: &str = "Short";
const LONG: &str = "Thirty bytes of a long title!!";

/// The data size and lamports of the account at `address`.
fn size_and_lamports(env: &Env, address: &Pubkey) -> (usize, u64) {
    let account = env.account(address).expect("room");
    (account.data.len(), account.lamports)
}

fn rent(env: &Env, title: &str) -> u64 {
    env.svm
        .minimum_balance_for_rent_exemption(Room::space(INGEST_URL.len(), title.len()))
}

#[test]
fn a_longer_title_is_paid_by_the_signing_host() {
    let mut env = Env::new();
    let room = env.created_room(&session_id(1), SHORT);
    assert_eq!(LONG.len(), 30);
    assert_eq!(
        size_and_lamports(&env, &room),
        (164 + 37 + 5, rent(&env, SHORT))
    );
    let (host_before, registrar_before) = (
        env.lamports(&env.host.pubkey()),
        env.lamports(&env.registrar.pubkey()),
    );
    env.set_now(T0 + 30);

    let host = env.host.insecure_clone();
    let ix = env.update_room_ix(&host.pubkey(), &room, LONG);
    let meta = env.send_one(ix, &host).expect("update_room grows");

    let difference = 25 * RENT_PER_BYTE;
    assert_eq!(difference, 174_000);
    assert_eq!(rent(&env, LONG) - rent(&env, SHORT), difference);
    assert_eq!(
        env.lamports(&host.pubkey()),
        host_before - meta.fee - difference
    );
    assert_eq!(env.lamports(&env.registrar.pubkey()), registrar_before);
    assert_eq!(
        size_and_lamports(&env, &room),
        (164 + 37 + 30, rent(&env, LONG))
    );
    let decoded = env.room(&room).unwrap();
    assert_eq!(
        (decoded.title.as_str(), decoded.updated_at),
        (LONG, T0 + 30)
    );
    assert_eq!(decoded.ingest_url, INGEST_URL);
    assert_eq!(decoded.session_id_hex(), session_id(1));
    // The growth is logged as a system transfer from the host, inside the update.
    assert!(
        meta.logs
            .iter()
            .any(|l| l == "Program 11111111111111111111111111111111 invoke [2]"),
        "{:#?}",
        meta.logs
    );
}

#[test]
fn a_longer_title_set_by_the_registrar_is_paid_by_the_registrar() {
    let mut env = Env::new();
    let room = env.created_room(&session_id(1), SHORT);
    let registrar = env.registrar.insecure_clone();
    let before = env.lamports(&registrar.pubkey());
    // The registrar signs and is the room's payer: the same account is passed twice.
    let ix = env.update_room_ix(&registrar.pubkey(), &room, LONG);
    let meta = env.send_one(ix, &registrar).expect("update_room grows");
    assert_eq!(
        env.lamports(&registrar.pubkey()),
        before - meta.fee - 174_000
    );
    assert_eq!(
        size_and_lamports(&env, &room),
        (164 + 37 + 30, rent(&env, LONG))
    );
}

#[test]
fn a_shorter_title_refunds_the_excess_to_the_payer() {
    let mut env = Env::new();
    let room = env.created_room(&session_id(1), LONG);
    let (host_before, registrar_before) = (
        env.lamports(&env.host.pubkey()),
        env.lamports(&env.registrar.pubkey()),
    );
    let host = env.host.insecure_clone();
    let ix = env.update_room_ix(&host.pubkey(), &room, SHORT);
    let meta = env.send_one(ix, &host).expect("update_room shrinks");

    // The host pays the fee only; the payer (registrar) gets exactly the freed rent back.
    assert_eq!(env.lamports(&host.pubkey()), host_before - meta.fee);
    assert_eq!(
        env.lamports(&env.registrar.pubkey()),
        registrar_before + 174_000
    );
    assert_eq!(
        size_and_lamports(&env, &room),
        (164 + 37 + 5, rent(&env, SHORT))
    );
    assert_eq!(env.room(&room).unwrap().title, SHORT);
}

#[test]
fn a_title_of_the_same_size_moves_no_lamports() {
    let mut env = Env::new();
    let room = env.created_room(&session_id(1), "AAAAA");
    let before = size_and_lamports(&env, &room);
    let (host_before, registrar_before) = (
        env.lamports(&env.host.pubkey()),
        env.lamports(&env.registrar.pubkey()),
    );
    let host = env.host.insecure_clone();
    let ix = env.update_room_ix(&host.pubkey(), &room, "BBBBB");
    let meta = env.send_one(ix, &host).expect("update_room");
    assert_eq!(size_and_lamports(&env, &room), before);
    assert_eq!(env.lamports(&host.pubkey()), host_before - meta.fee);
    assert_eq!(env.lamports(&env.registrar.pubkey()), registrar_before);
    assert_eq!(env.room(&room).unwrap().title, "BBBBB");
    // No system transfer: only the program ran.
    assert!(!meta
        .logs
        .iter()
        .any(|l| l.contains("11111111111111111111111111111111")));
}

#[test]
fn a_payer_account_other_than_the_rooms_payer_is_refused() {
    let mut env = Env::new();
    let room = env.created_room(&session_id(1), LONG);
    let host = env.host.insecure_clone();
    let stranger = env.stranger.pubkey();
    // A shrink would send the refund to the account passed as payer: it must be the recorded one.
    let before = env.snapshot(&[room, host.pubkey(), stranger, env.registrar.pubkey()]);
    let ix = update_room_ix(&host.pubkey(), &env.registry, &room, &stranger, SHORT);
    let result = env.send_one(ix, &host);
    assert_roomcast_error(&result, RoomcastError::PayerMismatch);
    env.assert_unchanged(&before, &result, &host.pubkey(), 1);
}

#[test]
fn a_host_without_funds_cannot_grow_the_title_but_can_shrink_it() {
    let mut env = Env::new();
    let broke = Keypair::new();
    assert_eq!(env.lamports(&broke.pubkey()), 0);
    let sid = session_id(1);
    let ix = env.create_room_ix(
        &env.registrar.pubkey(),
        &env.registry,
        &sid,
        INGEST_URL,
        SHORT,
        &broke.pubkey(),
    );
    let registrar = env.registrar.insecure_clone();
    env.send_one(ix, &registrar).expect("create_room");
    let room = env.room_addr(&sid);
    let stranger = env.stranger.insecure_clone();

    // The stranger pays the fee; the broke host signs as the authority and cannot fund the growth.
    let before = env.snapshot(&[room, broke.pubkey(), registrar.pubkey(), stranger.pubkey()]);
    let ix = env.update_room_ix(&broke.pubkey(), &room, LONG);
    let result = env.send(&[ix], &[&stranger, &broke]);
    // The system program's `ResultWithNegativeLamports` ("Transfer: insufficient lamports").
    assert_eq!(
        instruction_error(&result),
        Some(InstructionError::Custom(1))
    );
    let logs = &result.as_ref().unwrap_err().meta.logs;
    assert!(
        logs.iter()
            .any(|l| l.contains("insufficient lamports 0, need 174000")),
        "{logs:#?}"
    );
    env.assert_unchanged(&before, &result, &stranger.pubkey(), 2);

    // Shrinking needs no funds: the refund goes to the payer.
    env.set_now(T0 + 5);
    let registrar_before = env.lamports(&registrar.pubkey());
    let ix = env.update_room_ix(&broke.pubkey(), &room, "S");
    env.send(&[ix], &[&stranger, &broke]).expect("shrink");
    assert_eq!(
        env.lamports(&registrar.pubkey()),
        registrar_before + 4 * RENT_PER_BYTE
    );
    assert_eq!(env.lamports(&broke.pubkey()), 0);
    assert_eq!(
        size_and_lamports(&env, &room),
        (164 + 37 + 1, rent(&env, "S"))
    );
}

#[test]
fn close_after_growth_returns_every_lamport_to_the_payer() {
    let mut env = Env::new();
    let room = env.created_room(&session_id(1), SHORT);
    let host = env.host.insecure_clone();
    // The host grows the title to the maximum (95 more bytes), then the room ends.
    let max = "x".repeat(100);
    let ix = env.update_room_ix(&host.pubkey(), &room, &max);
    env.send_one(ix, &host).expect("grow to the maximum");
    assert_eq!(
        size_and_lamports(&env, &room),
        (164 + 37 + 100, rent(&env, &max))
    );
    let ix = env.end_room_ix(&host.pubkey(), &room);
    env.send_one(ix, &host).expect("end_room");
    assert_eq!(env.room(&room).unwrap().status, RoomStatus::Ended);

    let held = env.lamports(&room);
    assert_eq!(held, rent(&env, SHORT) + 95 * RENT_PER_BYTE);
    let registrar_before = env.lamports(&env.registrar.pubkey());
    let ix = env.close_room_ix(&host.pubkey(), &room, &env.registrar.pubkey());
    let meta = env.send_one(ix, &host).expect("close_room");
    assert_eq!(env.account(&room), None);
    assert_eq!(
        env.lamports(&env.registrar.pubkey()),
        registrar_before + held
    );
    let event: roomcast::RoomClosed = single_event(&meta);
    assert_eq!(event.lamports, held);
}

#[test]
fn filterable_fields_sit_at_their_documented_offsets() {
    let mut env = Env::new();
    let sid = "0123456789abcdef00112233445566ff";
    let room = env.created_room(sid, "Offsets");
    let data = env.account(&room).unwrap().data;
    let at = |offset: usize, len: usize| data[offset..offset + len].to_vec();
    assert_eq!(
        (
            room_offsets::REGISTRY,
            room_offsets::HOST,
            room_offsets::PAYER,
            room_offsets::STATUS,
            room_offsets::SESSION_ID
        ),
        (8, 40, 72, 104, 106)
    );
    assert_eq!(at(room_offsets::REGISTRY, 32), env.registry.to_bytes());
    assert_eq!(at(room_offsets::HOST, 32), env.host.pubkey().to_bytes());
    assert_eq!(
        at(room_offsets::PAYER, 32),
        env.registrar.pubkey().to_bytes()
    );
    assert_eq!(at(room_offsets::STATUS, 1), [RoomStatus::Created as u8]);
    assert_eq!(
        at(room_offsets::SESSION_ID, 16),
        [
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
            0x66, 0xff
        ]
    );

    // Going live and ending fill the timestamps without moving anything or growing the account.
    let registrar = env.registrar.insecure_clone();
    let ix = env.set_live_ix(&registrar.pubkey(), &room);
    env.send_one(ix, &registrar).expect("set_live");
    let ix = env.end_room_ix(&registrar.pubkey(), &room);
    env.send_one(ix, &registrar).expect("end_room");
    let after = env.account(&room).unwrap().data;
    assert_eq!(after.len(), data.len());
    assert_eq!(after[room_offsets::STATUS], RoomStatus::Ended as u8);
    assert_eq!(
        after[room_offsets::SESSION_ID..room_offsets::SESSION_ID + 16],
        data[room_offsets::SESSION_ID..room_offsets::SESSION_ID + 16]
    );
    assert_eq!(env.room(&room).unwrap().title, "Offsets");
}
