//! Through the built binary: a room ended straight on-chain by its host (not through the API) is
//! pushed to the server over WebSocket PubSub (`programSubscribe`): its live input is disabled and
//! viewers' cached state is replaced at once. The reconciler is off and the room cache TTL is long
//! here, so nothing but the subscription can explain either effect.
mod support;

use futures_util::{SinkExt, StreamExt};
use roomcast_chain::{RoomStatus, Signer};
use serde_json::{json, Value};
use support::*;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn a_room_ended_on_chain_disables_its_input_and_reaches_viewers() {
    let s = Server::start(&[
        ("ROOMCAST_ROOM_CACHE_MS", "600000"),
        ("ROOMCAST_RECONCILE_INTERVAL_SECS", "0"),
    ]);
    let api = s.api();
    let emu = s.emulator();

    // The PubSub URL is published and serves Solana's PubSub API.
    let info = api.get("/api/info").await;
    info.assert_status(200);
    let ws_url = info.str("wsUrl");
    let rpc_port: u16 = s.rpc_url.rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(ws_url, format!("ws://127.0.0.1:{}", rpc_port + 1));
    assert_eq!(ws_url, s.ws_url);
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url.as_str())
        .await
        .unwrap();
    ws.send(Message::text(
        json!({"jsonrpc": "2.0", "id": 1, "method": "rootSubscribe"}).to_string(),
    ))
    .await
    .unwrap();
    let reply: Value = match ws.next().await.unwrap().unwrap() {
        Message::Text(t) => serde_json::from_str(t.as_str()).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(reply["result"].as_u64().is_some(), "{reply}");

    let host = wallet();
    let created = api.create_as_host(&host, "Ends on-chain").await;
    created.assert_status(201);
    let uid = created.str("sessionId");
    let room = s.room_address(&uid);
    // A viewer loads the room: it is cached for ten minutes from here.
    api.get(&format!("/api/livestream?sessionId={uid}"))
        .await
        .assert_status(200);
    assert_eq!(emu.input(&uid).await.unwrap()["enabled"], true);

    airdrop(&s.rpc_url, &host.pubkey(), 1_000_000_000).await;
    s.chain_as(&host)
        .end_room(s.registry, room)
        .await
        .expect("the host ends their room on-chain");
    assert_eq!(
        s.chain_reader().room(&room).await.unwrap().unwrap().status,
        RoomStatus::Ended
    );

    eventually("the live input to be disabled", || async {
        (emu.input(&uid).await.unwrap()["enabled"] == false).then_some(())
    })
    .await;
    let gone = eventually("the viewer to get 410", || async {
        let r = api.get(&format!("/api/livestream?sessionId={uid}")).await;
        (r.status != 200).then_some(r)
    })
    .await;
    gone.assert_error(410, "room_ended");
    assert!(
        s.log_output()
            .contains("room ended on-chain: live input disabled"),
        "{}",
        s.log_output()
    );
}

/// A port whose successor is free too (the node's PubSub listens on RPC port + 1).
fn free_port_pair() -> u16 {
    loop {
        let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = a.local_addr().unwrap().port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

fn start_localnet(port: u16, state: &str, faucet: &str) -> Proc {
    let listen = format!("127.0.0.1:{port}");
    let mut proc = Proc::spawn(
        "localnet-watch",
        &[
            "localnet",
            "--listen",
            &listen,
            "--state",
            state,
            "--faucet-keypair",
            faucet,
        ],
        &[],
    );
    proc.wait_for_line("Faucet keypair: ");
    proc
}

/// The cluster's node restarts under the server: the watcher reconnects (with backoff) and still
/// sees the host end their room on-chain, whether the end lands before the new subscription (caught
/// up from a listing once subscribed again) or after it.
#[tokio::test]
async fn the_watcher_reconnects_after_the_node_restarts() {
    let dir = scratch_dir("watch-restart");
    let state = dir.join("ledger.json");
    let faucet_path = dir.join("faucet.json");
    let (state, faucet) = (state.to_str().unwrap(), faucet_path.to_str().unwrap());
    let port = free_port_pair();
    let mut node = start_localnet(port, state, faucet);
    let rpc_url = format!("http://127.0.0.1:{port}");
    let faucet_key = read_keypair(&faucet_path);
    // The faucet administers the registry and is its registrar.
    let init = std::process::Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .args([
            "-u",
            &rpc_url,
            "-k",
            faucet,
            "registry",
            "init",
            "--registrar",
        ])
        .arg(faucet_key.pubkey().to_string())
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let s = Server::start(&[
        ("SOLANA_RPC_URL", rpc_url.as_str()),
        ("ROOMCAST_REGISTRAR_KEYPAIR", faucet),
        ("ROOMCAST_ROOM_CACHE_MS", "600000"),
    ]);
    assert_eq!(s.ws_url, format!("ws://127.0.0.1:{}", port + 1));
    let api = s.api();
    let emu = s.emulator();
    let host = wallet();
    let created = api
        .create_for(&host.pubkey(), "Survives a node restart")
        .await;
    created.assert_status(201);
    let uid = created.str("sessionId");
    let room = s.room_address(&uid);

    // The node goes away (saving its accounts) and comes back on the same ports.
    assert!(node.terminate().success());
    let _node = start_localnet(port, state, faucet);

    airdrop(&rpc_url, &host.pubkey(), 1_000_000_000).await;
    s.chain_as(&host)
        .end_room(s.registry, room)
        .await
        .expect("the host ends their room on-chain");
    eventually(
        "the live input to be disabled after the reconnect",
        || async { (emu.input(&uid).await.unwrap()["enabled"] == false).then_some(()) },
    )
    .await;
    api.get(&format!("/api/livestream?sessionId={uid}"))
        .await
        .assert_error(410, "room_ended");
    let log = s.log_output();
    assert!(
        log.contains("room subscription ended; reconnecting"),
        "{log}"
    );
}
