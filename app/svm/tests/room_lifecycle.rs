//! update_room, set_live, end_room, close_room: success paths (every field, every event) and the
//! lifecycle rules (nothing after the end, no close before it, rent back to the payer only).
mod common;

use anchor_lang::error::ErrorCode;
use common::*;
use roomcast::state::{Room, RoomStatus};
use roomcast::RoomcastError;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

/// A room created at T0 + 10 by the registrar for the host.
fn setup() -> (Env, Pubkey, Room) {
    let mut env = Env::new();
    env.set_now(T0 + 10);
    let room = env.created_room(&session_id(1), "Before");
    let snapshot = env.room(&room).unwrap();
    assert_eq!(
        (snapshot.created_at, snapshot.updated_at),
        (T0 + 10, T0 + 10)
    );
    (env, room, snapshot)
}

fn kp(k: &Keypair) -> Keypair {
    k.insecure_clone()
}

#[test]
fn update_room_by_host_or_registrar_changes_title_and_updated_at() {
    let (mut env, room, created) = setup();
    for (i, signer) in [kp(&env.host), kp(&env.registrar)].into_iter().enumerate() {
        let now = T0 + 20 + i as i64;
        env.set_now(now);
        let title = format!("Title by signer {i}");
        let ix = env.update_room_ix(&signer.pubkey(), &room, &title);
        let meta = env.send_one(ix, &signer).expect("update_room");
        assert_eq!(
            env.room(&room),
            Some(Room {
                title: title.clone(),
                updated_at: now,
                ..created.clone()
            })
        );
        let event: roomcast::RoomUpdated = single_event(&meta);
        assert_eq!(event.room, room);
        assert_eq!(event.session_id, session_id(1));
        assert_eq!(event.title, title);
        assert_eq!(event.updated_by, signer.pubkey());
        assert_eq!(event.updated_at, now);
    }
}

#[test]
fn update_room_while_live_keeps_the_live_fields() {
    let (mut env, room, created) = setup();
    env.set_now(T0 + 20);
    let ix = env.set_live_ix(&env.registrar.pubkey(), &room);
    let registrar = kp(&env.registrar);
    env.send_one(ix, &registrar).expect("set_live");
    env.set_now(T0 + 30);
    let ix = env.update_room_ix(&env.host.pubkey(), &room, "Now live");
    let host = kp(&env.host);
    env.send_one(ix, &host).expect("update_room");
    assert_eq!(
        env.room(&room),
        Some(Room {
            status: RoomStatus::Live,
            live_at: Some(T0 + 20),
            updated_at: T0 + 30,
            title: "Now live".into(),
            ..created
        })
    );
}

#[test]
fn set_live_moves_created_to_live_and_emits() {
    let (mut env, room, created) = setup();
    env.set_now(T0 + 20);
    let ix = env.set_live_ix(&env.registrar.pubkey(), &room);
    let registrar = kp(&env.registrar);
    let meta = env.send_one(ix, &registrar).expect("set_live");
    assert_eq!(
        env.room(&room),
        Some(Room {
            status: RoomStatus::Live,
            live_at: Some(T0 + 20),
            updated_at: T0 + 20,
            ..created
        })
    );
    let event: roomcast::RoomLive = single_event(&meta);
    assert_eq!(event.room, room);
    assert_eq!(event.session_id, session_id(1));
    assert_eq!(event.live_at, T0 + 20);
}

