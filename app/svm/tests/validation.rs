//! Input validation and account validation: malformed session ids, ingest URLs and titles; rooms
//! under the wrong registry or at the wrong address. Every refusal leaves all state as it was.
mod common;

use anchor_lang::error::ErrorCode;
use common::*;
use roomcast::RoomcastError;
use solana_account::Account;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

/// Tries to create a room in the default registry and asserts `expected`; the room stays absent and
/// the registry and registrar are unchanged (apart from the fee).
fn create_refused(env: &mut Env, sid: &str, url: &str, title: &str, expected: RoomcastError) {
    let room = env.room_addr(sid);
    let registrar = env.registrar.insecure_clone();
    let before = env.snapshot(&[room, env.registry, registrar.pubkey()]);
    assert_eq!(before.0[0].1, None);
    let ix = env.create_room_ix(
        &registrar.pubkey(),
        &env.registry,
        sid,
        url,
        title,
        &env.host.pubkey(),
    );
    let result = env.send_one(ix, &registrar);
    assert_roomcast_error(&result, expected);
    env.assert_unchanged(&before, &result, &registrar.pubkey(), 1);
}

fn create_ok(env: &mut Env, sid: &str, url: &str, title: &str) {
    let ix = env.create_room_ix(
        &env.registrar.pubkey(),
        &env.registry,
        sid,
        url,
        title,
        &env.host.pubkey(),
    );
    let registrar = env.registrar.insecure_clone();
    env.send_one(ix, &registrar)
        .unwrap_or_else(|e| panic!("{sid:?}/{url:?}/{title:?}: {:?}", e.err));
    let room = env.room(&env.room_addr(sid)).expect("room");
    assert_eq!(
        (
            room.session_id_hex().as_str(),
            room.ingest_url.as_str(),
            room.title.as_str()
        ),
        (sid, url, title)
    );
    // Allocated for exactly these strings.
    let account = env.account(&env.room_addr(sid)).expect("room");
    assert_eq!(account.data.len(), 164 + url.len() + title.len());
}

#[test]
fn malformed_session_ids_are_refused() {
    let mut env = Env::new();
    let valid = session_id(1);
    let cases = [
        valid[..31].to_string(),                        // one short
        format!("{valid}0"),                            // one long
        format!("{valid}{valid}"),                      // twice as long
        String::new(),                                  // empty
        valid.to_uppercase(),                           // uppercase hex
        format!("{}A", &valid[..31]),                   // a single uppercase letter
        format!("{}g", &valid[..31]),                   // not hex
        format!("{}-", &valid[..31]),                   // punctuation
        format!("{}é", &valid[..30]),                   // 32 bytes, but not ASCII
        "abc0-0000-0000-0000-000000000001".to_string(), // a UUID-shaped id
    ];
    for sid in cases {
        create_refused(
            &mut env,
            &sid,
            INGEST_URL,
            "Title",
            RoomcastError::InvalidSessionId,
        );
    }
    assert_eq!(env.rooms_created(), 0);
    create_ok(&mut env, &valid, INGEST_URL, "Title");
}

#[test]
fn ingest_urls_need_rtmps_rtmp_or_srt_and_at_most_128_bytes() {
    let mut env = Env::new();
    let sid = session_id(1);
    for url in [
        "https://live.cloudflare.com/live/",
        "rtmpt://live.cloudflare.com/live/",
        "RTMP://127.0.0.1:1935/live/",
        "RTMPS://live.cloudflare.com/live/",
        "webrtc://live.cloudflare.com",
        " rtmps://live.cloudflare.com/live/",
        "rtmps://",
        "rtmp://",
        "srt://",
        "",
    ] {
        create_refused(
            &mut env,
            &sid,
            url,
            "Title",
            RoomcastError::InvalidIngestUrlScheme,
        );
    }
    let too_long = format!("srt://{}", "a".repeat(129 - "srt://".len()));
    assert_eq!(too_long.len(), 129);
    create_refused(
        &mut env,
        &sid,
        &too_long,
        "Title",
        RoomcastError::IngestUrlTooLong,
    );
    // The scheme is checked first.
    create_refused(
        &mut env,
        &sid,
        &format!("https://{}", "a".repeat(200)),
        "Title",
        RoomcastError::InvalidIngestUrlScheme,
    );

    let longest = format!("srt://{}", "a".repeat(128 - "srt://".len()));
    create_ok(&mut env, &sid, &longest, "Title");
    create_ok(&mut env, &session_id(2), "rtmps://x", "Title");
    // The local Stream emulator's plain RTMP listener.
    create_ok(
        &mut env,
        &session_id(3),
        "rtmp://127.0.0.1:1935/live/",
        "Title",
    );
}

