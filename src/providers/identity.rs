//! Which mailbox a fresh grant belongs to: Google's OpenID userinfo, Graph's `/me`
//! (`mail`, else `userPrincipalName`: `mail` is null for some accounts).
use serde::Deserialize;

use super::{Provider, ProviderError, Providers, Secret};
use crate::telemetry::record;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxIdentity {
    pub address: String,
    pub display_name: String,
}

#[derive(Deserialize)]
struct UserInfo {
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<bool>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphMe {
    mail: Option<String>,
    user_principal_name: Option<String>,
    display_name: Option<String>,
}

/// Map an HTTP status of a provider API to an error kind.
pub fn status_error(status: reqwest::StatusCode, retry_after: Option<&str>) -> ProviderError {
    let retry_after = retry_after
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(std::time::Duration::from_secs);
    match status.as_u16() {
        401 => ProviderError::Unauthorized,
        429 => ProviderError::RateLimited { retry_after },
        404 | 410 => ProviderError::Gone,
        s if s >= 500 => ProviderError::Transient(format!("HTTP {s}")),
        s => ProviderError::Permanent(format!("HTTP {s}")),
    }
}

async fn get_json<T: for<'de> Deserialize<'de>>(
    providers: &Providers,
    (provider, endpoint): (Provider, &'static str),
    url: &str,
    token: &Secret,
) -> Result<T, ProviderError> {
    let req = providers.http.get(url).bearer_auth(token.expose());
    let res = record::provider_request(provider, endpoint, req)
        .await
        .map_err(|e| ProviderError::Transient(e.without_url().to_string()))?;
    if !res.status().is_success() {
        let retry = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        return Err(status_error(res.status(), retry.as_deref()));
    }
    res.json()
        .await
        .map_err(|e| ProviderError::Permanent(format!("unexpected answer: {e}")))
}

pub async fn fetch(
    providers: &Providers,
    provider: Provider,
    token: &Secret,
) -> Result<MailboxIdentity, ProviderError> {
    match provider {
        Provider::Google => {
            let url = format!("{}/v1/userinfo", providers.google_openid);
            let info: UserInfo = get_json(providers, (provider, "userinfo"), &url, token).await?;
            let address = info
                .email
                .filter(|_| info.email_verified != Some(false))
                .ok_or_else(|| {
                    ProviderError::Permanent("Google did not share a verified email address".into())
                })?;
            Ok(MailboxIdentity {
                address,
                display_name: info.name.unwrap_or_default(),
            })
        }
        Provider::Microsoft => {
            let url = format!(
                "{}/v1.0/me?$select=mail,userPrincipalName,displayName",
                providers.graph_api
            );
            let me: GraphMe = get_json(providers, (provider, "me"), &url, token).await?;
            let address = me
                .mail
                .filter(|m| !m.is_empty())
                .or(me.user_principal_name)
                .ok_or_else(|| {
                    ProviderError::Permanent("Microsoft did not share an address".into())
                })?;
            Ok(MailboxIdentity {
                address,
                display_name: me.display_name.unwrap_or_default(),
            })
        }
    }
}
