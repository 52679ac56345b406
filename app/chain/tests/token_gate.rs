//! Token gates and token holdings over the local node with the official RPC client: the node runs
//! the real SPL Token and Token-2022 programs and answers `getTokenAccountsByOwner` (jsonParsed),
//! `getTokenAccountBalance` and `getTokenSupply` like a cluster; a gated room is created in one
//! transaction with its gate.
use roomcast_chain::token::{
    self, Holdings, MintInfo, SPL_TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID,
};
use roomcast_chain::*;
use roomcast_localnet::{LocalNode, NodeOptions};
use serde_json::{json, Value};

const SOL: u64 = 1_000_000_000;

async fn funded(node: &LocalNode) -> RoomcastChain {
    let chain = RoomcastChain::new(&node.rpc_url(), Keypair::new(), node.program_id()).unwrap();
    chain
        .rpc()
        .request_airdrop(&chain.signer_pubkey(), 10 * SOL)
        .await
        .unwrap();
    chain
}

/// A new mint of `program` whose mint and freeze authority is `authority`'s signer.
async fn create_mint(authority: &RoomcastChain, program: Pubkey, decimals: u8) -> Pubkey {
    let mint = Keypair::new();
    let rent = authority
        .rpc()
        .get_minimum_balance_for_rent_exemption(token::MINT_LEN)
        .await
        .unwrap();
    let me = authority.signer_pubkey();
    let ixs = token::create_mint_ixs(&me, &mint.pubkey(), &me, decimals, &program, rent);
    authority.send_instructions(&ixs, &[&mint]).await.unwrap();
    mint.pubkey()
}

/// Mints `amount` to `owner`'s associated account (made if needed); returns that account.
async fn mint_to(
    authority: &RoomcastChain,
    program: Pubkey,
    mint: Pubkey,
    owner: Pubkey,
    amount: u64,
    decimals: u8,
) -> Pubkey {
    let me = authority.signer_pubkey();
    let ata = token::associated_token_address(&owner, &mint, &program);
    let ixs = [
        token::create_associated_account_ix(&me, &owner, &mint, &program),
        token::mint_to_ix(&program, &mint, &ata, &me, amount, decimals),
    ];
    authority.send_instructions(&ixs, &[]).await.unwrap();
    ata
}

