//! The JSON-RPC error object both servers answer with, and how a stopped or busy chain thread
//! reads as one.
use serde_json::{json, Value};

use crate::executor::ChainStopped;

/// A JSON-RPC error with the codes Solana validators use.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL_ERROR: i64 = -32603;
    pub const SEND_TRANSACTION_PREFLIGHT_FAILURE: i64 = -32002;
    pub const TRANSACTION_SIGNATURE_VERIFICATION_FAILURE: i64 = -32003;
    pub const UNSUPPORTED_TRANSACTION_VERSION: i64 = -32015;
    pub const MIN_CONTEXT_SLOT_NOT_REACHED: i64 = -32016;
    /// Validators answer this when they cannot serve (`Node is behind by N slots`).
    pub const NODE_UNHEALTHY: i64 = -32005;

    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub fn parse_error() -> Self {
        Self::new(Self::PARSE_ERROR, "Parse error")
    }

    pub fn invalid_request() -> Self {
        Self::new(Self::INVALID_REQUEST, "Invalid request")
    }

    pub fn method_not_found() -> Self {
        Self::new(Self::METHOD_NOT_FOUND, "Method not found")
    }

    /// `-32602` with `message` as is (validators' own checks: "Too many inputs provided; max 100").
    pub fn invalid_params(message: impl std::fmt::Display) -> Self {
        Self::new(Self::INVALID_PARAMS, message.to_string())
    }

    /// `-32602` for params of the wrong shape, worded as the JSON-RPC server of validators words it
    /// (`Invalid params: invalid type: integer `5`, expected a string.`).
    pub fn bad_params(detail: impl std::fmt::Display) -> Self {
        Self::new(Self::INVALID_PARAMS, format!("Invalid params: {detail}."))
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::new(Self::INTERNAL_ERROR, format!("Internal error: {detail}"))
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    pub fn to_json(&self) -> Value {
        match &self.data {
            Some(data) => json!({ "code": self.code, "message": self.message, "data": data }),
            None => json!({ "code": self.code, "message": self.message }),
        }
    }
}

impl From<ChainStopped> for RpcError {
    fn from(e: ChainStopped) -> Self {
        match e {
            ChainStopped::Busy(_) => {
                RpcError::new(Self::NODE_UNHEALTHY, format!("Node is behind: {e}"))
            }
            ChainStopped::Stopped => RpcError::internal(e),
        }
    }
}
