//! The seam to Google and Microsoft: OAuth (authorize, code exchange, refresh, revoke), mailbox
//! identity, and mail (the Gmail and Graph clients, and MIME parsing into the domain's
//! normalized message). Wire types stay private to these modules; base URLs and timeouts are
//! injected; tokens are redacted in `Debug`. Nothing here touches the database.
pub mod app_auth;
pub mod directory;
pub mod gmail;
pub mod graph;
pub mod identity;
pub mod mime;
pub mod oauth;
pub mod pubsub;

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{OAuthClient, Settings};
pub use crate::domain::provider::Provider;

/// Provider failures, classified so callers decide by kind, never by message text.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The grant is gone (revoked, expired, password changed): the user must reconnect.
    #[error("the provider no longer accepts this mailbox's authorization: {0}")]
    InvalidGrant(String),
    /// The access token was refused; refresh and retry once.
    #[error("access token refused")]
    Unauthorized,
    #[error("rate limited by the provider")]
    RateLimited { retry_after: Option<Duration> },
    /// A sync cursor expired (Gmail history 404, Graph delta 410).
    #[error("sync cursor expired")]
    Gone,
    #[error("provider temporarily unavailable: {0}")]
    Transient(String),
    #[error("provider refused the request: {0}")]
    Permanent(String),
    /// The tenant's or domain's policy keeps this mailbox from the app (outside the app's
    /// RBAC scope, no Exchange Online mailbox, no Gmail, delegation not granted, a suspended
    /// or unknown user): nothing to retry until an administrator changes something.
    #[error("{0}")]
    Refused(String),
}

/// The `{"error": {...}}` body Google and Microsoft APIs send with a failure; `D` is each API's
/// own detail shape.
#[derive(Deserialize, Default)]
pub(crate) struct ErrorBody<D> {
    pub error: Option<D>,
}

/// A secret string that never shows in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Everything needed to talk to the providers: configured OAuth clients and one HTTP client
/// (redirects off, timeouts on).
#[derive(Clone, Debug)]
pub struct Providers {
    pub http: reqwest::Client,
    pub google: Option<oauth::OAuthProvider>,
    pub microsoft: Option<oauth::OAuthProvider>,
    pub gmail_api: String,
    pub graph_api: String,
    pub google_openid: String,
    /// Hosts organization-wide connections use: the Microsoft identity platform (app-only
    /// tokens, admin consent), Google's token endpoint (JWT bearer grant) and the Admin SDK.
    pub microsoft_login: String,
    pub google_oauth2: String,
    pub google_admin: String,
    /// The Gmail project's per-user quota in units per minute (the sync limiter's budget).
    pub gmail_units_per_minute: u32,
    /// Graph requests per app and mailbox per 10 minutes (the Outlook limiter's budget).
    pub graph_requests_per_10_minutes: u32,
    /// Threadline's public URL (push endpoints live under it) and the push settings.
    pub base_url: String,
    pub push: crate::config_push::PushSettings,
    /// Google's keys that sign Pub/Sub push tokens, cached (`GOOGLE_CERTS_URL`).
    pub google_certs: std::sync::Arc<pubsub::CertsCache>,
}

impl Providers {
    pub fn from_settings(settings: &Settings) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("threadline/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let urls = &settings.provider_urls;
        let make = |provider: Provider, client: &Option<OAuthClient>| {
            client
                .as_ref()
                .map(|c| oauth::OAuthProvider::new(provider, c, settings))
        };
        Ok(Self {
            http,
            google: make(Provider::Google, &settings.google),
            microsoft: make(Provider::Microsoft, &settings.microsoft),
            gmail_api: urls.gmail_api.clone(),
            graph_api: urls.graph_api.clone(),
            google_openid: urls.google_openid.clone(),
            microsoft_login: urls.microsoft_login.clone(),
            google_oauth2: urls.google_oauth2.clone(),
            google_admin: urls.google_admin.clone(),
            gmail_units_per_minute: settings.gmail_units_per_minute,
            graph_requests_per_10_minutes: settings.graph_requests_per_10_minutes,
            base_url: settings.base_url.clone(),
            push: settings.push.clone(),
            google_certs: std::sync::Arc::default(),
        })
    }

    pub fn oauth(&self, provider: Provider) -> Option<&oauth::OAuthProvider> {
        match provider {
            Provider::Google => self.google.as_ref(),
            Provider::Microsoft => self.microsoft.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn secrets_never_show_in_debug() {
        let s = Secret::new("ya29.very-secret");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some([redacted])");
        assert_eq!(s.expose(), "ya29.very-secret");
    }
}