async fn raw(node: &LocalNode, method: &str, params: Value) -> Value {
    reqwest::Client::new()
        .post(node.rpc_url())
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn holdings_of_both_token_programs_frozen_accounts_apart() {
    let node = LocalNode::start(NodeOptions::default()).await.unwrap();
    let issuer = funded(&node).await;
    let holder = Keypair::new().pubkey();
    let rpc = issuer.rpc();

    let spl = create_mint(&issuer, SPL_TOKEN_PROGRAM_ID, 6).await;
    let t22 = create_mint(&issuer, TOKEN_2022_PROGRAM_ID, 0).await;
    assert_eq!(
        token::mint_info(rpc, &spl).await.unwrap(),
        Some(MintInfo {
            program: SPL_TOKEN_PROGRAM_ID,
            decimals: 6,
            supply: 0
        })
    );
    let ata = mint_to(&issuer, SPL_TOKEN_PROGRAM_ID, spl, holder, 5_500_000, 6).await;
    mint_to(&issuer, TOKEN_2022_PROGRAM_ID, t22, holder, 3, 0).await;

    assert_eq!(
        token::holdings(rpc, &holder, &spl).await.unwrap(),
        Holdings {
            usable: 5_500_000,
            frozen: 0,
            accounts: 1
        }
    );
    assert_eq!(
        token::holdings(rpc, &holder, &t22).await.unwrap(),
        Holdings {
            usable: 3,
            frozen: 0,
            accounts: 1
        }
    );
    assert_eq!(
        token::holdings(rpc, &Keypair::new().pubkey(), &spl)
            .await
            .unwrap(),
        Holdings::default()
    );

    // The official client's balance and supply calls.
    let balance = rpc.get_token_account_balance(&ata).await.unwrap();
    assert_eq!(
        (
            balance.amount.as_str(),
            balance.decimals,
            balance.ui_amount_string.as_str()
        ),
        ("5500000", 6, "5.5")
    );
    assert_eq!(balance.ui_amount, Some(5.5));
    let supply = rpc.get_token_supply(&spl).await.unwrap();
    assert_eq!(
        (supply.amount.as_str(), supply.ui_amount_string.as_str()),
        ("5500000", "5.5")
    );

    // jsonParsed as a cluster shows it.
    let listed = raw(&node, "getTokenAccountsByOwner", json!([holder.to_string(), {"programId": SPL_TOKEN_PROGRAM_ID.to_string()}, {"encoding": "jsonParsed"}])).await;
    let value = &listed["result"]["value"];
    assert_eq!(value.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(value[0]["pubkey"], ata.to_string());
    assert_eq!(
        value[0]["account"]["owner"],
        SPL_TOKEN_PROGRAM_ID.to_string()
    );
    assert_eq!(
        value[0]["account"]["data"],
        json!({"program": "spl-token", "space": 165, "parsed": {"type": "account", "info": {
            "isNative": false, "mint": spl.to_string(), "owner": holder.to_string(), "state": "initialized",
            "tokenAmount": {"amount": "5500000", "decimals": 6, "uiAmount": 5.5, "uiAmountString": "5.5"}}}})
    );

    // Frozen accounts do not count.
    let me = issuer.signer_pubkey();
    issuer
        .send_instructions(
            &[token::freeze_ix(&SPL_TOKEN_PROGRAM_ID, &ata, &spl, &me)],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        token::holdings(rpc, &holder, &spl).await.unwrap(),
        Holdings {
            usable: 0,
            frozen: 5_500_000,
            accounts: 1
        }
    );

    // Validators' errors.
    let wallet = issuer.signer_pubkey().to_string();
    for (method, params, message) in [
        (
            "getTokenAccountsByOwner",
            json!([holder.to_string(), {"mint": wallet}]),
            "Invalid param: Token mint could not be unpacked",
        ),
        (
            "getTokenAccountsByOwner",
            json!([holder.to_string(), {"programId": "11111111111111111111111111111111"}]),
            "Invalid param: unrecognized Token program id",
        ),
        (
            "getTokenAccountBalance",
            json!([wallet]),
            "Invalid param: not a Token account",
        ),
        (
            "getTokenSupply",
            json!([ata.to_string()]),
            "Invalid param: mint could not be unpacked",
        ),
    ] {
        let answer = raw(&node, method, params).await;
        assert_eq!(answer["error"]["code"], -32602, "{answer}");
        assert_eq!(answer["error"]["message"], message, "{answer}");
    }
    assert_eq!(
        token::mint_info(rpc, &issuer.signer_pubkey())
            .await
            .unwrap(),
        None
    );
    assert_eq!(token::mint_info(rpc, &ata).await.unwrap(), None);
}

#[tokio::test]
async fn a_transfer_moves_the_holdings() {
    let node = LocalNode::start(NodeOptions::default()).await.unwrap();
    let issuer = funded(&node).await;
    let holder = funded(&node).await;
    let other = Keypair::new().pubkey();
    let mint = create_mint(&issuer, TOKEN_2022_PROGRAM_ID, 2).await;
    let from = mint_to(
        &issuer,
        TOKEN_2022_PROGRAM_ID,
        mint,
        holder.signer_pubkey(),
        1_000,
        2,
    )
    .await;
    let to = token::associated_token_address(&other, &mint, &TOKEN_2022_PROGRAM_ID);
    let me = holder.signer_pubkey();
    holder
        .send_instructions(
            &[
                token::create_associated_account_ix(&me, &other, &mint, &TOKEN_2022_PROGRAM_ID),
                token::transfer_ix(&TOKEN_2022_PROGRAM_ID, &from, &mint, &to, &me, 600, 2),
            ],
            &[],
        )
        .await
        .unwrap();
    let rpc = holder.rpc();
    assert_eq!(token::holdings(rpc, &me, &mint).await.unwrap().usable, 400);
    assert_eq!(
        token::holdings(rpc, &other, &mint).await.unwrap().usable,
        600
    );
}

#[tokio::test]
async fn a_gated_room_is_created_with_its_gate_and_strangers_cannot_change_it() {
    let node = LocalNode::start(NodeOptions::default()).await.unwrap();
    let admin = funded(&node).await;
    let registrar = funded(&node).await;
    let host = funded(&node).await;
    let stranger = funded(&node).await;
    let (registry, _) = admin
        .initialize_registry(registrar.signer_pubkey())
        .await
        .unwrap();
    let mint = create_mint(&host, SPL_TOKEN_PROGRAM_ID, 6).await;
    let new_room = NewRoom {
        session_id: format!("{:032x}", 0x9a7e_u128),
        ingest_url: "rtmps://live.cloudflare.com:443/live/".into(),
        title: "Holders".into(),
        host: host.signer_pubkey(),
    };
    let gate = NewGate {
        mint,
        min_amount: 2_000_000,
    };
    let (room, signed) = registrar
        .sign_create_gated_room(registry, new_room, Some(gate))
        .await
        .unwrap();
    registrar.send_signed(&signed).await.unwrap();
    let stored = registrar
        .gate(&room)
        .await
        .unwrap()
        .expect("gate created with the room");
    assert_eq!(
        (
            stored.room,
            stored.mint,
            stored.token_program,
            stored.decimals,
            stored.min_amount,
            stored.payer
        ),
        (
            room,
            mint,
            SPL_TOKEN_PROGRAM_ID,
            6,
            2_000_000,
            registrar.signer_pubkey()
        )
    );

    let err = stranger
        .update_gate(
            registry,
            room,
            NewGate {
                mint,
                min_amount: 1,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.program_error_name(),
        Some("NotHostOrRegistrar"),
        "{err}"
    );
    host.update_gate(
        registry,
        room,
        NewGate {
            mint,
            min_amount: 1,
        },
    )
    .await
    .unwrap();
    assert_eq!(registrar.gate(&room).await.unwrap().unwrap().min_amount, 1);

    // An ungated room has no gate; a wallet is not a mint.
    let plain = NewRoom {
        session_id: format!("{:032x}", 0x9a7f_u128),
        ingest_url: "rtmps://live.cloudflare.com:443/live/".into(),
        title: "Open".into(),
        host: host.signer_pubkey(),
    };
    let (open, _) = registrar.create_room(registry, plain).await.unwrap();
    assert_eq!(registrar.gate(&open).await.unwrap(), None);
    let err = host
        .set_gate(
            registry,
            open,
            NewGate {
                mint: stranger.signer_pubkey(),
                min_amount: 1,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.program_error_name(), Some("NotATokenMint"), "{err}");
}
