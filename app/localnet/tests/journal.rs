//! `--state`: the periodic save appends what changed to the journal instead of rewriting the
//! ledger, a restart (even after a crash) has every account, and `getProgramAccounts` with filters
//! stays right at tens of thousands of accounts.
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Rpc, SOL};
use roomcast_localnet::state_file::journal_path;
use roomcast_localnet::{LocalNode, NodeOptions};
use serde_json::json;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "roomcast-journal-{tag}-{}-{}",
        std::process::id(),
        Keypair::new().pubkey()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn node(state: &Path) -> Rpc {
    Rpc::with_node(
        LocalNode::start(NodeOptions {
            state: Some(state.to_path_buf()),
            save_interval: Duration::from_millis(100),
            ..NodeOptions::default()
        })
        .await
        .expect("node starts"),
    )
}

async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Program accounts put straight into the ledger in one go: `count` with `marker` at the start of
/// each, for each `(count, marker)`.
async fn seed(rpc: &Rpc, groups: &[(usize, [u8; 4])]) {
    let program = rpc.node.program_id();
    let groups = groups.to_vec();
    rpc.node
        .chain()
        .call(move |chain| {
            for (count, marker) in groups {
                for _ in 0..count {
                    let mut data = vec![7u8; 200];
                    data[..4].copy_from_slice(&marker);
                    chain
                        .seed_account(Pubkey::new_unique(), program, data)
                        .unwrap();
                }
            }
        })
        .await
        .unwrap();
}

async fn matching(rpc: &Rpc, marker: [u8; 4]) -> usize {
    let found = rpc
        .ok(
            "getProgramAccounts",
            json!([rpc.node.program_id().to_string(), {
                "encoding": "base64",
                "dataSlice": { "offset": 0, "length": 0 },
                "filters": [
                    { "dataSize": 200 },
                    { "memcmp": { "offset": 0, "bytes": bs58::encode(marker).into_string() } },
                ],
            }]),
        )
        .await;
    found.as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saves_append_changes_and_a_restart_after_a_crash_has_every_account() {
    let dir = scratch("append");
    let state = dir.join("state.json");
    let journal = journal_path(&state);
    let rpc = node(&state).await;
    seed(&rpc, &[(5_000, *b"AAAA"), (15_000, *b"BBBB")]).await;
    // No snapshot yet: the first save writes one.
    until("the first snapshot", || len(&state) > 0).await;
    let first = Keypair::new().pubkey();
    rpc.airdrop(&first, 2 * SOL).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let snapshot = len(&state);
    assert!(
        snapshot > 20_000 * 200,
        "every account is in it: {snapshot} bytes"
    );
    let modified = std::fs::metadata(&state).unwrap().modified().unwrap();

    // Later writes are appended, the snapshot is left alone.
    let before = len(&journal);
    let second = Keypair::new().pubkey();
    rpc.airdrop(&second, 3 * SOL).await;
    until("the journal", || len(&journal) > before).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let lines = std::fs::read_to_string(&journal).unwrap();
    let appended = &lines[before as usize..];
    assert!(
        appended.lines().any(|l| l.contains(&second.to_string())),
        "{appended}"
    );
    // The airdrop wrote the faucet and the receiver.
    assert_eq!(
        appended.lines().count(),
        2,
        "only the airdrop's accounts: {appended}"
    );
    assert_eq!(len(&state), snapshot);
    assert_eq!(
        std::fs::metadata(&state).unwrap().modified().unwrap(),
        modified
    );

    // A crash: no final save. The restart replays the journal over the snapshot.
    drop(rpc);
    let rpc = node(&state).await;
    assert_eq!(rpc.balance(&first).await, 2 * SOL);
    assert_eq!(rpc.balance(&second).await, 3 * SOL);
    assert_eq!(matching(&rpc, *b"AAAA").await, 5_000);
    assert_eq!(matching(&rpc, *b"BBBB").await, 15_000);

    // A clean shutdown folds the journal into a new snapshot.
    rpc.node.shutdown().await.unwrap();
    assert!(!journal.exists());
    let rpc = node(&state).await;
    assert_eq!(rpc.balance(&second).await, 3 * SOL);
    assert_eq!(matching(&rpc, *b"BBBB").await, 15_000);
    rpc.node.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_last_journal_line_is_ignored_and_a_torn_middle_one_refused() {
    let dir = scratch("torn");
    let state = dir.join("state.json");
    let journal = journal_path(&state);
    let rpc = node(&state).await;
    let funded = Keypair::new().pubkey();
    rpc.airdrop(&funded, SOL).await;
    rpc.node.shutdown().await.unwrap();
    let good = format!(
        "{{\"address\":\"{}\",\"lamports\":5,\"owner\":\"11111111111111111111111111111111\",\"executable\":false,\"rentEpoch\":0,\"data\":\"\"}}\n",
        Pubkey::new_unique()
    );
    std::fs::write(&journal, format!("{good}{{\"address\":\"torn")).unwrap();
    let rpc = node(&state).await;
    assert_eq!(rpc.balance(&funded).await, SOL);
    rpc.node.shutdown().await.unwrap();

    std::fs::write(&journal, format!("{{\"address\":\"torn\n{good}")).unwrap();
    let err = LocalNode::start(NodeOptions {
        state: Some(state.clone()),
        ..NodeOptions::default()
    })
    .await
    .err()
    .expect("a damaged journal is refused");
    assert!(
        format!("{err:#}").contains("state.json.journal line 1 is not a journaled account"),
        "{err:#}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

async fn slot(rpc: &Rpc) -> u64 {
    rpc.ok("getSlot", json!([])).await.as_u64().unwrap()
}

/// A restarted node's slots go on from where it was, after a crash and after a clean shutdown: a
/// cluster's slots never go back, and readers (the API's room index) order what they learn by slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slots_go_on_after_a_restart() {
    let dir = scratch("slots");
    let state = dir.join("state.json");
    let marker = roomcast_localnet::state_file::slot_path(&state);
    let rpc = node(&state).await;
    rpc.airdrop(&Keypair::new().pubkey(), SOL).await;
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let reached = slot(&rpc).await;
    assert!(reached >= 3, "{reached}");
    // The periodic save keeps the marker current even with nothing else to write.
    until("the slot marker", || {
        std::fs::read_to_string(&marker)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .is_some_and(|s| s >= reached)
    })
    .await;

    // A crash: no final save.
    drop(rpc);
    let rpc = node(&state).await;
    let resumed = slot(&rpc).await;
    assert!(resumed > reached, "{resumed} after {reached}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = slot(&rpc).await;
    assert!(later > resumed, "slots advance with time: {later}");

    // A clean shutdown.
    rpc.node.shutdown().await.unwrap();
    let rpc = node(&state).await;
    assert!(slot(&rpc).await > later);
    rpc.node.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
