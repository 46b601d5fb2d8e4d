//! Google's signing key: the RSA key the emulator signs Pub/Sub push ID tokens with, published
//! as a JWKS at `GET /oauth2/v3/certs` (the shape of `https://www.googleapis.com/oauth2/v3/certs`).
//! One 2048-bit key with a random `kid`, generated when the first emulator of the process starts
//! ([`prepare`]; the emulators of one process, e.g. a test binary's, share it, so only the first
//! start pays the fraction of a second it takes).

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{json, Value};

use crate::crypto::{self, RsaPrivateKey};
use crate::tokens::random_string;

/// Google's ID-token issuer.
pub const ISSUER: &str = "https://accounts.google.com";

struct Key {
    kid: String,
    key: RsaPrivateKey,
}

static KEY: OnceLock<Key> = OnceLock::new();

/// The emulator's Google signing key (reached as an extension of the emulator's state).
pub struct Signer {
    key: &'static Key,
}

impl Default for Signer {
    fn default() -> Self {
        Self { key: key() }
    }
}

/// Generate the key unless this process has it (at start-up, off the async threads).
pub async fn prepare() {
    let _ = tokio::task::spawn_blocking(key).await;
}

/// The key, generated on first use (a fraction of a second: from a blocking task).
fn key() -> &'static Key {
    KEY.get_or_init(|| Key {
        // Google's kids are 40 hex digits (a SHA-1); any unique string works.
        kid: random_string(40)
            .bytes()
            .map(|b| char::from(b"0123456789abcdef"[usize::from(b % 16)]))
            .collect(),
        key: crypto::generate_key().expect("an RSA key can be generated"),
    })
}

impl Signer {
    fn key(&self) -> &'static Key {
        self.key
    }

    /// The key's id (`kid` in the JWKS and in every token's header).
    pub fn kid(&self) -> &str {
        &self.key().kid
    }

    /// `{"keys":[{"kty":"RSA","alg":"RS256","use":"sig","kid","n","e"}]}`.
    pub fn jwks(&self) -> Value {
        let key = self.key();
        let public = key.key.to_public_key();
        json!({"keys": [{
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": key.kid,
            "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        }]})
    }

    /// An RS256 ID token as Pub/Sub puts on an authenticated push: issued by
    /// accounts.google.com for `audience`, naming the subscription's service account `email`
    /// (verified), valid for an hour.
    pub fn push_token(&self, audience: &str, email: &str) -> String {
        let now = chrono::Utc::now().timestamp();
        self.sign(&json!({
            "iss": ISSUER,
            "aud": audience,
            "azp": super::token::subject_id(email),
            "sub": super::token::subject_id(email),
            "email": email,
            "email_verified": true,
            "iat": now,
            "exp": now + 3600,
        }))
    }

    /// Any `claims` signed RS256 with the key (tests make expired or odd tokens with it).
    pub fn sign(&self, claims: &Value) -> String {
        let key = self.key();
        let header = json!({"alg": "RS256", "kid": key.kid, "typ": "JWT"});
        crypto::sign_rs256(&key.key, &header, claims)
    }
}
