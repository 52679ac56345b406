//! A room's whole life on the bank: create → live → update → end → close, with the state and
//! lamports on both sides after each step (same expectations as app/svm/tests/room_lifecycle.rs).
mod common;

use common::*;
use roomcast::state::RoomStatus;
use solana_signer::Signer;

#[tokio::test]
async fn create_live_update_end_close() {
    let mut env = Env::new().await;
    let registry = env.registry_account().await;
    assert_eq!(registry.admin, env.admin.pubkey());
    assert_eq!(registry.registrar, env.registrar.pubkey());
    assert_eq!(registry.rooms_created, 0);

    let sid = session_id(1);
    let registrar_before = env.lamports(&env.registrar.pubkey()).await;
    let room = env.create_room(&sid, "Friday show").await;
    let rent = env.lamports(&room).await;
    // Sized to its content: 164 fixed bytes + the 37-byte ingest URL + "Friday show" (11 bytes),
    // at the bank's default rent (3480 lamports/byte-year, 2 years, 128 bytes of overhead).
    assert_eq!(rent, (128 + 164 + 37 + 11) * 6960);
    // The registrar paid the rent and one signature fee.
    assert_eq!(
        env.lamports(&env.registrar.pubkey()).await,
        registrar_before - rent - 5_000
    );
    let now = env.now().await;
    let created = env.room(&room).await.unwrap();
    assert_eq!(created.registry, env.registry);
    assert_eq!(created.host, env.host.pubkey());
    assert_eq!(created.payer, env.registrar.pubkey());
    assert_eq!(created.status, RoomStatus::Created);
    assert_eq!(created.session_id_hex(), sid);
    assert_eq!(created.ingest_url, INGEST_URL);
    assert_eq!(created.title, "Friday show");
    assert_eq!((created.created_at, created.updated_at), (now, now));
    assert_eq!((created.live_at, created.ended_at), (None, None));
    assert_eq!(env.registry_account().await.rooms_created, 1);

    let (registrar, host) = (env.registrar.insecure_clone(), env.host.insecure_clone());
    let reg = env.registry;
    env.send(&[set_live_ix(&registrar.pubkey(), &reg, &room)], &registrar)
        .await
        .unwrap();
    let live = env.room(&room).await.unwrap();
    assert_eq!(live.status, RoomStatus::Live);
    assert_eq!(live.live_at, Some(env.now().await));

    // A 4-byte shorter title: the payer (registrar) gets 4 bytes of rent back.
    let payer_before = env.lamports(&registrar.pubkey()).await;
    env.send(
        &[update_room_ix(
            &host.pubkey(),
            &reg,
            &room,
            &registrar.pubkey(),
            "Renamed",
        )],
        &host,
    )
    .await
    .unwrap();
    let updated = env.room(&room).await.unwrap();
    assert_eq!(updated.title, "Renamed");
    assert_eq!(updated.status, RoomStatus::Live);
    assert_eq!(
        env.lamports(&registrar.pubkey()).await,
        payer_before + 4 * 6960
    );
    let rent = rent - 4 * 6960;
    assert_eq!(env.lamports(&room).await, rent);

    env.send(&[end_room_ix(&host.pubkey(), &reg, &room)], &host)
        .await
        .unwrap();
    let ended = env.room(&room).await.unwrap();
    assert_eq!(ended.status, RoomStatus::Ended);
    assert_eq!(ended.ended_at, Some(env.now().await));
    assert_eq!(ended.live_at, live.live_at);

    let payer_before = env.lamports(&registrar.pubkey()).await;
    env.send(
        &[close_room_ix(
            &host.pubkey(),
            &reg,
            &room,
            &registrar.pubkey(),
        )],
        &host,
    )
    .await
    .unwrap();
    assert_eq!(env.room(&room).await, None);
    assert_eq!(env.lamports(&room).await, 0);
    assert_eq!(env.lamports(&registrar.pubkey()).await, payer_before + rent);
    // The counter counts creations, not live rooms.
    assert_eq!(env.registry_account().await.rooms_created, 1);
}
