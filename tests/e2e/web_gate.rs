//! Issue 21 in a real browser: `/watch/{room}` of a token-gated room against the built `roomcast
//! serve`, real video pushed by ffmpeg. A holder connects the (injected) test wallet, signs in once
//! and the video advances — through a renewal of its signed URLs without a reload —, until its
//! tokens move away: the next renewal stops playback with the server's message. A wallet without
//! the token is told what to hold and how much it has, and nothing plays.
use std::time::Duration;

use roomcast_chain::token::{self, SPL_TOKEN_PROGRAM_ID};
use roomcast_chain::{Keypair, Pubkey, RoomcastChain, Signer};
use serde_json::{json, Value};

use crate::support::browser::{Chromium, Tab};
use crate::support::encoder::{Encoder, Publisher};
use crate::support::{airdrop, Server, EVENTUALLY, OPERATOR_KEY};

/// Video start-up (ffmpeg, first segments, player) and one renewal (at 40 s of a 60 s token).
const VIDEO_BOUND: Duration = Duration::from_secs(90);

fn wallet_script(keypair: &Keypair) -> String {
    include_str!("support/test_wallet.js")
        .replace("__SEED_HEX__", &hex::encode(&keypair.to_bytes()[..32]))
        .replace("__ADDRESS__", &keypair.pubkey().to_string())
}

