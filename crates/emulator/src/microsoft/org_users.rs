//! The directory of a managed tenant as app-only Graph serves it: `/users` (every user, with
//! or without a mailbox, enabled or not), `/users/{id|upn}`, `/users/$count`, `/groups`,
//! `/groups/{id}` and `/groups/{id}/members[/microsoft.graph.user]`, with `$select` (extra
//! properties such as `accountEnabled`, `department`, `assignedLicenses` only when selected),
//! `$filter` (`user_filter`), `$top` (1–999, default 100), `$count=true` with
//! `ConsistencyLevel: eventual`, `$orderby` on displayName/userPrincipalName, and
//! `@odata.nextLink` paging with an opaque `$skiptoken`. The app needs a directory role
//! (`User.Read.All`, ...); without admin consent it has none: 403 `Authorization_RequestDenied`.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::auth::Caller;
use super::error::{odata_json, GraphError};
use super::odata::link;
use super::tenants::{DirectoryUser, MailboxKind, Tenant};
use super::user_filter::{self, UserFilter};
// Returned without `$select`: a user's default properties, as for a mailbox's `/users`.
use super::users::USER_PROPERTIES;
use crate::state::EmulatorState;

/// Properties returned only when selected.
const EXTRA_PROPERTIES: [&str; 4] = [
    "accountEnabled",
    "department",
    "userType",
    "assignedLicenses",
];
/// Office 365 E3, the licence a user with a mailbox carries.
const E3_SKU: &str = "6fd2c87f-b296-42f0-b197-1e91e994b900";
const SKIPTOKEN_PREFIX: &str = "RFNwdAIAAQAAA";

fn forbidden() -> GraphError {
    GraphError::new(
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
}

fn bad(code: &'static str, message: impl Into<String>) -> GraphError {
    GraphError::new(StatusCode::BAD_REQUEST, code, message)
}

/// Require one of `roles` in an app-only token.
pub fn require_role(who: &Caller, roles: &[&str]) -> Result<(), GraphError> {
    if who.scopes.iter().any(|s| roles.contains(&s.as_str())) {
        Ok(())
    } else {
        Err(forbidden())
    }
}

const USER_ROLES: [&str; 5] = [
    "User.Read.All",
    "User.ReadBasic.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
pub(super) const GROUP_ROLES: [&str; 4] = [
    "GroupMember.Read.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "Directory.Read.All",
];

/// Every property of a user.
pub fn render(u: &DirectoryUser) -> Value {
    let licenses = if u.mailbox == MailboxKind::User {
        json!([{"disabledPlans": [], "skuId": E3_SKU}])
    } else {
        json!([])
    };
    json!({
        "businessPhones": [],
        "displayName": u.display_name,
        "givenName": u.given_name,
        "jobTitle": u.job_title,
        "mail": u.mail,
        "mobilePhone": null,
        "officeLocation": u.office_location,
        "preferredLanguage": null,
        "surname": u.surname,
        "userPrincipalName": u.user_principal_name,
        "id": u.id,
        "accountEnabled": u.account_enabled,
        "department": u.department,
        "userType": "Member",
        "assignedLicenses": licenses,
    })
}

/// Parsed query options of a directory collection.
pub(super) struct DirQuery {
    select: Option<Vec<String>>,
    top: usize,
    offset: usize,
    filter: Option<UserFilter>,
    count: bool,
    orderby: Option<(String, bool)>,
    /// The options to repeat in a next link.
    carried: Vec<(String, String)>,
}

fn eventual(headers: &HeaderMap) -> bool {
    headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"))
}

pub(super) fn parse_query(raw: Option<&str>, headers: &HeaderMap) -> Result<DirQuery, GraphError> {
    let mut q = DirQuery {
        select: None,
        top: 100,
        offset: 0,
        filter: None,
        count: false,
        orderby: None,
        carried: Vec::new(),
    };
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let name = key.trim_start_matches('$').to_ascii_lowercase();
        let value = value.into_owned();
        if name != "skiptoken" {
            q.carried.push((key.into_owned(), value.clone()));
        }
        match name.as_str() {
            "select" => {
                let names: Vec<String> = value
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
                for n in &names {
                    let known = USER_PROPERTIES
                        .iter()
                        .chain(EXTRA_PROPERTIES.iter())
                        .any(|p| p.eq_ignore_ascii_case(n));
                    if !known {
                        return Err(bad("Request_BadRequest", format!("Could not find a property named '{n}' on type 'Microsoft.DirectoryServices.User'.")));
                    }
                }
                q.select = Some(names);
            }
            "top" => {
                let top: usize = value.trim().parse().map_err(|_| {
                    bad(
                        "Request_BadRequest",
                        format!("Invalid value '{value}' for $top query option found."),
                    )
                })?;
                if top == 0 || top > 999 {
                    return Err(bad("Request_UnsupportedQuery", format!("Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive.")));
                }
                q.top = top;
            }
            "skiptoken" => {
                q.offset = value
                    .strip_prefix(SKIPTOKEN_PREFIX)
                    .and_then(|t| URL_SAFE_NO_PAD.decode(t).ok())
                    .and_then(|b| String::from_utf8(b).ok())
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| bad("Request_BadRequest", "Invalid $skiptoken."))?;
            }
            "filter" => q.filter = Some(user_filter::parse(&value)?),
            "count" => q.count = value.eq_ignore_ascii_case("true"),
            "orderby" => {
                let mut words = value.split_whitespace();
                let prop = words.next().unwrap_or_default();
                let prop = ["displayName", "userPrincipalName"]
                    .into_iter()
                    .find(|p| p.eq_ignore_ascii_case(prop))
                    .ok_or_else(|| {
                        bad(
                            "Request_UnsupportedQuery",
                            "Sorting not supported for current query.",
                        )
                    })?;
                let desc = words.next().is_some_and(|w| w.eq_ignore_ascii_case("desc"));
                q.orderby = Some((prop.to_string(), desc));
            }
            "search" => {
                return Err(bad(
                    "Request_UnsupportedQuery",
                    "$search is not supported by this emulator.",
                ))
            }
            _ => {}
        }
    }
    let advanced = q.count && eventual(headers);
    if q.count && !eventual(headers) {
        return Err(bad(
            "Request_BadRequest",
            "$count is not currently supported.",
        ));
    }
    if let Some(op) = q.filter.as_ref().and_then(|f| f.advanced) {
        if !advanced {
            return Err(user_filter::needs_eventual(op));
        }
    }
    if q.orderby.is_some() && q.filter.is_some() && !advanced {
        return Err(bad(
            "Request_UnsupportedQuery",
            "Sorting not supported for current query.",
        ));
    }
    Ok(q)
}

