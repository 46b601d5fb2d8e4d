//! OAuth bookkeeping shared by both providers: pending authorization codes, grants (one per
//! client + mailbox), access tokens with expiry and refresh tokens, revocation per mailbox.
//! Providers choose token prefixes and render their own errors.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use parking_lot::RwLock;
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::store::Provider;

/// A one-time authorization code waiting for the token request.
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub provider: Provider,
    pub client_id: String,
    pub redirect_uri: String,
    pub mailbox: String,
    pub scopes: Vec<String>,
    /// `(method, challenge)`; method is `S256` or `plain`.
    pub pkce: Option<(String, String)>,
    /// Issue a refresh token with the access token.
    pub offline: bool,
    /// Google: `prompt=consent` was sent (forces a new refresh token).
    pub forced_consent: bool,
    pub nonce: Option<String>,
    pub expires_at: SystemTime,
}

/// Why a code could not be redeemed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeError {
    Unknown,
    AlreadyUsed,
    Expired,
}

/// The owner of a valid access token.
#[derive(Debug, Clone)]
pub struct AccessInfo {
    pub provider: Provider,
    pub mailbox: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub grant: u64,
    /// Seconds until the token expires (`None`: no fixed lifetime).
    pub expires_in: Option<u64>,
}

/// Why an access or refresh token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Unknown,
    Expired,
    Revoked,
}

#[derive(Debug, Clone)]
struct Grant {
    provider: Provider,
    mailbox: String,
    client_id: String,
    scopes: Vec<String>,
    revoked: bool,
}

#[derive(Debug, Clone)]
struct Issued {
    grant: u64,
    scopes: Vec<String>,
    created: SystemTime,
    expires_at: Option<SystemTime>,
    revoked: bool,
}

/// One issued token, as listed by `GET /_emulator/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    /// `access` or `refresh`.
    pub kind: String,
    pub token: String,
    pub provider: Provider,
    pub mailbox: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub issued_at: String,
    /// RFC 3339; `null` for refresh tokens without a fixed lifetime.
    pub expires_at: Option<String>,
    pub revoked: bool,
}

#[derive(Default)]
struct Inner {
    codes: HashMap<String, (AuthCode, bool)>,
    grants: HashMap<u64, Grant>,
    next_grant: u64,
    access: HashMap<String, Issued>,
    refresh: HashMap<String, Issued>,
    /// Refresh tokens per grant in issue order (to drop the oldest past the cap).
    refresh_order: HashMap<u64, Vec<String>>,
}

/// The token service.
#[derive(Default)]
pub struct Tokens {
    inner: RwLock<Inner>,
}

