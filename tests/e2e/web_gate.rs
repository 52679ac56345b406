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

/// A new mint of `program` with `decimals`, `issuer` its authority.
async fn new_mint(issuer: &RoomcastChain, decimals: u8, program: &Pubkey) -> Pubkey {
    let me = issuer.signer_pubkey();
    let mint = Keypair::new();
    let rent = issuer
        .rpc()
        .get_minimum_balance_for_rent_exemption(token::MINT_LEN)
        .await
        .unwrap();
    let ixs = token::create_mint_ixs(&me, &mint.pubkey(), &me, decimals, program, rent);
    issuer.send_instructions(&ixs, &[&mint]).await.unwrap();
    mint.pubkey()
}

/// A room for holders of `min_amount` of `mint`, made by the operator for `host`, with ffmpeg
/// pushing real video into it: its address and the publisher.
async fn gated_room_on_air(
    server: &Server,
    title: &str,
    host: &Pubkey,
    mint: &Pubkey,
    min_amount: u64,
) -> (String, Publisher) {
    let created: Value = reqwest::Client::new()
        .post(format!("{}/api/create", server.base))
        .bearer_auth(OPERATOR_KEY)
        .json(&json!({"title": title, "host": host.to_string(),
                      "gate": {"mint": mint.to_string(), "minAmount": min_amount}}))
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
    (room, Publisher::start(Encoder::Ffmpeg, &ingest))
}

/// How the page shortens an address: its first and last four characters (a base58 address is 43
/// or 44 characters).
fn short(address: &str) -> String {
    format!("{}…{}", &address[..4], &address[address.len() - 4..])
}

