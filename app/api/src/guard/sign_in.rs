//! Sign-In With Solana: a browser signs in once with its wallet and gets a short-lived session token
//! (`Authorization: Bearer rcs_…`) scoped to that wallet, instead of a wallet prompt per API call.
//!
//! The server issues the whole sign-in input (domain, statement, URI, nonce, issued-at, expiry); the
//! wallet's `solana:signIn` renders it as the SIWS text and signs it.
//!
//! **Nonces are stateless**, so `GET /api/auth/nonce` stores nothing and a flood of them cannot
//! push a real user's nonce out of a store (or fill Redis): a nonce is base58 of its issue and
//! expiry times, 8 random bytes and an HMAC-SHA256 tag (16 bytes) over them, under a key only the
//! server holds (random per process; with replicas derived from the registrar's secret, which
//! every replica has). On sign-in the server checks the tag, marks the nonce spent (single use,
//! whatever the outcome: the spent-set holds a nonce only until its message expires, and grows
//! with sign-in attempts, not with nonces issued), rebuilds the exact text it issued for the
//! signing address, compares bytes, checks the expiry and verifies the ed25519 signature.
//! Bearer tokens, not cookies: no CSRF. Tokens are stored hashed.
//!
//! Where spent nonces and sessions live is a [`SessionStore`]: process memory for a single
//! replica, Redis (`store/redis/sign_in.rs`) when replicas share state, so a nonce issued by one
//! replica can be redeemed (once) on another and a token works, and is signed out, everywhere.
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::RngCore;
use roomcast_chain::Pubkey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::core::error::AppError;
use crate::guard::auth::Principal;
pub use crate::store::memory::MemorySessionStore;
pub use crate::store::sign_in::{Session, SessionStore, SignInInput};

/// Session tokens start with this, so the bearer header tells them apart from the operator key.
pub const TOKEN_PREFIX: &str = "rcs_";
pub const STATEMENT: &str = "Sign in to roomcast to create and manage your rooms.";

/// `POST /api/auth/sign-in` body: what `solana:signIn` returned.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignInRequest {
    /// The signing account (base58).
    pub address: String,
    /// The exact bytes the wallet signed, base64.
    pub signed_message: String,
    /// The ed25519 signature, base58.
    pub signature: String,
}

/// A session token for one wallet.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionResponse {
    /// Send as `Authorization: Bearer <token>`. Keep it in memory only.
    pub token: String,
    pub wallet: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// The origin sign-in messages are bound to (`scheme://host[:port]`): `ROOMCAST_PUBLIC_ORIGIN`, or
/// the listen address when it is loopback. Never taken from a request's `Host`/`X-Forwarded-*`:
/// a phishing page on another domain could otherwise get an input for its own domain, which the
/// victim's wallet would happily sign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignInOrigin {
    /// `host[:port]`, the SIWS `domain`.
    pub domain: String,
    /// `scheme://host[:port]`.
    pub origin: String,
}

impl SignInOrigin {
    /// From an origin already validated as `scheme://host[:port]`.
    pub fn new(origin: &str) -> Self {
        let origin = origin.trim_end_matches('/').to_string();
        let domain = origin
            .split_once("://")
            .map(|(_, rest)| rest.to_string())
            .unwrap_or_else(|| origin.clone());
        SignInOrigin { domain, origin }
    }

    /// The URI a sign-in for this origin names: the host console.
    pub fn uri(&self) -> String {
        format!("{}/host", self.origin)
    }
}

pub struct Sessions {
    /// Where sign-in messages must come from; `None`: sessions are off (503).
    origin: Option<SignInOrigin>,
    /// Spent nonces (until they expire); SHA-256 of the token → session.
    store: Arc<dyn SessionStore>,
    /// Tags nonces (HMAC-SHA256).
    nonce_key: NonceKey,
    sign_in_ttl: Duration,
    session_ttl: Duration,
}

/// The key nonces are tagged with.
#[derive(Clone)]
pub struct NonceKey([u8; 32]);

impl NonceKey {
    /// A fresh key for this process (a single replica).
    pub fn random() -> NonceKey {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        NonceKey(key)
    }

    /// The key every replica derives alike (HKDF-SHA256) from the registrar's secret and the
    /// registry, so a nonce issued by one is accepted by another.
    pub fn derived(secret: &[u8], registry: &[u8]) -> NonceKey {
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(Some(registry), secret)
            .expand(b"roomcast siws nonce v1", &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        NonceKey(key)
    }

    fn tag(&self, body: &[u8]) -> [u8; TAG_LEN] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(body);
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&full[..TAG_LEN]);
        tag
    }

    /// A nonce for a message issued at `issued` and expiring at `expires` (unix seconds).
    fn nonce(&self, issued: i64, expires: i64) -> String {
        let mut bytes = Vec::with_capacity(BODY_LEN + TAG_LEN);
        bytes.extend_from_slice(&issued.to_be_bytes());
        bytes.extend_from_slice(&expires.to_be_bytes());
        let mut random = [0u8; 8];
        rand::thread_rng().fill_bytes(&mut random);
        bytes.extend_from_slice(&random);
        let tag = self.tag(&bytes);
        bytes.extend_from_slice(&tag);
        bs58::encode(bytes).into_string()
    }

    /// `(issued, expires)` of a nonce this key tagged; `None` for anything else.
    fn open(&self, nonce: &str) -> Option<(i64, i64)> {
        let bytes = bs58::decode(nonce).into_vec().ok()?;
        if bytes.len() != BODY_LEN + TAG_LEN {
            return None;
        }
        let (body, tag) = bytes.split_at(BODY_LEN);
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(body);
        mac.verify_truncated_left(tag).ok()?;
        let issued = i64::from_be_bytes(body[..8].try_into().ok()?);
        let expires = i64::from_be_bytes(body[8..16].try_into().ok()?);
        Some((issued, expires))
    }
}

