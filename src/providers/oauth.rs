//! OAuth 2.0 authorization code flow with PKCE (S256) for Google and Microsoft: authorize URLs,
//! code exchange, refresh (Microsoft rotates refresh tokens), revoke, and granted-scope checks.
use chrono::{DateTime, Duration, Utc};
use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    Scope, TokenResponse, TokenUrl,
};

use super::{Provider, ProviderError, Secret};
use crate::config::{OAuthClient, Settings};
use crate::telemetry::record;

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

pub const GMAIL_READONLY: &str = "https://www.googleapis.com/auth/gmail.readonly";
/// Least privilege: read mail, know the address, stay linked (offline access).
const GOOGLE_SCOPES: [&str; 3] = ["openid", "email", GMAIL_READONLY];
const MICROSOFT_SCOPES: [&str; 5] = [
    "openid",
    "email",
    "offline_access",
    "User.Read",
    "Mail.Read",
];

/// One provider's registered OAuth client and endpoints.
#[derive(Clone, Debug)]
pub struct OAuthProvider {
    pub provider: Provider,
    client_id: String,
    client_secret: Secret,
    pub auth_url: String,
    pub token_url: String,
    pub revoke_url: Option<String>,
    /// Distinct per provider (mix-up defence): `{base}/mailboxes/oauth/{provider}/callback`.
    pub redirect_uri: String,
}

/// A started authorization: send the user to `url`; keep `state` and `pkce_verifier` in the
/// session until the callback.
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub pkce_verifier: Secret,
}

/// Tokens from a code exchange or a refresh.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: Secret,
    /// Absent on Google refreshes (Google does not rotate); present on every Microsoft one.
    pub refresh_token: Option<Secret>,
    pub expires_at: DateTime<Utc>,
    /// Granted scopes (granular consent may grant fewer than requested).
    pub scopes: Vec<String>,
}

impl OAuthProvider {
    pub fn new(provider: Provider, client: &OAuthClient, settings: &Settings) -> Self {
        let urls = &settings.provider_urls;
        let (auth_url, token_url, revoke_url) = match provider {
            Provider::Google => (
                format!("{}/o/oauth2/v2/auth", urls.google_accounts),
                format!("{}/token", urls.google_oauth2),
                Some(format!("{}/revoke", urls.google_oauth2)),
            ),
            Provider::Microsoft => {
                let base = format!(
                    "{}/{}/oauth2/v2.0",
                    urls.microsoft_login, settings.microsoft_tenant
                );
                (format!("{base}/authorize"), format!("{base}/token"), None)
            }
        };
        Self {
            provider,
            client_id: client.client_id.clone(),
            client_secret: Secret::new(client.client_secret.clone()),
            auth_url,
            token_url,
            revoke_url,
            redirect_uri: format!(
                "{}/mailboxes/oauth/{}/callback",
                settings.base_url, provider
            ),
        }
    }

