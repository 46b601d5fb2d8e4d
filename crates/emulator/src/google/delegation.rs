//! The JWT bearer grant (RFC 7523, `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`)
//! of service accounts, with domain-wide delegation when the assertion has a `sub`.
//!
//! Checks, in order: the assertion decodes; `iss` is a known service account (else
//! `invalid_grant` "Invalid grant: account not found"); `kid` names one of its keys and the
//! RS256 signature verifies (else "Invalid JWT Signature."); `aud` is this token endpoint;
//! `iat`/`exp` are in a reasonable timeframe and at most an hour apart; `scope` is present;
//! the `sub` is a user of a managed domain, not suspended ("Invalid email or User ID"); and the
//! domain granted this client id every requested scope (else 401 `unauthorized_client`).

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::error::OAuthError;
use super::workspace::{self, ServiceAccount};
use crate::crypto::{public_key_from_der, Jwt};
use crate::store::Provider;
use crate::SharedState;

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Clock skew tolerated on `iat` and `exp`.
const SKEW_SECS: i64 = 300;

/// A successful grant: the token, its lifetime, the scopes.
pub struct Granted {
    pub access_token: String,
    pub expires_in: u64,
}

fn signature_invalid() -> OAuthError {
    OAuthError::invalid_grant("Invalid JWT Signature.")
}

fn verifies(account: &ServiceAccount, jwt: &Jwt) -> bool {
    let Some(kid) = jwt.header_str("kid") else {
        // Without `kid` Google tries the account's keys.
        return account
            .keys
            .iter()
            .any(|k| key_verifies(&k.public_key_der, jwt));
    };
    account
        .keys
        .iter()
        .find(|k| k.private_key_id == kid)
        .is_some_and(|k| key_verifies(&k.public_key_der, jwt))
}

fn key_verifies(der_b64: &str, jwt: &Jwt) -> bool {
    STANDARD
        .decode(der_b64)
        .ok()
        .and_then(|der| public_key_from_der(&der).ok())
        .is_some_and(|key| jwt.verify_rs256(&key))
}

/// Run the grant.
#[allow(clippy::implicit_hasher)]
pub fn grant(state: &SharedState, form: &HashMap<String, String>) -> Result<Granted, OAuthError> {
    let assertion = form
        .get("assertion")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: assertion"))?;
    let jwt = Jwt::decode(assertion)
        .map_err(|_| OAuthError::invalid_grant("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."))?;
    let iss = jwt.claim_str("iss").unwrap_or_default();
    let account = workspace::service_account(state, iss)
        .ok_or_else(|| OAuthError::invalid_grant("Invalid grant: account not found"))?;
    if !verifies(&account, &jwt) {
        return Err(signature_invalid());
    }
    let token_uri = format!("{}/token", state.base_url.read());
    let aud = jwt.claim_str("aud").unwrap_or_default();
    if aud != token_uri && aud != "https://oauth2.googleapis.com/token" {
        return Err(OAuthError::invalid_grant(format!(
            "Invalid JWT: Failed audience check. The right audience is {token_uri}"
        )));
    }
    let now = chrono::Utc::now().timestamp();
    let (iat, exp) = (jwt.claim_time("iat"), jwt.claim_time("exp"));
    let timely = match (iat, exp) {
        (Some(iat), Some(exp)) => {
            exp > iat && exp - iat <= 3600 && iat <= now + SKEW_SECS && exp >= now - SKEW_SECS
        }
        _ => false,
    };
    if !timely {
        return Err(OAuthError::invalid_grant("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."));
    }
    let scopes: Vec<String> = jwt
        .claim_str("scope")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if scopes.is_empty() {
        return Err(OAuthError::new(
            400,
            "invalid_scope",
            "Empty or missing scope not allowed.",
        ));
    }
    let subject = match jwt.claim_str("sub").filter(|s| !s.is_empty()) {
        None => account.client_email.clone(),
        Some(sub) => {
            let (domain, user) = workspace::user(state, sub)
                .filter(|(_, u)| !u.suspended)
                .ok_or_else(|| OAuthError::invalid_grant("Invalid email or User ID"))?;
            let granted = domain.delegation.get(&account.client_id);
            let all_granted =
                granted.is_some_and(|g| scopes.iter().all(|s| g.iter().any(|x| x == s)));
            if !all_granted {
                return Err(OAuthError::new(401, "unauthorized_client", "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested."));
            }
            user.primary_email
        }
    };
    let ttl = state.tunables().access_token_ttl();
    let grant = state
        .tokens
        .grant(Provider::Google, &subject, &account.client_id, &scopes);
    Ok(Granted {
        access_token: state.tokens.issue_access("ya29.c.c0", grant, &scopes, ttl),
        expires_in: ttl.as_secs(),
    })
}