/// Random URL-safe characters.
pub fn random_string(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// `at + span`, capped a century ahead instead of overflowing.
pub fn later(at: SystemTime, span: Duration) -> SystemTime {
    let cap = Duration::from_secs(100 * 365 * 24 * 3600);
    at.checked_add(span.min(cap)).unwrap_or(at)
}

fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Tokens {
    /// Store a code; returns it (`prefix` e.g. Google's `4/0A`).
    pub fn issue_code(&self, prefix: &str, code: AuthCode) -> String {
        let value = format!("{prefix}{}", random_string(60));
        self.inner
            .write()
            .codes
            .insert(value.clone(), (code, false));
        value
    }

    /// Redeem a code once.
    pub fn redeem_code(&self, code: &str) -> Result<AuthCode, CodeError> {
        let mut inner = self.inner.write();
        let (auth, used) = inner.codes.get_mut(code).ok_or(CodeError::Unknown)?;
        if *used {
            return Err(CodeError::AlreadyUsed);
        }
        if auth.expires_at < SystemTime::now() {
            return Err(CodeError::Expired);
        }
        *used = true;
        Ok(auth.clone())
    }

    /// The grant of this client on this mailbox, created or widened to `scopes`.
    pub fn grant(
        &self,
        provider: Provider,
        mailbox: &str,
        client_id: &str,
        scopes: &[String],
    ) -> u64 {
        let mut inner = self.inner.write();
        let existing = inner.grants.iter_mut().find(|(_, g)| {
            !g.revoked && g.provider == provider && g.mailbox == mailbox && g.client_id == client_id
        });
        if let Some((id, grant)) = existing {
            for s in scopes {
                if !grant.scopes.contains(s) {
                    grant.scopes.push(s.clone());
                }
            }
            return *id;
        }
        inner.next_grant += 1;
        let id = inner.next_grant;
        inner.grants.insert(
            id,
            Grant {
                provider,
                mailbox: mailbox.to_string(),
                client_id: client_id.to_string(),
                scopes: scopes.to_vec(),
                revoked: false,
            },
        );
        id
    }

    /// Scopes a live grant of this client on this mailbox already holds.
    pub fn granted_scopes(
        &self,
        provider: Provider,
        mailbox: &str,
        client_id: &str,
    ) -> Vec<String> {
        let inner = self.inner.read();
        inner
            .grants
            .values()
            .filter(|g| {
                !g.revoked
                    && g.provider == provider
                    && g.mailbox.eq_ignore_ascii_case(mailbox)
                    && g.client_id == client_id
            })
            .flat_map(|g| g.scopes.clone())
            .collect()
    }

    /// Whether the grant already holds a live refresh token.
    pub fn has_refresh_token(&self, grant: u64) -> bool {
        let inner = self.inner.read();
        inner
            .refresh
            .values()
            .any(|r| r.grant == grant && !r.revoked)
    }

    pub fn issue_access(
        &self,
        prefix: &str,
        grant: u64,
        scopes: &[String],
        ttl: Duration,
    ) -> String {
        let token = format!("{prefix}{}", random_string(120));
        let now = SystemTime::now();
        let issued = Issued {
            grant,
            scopes: scopes.to_vec(),
            created: now,
            expires_at: Some(later(now, ttl)),
            revoked: false,
        };
        self.inner.write().access.insert(token.clone(), issued);
        token
    }

    /// Issue a refresh token; past `cap` live tokens for the grant the oldest dies silently.
    pub fn issue_refresh(&self, prefix: &str, grant: u64, scopes: &[String], cap: usize) -> String {
        let token = format!("{prefix}{}", random_string(100));
        let issued = Issued {
            grant,
            scopes: scopes.to_vec(),
            created: SystemTime::now(),
            expires_at: None,
            revoked: false,
        };
        let mut inner = self.inner.write();
        inner.refresh.insert(token.clone(), issued);
        let order = inner.refresh_order.entry(grant).or_default();
        order.push(token.clone());
        let excess = order.len().saturating_sub(cap);
        let dead: Vec<String> = order.drain(..excess).collect();
        for t in dead {
            if let Some(r) = inner.refresh.get_mut(&t) {
                r.revoked = true;
            }
        }
        token
    }

    fn info(inner: &Inner, issued: &Issued) -> Result<AccessInfo, TokenError> {
        let grant = inner.grants.get(&issued.grant).ok_or(TokenError::Unknown)?;
        if grant.revoked || issued.revoked {
            return Err(TokenError::Revoked);
        }
        Ok(AccessInfo {
            provider: grant.provider,
            mailbox: grant.mailbox.clone(),
            client_id: grant.client_id.clone(),
            scopes: issued.scopes.clone(),
            grant: issued.grant,
            expires_in: issued.expires_at.map(|e| {
                e.duration_since(SystemTime::now())
                    .map_or(0, |d| d.as_secs())
            }),
        })
    }

    /// Validate a bearer access token.
    pub fn check_access(&self, token: &str) -> Result<AccessInfo, TokenError> {
        let inner = self.inner.read();
        let issued = inner.access.get(token).ok_or(TokenError::Unknown)?;
        if issued.expires_at.is_some_and(|e| e < SystemTime::now()) {
            return Err(TokenError::Expired);
        }
        Self::info(&inner, issued)
    }

    /// Mailbox of a token, valid or not (for statistics).
    pub fn mailbox_of(&self, token: &str) -> Option<String> {
        let inner = self.inner.read();
        let issued = inner.access.get(token)?;
        inner.grants.get(&issued.grant).map(|g| g.mailbox.clone())
    }

    /// Validate a refresh token.
    pub fn check_refresh(&self, token: &str) -> Result<AccessInfo, TokenError> {
        let inner = self.inner.read();
        let issued = inner.refresh.get(token).ok_or(TokenError::Unknown)?;
        Self::info(&inner, issued)
    }

    /// Revoke the grant behind an access or refresh token; false if the token is unknown.
    pub fn revoke_token(&self, token: &str) -> bool {
        let mut inner = self.inner.write();
        let grant = inner
            .access
            .get(token)
            .or_else(|| inner.refresh.get(token))
            .map(|i| i.grant);
        let Some(grant) = grant else { return false };
        if let Some(g) = inner.grants.get_mut(&grant) {
            g.revoked = true;
        }
        true
    }

    /// Revoke a single refresh token (Microsoft rotation may use it).
    pub fn retire_refresh(&self, token: &str) {
        if let Some(r) = self.inner.write().refresh.get_mut(token) {
            r.revoked = true;
        }
    }

    /// The user removed the app: every grant on the mailbox dies. Returns how many.
    pub fn revoke_mailbox(&self, mailbox: &str) -> usize {
        let mut inner = self.inner.write();
        let mut n = 0;
        for g in inner
            .grants
            .values_mut()
            .filter(|g| g.mailbox == mailbox && !g.revoked)
        {
            g.revoked = true;
            n += 1;
        }
        n
    }

    /// Make every access token of a mailbox expire now (tests of the 401 -> refresh path).
    pub fn expire_access(&self, mailbox: &str) -> usize {
        let mut inner = self.inner.write();
        let grants: Vec<u64> = inner
            .grants
            .iter()
            .filter(|(_, g)| g.mailbox == mailbox)
            .map(|(id, _)| *id)
            .collect();
        let past = SystemTime::now() - Duration::from_secs(1);
        let mut n = 0;
        for issued in inner
            .access
            .values_mut()
            .filter(|i| grants.contains(&i.grant))
        {
            issued.expires_at = Some(past);
            n += 1;
        }
        n
    }

    /// Every token issued so far.
    pub fn list(&self) -> Vec<TokenRecord> {
        let inner = self.inner.read();
        let record = |kind: &'static str, token: &String, issued: &Issued| {
            let grant = inner.grants.get(&issued.grant)?;
            Some(TokenRecord {
                kind: kind.to_string(),
                token: token.clone(),
                provider: grant.provider,
                mailbox: grant.mailbox.clone(),
                client_id: grant.client_id.clone(),
                scopes: issued.scopes.clone(),
                issued_at: rfc3339(issued.created),
                expires_at: issued.expires_at.map(rfc3339),
                revoked: grant.revoked || issued.revoked,
            })
        };
        let mut out: Vec<TokenRecord> = inner
            .access
            .iter()
            .filter_map(|(t, i)| record("access", t, i))
            .chain(
                inner
                    .refresh
                    .iter()
                    .filter_map(|(t, i)| record("refresh", t, i)),
            )
            .collect();
        out.sort_by(|a, b| a.issued_at.cmp(&b.issued_at));
        out
    }
}

#[cfg(test)]
mod tests;
