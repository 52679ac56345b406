//! One function per JSON-RPC method. Each runs as a single job on the chain thread, so every
//! response is consistent with the slot in its context.
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde_json::{json, Value};
use solana_message::VersionedMessage;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;

use bincode::Options;

use super::{RpcState, API_VERSION};
use crate::chain::{LocalChain, TxFailure, SLOTS_PER_EPOCH};
use crate::wire::encoding::{
    decode_transaction, encode_account, transaction_json, Filter, PACKET_DATA_SIZE,
};
use crate::wire::params::*;
use crate::wire::token;
use crate::wire::RpcError;

/// Largest airdrop granted at once: plenty for development, not a way to mint the faucet dry.
const MAX_AIRDROP_LAMPORTS: u64 = 1_000 * 1_000_000_000;

/// Method names counted by [`crate::rpc::MethodCalls`].
pub const KNOWN: &[&str] = &[
    "getAccountInfo",
    "getMultipleAccounts",
    "getProgramAccounts",
    "getSlot",
    "getLatestBlockhash",
    "sendTransaction",
    "getSignatureStatuses",
    "getTransaction",
    "getSignaturesForAddress",
    "getBalance",
];

pub async fn dispatch(state: &RpcState, method: &str, params: Value) -> Result<Value, RpcError> {
    state.calls.count(method);
    let p = Params::new(params)?;
    let method = method.to_string();
    // Parsing happens on the chain thread too; it is cheap and keeps handlers in one place.
    state
        .chain
        .call(move |chain| call(chain, &method, &p))
        .await?
}

