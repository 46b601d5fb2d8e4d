//! "Can this connection read this mailbox?": one message id, the cheapest mail read each API
//! has. Graph `GET /v1.0/users/{id}/messages?$top=1&$select=id` (app-only token); Gmail
//! `GET /gmail/v1/users/{address}/messages?maxResults=1` (a token delegated as that user).
use super::{get_json, segment, DirectoryError};
use crate::providers::{Provider, Providers, Secret};

/// The newest message's id, or `None` for an empty mailbox.
pub async fn graph_first_message(
    providers: &Providers,
    token: &Secret,
    user: &str,
) -> Result<Option<String>, DirectoryError> {
    let url = format!(
        "{}/v1.0/users/{}/messages?$top=1&$select=id",
        providers.graph_api.trim_end_matches('/'),
        segment(user)
    );
    let probe = (Provider::Microsoft, "messages.list");
    let body = get_json(&providers.http, probe, token, &url, &[]).await?;
    Ok(body["value"][0]["id"].as_str().map(str::to_string))
}

/// The newest message's id, or `None` for an empty mailbox.
pub async fn gmail_first_message(
    providers: &Providers,
    token: &Secret,
    address: &str,
) -> Result<Option<String>, DirectoryError> {
    let url = format!(
        "{}/gmail/v1/users/{}/messages?maxResults=1",
        providers.gmail_api.trim_end_matches('/'),
        segment(address)
    );
    let probe = (Provider::Google, "messages.list");
    let body = get_json(&providers.http, probe, token, &url, &[]).await?;
    Ok(body["messages"][0]["id"].as_str().map(str::to_string))
}
