//! The authority matrix on the bank: only the registrar creates and marks live, host or registrar
//! update/end/close, only the admin changes the registrar; refusals change nothing.
mod common;

use common::*;
use roomcast::state::RoomStatus;
use roomcast::RoomcastError;
use solana_keypair::Keypair;
use solana_signer::Signer;

#[tokio::test]
async fn who_may_do_what() {
    let mut env = Env::new().await;
    let reg = env.registry;
    let (admin, registrar, host, stranger) = (
        env.admin.insecure_clone(),
        env.registrar.insecure_clone(),
        env.host.insecure_clone(),
        env.stranger.insecure_clone(),
    );

    // create: registrar only.
    let sid = session_id(7);
    for signer in [&stranger, &host, &admin] {
        let ix = create_room_ix(
            &signer.pubkey(),
            &reg,
            &sid,
            INGEST_URL,
            "Mine",
            &signer.pubkey(),
        );
        let code = custom(env.send(&[ix], signer).await);
        assert_eq!(code, roomcast_code(RoomcastError::NotRegistrar));
        assert_eq!(env.room(&room_address(&reg, &sid)).await, None);
    }
    let room = env.create_room(&sid, "Theirs").await;

    // set_live: registrar only.
    for signer in [&stranger, &host, &admin] {
        let code = custom(
            env.send(&[set_live_ix(&signer.pubkey(), &reg, &room)], signer)
                .await,
        );
        assert_eq!(code, roomcast_code(RoomcastError::NotRegistrar));
    }
    assert_eq!(env.room(&room).await.unwrap().status, RoomStatus::Created);

    // update / end / close: host or registrar, never a stranger or the admin.
    for signer in [&stranger, &admin] {
        let code = custom(
            env.send(
                &[update_room_ix(
                    &signer.pubkey(),
                    &reg,
                    &room,
                    &registrar.pubkey(),
                    "Hijacked",
                )],
                signer,
            )
            .await,
        );
        assert_eq!(code, roomcast_code(RoomcastError::NotHostOrRegistrar));
        let code = custom(
            env.send(&[end_room_ix(&signer.pubkey(), &reg, &room)], signer)
                .await,
        );
        assert_eq!(code, roomcast_code(RoomcastError::NotHostOrRegistrar));
    }
    let unchanged = env.room(&room).await.unwrap();
    assert_eq!(
        (unchanged.title.as_str(), unchanged.status),
        ("Theirs", RoomStatus::Created)
    );
    env.send(
        &[update_room_ix(
            &registrar.pubkey(),
            &reg,
            &room,
            &registrar.pubkey(),
            "By registrar",
        )],
        &registrar,
    )
    .await
    .unwrap();
    env.send(&[end_room_ix(&registrar.pubkey(), &reg, &room)], &registrar)
        .await
        .unwrap();
    let code = custom(
        env.send(
            &[close_room_ix(
                &stranger.pubkey(),
                &reg,
                &room,
                &registrar.pubkey(),
            )],
            &stranger,
        )
        .await,
    );
    assert_eq!(code, roomcast_code(RoomcastError::NotHostOrRegistrar));
    assert!(env.room(&room).await.is_some());

    // set_registrar: admin only; afterwards the old registrar can no longer create.
    let next = Keypair::new();
    for signer in [&registrar, &host, &stranger] {
        let code = custom(
            env.send(
                &[set_registrar_ix(&signer.pubkey(), &reg, &next.pubkey())],
                signer,
            )
            .await,
        );
        assert_eq!(code, roomcast_code(RoomcastError::NotAdmin));
    }
    env.send(
        &[set_registrar_ix(&admin.pubkey(), &reg, &next.pubkey())],
        &admin,
    )
    .await
    .unwrap();
    assert_eq!(env.registry_account().await.registrar, next.pubkey());
    let ix = create_room_ix(
        &registrar.pubkey(),
        &reg,
        &session_id(8),
        INGEST_URL,
        "Late",
        &host.pubkey(),
    );
    assert_eq!(
        custom(env.send(&[ix], &registrar).await),
        roomcast_code(RoomcastError::NotRegistrar)
    );
}
