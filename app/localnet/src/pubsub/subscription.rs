//! One subscription: its parsed parameters, which events it matches, and the notification it sends,
//! in the shapes and encodings of Agave's `rpc_pubsub` (`accountNotification`, `programNotification`, …).
use serde_json::{json, Value};
use solana_account::{AccountSharedData, ReadableAccount};
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction_error::TransactionError;

use crate::events::{ChainEvent, TxEvent};
use crate::wire::encoding::{encode_account, Filter};
use crate::wire::params::{Commitment, DataSlice, Params};
use crate::wire::RpcError;

/// Largest account data encoded as base58 (Agave's `MAX_BASE58_BYTES`).
const MAX_BASE58_BYTES: usize = 128;
const ENCODINGS: [&str; 5] = ["binary", "base58", "base64", "base64+zstd", "jsonParsed"];

pub enum Kind {
    Account {
        pubkey: Pubkey,
        encoding: String,
        slice: Option<DataSlice>,
    },
    Program {
        program: Pubkey,
        encoding: String,
        slice: Option<DataSlice>,
        filters: Vec<Filter>,
    },
    Logs {
        mentions: Option<Pubkey>,
    },
    Signature {
        signature: Signature,
        received: bool,
    },
    Slot,
    Root,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AccountSubConfig {
    #[allow(dead_code)]
    commitment: Option<Commitment>,
    encoding: Option<String>,
    data_slice: Option<DataSlice>,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ProgramSubConfig {
    #[allow(dead_code)]
    commitment: Option<Commitment>,
    encoding: Option<String>,
    data_slice: Option<DataSlice>,
    filters: Option<Vec<Value>>,
    #[allow(dead_code)]
    with_context: Option<bool>,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct LogsSubConfig {
    #[allow(dead_code)]
    commitment: Option<Commitment>,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SignatureSubConfig {
    #[allow(dead_code)]
    commitment: Option<Commitment>,
    enable_received_notification: Option<bool>,
}

/// `Invalid Request: Invalid pubkey provided`, as Agave's pubsub words a malformed parameter.
fn invalid(thing: &str) -> RpcError {
    RpcError::invalid_params(format!("Invalid Request: Invalid {thing} provided"))
}

fn pubkey(p: &Params, index: usize) -> Result<Pubkey, RpcError> {
    p.string(index, "pubkey")?
        .parse()
        .map_err(|_| invalid("pubkey"))
}

fn encoding(requested: Option<String>) -> Result<String, RpcError> {
    let encoding = requested.unwrap_or_else(|| "binary".into());
    if !ENCODINGS.contains(&encoding.as_str()) {
        return Err(RpcError::bad_params(format!(
            "unknown variant `{encoding}`, expected one of `binary`, `base58`, `base64`, `jsonParsed`, `base64+zstd`"
        )));
    }
    Ok(encoding)
}

/// The subscription kinds served (`<name>Subscribe` / `<name>Unsubscribe`).
const NAMES: [&str; 6] = ["account", "program", "logs", "signature", "slot", "root"];

impl Kind {
    pub fn parse_name(name: &str) -> Option<&'static str> {
        NAMES.iter().find(|n| **n == name).copied()
    }

    /// Parses `<name>Subscribe` params; commitment is validated (every level is final here at once).
    pub fn parse(name: &str, p: &Params) -> Result<Kind, RpcError> {
        Ok(match name {
            "account" => {
                let pubkey = pubkey(p, 0)?;
                let config: AccountSubConfig = p.config(1)?;
                Kind::Account {
                    pubkey,
                    encoding: encoding(config.encoding)?,
                    slice: config.data_slice,
                }
            }
            "program" => {
                let program = pubkey(p, 0)?;
                let config: ProgramSubConfig = p.config(1)?;
                let filters = config
                    .filters
                    .unwrap_or_default()
                    .iter()
                    .map(Filter::parse)
                    .collect::<Result<Vec<_>, _>>()?;
                Kind::Program {
                    program,
                    encoding: encoding(config.encoding)?,
                    slice: config.data_slice,
                    filters,
                }
            }
            "logs" => {
                let filter = p.required(0, "filter")?;
                let mentions = match filter {
                    Value::String(s) if s == "all" || s == "allWithVotes" => None,
                    Value::Object(o) if o.contains_key("mentions") => {
                        let keys = o["mentions"].as_array().ok_or_else(|| {
                            RpcError::bad_params("mentions must be an array of strings")
                        })?;
                        if keys.len() != 1 {
                            return Err(RpcError::invalid_params(
                                "Invalid Request: Only 1 address supported",
                            ));
                        }
                        let key = keys[0]
                            .as_str()
                            .and_then(|k| k.parse().ok())
                            .ok_or_else(|| invalid("mentions"))?;
                        Some(key)
                    }
                    other => {
                        return Err(RpcError::bad_params(format!(
                            "unknown logs filter {other}, expected `all`, `allWithVotes` or {{\"mentions\":[...]}}"
                        )))
                    }
                };
                let _config: LogsSubConfig = p.config(1)?;
                Kind::Logs { mentions }
            }
            "signature" => {
                let signature = p
                    .string(0, "signature")?
                    .parse()
                    .map_err(|_| invalid("signature"))?;
                let config: SignatureSubConfig = p.config(1)?;
                Kind::Signature {
                    signature,
                    received: config.enable_received_notification.unwrap_or(false),
                }
            }
            "slot" => Kind::Slot,
            "root" => Kind::Root,
            _ => return Err(RpcError::method_not_found()),
        })
    }

    pub fn notification_method(&self) -> &'static str {
        match self {
            Kind::Account { .. } => "accountNotification",
            Kind::Program { .. } => "programNotification",
            Kind::Logs { .. } => "logsNotification",
            Kind::Signature { .. } => "signatureNotification",
            Kind::Slot => "slotNotification",
            Kind::Root => "rootNotification",
        }
    }

    /// The notification results this event produces for this subscription (usually none or one).
    pub fn results(&self, event: &ChainEvent) -> Vec<Value> {
        match (self, event) {
            (Kind::Slot, ChainEvent::Slot { slot, parent }) => {
                // Everything is final at once here: the new slot is also the root.
                vec![json!({ "parent": parent, "root": slot, "slot": slot })]
            }
            (Kind::Root, ChainEvent::Slot { slot, .. }) => vec![json!(slot)],
            (
                Kind::Account {
                    pubkey,
                    encoding,
                    slice,
                },
                ChainEvent::Transaction(tx),
            ) => tx
                .written
                .iter()
                .filter(|(k, _)| k == pubkey)
                .map(|(_, a)| context(tx.slot, account_json(a, encoding, slice.as_ref())))
                .collect(),
            (
                Kind::Program {
                    program,
                    encoding,
                    slice,
                    filters,
                },
                ChainEvent::Transaction(tx),
            ) => tx
                .written
                .iter()
                .filter(|(_, a)| a.owner() == program && a.lamports() > 0)
                .filter(|(_, a)| filters.iter().all(|f| f.matches(a.data())))
                .map(|(k, a)| {
                    context(
                        tx.slot,
                        json!({
                            "pubkey": k.to_string(),
                            "account": account_json(a, encoding, slice.as_ref()),
                        }),
                    )
                })
                .collect(),
            (Kind::Logs { mentions }, ChainEvent::Transaction(tx)) => {
                if mentions.is_some_and(|m| !tx.keys.contains(&m)) {
                    return Vec::new();
                }
                vec![logs_result(tx)]
            }
            (
                Kind::Signature {
                    signature,
                    received,
                },
                ChainEvent::Transaction(tx),
            ) if tx.signature == *signature => {
                let mut results = Vec::new();
                if *received {
                    results.push(context(tx.slot, json!("receivedSignature")));
                }
                results.push(signature_result(tx.slot, &tx.err));
                results
            }
            _ => Vec::new(),
        }
    }

    /// `signatureSubscribe` is a one-shot subscription: removed once its final notification is sent.
    pub fn is_one_shot(&self) -> bool {
        matches!(self, Kind::Signature { .. })
    }
}

fn context(slot: u64, value: Value) -> Value {
    json!({ "context": { "slot": slot }, "value": value })
}

pub fn signature_result(slot: u64, err: &Option<TransactionError>) -> Value {
    context(slot, json!({ "err": err }))
}

fn logs_result(tx: &TxEvent) -> Value {
    context(
        tx.slot,
        json!({
            "signature": tx.signature.to_string(),
            "err": tx.err,
            "logs": tx.logs,
        }),
    )
}

/// An account as `UiAccount`: like `getAccountInfo`, except that data too large for base58 is
/// replaced by Agave's error text instead of failing the notification.
fn account_json(account: &AccountSharedData, encoding: &str, slice: Option<&DataSlice>) -> Value {
    let len = match slice {
        Some(s) => account.data().len().saturating_sub(s.offset).min(s.length),
        None => account.data().len(),
    };
    if matches!(encoding, "binary" | "base58") && len > MAX_BASE58_BYTES {
        let text = "error: data too large for bs58 encoding";
        let data = if encoding == "binary" {
            json!(text)
        } else {
            json!([text, "base58"])
        };
        return json!({
            "lamports": account.lamports(),
            "owner": account.owner().to_string(),
            "data": data,
            "executable": account.executable(),
            "rentEpoch": account.rent_epoch(),
            "space": account.data().len(),
        });
    }
    encode_account(account, Some(encoding), slice).unwrap_or(Value::Null)
}
