//! Graph calls the sync engine needs: mail folders (well-known names, child folders), per-folder
//! message delta (first request, then `@odata.nextLink` / `@odata.deltaLink` verbatim) and the
//! MIME text (`$value`); where messages are now is asked in batches (`super::batch`). Every
//! request asks for immutable ids; failures come back as a classified [`ProviderError`] (see
//! `super::errors`).
use chrono::{DateTime, Utc};
use reqwest::{Response, StatusCode};
use serde::de::DeserializeOwned;

use super::errors::{classify, retry_after};
use super::wire;
use crate::providers::{Provider, ProviderError, Providers, Secret};
use crate::telemetry::record;

/// Ids that survive moves between folders (trap 15): the delta of the target folder names the
/// same id the source folder reported `@removed`.
pub(super) const IMMUTABLE_IDS: &str = r#"IdType="ImmutableId""#;
/// The light fields delta pages carry; content comes from `$value`.
const LIGHT_SELECT: &str =
    "id,isRead,flag,parentFolderId,receivedDateTime,internetMessageId,conversationId";
/// Graph's largest delta page.
pub const MAX_PAGE: u32 = 1000;

/// A mail folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub id: String,
    pub display_name: String,
    pub parent_id: Option<String>,
    pub child_count: u64,
    pub total: u64,
}

/// What a delta page (or a light GET) says about a message, without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Light {
    pub id: String,
    pub read: bool,
    pub flagged: bool,
    pub folder_id: Option<String>,
    pub received_at: Option<DateTime<Utc>>,
    pub conversation_id: Option<String>,
}

/// One entry of a delta page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeltaItem {
    /// Created or changed in the folder (Graph does not say which): upsert.
    Upsert(Light),
    /// Left the folder: deleted, or moved elsewhere.
    Removed(String),
}

#[derive(Debug, Clone, Default)]
pub struct DeltaPage {
    pub items: Vec<DeltaItem>,
    /// More pages of this round.
    pub next_link: Option<String>,
    /// The round is complete: the link that starts the next one.
    pub delta_link: Option<String>,
}

/// A Graph client for one base URL (`Providers::graph_api`: the real host or an emulator) and
/// one mailbox: the signed-in user's (`/me`, delegated tokens) or a directory user's
/// (`/users/{id}`, app-only tokens of an organization-wide connection).
#[derive(Clone)]
pub struct GraphClient {
    pub(super) http: reqwest::Client,
    pub(super) base: String,
    /// The mailbox's path after `/v1.0/`: `me` or `users/{id}` (the id percent-encoded).
    pub(super) mailbox: String,
}

impl GraphClient {
    /// A client for the signed-in user's mailbox (`/v1.0/me/...`).
    pub fn new(providers: &Providers) -> Self {
        Self {
            http: providers.http.clone(),
            base: providers.graph_api.trim_end_matches('/').to_string(),
            mailbox: "me".into(),
        }
    }

    /// The same client for a directory user's mailbox (`/v1.0/users/{id}/...`, `id` the
    /// user's immutable directory id): every request, delta link and batch part goes there.
    #[must_use]
    pub fn for_user(mut self, directory_id: &str) -> Self {
        self.mailbox = format!("users/{}", segment(directory_id));
        self
    }

