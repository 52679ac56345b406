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
