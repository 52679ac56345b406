mod common;
use common::*;
use roomcast::state::RoomStatus;
use solana_signer::Signer;

#[test]
fn init_creates_accounts_and_events_reach_logs() {
    let mut env = Env::new();
    let registry = env.registry_account(&env.registry).expect("registry exists");
    assert_eq!(registry.admin, env.admin.pubkey());
    let sid = session_id(1);
    let meta = env.create_room(&sid, "Hello").expect("create");
    println!("{:#?}", meta.logs);
    let room = env.room(&room_address(&env.registry, &sid)).expect("room created");
    assert_eq!(room.status, RoomStatus::Created);
    assert!(meta.logs.iter().any(|l| l.starts_with("Program data: ")));
}
