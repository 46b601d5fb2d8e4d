//! Groups of a managed tenant as app-only Graph serves them: `/groups`, `/groups/{id}` and
//! `/groups/{id}/members` (each member typed `#microsoft.graph.user`) or
//! `/groups/{id}/members/microsoft.graph.user`, with the paging and options of `org_users`.
//! Needs `GroupMember.Read.All`, `Group.Read.All` or `Directory.Read.All`.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::auth::Caller;
use super::error::{odata_json, GraphError};
use super::org_users::{not_found, page, parse_query, render, require_role, GROUP_ROLES};
use super::tenants::{Group, Tenant};
use crate::state::EmulatorState;

fn render_group(g: &Group) -> Value {
    json!({
        "id": g.id,
        "displayName": g.display_name,
        "description": null,
        "mail": g.mail,
        "mailEnabled": g.mail.is_some(),
        "securityEnabled": g.mail.is_none(),
        "groupTypes": [],
    })
}

/// `GET /v1.0/groups`.
pub fn groups(state: &EmulatorState, t: &Tenant, who: &Caller) -> Result<Response, GraphError> {
    require_role(who, &GROUP_ROLES)?;
    let value: Vec<Value> = t.groups.iter().map(render_group).collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({
            "@odata.context": format!("{}/v1.0/$metadata#groups", state.base_url.read()),
            "value": value,
        }),
    ))
}

/// `GET /v1.0/groups/{id}`.
pub fn group(
    state: &EmulatorState,
    t: &Tenant,
    who: &Caller,
    id: &str,
) -> Result<Response, GraphError> {
    require_role(who, &GROUP_ROLES)?;
    let g = t.group(id).ok_or_else(|| not_found(id))?;
    let mut v = render_group(g);
    v["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#groups/$entity",
        state.base_url.read()
    ));
    Ok(odata_json(StatusCode::OK, &v))
}

/// `GET /v1.0/groups/{id}/members` (`cast`: `/members/microsoft.graph.user`).
#[allow(clippy::too_many_arguments)]
pub fn members(
    state: &EmulatorState,
    t: &Tenant,
    who: &Caller,
    id: &str,
    cast: bool,
    headers: &HeaderMap,
    path: &str,
    query: Option<&str>,
) -> Result<Response, GraphError> {
    require_role(who, &GROUP_ROLES)?;
    let g = t.group(id).ok_or_else(|| not_found(id))?;
    let q = parse_query(query, headers)?;
    let users = g
        .members
        .iter()
        .filter_map(|m| t.user(m))
        .map(render)
        .collect();
    let context = if cast { "users" } else { "directoryObjects" };
    Ok(odata_json(
        StatusCode::OK,
        &page(state, users, &q, path, context, !cast),
    ))
}