    /// What the consent asks for: least privilege, plus the provider's modify scope when the
    /// mailbox is to write the reader's marks back (`write`).
    pub fn requested_scopes(&self, write: bool) -> Vec<&'static str> {
        let mut scopes: Vec<&'static str> = match self.provider {
            Provider::Google => GOOGLE_SCOPES.to_vec(),
            Provider::Microsoft => MICROSOFT_SCOPES.to_vec(),
        };
        if write {
            scopes.push(crate::domain::write_back::write_scope(self.provider));
        }
        scopes
    }

    fn client(&self) -> Result<Client, ProviderError> {
        let bad =
            |e: oauth2::url::ParseError| ProviderError::Permanent(format!("bad OAuth URL: {e}"));
        Ok(BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_client_secret(ClientSecret::new(self.client_secret.expose().to_string()))
            .set_auth_type(AuthType::RequestBody)
            .set_auth_uri(AuthUrl::new(self.auth_url.clone()).map_err(bad)?)
            .set_token_uri(TokenUrl::new(self.token_url.clone()).map_err(bad)?)
            .set_redirect_uri(RedirectUrl::new(self.redirect_uri.clone()).map_err(bad)?))
    }

    /// Build the consent URL with a fresh one-time state and PKCE challenge; `write` also asks
    /// for the modify scope (write-back).
    pub fn authorize(
        &self,
        login_hint: Option<&str>,
        write: bool,
    ) -> Result<Authorization, ProviderError> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let client = self.client()?;
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(
                self.requested_scopes(write)
                    .iter()
                    .map(|s| Scope::new((*s).to_string())),
            )
            .set_pkce_challenge(challenge);
        if self.provider == Provider::Google {
            // A refresh token, every time (Google only sends one on a fresh consent).
            request = request
                .add_extra_param("access_type", "offline")
                .add_extra_param("prompt", "consent");
        }
        if let Some(hint) = login_hint {
            request = request.add_extra_param("login_hint", hint.to_string());
        }
        let (url, state) = request.url();
        Ok(Authorization {
            url: url.to_string(),
            state: state.secret().clone(),
            pkce_verifier: Secret::new(verifier.secret().clone()),
        })
    }

    pub async fn exchange_code(
        &self,
        http: &reqwest::Client,
        code: &str,
        pkce_verifier: &Secret,
    ) -> Result<TokenSet, ProviderError> {
        let response = self
            .client()?
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.expose().to_string()))
            .request_async(&Recorded {
                http,
                provider: self.provider,
            })
            .await
            .map_err(classify)?;
        Ok(self.token_set(&response))
    }

    pub async fn refresh(
        &self,
        http: &reqwest::Client,
        refresh_token: &Secret,
    ) -> Result<TokenSet, ProviderError> {
        let token = RefreshToken::new(refresh_token.expose().to_string());
        let response = self
            .client()?
            .exchange_refresh_token(&token)
            .request_async(&Recorded {
                http,
                provider: self.provider,
            })
            .await
            .map_err(classify)?;
        let mut tokens = self.token_set(&response);
        if response.scopes().is_none() {
            // Not reported: the grant keeps the scopes stored with it (write access included).
            tokens.scopes.clear();
        }
        Ok(tokens)
    }

    /// Revoke the grant where the provider has an endpoint (Google). Microsoft has none for
    /// delegated grants: deleting our tokens is all we can do.
    pub async fn revoke(
        &self,
        http: &reqwest::Client,
        token: &Secret,
    ) -> Result<bool, ProviderError> {
        let Some(url) = &self.revoke_url else {
            return Ok(false);
        };
        let req = http.post(url).form(&[("token", token.expose())]);
        let res = record::provider_request(self.provider, "token.revoke", req)
            .await
            .map_err(|e| ProviderError::Transient(e.without_url().to_string()))?;
        match res.status().as_u16() {
            // 400: already revoked or expired; the grant is gone either way.
            200 | 400 => Ok(true),
            s if s >= 500 => Err(ProviderError::Transient(format!("revoke answered {s}"))),
            s => Err(ProviderError::Permanent(format!("revoke answered {s}"))),
        }
    }

    fn token_set(&self, response: &BasicTokenResponse) -> TokenSet {
        let lifetime = response
            .expires_in()
            .and_then(|d| Duration::from_std(d).ok());
        let scopes = response.scopes().map_or_else(
            || {
                self.requested_scopes(false)
                    .iter()
                    .map(|s| (*s).to_string())
                    .collect()
            },
            |granted| granted.iter().map(|s| s.to_string()).collect(),
        );
        TokenSet {
            access_token: Secret::new(response.access_token().secret().clone()),
            refresh_token: response
                .refresh_token()
                .map(|t| Secret::new(t.secret().clone())),
            expires_at: Utc::now() + lifetime.unwrap_or_else(|| Duration::hours(1)),
            scopes,
        }
    }

    /// Scopes Threadline needs that the user did not grant, each with what it means.
    pub fn missing_scopes(&self, granted: &[String]) -> Vec<&'static str> {
        let has = |want: &str| {
            granted.iter().any(|g| {
                let g = g.strip_prefix("https://graph.microsoft.com/").unwrap_or(g);
                g.eq_ignore_ascii_case(want)
            })
        };
        match self.provider {
            Provider::Google => {
                let reads_mail = has(GMAIL_READONLY)
                    || has("https://www.googleapis.com/auth/gmail.modify")
                    || has("https://mail.google.com/");
                let mut missing = Vec::new();
                if !reads_mail {
                    missing.push("Read your email (gmail.readonly): without it Threadline cannot sync any mail.");
                }
                if !has("email") && !has("https://www.googleapis.com/auth/userinfo.email") {
                    missing.push(
                        "See your email address (email): needed to know which mailbox this is.",
                    );
                }
                missing
            }
            Provider::Microsoft => {
                let mut missing = Vec::new();
                if !has("Mail.Read") && !has("Mail.ReadWrite") {
                    missing.push(
                        "Read your mail (Mail.Read): without it Threadline cannot sync any mail.",
                    );
                }
                if !has("User.Read") {
                    missing.push("Sign you in and read your profile (User.Read): needed to know which mailbox this is.");
                }
                missing
            }
        }
    }
}

fn classify<RE: std::error::Error + 'static>(
    err: RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
) -> ProviderError {
    match err {
        RequestTokenError::ServerResponse(resp) => {
            let detail = resp
                .error_description()
                .cloned()
                .unwrap_or_else(|| resp.error().to_string());
            match resp.error() {
                BasicErrorResponseType::InvalidGrant => ProviderError::InvalidGrant(detail),
                _ => ProviderError::Permanent(format!("{}: {detail}", resp.error())),
            }
        }
        RequestTokenError::Request(e) => ProviderError::Transient(e.to_string()),
        RequestTokenError::Parse(_, body) => ProviderError::Transient(format!(
            "unexpected token endpoint response ({} bytes)",
            body.len()
        )),
        RequestTokenError::Other(msg) => ProviderError::Transient(msg),
    }
}

/// The OAuth client's HTTP calls (code exchange, refresh) through `http`, each recorded in the
/// metrics as the provider's `token` endpoint.
struct Recorded<'a> {
    http: &'a reqwest::Client,
    provider: Provider,
}

impl<'c> oauth2::AsyncHttpClient<'c> for Recorded<'_> {
    type Error = oauth2::HttpClientError<reqwest::Error>;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<oauth2::HttpResponse, Self::Error>>
                + Send
                + Sync
                + 'c,
        >,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let began = std::time::Instant::now();
            let result = self.http.call(request).await;
            let status = result.as_ref().ok().map(|r| r.status().as_u16());
            record::provider_answered(self.provider, "token", status, began.elapsed());
            result
        })
    }
}