#[test]
fn end_room_from_live_by_host() {
    let (mut env, room, created) = setup();
    env.set_now(T0 + 20);
    let ix = env.set_live_ix(&env.registrar.pubkey(), &room);
    let registrar = kp(&env.registrar);
    env.send_one(ix, &registrar).expect("set_live");
    env.set_now(T0 + 30);
    let ix = env.end_room_ix(&env.host.pubkey(), &room);
    let host = kp(&env.host);
    let meta = env.send_one(ix, &host).expect("end_room");
    assert_eq!(
        env.room(&room),
        Some(Room {
            status: RoomStatus::Ended,
            live_at: Some(T0 + 20),
            ended_at: Some(T0 + 30),
            updated_at: T0 + 30,
            ..created
        })
    );
    let event: roomcast::RoomEnded = single_event(&meta);
    assert_eq!(event.room, room);
    assert_eq!(event.session_id, session_id(1));
    assert_eq!(event.previous_status, RoomStatus::Live);
    assert_eq!(event.ended_by, env.host.pubkey());
    assert_eq!(event.ended_at, T0 + 30);
}

#[test]
fn end_room_from_created_by_registrar() {
    let (mut env, room, created) = setup();
    env.set_now(T0 + 40);
    let ix = env.end_room_ix(&env.registrar.pubkey(), &room);
    let registrar = kp(&env.registrar);
    let meta = env.send_one(ix, &registrar).expect("end_room");
    assert_eq!(
        env.room(&room),
        Some(Room {
            status: RoomStatus::Ended,
            ended_at: Some(T0 + 40),
            updated_at: T0 + 40,
            ..created
        })
    );
    let event: roomcast::RoomEnded = single_event(&meta);
    assert_eq!(event.previous_status, RoomStatus::Created);
    assert_eq!(event.ended_by, env.registrar.pubkey());
    assert_eq!(event.ended_at, T0 + 40);
}

#[test]
fn close_room_by_host_or_registrar_returns_the_rent_to_the_payer() {
    for closer in ["host", "registrar"] {
        let mut env = Env::new();
        let room = env.ended_room(&session_id(1));
        // 164 fixed bytes + the ingest URL + "Ended soon".
        let size = Room::space(INGEST_URL.len(), "Ended soon".len());
        assert_eq!((size, env.account(&room).unwrap().data.len()), (211, 211));
        let rent = env.svm.minimum_balance_for_rent_exemption(size);
        assert_eq!(env.lamports(&room), rent);
        let signer = if closer == "host" {
            kp(&env.host)
        } else {
            kp(&env.registrar)
        };
        let payer_before = env.lamports(&env.registrar.pubkey());
        let registry_before = env.registry_account(&env.registry);

        let ix = env.close_room_ix(&signer.pubkey(), &room, &env.registrar.pubkey());
        let meta = env.send_one(ix, &signer).expect("close_room");

        assert_eq!(env.account(&room), None, "closed by {closer}");
        let fee = if closer == "registrar" { meta.fee } else { 0 };
        assert_eq!(
            env.lamports(&env.registrar.pubkey()),
            payer_before + rent - fee
        );
        assert_eq!(env.registry_account(&env.registry), registry_before);
        let event: roomcast::RoomClosed = single_event(&meta);
        assert_eq!(event.room, room);
        assert_eq!(event.session_id, session_id(1));
        assert_eq!(event.closed_by, signer.pubkey());
        assert_eq!(event.rent_to, env.registrar.pubkey());
        assert_eq!(event.lamports, rent);
    }
}

/// Sends `ix` signed by `signer`, asserts `expected`, and that the room, registry and signer are
/// untouched apart from the fee.
fn assert_refused(
    env: &mut Env,
    ix: solana_instruction::Instruction,
    signer: &Keypair,
    room: &Pubkey,
    expected: RoomcastError,
) {
    let before = env.snapshot(&[*room, env.registry, signer.pubkey(), env.registrar.pubkey()]);
    let result = env.send_one(ix, signer);
    assert_roomcast_error(&result, expected);
    env.assert_unchanged(&before, &result, &signer.pubkey(), 1);
}

