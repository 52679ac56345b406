//! `roomcast serve --data-dir`: the embedded node's ledger, the registrar keypair and the emulator's
//! live inputs survive a restart, so a room created before still resolves, its stream key is still
//! the emulator's, and the same registrar can still end it.
mod support;

use std::os::unix::fs::PermissionsExt;

use roomcast_chain::Signer;
use support::*;

#[tokio::test]
async fn rooms_registrar_and_stream_keys_survive_a_restart() {
    let dir = scratch_dir("data-dir");
    let data = dir.join("data");
    let data_str = data.to_str().unwrap();
    let env = [
        ("ROOMCAST_EPHEMERAL", "false"),
        ("ROOMCAST_DATA_DIR", data_str),
    ];

    let mut first = Server::start(&env);
    assert!(
        first.proc.output().contains(&format!(
            "Data dir: {data_str} (local node ledger, registrar keypair, emulator live inputs)"
        )),
        "{}",
        first.proc.output()
    );
    let host = wallet();
    let created = first.api().create_for(&host.pubkey(), "Survives").await;
    created.assert_status(201);
    let uid = created.str("sessionId");
    let stream_key = created.str("StreamKey");
    let room = first.room_address(&uid);
    let (registry, registrar) = (first.registry, first.registrar);
    let status = first.proc.terminate();
    assert!(status.success(), "{status}: {}", first.proc.output());

    for (file, secret) in [
        ("ledger.json", false),
        ("registrar-keypair.json", true),
        ("faucet-keypair.json", true),
        ("stream-inputs.json", true),
    ] {
        let meta = std::fs::metadata(data.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        if secret {
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{file}");
        }
    }

    let second = Server::start(&env);
    assert_eq!(second.registry, registry);
    assert_eq!(second.registrar, registrar);
    let api = second.api();
    let shown = api.get(&format!("/api/livestream?sessionId={uid}")).await;
    shown.assert_status(200);
    assert_eq!(shown.json["room"], room.to_string());
    assert_eq!(shown.json["title"], "Survives");
    let on_chain = second.chain_reader().room(&room).await.unwrap().unwrap();
    assert_eq!(on_chain.session_id, uid);
    // The emulator still has the live input with the same stream key (it still publishes).
    let input = second.emulator().input(&uid).await.expect("input kept");
    assert_eq!(input["rtmps"]["streamKey"], stream_key.as_str());
    assert_eq!(input["enabled"], true);
    // The restored registrar still signs for the registry: the operator ends the room.
    api.call(
        "POST",
        &format!("/api/rooms/{room}/end"),
        None,
        Auth::Operator,
    )
    .await
    .assert_status(200);
    let ended = second.chain_reader().room(&room).await.unwrap().unwrap();
    assert_eq!(ended.status, roomcast_chain::RoomStatus::Ended);
    assert_eq!(
        second.emulator().input(&uid).await.unwrap()["enabled"],
        false
    );
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}
