//! The committed IDL is usable by anchor's Rust client generator: `declare_program!(roomcast)`
//! reads `idls/roomcast.json` (found by walking up from this crate's manifest dir), and the types it
//! generates drive the program in the native chain.
#![allow(unexpected_cfgs)] // declare_program! checks cfgs (target_os = "solana", feature = "idl-build") this crate does not declare
mod common;

use anchor_lang::prelude::*;
use anchor_lang::{AccountDeserialize, InstructionData};
use common::*;
use solana_instruction::Instruction;
use solana_signer::Signer;

declare_program!(roomcast);

/// Makes cargo rebuild this test when the IDL changes (a proc macro's file reads are not tracked).
const _IDL: &str = include_str!("../../../idls/roomcast.json");

#[test]
fn generated_ids_and_constants_match_the_program() {
    assert_eq!(roomcast::ID, ::roomcast::ID);
    assert_eq!(
        roomcast::constants::SESSION_ID_LEN,
        ::roomcast::SESSION_ID_LEN
    );
    assert_eq!(
        roomcast::constants::MAX_INGEST_URL_LEN,
        ::roomcast::MAX_INGEST_URL_LEN
    );
    assert_eq!(
        roomcast::constants::MAX_TITLE_LEN,
        ::roomcast::MAX_TITLE_LEN
    );
    assert_eq!(roomcast::constants::ROOM_SEED, ::roomcast::ROOM_SEED);
    assert_eq!(
        roomcast::constants::REGISTRY_SEED,
        ::roomcast::REGISTRY_SEED
    );
}

#[test]
fn create_room_built_from_the_idl_runs_and_decodes() {
    let mut env = Env::new();
    env.set_now(T0 + 77);
    let sid = session_id(42);
    let room = env.room_addr(&sid);
    let ix = Instruction {
        program_id: roomcast::ID,
        accounts: roomcast::client::accounts::CreateRoom {
            registrar: env.registrar.pubkey(),
            registry: env.registry,
            room,
            system_program: system_program(),
        }
        .to_account_metas(None),
        data: roomcast::client::args::CreateRoom {
            session_id: sid.clone(),
            ingest_url: INGEST_URL.to_string(),
            title: "From the IDL".to_string(),
            host: env.host.pubkey(),
        }
        .data(),
    };
    let registrar = env.registrar.insecure_clone();
    let meta = env
        .send_one(ix, &registrar)
        .expect("create_room from IDL types");

    let account = env.account(&room).expect("room exists");
    assert_eq!(account.owner, roomcast::ID);
    let decoded = roomcast::accounts::Room::try_deserialize(&mut account.data.as_slice())
        .expect("IDL Room decodes");
    assert_eq!(decoded.registry, env.registry);
    assert_eq!(decoded.host, env.host.pubkey());
    assert_eq!(decoded.payer, env.registrar.pubkey());
    assert!(matches!(
        decoded.status,
        roomcast::types::RoomStatus::Created
    ));
    assert_eq!((decoded.created_at, decoded.updated_at), (T0 + 77, T0 + 77));
    assert_eq!((decoded.live_at, decoded.ended_at), (None, None));
    // The id is stored as its 16 bytes ("abc0…002a"); its hex is the 32-character id again.
    assert_eq!(
        decoded.session_id,
        [0xab, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2a]
    );
    let hex: String = decoded
        .session_id
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, sid);
    assert_eq!(decoded.ingest_url, INGEST_URL);
    assert_eq!(decoded.title, "From the IDL");
    // The program's own type decodes the same bytes identically.
    assert_eq!(env.room(&room).unwrap().bump, decoded.bump);

    let event: roomcast::events::RoomCreated = single_event(&meta);
    assert_eq!(event.room, room);
    assert_eq!(event.title, "From the IDL");
    assert_eq!(event.created_at, T0 + 77);

    // update_room from the IDL's account list (payer and system program included) grows the room.
    let ix = Instruction {
        program_id: roomcast::ID,
        accounts: roomcast::client::accounts::UpdateRoom {
            authority: env.host.pubkey(),
            registry: env.registry,
            room,
            payer: env.registrar.pubkey(),
            system_program: system_program(),
        }
        .to_account_metas(None),
        data: roomcast::client::args::UpdateRoom {
            title: "A longer title from the IDL".to_string(),
        }
        .data(),
    };
    let host = env.host.insecure_clone();
    env.send_one(ix, &host).expect("update_room from IDL types");
    let account = env.account(&room).expect("room exists");
    assert_eq!(account.data.len(), 164 + INGEST_URL.len() + 27);
    let decoded = roomcast::accounts::Room::try_deserialize(&mut account.data.as_slice())
        .expect("IDL Room decodes after the resize");
    assert_eq!(decoded.title, "A longer title from the IDL");
}

#[test]
fn idl_error_codes_match_the_program() {
    let mut env = Env::new();
    let result = env.create_room("not-a-session-id", "Title");
    assert_eq!(
        custom_error(&result),
        Some(roomcast::error::RoomcastError::InvalidSessionId as u32)
    );
    assert_roomcast_error(&result, ::roomcast::RoomcastError::InvalidSessionId);
}
