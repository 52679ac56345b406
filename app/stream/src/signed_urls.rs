//! Cloudflare Stream signed URLs, defined once: the emulator verifies what a backend signs.
//!
//! A signing key (`POST /stream/keys`) is an RSA key pair; Cloudflare keeps the public half and
//! shows the private one once, base64-encoded as PEM (`pem`) and as a JWK (`jwk`). A playback token
//! is an RS256 JWT — header `{"alg":"RS256","kid"}`, claims `{sub, kid, exp, nbf, accessRules}` —
//! put in place of the video or input uid in every delivery path (`/<token>/manifest/video.m3u8`).
//! The backend signs tokens itself ([`SigningKey::sign`], Cloudflare's advice above ~1,000 tokens a
//! day); the emulator checks them with [`verify`].

use std::fmt;
use std::net::IpAddr;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs1v15::{Signature, SigningKey as Pkcs1Signer, VerifyingKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub use rsa::RsaPublicKey as PublicKey;

/// Bits of a key the emulator makes, as Cloudflare's.
const KEY_BITS: usize = 2048;

/// A Stream signing key with its private half: never printed (`Debug` shows the id only).
#[derive(Clone)]
pub struct SigningKey {
    id: String,
    key: RsaPrivateKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

/// Why a key could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the signing key's pem is neither base64 of a PEM nor a PEM")]
    NotPem,
    #[error("the signing key is not an RSA private key (PKCS#1 or PKCS#8)")]
    NotRsa,
    #[error("could not make an RSA key: {0}")]
    Generate(String),
}

impl SigningKey {
    /// A new 2048-bit key named by a random 32-hex id.
    pub fn generate() -> Result<Self, KeyError> {
        let mut rng = rsa::rand_core::OsRng;
        let key = RsaPrivateKey::new(&mut rng, KEY_BITS)
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        let id = hex::encode(rand::random::<[u8; 16]>());
        Ok(Self { id, key })
    }

    /// A key as Cloudflare hands it out: `pem` base64-encoded (or already a PEM text), PKCS#1 or
    /// PKCS#8.
    pub fn from_pem(id: &str, pem: &str) -> Result<Self, KeyError> {
        let text = if pem.trim_start().starts_with("-----BEGIN") {
            pem.to_string()
        } else {
            let bytes = STANDARD
                .decode(pem.trim().as_bytes())
                .map_err(|_| KeyError::NotPem)?;
            String::from_utf8(bytes).map_err(|_| KeyError::NotPem)?
        };
        let key = RsaPrivateKey::from_pkcs1_pem(&text)
            .or_else(|_| RsaPrivateKey::from_pkcs8_pem(&text))
            .map_err(|_| KeyError::NotRsa)?;
        Ok(Self {
            id: id.to_string(),
            key,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn public_key(&self) -> RsaPublicKey {
        self.key.to_public_key()
    }

    /// The private key as Cloudflare's `pem` field: base64 of a PKCS#1 PEM.
    pub fn pem_base64(&self) -> String {
        let pem = self
            .key
            .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
            .map(|p| p.to_string())
            .unwrap_or_default();
        STANDARD.encode(pem)
    }

    /// The private key as Cloudflare's `jwk` field: base64 of the JSON Web Key.
    pub fn jwk_base64(&self) -> String {
        let b = |n: &rsa::BigUint| URL_SAFE_NO_PAD.encode(n.to_bytes_be());
        let primes = self.key.primes();
        let (p, q) = (&primes[0], &primes[1]);
        let jwk = serde_json::json!({
            "use": "sig",
            "kty": "RSA",
            "kid": self.id,
            "alg": "RS256",
            "n": b(self.key.n()),
            "e": b(self.key.e()),
            "d": b(self.key.d()),
            "p": b(p),
            "q": b(q),
            "dp": self.key.dp().map(b),
            "dq": self.key.dq().map(b),
            "qi": self.key.crt_coefficient().map(|c| b(&c)),
        });
        STANDARD.encode(jwk.to_string())
    }

    /// Signs `claims` (its `kid` set to this key's id) as an RS256 JWT.
    pub fn sign(&self, claims: &Claims) -> String {
        let header = serde_json::json!({"alg": "RS256", "kid": self.id, "typ": "JWT"});
        let mut claims = claims.clone();
        claims.kid = self.id.clone();
        let body = serde_json::to_vec(&claims).unwrap_or_default();
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(body)
        );
        let signer = Pkcs1Signer::<Sha256>::new(self.key.clone());
        let signature = signer.sign(signing_input.as_bytes()).to_bytes();
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// A playback token's claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The video or live input uid the token opens.
    pub sub: String,
    /// The signing key's id (also in the header).
    #[serde(default)]
    pub kid: String,
    /// Unix seconds after which the token is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Unix seconds before which the token is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, rename = "accessRules", skip_serializing_if = "Vec::is_empty")]
    pub access_rules: Vec<AccessRule>,
}

impl Claims {
    pub fn new(sub: &str, nbf: i64, exp: i64) -> Self {
        Self {
            sub: sub.to_string(),
            kid: String::new(),
            exp: Some(exp),
            nbf: Some(nbf),
            access_rules: Vec::new(),
        }
    }
}

/// One of a token's `accessRules` (at most 5, first match wins; none matching allows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessRule {
    /// `any`, `ip.src` or `ip.geoip.country`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `allow` or `block`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Vec<String>>,
}

/// Why a token was refused: everything but [`TokenError::Blocked`] is a 401 at Cloudflare, an
/// access rule's block a 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("unknown signing key")]
    UnknownKey,
    #[error("bad signature")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("blocked by an access rule")]
    Blocked,
}

/// Most access rules a token may carry.
pub const MAX_ACCESS_RULES: usize = 5;

/// Whether a delivery path's id is a token (a JWT has dots; uids are hex).
pub fn is_token(id: &str) -> bool {
    id.contains('.')
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

/// Checks `token` at `now` (unix seconds) for a client at `client`: the key named by its `kid`
/// (`key_of` answers the public half of a key that exists), the RS256 signature, `nbf`/`exp` and
/// the access rules. `ip.geoip.country` rules cannot be evaluated locally and never match.
pub fn verify(
    token: &str,
    now: i64,
    client: IpAddr,
    key_of: impl Fn(&str) -> Option<RsaPublicKey>,
) -> Result<Claims, TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let decode = |p: &str| URL_SAFE_NO_PAD.decode(p).map_err(|_| TokenError::Malformed);
    let header: Header = serde_json::from_slice(&decode(h)?).map_err(|_| TokenError::Malformed)?;
    let claims: Claims = serde_json::from_slice(&decode(c)?).map_err(|_| TokenError::Malformed)?;
    if header.alg != "RS256" || claims.access_rules.len() > MAX_ACCESS_RULES {
        return Err(TokenError::Malformed);
    }
    let kid = header.kid.as_deref().unwrap_or(&claims.kid);
    let key = key_of(kid).ok_or(TokenError::UnknownKey)?;
    let signature =
        Signature::try_from(decode(s)?.as_slice()).map_err(|_| TokenError::BadSignature)?;
    VerifyingKey::<Sha256>::new(key)
        .verify(format!("{h}.{c}").as_bytes(), &signature)
        .map_err(|_| TokenError::BadSignature)?;
    if claims.exp.is_some_and(|exp| now >= exp) {
        return Err(TokenError::Expired);
    }
    if claims.nbf.is_some_and(|nbf| now < nbf) {
        return Err(TokenError::NotYetValid);
    }
    for rule in &claims.access_rules {
        let matches = match rule.kind.as_str() {
            "any" => true,
            "ip.src" => rule.ip.iter().flatten().any(|cidr| in_cidr(client, cidr)),
            _ => false,
        };
        if matches {
            return match rule.action.as_str() {
                "block" => Err(TokenError::Blocked),
                _ => Ok(claims),
            };
        }
    }
    Ok(claims)
}

/// `ip` is inside `cidr` (`a.b.c.d/n`, `x::/n` or a bare address). IPv4-mapped IPv6 counts as IPv4.
fn in_cidr(ip: IpAddr, cidr: &str) -> bool {
    let (addr, bits) = match cidr.split_once('/') {
        Some((a, b)) => (a, b.parse::<u32>().ok()),
        None => (cidr, None),
    };
    let Ok(net) = addr.parse::<IpAddr>() else {
        return false;
    };
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_matching() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_cidr(ip("10.1.2.3"), "10.0.0.0/8"));
        assert!(!in_cidr(ip("11.1.2.3"), "10.0.0.0/8"));
        assert!(in_cidr(ip("127.0.0.1"), "127.0.0.1"));
        assert!(in_cidr(ip("::ffff:127.0.0.1"), "127.0.0.0/24"));
        assert!(in_cidr(ip("2001:db8::1"), "2001:db8::/32"));
        assert!(!in_cidr(ip("2001:db9::1"), "2001:db8::/32"));
        assert!(!in_cidr(ip("10.0.0.1"), "garbage"));
    }
}
