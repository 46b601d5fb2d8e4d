//! Secrets at rest: AES-256-GCM in a versioned envelope `v1:<key id>:<nonce>:<ciphertext>`
//! (base64url), with the owning row's identity as associated data so a ciphertext cannot be
//! moved to another row. The key ring's newest key seals; any key in the ring opens.
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::secrets::KeyRing;

const VERSION: &str = "v1";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("not a sealed value")]
    Malformed,
    #[error("sealed with key `{0}`, which is not in the key ring")]
    UnknownKey(String),
    #[error("cannot be opened: wrong key or tampered data")]
    Tampered,
    #[error("cannot be sealed: {0}")]
    Unsealable(&'static str),
}

/// Seal `plaintext` for the row described by `aad`.
pub fn seal(ring: &KeyRing, plaintext: &[u8], aad: &str) -> Result<String, CryptoError> {
    let key = ring.current();
    let cipher = Aes256Gcm::new((&key.bytes).into());
    let nonce_bytes: [u8; 12] = rand::random();
    let nonce = Nonce::from_slice(&nonce_bytes);
    // Fails only past AES-GCM's plaintext limit; never store an empty ciphertext instead.
    let ciphertext = cipher
        .encrypt(
            nonce,
            Payload {
                msg: plaintext,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| CryptoError::Unsealable("the value is too large for AES-GCM"))?;
    Ok(format!(
        "{VERSION}:{}:{}:{}",
        key.id,
        URL_SAFE_NO_PAD.encode(nonce_bytes),
        URL_SAFE_NO_PAD.encode(ciphertext)
    ))
}

/// The key id an envelope names, if it is one.
pub fn key_id(envelope: &str) -> Option<&str> {
    let mut parts = envelope.splitn(4, ':');
    (parts.next() == Some(VERSION))
        .then(|| parts.next())
        .flatten()
}

/// Open an envelope sealed for `aad`.
pub fn open(ring: &KeyRing, envelope: &str, aad: &str) -> Result<Vec<u8>, CryptoError> {
    let parts: Vec<&str> = envelope.splitn(4, ':').collect();
    let [VERSION, key_id, nonce, ciphertext] = parts[..] else {
        return Err(CryptoError::Malformed);
    };
    let key = ring
        .get(key_id)
        .ok_or_else(|| CryptoError::UnknownKey(key_id.to_string()))?;
    let nonce = URL_SAFE_NO_PAD
        .decode(nonce)
        .map_err(|_| CryptoError::Malformed)?;
    let ciphertext = URL_SAFE_NO_PAD
        .decode(ciphertext)
        .map_err(|_| CryptoError::Malformed)?;
    if nonce.len() != 12 {
        return Err(CryptoError::Malformed);
    }
    Aes256Gcm::new((&key.bytes).into())
        .decrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &ciphertext,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| CryptoError::Tampered)
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::{key_id, open, seal, CryptoError};
    use crate::secrets::KeyRing;

    fn ring(spec: &[(&str, u8)]) -> KeyRing {
        let text: Vec<String> = spec
            .iter()
            .map(|(id, b)| {
                format!(
                    "{id}:{}",
                    base64::engine::general_purpose::STANDARD.encode([*b; 32])
                )
            })
            .collect();
        KeyRing::parse(&text.join(",")).unwrap()
    }

    #[test]
    fn round_trip_and_row_binding() {
        let keys = ring(&[("a", 1)]);
        let sealed = seal(&keys, b"refresh-token", "mail_accounts|credentials|7|1").unwrap();
        assert!(sealed.starts_with("v1:a:"));
        assert!(!sealed.contains("refresh-token"));
        assert_eq!(
            open(&keys, &sealed, "mail_accounts|credentials|7|1").unwrap(),
            b"refresh-token"
        );
        assert_eq!(
            open(&keys, &sealed, "mail_accounts|credentials|8|1"),
            Err(CryptoError::Tampered)
        );
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(
            open(&keys, &tampered, "mail_accounts|credentials|7|1"),
            Err(CryptoError::Tampered)
        );
    }

    #[test]
    fn newest_key_seals_every_key_opens() {
        let old = ring(&[("a", 1)]);
        let sealed_old = seal(&old, b"x", "r").unwrap();
        let rotated = ring(&[("a", 1), ("b", 2)]);
        let sealed_new = seal(&rotated, b"y", "r").unwrap();
        assert_eq!(key_id(&sealed_new), Some("b"));
        assert_eq!(open(&rotated, &sealed_old, "r").unwrap(), b"x");
        assert_eq!(open(&rotated, &sealed_new, "r").unwrap(), b"y");
        assert_eq!(
            open(&old, &sealed_new, "r"),
            Err(CryptoError::UnknownKey("b".into()))
        );
        assert_eq!(
            open(&old, "plaintext-token", "r"),
            Err(CryptoError::Malformed)
        );
    }

    #[test]
    fn nonces_are_fresh() {
        let keys = ring(&[("a", 1)]);
        assert_ne!(
            seal(&keys, b"same", "r").unwrap(),
            seal(&keys, b"same", "r").unwrap()
        );
    }
}
