//! Account and transaction encodings (`base58`, `base64`, `base64+zstd`, `jsonParsed` fallback)
//! and `getProgramAccounts` filters.
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use bincode::Options;
use serde_json::{json, Value};
use solana_account::{AccountSharedData, ReadableAccount};
use solana_transaction::versioned::VersionedTransaction;

use super::error::RpcError;
use super::params::DataSlice;

/// Largest account data validators encode as base58.
const MAX_BASE58_BYTES: usize = 128;

pub fn encode_account(
    account: &AccountSharedData,
    encoding: Option<&str>,
    slice: Option<&DataSlice>,
) -> Result<Value, RpcError> {
    let full = account.data();
    let data = match slice {
        Some(s) => {
            let start = s.offset.min(full.len());
            let end = s.offset.saturating_add(s.length).min(full.len());
            &full[start..end]
        }
        None => full,
    };
    let encoded = match encoding.unwrap_or("binary") {
        "binary" => {
            check_base58_len(data)?;
            json!(bs58::encode(data).into_string())
        }
        "base58" => {
            check_base58_len(data)?;
            json!([bs58::encode(data).into_string(), "base58"])
        }
        // Nothing here has a JSON parser, so validators' fallback applies: base64.
        "base64" | "jsonParsed" => json!([B64.encode(data), "base64"]),
        "base64+zstd" => {
            let compressed = zstd::bulk::compress(data, 0).map_err(RpcError::internal)?;
            json!([B64.encode(compressed), "base64+zstd"])
        }
        other => return Err(RpcError::bad_params(format!("unknown variant `{other}`, expected one of `binary`, `base58`, `base64`, `jsonParsed`, `base64+zstd`"))),
    };
    Ok(json!({
        "lamports": account.lamports(),
        "owner": account.owner().to_string(),
        "data": encoded,
        "executable": account.executable(),
        "rentEpoch": account.rent_epoch(),
        "space": full.len(),
    }))
}

fn check_base58_len(data: &[u8]) -> Result<(), RpcError> {
    if data.len() > MAX_BASE58_BYTES {
        return Err(RpcError::new(
            RpcError::INVALID_REQUEST,
            "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.",
        ));
    }
    Ok(())
}

/// A parsed `getProgramAccounts` filter.
pub enum Filter {
    DataSize(usize),
    Memcmp { offset: usize, bytes: Vec<u8> },
}

impl Filter {
    pub fn parse(value: &Value) -> Result<Self, RpcError> {
        if let Some(size) = value.get("dataSize") {
            let size = size
                .as_u64()
                .ok_or_else(|| RpcError::invalid_params("dataSize must be an integer"))?;
            return Ok(Filter::DataSize(size as usize));
        }
        if let Some(memcmp) = value.get("memcmp") {
            let offset = memcmp
                .get("offset")
                .and_then(Value::as_u64)
                .ok_or_else(|| RpcError::invalid_params("memcmp.offset must be an integer"))?
                as usize;
            let raw = memcmp
                .get("bytes")
                .and_then(Value::as_str)
                .ok_or_else(|| RpcError::invalid_params("memcmp.bytes must be a string"))?;
            let bytes = match memcmp
                .get("encoding")
                .and_then(Value::as_str)
                .unwrap_or("base58")
            {
                "base58" => {
                    if raw.len() > 175 {
                        return Err(RpcError::invalid_params(
                            "Invalid param: encoded binary data should be less than 129 bytes",
                        ));
                    }
                    bs58::decode(raw).into_vec().map_err(|e| {
                        RpcError::invalid_params(format!("invalid base58 in memcmp: {e}"))
                    })?
                }
                "base64" => B64.decode(raw).map_err(|e| {
                    RpcError::invalid_params(format!("invalid base64 in memcmp: {e}"))
                })?,
                other => {
                    return Err(RpcError::invalid_params(format!(
                        "unknown memcmp encoding `{other}`"
                    )))
                }
            };
            return Ok(Filter::Memcmp { offset, bytes });
        }
        Err(RpcError::invalid_params(format!(
            "unsupported filter: {value}"
        )))
    }

