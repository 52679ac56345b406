//! The port of Sign-In With Solana state (`guard::sign_in`): spent nonces (issuing one stores
//! nothing: nonces are stateless, see `guard::sign_in`), and open sessions under the hash of their
//! token.
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::store::StoreError;

/// What the wallet's `solana:signIn` is given (`SolanaSignInInput`); the server issued every field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignInInput {
    pub domain: String,
    pub statement: String,
    pub uri: String,
    pub version: String,
    pub nonce: String,
    pub issued_at: String,
    pub expiration_time: String,
}

impl SignInInput {
    /// The SIWS message text for `address` (`createSignInMessageText` of the wallet standard).
    pub fn message(&self, address: &str) -> String {
        format!(
            "{} wants you to sign in with your Solana account:\n{address}\n\n{}\n\nURI: {}\nVersion: {}\nNonce: {}\nIssued At: {}\nExpiration Time: {}",
            self.domain, self.statement, self.uri, self.version, self.nonce, self.issued_at, self.expiration_time
        )
    }
}

/// An open session (stored under the SHA-256 of its token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Base58.
    pub wallet: String,
    /// Unix seconds.
    pub expires: i64,
}

/// Where spent nonces and sessions are kept. Shaped for Redis: `SET NX EX`, `SET EX`, `GET`, `DEL`.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Marks `nonce` spent for `ttl` (until it expires anyway); `false` if it already was
    /// (atomically: of two concurrent redemptions one wins).
    async fn spend_nonce(&self, nonce: &str, ttl: Duration) -> Result<bool, StoreError>;
    /// Stores a session under the hash of its token for `ttl`.
    async fn put_session(
        &self,
        hash: &[u8; 32],
        session: Session,
        ttl: Duration,
    ) -> Result<(), StoreError>;
    async fn get_session(&self, hash: &[u8; 32]) -> Result<Option<Session>, StoreError>;
    async fn remove_session(&self, hash: &[u8; 32]) -> Result<(), StoreError>;
}