    /// The mailbox's path after the version: `me` or `users/{id}`.
    pub fn mailbox(&self) -> &str {
        &self.mailbox
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}/v1.0/{}{path}", self.base, self.mailbox)
    }

    /// A folder by well-known name (`inbox`, `sentitems`, ...) or id; None when Graph does not
    /// know it (404, or 400 for a malformed id).
    pub async fn folder(
        &self,
        token: &Secret,
        name: &str,
    ) -> Result<Option<Folder>, ProviderError> {
        let url = self.url(&format!("/mailFolders/{}", segment(name)));
        let res = self.send("mailFolders.get", &url, token, None).await?;
        if matches!(
            res.status(),
            StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST
        ) {
            mailbox_level(res).await?;
            return Ok(None);
        }
        let f: wire::MailFolder = decode(check(res).await?).await?;
        Ok(Some(folder(f)))
    }

    /// The top-level folders, or the children of `parent`, every page.
    pub async fn folders(
        &self,
        token: &Secret,
        parent: Option<&str>,
    ) -> Result<Vec<Folder>, ProviderError> {
        let path = match parent {
            Some(id) => format!("/mailFolders/{}/childFolders?$top=100", segment(id)),
            None => "/mailFolders?$top=100".to_string(),
        };
        let mut url = self.url(&path);
        let mut out = Vec::new();
        loop {
            let res = check(self.send("mailFolders.list", &url, token, None).await?).await?;
            let page: wire::Page = decode(res).await?;
            out.extend(
                page.value
                    .into_iter()
                    .filter_map(|v| serde_json::from_value::<wire::MailFolder>(v).ok())
                    .map(folder),
            );
            match page.next_link {
                Some(next) => url = self.own(next)?,
                None => return Ok(out),
            }
        }
    }

    /// The first page of a new delta round over a folder: every message in it, newest first,
    /// optionally only those received on or after `since` (`YYYY-MM-DDT00:00:00Z`).
    pub async fn delta_start(
        &self,
        token: &Secret,
        folder_id: &str,
        since: Option<&str>,
        page_size: u32,
    ) -> Result<DeltaPage, ProviderError> {
        let mut url = url::Url::parse(&self.url(&format!(
            "/mailFolders/{}/messages/delta",
            segment(folder_id)
        )))
        .map_err(|e| ProviderError::Permanent(format!("bad Graph URL: {e}")))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("$select", LIGHT_SELECT);
            if let Some(since) = since {
                q.append_pair("$filter", &format!("receivedDateTime ge {since}"));
            }
            q.append_pair("$orderby", "receivedDateTime desc");
        }
        self.delta_page(url.as_str(), token, page_size).await
    }

    /// The next page of a round (`@odata.nextLink`) or a new round (`@odata.deltaLink`),
    /// followed verbatim. A link that does not point at this client's host is treated as an
    /// expired cursor (the mailbox was synced against another endpoint): resync.
    pub async fn delta_follow(
        &self,
        token: &Secret,
        link: &str,
        page_size: u32,
    ) -> Result<DeltaPage, ProviderError> {
        if !self.is_own(link) {
            return Err(ProviderError::Gone);
        }
        self.delta_page(link, token, page_size).await
    }

    async fn delta_page(
        &self,
        url: &str,
        token: &Secret,
        page_size: u32,
    ) -> Result<DeltaPage, ProviderError> {
        let res = self
            .send("messages.delta", url, token, Some(page_size))
            .await?;
        if res.status() == StatusCode::NOT_FOUND {
            mailbox_level(res).await?;
            return Err(ProviderError::Permanent(
                "HTTP 404: the folder is gone".into(),
            ));
        }
        let page: wire::Page = decode(check(res).await?).await?;
        let mut items = Vec::with_capacity(page.value.len());
        for v in page.value {
            match serde_json::from_value::<wire::Message>(v) {
                Ok(m) if m.id.is_empty() => {}
                Ok(m) if m.removed.is_some() => items.push(DeltaItem::Removed(m.id)),
                Ok(m) => items.push(DeltaItem::Upsert(light(m))),
                Err(e) => tracing::warn!(error = %e, "skipping an unreadable Graph delta item"),
            }
        }
        let next_link = page.next_link.map(|l| self.own(l)).transpose()?;
        let delta_link = page.delta_link.map(|l| self.own(l)).transpose()?;
        if next_link.is_none() && delta_link.is_none() {
            return Err(ProviderError::Permanent(
                "Graph delta page without nextLink or deltaLink".into(),
            ));
        }
        Ok(DeltaPage {
            items,
            next_link,
            delta_link,
        })
    }

    /// The message as MIME text (`$value`), or None when it no longer exists.
    pub async fn mime(&self, token: &Secret, id: &str) -> Result<Option<Vec<u8>>, ProviderError> {
        let url = self.url(&format!("/messages/{}/$value", segment(id)));
        let res = self.send("messages.$value", &url, token, None).await?;
        if res.status() == StatusCode::NOT_FOUND {
            mailbox_level(res).await?;
            return Ok(None);
        }
        let bytes = check(res)
            .await?
            .bytes()
            .await
            .map_err(|e| ProviderError::Transient(e.without_url().to_string()))?;
        Ok(Some(bytes.to_vec()))
    }

    fn is_own(&self, link: &str) -> bool {
        link.strip_prefix(&self.base)
            .is_some_and(|rest| rest.starts_with('/'))
    }

    /// A link from a response, refused when it leaves the configured host (the bearer token
    /// must never travel elsewhere).
    fn own(&self, link: String) -> Result<String, ProviderError> {
        if self.is_own(&link) {
            Ok(link)
        } else {
            Err(ProviderError::Permanent(
                "Graph returned a link to another host".into(),
            ))
        }
    }

    /// Sends a GET (recorded in the metrics as `endpoint`, a fixed name); connection failures
    /// are transient, every status is left to the caller.
    pub(super) async fn send(
        &self,
        endpoint: &'static str,
        url: &str,
        token: &Secret,
        page_size: Option<u32>,
    ) -> Result<Response, ProviderError> {
        let mut req = self
            .http
            .get(url)
            .bearer_auth(token.expose())
            .header("Prefer", IMMUTABLE_IDS);
        if let Some(n) = page_size {
            req = req.header(
                "Prefer",
                format!("odata.maxpagesize={}", n.clamp(1, MAX_PAGE)),
            );
        }
        record::provider_request(Provider::Microsoft, endpoint, req)
            .await
            .map_err(|e| ProviderError::Transient(e.without_url().to_string()))
    }
}

/// Passes a success through; classifies anything else.
pub(super) async fn check(res: Response) -> Result<Response, ProviderError> {
    let status = res.status();
    if status.is_success() {
        return Ok(res);
    }
    let wait = retry_after(res.headers());
    let body: wire::ErrorBody = res.json().await.unwrap_or_default();
    Err(classify(status, wait, &body))
}

