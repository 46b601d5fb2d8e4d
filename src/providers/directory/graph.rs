//! Microsoft Graph directory reads, app-only: `GET /v1.0/users` (with `$select`, `$top`,
//! `$filter`, and `$count=true` + `ConsistencyLevel: eventual` for advanced queries), paged by
//! `@odata.nextLink`; `GET /v1.0/groups/{id}/members/microsoft.graph.user`; `GET /v1.0/users/{id}`;
//! `GET /v1.0/groups`.
use serde::Deserialize;
use serde_json::Value;

use super::{get_json, segment, DirectoryError, Page};
use crate::providers::{Provider, Providers, Secret};

/// The user properties Threadline reads.
pub const USER_SELECT: &str =
    "id,displayName,mail,userPrincipalName,accountEnabled,department,jobTitle,officeLocation,userType";
/// The largest page Graph gives for users.
pub const MAX_TOP: u32 = 999;

/// A directory user (or shared mailbox: Graph has no property that tells them apart).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphUser {
    /// Immutable: what a mailbox follows across renames.
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub account_enabled: Option<bool>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    #[serde(default)]
    pub office_location: Option<String>,
    #[serde(default)]
    pub user_type: Option<String>,
}

impl GraphUser {
    /// The address mail goes to: `mail`, or the UPN when there is none.
    pub fn address(&self) -> Option<&str> {
        self.mail
            .as_deref()
            .or(self.user_principal_name.as_deref())
            .filter(|a| !a.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphGroup {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// An OData `$filter`, e.g. `department eq 'Sales'` or `startswith(mail,'support')`.
    pub filter: Option<String>,
    /// Page size (1..=999; Graph's default is 100).
    pub top: Option<u32>,
    /// Send `$count=true` and `ConsistencyLevel: eventual` (advanced query). Set automatically
    /// when the filter uses an operator that needs it (see [`needs_advanced_query`]).
    pub advanced: bool,
}

/// Operators Graph accepts on users only as advanced queries.
pub fn needs_advanced_query(filter: &str) -> bool {
    let f = filter.to_ascii_lowercase();
    f.contains("endswith(")
        || f.contains(" ne ")
        || f.starts_with("not ")
        || f.contains("not(")
        || f.contains(" not ")
        || f.contains("eq null")
}

/// Graph's directory, app-only.
#[derive(Clone, Debug)]
pub struct GraphDirectory {
    http: reqwest::Client,
    base: String,
}

impl GraphDirectory {
    pub fn new(providers: &Providers) -> Self {
        Self {
            http: providers.http.clone(),
            base: providers.graph_api.trim_end_matches('/').to_string(),
        }
    }

    fn advanced(query: &UserQuery) -> bool {
        query.advanced || query.filter.as_deref().is_some_and(needs_advanced_query)
    }

    fn url(&self, path: &str, query: &UserQuery) -> String {
        let mut url = format!("{}/v1.0/{path}?$select={USER_SELECT}", self.base);
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        if let Some(top) = query.top {
            pairs.append_pair("$top", &top.clamp(1, MAX_TOP).to_string());
        }
        if let Some(filter) = query.filter.as_deref().filter(|f| !f.trim().is_empty()) {
            pairs.append_pair("$filter", filter.trim());
        }
        if Self::advanced(query) {
            pairs.append_pair("$count", "true");
        }
        let rest = pairs.finish();
        if !rest.is_empty() {
            url.push('&');
            url.push_str(&rest);
        }
        url
    }

    async fn page<T: serde::de::DeserializeOwned>(
        &self,
        token: &Secret,
        url: &str,
        advanced: bool,
    ) -> Result<Page<T>, DirectoryError> {
        if !url.starts_with(&format!("{}/", self.base)) {
            return Err(DirectoryError::ForeignLink(url.to_string()));
        }
        let headers: &[(&str, &str)] = if advanced {
            &[("ConsistencyLevel", "eventual")]
        } else {
            &[]
        };
        let body = get_json(
            &self.http,
            (Provider::Microsoft, "users.list"),
            token,
            url,
            headers,
        )
        .await?;
        parse_page(body)
    }

    /// The first page of users.
    pub async fn users(
        &self,
        token: &Secret,
        query: &UserQuery,
    ) -> Result<Page<GraphUser>, DirectoryError> {
        self.page(token, &self.url("users", query), Self::advanced(query))
            .await
    }

    /// The first page of a group's user members (direct members).
    pub async fn group_members(
        &self,
        token: &Secret,
        group_id: &str,
        query: &UserQuery,
    ) -> Result<Page<GraphUser>, DirectoryError> {
        let path = format!("groups/{}/members/microsoft.graph.user", segment(group_id));
        self.page(token, &self.url(&path, query), Self::advanced(query))
            .await
    }

    /// The page a previous page's `next` names (same query, so same headers).
    pub async fn next_users(
        &self,
        token: &Secret,
        next: &str,
        query: &UserQuery,
    ) -> Result<Page<GraphUser>, DirectoryError> {
        self.page(token, next, Self::advanced(query)).await
    }

    /// Every user the query matches, page after page, at most `limit`.
    pub async fn all_users(
        &self,
        token: &Secret,
        query: &UserQuery,
        limit: Option<usize>,
    ) -> Result<Vec<GraphUser>, DirectoryError> {
        let first = self.users(token, query).await?;
        self.collect(token, first, query, limit).await
    }

    /// Every user member of a group, at most `limit`.
    pub async fn all_group_members(
        &self,
        token: &Secret,
        group_id: &str,
        query: &UserQuery,
        limit: Option<usize>,
    ) -> Result<Vec<GraphUser>, DirectoryError> {
        let first = self.group_members(token, group_id, query).await?;
        self.collect(token, first, query, limit).await
    }

    async fn collect(
        &self,
        token: &Secret,
        mut page: Page<GraphUser>,
        query: &UserQuery,
        limit: Option<usize>,
    ) -> Result<Vec<GraphUser>, DirectoryError> {
        let mut out = Vec::new();
        loop {
            out.append(&mut page.items);
            if let Some(limit) = limit {
                if out.len() >= limit {
                    out.truncate(limit);
                    return Ok(out);
                }
            }
            match page.next.take() {
                Some(next) => page = self.next_users(token, &next, query).await?,
                None => return Ok(out),
            }
        }
    }

    /// One user by id or user principal name; `None` when the directory has no such user.
    pub async fn user(
        &self,
        token: &Secret,
        id: &str,
    ) -> Result<Option<GraphUser>, DirectoryError> {
        let url = format!(
            "{}/v1.0/users/{}?$select={USER_SELECT}",
            self.base,
            segment(id)
        );
        match get_json(
            &self.http,
            (Provider::Microsoft, "users.get"),
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

    /// The first page of groups (for choosing one in the rules), optionally filtered.
    pub async fn groups(
        &self,
        token: &Secret,
        filter: Option<&str>,
    ) -> Result<Page<GraphGroup>, DirectoryError> {
        let mut url = format!("{}/v1.0/groups?$select=id,displayName,mail", self.base);
        if let Some(filter) = filter.filter(|f| !f.trim().is_empty()) {
            url.push('&');
            url.push_str(
                &url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("$filter", filter)
                    .finish(),
            );
        }
        self.page(token, &url, false).await
    }
}

fn parse_page<T: serde::de::DeserializeOwned>(mut body: Value) -> Result<Page<T>, DirectoryError> {
    let items = serde_json::from_value(body["value"].take())
        .map_err(|e| DirectoryError::Decode(e.to_string()))?;
    Ok(Page {
        items,
        next: body["@odata.nextLink"].as_str().map(str::to_string),
        count: body["@odata.count"].as_u64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advanced_operators_are_recognised() {
        assert!(needs_advanced_query("endswith(mail,'@contoso.com')"));
        assert!(needs_advanced_query("department ne 'Sales'"));
        assert!(needs_advanced_query("not(startswith(mail,'a'))"));
        assert!(!needs_advanced_query("department eq 'Sales'"));
        assert!(!needs_advanced_query("startswith(mail,'support')"));
    }

    #[test]
    fn pages_parse() {
        let body = serde_json::json!({"value":[{"id":"1","mail":"a@b.test","accountEnabled":false}],
            "@odata.nextLink":"http://g/v1.0/users?$skiptoken=x","@odata.count":3});
        let page: Page<GraphUser> = parse_page(body).unwrap();
        assert_eq!(page.items[0].address(), Some("a@b.test"));
        assert_eq!(page.items[0].account_enabled, Some(false));
        assert_eq!(page.count, Some(3));
        assert!(page.next.is_some());
    }
}
