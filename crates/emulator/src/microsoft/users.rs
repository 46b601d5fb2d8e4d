//! `/me` (delegated tokens only, trap 24), `/users` (app-only, `$top` 1–999, `$skiptoken`
//! paging) and `/users/{id|userPrincipalName}`. Personal accounts have `mail: null`.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use super::auth::{caller, target, Caller};
use super::directory::{find_user, is_personal, tenant_of, user_id, users};
use super::error::{odata_json, GraphError};
use super::odata::{link, Params};
use super::org_users;
use super::tenants::{self, Tenant};
use super::wire::User;
use crate::store::Mailbox;
use crate::SharedState;

/// A user's default properties (also the managed directory's, `org_users`).
pub(super) const USER_PROPERTIES: [&str; 11] = [
    "id",
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
];

/// The default properties of a user.
pub fn render(m: &Mailbox) -> User {
    let name = m.info.display_name.clone();
    let mut words = name.split_whitespace();
    let given = words.next().map(str::to_string);
    let rest: Vec<&str> = words.collect();
    User {
        business_phones: Vec::new(),
        display_name: name.clone(),
        given_name: given,
        job_title: None,
        mail: (!is_personal(m)).then(|| m.info.address.clone()),
        mobile_phone: None,
        office_location: None,
        preferred_language: Some("en-US".into()),
        surname: (!rest.is_empty()).then(|| rest.join(" ")),
        user_principal_name: m.info.address.clone(),
        id: user_id(&m.info.address),
    }
}

fn entity(state: &SharedState, m: &Mailbox, q: &Params) -> Value {
    let mut v = q.select_fields(&json!(render(m)));
    v["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#users/$entity",
        state.base_url.read()
    ));
    v
}

fn require_user_read(who: &Caller) -> Result<(), GraphError> {
    if who.is_app()
        || who
            .scopes
            .iter()
            .any(|s| s.starts_with("User.") || s == "openid" || s == "profile")
    {
        Ok(())
    } else {
        Err(GraphError::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ))
    }
}

/// `GET /v1.0/me`.
pub async fn me(
    State(state): State<SharedState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    let who = caller(&state, &headers)?;
    require_user_read(&who)?;
    let mailbox = target(&state, &who, None)?;
    let q = Params::parse(query.as_deref(), 100, 999)?;
    q.check_select(&USER_PROPERTIES, "microsoft.graph.user")?;
    Ok(odata_json(StatusCode::OK, &entity(&state, &mailbox, &q)))
}

/// `GET /v1.0/users/{user}`.
pub async fn get(
    State(state): State<SharedState>,
    Path(params): Path<HashMap<String, String>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    let who = caller(&state, &headers)?;
    require_user_read(&who)?;
    let key = params.get("user").map_or("", String::as_str);
    if let Some(t) = managed(&state, &who) {
        return org_users::get(&state, &t, &who, key, query.as_deref());
    }
    let not_found = || {
        GraphError::new(StatusCode::NOT_FOUND, "Request_ResourceNotFound", format!("Resource '{key}' does not exist or one of its queried reference-property objects are not present."))
    };
    let mailbox = find_user(&state, key).ok_or_else(not_found)?;
    if !tenant_of(&mailbox).eq_ignore_ascii_case(&who.tenant) {
        return Err(not_found());
    }
    let q = Params::parse(query.as_deref(), 100, 999)?;
    q.check_select(&USER_PROPERTIES, "microsoft.graph.user")?;
    Ok(odata_json(StatusCode::OK, &entity(&state, &mailbox, &q)))
}

/// `GET /v1.0/users`: app-only tokens (User.Read.All), the caller's tenant, 100 per page.
pub async fn list(
    State(state): State<SharedState>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    let who = caller(&state, &headers)?;
    if let Some(t) = managed(&state, &who) {
        return org_users::list(&state, &t, &who, &headers, uri.path(), query.as_deref());
    }
    if !who.is_app()
        && !who
            .scopes
            .iter()
            .any(|s| s.starts_with("User.ReadBasic.All") || s.starts_with("User.Read.All"))
    {
        return Err(GraphError::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ));
    }
    let q = Params::parse(query.as_deref(), 100, 999)?;
    q.check_select(&USER_PROPERTIES, "microsoft.graph.user")?;
    let (offset, top, select) = match &q.skiptoken {
        Some(token) => {
            let raw = URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default();
            let mut parts = raw.splitn(3, '|');
            let offset = parts.next().and_then(|p| p.parse().ok());
            let top = parts.next().and_then(|p| p.parse().ok());
            match (offset, top) {
                (Some(o), Some(t)) => (
                    o,
                    t,
                    parts
                        .next()
                        .filter(|s| !s.is_empty())
                        .map(|s| s.split(',').map(str::to_string).collect()),
                ),
                _ => return Err(GraphError::bad_request("Invalid $skiptoken.")),
            }
        }
        None => (0usize, q.top, q.select.clone()),
    };
    let q = Params { select, ..q };
    let tenant_users: Vec<_> = users(&state)
        .into_iter()
        .filter(|m| tenant_of(m).eq_ignore_ascii_case(&who.tenant))
        .collect();
    let value: Vec<Value> = tenant_users
        .iter()
        .skip(offset)
        .take(top)
        .map(|m| q.select_fields(&json!(render(m))))
        .collect();
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#users", state.base_url.read()),
        "value": value,
    });
    if tenant_users.len() > offset + top {
        let token = format!(
            "{}|{top}|{}",
            offset + top,
            q.select.clone().unwrap_or_default().join(",")
        );
        body["@odata.nextLink"] = json!(link(
            &state,
            uri.path(),
            &[("$skiptoken".into(), URL_SAFE_NO_PAD.encode(token))]
        ));
    }
    Ok(odata_json(StatusCode::OK, &body))
}

/// The managed tenant of an app-only caller (its directory answers `/users` and `/groups`).
pub fn managed(state: &SharedState, who: &Caller) -> Option<Tenant> {
    who.is_app()
        .then(|| tenants::find(state, &who.tenant))
        .flatten()
}

/// `GET /v1.0/users/$count`.
pub async fn count(
    State(state): State<SharedState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    let who = caller(&state, &headers)?;
    let t = managed(&state, &who).ok_or_else(|| {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "$count is not currently supported.",
        )
    })?;
    org_users::count(&t, &who, &headers, query.as_deref())
}

/// `GET /v1.0/groups`.
pub async fn groups(
    State(state): State<SharedState>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let who = caller(&state, &headers)?;
    match managed(&state, &who) {
        Some(t) => super::org_groups::groups(&state, &t, &who),
        None => Err(GraphError::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )),
    }
}

/// `GET /v1.0/groups/{id}`, `/members`, `/members/microsoft.graph.user`.
pub async fn group(
    State(state): State<SharedState>,
    Path(params): Path<HashMap<String, String>>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    let who = caller(&state, &headers)?;
    let id = params.get("group").map_or("", String::as_str);
    let Some(t) = managed(&state, &who) else {
        return Err(GraphError::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
        ));
    };
    let path = uri.path();
    if path.ends_with("/members") {
        super::org_groups::members(
            &state,
            &t,
            &who,
            id,
            false,
            &headers,
            path,
            query.as_deref(),
        )
    } else if path.ends_with("/members/microsoft.graph.user") {
        super::org_groups::members(&state, &t, &who, id, true, &headers, path, query.as_deref())
    } else {
        super::org_groups::group(&state, &t, &who, id)
    }
}
