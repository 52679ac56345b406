//! Tips in a real browser (issue 22): a viewer tips from the watch page with their Wallet Standard
//! wallet, another viewer's page sees the new total within 2 s, the host is paid on-chain exactly,
//! and the discovery page shows the room's total.
use std::time::Duration;

use roomcast_chain::{Keypair, Signer};
use serde_json::{json, Value};

use crate::support::browser::Chromium;
use crate::support::{airdrop, Server, EVENTUALLY};
use crate::web::{click, rpc, screenshot, text, wallet_script};

/// What the issue allows between a tip landing and another viewer seeing it.
const SEEN_WITHIN: Duration = Duration::from_secs(2);

async fn balance(server: &Server, who: &roomcast_chain::Pubkey) -> u64 {
    let answer = rpc(server, "getBalance", json!([who.to_string()])).await;
    answer["result"]["value"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_tips_from_the_watch_page_and_everyone_watching_sees_it() {
    let server = Server::start(&[]);
    let host = Keypair::new();
    let viewer = Keypair::new();
    airdrop(&server.rpc_url, &viewer.pubkey(), 1_000_000_000).await;
    let created = server.api().create_for(&host.pubkey(), "Tipped show").await;
    let room = created.json["room"].as_str().unwrap().to_string();
    let watch = format!("{}/watch/{room}", server.base);

    let browser = Chromium::launch().await;
    let tipper = browser
        .open_with_init_script(&watch, &wallet_script(&viewer))
        .await;
    let other = browser.open(&watch).await;
    for tab in [&tipper, &other] {
        tab.wait_for(
            "no tips yet",
            "document.getElementById('tip-total')?.textContent === 'No tips yet'",
            EVENTUALLY,
        )
        .await;
    }
    // The other viewer has no wallet: no tip buttons, but the total and the feed.
    let buttons: u64 = other
        .eval("document.querySelectorAll('[data-tip-wallet]').length")
        .await;
    assert_eq!(buttons, 0);

    // 0.05 SOL with the viewer's wallet.
    tipper
        .wait_for(
            "the wallet is offered for tips",
            "document.querySelector('[data-tip-wallet=\"Test Wallet\"]')",
            EVENTUALLY,
        )
        .await;
    click(&tipper, "[data-amount=\"0.05\"]").await;
    click(&tipper, "[data-tip-wallet=\"Test Wallet\"]").await;
    tipper
        .wait_for_with(
            "the tip was sent",
            "['sent', 'thanked'].includes(document.getElementById('tips').dataset.state)",
            "document.getElementById('tip-state').textContent",
            EVENTUALLY,
        )
        .await;
    // Landed on the local node before `sendTransaction` answered: the other page sees it now.
    other
        .wait_for(
            "the other viewer sees the tip",
            "document.getElementById('tip-total').dataset.count === '1'",
            SEEN_WITHIN,
        )
        .await;
    tipper
        .wait_for_with(
            "thanked",
            "document.getElementById('tips').dataset.state === 'thanked'",
            "document.getElementById('tip-state').textContent",
            EVENTUALLY,
        )
        .await;
    assert_eq!(text(&tipper, "#tip-thanks").await, "Thank you!");
    assert_eq!(
        text(&tipper, "#tip-state").await,
        "Your tip of 0.05 SOL reached the host of “Tipped show”. The room has received 1 tips (0.05 SOL)."
    );
    let signature: String = tipper
        .eval("document.getElementById('tips').dataset.signature")
        .await;
    for tab in [&tipper, &other] {
        tab.wait_for(
            "the total",
            "document.getElementById('tip-total').textContent === '1 tip · 0.05 SOL'",
            EVENTUALLY,
        )
        .await;
        let feed: Value = tab
            .eval("[...document.querySelectorAll('#tip-feed li')].map((li) => [li.dataset.signature, li.textContent])")
            .await;
        let from = viewer.pubkey().to_string();
        let short = format!("{}…{}", &from[..4], &from[from.len() - 4..]);
        assert_eq!(
            feed,
            json!([[signature, format!("{short} tipped 0.05 SOL")]])
        );
    }
    assert_eq!(balance(&server, &host.pubkey()).await, 50_000_000);
    let calls: Value = tipper.eval("window.__testWallet").await;
    assert_eq!(calls["signTransaction"], 1);

    // A free amount.
    tipper
        .eval::<Value>("document.getElementById('tip-amount').value = '0.02', null")
        .await;
    click(&tipper, "[data-tip-wallet=\"Test Wallet\"]").await;
    tipper
        .wait_for_with(
            "the second tip was sent",
            "document.getElementById('tip-total').dataset.count === '2'",
            "document.getElementById('tip-state').textContent",
            EVENTUALLY,
        )
        .await;
    other
        .wait_for(
            "the other viewer sees the second tip",
            "document.getElementById('tip-total').textContent === '2 tips · 0.07 SOL'",
            EVENTUALLY,
        )
        .await;
    assert_eq!(balance(&server, &host.pubkey()).await, 70_000_000);
    screenshot(&tipper, "watch-tips").await;
    let view = server.api().get(&format!("/api/rooms/{room}")).await;
    assert_eq!(
        view.json["tips"],
        json!({"count": 2, "lamports": 70_000_000})
    );

    // Discovery shows the room's total.
    let discover = browser.open(&format!("{}/", server.base)).await;
    discover
        .wait_for(
            "discovery shows the tips",
            &format!(
                "document.querySelector('[data-room=\"{room}\"] .tips')?.textContent === '2 tips · 0.07 SOL'"
            ),
            EVENTUALLY,
        )
        .await;
    browser.close().await;
}
