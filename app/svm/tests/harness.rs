//! The native harness itself: `init` must really create accounts (with the default syscall stubs it
//! would "succeed" without creating anything), and program logs and events must reach the
//! transaction's logs exactly once.
mod common;

use anchor_lang::{Discriminator, Space};
use common::*;
use roomcast::state::{Registry, Room};
use solana_signer::Signer;

fn program_line(suffix: &str) -> String {
    format!("Program {} {suffix}", program_id())
}

fn system_line(suffix: &str) -> String {
    format!("Program {} {suffix}", system_program())
}

#[test]
fn init_creates_a_program_owned_rent_exempt_account() {
    let mut env = Env::new();
    let sid = session_id(1);
    let address = env.room_addr(&sid);
    assert_eq!(
        env.account(&address),
        None,
        "room must not exist before create_room"
    );

    env.create_room(&sid, "Hello").expect("create_room");

    let account = env
        .account(&address)
        .expect("init created the room account");
    assert_eq!(account.owner, program_id());
    // Sized to its content: 164 fixed bytes + the 37-byte ingest URL + "Hello".
    assert_eq!(
        account.data.len(),
        Room::space(INGEST_URL.len(), "Hello".len())
    );
    assert_eq!(account.data.len(), 206);
    assert_eq!(
        account.lamports,
        env.svm.minimum_balance_for_rent_exemption(206)
    );
    assert!(!account.executable);
    assert_eq!(&account.data[..8], Room::DISCRIMINATOR);

    let registry = env
        .account(&env.registry)
        .expect("init created the registry account");
    assert_eq!(registry.owner, program_id());
    assert_eq!(registry.data.len(), 8 + Registry::INIT_SPACE);
    assert_eq!(
        registry.lamports,
        env.svm
            .minimum_balance_for_rent_exemption(8 + Registry::INIT_SPACE)
    );
    assert_eq!(&registry.data[..8], Registry::DISCRIMINATOR);
}

#[test]
fn create_room_logs_the_system_cpi_and_the_event_once() {
    let mut env = Env::new();
    let sid = session_id(1);
    let meta = env.create_room(&sid, "Hello").expect("create_room");
    let data = program_data(&meta.logs);
    assert_eq!(data.len(), 1);
    let expected = vec![
        program_line("invoke [1]"),
        system_line("invoke [2]"),
        system_line("success"),
        format!(
            "Program data: {}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &data[0])
        ),
        program_line("success"),
    ];
    assert_eq!(meta.logs, expected);
    let event: roomcast::RoomCreated = decode_event(&data[0]);
    assert_eq!(event.session_id, sid);
}

#[test]
fn instruction_without_cpi_logs_invoke_event_success() {
    let mut env = Env::new();
    let room = env.created_room(&session_id(1), "Hello");
    let ix = env.end_room_ix(&env.host.pubkey(), &room);
    let host = env.host.insecure_clone();
    let meta = env.send_one(ix, &host).expect("end_room");
    assert_eq!(meta.logs.len(), 3, "{:#?}", meta.logs);
    assert_eq!(meta.logs[0], program_line("invoke [1]"));
    assert!(meta.logs[1].starts_with("Program data: "));
    assert_eq!(meta.logs[2], program_line("success"));
}

#[test]
fn two_instructions_in_one_transaction_each_log_once() {
    let mut env = Env::new();
    let room = env.created_room(&session_id(1), "Hello");
    let live = env.set_live_ix(&env.registrar.pubkey(), &room);
    let end = env.end_room_ix(&env.registrar.pubkey(), &room);
    let registrar = env.registrar.insecure_clone();
    let meta = env
        .send(&[live, end], &[&registrar])
        .expect("set_live + end_room");
    let invoke = program_line("invoke [1]");
    let success = program_line("success");
    assert_eq!(meta.logs.iter().filter(|l| **l == invoke).count(), 2);
    assert_eq!(meta.logs.iter().filter(|l| **l == success).count(), 2);
    assert_eq!(meta.logs.len(), 6, "{:#?}", meta.logs);
    let data = program_data(&meta.logs);
    let _: roomcast::RoomLive = decode_event(&data[0]);
    let _: roomcast::RoomEnded = decode_event(&data[1]);
}

#[test]
fn failed_instruction_logs_one_failure_line_and_no_event() {
    let mut env = Env::new();
    let room = env.created_room(&session_id(1), "Hello");
    let ix = env.update_room_ix(&env.stranger.pubkey(), &room, "Hijacked");
    let stranger = env.stranger.insecure_clone();
    let result = env.send_one(ix, &stranger);
    assert_roomcast_error(&result, roomcast::RoomcastError::NotHostOrRegistrar);
    let logs = &result.unwrap_err().meta.logs;
    assert_eq!(
        logs,
        &vec![
            program_line("invoke [1]"),
            program_line("failed: custom program error: 0x1776"),
        ]
    );
}

#[test]
fn failed_cpi_aborts_with_the_system_program_error() {
    let mut env = Env::new();
    let sid = session_id(1);
    env.create_room(&sid, "Hello").expect("create_room");
    let result = env.create_room(&sid, "Again");
    assert_instruction_error(
        &result,
        solana_instruction::error::InstructionError::Custom(SYSTEM_ERROR_ACCOUNT_ALREADY_IN_USE),
    );
    let logs = &result.unwrap_err().meta.logs;
    assert_eq!(logs.len(), 5, "{logs:#?}");
    assert_eq!(logs[0], program_line("invoke [1]"));
    assert_eq!(logs[1], system_line("invoke [2]"));
    assert!(logs[2].contains("already in use"), "{logs:#?}");
    assert_eq!(logs[3], system_line("failed: custom program error: 0x0"));
    assert_eq!(logs[4], program_line("failed: custom program error: 0x0"));
}

#[test]
fn the_clock_the_program_reads_is_the_one_the_test_set() {
    let mut env = Env::new();
    env.set_now(T0 + 12_345);
    assert_eq!(env.clock_now(), T0 + 12_345);
    let room = env.created_room(&session_id(1), "Hello");
    assert_eq!(env.room(&room).unwrap().created_at, T0 + 12_345);
}
