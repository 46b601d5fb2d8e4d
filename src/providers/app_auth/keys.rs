//! The private keys organization-wide connections sign with: a Microsoft app's certificate
//! (PEM with the certificate and its RSA private key) and a Google service account's JSON key.
//! Both are read once from what the admin uploads, checked, and used to sign RS256 JWTs.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePublicKey as _};
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use serde::Deserialize;
use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest as _, Sha256};
use x509_cert::der::{DecodePem as _, Encode as _};

/// Why an uploaded certificate or key cannot be used; the text tells the admin what to upload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("no certificate found: upload a PEM file with a `BEGIN CERTIFICATE` block")]
    NoCertificate,
    #[error("no private key found: the PEM file must also hold the certificate's RSA private key (`BEGIN PRIVATE KEY` or `BEGIN RSA PRIVATE KEY`)")]
    NoPrivateKey,
    #[error("the certificate cannot be read: {0}")]
    BadCertificate(String),
    #[error("the private key cannot be read (only unencrypted RSA keys are supported): {0}")]
    BadPrivateKey(String),
    #[error("the private key does not belong to the certificate")]
    KeyMismatch,
    #[error("not a service account key file: {0}")]
    BadKeyFile(String),
    #[error("signing failed: {0}")]
    Signing(String),
}

/// A Microsoft app certificate with its private key.
#[derive(Clone)]
pub struct CertificateCredential {
    key: RsaPrivateKey,
    /// base64url SHA-1 of the DER certificate (the JWT header's `x5t`).
    pub x5t: String,
    /// Upper-case hex SHA-1 of the DER certificate, as the Entra portal shows it.
    pub thumbprint: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

impl std::fmt::Debug for CertificateCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateCredential")
            .field("thumbprint", &self.thumbprint)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// Every `-----BEGIN {label}-----` ... `-----END {label}-----` block of a PEM text.
fn pem_blocks(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = after[..label_end].to_string();
        let end_marker = format!("-----END {label}-----");
        let Some(end) = rest[start..].find(&end_marker) else {
            break;
        };
        let stop = start + end + end_marker.len();
        out.push((label, rest[start..stop].to_string()));
        rest = &rest[stop..];
    }
    out
}

fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02X}");
        out
    })
}

fn time(t: x509_cert::time::Time) -> DateTime<Utc> {
    let secs = i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn private_key(blocks: &[(String, String)]) -> Result<RsaPrivateKey, KeyError> {
    for (label, block) in blocks {
        match label.as_str() {
            "PRIVATE KEY" => {
                return RsaPrivateKey::from_pkcs8_pem(block)
                    .map_err(|e| KeyError::BadPrivateKey(e.to_string()))
            }
            "RSA PRIVATE KEY" => {
                return RsaPrivateKey::from_pkcs1_pem(block)
                    .map_err(|e| KeyError::BadPrivateKey(e.to_string()))
            }
            "ENCRYPTED PRIVATE KEY" => {
                return Err(KeyError::BadPrivateKey(
                    "the key is encrypted; export it without a password".into(),
                ))
            }
            _ => {}
        }
    }
    Err(KeyError::NoPrivateKey)
}

impl CertificateCredential {
    /// Read a PEM text holding the certificate and its private key (in any order).
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let blocks = pem_blocks(text);
        let cert_pem = blocks
            .iter()
            .find(|(label, _)| label == "CERTIFICATE")
            .map(|(_, b)| b)
            .ok_or(KeyError::NoCertificate)?;
        let cert = x509_cert::Certificate::from_pem(cert_pem.as_bytes())
            .map_err(|e| KeyError::BadCertificate(e.to_string()))?;
        let der = cert
            .to_der()
            .map_err(|e| KeyError::BadCertificate(e.to_string()))?;
        let key = private_key(&blocks)?;
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| KeyError::BadCertificate(e.to_string()))?;
        let ours = key
            .to_public_key()
            .to_public_key_der()
            .map_err(|e| KeyError::BadPrivateKey(e.to_string()))?;
        if ours.as_bytes() != spki.as_slice() {
            return Err(KeyError::KeyMismatch);
        }
        let sha1 = Sha1::digest(&der);
        let validity = cert.tbs_certificate.validity;
        Ok(Self {
            key,
            x5t: URL_SAFE_NO_PAD.encode(sha1),
            thumbprint: hex_upper(&sha1),
            not_before: time(validity.not_before),
            not_after: time(validity.not_after),
        })
    }

    pub fn sign(&self, header: &Value, claims: &Value) -> Result<String, KeyError> {
        sign_rs256(&self.key, header, claims)
    }
}

/// A Google service account key file (the JSON the Cloud console downloads).
#[derive(Clone)]
pub struct ServiceAccountKey {
    key: RsaPrivateKey,
    pub client_email: String,
    pub client_id: String,
    pub private_key_id: String,
    pub project_id: String,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    project_id: String,
    private_key_id: String,
    private_key: String,
    client_email: String,
    #[serde(default)]
    client_id: String,
}

impl ServiceAccountKey {
    pub fn from_json(text: &str) -> Result<Self, KeyError> {
        let file: KeyFile =
            serde_json::from_str(text).map_err(|e| KeyError::BadKeyFile(e.to_string()))?;
        if file.kind != "service_account" {
            return Err(KeyError::BadKeyFile(format!(
                "its type is `{}`, not `service_account`",
                file.kind
            )));
        }
        if !file.client_email.contains('@') || file.private_key_id.is_empty() {
            return Err(KeyError::BadKeyFile(
                "client_email or private_key_id is missing".into(),
            ));
        }
        let key = private_key(&pem_blocks(&file.private_key))?;
        Ok(Self {
            key,
            client_email: file.client_email,
            client_id: file.client_id,
            private_key_id: file.private_key_id,
            project_id: file.project_id,
        })
    }

    pub fn sign(&self, claims: &Value) -> Result<String, KeyError> {
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": self.private_key_id});
        sign_rs256(&self.key, &header, claims)
    }
}

/// A compact JWS: base64url(header).base64url(claims).base64url(RS256 signature).
pub fn sign_rs256(key: &RsaPrivateKey, header: &Value, claims: &Value) -> Result<String, KeyError> {
    let encode = |v: &Value| {
        serde_json::to_vec(v)
            .map(|bytes| URL_SAFE_NO_PAD.encode(bytes))
            .map_err(|e| KeyError::Signing(e.to_string()))
    };
    let input = format!("{}.{}", encode(header)?, encode(claims)?);
    let digest = Sha256::digest(input.as_bytes());
    let signature = key
        .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
        .map_err(|e| KeyError::Signing(e.to_string()))?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_are_found_in_any_order() {
        let text = "junk\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n\
                    -----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n";
        let blocks = pem_blocks(text);
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].0, "PRIVATE KEY");
        assert_eq!(blocks[1].0, "CERTIFICATE");
        assert!(blocks[1].1.ends_with("-----END CERTIFICATE-----"));
    }

    #[test]
    fn bad_uploads_say_what_is_wrong() {
        assert_eq!(
            CertificateCredential::from_pem("hello").unwrap_err(),
            KeyError::NoCertificate
        );
        assert!(matches!(
            ServiceAccountKey::from_json("{\"type\":\"authorized_user\"}").unwrap_err(),
            KeyError::BadKeyFile(_)
        ));
        let wrong_type =
            r#"{"type":"user","private_key_id":"k","private_key":"","client_email":"a@b"}"#;
        assert!(matches!(
            ServiceAccountKey::from_json(wrong_type).unwrap_err(),
            KeyError::BadKeyFile(m) if m.contains("`user`")
        ));
    }
}
