//! The local node's JSON-RPC answers, checked field by field against what Solana clusters return:
//! result shapes, context, error codes/messages/data, batches, encodings, filters, logs and events.
mod common;

use anchor_lang::{AnchorDeserialize, Discriminator};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use solana_hash::Hash;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

/// Rent-exempt minimum for `len` bytes with the default rent (3480 lamports/byte-year, 2 years).
fn rent(len: u64) -> u64 {
    (128 + len) * 3480 * 2
}

/// Registry account size: discriminator + admin + registrar + rooms_created + bump.
const REGISTRY_LEN: usize = 8 + 32 + 32 + 8 + 1;
/// Size of the rooms these tests create (sized to their content): discriminator + registry, host,
/// payer + status + bump + session id (16 bytes) + created_at, updated_at + live_at, ended_at (9
/// each) + the ingest URL and the title "Room <32-hex id>", each with a 4-byte length.
const ROOM_LEN: usize =
    8 + 32 * 3 + 1 + 1 + 16 + 8 + 8 + 9 + 9 + (4 + INGEST.len()) + (4 + "Room ".len() + 32);

fn end_room_failure_logs() -> Vec<String> {
    let id = program_id();
    vec![
        format!("Program {id} invoke [1]"),
        format!("Program {id} failed: custom program error: 0x1776"),
    ]
}