/// Issue time, expiry, random bytes.
const BODY_LEN: usize = 8 + 8 + 8;
const TAG_LEN: usize = 16;

impl Sessions {
    /// In process memory (a single replica), with a random nonce key.
    pub fn new(origin: Option<SignInOrigin>, sign_in_ttl: Duration, session_ttl: Duration) -> Self {
        let store = MemorySessionStore::new(sign_in_ttl, session_ttl);
        Self::with_store(
            origin,
            Arc::new(store),
            NonceKey::random(),
            sign_in_ttl,
            session_ttl,
        )
    }

    pub fn with_store(
        origin: Option<SignInOrigin>,
        store: Arc<dyn SessionStore>,
        nonce_key: NonceKey,
        sign_in_ttl: Duration,
        session_ttl: Duration,
    ) -> Self {
        Sessions {
            origin,
            store,
            nonce_key,
            sign_in_ttl,
            session_ttl,
        }
    }

    /// The input issued with `nonce` (every field follows from the nonce and the origin).
    fn input_for(origin: &SignInOrigin, nonce: &str, issued: i64, expires: i64) -> SignInInput {
        let at = |t: i64| {
            OffsetDateTime::from_unix_timestamp(t)
                .map(rfc3339)
                .unwrap_or_default()
        };
        SignInInput {
            domain: origin.domain.clone(),
            statement: STATEMENT.to_string(),
            uri: origin.uri(),
            version: "1".into(),
            nonce: nonce.to_string(),
            issued_at: at(issued),
            expiration_time: at(expires),
        }
    }

    /// The origin sign-ins are bound to, or 503 when sessions are off.
    fn origin(&self) -> Result<&SignInOrigin, AppError> {
        self.origin.as_ref().ok_or_else(|| AppError::Unavailable {
            code: "sign_in_unavailable",
            message: "sign-in is off: this server listens on a non-loopback address and \
                          ROOMCAST_PUBLIC_ORIGIN is not set, so it cannot tell wallets which \
                          site they sign in to"
                .into(),
        })
    }

    /// A fresh sign-in input bound to this server's origin (never the request's `Host`). Stores
    /// nothing.
    pub async fn issue(&self) -> Result<SignInInput, AppError> {
        let origin = self.origin()?;
        let now = now_secs();
        let issued = now.unix_timestamp();
        let expires = (now + self.sign_in_ttl).unix_timestamp();
        let nonce = self.nonce_key.nonce(issued, expires);
        Ok(Self::input_for(origin, &nonce, issued, expires))
    }