/// A 404 or 400 the caller reads as "no such item": an error when it is about the whole
/// mailbox instead (404 `MailboxNotEnabledForRESTAPI`: the user has no mailbox), so a mailbox
/// without mail is never taken for an empty one.
async fn mailbox_level(res: Response) -> Result<(), ProviderError> {
    let status = res.status();
    let body: wire::ErrorBody = res.json().await.unwrap_or_default();
    match classify(status, None, &body) {
        e @ ProviderError::Refused(_) => Err(e),
        _ => Ok(()),
    }
}

pub(super) async fn decode<T: DeserializeOwned>(res: Response) -> Result<T, ProviderError> {
    let bytes = res
        .bytes()
        .await
        .map_err(|e| ProviderError::Transient(e.without_url().to_string()))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ProviderError::Permanent(format!("unexpected Graph answer: {e}")))
}

fn folder(f: wire::MailFolder) -> Folder {
    let count = |n: Option<i64>| n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
    Folder {
        id: f.id,
        display_name: f.display_name,
        parent_id: f.parent_folder_id,
        child_count: count(f.child_folder_count),
        total: count(f.total_item_count),
    }
}

pub(super) fn light(m: wire::Message) -> Light {
    Light {
        id: m.id,
        read: m.is_read.unwrap_or(false),
        flagged: m
            .flag
            .is_some_and(|f| f.flag_status.eq_ignore_ascii_case("flagged")),
        folder_id: m.parent_folder_id.filter(|f| !f.is_empty()),
        received_at: m
            .received_date_time
            .and_then(|d| DateTime::parse_from_rfc3339(&d).ok())
            .map(|d| d.with_timezone(&Utc)),
        conversation_id: m.conversation_id.filter(|c| !c.is_empty()),
    }
}

/// A provider id as one path segment: anything but unreserved characters is percent-encoded,
/// so `/`, `?`, `#` or `..` from a provider can never change the request's path.
pub(super) fn segment(id: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
    out
}

/// Parse a body for tests of the wire handling without a server.
#[cfg(test)]
pub(super) fn items_of(json: &serde_json::Value) -> Vec<DeltaItem> {
    let page: wire::Page = serde_json::from_value(json.clone()).unwrap_or_default();
    page.value
        .into_iter()
        .filter_map(|v| serde_json::from_value::<wire::Message>(v).ok())
        .map(|m| match m.removed {
            Some(_) => DeltaItem::Removed(m.id),
            None => DeltaItem::Upsert(light(m)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn path_segments_cannot_escape() {
        assert_eq!(segment("AAMk-_x"), "AAMk-_x");
        assert_eq!(segment("a/b?c#d=="), "a%2Fb%3Fc%23d%3D%3D");
        assert_eq!(segment(".."), "%2E%2E");
    }

    #[test]
    fn delta_items_read_flags_and_removals() {
        let page = json!({"value": [
            {"id": "a", "isRead": true, "flag": {"flagStatus": "Flagged"}, "parentFolderId": "f",
             "receivedDateTime": "2026-11-16T10:00:00Z", "conversationId": "c"},
            {"id": "b", "@removed": {"reason": "deleted"}},
            {"id": "c", "flag": {"flagStatus": "complete"}},
            {"noid": true}
        ], "@odata.deltaLink": "x"});
        let items = items_of(&page);
        assert_eq!(items.len(), 3);
        let DeltaItem::Upsert(a) = &items[0] else {
            panic!("upsert")
        };
        assert!(a.read && a.flagged);
        assert_eq!(a.folder_id.as_deref(), Some("f"));
        assert!(a.received_at.is_some());
        assert_eq!(items[1], DeltaItem::Removed("b".into()));
        let DeltaItem::Upsert(c) = &items[2] else {
            panic!("upsert")
        };
        assert!(!c.read && !c.flagged);
    }

    #[test]
    fn links_must_stay_on_the_configured_host() {
        let c = GraphClient {
            http: reqwest::Client::new(),
            base: "https://graph.example".into(),
            mailbox: "me".into(),
        };
        assert!(c.is_own("https://graph.example/v1.0/me/x"));
        assert!(!c.is_own("https://graph.example.evil/v1.0"));
        assert!(!c.is_own("https://other/v1.0"));
        assert!(c.own("https://other/".into()).is_err());
    }

    #[test]
    fn a_directory_user_s_mailbox_is_addressed_by_id() {
        let c = GraphClient {
            http: reqwest::Client::new(),
            base: "https://graph.example".into(),
            mailbox: "me".into(),
        };
        assert_eq!(
            c.url("/mailFolders"),
            "https://graph.example/v1.0/me/mailFolders"
        );
        let user = c.for_user("6f1c/../x");
        assert_eq!(user.mailbox(), "users/6f1c%2F%2E%2E%2Fx");
        assert_eq!(
            user.url("/messages/a/$value"),
            "https://graph.example/v1.0/users/6f1c%2F%2E%2E%2Fx/messages/a/$value"
        );
    }
}
