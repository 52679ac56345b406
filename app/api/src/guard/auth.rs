//! Who is calling: a host proving control of their wallet, or the operator's backend.
//!
//! **Host**: an ed25519 signature by the wallet over a canonical text message, so a browser wallet's
//! `signMessage` can produce it:
//!
//! ```text
//! roomcast-auth-v2
//! <AUDIENCE>
//! <METHOD>
//! <PATH_AND_QUERY>
//! <UNIX_TIMESTAMP_SECONDS>
//! <LOWERCASE_HEX_SHA256_OF_BODY>
//! ```
//!
//! (lines joined by `\n`, no trailing newline). `AUDIENCE` names the server the request is for — its
//! configured public origin (`ROOMCAST_PUBLIC_ORIGIN`), else its registry address; `GET /api/info`
//! tells it as `authAudience` — so a request signed for one deployment (staging) is refused by
//! another (production). Sent as headers `X-Roomcast-Wallet` (base58 pubkey),
//! `X-Roomcast-Timestamp` and `X-Roomcast-Signature` (base58 signature). Timestamps more than
//! [`AuthConfig::max_skew`] from the server's clock are stale; each signature is accepted once.
//!
//! **Operator**: `Authorization: Bearer $ROOMCAST_OPERATOR_KEY`, compared in constant time; may act
//! for any host.
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, Method};
use ed25519_dalek::{Signature, VerifyingKey};
use roomcast_chain::Pubkey;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::core::error::AppError;
use crate::store::ReplayStore;

pub const WALLET_HEADER: &str = "x-roomcast-wallet";
pub const TIMESTAMP_HEADER: &str = "x-roomcast-timestamp";
pub const SIGNATURE_HEADER: &str = "x-roomcast-signature";
pub const MESSAGE_PREFIX: &str = "roomcast-auth-v2";

pub use crate::core::identity::Principal;

pub struct AuthConfig {
    operator_key: Option<SecretString>,
    /// The `AUDIENCE` line every signed request must carry: this server.
    audience: String,
    max_skew: Duration,
    /// Signatures seen within the skew window (replay protection; fails closed when full).
    seen: Arc<dyn ReplayStore>,
}

impl AuthConfig {
    pub fn new(
        operator_key: Option<SecretString>,
        audience: String,
        max_skew: Duration,
        seen: Arc<dyn ReplayStore>,
    ) -> Self {
        AuthConfig {
            operator_key,
            audience,
            max_skew,
            seen,
        }
    }

    /// Authenticates a request from its headers and raw body.
    pub async fn authenticate(
        &self,
        method: &Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Principal, AppError> {
        if let Some(authorization) = headers.get(axum::http::header::AUTHORIZATION) {
            return self.authenticate_operator(authorization.as_bytes());
        }
        let wallet = header_str(headers, WALLET_HEADER)?;
        let timestamp = header_str(headers, TIMESTAMP_HEADER)?;
        let signature = header_str(headers, SIGNATURE_HEADER)?;
        match (wallet, timestamp, signature) {
            (None, None, None) => Err(AppError::unauthorized(
                "missing_credentials",
                "sign the request with the host wallet (X-Roomcast-Wallet, X-Roomcast-Timestamp, X-Roomcast-Signature) or send the operator's bearer key",
            )),
            (Some(wallet), Some(timestamp), Some(signature)) => {
                self.authenticate_host(method, path_and_query, body, wallet, timestamp, signature)
                    .await
            }
            _ => Err(AppError::unauthorized(
                "incomplete_signature",
                "X-Roomcast-Wallet, X-Roomcast-Timestamp and X-Roomcast-Signature must be sent together",
            )),
        }
    }

    fn authenticate_operator(&self, authorization: &[u8]) -> Result<Principal, AppError> {
        // The scheme is case-insensitive (RFC 9110 §11.1): `bearer KEY` is the same credential.
        let token = match authorization.split_at_checked(7) {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case(b"Bearer ") => Some(token),
            _ => None,
        };
        let Some(token) = token else {
            return Err(AppError::unauthorized(
                "invalid_authorization",
                "Authorization must be `Bearer <operator key>`",
            ));
        };
        let Some(expected) = &self.operator_key else {
            return Err(AppError::unauthorized(
                "operator_disabled",
                "operator access is not configured on this server",
            ));
        };
        if bool::from(token.ct_eq(expected.expose_secret().as_bytes())) {
            Ok(Principal::Operator)
        } else {
            Err(AppError::unauthorized(
                "invalid_operator_key",
                "the operator key is not valid",
            ))
        }
    }

    async fn authenticate_host(
        &self,
        method: &Method,
        path_and_query: &str,
        body: &[u8],
        wallet: &str,
        timestamp: &str,
        signature: &str,
    ) -> Result<Principal, AppError> {
        let wallet: Pubkey = wallet.parse().map_err(|_| {
            AppError::unauthorized(
                "invalid_wallet",
                "X-Roomcast-Wallet is not a base58 public key",
            )
        })?;
        let ts: i64 = timestamp.parse().map_err(|_| {
            AppError::unauthorized(
                "invalid_timestamp",
                "X-Roomcast-Timestamp must be unix seconds",
            )
        })?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        if now.abs_diff(ts) > self.max_skew.as_secs() {
            return Err(AppError::unauthorized(
                "stale_timestamp",
                format!(
                    "X-Roomcast-Timestamp is more than {}s from the server's clock ({now})",
                    self.max_skew.as_secs()
                ),
            ));
        }
        let sig_bytes: [u8; 64] = bs58::decode(signature)
            .into_vec()
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| {
                AppError::unauthorized(
                    "invalid_signature",
                    "X-Roomcast-Signature is not a base58 ed25519 signature",
                )
            })?;
        let key = VerifyingKey::from_bytes(&wallet.to_bytes()).map_err(|_| {
            AppError::unauthorized(
                "invalid_wallet",
                "X-Roomcast-Wallet is not an ed25519 public key",
            )
        })?;
        let message = canonical_message(&self.audience, method.as_str(), path_and_query, ts, body);
        key.verify_strict(message.as_bytes(), &Signature::from_bytes(&sig_bytes))
            .map_err(|_| {
                AppError::unauthorized(
                    "invalid_signature",
                    "the signature does not match the request",
                )
            })?;
        // Kept until its timestamp can no longer pass the skew check.
        let keep = self.max_skew * 2 + Duration::from_secs(1);
        let first = self.seen.first_use(&sig_bytes, keep).await?;
        if !first {
            return Err(AppError::unauthorized(
                "replayed_signature",
                "this signed request was already used",
            ));
        }
        Ok(Principal::Host(wallet))
    }
}