    pub fn matches(&self, data: &[u8]) -> bool {
        match self {
            Filter::DataSize(size) => data.len() == *size,
            Filter::Memcmp { offset, bytes } => data
                .get(*offset..offset.saturating_add(bytes.len()))
                .is_some_and(|window| window == bytes.as_slice()),
        }
    }
}

/// Largest transaction on the wire (`PACKET_DATA_SIZE`).
pub const PACKET_DATA_SIZE: usize = 1232;
/// Longest base58 / base64 text that can hold [`PACKET_DATA_SIZE`] bytes, as validators check it.
const MAX_BASE58_SIZE: usize = 1683;
const MAX_BASE64_SIZE: usize = 1644;
const TRANSACTION_TYPE: &str = "solana_transaction::versioned::VersionedTransaction";

/// Decodes a wire transaction sent as base58 (the default) or base64, with validators' size limits
/// and error messages.
pub fn decode_transaction(
    encoded: &str,
    encoding: Option<&str>,
) -> Result<(VersionedTransaction, Vec<u8>), RpcError> {
    let too_large = |name: &str, max: usize| {
        RpcError::invalid_params(format!(
            "{name} encoded {TRANSACTION_TYPE} too large: {} bytes (max: encoded/raw {max}/{PACKET_DATA_SIZE})",
            encoded.len()
        ))
    };
    let bytes = match encoding.unwrap_or("base58") {
        "base58" => {
            if encoded.len() > MAX_BASE58_SIZE {
                return Err(too_large("base58", MAX_BASE58_SIZE));
            }
            bs58::decode(encoded)
                .into_vec()
                .map_err(|e| RpcError::invalid_params(format!("invalid base58 encoding: {e:?}")))?
        }
        "base64" => {
            if encoded.len() > MAX_BASE64_SIZE {
                return Err(too_large("base64", MAX_BASE64_SIZE));
            }
            B64.decode(encoded)
                .map_err(|e| RpcError::invalid_params(format!("invalid base64 encoding: {e:?}")))?
        }
        other => {
            return Err(RpcError::invalid_params(format!(
                "unsupported encoding: {other}. Supported encodings: base58, base64"
            )))
        }
    };
    if bytes.len() > PACKET_DATA_SIZE {
        return Err(RpcError::invalid_params(format!(
            "decoded {TRANSACTION_TYPE} too large: {} bytes (max: {PACKET_DATA_SIZE} bytes)",
            bytes.len()
        )));
    }
    let tx: VersionedTransaction = bincode::options()
        .with_limit(PACKET_DATA_SIZE as u64)
        .with_fixint_encoding()
        .allow_trailing_bytes()
        .deserialize_from(&bytes[..])
        .map_err(|e| {
            RpcError::invalid_params(format!("failed to deserialize {TRANSACTION_TYPE}: {e}"))
        })?;
    Ok((tx, bytes))
}

/// A transaction in the `json` encoding of `getTransaction`.
pub fn transaction_json(tx: &VersionedTransaction) -> Value {
    let message = &tx.message;
    let header = message.header();
    let instructions: Vec<Value> = message
        .instructions()
        .iter()
        .map(|ix| {
            json!({
                "programIdIndex": ix.program_id_index,
                "accounts": ix.accounts,
                "data": bs58::encode(&ix.data).into_string(),
                "stackHeight": null,
            })
        })
        .collect();
    let mut message_json = json!({
        "accountKeys": message.static_account_keys().iter().map(|k| k.to_string()).collect::<Vec<_>>(),
        "header": {
            "numRequiredSignatures": header.num_required_signatures,
            "numReadonlySignedAccounts": header.num_readonly_signed_accounts,
            "numReadonlyUnsignedAccounts": header.num_readonly_unsigned_accounts,
        },
        "recentBlockhash": message.recent_blockhash().to_string(),
        "instructions": instructions,
    });
    if let Some(lookups) = message.address_table_lookups() {
        message_json["addressTableLookups"] = json!(lookups
            .iter()
            .map(|l| json!({
                "accountKey": l.account_key.to_string(),
                "writableIndexes": l.writable_indexes,
                "readonlyIndexes": l.readonly_indexes,
            }))
            .collect::<Vec<_>>());
    }
    json!({
        "signatures": tx.signatures.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        "message": message_json,
    })
}
