//! The reconciler's fencing: a pass whose replica lease may have run out makes no more changes
//! (another replica may already hold the lease), and reports what it left as `withheld`.
use std::time::{Duration, Instant};

use roomcast_api::jobs::reconciler::reconcile_fenced;
use roomcast_stream::client::{CreateLiveInput, Recording};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_past_its_lease_changes_nothing() {
    let argv = ["--reconcile-interval-secs", "0", "--orphan-grace-secs", "0"];
    let server = super::common::start(&argv).await;
    let state = &server.state;
    let emulator = server.upstreams.emulator.as_ref().unwrap();
    // An orphan: tagged for this registry, no room — the reconciler deletes such inputs.
    let orphan = state
        .stream
        .create_live_input(&CreateLiveInput {
            meta: Some(json!({ "roomcast": "v1", "registry": state.registry.to_string() })),
            recording: Some(Recording::automatic()),
            ..Default::default()
        })
        .await
        .unwrap();
    let config = state.settings.reconciler;

    let expired = reconcile_fenced(state, &config, Some(Instant::now())).await;
    assert_eq!(expired.withheld, vec![orphan.uid.clone()]);
    assert!(expired.deleted.is_empty(), "{expired:?}");
    assert!(
        emulator.live_input(&orphan.uid).is_some(),
        "nothing deleted"
    );

    let valid = Instant::now() + Duration::from_secs(60);
    let held = reconcile_fenced(state, &config, Some(valid)).await;
    assert_eq!(held.deleted, vec![orphan.uid.clone()]);
    assert!(held.withheld.is_empty(), "{held:?}");
    assert!(emulator.live_input(&orphan.uid).is_none());
    server.shutdown().await.unwrap();
}
