//! Encryption of stored create responses. A finished create's response holds the room's stream
//! key (and SRT passphrase, WHIP URL); retries must get the very same answer, so it is kept in
//! Redis — sealed with ChaCha20-Poly1305 under a key derived (HKDF-SHA256) from the registrar's
//! secret key, which every replica holds anyway and Redis never sees. The Redis key is the
//! associated data, so a sealed value cannot be moved to another key.
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;

const INFO: &[u8] = b"roomcast idempotency response v1";
const NONCE_LEN: usize = 12;

pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("a stored response could not be opened (wrong key or corrupted)")]
pub struct OpenError;

impl Sealer {
    /// A sealer keyed from `secret` (the registrar's 32-byte secret key) and the registry.
    pub fn new(secret: &[u8], registry: &[u8]) -> Sealer {
        let hk = Hkdf::<Sha256>::new(Some(registry), secret);
        let mut key = [0u8; 32];
        hk.expand(INFO, &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Sealer {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// `nonce || ciphertext+tag`, bound to `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("ChaCha20-Poly1305 encryption of a small message cannot fail");
        [nonce.as_slice(), &sealed].concat()
    }

    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_mismatch_fails() {
        let sealer = Sealer::new(&[7; 32], b"registry-a");
        let sealed = sealer.seal(b"stream key abc", b"k1");
        assert!(!crate::store::redis::seal::tests::contains(
            &sealed,
            b"stream key"
        ));
        assert_eq!(sealer.open(&sealed, b"k1").unwrap(), b"stream key abc");
        assert_eq!(sealer.open(&sealed, b"k2"), Err(OpenError), "other key");
        let other = Sealer::new(&[8; 32], b"registry-a");
        assert_eq!(other.open(&sealed, b"k1"), Err(OpenError), "other secret");
        let other_registry = Sealer::new(&[7; 32], b"registry-b");
        assert_eq!(other_registry.open(&sealed, b"k1"), Err(OpenError));
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(sealer.open(&tampered, b"k1"), Err(OpenError));
        assert_eq!(sealer.open(&sealed[..5], b"k1"), Err(OpenError));
        // A fresh nonce each time: equal plaintexts seal differently.
        assert_ne!(sealer.seal(b"x", b"k"), sealer.seal(b"x", b"k"));
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }
}
