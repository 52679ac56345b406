//! anchor-client against the local node over real HTTP JSON-RPC.
use roomcast_chain::*;
use roomcast_localnet::{LocalNode, NodeOptions};

const SOL: u64 = 1_000_000_000;
const INGEST: &str = "rtmps://live.cloudflare.com:443/live/";

struct Actors {
    node: LocalNode,
    admin: RoomcastChain,
    registrar: RoomcastChain,
    host: RoomcastChain,
    stranger: RoomcastChain,
    registry: Pubkey,
}

async fn funded(node: &LocalNode) -> RoomcastChain {
    let keypair = Keypair::new();
    let chain = RoomcastChain::new(&node.rpc_url(), keypair, node.program_id()).unwrap();
    chain
        .rpc()
        .request_airdrop(&chain.signer_pubkey(), 10 * SOL)
        .await
        .unwrap();
    assert_eq!(
        chain.balance(&chain.signer_pubkey()).await.unwrap(),
        10 * SOL
    );
    chain
}

async fn setup(options: NodeOptions) -> Actors {
    let node = LocalNode::start(options).await.unwrap();
    let admin = funded(&node).await;
    let registrar = funded(&node).await;
    let host = funded(&node).await;
    let stranger = funded(&node).await;
    let (registry, _) = admin
        .initialize_registry(registrar.signer_pubkey())
        .await
        .unwrap();
    Actors {
        node,
        admin,
        registrar,
        host,
        stranger,
        registry,
    }
}

fn sid(n: u8) -> String {
    format!("{:032x}", 0xfeed_0000_u128 + n as u128)
}