#[test]
fn nothing_but_close_after_end() {
    let mut env = Env::new();
    let room = env.ended_room(&session_id(1));
    env.set_now(T0 + 500);
    let (host, registrar) = (kp(&env.host), kp(&env.registrar));

    let ix = env.update_room_ix(&host.pubkey(), &room, "Too late");
    assert_refused(&mut env, ix, &host, &room, RoomcastError::RoomEnded);
    let ix = env.update_room_ix(&registrar.pubkey(), &room, "Too late");
    assert_refused(&mut env, ix, &registrar, &room, RoomcastError::RoomEnded);
    let ix = env.set_live_ix(&registrar.pubkey(), &room);
    assert_refused(&mut env, ix, &registrar, &room, RoomcastError::RoomEnded);
    let ix = env.end_room_ix(&host.pubkey(), &room);
    assert_refused(&mut env, ix, &host, &room, RoomcastError::RoomEnded);
    let ix = env.end_room_ix(&registrar.pubkey(), &room);
    assert_refused(&mut env, ix, &registrar, &room, RoomcastError::RoomEnded);
}

#[test]
fn set_live_twice_is_refused() {
    let (mut env, room, _) = setup();
    let registrar = kp(&env.registrar);
    let ix = env.set_live_ix(&registrar.pubkey(), &room);
    env.send_one(ix.clone(), &registrar).expect("set_live");
    env.set_now(T0 + 99);
    assert_refused(&mut env, ix, &registrar, &room, RoomcastError::NotCreated);
}

#[test]
fn close_before_end_is_refused_in_created_and_live() {
    let (mut env, room, _) = setup();
    let (host, registrar) = (kp(&env.host), kp(&env.registrar));
    let ix = env.close_room_ix(&host.pubkey(), &room, &registrar.pubkey());
    assert_refused(
        &mut env,
        ix.clone(),
        &host,
        &room,
        RoomcastError::RoomNotEnded,
    );
    let live = env.set_live_ix(&registrar.pubkey(), &room);
    env.send_one(live, &registrar).expect("set_live");
    assert_refused(&mut env, ix, &host, &room, RoomcastError::RoomNotEnded);
    let ix = env.close_room_ix(&registrar.pubkey(), &room, &registrar.pubkey());
    assert_refused(&mut env, ix, &registrar, &room, RoomcastError::RoomNotEnded);
}

#[test]
fn close_paying_someone_else_is_refused() {
    let mut env = Env::new();
    let room = env.ended_room(&session_id(1));
    let (host, registrar, stranger) = (kp(&env.host), kp(&env.registrar), kp(&env.stranger));
    for (signer, rent_to) in [
        (&host, host.pubkey()),
        (&registrar, stranger.pubkey()),
        (&host, env.admin.pubkey()),
    ] {
        let before = env.snapshot(&[
            room,
            env.registry,
            signer.pubkey(),
            registrar.pubkey(),
            rent_to,
        ]);
        let ix = env.close_room_ix(&signer.pubkey(), &room, &rent_to);
        let result = env.send_one(ix, signer);
        assert_roomcast_error(&result, RoomcastError::PayerMismatch);
        env.assert_unchanged(&before, &result, &signer.pubkey(), 1);
    }
}

#[test]
fn a_closed_room_is_gone_for_every_instruction() {
    let mut env = Env::new();
    let room = env.ended_room(&session_id(1));
    let registrar = kp(&env.registrar);
    let close = env.close_room_ix(&registrar.pubkey(), &room, &registrar.pubkey());
    env.send_one(close.clone(), &registrar).expect("close");
    for ix in [
        env.update_room_ix(&registrar.pubkey(), &room, "Ghost"),
        env.set_live_ix(&registrar.pubkey(), &room),
        env.end_room_ix(&registrar.pubkey(), &room),
        close,
    ] {
        let before = env.snapshot(&[room, env.registry, registrar.pubkey()]);
        let result = env.send_one(ix, &registrar);
        assert_anchor_error(&result, ErrorCode::AccountNotInitialized);
        env.assert_unchanged(&before, &result, &registrar.pubkey(), 1);
    }
}
