//! Admin SDK Directory API `users.list` (`GET /admin/directory/v1/users`) and `users.get`
//! for managed Workspace domains. The caller is a delegated administrator token (DWD `sub` =
//! a super admin) with `admin.directory.user.readonly` (or `admin.directory.user`). Paging with
//! `maxResults` (1–500, default 100) and `pageToken`; `orderBy` email/givenName/familyName with
//! `sortOrder`; `query` clauses joined by spaces (implicit AND): `email`, `givenName`,
//! `familyName` with `=`, `:` (contains) and `:{PREFIX}*`; `name` with `=`/`:`; `isAdmin`,
//! `isSuspended`, `isArchived` with `=`; `orgUnitPath=` (the unit and every unit under it);
//! a bare word matches given name, family name or email.
//! (developers.google.com/workspace/admin/directory/v1/guides/search-users)

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use super::error::GoogleError;
use super::workspace::{self, Domain, WorkspaceUser};
use crate::store::Provider;
use crate::SharedState;

const SCOPES: [&str; 2] = [
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.directory.user",
];

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/admin/directory/v1/users", get(list))
        .route("/admin/directory/v1/users/{user}", get(get_user))
}

fn not_authorized() -> GoogleError {
    GoogleError::new(
        403,
        "Not Authorized to access this resource/api",
        "forbidden",
        "PERMISSION_DENIED",
    )
}

fn bad_request(message: &str) -> GoogleError {
    GoogleError::new(400, message, "badRequest", "INVALID_ARGUMENT")
}

fn invalid(message: impl Into<String>) -> GoogleError {
    GoogleError::new(400, message, "invalid", "INVALID_ARGUMENT")
}

/// The administrator's domain behind a bearer token.
fn admin_domain(state: &SharedState, headers: &HeaderMap) -> Result<Domain, GoogleError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(GoogleError::unauthenticated)?;
    let info = state
        .tokens
        .check_access(token)
        .map_err(|_| GoogleError::unauthenticated())?;
    if info.provider != Provider::Google {
        return Err(GoogleError::unauthenticated());
    }
    if !info.scopes.iter().any(|s| SCOPES.contains(&s.as_str())) {
        return Err(GoogleError::insufficient_scope());
    }
    match workspace::user(state, &info.mailbox) {
        Some((domain, user)) if user.is_admin && !user.suspended => Ok(domain),
        _ => Err(not_authorized()),
    }
}

/// The Directory `User` resource.
pub fn render(d: &Domain, u: &WorkspaceUser) -> Value {
    json!({
        "kind": "admin#directory#user",
        "id": u.id,
        "etag": format!("\"{}\"", crate::ids::fnv(format!("{}{}{}", u.id, u.suspended, u.org_unit_path).as_bytes())),
        "primaryEmail": u.primary_email,
        "name": {"givenName": u.given_name, "familyName": u.family_name, "fullName": u.full_name()},
        "isAdmin": u.is_admin,
        "isDelegatedAdmin": false,
        "lastLoginTime": "1970-01-01T00:00:00.000Z",
        "creationTime": u.creation_time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "agreedToTerms": true,
        "suspended": u.suspended,
        "archived": u.archived,
        "changePasswordAtNextLogin": false,
        "ipWhitelisted": false,
        "emails": [{"address": u.primary_email, "primary": true}],
        "customerId": d.customer_id,
        "orgUnitPath": u.org_unit_path,
        "isMailboxSetup": u.is_mailbox_setup,
        "isEnrolledIn2Sv": false,
        "isEnforcedIn2Sv": false,
        "includeInGlobalAddressList": true,
    })
}