fn new_room(n: u8, host: Pubkey) -> NewRoom {
    NewRoom {
        session_id: sid(n),
        ingest_url: INGEST.into(),
        title: format!("Room {n}"),
        host,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_room_lifecycle_over_json_rpc() {
    let a = setup(NodeOptions::default()).await;
    let registry = a
        .admin
        .registry(&a.registry)
        .await
        .unwrap()
        .expect("registry exists");
    assert_eq!(registry.admin, a.admin.signer_pubkey());
    assert_eq!(registry.registrar, a.registrar.signer_pubkey());
    assert_eq!(registry.rooms_created, 0);

    let host = a.host.signer_pubkey();
    let (room_addr, sig) = a
        .registrar
        .create_room(a.registry, new_room(1, host))
        .await
        .unwrap();
    assert_eq!(
        room_addr,
        room_address(&a.node.program_id(), &a.registry, &sid(1))
    );
    assert_ne!(sig, Signature::default());
    let room = a.host.room(&room_addr).await.unwrap().expect("room exists");
    assert_eq!(room.status, RoomStatus::Created);
    assert_eq!(room.host, host);
    assert_eq!(room.payer, a.registrar.signer_pubkey());
    assert_eq!(room.session_id, sid(1));
    assert_eq!(room.ingest_url, INGEST);
    assert_eq!(room.title, "Room 1");
    assert!(room.created_at > 1_700_000_000, "clock is wall time");

    // By session id, as a viewer would look it up.
    let by_session = a
        .stranger
        .room_by_session(&a.registry, &sid(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_session.address, room_addr);

    a.host
        .update_room(
            a.registry,
            room_addr,
            a.registrar.signer_pubkey(),
            "Renamed".into(),
        )
        .await
        .unwrap();
    a.registrar.set_live(a.registry, room_addr).await.unwrap();
    let room = a.host.room(&room_addr).await.unwrap().unwrap();
    assert_eq!(
        (room.title.as_str(), room.status),
        ("Renamed", RoomStatus::Live)
    );
    assert!(room.live_at.is_some());

    // A stranger cannot end it: the program's error name comes back.
    let err = a
        .stranger
        .end_room(a.registry, room_addr)
        .await
        .unwrap_err();
    assert_eq!(
        err.program_error_name(),
        Some("NotHostOrRegistrar"),
        "{err}"
    );
    assert_eq!(
        a.host.room(&room_addr).await.unwrap().unwrap().status,
        RoomStatus::Live
    );

    // The host's own wallet ends it straight on-chain.
    a.host.end_room(a.registry, room_addr).await.unwrap();
    let ended = a.host.room(&room_addr).await.unwrap().unwrap();
    assert_eq!(ended.status, RoomStatus::Ended);
    assert!(ended.ended_at.is_some());
    let err = a
        .host
        .set_live_err_probe(&a.registrar, a.registry, room_addr)
        .await;
    assert_eq!(err.as_deref(), Some("RoomEnded"));

    // Close returns the rent to the registrar (the payer).
    let before = a
        .registrar
        .balance(&a.registrar.signer_pubkey())
        .await
        .unwrap();
    a.host.close_room(a.registry, room_addr).await.unwrap();
    assert!(a.host.room(&room_addr).await.unwrap().is_none());
    let after = a
        .registrar
        .balance(&a.registrar.signer_pubkey())
        .await
        .unwrap();
    assert!(after > before, "rent returned to payer");
}

/// Small helper trait so the test reads as a story.
trait Probe {
    async fn set_live_err_probe(
        &self,
        registrar: &RoomcastChain,
        registry: Pubkey,
        room: Pubkey,
    ) -> Option<String>;
}
impl Probe for RoomcastChain {
    async fn set_live_err_probe(
        &self,
        registrar: &RoomcastChain,
        registry: Pubkey,
        room: Pubkey,
    ) -> Option<String> {
        registrar
            .set_live(registry, room)
            .await
            .err()
            .and_then(|e| e.program_error_name().map(str::to_string))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_filters_by_registry_status_and_host() {
    let a = setup(NodeOptions::default()).await;
    let host = a.host.signer_pubkey();
    let other_host = a.stranger.signer_pubkey();
    let (r1, _) = a
        .registrar
        .create_room(a.registry, new_room(1, host))
        .await
        .unwrap();
    let (r2, _) = a
        .registrar
        .create_room(a.registry, new_room(2, host))
        .await
        .unwrap();
    let (r3, _) = a
        .registrar
        .create_room(a.registry, new_room(3, other_host))
        .await
        .unwrap();
    a.registrar.set_live(a.registry, r2).await.unwrap();
    a.registrar.end_room(a.registry, r3).await.unwrap();

    // A second operator's registry with one room, which must not leak into the first's listing.
    let (other_registry, _) = a
        .stranger
        .initialize_registry(a.stranger.signer_pubkey())
        .await
        .unwrap();
    let (foreign, _) = a
        .stranger
        .create_room(other_registry, new_room(9, host))
        .await
        .unwrap();

    let addrs = |v: Vec<RoomRecord>| {
        let mut v: Vec<Pubkey> = v.into_iter().map(|r| r.address).collect();
        v.sort();
        v
    };
    let sorted = |mut v: Vec<Pubkey>| {
        v.sort();
        v
    };
    let by = |registry, status, host| RoomFilter {
        registry,
        status,
        host,
    };
    let ours = Some(a.registry);
    assert_eq!(
        addrs(a.host.rooms(&by(ours, None, None)).await.unwrap()),
        sorted(vec![r1, r2, r3])
    );
    assert_eq!(
        addrs(
            a.host
                .rooms(&by(ours, Some(RoomStatus::Created), None))
                .await
                .unwrap()
        ),
        vec![r1]
    );
    assert_eq!(
        addrs(
            a.host
                .rooms(&by(ours, Some(RoomStatus::Live), None))
                .await
                .unwrap()
        ),
        vec![r2]
    );
    assert_eq!(
        addrs(
            a.host
                .rooms(&by(ours, Some(RoomStatus::Ended), None))
                .await
                .unwrap()
        ),
        vec![r3]
    );
    assert_eq!(
        addrs(a.host.rooms(&by(ours, None, Some(host))).await.unwrap()),
        sorted(vec![r1, r2])
    );
    assert_eq!(
        addrs(a.host.rooms(&by(None, None, Some(host))).await.unwrap()),
        sorted(vec![r1, r2, foreign])
    );
    assert_eq!(
        addrs(
            a.host
                .rooms(&by(Some(other_registry), None, None))
                .await
                .unwrap()
        ),
        vec![foreign]
    );
    assert!(a
        .host
        .rooms(&by(ours, Some(RoomStatus::Live), Some(other_host)))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_by_session_finds_the_id_in_every_registry() {
    let a = setup(NodeOptions::default()).await;
    let host = a.host.signer_pubkey();
    // The same id in two registries, in different states (its offset must not depend on the
    // optional timestamps), plus rooms with other ids that must not match.
    let (ours, _) = a
        .registrar
        .create_room(a.registry, new_room(1, host))
        .await
        .unwrap();
    a.registrar.set_live(a.registry, ours).await.unwrap();
    a.registrar.end_room(a.registry, ours).await.unwrap();
    a.registrar
        .create_room(a.registry, new_room(2, host))
        .await
        .unwrap();
    let (other_registry, _) = a
        .stranger
        .initialize_registry(a.stranger.signer_pubkey())
        .await
        .unwrap();
    let (theirs, _) = a
        .stranger
        .create_room(other_registry, new_room(1, host))
        .await
        .unwrap();

    let found = a.host.rooms_by_session(&sid(1)).await.unwrap();
    let mut expected = vec![(a.registry, ours), (other_registry, theirs)];
    expected.sort();
    assert_eq!(
        found
            .iter()
            .map(|r| (r.room.registry, r.address))
            .collect::<Vec<_>>(),
        expected
    );
    assert!(found.iter().all(|r| r.room.session_id == sid(1)));
    let statuses: Vec<RoomStatus> = found.iter().map(|r| r.room.status).collect();
    assert!(statuses.contains(&RoomStatus::Ended) && statuses.contains(&RoomStatus::Created));
    assert_eq!(
        a.host
            .rooms_by_session(&sid(2))
            .await
            .unwrap()
            .iter()
            .map(|r| r.room.title.as_str())
            .collect::<Vec<_>>(),
        ["Room 2"]
    );
    assert!(a.host.rooms_by_session(&sid(3)).await.unwrap().is_empty());
    assert!(matches!(
        a.host.rooms_by_session("not-a-session-id").await,
        Err(ChainError::InvalidInput(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_room_resizes_over_json_rpc() {
    let a = setup(NodeOptions::default()).await;
    let (room, _) = a
        .registrar
        .create_room(a.registry, new_room(1, a.host.signer_pubkey()))
        .await
        .unwrap();
    let size = |n: usize| 164 + INGEST.len() + n;
    let account = a.host.rpc().get_account(&room).await.unwrap();
    assert_eq!(account.data.len(), size("Room 1".len()));
    let rent = |n: usize| (128 + size(n) as u64) * 6960;
    assert_eq!(account.lamports, rent(6));

    // The host grows the title by 20 bytes: it pays the fee and exactly the rent difference.
    let host_before = a.host.balance(&a.host.signer_pubkey()).await.unwrap();
    let registrar_before = a
        .registrar
        .balance(&a.registrar.signer_pubkey())
        .await
        .unwrap();
    let longer = "Room 1 plus twenty bytes!!".to_string();
    assert_eq!(longer.len(), 26);
    a.host
        .update_room(
            a.registry,
            room,
            a.registrar.signer_pubkey(),
            longer.clone(),
        )
        .await
        .unwrap();
    assert_eq!(
        a.host.balance(&a.host.signer_pubkey()).await.unwrap(),
        host_before - 5000 - 20 * 6960
    );
    let account = a.host.rpc().get_account(&room).await.unwrap();
    assert_eq!((account.data.len(), account.lamports), (size(26), rent(26)));
    assert_eq!(a.host.room(&room).await.unwrap().unwrap().title, longer);

    // Shrinking it back refunds the registrar, the room's payer.
    a.host
        .update_room(a.registry, room, a.registrar.signer_pubkey(), "R".into())
        .await
        .unwrap();
    assert_eq!(
        a.registrar
            .balance(&a.registrar.signer_pubkey())
            .await
            .unwrap(),
        registrar_before + 25 * 6960
    );
    let account = a.host.rpc().get_account(&room).await.unwrap();
    assert_eq!((account.data.len(), account.lamports), (size(1), rent(1)));

    // The refund can only go to the recorded payer.
    let err = a
        .host
        .update_room(a.registry, room, a.host.signer_pubkey(), "Room".into())
        .await
        .unwrap_err();
    assert_eq!(err.program_error_name(), Some("PayerMismatch"), "{err}");
    assert_eq!(a.host.room(&room).await.unwrap().unwrap().title, "R");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_with_state_file_keeps_every_room() {
    let dir = std::env::temp_dir().join(format!("roomcast-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let state = dir.join("ledger.json");
    let options = NodeOptions {
        state: Some(state.clone()),
        ..NodeOptions::default()
    };
    let a = setup(options.clone()).await;
    let host = a.host.signer_pubkey();
    let (r1, _) = a
        .registrar
        .create_room(a.registry, new_room(1, host))
        .await
        .unwrap();
    let (r2, _) = a
        .registrar
        .create_room(a.registry, new_room(2, host))
        .await
        .unwrap();
    a.host.end_room(a.registry, r2).await.unwrap();
    let before = a
        .host
        .rooms(&RoomFilter {
            registry: Some(a.registry),
            ..Default::default()
        })
        .await
        .unwrap();
    let registrar_balance = a
        .registrar
        .balance(&a.registrar.signer_pubkey())
        .await
        .unwrap();
    let registrar_key = a.registrar.signer_pubkey();
    let registry = a.registry;
    a.node.shutdown().await.unwrap();
    assert!(state.exists());

    let node = LocalNode::start(options).await.unwrap();
    let reader = RoomcastChain::new(&node.rpc_url(), Keypair::new(), node.program_id()).unwrap();
    let after = reader
        .rooms(&RoomFilter {
            registry: Some(registry),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(after, before);
    assert_eq!(after.iter().map(|r| r.address).collect::<Vec<_>>().len(), 2);
    assert!(after
        .iter()
        .any(|r| r.address == r1 && r.room.status == RoomStatus::Created));
    assert!(after
        .iter()
        .any(|r| r.address == r2 && r.room.status == RoomStatus::Ended));
    assert_eq!(
        reader.balance(&registrar_key).await.unwrap(),
        registrar_balance
    );
    assert_eq!(
        reader
            .registry(&registry)
            .await
            .unwrap()
            .unwrap()
            .rooms_created,
        2
    );
    node.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_rpc_is_an_rpc_error_not_a_program_error() {
    let chain = RoomcastChain::new("http://127.0.0.1:1", Keypair::new(), roomcast::ID).unwrap();
    let err = chain.room(&Pubkey::new_unique()).await.unwrap_err();
    assert!(matches!(err, ChainError::Rpc(_)), "{err:?}");
    let err = chain
        .end_room(Pubkey::new_unique(), Pubkey::new_unique())
        .await
        .unwrap_err();
    // A write that could not even fetch a blockhash certainly sent nothing.
    assert!(matches!(err, ChainError::Unreachable(_)), "{err:?}");
    assert!(!err.outcome_unknown());
    assert!(err.program_error_name().is_none());
}