// ---- envelope ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_health_envelope_is_exact() {
    let rpc = Rpc::start().await;
    let envelope = rpc
        .post_raw(r#"{"jsonrpc":"2.0","id":"abc","method":"getHealth"}"#)
        .await;
    assert_eq!(
        envelope,
        json!({ "jsonrpc": "2.0", "result": "ok", "id": "abc" })
    );
    // params: [] and null are the same as absent.
    assert_eq!(rpc.ok("getHealth", json!([])).await, "ok");
    assert_eq!(rpc.ok("getHealth", Value::Null).await, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parse_error_is_32700_with_null_id() {
    let rpc = Rpc::start().await;
    let envelope = rpc.post_raw(r#"{"jsonrpc":"2.0","id":1,"method":"#).await;
    assert_eq!(
        envelope,
        json!({ "jsonrpc": "2.0", "error": { "code": -32700, "message": "Parse error" }, "id": null })
    );
    let envelope = rpc.post_raw("").await;
    assert_eq!(envelope["error"]["code"], -32700);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_requests_are_32600_and_keep_the_id() {
    let rpc = Rpc::start().await;
    let invalid = |id: Value| json!({ "jsonrpc": "2.0", "error": { "code": -32600, "message": "Invalid request" }, "id": id });
    for (body, id) in [
        (r#"{"id":3,"method":"getHealth"}"#, json!(3)),
        (r#"{"jsonrpc":"1.0","id":4,"method":"getHealth"}"#, json!(4)),
        (r#"{"jsonrpc":"2.0","id":5,"method":17}"#, json!(5)),
        (r#"{"jsonrpc":"2.0","id":6}"#, json!(6)),
        (r#""getHealth""#, Value::Null),
        ("42", Value::Null),
    ] {
        assert_eq!(rpc.post_raw(body).await, invalid(id), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_method_is_32601() {
    let rpc = Rpc::start().await;
    let err = rpc.err("getBogus", json!([])).await;
    assert_eq!(
        err,
        json!({ "code": -32601, "message": "Method not found" })
    );
    // Websocket-only methods are unknown over HTTP.
    let err = rpc.err("logsSubscribe", json!(["all"])).await;
    assert_eq!(err["code"], -32601);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_preserves_order_and_mixes_results_and_errors() {
    let rpc = Rpc::start().await;
    let body = json!([
        { "jsonrpc": "2.0", "id": 1, "method": "getHealth" },
        { "jsonrpc": "2.0", "id": 2, "method": "noSuchMethod", "params": [] },
        { "jsonrpc": "2.0", "id": 3, "method": "getBalance", "params": ["not-a-key-0"] },
        { "jsonrpc": "2.0", "id": "four", "method": "getGenesisHash" },
        { "id": 5, "method": "getHealth" },
        7,
    ]);
    let responses = rpc.post_raw(body.to_string()).await;
    let responses = responses.as_array().expect("batch answers with an array");
    assert_eq!(responses.len(), 6);
    assert_eq!(
        responses[0],
        json!({ "jsonrpc": "2.0", "result": "ok", "id": 1 })
    );
    assert_eq!(
        responses[1],
        json!({ "jsonrpc": "2.0", "error": { "code": -32601, "message": "Method not found" }, "id": 2 })
    );
    assert_eq!(
        responses[2],
        json!({ "jsonrpc": "2.0", "error": { "code": -32602, "message": "Invalid param: Invalid" }, "id": 3 })
    );
    assert_eq!(responses[3]["id"], "four");
    assert!(responses[3]["result"].is_string());
    assert_eq!(
        responses[4],
        json!({ "jsonrpc": "2.0", "error": { "code": -32600, "message": "Invalid request" }, "id": 5 })
    );
    assert_eq!(
        responses[5],
        json!({ "jsonrpc": "2.0", "error": { "code": -32600, "message": "Invalid request" }, "id": null })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_batch_is_one_invalid_request() {
    let rpc = Rpc::start().await;
    assert_eq!(
        rpc.post_raw("[]").await,
        json!({ "jsonrpc": "2.0", "error": { "code": -32600, "message": "Invalid request" }, "id": null })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_params_are_32602() {
    let rpc = Rpc::start().await;
    let cases = [
        ("getBalance", json!(["0OIl"]), "Invalid param: Invalid"),
        ("getBalance", json!(["abc"]), "Invalid param: WrongSize"),
        ("getBalance", json!(["1111"]), "Invalid param: WrongSize"),
        ("getBalance", json!([12]), "Invalid params: pubkey must be a string."),
        ("getBalance", json!([]), "Invalid params: missing pubkey (param 0)."),
        (
            "getBalance",
            json!({ "pubkey": "x" }),
            "Invalid params: params must be an array.",
        ),
        (
            "getBalance",
            json!([Pubkey::new_unique().to_string(), { "commitment": "bogus" }]),
            "Invalid params: unknown variant `bogus`, expected one of `processed`, `confirmed`, `finalized`, `recent`, `single`, `singleGossip`, `root`, `max`.",
        ),
        ("isBlockhashValid", json!(["0OIl"]), "Invalid param: Invalid"),
        ("isBlockhashValid", json!(["zz"]), "Invalid param: WrongSize"),
        ("getSignatureStatuses", json!([["0OIl"]]), "Invalid param: Invalid"),
        (
            "getSignatureStatuses",
            json!(["sig"]),
            "Invalid params: signatures must be an array.",
        ),
        ("getTransaction", json!(["1"]), "Invalid param: WrongSize"),
        (
            "getMultipleAccounts",
            json!([[Pubkey::new_unique().to_string(), 5]]),
            "Invalid params: pubkey must be a string.",
        ),
        (
            "getMinimumBalanceForRentExemption",
            json!(["ten"]),
            "Invalid params: data length must be an unsigned integer.",
        ),
        (
            "requestAirdrop",
            json!([Pubkey::new_unique().to_string(), -1]),
            "Invalid params: lamports must be an unsigned integer.",
        ),
    ];
    for (method, params, message) in cases {
        let err = rpc.err(method, params.clone()).await;
        assert_eq!(
            err,
            json!({ "code": -32602, "message": message }),
            "{method} {params}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commitment_levels_are_accepted() {
    let rpc = Rpc::start().await;
    let who = rpc.funded().await.pubkey().to_string();
    for commitment in ["processed", "confirmed", "finalized"] {
        let cfg = json!({ "commitment": commitment });
        let (_, v) = context(&rpc.ok("getBalance", json!([who, cfg])).await);
        assert_eq!(v, 10 * SOL);
        context(&rpc.ok("getLatestBlockhash", json!([cfg])).await);
        context(
            &rpc.ok(
                "getAccountInfo",
                json!([who, { "commitment": commitment, "encoding": "base64" }]),
            )
            .await,
        );
        assert!(rpc.ok("getSlot", json!([cfg])).await.is_u64());
        assert!(rpc.ok("getBlockHeight", json!([cfg])).await.is_u64());
        assert!(rpc
            .ok("getEpochInfo", json!([cfg]))
            .await
            .get("epoch")
            .is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn min_context_slot_not_reached_is_32016() {
    let rpc = Rpc::start().await;
    let far = u64::MAX / 2;
    for (method, params) in [
        ("getSlot", json!([{ "minContextSlot": far }])),
        (
            "getBalance",
            json!([Pubkey::new_unique().to_string(), { "minContextSlot": far }]),
        ),
        ("getLatestBlockhash", json!([{ "minContextSlot": far }])),
    ] {
        let err = rpc.err(method, params).await;
        assert_eq!(keys(&err), ["code", "data", "message"]);
        assert_eq!(err["code"], -32016);
        assert_eq!(err["message"], "Minimum context slot has not been reached");
        assert!(err["data"]["contextSlot"].as_u64().unwrap() < far);
    }
    // A reached slot is fine.
    assert!(rpc
        .ok("getSlot", json!([{ "minContextSlot": 0 }]))
        .await
        .is_u64());
}

// ---- cluster info -----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_version_identity_and_genesis_hash() {
    let rpc = Rpc::start().await;
    assert_eq!(
        rpc.ok("getVersion", json!([])).await,
        json!({ "solana-core": API_VERSION, "feature-set": 0 })
    );
    let expected = Hash::new_from_array(Sha256::digest(b"roomcast-localnet").into()).to_string();
    assert_eq!(rpc.ok("getGenesisHash", json!([])).await, expected);
    assert_eq!(
        rpc.ok("getIdentity", json!([])).await,
        json!({ "identity": rpc.node.faucet().pubkey().to_string() })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_epoch_info_shape() {
    let rpc = Rpc::start().await;
    let info = rpc.ok("getEpochInfo", json!([])).await;
    assert_eq!(
        keys(&info),
        [
            "absoluteSlot",
            "blockHeight",
            "epoch",
            "slotIndex",
            "slotsInEpoch",
            "transactionCount"
        ]
    );
    let slot = info["absoluteSlot"].as_u64().unwrap();
    assert_eq!(info["slotsInEpoch"], 432_000);
    assert_eq!(info["epoch"], slot / 432_000);
    assert_eq!(info["slotIndex"], slot % 432_000);
    assert!(info["blockHeight"].as_u64().unwrap() <= slot);
    // The faucet's funding is not a transaction; nothing was sent yet.
    assert_eq!(info["transactionCount"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slots_block_height_and_blockhash_advance_with_transactions() {
    let rpc = Rpc::start().await;
    let slot0 = rpc.slot().await;
    let height0 = rpc.ok("getBlockHeight", json!([])).await.as_u64().unwrap();
    let hash0 = rpc.blockhash().await;
    let count0 = rpc.ok("getTransactionCount", json!([])).await;
    assert_eq!(count0, 0);
    rpc.airdrop(&Pubkey::new_unique(), SOL).await;
    let slot1 = rpc.slot().await;
    let height1 = rpc.ok("getBlockHeight", json!([])).await.as_u64().unwrap();
    assert!(slot1 > slot0, "{slot1} > {slot0}");
    assert!(height1 > height0, "{height1} > {height0}");
    assert_ne!(rpc.blockhash().await, hash0);
    assert_eq!(rpc.ok("getTransactionCount", json!([])).await, 1);
    // The older blockhash is still within the recent window.
    let (_, valid) = context(&rpc.ok("isBlockhashValid", json!([hash0.to_string()])).await);
    assert_eq!(valid, true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_latest_blockhash_shape_and_validity() {
    let rpc = Rpc::start().await;
    let info = rpc.ok("getEpochInfo", json!([])).await;
    let genesis_slot =
        info["absoluteSlot"].as_u64().unwrap() - info["blockHeight"].as_u64().unwrap();
    let result = rpc.ok("getLatestBlockhash", json!([])).await;
    let (slot, value) = context(&result);
    assert_eq!(keys(&value), ["blockhash", "lastValidBlockHeight"]);
    let hash: Hash = value["blockhash"].as_str().unwrap().parse().unwrap();
    // The latest blockhash belongs to the context slot and lives 150 blocks.
    assert_eq!(value["lastValidBlockHeight"], slot - genesis_slot + 150);

    let (_, valid) = context(&rpc.ok("isBlockhashValid", json!([hash.to_string()])).await);
    assert_eq!(valid, json!(true));
    let (_, valid) = context(
        &rpc.ok(
            "isBlockhashValid",
            json!([random_hash().to_string(), { "commitment": "processed" }]),
        )
        .await,
    );
    assert_eq!(valid, json!(false));
    let err = rpc.err("isBlockhashValid", json!([])).await;
    assert_eq!(
        err,
        json!({ "code": -32602, "message": "Invalid params: missing blockhash (param 0)." })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_minimum_balance_for_rent_exemption() {
    let rpc = Rpc::start().await;
    assert_eq!(
        rpc.ok("getMinimumBalanceForRentExemption", json!([0]))
            .await,
        rent(0)
    );
    assert_eq!(
        rpc.ok("getMinimumBalanceForRentExemption", json!([0]))
            .await,
        890_880
    );
    assert_eq!(
        rpc.ok(
            "getMinimumBalanceForRentExemption",
            json!([ROOM_LEN, { "commitment": "confirmed" }])
        )
        .await,
        rent(ROOM_LEN as u64)
    );
}

// ---- balances and airdrops --------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_balance_and_request_airdrop() {
    let rpc = Rpc::start().await;
    let who = Pubkey::new_unique();
    let (_, v) = context(&rpc.ok("getBalance", json!([who.to_string()])).await);
    assert_eq!(v, 0);
    let sig = rpc.airdrop(&who, 3 * SOL).await;
    assert_eq!(bs58::decode(&sig).into_vec().unwrap().len(), 64);
    let (_, v) = context(&rpc.ok("getBalance", json!([who.to_string()])).await);
    assert_eq!(v, 3 * SOL);
    let (_, statuses) = context(&rpc.ok("getSignatureStatuses", json!([[sig]])).await);
    assert_eq!(statuses[0]["err"], Value::Null);

    for lamports in [0, 1_000 * SOL + 1] {
        let err = rpc
            .err("requestAirdrop", json!([who.to_string(), lamports]))
            .await;
        assert_eq!(
            err,
            json!({ "code": -32602, "message": "airdrop must be between 1 and 1000000000000 lamports" })
        );
    }
    assert_eq!(rpc.balance(&who).await, 3 * SOL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_airdrops_all_land() {
    let rpc = std::sync::Arc::new(Rpc::start().await);
    let shared = Pubkey::new_unique();
    let mut tasks = Vec::new();
    for i in 0..20u64 {
        let rpc = rpc.clone();
        tasks.push(tokio::spawn(async move {
            let own = Pubkey::new_unique();
            let a = rpc.airdrop(&own, SOL + i).await;
            // The same amount to the same key, concurrently: distinct transactions all the same.
            let b = rpc.airdrop(&shared, SOL).await;
            (own, i, a, b)
        }));
    }
    let mut sigs = Vec::new();
    for t in tasks {
        let (own, i, a, b) = t.await.unwrap();
        assert_eq!(rpc.balance(&own).await, SOL + i);
        sigs.push(a);
        sigs.push(b);
    }
    assert_eq!(rpc.balance(&shared).await, 20 * SOL);
    let mut unique = sigs.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 40);
    let (_, statuses) = context(&rpc.ok("getSignatureStatuses", json!([sigs])).await);
    assert_eq!(statuses.as_array().unwrap().len(), 40);
    for s in statuses.as_array().unwrap() {
        assert_eq!(s["status"], json!({ "Ok": null }), "{s}");
    }
}

// ---- transactions -----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_transaction_base58_and_base64() {
    let rpc = Rpc::start().await;
    let from = rpc.funded().await;
    let to = Pubkey::new_unique();

    // Too little for a new account's rent: refused by preflight, nothing charged.
    let tx = rpc
        .tx(&[transfer(&from.pubkey(), &to, 1_000)], &[&from])
        .await;
    let err = rpc.send(&tx).await["error"].clone();
    assert_eq!(err["code"], -32002);
    assert_eq!(
        err["message"],
        "Transaction simulation failed: Transaction results in an account (1) with insufficient funds for rent"
    );
    assert_eq!(
        err["data"]["err"],
        json!({ "InsufficientFundsForRent": { "account_index": 1 } })
    );
    assert_eq!(
        err["data"]["logs"],
        json!([
            "Program 11111111111111111111111111111111 invoke [1]",
            "Program 11111111111111111111111111111111 success"
        ])
    );
    assert_eq!(rpc.balance(&from.pubkey()).await, 10 * SOL);

    let tx = rpc
        .tx(&[transfer(&from.pubkey(), &to, SOL)], &[&from])
        .await;
    // base58 is the default encoding.
    let sig = rpc.ok("sendTransaction", json!([b58(&tx)])).await;
    assert_eq!(sig, tx.signatures[0].to_string());

    let tx = rpc
        .tx(&[transfer(&from.pubkey(), &to, 2 * SOL)], &[&from])
        .await;
    let sig = rpc
        .ok(
            "sendTransaction",
            json!([b64(&tx), { "encoding": "base64", "preflightCommitment": "confirmed", "maxRetries": 0 }]),
        )
        .await;
    assert_eq!(sig, tx.signatures[0].to_string());

    let tx = rpc
        .tx(&[transfer(&from.pubkey(), &to, 4 * SOL)], &[&from])
        .await;
    let sig = rpc
        .ok(
            "sendTransaction",
            json!([b58(&tx), { "encoding": "base58", "skipPreflight": true }]),
        )
        .await;
    assert_eq!(sig, tx.signatures[0].to_string());

    assert_eq!(rpc.balance(&to).await, 7 * SOL);
    assert_eq!(rpc.balance(&from.pubkey()).await, 3 * SOL - 3 * 5_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_transaction_rejects_bad_encodings() {
    let rpc = Rpc::start().await;
    let from = rpc.funded().await;
    let tx = rpc
        .tx(
            &[transfer(&from.pubkey(), &Pubkey::new_unique(), 1)],
            &[&from],
        )
        .await;
    let cases = [
        (
            json!(["0OIl", { "encoding": "base58" }]),
            "invalid base58 encoding: InvalidCharacter { character: '0', index: 0 }",
        ),
        (
            json!(["@@@@", { "encoding": "base64" }]),
            "invalid base64 encoding: InvalidByte(0, 64)",
        ),
        (
            json!([b64(&tx), { "encoding": "hex" }]),
            "unsupported encoding: hex. Supported encodings: base58, base64",
        ),
        (
            json!([B64.encode([1u8, 2, 3]), { "encoding": "base64" }]),
            "failed to deserialize solana_transaction::versioned::VersionedTransaction: io error: failed to fill whole buffer",
        ),
        (
            json!(["1".repeat(1684)]),
            "base58 encoded solana_transaction::versioned::VersionedTransaction too large: 1684 bytes (max: encoded/raw 1683/1232)",
        ),
        (
            json!([B64.encode(vec![0u8; 1233]), { "encoding": "base64" }]),
            "decoded solana_transaction::versioned::VersionedTransaction too large: 1233 bytes (max: 1232 bytes)",
        ),
        (
            json!(["A".repeat(1648), { "encoding": "base64" }]),
            "base64 encoded solana_transaction::versioned::VersionedTransaction too large: 1648 bytes (max: encoded/raw 1644/1232)",
        ),
    ];
    for (params, message) in cases {
        let err = rpc.err("sendTransaction", params.clone()).await;
        assert_eq!(
            err,
            json!({ "code": -32602, "message": message }),
            "{params}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_transaction_is_refused_and_the_node_survives() {
    let rpc = Rpc::start().await;
    let from = rpc.funded().await;
    let mut tx = rpc
        .tx(
            &[transfer(&from.pubkey(), &Pubkey::new_unique(), 1)],
            &[&from],
        )
        .await;
    // Two signatures for a message that requires one: fails sanitization.
    tx.signatures.push(tx.signatures[0]);
    let expected = json!({
        "code": -32602,
        "message": "invalid transaction: Transaction failed to sanitize accounts offsets correctly",
    });
    assert_eq!(
        rpc.err(
            "sendTransaction",
            json!([b64(&tx), { "encoding": "base64" }])
        )
        .await,
        expected
    );
    assert_eq!(
        rpc.err(
            "simulateTransaction",
            json!([b64(&tx), { "encoding": "base64" }])
        )
        .await,
        expected
    );
    // No signature at all.
    tx.signatures.clear();
    let err = rpc
        .err(
            "sendTransaction",
            json!([b64(&tx), { "encoding": "base64" }]),
        )
        .await;
    assert_eq!(err["code"], -32602);
    assert_eq!(rpc.ok("getHealth", json!([])).await, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_transaction_is_already_processed() {
    let rpc = Rpc::start().await;
    let from = rpc.funded().await;
    let to = Pubkey::new_unique();
    let tx = rpc
        .tx(&[transfer(&from.pubkey(), &to, SOL)], &[&from])
        .await;
    assert_eq!(rpc.send(&tx).await["result"], tx.signatures[0].to_string());
    let envelope = rpc.send(&tx).await;
    assert_eq!(
        envelope["error"],
        json!({
            "code": -32002,
            "message": "Transaction simulation failed: This transaction has already been processed",
            "data": {
                "err": "AlreadyProcessed",
                "logs": [],
                "accounts": null,
                "unitsConsumed": 0,
                "returnData": null,
                "innerInstructions": null,
                "replacementBlockhash": null,
                "loadedAccountsDataSize": null,
            },
        })
    );
    // Even with preflight skipped, the replay does not execute.
    let envelope = rpc
        .call(
            "sendTransaction",
            json!([b64(&tx), { "encoding": "base64", "skipPreflight": true }]),
        )
        .await;
    assert_eq!(envelope["error"]["data"]["err"], "AlreadyProcessed");
    assert_eq!(rpc.balance(&to).await, SOL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_blockhash_is_blockhash_not_found() {
    let rpc = Rpc::start().await;
    let from = rpc.funded().await;
    let tx = tx_with(
        &[transfer(&from.pubkey(), &Pubkey::new_unique(), 1)],
        &[&from],
        random_hash(),
    );
    let err = rpc.send(&tx).await["error"].clone();
    assert_eq!(err["code"], -32002);
    assert_eq!(
        err["message"],
        "Transaction simulation failed: Blockhash not found"
    );
    assert_eq!(err["data"]["err"], "BlockhashNotFound");
    assert_eq!(err["data"]["logs"], json!([]));
    // Simulation reports it in the result instead.
    let (_, value) = context(
        &rpc.ok(
            "simulateTransaction",
            json!([b64(&tx), { "encoding": "base64" }]),
        )
        .await,
    );
    assert_eq!(value["err"], "BlockhashNotFound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signature_is_32003() {
    let rpc = Rpc::start().await;
    let from = rpc.funded().await;
    let mut tx = rpc
        .tx(
            &[transfer(&from.pubkey(), &Pubkey::new_unique(), 1)],
            &[&from],
        )
        .await;
    let other = Keypair::new();
    tx.signatures[0] = other.sign_message(b"something else");
    let expected =
        json!({ "code": -32003, "message": "Transaction signature verification failure" });
    assert_eq!(rpc.send(&tx).await["error"], expected);
    assert_eq!(
        rpc.err(
            "simulateTransaction",
            json!([b64(&tx), { "encoding": "base64", "sigVerify": true }])
        )
        .await,
        expected
    );
    assert_eq!(rpc.balance(&from.pubkey()).await, 10 * SOL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_program_instruction_is_32002_with_err_and_logs() {
    let rpc = Rpc::start().await;
    let op = Operator::new(&rpc).await;
    let host = Keypair::new();
    let (room, _) = op.create_room(&rpc, &sid(1), &host.pubkey()).await;
    let stranger = rpc.funded().await;
    let tx = rpc
        .tx(
            &[end_room_ix(&stranger.pubkey(), &op.registry, &room)],
            &[&stranger],
        )
        .await;
    let before = rpc.account_data(&room).await.unwrap();
    let err = rpc.send(&tx).await["error"].clone();
    assert_eq!(keys(&err), ["code", "data", "message"]);
    assert_eq!(err["code"], -32002);
    assert_eq!(
        err["message"],
        "Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1776"
    );
    let data = &err["data"];
    assert_eq!(
        keys(data),
        [
            "accounts",
            "err",
            "innerInstructions",
            "loadedAccountsDataSize",
            "logs",
            "replacementBlockhash",
            "returnData",
            "unitsConsumed"
        ]
    );
    assert_eq!(
        data["err"],
        json!({ "InstructionError": [0, { "Custom": 6006 }] })
    );
    assert_eq!(data["logs"], json!(end_room_failure_logs()));
    // Nothing changed, nothing recorded, no fee charged (preflight failed).
    assert_eq!(rpc.account_data(&room).await.unwrap(), before);
    assert_eq!(rpc.balance(&stranger.pubkey()).await, 10 * SOL);
    let (_, statuses) = context(
        &rpc.ok(
            "getSignatureStatuses",
            json!([[tx.signatures[0].to_string()]]),
        )
        .await,
    );
    assert_eq!(statuses, json!([null]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_preflight_records_the_failed_transaction() {
    let rpc = Rpc::start().await;
    let op = Operator::new(&rpc).await;
    let (room, _) = op.create_room(&rpc, &sid(2), &Pubkey::new_unique()).await;
    let stranger = rpc.funded().await;
    let tx = rpc
        .tx(
            &[end_room_ix(&stranger.pubkey(), &op.registry, &room)],
            &[&stranger],
        )
        .await;
    let sig = rpc
        .ok(
            "sendTransaction",
            json!([b64(&tx), { "encoding": "base64", "skipPreflight": true }]),
        )
        .await;
    assert_eq!(sig, tx.signatures[0].to_string());
    let failure = json!({ "InstructionError": [0, { "Custom": 6006 }] });
    let (_, statuses) = context(&rpc.ok("getSignatureStatuses", json!([[sig]])).await);
    assert_eq!(statuses[0]["err"], failure);
    assert_eq!(statuses[0]["status"], json!({ "Err": failure }));
    let t = rpc.ok("getTransaction", json!([sig])).await;
    assert_eq!(t["meta"]["err"], failure);
    assert_eq!(t["meta"]["logMessages"], json!(end_room_failure_logs()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_transaction_success_failure_and_options() {
    let rpc = Rpc::start().await;
    let op = Operator::new(&rpc).await;
    let (room, _) = op.create_room(&rpc, &sid(3), &Pubkey::new_unique()).await;

    // Success with the event in the logs; nothing committed.
    let ix = end_room_ix(&op.registrar.pubkey(), &op.registry, &room);
    let tx = rpc.tx(std::slice::from_ref(&ix), &[&op.registrar]).await;
    let before = rpc.account_data(&room).await.unwrap();
    let (_, value) = context(
        &rpc.ok(
            "simulateTransaction",
            json!([b64(&tx), { "encoding": "base64", "accounts": { "encoding": "base64", "addresses": [room.to_string()] } }]),
        )
        .await,
    );
    assert_eq!(value["err"], Value::Null);
    let logs: Vec<&str> = value["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(logs.len(), 3, "{logs:?}");
    assert_eq!(logs[0], format!("Program {} invoke [1]", program_id()));
    assert!(logs[1].starts_with("Program data: "), "{logs:?}");
    assert_eq!(logs[2], format!("Program {} success", program_id()));
    let event_data = B64.decode(&logs[1]["Program data: ".len()..]).unwrap();
    assert_eq!(&event_data[..8], roomcast::RoomEnded::DISCRIMINATOR);
    let simulated = B64
        .decode(value["accounts"][0]["data"][0].as_str().unwrap())
        .unwrap();
    assert_eq!(simulated[104], 2, "simulated room is Ended");
    assert_eq!(rpc.account_data(&room).await.unwrap(), before);
    assert_eq!(before[104], 0, "stored room is still Created");

    // A failure is a result, not a JSON-RPC error; base58 is the default encoding.
    let stranger = rpc.funded().await;
    let bad = rpc
        .tx(
            &[end_room_ix(&stranger.pubkey(), &op.registry, &room)],
            &[&stranger],
        )
        .await;
    let (_, value) = context(&rpc.ok("simulateTransaction", json!([b58(&bad)])).await);
    assert_eq!(
        value["err"],
        json!({ "InstructionError": [0, { "Custom": 6006 }] })
    );
    assert_eq!(value["logs"], json!(end_room_failure_logs()));
    assert_eq!(value["accounts"], Value::Null);

    // replaceRecentBlockhash rescues an unknown blockhash and reports the replacement.
    let stale = tx_with(&[ix], &[&op.registrar], random_hash());
    let (slot, value) = context(
        &rpc.ok(
            "simulateTransaction",
            json!([b64(&stale), { "encoding": "base64", "replaceRecentBlockhash": true }]),
        )
        .await,
    );
    assert_eq!(value["err"], Value::Null);
    assert_eq!(
        keys(&value["replacementBlockhash"]),
        ["blockhash", "lastValidBlockHeight"]
    );
    assert!(
        value["replacementBlockhash"]["lastValidBlockHeight"]
            .as_u64()
            .unwrap()
            >= 150
    );
    let _ = slot;
    assert_eq!(
        rpc.err(
            "simulateTransaction",
            json!([b64(&stale), { "encoding": "base64", "replaceRecentBlockhash": true, "sigVerify": true }])
        )
        .await,
        json!({ "code": -32602, "message": "sigVerify may not be used with replaceRecentBlockhash" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_signature_statuses_shape() {
    let rpc = Rpc::start().await;
    let sig = rpc.airdrop(&Pubkey::new_unique(), SOL).await;
    let tx = rpc.ok("getTransaction", json!([sig])).await;
    let unknown = Keypair::new().sign_message(b"x").to_string();
    let (_, value) = context(
        &rpc.ok(
            "getSignatureStatuses",
            json!([[sig, unknown], { "searchTransactionHistory": true }]),
        )
        .await,
    );
    assert_eq!(
        value,
        json!([
            {
                "slot": tx["slot"],
                "confirmations": null,
                "err": null,
                "status": { "Ok": null },
                "confirmationStatus": "finalized",
            },
            null
        ])
    );
    let too_many: Vec<String> = (0..257).map(|_| unknown.clone()).collect();
    assert_eq!(
        rpc.err("getSignatureStatuses", json!([too_many])).await,
        json!({ "code": -32602, "message": "Too many inputs provided; max 256" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_fee_for_message() {
    let rpc = Rpc::start().await;
    let a = rpc.funded().await;
    let b = rpc.funded().await;
    let fee = |tx: &solana_transaction::versioned::VersionedTransaction| {
        B64.encode(tx.message.serialize())
    };
    let one = rpc
        .tx(&[transfer(&a.pubkey(), &Pubkey::new_unique(), 1)], &[&a])
        .await;
    let (_, v) = context(&rpc.ok("getFeeForMessage", json!([fee(&one)])).await);
    assert_eq!(v, 5_000);
    let two = rpc
        .tx(
            &[
                transfer(&a.pubkey(), &Pubkey::new_unique(), 1),
                transfer(&b.pubkey(), &Pubkey::new_unique(), 1),
            ],
            &[&a, &b],
        )
        .await;
    let (_, v) = context(
        &rpc.ok(
            "getFeeForMessage",
            json!([fee(&two), { "commitment": "processed" }]),
        )
        .await,
    );
    assert_eq!(v, 10_000);
    let stale = tx_with(
        &[transfer(&a.pubkey(), &Pubkey::new_unique(), 1)],
        &[&a],
        random_hash(),
    );
    let (_, v) = context(&rpc.ok("getFeeForMessage", json!([fee(&stale)])).await);
    assert_eq!(v, Value::Null);
    assert_eq!(
        rpc.err("getFeeForMessage", json!(["!!"])).await,
        json!({ "code": -32602, "message": "invalid base64 encoding: InvalidByte(0, 33)" })
    );
    assert_eq!(
        rpc.err("getFeeForMessage", json!([B64.encode([9u8])]))
            .await["code"],
        -32602
    );
}

// ---- accounts ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_account_info_encodings() {
    let rpc = Rpc::start().await;
    let op = Operator::new(&rpc).await;
    let (room, _) = op.create_room(&rpc, &sid(4), &Pubkey::new_unique()).await;
    let address = op.registry.to_string();

    let (_, v) = context(
        &rpc.ok("getAccountInfo", json!([address, { "encoding": "base64" }]))
            .await,
    );
    assert_eq!(
        keys(&v),
        [
            "data",
            "executable",
            "lamports",
            "owner",
            "rentEpoch",
            "space"
        ]
    );
    assert_eq!(v["lamports"], rent(REGISTRY_LEN as u64));
    assert_eq!(v["owner"], program_id().to_string());
    assert_eq!(v["executable"], false);
    assert!(v["rentEpoch"].is_u64());
    assert_eq!(v["space"], REGISTRY_LEN);
    assert_eq!(v["data"][1], "base64");
    let data = B64.decode(v["data"][0].as_str().unwrap()).unwrap();
    assert_eq!(data.len(), REGISTRY_LEN);
    assert_eq!(&data[..8], roomcast::state::Registry::DISCRIMINATOR);
    assert_eq!(&data[8..40], op.admin.pubkey().as_ref());
    assert_eq!(&data[40..72], op.registrar.pubkey().as_ref());
    assert_eq!(&data[72..80], &1u64.to_le_bytes());

    // base64+zstd round-trips to the same bytes.
    let (_, z) = context(
        &rpc.ok(
            "getAccountInfo",
            json!([address, { "encoding": "base64+zstd" }]),
        )
        .await,
    );
    assert_eq!(z["data"][1], "base64+zstd");
    let compressed = B64.decode(z["data"][0].as_str().unwrap()).unwrap();
    assert_eq!(zstd::decode_all(compressed.as_slice()).unwrap(), data);
    assert_eq!(z["lamports"], v["lamports"]);

    // jsonParsed falls back to base64 (no parser for program accounts).
    let (_, p) = context(
        &rpc.ok(
            "getAccountInfo",
            json!([address, { "encoding": "jsonParsed" }]),
        )
        .await,
    );
    assert_eq!(p, v);

    // base58 (and the legacy default, binary) for accounts up to 128 bytes.
    let (_, b) = context(
        &rpc.ok("getAccountInfo", json!([address, { "encoding": "base58" }]))
            .await,
    );
    assert_eq!(
        b["data"],
        json!([bs58::encode(&data).into_string(), "base58"])
    );
    let (_, b) = context(&rpc.ok("getAccountInfo", json!([address])).await);
    assert_eq!(b["data"], json!(bs58::encode(&data).into_string()));

    // dataSlice.
    let (_, s) = context(
        &rpc.ok(
            "getAccountInfo",
            json!([address, { "encoding": "base64", "dataSlice": { "offset": 8, "length": 32 } }]),
        )
        .await,
    );
    assert_eq!(s["data"][0], B64.encode(&data[8..40]));
    assert_eq!(s["space"], REGISTRY_LEN);
    let (_, s) = context(
        &rpc.ok(
            "getAccountInfo",
            json!([address, { "encoding": "base64", "dataSlice": { "offset": 1000, "length": 5 } }]),
        )
        .await,
    );
    assert_eq!(s["data"][0], "");

    // base58 of more than 128 bytes is refused as validators refuse it.
    assert_eq!(
        rpc.err(
            "getAccountInfo",
            json!([room.to_string(), { "encoding": "base58" }])
        )
        .await,
        json!({
            "code": -32600,
            "message": "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.",
        })
    );

    // A missing account is a null value.
    let (_, missing) = context(
        &rpc.ok(
            "getAccountInfo",
            json!([Pubkey::new_unique().to_string(), { "encoding": "base64" }]),
        )
        .await,
    );
    assert_eq!(missing, Value::Null);

    assert_eq!(
        rpc.err("getAccountInfo", json!([address, { "encoding": "hex" }]))
            .await,
        json!({
            "code": -32602,
            "message": "Invalid params: unknown variant `hex`, expected one of `binary`, `base58`, `base64`, `jsonParsed`, `base64+zstd`.",
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_multiple_accounts() {
    let rpc = Rpc::start().await;
    let op = Operator::new(&rpc).await;
    let missing = Pubkey::new_unique();
    let (_, v) = context(
        &rpc.ok(
            "getMultipleAccounts",
            json!([[op.registry.to_string(), missing.to_string(), op.admin.pubkey().to_string()], { "encoding": "base64+zstd" }]),
        )
        .await,
    );
    let v = v.as_array().unwrap();
    assert_eq!(v.len(), 3);
    assert_eq!(v[0]["owner"], program_id().to_string());
    assert_eq!(v[0]["data"][1], "base64+zstd");
    assert_eq!(v[1], Value::Null);
    assert_eq!(v[2]["owner"], "11111111111111111111111111111111");
    assert_eq!(v[2]["space"], 0);
    let too_many: Vec<String> = (0..101).map(|_| missing.to_string()).collect();
    assert_eq!(
        rpc.err("getMultipleAccounts", json!([too_many])).await,
        json!({ "code": -32602, "message": "Too many inputs provided; max 100" })
    );
    assert_eq!(
        rpc.err("getMultipleAccounts", json!([["bad"]])).await,
        json!({ "code": -32602, "message": "Invalid param: WrongSize" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_program_accounts_filters() {
    let rpc = Rpc::start().await;
    let a = Operator::new(&rpc).await;
    let b = Operator::new(&rpc).await;
    let host = Pubkey::new_unique();
    let (r1, _) = a.create_room(&rpc, &sid(10), &host).await;
    let (r2, _) = a.create_room(&rpc, &sid(11), &Pubkey::new_unique()).await;
    let (r3, _) = b.create_room(&rpc, &sid(12), &host).await;
    rpc.send_ok(
        &[end_room_ix(&a.registrar.pubkey(), &a.registry, &r2)],
        &[&a.registrar],
    )
    .await;
    let pid = program_id().to_string();
    let sorted = |mut v: Vec<Pubkey>| {
        v.sort();
        v.into_iter().map(|k| k.to_string()).collect::<Vec<_>>()
    };
    let addresses = |list: &Value| {
        list.as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert_eq!(keys(e), ["account", "pubkey"]);
                e["pubkey"].as_str().unwrap().to_string()
            })
            .collect::<Vec<_>>()
    };

    // Everything the program owns: 2 registries + 3 rooms, in address order.
    let all = rpc
        .ok("getProgramAccounts", json!([pid, { "encoding": "base64" }]))
        .await;
    assert_eq!(
        addresses(&all),
        sorted(vec![a.registry, b.registry, r1, r2, r3])
    );

    // dataSize: only rooms.
    let rooms = rpc
        .ok(
            "getProgramAccounts",
            json!([pid, { "encoding": "base64", "filters": [{ "dataSize": ROOM_LEN }] }]),
        )
        .await;
    assert_eq!(addresses(&rooms), sorted(vec![r1, r2, r3]));
    assert_eq!(rooms[0]["account"]["space"], ROOM_LEN);

    // memcmp base58 on the registry (offset 8).
    let of_a = rpc
        .ok(
            "getProgramAccounts",
            json!([pid, { "encoding": "base64", "filters": [
                { "dataSize": ROOM_LEN },
                { "memcmp": { "offset": 8, "bytes": a.registry.to_string() } },
            ] }]),
        )
        .await;
    assert_eq!(addresses(&of_a), sorted(vec![r1, r2]));

    // memcmp base64 on the host (offset 40).
    let of_host = rpc
        .ok(
            "getProgramAccounts",
            json!([pid, { "encoding": "base64", "filters": [
                { "memcmp": { "offset": 40, "bytes": B64.encode(host.as_ref()), "encoding": "base64" } },
            ] }]),
        )
        .await;
    assert_eq!(addresses(&of_host), sorted(vec![r1, r3]));

    // memcmp on status (offset 104): Ended = 2, base58 of [2] is "3".
    let ended = rpc
        .ok(
            "getProgramAccounts",
            json!([pid, { "filters": [{ "memcmp": { "offset": 104, "bytes": "3", "encoding": "base58" } }], "encoding": "base64" }]),
        )
        .await;
    assert_eq!(addresses(&ended), sorted(vec![r2]));

    // memcmp on the session id's 16 bytes (offset 106), on a room whose timestamps are set.
    let id = B64.encode((0xabc0_0000_u128 + 11).to_be_bytes());
    let by_id = rpc
        .ok(
            "getProgramAccounts",
            json!([pid, { "filters": [{ "memcmp": { "offset": 106, "bytes": id, "encoding": "base64" } }], "encoding": "base64" }]),
        )
        .await;
    assert_eq!(addresses(&by_id), sorted(vec![r2]));

    // A memcmp past the end of the data matches nothing.
    let none = rpc
        .ok(
            "getProgramAccounts",
            json!([pid, { "filters": [{ "memcmp": { "offset": 100000, "bytes": "3" } }] }]),
        )
        .await;
    assert_eq!(none, json!([]));

    // withContext wraps the list.
    let result = rpc
        .ok(
            "getProgramAccounts",
            json!([pid, { "withContext": true, "encoding": "base64", "commitment": "confirmed", "filters": [{ "dataSize": REGISTRY_LEN }] }]),
        )
        .await;
    let (_, value) = context(&result);
    assert_eq!(addresses(&value), sorted(vec![a.registry, b.registry]));
    let registry_data = B64
        .decode(value[0]["account"]["data"][0].as_str().unwrap())
        .unwrap();
    assert_eq!(registry_data.len(), REGISTRY_LEN);

    // Errors.
    let cases = [
        (json!([{ "foo": 1 }]), "unsupported filter: {\"foo\":1}"),
        (
            json!([{ "memcmp": { "offset": 0, "bytes": "0OIl" } }]),
            "invalid base58 in memcmp: provided string contained invalid character '0' at byte 0",
        ),
        (
            json!([{ "memcmp": { "offset": 0, "bytes": "@", "encoding": "base64" } }]),
            "invalid base64 in memcmp: Invalid symbol 64, offset 0.",
        ),
        (
            json!([{ "dataSize": 1 }, { "dataSize": 2 }, { "dataSize": 3 }, { "dataSize": 4 }, { "dataSize": 5 }]),
            "Too many filters provided; max 4",
        ),
    ];
    for (filters, message) in cases {
        assert_eq!(
            rpc.err("getProgramAccounts", json!([pid, { "filters": filters }]))
                .await,
            json!({ "code": -32602, "message": message }),
            "{filters}"
        );
    }
}

// ---- getTransaction ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_transaction_json_and_base64_with_program_events() {
    let rpc = Rpc::start().await;
    let op = Operator::new(&rpc).await;
    let host = Pubkey::new_unique();
    let session = sid(20);
    let (room, sig) = op.create_room(&rpc, &session, &host).await;

    let t = rpc.ok("getTransaction", json!([sig, "json"])).await;
    assert_eq!(keys(&t), ["blockTime", "meta", "slot", "transaction"]);
    assert!(t["slot"].is_u64());
    assert!(t["blockTime"].as_i64().unwrap() > 1_700_000_000);
    let meta = &t["meta"];
    assert_eq!(meta["err"], Value::Null);
    assert_eq!(meta["status"], json!({ "Ok": null }));
    assert_eq!(meta["fee"], 5_000);
    let registrar_before = meta["preBalances"][0].as_u64().unwrap();
    let registrar_after = meta["postBalances"][0].as_u64().unwrap();
    assert_eq!(
        registrar_before - registrar_after,
        5_000 + rent(ROOM_LEN as u64)
    );
    let logs: Vec<String> = meta["logMessages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    let pid = program_id();
    assert_eq!(logs.first().unwrap(), &format!("Program {pid} invoke [1]"));
    assert_eq!(logs.last().unwrap(), &format!("Program {pid} success"));
    assert!(logs.contains(&"Program 11111111111111111111111111111111 invoke [2]".to_string()));
    let data_lines: Vec<&String> = logs
        .iter()
        .filter(|l| l.starts_with("Program data: "))
        .collect();
    assert_eq!(data_lines.len(), 1, "{logs:?}");
    let event = B64
        .decode(&data_lines[0]["Program data: ".len()..])
        .unwrap();
    assert_eq!(&event[..8], roomcast::RoomCreated::DISCRIMINATOR);
    let created = roomcast::RoomCreated::deserialize(&mut &event[8..]).unwrap();
    assert_eq!(created.registry, op.registry);
    assert_eq!(created.room, room);
    assert_eq!(created.session_id, session);
    assert_eq!(created.host, host);
    assert_eq!(created.payer, op.registrar.pubkey());
    assert_eq!(created.ingest_url, INGEST);
    assert_eq!(created.title, format!("Room {session}"));
    assert!(created.created_at > 1_700_000_000);

    let tx = &t["transaction"];
    assert_eq!(tx["signatures"], json!([sig]));
    let msg = &tx["message"];
    assert_eq!(
        msg["header"],
        json!({ "numRequiredSignatures": 1, "numReadonlySignedAccounts": 0, "numReadonlyUnsignedAccounts": 2 })
    );
    assert_eq!(msg["accountKeys"][0], op.registrar.pubkey().to_string());
    assert_eq!(msg["instructions"].as_array().unwrap().len(), 1);
    assert!(msg["recentBlockhash"].is_string());

    // base64: the exact wire transaction; with a max version, "version" appears.
    let t64 = rpc
        .ok(
            "getTransaction",
            json!([sig, { "encoding": "base64", "maxSupportedTransactionVersion": 0, "commitment": "confirmed" }]),
        )
        .await;
    assert_eq!(t64["version"], "legacy");
    assert_eq!(t64["transaction"][1], "base64");
    let wire = B64.decode(t64["transaction"][0].as_str().unwrap()).unwrap();
    let decoded: solana_transaction::versioned::VersionedTransaction =
        bincode::deserialize(&wire).unwrap();
    assert_eq!(decoded.signatures[0].to_string(), sig);
    assert_eq!(t64["meta"], t["meta"]);

    // Unknown signature: null.
    let unknown = Keypair::new().sign_message(b"x").to_string();
    assert_eq!(
        rpc.ok("getTransaction", json!([unknown])).await,
        Value::Null
    );
    assert_eq!(
        rpc.err("getTransaction", json!([sig, { "encoding": "hex" }]))
            .await["code"],
        -32602
    );
}

// ---- history by address (tips are found this way) ---------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_signatures_for_address_pages_newest_first_with_memos() {
    let rpc = Rpc::start().await;
    let payer = rpc.funded().await;
    let watched = Pubkey::new_unique();
    let memo_program: Pubkey = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"
        .parse()
        .unwrap();
    let mut sent = Vec::new();
    for i in 0..3u64 {
        let transfer = transfer(&payer.pubkey(), &watched, 1_000_000 + i);
        let memo = Instruction {
            program_id: memo_program,
            accounts: vec![],
            data: format!("note {i}").into_bytes(),
        };
        sent.push(rpc.send_ok(&[transfer, memo], &[&payer]).await);
    }
    let all = rpc
        .ok("getSignaturesForAddress", json!([watched.to_string()]))
        .await;
    let listed: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["signature"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        vec![sent[2].as_str(), sent[1].as_str(), sent[0].as_str()]
    );
    let newest = &all[0];
    assert_eq!(newest["memo"], "[6] note 2");
    assert_eq!(newest["err"], Value::Null);
    assert_eq!(newest["confirmationStatus"], "finalized");
    assert!(newest["slot"].as_u64().unwrap() > all[2]["slot"].as_u64().unwrap());
    assert!(newest["blockTime"].as_i64().unwrap() > 0);
    // before/until are exclusive; limit bounds the page.
    let page = rpc
        .ok(
            "getSignaturesForAddress",
            json!([watched.to_string(), {"before": sent[2], "limit": 1}]),
        )
        .await;
    assert_eq!(page[0]["signature"], sent[1]);
    assert_eq!(page.as_array().unwrap().len(), 1);
    let page = rpc
        .ok(
            "getSignaturesForAddress",
            json!([watched.to_string(), {"until": sent[0]}]),
        )
        .await;
    assert_eq!(page.as_array().unwrap().len(), 2);
    // The payer's history has its airdrop too; an address nobody used has none.
    let payer_history = rpc
        .ok(
            "getSignaturesForAddress",
            json!([payer.pubkey().to_string()]),
        )
        .await;
    assert_eq!(payer_history.as_array().unwrap().len(), 4);
    let nobody = rpc
        .ok(
            "getSignaturesForAddress",
            json!([Pubkey::new_unique().to_string()]),
        )
        .await;
    assert_eq!(nobody, json!([]));
    // Refusals.
    for limit in [0, 1001] {
        let err = rpc
            .err(
                "getSignaturesForAddress",
                json!([watched.to_string(), {"limit": limit}]),
            )
            .await;
        assert_eq!(
            err,
            json!({"code": -32602, "message": "Invalid limit; max 1000"})
        );
    }
    let err = rpc
        .err("getSignaturesForAddress", json!(["not-a-key"]))
        .await;
    assert_eq!(err["code"], -32602, "{err}");
    let err = rpc
        .err(
            "getSignaturesForAddress",
            json!([watched.to_string(), {"before": "not-a-signature"}]),
        )
        .await;
    assert_eq!(err["code"], -32602, "{err}");
    // The deprecated getRecentBlockhash (web3.js 1.x) answers the newest blockhash and the fee.
    let recent = rpc.ok("getRecentBlockhash", json!([])).await;
    assert_eq!(
        recent["value"]["feeCalculator"]["lamportsPerSignature"],
        5_000
    );
    let hash: Hash = recent["value"]["blockhash"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let valid = rpc.ok("isBlockhashValid", json!([hash.to_string()])).await;
    assert_eq!(valid["value"], true);
}