/// Split a query into clauses, keeping quoted values together.
fn clauses(query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in query.chars() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn text_match(actual: &str, op: char, value: &str) -> bool {
    let (actual, value) = (actual.to_lowercase(), value.to_lowercase());
    match (op, value.strip_suffix('*')) {
        (':', Some(prefix)) => actual.starts_with(prefix),
        (':', None) => actual.contains(&value),
        _ => actual == value,
    }
}

/// Whether `u` satisfies one clause; `Err` for a clause the API refuses.
fn clause_matches(u: &WorkspaceUser, clause: &str) -> Result<bool, GoogleError> {
    let Some(at) = clause.find([':', '=']) else {
        let word = clause.to_lowercase();
        return Ok([&u.given_name, &u.family_name, &u.primary_email]
            .iter()
            .any(|v| v.to_lowercase().contains(&word)));
    };
    let (field, rest) = clause.split_at(at);
    let op = rest.chars().next().unwrap_or('=');
    let value = &rest[1..];
    let boolean = |actual: bool| match value.to_ascii_lowercase().as_str() {
        "true" if op == '=' => Ok(actual),
        "false" if op == '=' => Ok(!actual),
        _ => Err(invalid("Invalid Input")),
    };
    match field {
        "email" => Ok(text_match(&u.primary_email, op, value)),
        "givenName" => Ok(text_match(&u.given_name, op, value)),
        "familyName" => Ok(text_match(&u.family_name, op, value)),
        "name" => Ok(text_match(&u.full_name(), op, value.trim_end_matches('*'))),
        "isAdmin" => boolean(u.is_admin),
        "isSuspended" => boolean(u.suspended),
        "isArchived" => boolean(u.archived),
        "orgUnitPath" if op == '=' => {
            let target = value.trim_end_matches('/');
            Ok(target.is_empty()
                || u.org_unit_path.eq_ignore_ascii_case(target)
                || u.org_unit_path
                    .to_lowercase()
                    .starts_with(&format!("{}/", target.to_lowercase())))
        }
        _ => Err(invalid("Invalid Input")),
    }
}

/// `GET /admin/directory/v1/users`.
pub async fn list(
    State(state): State<SharedState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, GoogleError> {
    let domain = admin_domain(&state, &headers)?;
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    match (param("customer"), param("domain")) {
        (None, None) => return Err(bad_request("Bad Request")),
        (Some(c), _) if c != "my_customer" && c != domain.customer_id => {
            return Err(not_authorized())
        }
        (_, Some(d)) if !d.eq_ignore_ascii_case(&domain.domain) => return Err(not_authorized()),
        _ => {}
    }
    let max: usize = match param("maxResults") {
        None => 100,
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| {
                invalid(format!(
                    "Invalid value '{v}'. Values must be within the range: [1, 500]"
                ))
            })?,
    };
    let offset: usize = match param("pageToken") {
        None | Some("") => 0,
        Some(t) => URL_SAFE_NO_PAD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse().ok()))
            .ok_or_else(|| invalid("Invalid Input: pageToken"))?,
    };
    let wanted = clauses(param("query").unwrap_or_default());
    let mut users = Vec::new();
    for u in &domain.users {
        let mut keep = true;
        for c in &wanted {
            keep &= clause_matches(u, c)?;
        }
        if keep && param("showDeleted") != Some("true") {
            users.push(u);
        }
    }
    match param("orderBy") {
        None | Some("email") => users.sort_by(|a, b| a.primary_email.cmp(&b.primary_email)),
        Some("givenName") => users.sort_by_key(|u| u.given_name.to_lowercase()),
        Some("familyName") => users.sort_by_key(|u| u.family_name.to_lowercase()),
        Some(_) => return Err(invalid("Invalid Input: orderBy")),
    }
    if param("sortOrder").is_some_and(|s| s.eq_ignore_ascii_case("DESCENDING")) {
        users.reverse();
    }
    let page: Vec<Value> = users
        .iter()
        .skip(offset)
        .take(max)
        .map(|u| render(&domain, u))
        .collect();
    let mut body = json!({
        "kind": "admin#directory#users",
        "etag": format!("\"{}\"", crate::ids::fnv(format!("{}:{offset}:{}", domain.domain, users.len()).as_bytes())),
    });
    if !page.is_empty() {
        body["users"] = Value::Array(page);
    }
    if users.len() > offset + max {
        body["nextPageToken"] = json!(URL_SAFE_NO_PAD.encode(format!("offset:{}", offset + max)));
    }
    Ok(Json(body))
}

/// `GET /admin/directory/v1/users/{userKey}` (primary email or id).
pub async fn get_user(
    State(state): State<SharedState>,
    Path(user): Path<String>,
    headers: HeaderMap,
) -> Result<Response, GoogleError> {
    use axum::response::IntoResponse as _;
    let domain = admin_domain(&state, &headers)?;
    let u = domain.user(&user).ok_or_else(|| {
        GoogleError::new(404, "Resource Not Found: userKey", "notFound", "NOT_FOUND")
    })?;
    Ok(Json(render(&domain, u)).into_response())
}
