//! create_room: the success paths, with every field of the room, the registry counter and the event.
mod common;

use anchor_lang::Space;
use common::*;
use roomcast::state::{Room, RoomStatus};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

fn room_bump(registry: &Pubkey, sid: &str) -> u8 {
    Pubkey::find_program_address(
        &[roomcast::ROOM_SEED, registry.as_ref(), sid.as_bytes()],
        &roomcast::ID,
    )
    .1
}

#[test]
fn create_room_stores_every_field_counts_and_emits() {
    let mut env = Env::new();
    let host = Keypair::new().pubkey();
    let sid = session_id(7);
    let address = env.room_addr(&sid);
    let registrar = env.registrar.insecure_clone();
    let registrar_before = env.lamports(&registrar.pubkey());
    env.set_now(T0 + 100);

    let ix = env.create_room_ix(
        &registrar.pubkey(),
        &env.registry,
        &sid,
        "srt://live.cloudflare.com:778",
        "Opening night",
        &host,
    );
    let meta = env.send_one(ix, &registrar).expect("create_room");

    assert_eq!(
        env.room(&address),
        Some(Room {
            registry: env.registry,
            host,
            payer: registrar.pubkey(),
            status: RoomStatus::Created,
            bump: room_bump(&env.registry, &sid),
            created_at: T0 + 100,
            updated_at: T0 + 100,
            live_at: None,
            ended_at: None,
            // "abc0…0007": the 32 hex characters stored as their 16 bytes.
            session_id: [0xab, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07],
            ingest_url: "srt://live.cloudflare.com:778".into(),
            title: "Opening night".into(),
        })
    );
    assert_eq!(env.rooms_created(), 1);
    // Sized to its content: 164 fixed bytes + a 29-byte ingest URL + a 13-byte title.
    let account = env.account(&address).unwrap();
    assert_eq!(account.data.len(), 164 + 29 + 13);
    let rent = env.svm.minimum_balance_for_rent_exemption(206);
    assert_eq!(account.lamports, rent);
    assert_eq!(
        env.lamports(&registrar.pubkey()),
        registrar_before - rent - meta.fee
    );

    let event: roomcast::RoomCreated = single_event(&meta);
    assert_eq!(event.registry, env.registry);
    assert_eq!(event.room, address);
    assert_eq!(event.session_id, sid);
    assert_eq!(event.host, host);
    assert_eq!(event.payer, registrar.pubkey());
    assert_eq!(event.ingest_url, "srt://live.cloudflare.com:778");
    assert_eq!(event.title, "Opening night");
    assert_eq!(event.created_at, T0 + 100);
}

#[test]
fn create_room_accepts_every_field_at_its_maximum_length() {
    let mut env = Env::new();
    let sid = "0123456789abcdef0123456789abcdef".to_string();
    let url = format!("rtmps://{}", "a".repeat(128 - "rtmps://".len()));
    let title = "🎥".repeat(25); // 25 chars, 100 bytes
    assert_eq!((sid.len(), url.len(), title.len()), (32, 128, 100));
    env.set_now(T0 + 5);
    let ix = env.create_room_ix(
        &env.registrar.pubkey(),
        &env.registry,
        &sid,
        &url,
        &title,
        &env.host.pubkey(),
    );
    let registrar = env.registrar.insecure_clone();
    let meta = env
        .send_one(ix, &registrar)
        .expect("maximal room fits its account");

    let room = env.room(&env.room_addr(&sid)).unwrap();
    assert_eq!(
        (
            room.session_id,
            room.session_id_hex(),
            room.ingest_url.as_str(),
            room.title.as_str()
        ),
        (
            [
                0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
                0xcd, 0xef
            ],
            sid.clone(),
            url.as_str(),
            title.as_str()
        )
    );
    // The largest room there can be: every string at its maximum.
    let account = env.account(&env.room_addr(&sid)).unwrap();
    assert_eq!(account.data.len(), 8 + Room::INIT_SPACE);
    assert_eq!(account.data.len(), 164 + 128 + 100);
    let event: roomcast::RoomCreated = single_event(&meta);
    assert_eq!((event.ingest_url, event.title), (url, title));
}

