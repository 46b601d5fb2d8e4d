//! The Google Admin SDK Directory API, read as a delegated Workspace administrator:
//! `GET {admin}/admin/directory/v1/users?customer=my_customer` with `query` (e.g.
//! `orgUnitPath='/Sales' isSuspended=false`), `maxResults`, `pageToken`, and one user by
//! address or id.
use serde::Deserialize;

use super::{get_json, segment, DirectoryError, Page};
use crate::providers::{Provider, Providers, Secret};

/// The largest page the Directory API gives.
pub const MAX_RESULTS: u32 = 500;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoogleUser {
    /// Immutable: what a mailbox follows across renames.
    pub id: String,
    pub primary_email: String,
    #[serde(default)]
    pub name: Option<GoogleName>,
    #[serde(default)]
    pub suspended: bool,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub org_unit_path: Option<String>,
    /// False for a user without Gmail.
    #[serde(default = "yes")]
    pub is_mailbox_setup: bool,
    #[serde(default)]
    pub is_admin: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoogleName {
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
}

impl GoogleUser {
    pub fn full_name(&self) -> Option<&str> {
        self.name.as_ref().and_then(|n| n.full_name.as_deref())
    }
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// A Directory search query (`orgUnitPath='/Sales'`, `isSuspended=false`, `email:sup*`).
    pub query: Option<String>,
    /// Restrict to one domain of the customer (default: every domain of `my_customer`).
    pub domain: Option<String>,
    /// Page size (1..=500; Google's default is 100).
    pub max_results: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsersAnswer {
    #[serde(default)]
    users: Vec<GoogleUser>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Clone, Debug)]
pub struct GoogleDirectory {
    http: reqwest::Client,
    base: String,
}

impl GoogleDirectory {
    pub fn new(providers: &Providers) -> Self {
        Self {
            http: providers.http.clone(),
            base: providers.google_admin.trim_end_matches('/').to_string(),
        }
    }

    fn list_url(&self, query: &UserQuery, page_token: Option<&str>) -> String {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        match query.domain.as_deref().filter(|d| !d.is_empty()) {
            Some(domain) => pairs.append_pair("domain", domain),
            None => pairs.append_pair("customer", "my_customer"),
        };
        pairs.append_pair("orderBy", "email");
        if let Some(max) = query.max_results {
            pairs.append_pair("maxResults", &max.clamp(1, MAX_RESULTS).to_string());
        }
        if let Some(q) = query.query.as_deref().filter(|q| !q.trim().is_empty()) {
            pairs.append_pair("query", q.trim());
        }
        if let Some(page_token) = page_token {
            pairs.append_pair("pageToken", page_token);
        }
        format!("{}/admin/directory/v1/users?{}", self.base, pairs.finish())
    }

    /// One page of users; `page_token` from the previous page's `next`.
    pub async fn users(
        &self,
        token: &Secret,
        query: &UserQuery,
        page_token: Option<&str>,
    ) -> Result<Page<GoogleUser>, DirectoryError> {
        let url = self.list_url(query, page_token);
        let body = get_json(
            &self.http,
            (Provider::Google, "directory.users.list"),
            token,
            &url,
            &[],
        )
        .await?;
        let answer: UsersAnswer =
            serde_json::from_value(body).map_err(|e| DirectoryError::Decode(e.to_string()))?;
        Ok(Page {
            items: answer.users,
            next: answer.next_page_token.filter(|t| !t.is_empty()),
            count: None,
        })
    }

    /// Every user the query matches, at most `limit`.
    pub async fn all_users(
        &self,
        token: &Secret,
        query: &UserQuery,
        limit: Option<usize>,
    ) -> Result<Vec<GoogleUser>, DirectoryError> {
        let mut out = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let mut page = self.users(token, query, page_token.as_deref()).await?;
            out.append(&mut page.items);
            if let Some(limit) = limit {
                if out.len() >= limit {
                    out.truncate(limit);
                    return Ok(out);
                }
            }
            match page.next {
                Some(next) => page_token = Some(next),
                None => return Ok(out),
            }
        }
    }

    /// One user by primary address or id; `None` when there is no such user.
    pub async fn user(
        &self,
        token: &Secret,
        key: &str,
    ) -> Result<Option<GoogleUser>, DirectoryError> {
        let url = format!("{}/admin/directory/v1/users/{}", self.base, segment(key));
        match get_json(
            &self.http,
            (Provider::Google, "directory.users.get"),
            token,
            &url,
            &[],
        )
        .await
        {
            Ok(body) => serde_json::from_value(body)
                .map(Some)
                .map_err(|e| DirectoryError::Decode(e.to_string())),
            Err(DirectoryError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_parse_with_defaults() {
        let body = serde_json::json!({"kind":"admin#directory#users","users":[
            {"id":"1","primaryEmail":"a@x.test","suspended":true,"orgUnitPath":"/Sales",
             "name":{"fullName":"A B"}}],"nextPageToken":"t"});
        let answer: UsersAnswer = serde_json::from_value(body).unwrap();
        let u = &answer.users[0];
        assert!(u.suspended && u.is_mailbox_setup && !u.archived);
        assert_eq!(u.full_name(), Some("A B"));
        assert_eq!(answer.next_page_token.as_deref(), Some("t"));
    }
}
