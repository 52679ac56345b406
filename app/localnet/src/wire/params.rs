//! Positional params and their config objects, parsed with validator-style errors.
use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde_json::Value;
use solana_hash::Hash;
use solana_pubkey::Pubkey;
use solana_signature::Signature;

use super::error::RpcError;

pub struct Params(Vec<Value>);

impl Params {
    pub fn new(params: Value) -> Result<Self, RpcError> {
        match params {
            Value::Null => Ok(Params(Vec::new())),
            Value::Array(items) => Ok(Params(items)),
            _ => Err(RpcError::bad_params("params must be an array")),
        }
    }

    pub fn get(&self, index: usize) -> Option<&Value> {
        self.0.get(index).filter(|v| !v.is_null())
    }

    pub fn required(&self, index: usize, what: &str) -> Result<&Value, RpcError> {
        self.get(index)
            .ok_or_else(|| RpcError::bad_params(format!("missing {what} (param {index})")))
    }

    pub fn string(&self, index: usize, what: &str) -> Result<&str, RpcError> {
        self.required(index, what)?
            .as_str()
            .ok_or_else(|| RpcError::bad_params(format!("{what} must be a string")))
    }

    pub fn u64(&self, index: usize, what: &str) -> Result<u64, RpcError> {
        self.required(index, what)?
            .as_u64()
            .ok_or_else(|| RpcError::bad_params(format!("{what} must be an unsigned integer")))
    }

    pub fn pubkey(&self, index: usize) -> Result<Pubkey, RpcError> {
        parse_pubkey(self.string(index, "pubkey")?)
    }

    /// The config object at `index` (absent → default). Unknown fields are ignored, as validators do.
    pub fn config<T: DeserializeOwned + Default>(&self, index: usize) -> Result<T, RpcError> {
        match self.get(index) {
            None => Ok(T::default()),
            Some(v) => serde_json::from_value(v.clone()).map_err(RpcError::bad_params),
        }
    }
}

/// Validators answer a malformed pubkey, signature or hash with `Invalid param: <parse error>`
/// (`WrongSize` or `Invalid`).
pub fn parse_pubkey(s: &str) -> Result<Pubkey, RpcError> {
    Pubkey::from_str(s).map_err(|e| invalid_param(format!("{e:?}")))
}

pub fn parse_signature(s: &str) -> Result<Signature, RpcError> {
    Signature::from_str(s).map_err(|e| invalid_param(format!("{e:?}")))
}

pub fn parse_hash(s: &str) -> Result<Hash, RpcError> {
    Hash::from_str(s).map_err(|e| invalid_param(format!("{e:?}")))
}

fn invalid_param(detail: String) -> RpcError {
    RpcError::new(RpcError::INVALID_PARAMS, format!("Invalid param: {detail}"))
}

/// `commitment`: accepted as validators accept it; everything here is final at once.
#[derive(serde::Deserialize, Default, Debug, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub enum Commitment {
    Processed,
    Confirmed,
    #[default]
    Finalized,
    // Deprecated names still sent by old clients.
    Recent,
    Single,
    SingleGossip,
    Root,
    Max,
}

#[derive(serde::Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct CommitmentConfig {
    #[allow(dead_code)]
    pub commitment: Option<Commitment>,
    pub min_context_slot: Option<u64>,
}

#[derive(serde::Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct DataSlice {
    pub offset: usize,
    pub length: usize,
}

#[derive(serde::Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct AccountConfig {
    #[allow(dead_code)]
    pub commitment: Option<Commitment>,
    pub encoding: Option<String>,
    pub data_slice: Option<DataSlice>,
    pub min_context_slot: Option<u64>,
}

#[derive(serde::Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ProgramAccountsConfig {
    #[allow(dead_code)]
    pub commitment: Option<Commitment>,
    pub encoding: Option<String>,
    pub data_slice: Option<DataSlice>,
    pub filters: Option<Vec<Value>>,
    pub with_context: Option<bool>,
    pub min_context_slot: Option<u64>,
}

#[derive(serde::Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SendConfig {
    pub skip_preflight: Option<bool>,
    #[allow(dead_code)]
    pub preflight_commitment: Option<Commitment>,
    pub encoding: Option<String>,
    #[allow(dead_code)]
    pub max_retries: Option<usize>,
    pub min_context_slot: Option<u64>,
}

#[derive(serde::Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SimulateAccounts {
    pub encoding: Option<String>,
    pub addresses: Vec<String>,
}

#[derive(serde::Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SimulateConfig {
    pub sig_verify: Option<bool>,
    pub replace_recent_blockhash: Option<bool>,
    #[allow(dead_code)]
    pub commitment: Option<Commitment>,
    pub encoding: Option<String>,
    pub accounts: Option<SimulateAccounts>,
    pub min_context_slot: Option<u64>,
}

#[derive(serde::Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SignatureStatusConfig {
    #[allow(dead_code)]
    pub search_transaction_history: Option<bool>,
}

#[derive(serde::Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct TransactionConfig {
    pub encoding: Option<String>,
    #[allow(dead_code)]
    pub commitment: Option<Commitment>,
    pub max_supported_transaction_version: Option<u8>,
}

#[derive(serde::Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SignaturesForAddressConfig {
    pub limit: Option<usize>,
    pub before: Option<String>,
    pub until: Option<String>,
    #[allow(dead_code)]
    pub commitment: Option<Commitment>,
    pub min_context_slot: Option<u64>,
}