/// The default properties, or `id` plus the selected ones.
fn project(full: &Value, select: Option<&[String]>, cast: bool) -> Value {
    let mut out = Map::new();
    if cast {
        out.insert("@odata.type".into(), json!("#microsoft.graph.user"));
    }
    if let Value::Object(map) = full {
        for (k, v) in map {
            let keep = match select {
                None => USER_PROPERTIES.contains(&k.as_str()),
                Some(sel) => k == "id" || sel.iter().any(|s| s.eq_ignore_ascii_case(k)),
            };
            if keep {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// One page of users (already in directory order) as Graph answers it.
pub(super) fn page(
    state: &EmulatorState,
    users: Vec<Value>,
    q: &DirQuery,
    path: &str,
    context: &str,
    cast: bool,
) -> Value {
    let mut users: Vec<Value> = users
        .into_iter()
        .filter(|u| {
            q.filter
                .as_ref()
                .is_none_or(|f| user_filter::eval(&f.expr, u))
        })
        .collect();
    if let Some((prop, desc)) = &q.orderby {
        let key = |u: &Value| {
            u.get(prop)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_lowercase()
        };
        users.sort_by_key(key);
        if *desc {
            users.reverse();
        }
    }
    let total = users.len();
    let value: Vec<Value> = users
        .iter()
        .skip(q.offset)
        .take(q.top)
        .map(|u| project(u, q.select.as_deref(), cast))
        .collect();
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/v1.0/$metadata#{context}",
            state.base_url.read()
        )),
    );
    if q.count {
        body.insert("@odata.count".into(), json!(total));
    }
    if total > q.offset + q.top {
        let mut pairs = q.carried.clone();
        let token = format!(
            "{SKIPTOKEN_PREFIX}{}",
            URL_SAFE_NO_PAD.encode((q.offset + q.top).to_string())
        );
        pairs.push(("$skiptoken".into(), token));
        body.insert("@odata.nextLink".into(), json!(link(state, path, &pairs)));
    }
    body.insert("value".into(), Value::Array(value));
    Value::Object(body)
}

/// `GET /v1.0/users` in a managed tenant.
pub fn list(
    state: &EmulatorState,
    t: &Tenant,
    who: &Caller,
    headers: &HeaderMap,
    path: &str,
    query: Option<&str>,
) -> Result<Response, GraphError> {
    require_role(who, &USER_ROLES)?;
    let q = parse_query(query, headers)?;
    let users = t.users.iter().map(render).collect();
    Ok(odata_json(
        StatusCode::OK,
        &page(state, users, &q, path, "users", false),
    ))
}

/// `GET /v1.0/users/$count` (text/plain; needs `ConsistencyLevel: eventual`).
pub fn count(
    t: &Tenant,
    who: &Caller,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Response, GraphError> {
    require_role(who, &USER_ROLES)?;
    if !eventual(headers) {
        return Err(bad(
            "Request_BadRequest",
            "$count is not currently supported.",
        ));
    }
    let mut q = parse_query(query, headers)?;
    q.count = true;
    let n = t
        .users
        .iter()
        .map(render)
        .filter(|u| {
            q.filter
                .as_ref()
                .is_none_or(|f| user_filter::eval(&f.expr, u))
        })
        .count();
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/plain")],
        n.to_string(),
    )
        .into_response())
}

/// `GET /v1.0/users/{id|upn}` in a managed tenant.
pub fn get(
    state: &EmulatorState,
    t: &Tenant,
    who: &Caller,
    key: &str,
    query: Option<&str>,
) -> Result<Response, GraphError> {
    require_role(who, &USER_ROLES)?;
    let q = parse_query(query, &HeaderMap::new())?;
    let user = t.user(key).ok_or_else(|| not_found(key))?;
    let mut v = project(&render(user), q.select.as_deref(), false);
    v["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#users/$entity",
        state.base_url.read()
    ));
    Ok(odata_json(StatusCode::OK, &v))
}

pub(super) fn not_found(key: &str) -> GraphError {
    GraphError::new(StatusCode::NOT_FOUND, "Request_ResourceNotFound", format!("Resource '{key}' does not exist or one of its queried reference-property objects are not present."))
}
