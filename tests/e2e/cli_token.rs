//! Issue 21: `roomcast token …` end to end against `roomcast localnet` (the real SPL Token and
//! Token-2022 programs): a mint, minting to a wallet, a transfer, balances, a refused over-transfer,
//! and `room show` printing a room's gate once the host gated it on-chain.
use crate::common;

use common::*;
use roomcast_chain::{NewGate, Pubkey, RoomcastChain};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_for_gated_rooms_through_the_cli() {
    let scratch = Scratch::new("cli-token");
    let node = Localnet::start(&scratch.0, None);
    let issuer = node.wallet("issuer");
    let holder = node.wallet("holder");

    for token_2022 in [false, true] {
        let mut args = vec![
            "-k",
            issuer.file(),
            "--json",
            "token",
            "create-mint",
            "--decimals",
            "2",
        ];
        if token_2022 {
            args.push("--token-2022");
        }
        let created = node.roomcast(&args).json();
        let mint = created["mint"].as_str().unwrap().to_string();
        let minted = node
            .roomcast(&[
                "-k",
                issuer.file(),
                "--json",
                "token",
                "mint",
                &mint,
                "500",
                "--to",
                &holder.key(),
            ])
            .json();
        assert_eq!(minted["amount"], "500");
        let moved = node
            .roomcast(&[
                "-k",
                holder.file(),
                "--json",
                "token",
                "transfer",
                &mint,
                "120",
                "--to",
                &issuer.key(),
            ])
            .json();
        assert_eq!(moved["amount"], "120");
        let held = node
            .roomcast(&["-k", holder.file(), "--json", "token", "balance", &mint])
            .json();
        assert_eq!(
            (&held["amount"], &held["frozen"]),
            (&"380".into(), &"0".into()),
            "{held}"
        );
        let other = node
            .roomcast(&[
                "-k",
                holder.file(),
                "--json",
                "token",
                "balance",
                &mint,
                "--owner",
                &issuer.key(),
            ])
            .json();
        assert_eq!(other["amount"], "120");
        let refused = node.roomcast(&[
            "-k",
            holder.file(),
            "token",
            "transfer",
            &mint,
            "381",
            "--to",
            &issuer.key(),
        ]);
        assert_eq!(
            refused.failure(),
            format!("the keypair holds 380 of {mint}; cannot transfer 381")
        );
    }
    let not_a_mint = node.roomcast(&[
        "-k",
        issuer.file(),
        "token",
        "mint",
        &holder.key(),
        "1",
        "--to",
        &issuer.key(),
    ]);
    assert_eq!(
        not_a_mint.failure(),
        format!(
            "{} is not an SPL Token or Token-2022 mint on this cluster",
            holder.key()
        )
    );

    // A room gated by its host: `room show` prints the gate.
    let admin = node.wallet("admin");
    let registrar = node.wallet("registrar");
    node.roomcast(&[
        "-k",
        admin.file(),
        "registry",
        "init",
        "--registrar",
        &registrar.key(),
    ])
    .ok();
    let sid = sid(21);
    node.roomcast(&[
        "-k",
        registrar.file(),
        "--admin",
        &admin.key(),
        "room",
        "create",
        "--session-id",
        &sid,
        "--title",
        "Holders",
        "--host",
        &issuer.key(),
    ])
    .ok();
    let mint: Pubkey = node
        .roomcast(&["-k", issuer.file(), "--json", "token", "create-mint"])
        .json()["mint"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let host = RoomcastChain::new(
        &node.url,
        issuer.keypair.insecure_clone(),
        roomcast_chain::PROGRAM_ID,
    )
    .unwrap();
    let registry = registry_address(&admin.pubkey());
    let room = room_address(&registry, &sid);
    host.set_gate(
        registry,
        room,
        NewGate {
            mint,
            min_amount: 700,
        },
    )
    .await
    .unwrap();
    let shown = node
        .roomcast(&["--json", "room", "show", &room.to_string()])
        .json();
    assert_eq!(
        shown["gate"],
        serde_json::json!({"mint": mint.to_string(), "minAmount": "700", "decimals": 6,
                           "tokenProgram": roomcast_chain::token::SPL_TOKEN_PROGRAM_ID.to_string()})
    );
    let human = node.roomcast(&["room", "show", &room.to_string()]);
    assert!(
        human.ok().contains(&format!(
            "Gate         hold >= 700 raw units of {mint} (6 decimals)"
        )),
        "{}",
        human.stdout
    );
}