/// Waits until the watch page's video has played more than two seconds.
async fn video_advances(tab: &Tab) {
    tab.wait_for_with(
        "the gated video advances",
        "document.getElementById('player').currentTime > 2",
        "document.body.dataset.state + ' ' + document.getElementById('player').currentTime",
        VIDEO_BOUND,
    )
    .await;
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
    let me = issuer_key.pubkey();
    let mint = new_mint(&issuer, 6, &SPL_TOKEN_PROGRAM_ID).await;
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
    let (room, mut publisher) =
        gated_room_on_air(&server, "Holders only", &me, &mint, 1_000_000).await;

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
    assert_eq!(
        text(&tab, "#gate-message").await,
        format!(
            "Signed in as {}: you hold 2.",
            short(&holder_key.pubkey().to_string())
        )
    );
    video_advances(&tab).await;
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

/// A wallet made on the page: a viewer of a gated room on a server running its own local node
/// picks "Use a local test wallet" (no extension), signs in, is told what is needed and what the
/// wallet holds; tokens are minted to the address the page shows, "Check again" re-reads the
/// holdings (too few, then enough) and the video plays. The mint is Token-2022's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_uses_the_local_test_wallet_on_a_gated_room_and_plays_once_it_holds_enough() {
    use token::TOKEN_2022_PROGRAM_ID as T22;
    let server = Server::start(&[]);
    assert_eq!(server.chain_kind, "embedded local node");
    let issuer_key = Keypair::new();
    let issuer = funded(&server, &issuer_key).await;
    let me = issuer_key.pubkey();
    let mint = new_mint(&issuer, 6, &T22).await;
    let (room, mut publisher) =
        gated_room_on_air(&server, "Local holders", &me, &mint, 1_500_000).await;

    let browser = Chromium::launch().await;
    let tab = browser.open(&format!("{}/watch/{room}", server.base)).await;
    tab.wait_for_with(
        "the gate offers the local test wallet",
        "document.body.dataset.gate === 'locked' \
         && !document.getElementById('gate-local').classList.contains('hidden')",
        "document.getElementById('gate-message').textContent",
        EVENTUALLY,
    )
    .await;
    assert_eq!(
        text(&tab, "#gate-need").await,
        format!("This room is for holders: hold at least 1.5 of {mint} to watch.")
    );
    assert_eq!(text(&tab, "#gate-local").await, "Use a local test wallet");
    assert_eq!(
        text(&tab, "#gate-message").await,
        "Connect a Solana wallet (Phantom, Solflare, Backpack…) that holds the token. Or use a \
         local test wallet."
    );
    click(&tab, "#gate-local").await;
    tab.wait_for_with(
        "the local wallet signs in and is refused",
        "document.body.dataset.gate === 'refused'",
        "document.body.dataset.gate + ': ' + document.getElementById('gate-message').textContent",
        EVENTUALLY,
    )
    .await;
    let refusal = |held: &str, raw: u64| {
        format!(
            "this room is for holders of at least 1.5 of {mint} (1500000 raw units); this wallet \
             holds {held} ({raw} raw units)"
        )
    };
    assert_eq!(text(&tab, "#gate-message").await, refusal("0", 0));
    let address: String = tab
        .eval("document.getElementById('gate-account').dataset.address")
        .await;
    assert_eq!(
        text(&tab, "#gate-account").await,
        format!("Your wallet: {address}")
    );
    let viewer: Pubkey = address.parse().expect("the page shows a Solana address");
    // Funded from the local faucet (the airdrop the local wallet asks for).
    assert_eq!(
        issuer.rpc().get_balance(&viewer).await.unwrap(),
        1_000_000_000
    );
    let (src, retry): (String, bool) = tab
        .eval(
            "[document.getElementById('player').currentSrc, \
              !document.getElementById('gate-retry').classList.contains('hidden')]",
        )
        .await;
    assert_eq!(src, "", "nothing was loaded for the refused wallet");
    assert!(retry, "Check again is offered");

    // 1 token to the page's wallet: still too few, said with the new amount.
    let account = token::associated_token_address(&viewer, &mint, &T22);
    let mint_to = |amount: u64| {
        vec![
            token::create_associated_account_ix(&me, &viewer, &mint, &T22),
            token::mint_to_ix(&T22, &mint, &account, &me, amount, 6),
        ]
    };
    issuer
        .send_instructions(&mint_to(1_000_000), &[])
        .await
        .unwrap();
    click(&tab, "#gate-retry").await;
    tab.wait_for_with(
        "the refusal shows the new holdings",
        &format!(
            "document.getElementById('gate-message').textContent === {:?}",
            refusal("1", 1_000_000)
        ),
        "document.getElementById('gate-message').textContent",
        EVENTUALLY,
    )
    .await;
    assert_eq!(
        tab.eval::<String>("document.body.dataset.gate").await,
        "refused"
    );

    // Half a token more: enough. "Check again" plays without a new sign-in.
    issuer
        .send_instructions(&mint_to(500_000), &[])
        .await
        .unwrap();
    click(&tab, "#gate-retry").await;
    tab.wait_for_with(
        "the wallet is granted",
        "document.body.dataset.gate === 'granted'",
        "document.getElementById('gate-message').textContent",
        EVENTUALLY,
    )
    .await;
    assert_eq!(
        text(&tab, "#gate-message").await,
        format!("Signed in as {}: you hold 1.5.", short(&address))
    );
    assert!(
        tab.eval::<bool>("document.getElementById('gate-retry').classList.contains('hidden')")
            .await
    );
    video_advances(&tab).await;
    publisher.assert_running();
    drop(publisher);
    browser.close().await;
}

/// Types `value` into the field at `selector` as a person does (click, keys).
async fn type_into(tab: &Tab, selector: &str, value: &str) {
    click(tab, selector).await;
    let field = tab.page().find_element(selector).await.unwrap();
    field.type_str(value).await.unwrap();
}