async fn click(tab: &Tab, selector: &str) {
    tab.bring_to_front().await;
    let deadline = std::time::Instant::now() + EVENTUALLY;
    loop {
        let attempt = async {
            let element = tab.page().find_element(selector).await?;
            element.scroll_into_view().await?;
            element.click().await?;
            Ok::<(), chromiumoxide::error::CdpError>(())
        };
        match attempt.await {
            Ok(()) => return,
            Err(e) if std::time::Instant::now() < deadline => {
                eprintln!("click {selector}: {e}; finding it again");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("cannot click {selector}: {e}"),
        }
    }
}

async fn text(tab: &Tab, selector: &str) -> String {
    tab.eval(&format!(
        "document.querySelector({selector:?})?.textContent ?? ''"
    ))
    .await
}

async fn funded(server: &Server, wallet: &Keypair) -> RoomcastChain {
    airdrop(&server.rpc_url, &wallet.pubkey(), 2_000_000_000).await;
    server.chain_as(wallet)
}

async fn connect_wallet(tab: &Tab) {
    tab.wait_for(
        "the gate offers the test wallet",
        "document.querySelector('#gate [data-wallet=\"Test Wallet\"]')",
        EVENTUALLY,
    )
    .await;
    click(tab, "#gate [data-wallet=\"Test Wallet\"]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_watches_a_gated_room_until_the_tokens_move_away_and_a_non_holder_is_refused() {
    let server = Server::start(&[("ROOMCAST_PLAYBACK_TOKEN_SECS", "60")]);
    assert!(
        server.rtmp_ingest.is_some(),
        "video ingest is off (is ffmpeg installed?)"
    );
    let issuer_key = Keypair::new();
    let issuer = funded(&server, &issuer_key).await;
    let holder_key = Keypair::new();
    let holder = funded(&server, &holder_key).await;

    // A mint (6 decimals), 2 tokens for the holder, a room for holders of at least 1.
    let mint = Keypair::new();
    let rent = issuer
        .rpc()
        .get_minimum_balance_for_rent_exemption(token::MINT_LEN)
        .await
        .unwrap();
    let me = issuer_key.pubkey();
    let ixs = token::create_mint_ixs(&me, &mint.pubkey(), &me, 6, &SPL_TOKEN_PROGRAM_ID, rent);
    issuer.send_instructions(&ixs, &[&mint]).await.unwrap();
    let mint = mint.pubkey();
    let held = token::associated_token_address(&holder_key.pubkey(), &mint, &SPL_TOKEN_PROGRAM_ID);
    issuer
        .send_instructions(
            &[
                token::create_associated_account_ix(
                    &me,
                    &holder_key.pubkey(),
                    &mint,
                    &SPL_TOKEN_PROGRAM_ID,
                ),
                token::mint_to_ix(&SPL_TOKEN_PROGRAM_ID, &mint, &held, &me, 2_000_000, 6),
            ],
            &[],
        )
        .await
        .unwrap();
    let created: Value = reqwest::Client::new()
        .post(format!("{}/api/create", server.base))
        .bearer_auth(OPERATOR_KEY)
        .json(&json!({"title": "Holders only", "host": me.to_string(),
                      "gate": {"mint": mint.to_string(), "minAmount": 1_000_000}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let room = created["room"].as_str().expect("created").to_string();
    let ingest = format!(
        "{}{}",
        created["IngestURL"].as_str().unwrap(),
        created["StreamKey"].as_str().unwrap()
    );
    let mut publisher = Publisher::start(Encoder::Ffmpeg, &ingest);

    let browser = Chromium::launch().await;
    let watch = format!("{}/watch/{room}", server.base);

    // The holder: what is needed is said before anything; connect, sign in, the video advances.
    let tab = browser
        .open_with_init_script(&watch, &wallet_script(&holder_key))
        .await;
    tab.wait_for(
        "the gate is shown",
        "document.body.dataset.gate === 'locked'",
        EVENTUALLY,
    )
    .await;
    assert_eq!(
        text(&tab, "#gate-need").await,
        format!("This room is for holders: hold at least 1 of {mint} to watch.")
    );
    connect_wallet(&tab).await;
    tab.wait_for_with(
        "the holder is granted",
        "document.body.dataset.gate === 'granted'",
        "document.getElementById('gate-message').textContent",
        EVENTUALLY,
    )
    .await;
    // A base58 address is 43 or 44 characters: the page shows its first and last four.
    let holder = holder_key.pubkey().to_string();
    assert_eq!(
        text(&tab, "#gate-message").await,
        format!(
            "Signed in as {}…{}: you hold 2.",
            &holder[..4],
            &holder[holder.len() - 4..]
        )
    );
    tab.wait_for_with(
        "the gated video advances",
        "document.getElementById('player').currentTime > 2",
        "document.body.dataset.state + ' ' + document.getElementById('player').currentTime",
        VIDEO_BOUND,
    )
    .await;
    publisher.assert_running();

    // The signed URLs are renewed before they expire; the video keeps advancing, never restarted.
    let before: f64 = tab
        .eval("document.getElementById('player').currentTime")
        .await;
    tab.wait_for(
        "a renewal",
        "Number(document.body.dataset.grants) >= 2",
        VIDEO_BOUND,
    )
    .await;
    tab.wait_for_with(
        "the video advances past the renewal",
        &format!("document.getElementById('player').currentTime > {before} + 3"),
        "document.getElementById('player').currentTime",
        EVENTUALLY,
    )
    .await;

    // A wallet without the token: told what it needs and what it has; nothing plays.
    let stranger = Keypair::new();
    let other = browser
        .open_with_init_script(&watch, &wallet_script(&stranger))
        .await;
    connect_wallet(&other).await;
    other
        .wait_for_with(
            "the non-holder is refused",
            "document.body.dataset.gate === 'refused'",
            "document.getElementById('gate-message').textContent",
            EVENTUALLY,
        )
        .await;
    assert_eq!(
        text(&other, "#gate-message").await,
        format!("this room is for holders of at least 1 of {mint} (1000000 raw units); this wallet holds 0 (0 raw units)")
    );
    let src: Value = other
        .eval("document.getElementById('player').currentSrc")
        .await;
    assert_eq!(src, json!(""), "nothing was loaded for the non-holder");

    // The holder's tokens move away: the next renewal stops playback with the message.
    let elsewhere = Pubkey::new_unique();
    let to = token::associated_token_address(&elsewhere, &mint, &SPL_TOKEN_PROGRAM_ID);
    let h = holder_key.pubkey();
    holder
        .send_instructions(
            &[
                token::create_associated_account_ix(&h, &elsewhere, &mint, &SPL_TOKEN_PROGRAM_ID),
                token::transfer_ix(&SPL_TOKEN_PROGRAM_ID, &held, &mint, &to, &h, 2_000_000, 6),
            ],
            &[],
        )
        .await
        .unwrap();
    tab.wait_for_with(
        "the next renewal is refused",
        "document.body.dataset.gate === 'refused'",
        "document.body.dataset.grants",
        VIDEO_BOUND,
    )
    .await;
    assert!(text(&tab, "#gate-message")
        .await
        .ends_with("this wallet holds 0 (0 raw units)"));
    // Stopped: paused, and the picture no longer advances.
    let at: f64 = tab
        .eval("document.getElementById('player').currentTime")
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (paused, now): (bool, f64) = tab
        .eval("(() => { const v = document.getElementById('player'); return [v.paused, v.currentTime]; })()")
        .await;
    assert!(
        paused && now == at,
        "playback stopped: paused {paused}, {at} → {now}"
    );
    drop(publisher);
    browser.close().await;
}