#[test]
fn rooms_created_counts_every_room_and_is_never_decremented() {
    let mut env = Env::new();
    for n in 1..=3 {
        env.set_now(T0 + n as i64);
        env.create_room(&session_id(n), &format!("Room {n}"))
            .expect("create_room");
        assert_eq!(env.rooms_created(), n);
        assert_eq!(
            env.room(&env.room_addr(&session_id(n))).unwrap().created_at,
            T0 + n as i64
        );
    }
    // Closing a room keeps the count.
    let room = env.room_addr(&session_id(1));
    let end = env.end_room_ix(&env.host.pubkey(), &room);
    let close = env.close_room_ix(&env.host.pubkey(), &room, &env.registrar.pubkey());
    let host = env.host.insecure_clone();
    env.send(&[end, close], &[&host]).expect("end + close");
    assert_eq!(env.account(&room), None);
    assert_eq!(env.rooms_created(), 3);
}

#[test]
fn the_same_session_id_may_exist_once_per_registry() {
    let mut env = Env::new();
    let other = env.other_operator();
    let sid = session_id(1);
    env.create_room(&sid, "Mine")
        .expect("create in my registry");
    let ix = env.create_room_ix(
        &other.registrar.pubkey(),
        &other.registry,
        &sid,
        INGEST_URL,
        "Theirs",
        &env.host.pubkey(),
    );
    env.send_one(ix, &other.registrar)
        .expect("create in the other registry");

    let mine = env.room(&room_address(&env.registry, &sid)).unwrap();
    let theirs = env.room(&room_address(&other.registry, &sid)).unwrap();
    assert_ne!(
        room_address(&env.registry, &sid),
        room_address(&other.registry, &sid)
    );
    assert_eq!((mine.registry, mine.title.as_str()), (env.registry, "Mine"));
    assert_eq!(
        (theirs.registry, theirs.title.as_str()),
        (other.registry, "Theirs")
    );
    assert_eq!(
        env.registry_account(&other.registry).unwrap().rooms_created,
        1
    );
    assert_eq!(env.rooms_created(), 1);
}

#[test]
fn a_closed_rooms_session_id_can_be_registered_again_as_a_fresh_room() {
    let mut env = Env::new();
    let sid = session_id(1);
    let room = env.ended_room(&sid);
    let close = env.close_room_ix(&env.registrar.pubkey(), &room, &env.registrar.pubkey());
    let registrar = env.registrar.insecure_clone();
    env.send_one(close, &registrar).expect("close");

    env.set_now(T0 + 900);
    env.create_room(&sid, "Second life")
        .expect("re-create after close");
    let again = env.room(&room).unwrap();
    assert_eq!(again.status, RoomStatus::Created);
    assert_eq!((again.created_at, again.updated_at), (T0 + 900, T0 + 900));
    assert_eq!((again.live_at, again.ended_at), (None, None));
    assert_eq!(again.title, "Second life");
    assert_eq!(env.rooms_created(), 2);
}

#[test]
fn the_same_session_id_twice_is_refused_and_the_first_room_is_kept() {
    let mut env = Env::new();
    let sid = session_id(1);
    let room = env.created_room(&sid, "First");
    let registrar = env.registrar.insecure_clone();
    let before = env.snapshot(&[room, env.registry, registrar.pubkey()]);
    env.set_now(T0 + 60);
    // Same id, another title and host: `init` refuses the existing account.
    let ix = env.create_room_ix(
        &registrar.pubkey(),
        &env.registry,
        &sid,
        "srt://elsewhere",
        "Second",
        &env.stranger.pubkey(),
    );
    let result = env.send_one(ix, &registrar);
    assert_instruction_error(
        &result,
        solana_instruction::error::InstructionError::Custom(SYSTEM_ERROR_ACCOUNT_ALREADY_IN_USE),
    );
    env.assert_unchanged(&before, &result, &registrar.pubkey(), 1);
    assert_eq!(env.room(&room).unwrap().title, "First");
    assert_eq!(env.rooms_created(), 1);
}
