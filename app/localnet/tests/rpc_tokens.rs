//! The token RPCs against the real SPL Token / Token-2022 programs, checked against what clusters
//! answer (agave's `rpc.rs` and account decoder): a Token-2022 associated account's
//! `immutableOwner` extension in `jsonParsed`, and every refusal's message in agave's order of
//! checks. (The official JS clients run the same story in `tests/tokens`.)
mod common;

use common::*;
use serde_json::{json, Value};
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

const TOKEN_2022: Pubkey = solana_pubkey::pubkey!("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");
const SPL_TOKEN: Pubkey = solana_pubkey::pubkey!("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
const ATA: Pubkey = solana_pubkey::pubkey!("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
const SYSTEM: Pubkey = solana_pubkey::pubkey!("11111111111111111111111111111111");

fn rent(len: u64) -> u64 {
    (128 + len) * 3480 * 2
}

/// CreateAccount (82 bytes, owned by `program`) + InitializeMint2 with `authority` as mint and
/// freeze authority.
fn create_mint(
    payer: &Pubkey,
    mint: &Pubkey,
    authority: &Pubkey,
    decimals: u8,
    program: &Pubkey,
) -> [Instruction; 2] {
    let mut data = vec![20, decimals];
    data.extend_from_slice(authority.as_ref());
    data.push(1);
    data.extend_from_slice(authority.as_ref());
    [
        solana_system_interface::instruction::create_account(payer, mint, rent(82), 82, program),
        Instruction::new_with_bytes(*program, &data, vec![AccountMeta::new(*mint, false)]),
    ]
}

fn associated(owner: &Pubkey, mint: &Pubkey, program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[owner.as_ref(), program.as_ref(), mint.as_ref()], &ATA).0
}

/// The associated token program's CreateIdempotent.
fn create_associated(
    payer: &Pubkey,
    owner: &Pubkey,
    mint: &Pubkey,
    program: &Pubkey,
) -> Instruction {
    Instruction::new_with_bytes(
        ATA,
        &[1],
        vec![
            AccountMeta::new(*payer, true),
            AccountMeta::new(associated(owner, mint, program), false),
            AccountMeta::new_readonly(*owner, false),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new_readonly(SYSTEM, false),
            AccountMeta::new_readonly(*program, false),
        ],
    )
}

/// MintToChecked.
fn mint_to(
    program: &Pubkey,
    mint: &Pubkey,
    to: &Pubkey,
    authority: &Pubkey,
    amount: u64,
    decimals: u8,
) -> Instruction {
    let mut data = vec![14];
    data.extend_from_slice(&amount.to_le_bytes());
    data.push(decimals);
    Instruction::new_with_bytes(
        *program,
        &data,
        vec![
            AccountMeta::new(*mint, false),
            AccountMeta::new(*to, false),
            AccountMeta::new_readonly(*authority, true),
        ],
    )
}

async fn invalid_param(rpc: &Rpc, method: &str, params: Value, message: &str) {
    let error = rpc.err(method, params).await;
    assert_eq!(
        error,
        json!({ "code": -32602, "message": message }),
        "{method}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_2022_accounts_parse_with_their_extensions_and_refusals_read_as_agave_words_them() {
    let rpc = Rpc::start().await;
    let payer = rpc.funded().await;
    let holder = Keypair::new().pubkey();
    let mint = Keypair::new();
    let me = payer.pubkey();
    let [create, init] = create_mint(&me, &mint.pubkey(), &me, 2, &TOKEN_2022);
    let ata = associated(&holder, &mint.pubkey(), &TOKEN_2022);
    rpc.send_ok(
        &[
            create,
            init,
            create_associated(&me, &holder, &mint.pubkey(), &TOKEN_2022),
            mint_to(&TOKEN_2022, &mint.pubkey(), &ata, &me, 1234, 2),
        ],
        &[&payer, &mint],
    )
    .await;

    // The associated account of Token-2022 carries ImmutableOwner (170 bytes): a cluster lists it.
    let listed = rpc
        .ok(
            "getTokenAccountsByOwner",
            json!([holder.to_string(), { "programId": TOKEN_2022.to_string() }, { "encoding": "jsonParsed" }]),
        )
        .await;
    let (_, value) = context(&listed);
    assert_eq!(value.as_array().unwrap().len(), 1, "{value}");
    assert_eq!(value[0]["pubkey"], ata.to_string());
    assert_eq!(value[0]["account"]["owner"], TOKEN_2022.to_string());
    assert_eq!(
        value[0]["account"]["data"],
        json!({
            "program": "spl-token-2022",
            "parsed": {"type": "account", "info": {
                "isNative": false,
                "mint": mint.pubkey().to_string(),
                "owner": holder.to_string(),
                "state": "initialized",
                "tokenAmount": {"amount": "1234", "decimals": 2, "uiAmount": 12.34, "uiAmountString": "12.34"},
                "extensions": [{"extension": "immutableOwner"}],
            }},
            "space": 170,
        })
    );
    // A mint without extensions has no `extensions` key at all.
    let mint_info = rpc
        .ok(
            "getAccountInfo",
            json!([mint.pubkey().to_string(), { "encoding": "jsonParsed" }]),
        )
        .await;
    assert_eq!(
        mint_info["value"]["data"],
        json!({
            "program": "spl-token-2022",
            "parsed": {"type": "mint", "info": {
                "mintAuthority": me.to_string(),
                "supply": "1234",
                "decimals": 2,
                "isInitialized": true,
                "freezeAuthority": me.to_string(),
            }},
            "space": 82,
        })
    );

    // Refusals, in agave's order: the account, its owner, its layout, then the mint's.
    let nobody = Keypair::new().pubkey().to_string();
    let wallet = me.to_string();
    let (ata, mint) = (ata.to_string(), mint.pubkey().to_string());
    let parsed = json!({ "encoding": "jsonParsed" });
    invalid_param(
        &rpc,
        "getTokenAccountBalance",
        json!([nobody]),
        "Invalid param: could not find account",
    )
    .await;
    invalid_param(
        &rpc,
        "getTokenAccountBalance",
        json!([wallet]),
        "Invalid param: not a Token account",
    )
    .await;
    invalid_param(
        &rpc,
        "getTokenAccountBalance",
        json!([mint]),
        "Invalid param: not a Token account",
    )
    .await;
    invalid_param(
        &rpc,
        "getTokenSupply",
        json!([nobody]),
        "Invalid param: could not find account",
    )
    .await;
    invalid_param(
        &rpc,
        "getTokenSupply",
        json!([wallet]),
        "Invalid param: not a Token mint",
    )
    .await;
    invalid_param(
        &rpc,
        "getTokenSupply",
        json!([ata]),
        "Invalid param: mint could not be unpacked",
    )
    .await;
    for (filter, message) in [
        (
            json!({ "mint": nobody }),
            "Invalid param: could not find mint",
        ),
        (
            json!({ "mint": wallet }),
            "Invalid param: Token mint could not be unpacked",
        ),
        (
            json!({ "mint": ata }),
            "Invalid param: Token mint could not be unpacked",
        ),
        (
            json!({ "programId": SYSTEM.to_string() }),
            "Invalid param: unrecognized Token program id",
        ),
    ] {
        invalid_param(
            &rpc,
            "getTokenAccountsByOwner",
            json!([holder.to_string(), filter, parsed]),
            message,
        )
        .await;
    }
    // The other program's filter finds nothing of this mint.
    let other = rpc
        .ok(
            "getTokenAccountsByOwner",
            json!([holder.to_string(), { "programId": SPL_TOKEN.to_string() }, parsed]),
        )
        .await;
    assert_eq!(other["value"], json!([]));
    let supply = rpc.ok("getTokenSupply", json!([mint])).await;
    assert_eq!(
        supply["value"],
        json!({"amount": "1234", "decimals": 2, "uiAmount": 12.34, "uiAmountString": "12.34"})
    );
}
