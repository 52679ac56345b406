//! Typed program errors on the bank, with the same codes as on LiteSVM.
mod common;

use common::*;
use roomcast::RoomcastError;
use solana_signer::Signer;

#[tokio::test]
async fn invalid_input_is_refused_with_its_error() {
    let mut env = Env::new().await;
    let reg = env.registry;
    let registrar = env.registrar.insecure_clone();
    let host = env.host.pubkey();
    let cases = [
        (
            "ABCDEF0123456789abcdef0123456789".to_string(),
            INGEST_URL.to_string(),
            "T".to_string(),
            RoomcastError::InvalidSessionId,
        ),
        (
            "abc".to_string(),
            INGEST_URL.to_string(),
            "T".to_string(),
            RoomcastError::InvalidSessionId,
        ),
        (
            session_id(1),
            "http://live.example.com/".to_string(),
            "T".to_string(),
            RoomcastError::InvalidIngestUrlScheme,
        ),
        (
            session_id(2),
            format!("rtmps://{}", "a".repeat(121)),
            "T".to_string(),
            RoomcastError::IngestUrlTooLong,
        ),
        (
            session_id(3),
            INGEST_URL.to_string(),
            String::new(),
            RoomcastError::TitleEmpty,
        ),
        (
            session_id(4),
            INGEST_URL.to_string(),
            "t".repeat(101),
            RoomcastError::TitleTooLong,
        ),
    ];
    for (sid, url, title, expected) in cases {
        let ix = create_room_ix(&registrar.pubkey(), &reg, &sid, &url, &title, &host);
        let code = custom(env.send(&[ix], &registrar).await);
        assert_eq!(code, roomcast_code(expected), "{sid} {url} {title:?}");
    }
    assert_eq!(env.registry_account().await.rooms_created, 0);
}

#[tokio::test]
async fn out_of_order_transitions_are_refused() {
    let mut env = Env::new().await;
    let reg = env.registry;
    let registrar = env.registrar.insecure_clone();
    let room = env.create_room(&session_id(1), "Order").await;
    let close = close_room_ix(&registrar.pubkey(), &reg, &room, &registrar.pubkey());
    assert_eq!(
        custom(env.send(&[close.clone()], &registrar).await),
        roomcast_code(RoomcastError::RoomNotEnded)
    );
    let live = set_live_ix(&registrar.pubkey(), &reg, &room);
    env.send(&[live.clone()], &registrar).await.unwrap();
    assert_eq!(
        custom(env.send(&[live.clone()], &registrar).await),
        roomcast_code(RoomcastError::NotCreated)
    );
    env.send(&[end_room_ix(&registrar.pubkey(), &reg, &room)], &registrar)
        .await
        .unwrap();
    for ix in [
        live,
        end_room_ix(&registrar.pubkey(), &reg, &room),
        update_room_ix(
            &registrar.pubkey(),
            &reg,
            &room,
            &registrar.pubkey(),
            "Too late",
        ),
    ] {
        assert_eq!(
            custom(env.send(&[ix], &registrar).await),
            roomcast_code(RoomcastError::RoomEnded)
        );
    }
    // Rent goes back to the payer only.
    let stranger = env.stranger.pubkey();
    let ix = close_room_ix(&registrar.pubkey(), &reg, &room, &stranger);
    assert_eq!(
        custom(env.send(&[ix], &registrar).await),
        roomcast_code(RoomcastError::PayerMismatch)
    );
    env.send(&[close], &registrar).await.unwrap();
    assert_eq!(env.room(&room).await, None);
}
