//! initialize_registry and set_registrar.
mod common;

use anchor_lang::Space;
use common::*;
use roomcast::state::Registry;
use roomcast::RoomcastError;
use solana_instruction::error::InstructionError;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

#[test]
fn initialize_registry_stores_admin_and_registrar_and_emits() {
    let mut env = Env::bare();
    let admin = env.admin.insecure_clone();
    let admin_before = env.lamports(&admin.pubkey());
    let ix = env.initialize_registry_ix(&admin.pubkey(), &env.registrar.pubkey());
    let meta = env.send_one(ix, &admin).expect("initialize_registry");

    let (address, bump) = Pubkey::find_program_address(
        &[roomcast::REGISTRY_SEED, admin.pubkey().as_ref()],
        &roomcast::ID,
    );
    assert_eq!(address, env.registry);
    assert_eq!(
        env.registry_account(&env.registry),
        Some(Registry {
            admin: admin.pubkey(),
            registrar: env.registrar.pubkey(),
            rooms_created: 0,
            bump,
        })
    );
    let rent = env
        .svm
        .minimum_balance_for_rent_exemption(8 + Registry::INIT_SPACE);
    assert_eq!(env.lamports(&env.registry), rent);
    assert_eq!(meta.fee, LAMPORTS_PER_SIGNATURE);
    assert_eq!(
        env.lamports(&admin.pubkey()),
        admin_before - rent - meta.fee
    );

    let event: roomcast::RegistryInitialized = single_event(&meta);
    assert_eq!(event.registry, env.registry);
    assert_eq!(event.admin, admin.pubkey());
    assert_eq!(event.registrar, env.registrar.pubkey());
}

#[test]
fn initialize_registry_twice_fails_and_changes_nothing() {
    let mut env = Env::new();
    let admin = env.admin.insecure_clone();
    let before = env.snapshot(&[env.registry, admin.pubkey()]);
    // Even naming another registrar, the second init cannot overwrite the first.
    let ix = env.initialize_registry_ix(&admin.pubkey(), &env.stranger.pubkey());
    let result = env.send_one(ix, &admin);
    assert_instruction_error(
        &result,
        InstructionError::Custom(SYSTEM_ERROR_ACCOUNT_ALREADY_IN_USE),
    );
    env.assert_unchanged(&before, &result, &admin.pubkey(), 1);
    assert_eq!(
        env.registry_account(&env.registry).unwrap().registrar,
        env.registrar.pubkey()
    );
}

#[test]
fn each_admin_gets_its_own_registry() {
    let mut env = Env::new();
    let other = env.other_operator();
    assert_ne!(other.registry, env.registry);
    let (_, bump) = Pubkey::find_program_address(
        &[roomcast::REGISTRY_SEED, other.admin.pubkey().as_ref()],
        &roomcast::ID,
    );
    assert_eq!(
        env.registry_account(&other.registry),
        Some(Registry {
            admin: other.admin.pubkey(),
            registrar: other.registrar.pubkey(),
            rooms_created: 0,
            bump,
        })
    );
    assert_eq!(
        env.registry_account(&env.registry).unwrap().admin,
        env.admin.pubkey()
    );
}

#[test]
fn set_registrar_replaces_the_registrar_and_emits() {
    let mut env = Env::new();
    let new_registrar = Keypair::new();
    env.svm.airdrop(&new_registrar.pubkey(), 10 * SOL).unwrap();
    let before = env.registry_account(&env.registry).unwrap();
    let ix = env.set_registrar_ix(&env.admin.pubkey(), &env.registry, &new_registrar.pubkey());
    let admin = env.admin.insecure_clone();
    let meta = env.send_one(ix, &admin).expect("set_registrar");

    assert_eq!(
        env.registry_account(&env.registry),
        Some(Registry {
            registrar: new_registrar.pubkey(),
            ..before
        })
    );
    let event: roomcast::RegistrarChanged = single_event(&meta);
    assert_eq!(event.registry, env.registry);
    assert_eq!(event.old_registrar, env.registrar.pubkey());
    assert_eq!(event.new_registrar, new_registrar.pubkey());

    // The old registrar lost its rights; the new one has them.
    let sid = session_id(1);
    let result = env.create_room(&sid, "By the old registrar");
    assert_roomcast_error(&result, RoomcastError::NotRegistrar);
    let ix = env.create_room_ix(
        &new_registrar.pubkey(),
        &env.registry,
        &sid,
        INGEST_URL,
        "By the new registrar",
        &env.host.pubkey(),
    );
    env.send_one(ix, &new_registrar)
        .expect("new registrar creates");
    assert_eq!(
        env.room(&env.room_addr(&sid)).unwrap().payer,
        new_registrar.pubkey()
    );
}

#[test]
fn set_registrar_by_a_non_admin_is_refused() {
    let mut env = Env::new();
    for signer in [
        env.stranger.insecure_clone(),
        env.registrar.insecure_clone(),
        env.host.insecure_clone(),
    ] {
        let before = env.snapshot(&[env.registry, signer.pubkey()]);
        let ix = env.set_registrar_ix(&signer.pubkey(), &env.registry, &signer.pubkey());
        let result = env.send_one(ix, &signer);
        assert_roomcast_error(&result, RoomcastError::NotAdmin);
        env.assert_unchanged(&before, &result, &signer.pubkey(), 1);
    }
}

#[test]
fn set_registrar_by_another_operators_admin_is_refused() {
    let mut env = Env::new();
    let other = env.other_operator();
    let before = env.snapshot(&[env.registry, other.registry, other.admin.pubkey()]);
    let ix = env.set_registrar_ix(
        &other.admin.pubkey(),
        &env.registry,
        &other.registrar.pubkey(),
    );
    let result = env.send_one(ix, &other.admin);
    assert_roomcast_error(&result, RoomcastError::NotAdmin);
    env.assert_unchanged(&before, &result, &other.admin.pubkey(), 1);
}