/// The text a host wallet signs for a request (see the module docs).
pub fn canonical_message(
    audience: &str,
    method: &str,
    path_and_query: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    let body_hash = hex::encode(Sha256::digest(body));
    format!(
        "{MESSAGE_PREFIX}\n{audience}\n{}\n{path_and_query}\n{timestamp}\n{body_hash}",
        method.to_ascii_uppercase()
    )
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, AppError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str().map_err(|_| {
                AppError::unauthorized("invalid_header", format!("{name} is not valid text"))
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's worked example, byte for byte: wallet from the 32-byte seed `[1; 32]`, audience
    /// `https://rooms.example.com`, `POST /api/create {"title":"Friday show"}` at 1764072000.
    #[test]
    fn canonical_message_worked_example() {
        let body = br#"{"title":"Friday show"}"#;
        let msg = canonical_message(
            "https://rooms.example.com",
            "post",
            "/api/create",
            1_764_072_000,
            body,
        );
        assert_eq!(
            msg,
            "roomcast-auth-v2\nhttps://rooms.example.com\nPOST\n/api/create\n1764072000\n\
             93f732141378ab9b84532c7988cf90de9d80040877a05a08a66c1cbaf95edc40"
        );
        let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
        use ed25519_dalek::Signer;
        let wallet = bs58::encode(key.verifying_key().to_bytes()).into_string();
        let signature = bs58::encode(key.sign(msg.as_bytes()).to_bytes()).into_string();
        assert_eq!(
            (wallet.as_str(), signature.as_str()),
            (WORKED_WALLET, WORKED_SIGNATURE)
        );
        assert_eq!(
            canonical_message("a", "GET", "/x", 1, b"")
                .lines()
                .last()
                .unwrap(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    const WORKED_WALLET: &str = "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9";
    const WORKED_SIGNATURE: &str =
        "ZEvBLfvb1FLtCG67NN8cnugRALuKLd5nv9MBeVt8MweV5RF7k1bQeAcNGxk2CncS1phzuWvMLcnqfxwYodvWmxH";

    #[tokio::test]
    async fn a_request_signed_for_another_audience_is_refused() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        use ed25519_dalek::Signer;
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let store = || Arc::new(crate::store::MemoryReplayStore::new(16));
        let production =
            AuthConfig::new(None, "production".into(), Duration::from_secs(300), store());
        let staging = AuthConfig::new(None, "staging".into(), Duration::from_secs(300), store());
        let message = canonical_message("staging", "POST", "/api/create", ts, b"{}");
        let mut headers = HeaderMap::new();
        headers.insert(
            WALLET_HEADER,
            bs58::encode(key.verifying_key().to_bytes())
                .into_string()
                .parse()
                .unwrap(),
        );
        headers.insert(TIMESTAMP_HEADER, ts.to_string().parse().unwrap());
        headers.insert(
            SIGNATURE_HEADER,
            bs58::encode(key.sign(message.as_bytes()).to_bytes())
                .into_string()
                .parse()
                .unwrap(),
        );
        let refused = production
            .authenticate(&Method::POST, "/api/create", &headers, b"{}")
            .await
            .unwrap_err();
        assert_eq!(refused.code(), "invalid_signature");
        let accepted = staging
            .authenticate(&Method::POST, "/api/create", &headers, b"{}")
            .await
            .unwrap();
        assert_eq!(
            accepted,
            Principal::Host(Pubkey::new_from_array(key.verifying_key().to_bytes()))
        );
    }
}