fn call(chain: &mut LocalChain, method: &str, p: &Params) -> Result<Value, RpcError> {
    match method {
        "getHealth" => Ok(json!("ok")),
        "getVersion" => Ok(json!({ "solana-core": API_VERSION, "feature-set": 0 })),
        "getGenesisHash" => Ok(json!(chain.genesis_hash().to_string())),
        "getIdentity" => Ok(json!({ "identity": chain.faucet_pubkey().to_string() })),
        "getSlot" => {
            check_min_slot(chain, p.config::<CommitmentConfig>(0)?.min_context_slot)?;
            Ok(json!(chain.slot()))
        }
        "getBlockHeight" => {
            check_min_slot(chain, p.config::<CommitmentConfig>(0)?.min_context_slot)?;
            Ok(json!(chain.block_height()))
        }
        "getTransactionCount" => Ok(json!(chain.transaction_count())),
        "getFirstAvailableBlock" => Ok(json!(0)),
        "getEpochInfo" => {
            let slot = chain.slot();
            Ok(json!({
                "absoluteSlot": slot,
                "blockHeight": chain.block_height(),
                "epoch": slot / SLOTS_PER_EPOCH,
                "slotIndex": slot % SLOTS_PER_EPOCH,
                "slotsInEpoch": SLOTS_PER_EPOCH,
                "transactionCount": chain.transaction_count(),
            }))
        }
        "getLatestBlockhash" => {
            check_min_slot(chain, p.config::<CommitmentConfig>(0)?.min_context_slot)?;
            let (hash, last_valid) = chain.latest_blockhash();
            Ok(with_context(
                chain,
                json!({ "blockhash": hash.to_string(), "lastValidBlockHeight": last_valid }),
            ))
        }
        // Deprecated (gone from Agave 2), but web3.js 1.x's `getRecentBlockhash` still sends it, and
        // `@solana/actions`' `fetchTransaction` calls that for a transaction only `account` signs.
        "getRecentBlockhash" => {
            let (hash, _) = chain.latest_blockhash();
            Ok(with_context(
                chain,
                json!({
                    "blockhash": hash.to_string(),
                    "feeCalculator": { "lamportsPerSignature": crate::chain::LAMPORTS_PER_SIGNATURE },
                }),
            ))
        }
        "isBlockhashValid" => {
            let hash = parse_hash(p.string(0, "blockhash")?)?;
            check_min_slot(chain, p.config::<CommitmentConfig>(1)?.min_context_slot)?;
            Ok(with_context(chain, json!(chain.is_blockhash_valid(&hash))))
        }
        "getBalance" => {
            let address = p.pubkey(0)?;
            check_min_slot(chain, p.config::<CommitmentConfig>(1)?.min_context_slot)?;
            let lamports = chain
                .account(&address)
                .map(|a| solana_account::ReadableAccount::lamports(&a))
                .unwrap_or(0);
            Ok(with_context(chain, json!(lamports)))
        }
        "getMinimumBalanceForRentExemption" => {
            let size = p
                .get(0)
                .map(|_| p.u64(0, "data length"))
                .transpose()?
                .unwrap_or(0);
            Ok(json!(
                chain.minimum_balance_for_rent_exemption(size as usize)
            ))
        }
        "getAccountInfo" => {
            let address = p.pubkey(0)?;
            let config: AccountConfig = p.config(1)?;
            check_min_slot(chain, config.min_context_slot)?;
            let value = chain
                .account(&address)
                .map(|a| encode(chain, &a, &config))
                .transpose()?;
            Ok(with_context(chain, value.unwrap_or(Value::Null)))
        }
        "getMultipleAccounts" => {
            let keys = p
                .required(0, "pubkeys")?
                .as_array()
                .ok_or_else(|| RpcError::bad_params("pubkeys must be an array"))?;
            if keys.len() > 100 {
                return Err(RpcError::invalid_params(
                    "Too many inputs provided; max 100",
                ));
            }
            let config: AccountConfig = p.config(1)?;
            check_min_slot(chain, config.min_context_slot)?;
            let mut values = Vec::with_capacity(keys.len());
            for key in keys {
                let key = parse_pubkey(
                    key.as_str()
                        .ok_or_else(|| RpcError::bad_params("pubkey must be a string"))?,
                )?;
                values.push(match chain.account(&key) {
                    Some(a) => {
                        encode_account(&a, config.encoding.as_deref(), config.data_slice.as_ref())?
                    }
                    None => Value::Null,
                });
            }
            Ok(with_context(chain, Value::Array(values)))
        }
        "getProgramAccounts" => get_program_accounts(chain, p),
        "getTokenAccountsByOwner" => get_token_accounts_by_owner(chain, p),
        // Errors in agave's order of checks (rpc.rs): the account, its owner, its layout, then
        // the mint's.
        "getTokenAccountBalance" => {
            let address = p.pubkey(0)?;
            check_min_slot(chain, p.config::<CommitmentConfig>(1)?.min_context_slot)?;
            let found = chain
                .account(&address)
                .ok_or_else(|| invalid_param("could not find account"))?;
            let account =
                token::token_account(&found).ok_or_else(|| invalid_param("not a Token account"))?;
            let mint = mint_layout(chain, &account.mint)?;
            Ok(with_context(
                chain,
                token::ui_amount(account.amount, mint.decimals),
            ))
        }
        "getTokenSupply" => {
            let address = p.pubkey(0)?;
            check_min_slot(chain, p.config::<CommitmentConfig>(1)?.min_context_slot)?;
            let found = chain
                .account(&address)
                .ok_or_else(|| invalid_param("could not find account"))?;
            if !token::is_token_program(solana_account::ReadableAccount::owner(&found)) {
                return Err(invalid_param("not a Token mint"));
            }
            let mint =
                token::mint(&found).ok_or_else(|| invalid_param("mint could not be unpacked"))?;
            Ok(with_context(
                chain,
                token::ui_amount(mint.supply, mint.decimals),
            ))
        }
        "requestAirdrop" => {
            let to = p.pubkey(0)?;
            let lamports = p.u64(1, "lamports")?;
            if lamports == 0 || lamports > MAX_AIRDROP_LAMPORTS {
                return Err(RpcError::invalid_params(format!(
                    "airdrop must be between 1 and {MAX_AIRDROP_LAMPORTS} lamports"
                )));
            }
            let signature = chain
                .airdrop(&to, lamports)
                .map_err(|f| preflight_error(&f))?;
            Ok(json!(signature.to_string()))
        }
        "getFeeForMessage" => {
            let raw = B64
                .decode(p.string(0, "message")?)
                .map_err(|e| RpcError::invalid_params(format!("invalid base64 encoding: {e:?}")))?;
            let message: VersionedMessage = bincode::options()
                .with_limit(PACKET_DATA_SIZE as u64)
                .with_fixint_encoding()
                .allow_trailing_bytes()
                .deserialize_from(&raw[..])
                .map_err(|e| {
                    RpcError::invalid_params(format!(
                        "failed to deserialize solana_message::versioned::VersionedMessage: {e}"
                    ))
                })?;
            message.sanitize().map_err(|_| {
                RpcError::invalid_params(format!(
                    "invalid transaction message: {}",
                    TransactionError::SanitizeFailure
                ))
            })?;
            let fee = chain
                .is_blockhash_valid(message.recent_blockhash())
                .then(|| chain.fee_for_message(&message));
            Ok(with_context(chain, json!(fee)))
        }
        "sendTransaction" => send_transaction(chain, p),
        "simulateTransaction" => simulate_transaction(chain, p),
        "getSignatureStatuses" => {
            let sigs = p
                .required(0, "signatures")?
                .as_array()
                .ok_or_else(|| RpcError::bad_params("signatures must be an array"))?;
            if sigs.len() > 256 {
                return Err(RpcError::invalid_params(
                    "Too many inputs provided; max 256",
                ));
            }
            let _config: SignatureStatusConfig = p.config(1)?;
            let mut statuses = Vec::with_capacity(sigs.len());
            for sig in sigs {
                let sig = parse_signature(
                    sig.as_str()
                        .ok_or_else(|| RpcError::bad_params("signature must be a string"))?,
                )?;
                statuses.push(match chain.tx(&sig) {
                    Some(record) => json!({
                        "slot": record.slot,
                        "confirmations": null,
                        "err": record.err,
                        "status": status_json(&record.err),
                        "confirmationStatus": "finalized",
                    }),
                    None => Value::Null,
                });
            }
            Ok(with_context(chain, Value::Array(statuses)))
        }
        "getTransaction" => get_transaction(chain, p),
        "getSignaturesForAddress" => get_signatures_for_address(chain, p),
        "getRecentPrioritizationFees" => Ok(json!([])),
        _ => Err(RpcError::method_not_found()),
    }
}

