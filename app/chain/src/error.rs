use anchor_client::ClientError;
use solana_instruction::error::InstructionError;
use solana_transaction_error::TransactionError;

use crate::redact::redact_urls_in;

/// What can go wrong talking to the roomcast program.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The program (or a program it called) refused the instruction.
    #[error("program error {name} ({code}): {message}")]
    Program {
        code: u32,
        name: String,
        message: String,
    },
    /// The transaction failed for a reason other than a program error (fees, blockhash, ...).
    #[error("transaction failed: {0}")]
    Transaction(String),
    /// The account does not exist or is not a roomcast account of that type.
    #[error("account {0} not found")]
    AccountNotFound(String),
    /// The RPC node could not be reached before anything was sent: the transaction surely did not land.
    #[error("rpc node unreachable (nothing was sent): {0}")]
    Unreachable(String),
    /// The RPC node could not be reached or answered with an error.
    #[error("rpc error: {0}")]
    Rpc(String),
    /// The transaction was sent but not confirmed within the wait bound.
    #[error("transaction not confirmed within {0:?}")]
    ConfirmationTimeout(std::time::Duration),
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

impl ChainError {
    /// The program error name (`NotHostOrRegistrar`, `RoomEnded`, ...) when this is one.
    pub fn program_error_name(&self) -> Option<&str> {
        match self {
            ChainError::Program { name, .. } => Some(name),
            _ => None,
        }
    }

    /// True when a sent transaction may or may not have landed (the caller should look it up).
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            ChainError::Rpc(_) | ChainError::ConfirmationTimeout(_)
        )
    }

    /// [`ChainError::Rpc`] from a transport error, whose text may carry the RPC URL and the API
    /// key in it (`error sending request for url (…)`): redacted here, once for every caller.
    pub(crate) fn rpc(e: impl std::fmt::Display) -> Self {
        ChainError::Rpc(redact_urls_in(&e.to_string()))
    }

    /// [`ChainError::Unreachable`], redacted like [`ChainError::rpc`].
    pub(crate) fn unreachable(e: impl std::fmt::Display) -> Self {
        ChainError::Unreachable(redact_urls_in(&e.to_string()))
    }

    pub(crate) fn from_client(err: ClientError) -> Self {
        match err {
            ClientError::SolanaClientError(e) => match e.get_transaction_error() {
                Some(tx_err) => Self::from_transaction_error(&tx_err),
                None => ChainError::rpc(e),
            },
            ClientError::AccountNotFound => ChainError::AccountNotFound("account".into()),
            ClientError::AnchorError(e) => ChainError::InvalidInput(e.to_string()),
            ClientError::ProgramError(e) => ChainError::Transaction(e.to_string()),
            other => ChainError::rpc(other),
        }
    }

    pub(crate) fn from_transaction_error(err: &TransactionError) -> Self {
        match err {
            TransactionError::InstructionError(_, InstructionError::Custom(code)) => {
                let (name, message) = describe_custom_error(*code);
                ChainError::Program {
                    code: *code,
                    name,
                    message,
                }
            }
            other => ChainError::Transaction(other.to_string()),
        }
    }
}

/// Names a custom error code: roomcast's own (6000+), anchor's framework codes, or the system
/// program's (raised by `init` when the account already exists).
fn describe_custom_error(code: u32) -> (String, String) {
    if let Some(e) = roomcast::RoomcastError::from_code(code) {
        return (e.name(), e.to_string());
    }
    let (name, message) = match code {
        0 => (
            "AccountAlreadyInUse",
            "an account with this address already exists",
        ),
        1 => ("ResultWithNegativeLamports", "insufficient lamports"),
        100 => (
            "InstructionMissing",
            "8 byte instruction identifier not provided",
        ),
        101 => (
            "InstructionFallbackNotFound",
            "fallback functions are not supported",
        ),
        102 => (
            "InstructionDidNotDeserialize",
            "the program could not deserialize the given instruction",
        ),
        2000 => ("ConstraintMut", "a mut constraint was violated"),
        2001 => ("ConstraintHasOne", "a has one constraint was violated"),
        2002 => ("ConstraintSigner", "a signer constraint was violated"),
        2003 => ("ConstraintRaw", "a raw constraint was violated"),
        2006 => ("ConstraintSeeds", "a seeds constraint was violated"),
        3001 => (
            "AccountDiscriminatorNotFound",
            "no 8 byte discriminator was found on the account",
        ),
        3002 => (
            "AccountDiscriminatorMismatch",
            "8 byte discriminator did not match what was expected",
        ),
        3003 => (
            "AccountDidNotDeserialize",
            "failed to deserialize the account",
        ),
        3007 => (
            "AccountOwnedByWrongProgram",
            "the given account is owned by a different program than expected",
        ),
        3010 => ("AccountNotSigner", "the given account did not sign"),
        3012 => (
            "AccountNotInitialized",
            "the program expected this account to be already initialized",
        ),
        _ => ("Custom", "unknown custom program error"),
    };
    (name.to_string(), message.to_string())
}
