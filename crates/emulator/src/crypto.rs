//! RSA keys and RS256 JWTs for organization-wide credentials: Microsoft client assertions
//! signed with a certificate's key, Google service-account assertions. The emulator verifies
//! the signatures for real (PKCS#1 v1.5 with SHA-256, RFC 7518 §3.3) and generates the keys it
//! hands out (2048-bit, as both providers require at least).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePrivateKey as _};
use rsa::pkcs8::{EncodePublicKey as _, LineEnding};
use rsa::signature::{SignatureEncoding as _, Signer as _, Verifier as _};
pub use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::Value;
use sha2::Sha256;

/// Why a key or a JWT could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("could not generate an RSA key: {0}")]
    KeyGen(String),
    #[error("not an RSA private key in PEM (PKCS#8 or PKCS#1): {0}")]
    PrivateKey(String),
    #[error("not an RSA public key (SubjectPublicKeyInfo): {0}")]
    PublicKey(String),
    #[error("not a JWT: {0}")]
    Malformed(&'static str),
}

/// A new 2048-bit RSA key.
pub fn generate_key() -> Result<RsaPrivateKey, CryptoError> {
    RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
        .map_err(|e| CryptoError::KeyGen(e.to_string()))
}

/// The key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), as Google's key files and
/// `openssl req -newkey` write it.
pub fn private_key_pem(key: &RsaPrivateKey) -> Result<String, CryptoError> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|pem| pem.to_string())
        .map_err(|e| CryptoError::PrivateKey(e.to_string()))
}

/// Read a PKCS#8 or PKCS#1 PEM private key.
pub fn private_key_from_pem(pem: &str) -> Result<RsaPrivateKey, CryptoError> {
    RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|e| CryptoError::PrivateKey(e.to_string()))
}

/// The DER SubjectPublicKeyInfo of a public key.
pub fn public_key_der(key: &RsaPublicKey) -> Result<Vec<u8>, CryptoError> {
    key.to_public_key_der()
        .map(|d| d.as_bytes().to_vec())
        .map_err(|e| CryptoError::PublicKey(e.to_string()))
}

/// A public key from its DER SubjectPublicKeyInfo.
pub fn public_key_from_der(der: &[u8]) -> Result<RsaPublicKey, CryptoError> {
    RsaPublicKey::from_public_key_der(der).map_err(|e| CryptoError::PublicKey(e.to_string()))
}

/// PKCS#1 v1.5 SHA-256 signature of `data`.
pub fn sign_sha256(key: &RsaPrivateKey, data: &[u8]) -> Vec<u8> {
    SigningKey::<Sha256>::new(key.clone()).sign(data).to_vec()
}

/// Whether `signature` is a PKCS#1 v1.5 SHA-256 signature of `data` by `key`.
pub fn verify_sha256(key: &RsaPublicKey, data: &[u8], signature: &[u8]) -> bool {
    let Ok(signature) = Signature::try_from(signature) else {
        return false;
    };
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(data, &signature)
        .is_ok()
}

/// A decoded (not yet verified) compact JWS.
#[derive(Debug, Clone)]
pub struct Jwt {
    pub header: Value,
    pub claims: Value,
    /// `base64url(header) "." base64url(claims)`, what the signature covers.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

impl Jwt {
    /// Split and decode a compact JWS; header and claims must be JSON objects.
    pub fn decode(token: &str) -> Result<Self, CryptoError> {
        let mut parts = token.trim().split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(CryptoError::Malformed(
                "a JWS has three dot-separated parts",
            ));
        };
        let json = |part: &str| -> Result<Value, CryptoError> {
            let bytes = URL_SAFE_NO_PAD
                .decode(part.trim_end_matches('='))
                .map_err(|_| CryptoError::Malformed("a part is not base64url"))?;
            let value: Value = serde_json::from_slice(&bytes)
                .map_err(|_| CryptoError::Malformed("a part is not JSON"))?;
            value
                .is_object()
                .then_some(value)
                .ok_or(CryptoError::Malformed("a part is not a JSON object"))
        };
        Ok(Self {
            header: json(h)?,
            claims: json(c)?,
            signing_input: format!("{h}.{c}"),
            signature: URL_SAFE_NO_PAD
                .decode(s.trim_end_matches('='))
                .map_err(|_| CryptoError::Malformed("the signature is not base64url"))?,
        })
    }

    /// A header field as a string.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// A claim as a string.
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// A numeric-date claim (seconds since the epoch; integers or JSON numbers).
    pub fn claim_time(&self, name: &str) -> Option<i64> {
        let v = self.claims.get(name)?;
        #[allow(clippy::cast_possible_truncation)]
        v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
    }

    /// Whether the header says RS256 and the signature verifies with `key`.
    pub fn verify_rs256(&self, key: &RsaPublicKey) -> bool {
        self.header_str("alg") == Some("RS256")
            && verify_sha256(key, self.signing_input.as_bytes(), &self.signature)
    }
}

/// Sign `claims` with `header` (which should say `"alg":"RS256"`) as a compact JWS.
pub fn sign_rs256(key: &RsaPrivateKey, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = sign_sha256(key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn signatures_verify_only_with_the_right_key_and_content() {
        let key = generate_key().expect("key");
        let other = generate_key().expect("key");
        let token = sign_rs256(
            &key,
            &json!({"alg":"RS256","typ":"JWT"}),
            &json!({"iss":"a"}),
        );
        let jwt = Jwt::decode(&token).expect("decodes");
        assert!(jwt.verify_rs256(&key.to_public_key()));
        assert!(!jwt.verify_rs256(&other.to_public_key()));
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(json!({"iss":"b"}).to_string());
        parts[1] = &forged;
        let tampered = Jwt::decode(&parts.join(".")).expect("decodes");
        assert!(!tampered.verify_rs256(&key.to_public_key()));
        let pem = private_key_pem(&key).expect("pem");
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let back = private_key_from_pem(&pem).expect("reads back");
        assert_eq!(back.to_public_key(), key.to_public_key());
        assert!(Jwt::decode("a.b").is_err());
    }
}