/// Titles are bounded in bytes of UTF-8, not in characters.
fn title_cases() -> (Vec<String>, Vec<String>) {
    let ok = vec![
        "x".to_string(),
        "a".repeat(100),
        "é".repeat(50),                  // 50 chars, 100 bytes
        "🎥".repeat(25),                 // 25 chars, 100 bytes
        format!("{}ab", "é".repeat(49)), // 51 chars, 100 bytes
    ];
    let too_long = vec![
        "a".repeat(101),
        format!("{}a", "é".repeat(50)),  // 51 chars, 101 bytes
        "é".repeat(51),                  // 51 chars, 102 bytes
        format!("{}a", "🎥".repeat(25)), // 26 chars, 101 bytes
        format!("{}é", "a".repeat(99)),  // 100 chars, 101 bytes
    ];
    for t in &ok {
        assert!(t.len() <= 100);
    }
    for t in &too_long {
        assert!(t.len() > 100 && t.chars().count() <= 101);
    }
    (ok, too_long)
}

#[test]
fn create_room_titles_are_bounded_in_bytes() {
    let mut env = Env::new();
    let (ok, too_long) = title_cases();
    create_refused(
        &mut env,
        &session_id(0),
        INGEST_URL,
        "",
        RoomcastError::TitleEmpty,
    );
    for title in &too_long {
        create_refused(
            &mut env,
            &session_id(0),
            INGEST_URL,
            title,
            RoomcastError::TitleTooLong,
        );
    }
    for (n, title) in ok.iter().enumerate() {
        create_ok(&mut env, &session_id(n as u64 + 1), INGEST_URL, title);
    }
}

#[test]
fn update_room_titles_are_bounded_in_bytes() {
    let mut env = Env::new();
    let room = env.created_room(&session_id(1), "Original");
    let (ok, too_long) = title_cases();
    let host = env.host.insecure_clone();
    let refuse = |env: &mut Env, title: &str, expected| {
        let before = env.snapshot(&[room, env.registry, host.pubkey()]);
        let ix = env.update_room_ix(&host.pubkey(), &room, title);
        let result = env.send_one(ix, &host);
        assert_roomcast_error(&result, expected);
        env.assert_unchanged(&before, &result, &host.pubkey(), 1);
    };
    refuse(&mut env, "", RoomcastError::TitleEmpty);
    for title in &too_long {
        refuse(&mut env, title, RoomcastError::TitleTooLong);
    }
    for title in &ok {
        let ix = env.update_room_ix(&host.pubkey(), &room, title);
        env.send_one(ix, &host).expect("title within bounds");
        assert_eq!(&env.room(&room).unwrap().title, title);
    }
}

#[test]
fn create_room_at_an_address_not_derived_from_the_session_id_is_refused() {
    let mut env = Env::new();
    let sid = session_id(1);
    let registrar = env.registrar.insecure_clone();
    let other_pda = env.room_addr(&session_id(2));
    let other_registry_pda = room_address(&Keypair::new().pubkey(), &sid);
    let random = Keypair::new().pubkey();
    for wrong in [other_pda, other_registry_pda, random] {
        let before = env.snapshot(&[wrong, env.room_addr(&sid), env.registry, registrar.pubkey()]);
        let ix = create_room_ix_at(
            &registrar.pubkey(),
            &env.registry,
            &wrong,
            &sid,
            INGEST_URL,
            "Title",
            &env.host.pubkey(),
        );
        let result = env.send_one(ix, &registrar);
        assert_anchor_error(&result, ErrorCode::ConstraintSeeds);
        env.assert_unchanged(&before, &result, &registrar.pubkey(), 1);
    }
}