fn invalid_param(detail: &str) -> RpcError {
    RpcError::new(RpcError::INVALID_PARAMS, format!("Invalid param: {detail}"))
}

fn mint_decimals(chain: &LocalChain, mint: &solana_pubkey::Pubkey) -> Option<u8> {
    chain
        .account(mint)
        .and_then(|a| token::mint(&a))
        .map(|m| m.decimals)
}

/// The mint a token RPC names, with agave's errors (`get_mint_owner_and_additional_data`): none
/// there, or not laid out as a mint.
fn mint_layout(chain: &LocalChain, mint: &solana_pubkey::Pubkey) -> Result<token::Mint, RpcError> {
    let account = chain
        .account(mint)
        .ok_or_else(|| invalid_param("could not find mint"))?;
    token::mint(&account).ok_or_else(|| invalid_param("Token mint could not be unpacked"))
}

/// An account in the asked encoding; `jsonParsed` parses mints and token accounts as validators
/// do (anything else falls back to base64).
fn encode(
    chain: &LocalChain,
    account: &solana_account::AccountSharedData,
    config: &AccountConfig,
) -> Result<Value, RpcError> {
    let mut value = encode_account(
        account,
        config.encoding.as_deref(),
        config.data_slice.as_ref(),
    )?;
    if config.encoding.as_deref() == Some("jsonParsed") && config.data_slice.is_none() {
        if let Some(parsed) = token::parsed(account, |m| mint_decimals(chain, m)) {
            value["data"] = parsed;
        }
    }
    Ok(value)
}

/// `getTokenAccountsByOwner(owner, {mint} | {programId}, config)`: the owner's token accounts of
/// one mint (of either token program) or of one token program, with validators' errors for an
/// unknown mint or a program that is not a token program.
fn get_token_accounts_by_owner(chain: &LocalChain, p: &Params) -> Result<Value, RpcError> {
    let owner = p.pubkey(0)?;
    let filter = p.required(1, "filter")?;
    let key = |field: &str| -> Result<Option<solana_pubkey::Pubkey>, RpcError> {
        filter
            .get(field)
            .and_then(Value::as_str)
            .map(parse_pubkey)
            .transpose()
    };
    let (mint, programs) = match (key("mint")?, key("programId")?) {
        (Some(mint), None) => {
            mint_layout(chain, &mint)?;
            let program = chain
                .account(&mint)
                .map(|a| *solana_account::ReadableAccount::owner(&a))
                .ok_or_else(|| invalid_param("could not find mint"))?;
            (Some(mint), vec![program])
        }
        (None, Some(program)) if token::is_token_program(&program) => (None, vec![program]),
        (None, Some(_)) => return Err(invalid_param("unrecognized Token program id")),
        _ => {
            return Err(RpcError::bad_params(
                "filter must be exactly one of {\"mint\": …} or {\"programId\": …}",
            ))
        }
    };
    let config: AccountConfig = p.config(2)?;
    check_min_slot(chain, config.min_context_slot)?;
    let mut found = Vec::new();
    for program in programs {
        for (address, account) in chain.program_accounts(&program, |_| true) {
            let Some(t) = token::token_account(&account) else {
                continue;
            };
            if t.owner != owner || mint.is_some_and(|m| m != t.mint) {
                continue;
            }
            found.push(json!({
                "pubkey": address.to_string(),
                "account": encode(chain, &account, &config)?,
            }));
        }
    }
    Ok(with_context(chain, Value::Array(found)))
}

