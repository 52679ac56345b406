//! Who may do what: only the registrar creates and marks live; host or registrar update, end and
//! close; nobody acts across registries. Every refusal leaves all state as it was.
mod common;

use anchor_lang::error::ErrorCode;
use common::*;
use roomcast::RoomcastError;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

/// Sends `ix` signed by `signer` and asserts the error and that `watched` (plus the signer, who only
/// loses the fee) are unchanged.
fn refused(
    env: &mut Env,
    ix: Instruction,
    signer: &Keypair,
    watched: &[Pubkey],
    check: impl Fn(&TxResult),
) {
    let mut addresses = watched.to_vec();
    addresses.push(signer.pubkey());
    let before = env.snapshot(&addresses);
    let result = env.send_one(ix, signer);
    check(&result);
    env.assert_unchanged(&before, &result, &signer.pubkey(), 1);
}

#[test]
fn only_the_registrar_creates_rooms() {
    let mut env = Env::new();
    let registry = env.registry;
    let sid = session_id(1);
    let room = env.room_addr(&sid);
    for signer in [
        env.stranger.insecure_clone(),
        env.host.insecure_clone(),
        env.admin.insecure_clone(),
    ] {
        let ix = env.create_room_ix(
            &signer.pubkey(),
            &env.registry,
            &sid,
            INGEST_URL,
            "Mine",
            &signer.pubkey(),
        );
        refused(&mut env, ix, &signer, &[registry, room], |r| {
            assert_roomcast_error(r, RoomcastError::NotRegistrar)
        });
        assert_eq!(env.account(&room), None);
        assert_eq!(env.rooms_created(), 0);
    }
}

#[test]
fn another_operators_registrar_cannot_create_in_my_registry() {
    let mut env = Env::new();
    let registry = env.registry;
    let other = env.other_operator();
    let sid = session_id(1);
    let room = env.room_addr(&sid);
    let ix = env.create_room_ix(
        &other.registrar.pubkey(),
        &env.registry,
        &sid,
        INGEST_URL,
        "Squat",
        &env.host.pubkey(),
    );
    refused(
        &mut env,
        ix,
        &other.registrar,
        &[registry, other.registry, room],
        |r| assert_roomcast_error(r, RoomcastError::NotRegistrar),
    );
    // And mine cannot create in theirs.
    let theirs = room_address(&other.registry, &sid);
    let ix = env.create_room_ix(
        &env.registrar.pubkey(),
        &other.registry,
        &sid,
        INGEST_URL,
        "Squat",
        &env.host.pubkey(),
    );
    let registrar = env.registrar.insecure_clone();
    refused(
        &mut env,
        ix,
        &registrar,
        &[registry, other.registry, theirs],
        |r| assert_roomcast_error(r, RoomcastError::NotRegistrar),
    );
}

#[test]
fn a_stranger_cannot_update_end_or_close() {
    let mut env = Env::new();
    let live = env.created_room(&session_id(1), "Live room");
    let ix = env.set_live_ix(&env.registrar.pubkey(), &live);
    let registrar = env.registrar.insecure_clone();
    env.send_one(ix, &registrar).expect("set_live");
    let ended = env.ended_room(&session_id(2));
    let stranger = env.stranger.insecure_clone();
    let watched = [live, ended, env.registry, env.registrar.pubkey()];

    for ix in [
        env.update_room_ix(&stranger.pubkey(), &live, "Hijacked"),
        env.end_room_ix(&stranger.pubkey(), &live),
        env.close_room_ix(&stranger.pubkey(), &ended, &env.registrar.pubkey()),
    ] {
        refused(&mut env, ix, &stranger, &watched, |r| {
            assert_roomcast_error(r, RoomcastError::NotHostOrRegistrar)
        });
    }
}

#[test]
fn another_rooms_host_is_a_stranger_here() {
    let mut env = Env::new();
    let registry = env.registry;
    let mine = env.created_room(&session_id(1), "Mine");
    let other_host = Keypair::new();
    env.svm.airdrop(&other_host.pubkey(), SOL).unwrap();
    let ix = env.create_room_ix(
        &env.registrar.pubkey(),
        &env.registry,
        &session_id(2),
        INGEST_URL,
        "Theirs",
        &other_host.pubkey(),
    );
    let registrar = env.registrar.insecure_clone();
    env.send_one(ix, &registrar).expect("second room");
    let ix = env.update_room_ix(&other_host.pubkey(), &mine, "Hijacked");
    refused(&mut env, ix, &other_host, &[mine, registry], |r| {
        assert_roomcast_error(r, RoomcastError::NotHostOrRegistrar)
    });
}

#[test]
fn only_the_registrar_sets_live() {
    let mut env = Env::new();
    let registry = env.registry;
    let room = env.created_room(&session_id(1), "Room");
    for signer in [
        env.host.insecure_clone(),
        env.stranger.insecure_clone(),
        env.admin.insecure_clone(),
    ] {
        let ix = env.set_live_ix(&signer.pubkey(), &room);
        refused(&mut env, ix, &signer, &[room, registry], |r| {
            assert_roomcast_error(r, RoomcastError::NotRegistrar)
        });
    }
}

#[test]
fn another_operators_registrar_has_no_power_over_my_rooms() {
    let mut env = Env::new();
    let other = env.other_operator();
    let room = env.created_room(&session_id(1), "Mine");
    let signer = other.registrar.insecure_clone();
    let watched = [room, env.registry, other.registry];

    // Naming my registry: they are not its registrar.
    let ix = update_room_ix(
        &signer.pubkey(),
        &env.registry,
        &room,
        &env.registrar.pubkey(),
        "Hijacked",
    );
    refused(&mut env, ix, &signer, &watched, |r| {
        assert_roomcast_error(r, RoomcastError::NotHostOrRegistrar)
    });
    let ix = end_room_ix(&signer.pubkey(), &env.registry, &room);
    refused(&mut env, ix, &signer, &watched, |r| {
        assert_roomcast_error(r, RoomcastError::NotHostOrRegistrar)
    });
    let ix = set_live_ix(&signer.pubkey(), &env.registry, &room);
    refused(&mut env, ix, &signer, &watched, |r| {
        assert_roomcast_error(r, RoomcastError::NotRegistrar)
    });

    // Naming their own registry: my room is not at their registry's PDA.
    let ix = update_room_ix(
        &signer.pubkey(),
        &other.registry,
        &room,
        &env.registrar.pubkey(),
        "Hijacked",
    );
    refused(&mut env, ix, &signer, &watched, |r| {
        assert_anchor_error(r, ErrorCode::ConstraintSeeds)
    });
    let ix = end_room_ix(&signer.pubkey(), &other.registry, &room);
    refused(&mut env, ix, &signer, &watched, |r| {
        assert_anchor_error(r, ErrorCode::ConstraintSeeds)
    });
    let ix = set_live_ix(&signer.pubkey(), &other.registry, &room);
    refused(&mut env, ix, &signer, &watched, |r| {
        assert_anchor_error(r, ErrorCode::ConstraintSeeds)
    });
}

#[test]
fn an_unsigned_authority_is_refused() {
    let mut env = Env::new();
    let registry = env.registry;
    let room = env.created_room(&session_id(1), "Room");
    // The host is named as authority but only the stranger signs (and pays).
    let mut ix = env.update_room_ix(&env.host.pubkey(), &room, "Forged");
    ix.accounts[0].is_signer = false;
    let stranger = env.stranger.insecure_clone();
    refused(&mut env, ix, &stranger, &[room, registry], |r| {
        assert_anchor_error(r, ErrorCode::AccountNotSigner)
    });
}