/// `/host` creates a gated room: a host with the local test wallet fills in the "For token holders
/// only" fields. A mint that does not exist: the API's 400 message on the page, and neither the
/// chain nor the emulator has anything new. A real mint: the gate is on-chain (mint, program,
/// decimals, least amount), the live input requires signed URLs, and the room's watch page says
/// what viewers must hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_console_creates_a_gated_room_and_shows_the_refusal_of_a_mint_that_does_not_exist()
{
    let server = Server::start(&[]);
    let issuer_key = Keypair::new();
    let issuer = funded(&server, &issuer_key).await;
    let mint = new_mint(&issuer, 2, &SPL_TOKEN_PROGRAM_ID).await;

    let browser = Chromium::launch().await;
    let console = browser.open(&format!("{}/host", server.base)).await;
    console
        .wait_for(
            "the local test wallet is offered",
            "!document.getElementById('local-wallet-offer').classList.contains('hidden')",
            EVENTUALLY,
        )
        .await;
    click(&console, "#local-wallet").await;
    console
        .wait_for_with(
            "the local wallet is connected",
            "document.body.dataset.step === 'sign-in'",
            "document.getElementById('message').textContent",
            EVENTUALLY,
        )
        .await;
    click(&console, "#sign-in").await;
    console
        .wait_for_with(
            "signed in",
            "document.body.dataset.step === 'rooms'",
            "document.getElementById('message').textContent",
            EVENTUALLY,
        )
        .await;
    let host: Pubkey = text(&console, "#account-address").await.parse().unwrap();
    let inputs_before = server.emulator().inputs().await.len();

    // A mint that does not exist: the API's 400 message, nothing made on either side.
    let missing = Pubkey::new_unique();
    type_into(&console, "#create-title", "Holders show").await;
    click(&console, "#create-gate summary").await;
    type_into(&console, "#gate-mint", &missing.to_string()).await;
    type_into(&console, "#gate-min", "250").await;
    click(&console, "#create").await;
    console
        .wait_for_with(
            "the refusal is shown",
            "document.getElementById('message').dataset.error === 'true'",
            "document.getElementById('message').textContent",
            EVENTUALLY,
        )
        .await;
    assert_eq!(
        text(&console, "#message").await,
        format!("gate.mint {missing} is not an SPL Token or Token-2022 mint on this cluster")
    );
    assert!(
        server.rooms(Some(host)).await.is_empty(),
        "no room on-chain"
    );
    assert_eq!(
        server.emulator().inputs().await.len(),
        inputs_before,
        "no live input"
    );
    assert!(server.emulator().inputs_of(&host).await.is_empty());
    assert_eq!(
        console
            .eval::<String>("document.getElementById('create-title').value")
            .await,
        "Holders show",
        "the form keeps what was typed"
    );

    // The real mint: the room is made with its gate.
    console
        .eval::<Value>("document.getElementById('gate-mint').value = ''")
        .await;
    type_into(&console, "#gate-mint", &mint.to_string()).await;
    click(&console, "#create").await;
    console
        .wait_for_with(
            "the room is created",
            "document.getElementById('room-panel').dataset.state === 'waiting'",
            "document.getElementById('message').textContent",
            EVENTUALLY,
        )
        .await;
    assert_eq!(
        text(&console, "#message").await,
        "Room “Holders show” created."
    );
    let rooms = server.rooms(Some(host)).await;
    assert_eq!(rooms.len(), 1);
    assert_eq!(rooms[0].room.title, "Holders show");
    let gate = server
        .chain_reader()
        .gate(&rooms[0].address)
        .await
        .unwrap()
        .expect("the gate is on-chain");
    assert_eq!(gate.room, rooms[0].address);
    assert_eq!(gate.mint, mint);
    assert_eq!(gate.token_program, SPL_TOKEN_PROGRAM_ID);
    assert_eq!(gate.decimals, 2);
    assert_eq!(gate.min_amount, 250);
    let input = server
        .emulator()
        .input(&rooms[0].room.session_id)
        .await
        .expect("the live input");
    assert_eq!(input["recording"]["requireSignedURLs"], true, "{input}");
    assert_eq!(server.emulator().inputs().await.len(), inputs_before + 1);

    // Its watch page says what viewers must hold (250 raw units of a 2-decimal mint).
    let watch = browser
        .open(&format!("{}/watch/{}", server.base, rooms[0].address))
        .await;
    watch
        .wait_for(
            "the gate is shown",
            "document.body.dataset.gate === 'locked'",
            EVENTUALLY,
        )
        .await;
    assert_eq!(
        text(&watch, "#gate-need").await,
        format!("This room is for holders: hold at least 2.5 of {mint} to watch.")
    );
    browser.close().await;
}