fn with_context(chain: &LocalChain, value: Value) -> Value {
    json!({ "context": { "slot": chain.slot(), "apiVersion": API_VERSION }, "value": value })
}

fn check_min_slot(chain: &LocalChain, min: Option<u64>) -> Result<(), RpcError> {
    match min {
        Some(min) if min > chain.slot() => Err(RpcError::new(
            RpcError::MIN_CONTEXT_SLOT_NOT_REACHED,
            "Minimum context slot has not been reached",
        )
        .with_data(json!({ "contextSlot": chain.slot() }))),
        _ => Ok(()),
    }
}

fn status_json(err: &Option<TransactionError>) -> Value {
    match err {
        None => json!({ "Ok": null }),
        Some(e) => json!({ "Err": e }),
    }
}

fn get_program_accounts(chain: &LocalChain, p: &Params) -> Result<Value, RpcError> {
    let program = p.pubkey(0)?;
    let config: ProgramAccountsConfig = p.config(1)?;
    check_min_slot(chain, config.min_context_slot)?;
    let filters = config
        .filters
        .unwrap_or_default()
        .iter()
        .map(Filter::parse)
        .collect::<Result<Vec<_>, _>>()?;
    if filters.len() > 4 {
        return Err(RpcError::invalid_params("Too many filters provided; max 4"));
    }
    let mut found = Vec::new();
    for (address, account) in
        chain.program_accounts(&program, |data| filters.iter().all(|f| f.matches(data)))
    {
        found.push(json!({
            "pubkey": address.to_string(),
            "account": encode_account(&account, config.encoding.as_deref(), config.data_slice.as_ref())?,
        }));
    }
    let list = Value::Array(found);
    Ok(if config.with_context.unwrap_or(false) {
        with_context(chain, list)
    } else {
        list
    })
}

fn send_transaction(chain: &mut LocalChain, p: &Params) -> Result<Value, RpcError> {
    let config: SendConfig = p.config(1)?;
    check_min_slot(chain, config.min_context_slot)?;
    let (tx, _) = decode_transaction(p.string(0, "transaction")?, config.encoding.as_deref())?;
    let signature = *tx
        .signatures
        .first()
        .ok_or_else(|| RpcError::invalid_params("transaction has no signatures"))?;
    sanitize(&tx)?;
    match chain.precheck(&tx, true) {
        Ok(()) => {}
        Err(TransactionError::SignatureFailure) => {
            return Err(RpcError::new(
                RpcError::TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
                "Transaction signature verification failure",
            ))
        }
        Err(err) => {
            return Err(preflight_error(&TxFailure {
                err,
                logs: Vec::new(),
                compute_units: 0,
            }))
        }
    }
    let record_failure = config.skip_preflight.unwrap_or(false);
    chain
        .execute(tx, record_failure)
        .map_err(|failure| preflight_error(&failure))?;
    Ok(json!(signature.to_string()))
}

/// Validators refuse malformed transactions before simulating them: `-32602 invalid transaction: …`.
fn sanitize(tx: &VersionedTransaction) -> Result<(), RpcError> {
    tx.sanitize().map_err(|_| {
        RpcError::invalid_params(format!(
            "invalid transaction: {}",
            TransactionError::SanitizeFailure
        ))
    })
}

