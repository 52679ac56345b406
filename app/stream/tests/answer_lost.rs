//! Issue 9 item 15: the emulator finishes a mutation it received even if the caller goes away, and
//! can lose the answer *after* applying the change — the failure a two-sided create must survive.
mod common;

use std::time::Duration;

use common::*;
use roomcast_stream::client::{CreateLiveInput, StreamError};
use roomcast_stream::emulator::{Fault, Route};

fn input() -> CreateLiveInput {
    CreateLiveInput {
        meta: Some(serde_json::json!({ "name": "answer lost" })),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_create_whose_caller_went_away_still_happens() {
    let emu = emulator().await;
    emu.inject_fault(Route::CreateLiveInput, Fault::Latency { ms: 400 }, 1)
        .unwrap();
    // The caller gives up after 100 ms, while the emulator is still "processing".
    let url = format!(
        "{}/accounts/{ACCOUNT}/stream/live_inputs",
        emu.api_base_url()
    );
    let gave_up = reqwest::Client::new()
        .post(url)
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({ "meta": { "name": "abandoned" } }))
        .timeout(Duration::from_millis(100))
        .send()
        .await;
    assert!(gave_up.unwrap_err().is_timeout());
    let mut inputs = emu.live_inputs();
    for _ in 0..50 {
        if !inputs.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        inputs = emu.live_inputs();
    }
    assert_eq!(inputs.len(), 1, "the create completed without its caller");
    assert_eq!(inputs[0].meta["name"], "abandoned");
    emu.shutdown().await;
}

#[tokio::test]
async fn applied_then_drop_makes_the_change_and_loses_the_answer() {
    let emu = emulator().await;
    let client = client(&emu);
    emu.inject_fault(Route::CreateLiveInput, Fault::AppliedThenDrop, 1)
        .unwrap();
    let err = client.create_live_input(&input()).await.unwrap_err();
    assert!(
        matches!(
            err,
            StreamError::Transport { .. } | StreamError::MalformedResponse { .. }
        ),
        "{err:?}"
    );
    assert_eq!(emu.live_inputs().len(), 1, "done upstream");
    assert_eq!(
        emu.call_count(Route::CreateLiveInput),
        1,
        "a create is never re-sent"
    );

    // Deletes too: the input is gone although the caller heard nothing.
    let uid = emu.live_inputs()[0].uid.clone();
    emu.inject_fault(Route::DeleteLiveInput, Fault::AppliedThenDrop, 1)
        .unwrap();
    let _ = client.delete_live_input(&uid).await;
    assert!(emu.live_input(&uid).is_none());
    emu.shutdown().await;
}

#[tokio::test]
async fn applied_then_latency_answers_late_and_applied_then_hang_never_answers() {
    let emu = emulator().await;
    let client = client(&emu);
    emu.inject_fault(
        Route::CreateLiveInput,
        Fault::AppliedThenLatency { ms: 300 },
        1,
    )
    .unwrap();
    let created = client.create_live_input(&input()).await.unwrap();
    assert!(emu.live_input(&created.uid).is_some());

    emu.inject_fault(Route::CreateLiveInput, Fault::AppliedThenHang, 1)
        .unwrap();
    let url = format!(
        "{}/accounts/{ACCOUNT}/stream/live_inputs",
        emu.api_base_url()
    );
    let hung = reqwest::Client::new()
        .post(url)
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({ "meta": { "name": "hung" } }))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(hung.unwrap_err().is_timeout());
    assert_eq!(
        emu.live_inputs().len(),
        2,
        "applied before the answer was withheld"
    );
    emu.shutdown().await;
}