    /// Checks a signed sign-in message and opens a session for its wallet.
    pub async fn sign_in(&self, req: &SignInRequest) -> Result<SessionResponse, AppError> {
        let origin = self.origin()?;
        let wallet: Pubkey = req.address.parse().map_err(|_| {
            AppError::unauthorized("invalid_wallet", "address is not a base58 public key")
        })?;
        let bytes = B64
            .decode(&req.signed_message)
            .map_err(|_| AppError::bad_request("invalid_body", "signedMessage must be base64"))?;
        let text = String::from_utf8(bytes).map_err(|_| {
            AppError::unauthorized("invalid_sign_in_message", "the signed message is not text")
        })?;
        let nonce = text
            .lines()
            .find_map(|l| l.strip_prefix("Nonce: "))
            .ok_or_else(|| {
                AppError::unauthorized("invalid_sign_in_message", "the signed message has no nonce")
            })?;
        let unknown = || {
            AppError::unauthorized(
                "unknown_nonce",
                "this sign-in nonce is unknown or was already used; start the sign-in again",
            )
        };
        let (issued_at, expires) = self.nonce_key.open(nonce).ok_or_else(unknown)?;
        // Single use: spent now, whatever happens next; remembered until it expires anyway.
        let left = (expires - now_secs().unix_timestamp()).max(1) as u64;
        if !self
            .store
            .spend_nonce(nonce, Duration::from_secs(left))
            .await?
        {
            return Err(unknown());
        }
        let issued = Self::input_for(origin, nonce, issued_at, expires);
        // A message for another site (a phishing page's own domain) is refused as such, even with
        // a nonce this server issued.
        let domain = text.split_once(" wants you to sign in with your Solana account:");
        let uri = text.lines().find_map(|l| l.strip_prefix("URI: "));
        if domain.map(|(d, _)| d) != Some(origin.domain.as_str())
            || uri != Some(origin.uri().as_str())
        {
            return Err(AppError::unauthorized(
                "wrong_domain",
                format!(
                    "this sign-in message is not for {}; sign in on {} itself",
                    origin.origin, origin.origin
                ),
            ));
        }
        if text != issued.message(&req.address) {
            return Err(AppError::unauthorized(
                "invalid_sign_in_message",
                "the signed message is not the one this server issued",
            ));
        }
        if now_secs().unix_timestamp() >= expires {
            return Err(AppError::unauthorized(
                "sign_in_expired",
                "this sign-in message has expired; start the sign-in again",
            ));
        }
        let signature: [u8; 64] = bs58::decode(&req.signature)
            .into_vec()
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| {
                AppError::unauthorized(
                    "invalid_signature",
                    "signature is not a base58 ed25519 signature",
                )
            })?;
        let key = VerifyingKey::from_bytes(&wallet.to_bytes()).map_err(|_| {
            AppError::unauthorized("invalid_wallet", "address is not an ed25519 public key")
        })?;
        key.verify_strict(text.as_bytes(), &Signature::from_bytes(&signature))
            .map_err(|_| {
                AppError::unauthorized(
                    "invalid_signature",
                    "the signature does not match the message",
                )
            })?;

        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let token = format!("{TOKEN_PREFIX}{}", B64URL.encode(raw));
        let expires = now_secs() + self.session_ttl;
        let session = Session {
            wallet: wallet.to_string(),
            expires: expires.unix_timestamp(),
        };
        self.store
            .put_session(&token_hash(&token), session, self.session_ttl)
            .await?;
        tracing::info!(wallet = %wallet, "wallet signed in");
        Ok(SessionResponse {
            token,
            wallet: wallet.to_string(),
            expires_at: rfc3339(expires),
        })
    }

    /// The wallet a session token stands for.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AppError> {
        let invalid = || {
            AppError::unauthorized(
                "invalid_session",
                "the session token is unknown, expired or signed out; sign in again",
            )
        };
        let session = self
            .store
            .get_session(&token_hash(token))
            .await?
            .ok_or_else(invalid)?;
        if now_secs().unix_timestamp() >= session.expires {
            return Err(invalid());
        }
        let wallet: Pubkey = session.wallet.parse().map_err(|_| invalid())?;
        Ok(Principal::Host(wallet))
    }

    pub async fn sign_out(&self, token: &str) -> Result<(), AppError> {
        self.store
            .remove_session(&token_hash(token))
            .await
            .map_err(AppError::from)
    }
}

/// The session token in `Authorization: Bearer rcs_…`, if the request carries one.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_at_checked(7)?;
    (scheme.eq_ignore_ascii_case("Bearer ") && token.starts_with(TOKEN_PREFIX)).then_some(token)
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn now_secs() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_text_follows_the_siws_format() {
        let input = SignInInput {
            domain: "127.0.0.1:8080".into(),
            statement: STATEMENT.into(),
            uri: "http://127.0.0.1:8080/host".into(),
            version: "1".into(),
            nonce: "abcdefgh12345678".into(),
            issued_at: "2026-11-25T18:00:00Z".into(),
            expiration_time: "2026-11-25T18:05:00Z".into(),
        };
        assert_eq!(
            input.message("9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"),
            "127.0.0.1:8080 wants you to sign in with your Solana account:\n\
             9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin\n\n\
             Sign in to roomcast to create and manage your rooms.\n\n\
             URI: http://127.0.0.1:8080/host\nVersion: 1\nNonce: abcdefgh12345678\n\
             Issued At: 2026-11-25T18:00:00Z\nExpiration Time: 2026-11-25T18:05:00Z"
        );
    }

    #[test]
    fn nonces_carry_their_times_and_only_this_key_opens_them() {
        let key = NonceKey::random();
        let nonce = key.nonce(1_000, 1_300);
        assert!(nonce.len() >= 8 && nonce.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(key.open(&nonce), Some((1_000, 1_300)));
        assert_ne!(key.nonce(1_000, 1_300), nonce, "random part");
        assert_eq!(NonceKey::random().open(&nonce), None);
        let mut bytes = bs58::decode(&nonce).into_vec().unwrap();
        bytes[9] ^= 1; // a later expiry
        assert_eq!(key.open(&bs58::encode(&bytes).into_string()), None);
        assert_eq!(key.open("abcdefgh12345678"), None);
        let a = NonceKey::derived(&[7; 32], b"registry");
        let b = NonceKey::derived(&[7; 32], b"registry");
        assert_eq!(b.open(&a.nonce(5, 6)), Some((5, 6)));
    }

    #[test]
    fn only_prefixed_bearer_tokens_are_sessions() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer rcs_abc".parse().unwrap());
        assert_eq!(bearer_token(&h), Some("rcs_abc"));
        h.insert("authorization", "bearer rcs_abc".parse().unwrap());
        assert_eq!(bearer_token(&h), Some("rcs_abc"));
        h.insert("authorization", "Bearer operator-key".parse().unwrap());
        assert_eq!(bearer_token(&h), None);
    }
}