/// `-32002` with the simulation result in `data`, as a validator's preflight reports it.
fn preflight_error(failure: &TxFailure) -> RpcError {
    RpcError::new(
        RpcError::SEND_TRANSACTION_PREFLIGHT_FAILURE,
        format!("Transaction simulation failed: {}", failure.err),
    )
    .with_data(simulation_value(
        Some(&failure.err),
        &failure.logs,
        failure.compute_units,
        Value::Null,
        Value::Null,
    ))
}

fn simulation_value(
    err: Option<&TransactionError>,
    logs: &[String],
    units: u64,
    accounts: Value,
    replacement: Value,
) -> Value {
    json!({
        "err": err,
        "logs": logs,
        "accounts": accounts,
        "unitsConsumed": units,
        "returnData": null,
        "innerInstructions": null,
        "replacementBlockhash": replacement,
        "loadedAccountsDataSize": null,
    })
}

fn simulate_transaction(chain: &mut LocalChain, p: &Params) -> Result<Value, RpcError> {
    let config: SimulateConfig = p.config(1)?;
    check_min_slot(chain, config.min_context_slot)?;
    let sig_verify = config.sig_verify.unwrap_or(false);
    let replace = config.replace_recent_blockhash.unwrap_or(false);
    if sig_verify && replace {
        return Err(RpcError::invalid_params(
            "sigVerify may not be used with replaceRecentBlockhash",
        ));
    }
    let (mut tx, _) = decode_transaction(p.string(0, "transaction")?, config.encoding.as_deref())?;
    sanitize(&tx)?;
    let mut replacement = Value::Null;
    if replace {
        let (hash, last_valid) = chain.latest_blockhash();
        set_blockhash(&mut tx, hash);
        replacement = json!({ "blockhash": hash.to_string(), "lastValidBlockHeight": last_valid });
    }
    if sig_verify && tx.verify_and_hash_message().is_err() {
        return Err(RpcError::new(
            RpcError::TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
            "Transaction signature verification failure",
        ));
    }
    if !chain.is_blockhash_valid(tx.message.recent_blockhash()) {
        let value = simulation_value(
            Some(&TransactionError::BlockhashNotFound),
            &[],
            0,
            Value::Null,
            replacement,
        );
        return Ok(with_context(chain, value));
    }
    let requested = config
        .accounts
        .as_ref()
        .map(|a| a.addresses.clone())
        .unwrap_or_default();
    let encoding = config.accounts.as_ref().and_then(|a| a.encoding.clone());
    let value = match chain.simulate(tx) {
        Ok((meta, post)) => {
            let accounts = if config.accounts.is_some() {
                let mut list = Vec::with_capacity(requested.len());
                for address in &requested {
                    let key = parse_pubkey(address)?;
                    let account = post
                        .iter()
                        .find(|(k, _)| *k == key)
                        .map(|(_, a)| a.clone())
                        .or_else(|| chain.account(&key));
                    list.push(match account {
                        Some(a) => {
                            encode_account(&a, encoding.as_deref().or(Some("base64")), None)?
                        }
                        None => Value::Null,
                    });
                }
                Value::Array(list)
            } else {
                Value::Null
            };
            simulation_value(
                None,
                &meta.logs,
                meta.compute_units_consumed,
                accounts,
                replacement,
            )
        }
        Err(failure) => simulation_value(
            Some(&failure.err),
            &failure.logs,
            failure.compute_units,
            Value::Null,
            replacement,
        ),
    };
    Ok(with_context(chain, value))
}

fn set_blockhash(tx: &mut VersionedTransaction, hash: solana_hash::Hash) {
    match &mut tx.message {
        VersionedMessage::Legacy(m) => m.recent_blockhash = hash,
        VersionedMessage::V0(m) => m.recent_blockhash = hash,
        #[allow(unreachable_patterns)]
        _ => {}
    }
}

/// Largest `limit` of `getSignaturesForAddress` (Agave's `MAX_GET_CONFIRMED_SIGNATURES_FOR_ADDRESS2_LIMIT`).
const MAX_SIGNATURES_FOR_ADDRESS: usize = 1_000;

/// The SPL Memo programs whose data `getSignaturesForAddress` shows in `memo`.
const MEMO_PROGRAMS: [solana_pubkey::Pubkey; 2] = [
    solana_pubkey::pubkey!("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"),
    solana_pubkey::pubkey!("Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo"),
];