#[test]
fn a_room_passed_with_the_wrong_registry_is_refused() {
    let mut env = Env::new();
    let other = env.other_operator();
    let room = env.ended_room(&session_id(1));
    // The other registry's registrar signs, so only the registry/room pairing can be at fault.
    let signer = other.registrar.insecure_clone();
    let watched = [room, env.registry, other.registry, env.registrar.pubkey()];
    for ix in [
        update_room_ix(
            &signer.pubkey(),
            &other.registry,
            &room,
            &env.registrar.pubkey(),
            "Moved",
        ),
        set_live_ix(&signer.pubkey(), &other.registry, &room),
        end_room_ix(&signer.pubkey(), &other.registry, &room),
        close_room_ix(
            &signer.pubkey(),
            &other.registry,
            &room,
            &env.registrar.pubkey(),
        ),
    ] {
        let mut addresses = watched.to_vec();
        addresses.push(signer.pubkey());
        let before = env.snapshot(&addresses);
        let result = env.send_one(ix, &signer);
        // The seeds are checked first: the room is not at the other registry's PDA.
        assert_anchor_error(&result, ErrorCode::ConstraintSeeds);
        env.assert_unchanged(&before, &result, &signer.pubkey(), 1);
    }
}

/// Plants a copy of `room`'s account at `at`, with its bump byte replaced (program-owned, as only a
/// bug could produce): the harness lets us reach checks a real chain guards twice.
fn plant_copy(env: &mut Env, room: &Pubkey, at: &Pubkey, bump: Option<u8>) {
    let mut account: Account = env.account(room).expect("room");
    if let Some(bump) = bump {
        account.data[8 + 96 + 1] = bump; // discriminator, 3 pubkeys, status
    }
    env.svm.set_account(*at, account).unwrap();
}

#[test]
fn a_room_recording_another_registry_is_refused_even_at_a_matching_pda() {
    let mut env = Env::new();
    let other = env.other_operator();
    let sid = session_id(1);
    let room = env.created_room(&sid, "Mine");
    let (forged, bump) = Pubkey::find_program_address(
        &[roomcast::ROOM_SEED, other.registry.as_ref(), sid.as_bytes()],
        &roomcast::ID,
    );
    plant_copy(&mut env, &room, &forged, Some(bump));
    let decoded = env.room(&forged).unwrap();
    assert_eq!((decoded.registry, decoded.bump), (env.registry, bump));

    let signer = other.registrar.insecure_clone();
    for ix in [
        update_room_ix(
            &signer.pubkey(),
            &other.registry,
            &forged,
            &env.registrar.pubkey(),
            "Moved",
        ),
        set_live_ix(&signer.pubkey(), &other.registry, &forged),
        end_room_ix(&signer.pubkey(), &other.registry, &forged),
        close_room_ix(
            &signer.pubkey(),
            &other.registry,
            &forged,
            &env.registrar.pubkey(),
        ),
    ] {
        let before = env.snapshot(&[forged, room, other.registry, signer.pubkey()]);
        let result = env.send_one(ix, &signer);
        assert_roomcast_error(&result, RoomcastError::RegistryMismatch);
        env.assert_unchanged(&before, &result, &signer.pubkey(), 1);
    }
}

#[test]
fn a_room_account_at_a_non_pda_address_is_refused() {
    let mut env = Env::new();
    let room = env.ended_room(&session_id(1));
    let copy = Keypair::new().pubkey();
    plant_copy(&mut env, &room, &copy, None);
    let registrar = env.registrar.insecure_clone();
    let ixs: Vec<Instruction> = vec![
        env.update_room_ix(&registrar.pubkey(), &copy, "Copy"),
        env.set_live_ix(&registrar.pubkey(), &copy),
        env.end_room_ix(&registrar.pubkey(), &copy),
        env.close_room_ix(&registrar.pubkey(), &copy, &registrar.pubkey()),
    ];
    for ix in ixs {
        let before = env.snapshot(&[copy, room, env.registry, registrar.pubkey()]);
        let result = env.send_one(ix, &registrar);
        assert_anchor_error(&result, ErrorCode::ConstraintSeeds);
        env.assert_unchanged(&before, &result, &registrar.pubkey(), 1);
    }
}

#[test]
fn a_registry_at_a_non_pda_address_is_refused() {
    let mut env = Env::new();
    let account = env.account(&env.registry).unwrap();
    let copy = Keypair::new().pubkey();
    env.svm.set_account(copy, account).unwrap();
    let sid = session_id(1);
    let registrar = env.registrar.insecure_clone();
    let before = env.snapshot(&[
        copy,
        env.registry,
        room_address(&copy, &sid),
        registrar.pubkey(),
    ]);
    let ix = env.create_room_ix(
        &registrar.pubkey(),
        &copy,
        &sid,
        INGEST_URL,
        "Title",
        &env.host.pubkey(),
    );
    let result = env.send_one(ix, &registrar);
    assert_anchor_error(&result, ErrorCode::ConstraintSeeds);
    env.assert_unchanged(&before, &result, &registrar.pubkey(), 1);
}