/// `getSignaturesForAddress`: newest first, `before`/`until` exclusive, as a validator answers from
/// its history (here the node's remembered transactions).
fn get_signatures_for_address(chain: &LocalChain, p: &Params) -> Result<Value, RpcError> {
    let address = p.pubkey(0)?;
    let config: SignaturesForAddressConfig = p.config(1)?;
    check_min_slot(chain, config.min_context_slot)?;
    let limit = config.limit.unwrap_or(MAX_SIGNATURES_FOR_ADDRESS);
    if limit == 0 || limit > MAX_SIGNATURES_FOR_ADDRESS {
        return Err(RpcError::invalid_params(format!(
            "Invalid limit; max {MAX_SIGNATURES_FOR_ADDRESS}"
        )));
    }
    let before = config.before.as_deref().map(parse_signature).transpose()?;
    let until = config.until.as_deref().map(parse_signature).transpose()?;
    let mut listed = Vec::new();
    let mut started = before.is_none();
    for (signature, record) in chain.signatures_for_address(&address) {
        if !started {
            started = Some(*signature) == before;
            continue;
        }
        if Some(*signature) == until || listed.len() == limit {
            break;
        }
        listed.push(json!({
            "signature": signature.to_string(),
            "slot": record.slot,
            "err": record.err,
            "memo": memo_of(&record.transaction),
            "blockTime": record.block_time,
            "confirmationStatus": "finalized",
        }));
    }
    Ok(Value::Array(listed))
}

/// The memos of a transaction as validators show them: `[len] text`, joined by `; `.
fn memo_of(tx: &VersionedTransaction) -> Value {
    let keys = tx.message.static_account_keys();
    let memos: Vec<String> = tx
        .message
        .instructions()
        .iter()
        .filter(|ix| {
            keys.get(ix.program_id_index as usize)
                .is_some_and(|k| MEMO_PROGRAMS.contains(k))
        })
        .map(|ix| {
            let text = String::from_utf8_lossy(&ix.data);
            format!("[{}] {}", text.len(), text)
        })
        .collect();
    if memos.is_empty() {
        Value::Null
    } else {
        json!(memos.join("; "))
    }
}

fn get_transaction(chain: &LocalChain, p: &Params) -> Result<Value, RpcError> {
    let signature = parse_signature(p.string(0, "signature")?)?;
    // The second param may also be the encoding alone (the deprecated form clients still send).
    let config: TransactionConfig = match p.get(1) {
        Some(Value::String(encoding)) => TransactionConfig {
            encoding: Some(encoding.clone()),
            ..TransactionConfig::default()
        },
        _ => p.config(1)?,
    };
    let Some(record) = chain.tx(&signature) else {
        return Ok(Value::Null);
    };
    let version = match &record.transaction.message {
        VersionedMessage::Legacy(_) => json!("legacy"),
        _ => json!(0),
    };
    let is_v0 = !matches!(record.transaction.message, VersionedMessage::Legacy(_));
    if is_v0 && config.max_supported_transaction_version.is_none() {
        return Err(RpcError::new(
            RpcError::UNSUPPORTED_TRANSACTION_VERSION,
            "Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: \"maxSupportedTransactionVersion\": 0",
        ));
    }
    let wire = bincode::serialize(&record.transaction).map_err(RpcError::internal)?;
    let transaction = match config.encoding.as_deref().unwrap_or("json") {
        "json" | "jsonParsed" => transaction_json(&record.transaction),
        "base64" => json!([B64.encode(&wire), "base64"]),
        "base58" => json!([bs58::encode(&wire).into_string(), "base58"]),
        other => return Err(RpcError::bad_params(format!("unknown variant `{other}`, expected one of `binary`, `base64`, `base58`, `json`, `jsonParsed`"))),
    };
    let mut result = json!({
        "slot": record.slot,
        "blockTime": record.block_time,
        "transaction": transaction,
        "meta": {
            "err": record.err,
            "status": status_json(&record.err),
            "fee": record.fee,
            "preBalances": record.pre_balances,
            "postBalances": record.post_balances,
            "innerInstructions": [],
            "logMessages": record.logs,
            "preTokenBalances": [],
            "postTokenBalances": [],
            "rewards": [],
            "loadedAddresses": { "writable": [], "readonly": [] },
            "computeUnitsConsumed": record.compute_units,
        },
    });
    if config.max_supported_transaction_version.is_some() {
        result["version"] = version;
    }
    Ok(result)
}
