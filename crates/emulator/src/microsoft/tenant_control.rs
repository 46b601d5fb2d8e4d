//! Control routes for managed tenants (`/_emulator/microsoft/tenants/...`): create a tenant,
//! its users (with a mailbox, a shared mailbox or none), groups and members, app
//! registrations (permissions, admin consent, mailbox scope), client secrets and certificates.
//! Users with a mailbox also get a Microsoft mailbox in the store (tenant = the tenant id), so
//! mail is delivered to them with the ordinary `/_emulator/mailboxes/{address}/messages`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::app_control;
pub use super::app_control::{AddCertificate, AddSecret, CertificateAdded, CreateApp, PatchApp};
use super::tenants::{self, new_guid, DirectoryUser, Group, MailboxKind, Tenant};
use crate::control::ControlError;
use crate::store::{MailboxInfo, Provider};
use crate::SharedState;

/// `POST /_emulator/microsoft/tenants`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CreateTenant {
    /// Verified domain, e.g. `contoso.test`.
    pub domain: String,
    /// Tenant id (GUID); generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// `POST .../users`; `PATCH .../users/{user}` takes the same fields, all optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UserSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_principal_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub office_location: Option<String>,
    /// Default: true, false for a shared mailbox.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_enabled: Option<bool>,
    /// `user` (default), `shared` or `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<MailboxKind>,
}

/// `POST .../groups`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CreateGroup {
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<String>,
    /// User principal names or object ids.
    #[serde(default)]
    pub members: Vec<String>,
}

/// `POST .../groups/{group}/members`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AddMember {
    /// User principal name or object id.
    pub member: String,
}

pub(super) type Result<T> = std::result::Result<T, ControlError>;

pub(super) fn bad(message: impl Into<String>) -> ControlError {
    ControlError(StatusCode::BAD_REQUEST, message.into())
}

pub(super) fn missing(what: &str) -> ControlError {
    ControlError(StatusCode::NOT_FOUND, format!("no such {what}"))
}

pub fn router() -> Router<SharedState> {
    let base = "/_emulator/microsoft/tenants";
    Router::new()
        .route(base, post(create_tenant).get(list_tenants))
        .route(
            &format!("{base}/{{tenant}}"),
            axum::routing::get(get_tenant),
        )
        .route(&format!("{base}/{{tenant}}/users"), post(create_user))
        .route(
            &format!("{base}/{{tenant}}/users/{{user}}"),
            patch(patch_user).delete(delete_user),
        )
        .route(&format!("{base}/{{tenant}}/groups"), post(create_group))
        .route(
            &format!("{base}/{{tenant}}/groups/{{group}}/members"),
            post(add_member),
        )
        .route(
            &format!("{base}/{{tenant}}/groups/{{group}}/members/{{user}}"),
            axum::routing::delete(remove_member),
        )
        .route(
            &format!("{base}/{{tenant}}/apps"),
            post(app_control::create_app),
        )
        .route(
            &format!("{base}/{{tenant}}/apps/{{client_id}}"),
            patch(app_control::patch_app),
        )
        .route(
            &format!("{base}/{{tenant}}/apps/{{client_id}}/secrets"),
            post(app_control::add_secret),
        )
        .route(
            &format!("{base}/{{tenant}}/apps/{{client_id}}/certificates"),
            post(app_control::add_certificate),
        )
}

async fn create_tenant(
    State(state): State<SharedState>,
    Json(body): Json<CreateTenant>,
) -> Result<(StatusCode, Json<Tenant>)> {
    let domain = body.domain.trim().to_ascii_lowercase();
    if domain.is_empty() || !domain.contains('.') || domain.contains('@') {
        return Err(bad("domain must be a DNS name such as contoso.test"));
    }
    let id = body
        .id
        .map_or_else(|| new_guid(&domain), |i| i.trim().to_ascii_lowercase());
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(bad("id must be a GUID"));
    }
    let registry = tenants::registry(&state);
    let mut all = registry.0.write();
    if all.iter().any(|t| t.id == id || t.domain == domain) {
        return Err(ControlError(StatusCode::CONFLICT, "tenant exists".into()));
    }
    let label = domain.split('.').next().unwrap_or_default().to_string();
    let tenant = Tenant {
        id,
        display_name: body.display_name.unwrap_or(label),
        domain,
        users: Vec::new(),
        groups: Vec::new(),
        apps: Vec::new(),
    };
    all.push(tenant.clone());
    Ok((StatusCode::CREATED, Json(tenant)))
}

async fn list_tenants(State(state): State<SharedState>) -> Json<Vec<Tenant>> {
    Json(tenants::registry(&state).0.read().clone())
}

async fn get_tenant(
    State(state): State<SharedState>,
    Path(tenant): Path<String>,
) -> Result<Json<Tenant>> {
    tenants::find(&state, &tenant)
        .map(Json)
        .ok_or_else(|| missing("tenant"))
}

/// Give a user with a mailbox its store mailbox (tenant = the tenant id).
fn ensure_mailbox(state: &SharedState, tenant_id: &str, user: &DirectoryUser) -> Result<()> {
    let Some(address) = user
        .mail
        .clone()
        .filter(|_| user.mailbox != MailboxKind::None)
    else {
        return Ok(());
    };
    if let Some(existing) = state.store.get(&address) {
        let ours = existing.info.provider == Provider::Microsoft
            && existing.info.tenant.as_deref() == Some(tenant_id);
        return if ours {
            Ok(())
        } else {
            Err(ControlError(
                StatusCode::CONFLICT,
                format!("a mailbox {address} exists outside this tenant"),
            ))
        };
    }
    state.store.create(MailboxInfo {
        provider: Provider::Microsoft,
        address,
        display_name: user.display_name.clone(),
        tenant: Some(tenant_id.to_string()),
    });
    Ok(())
}

async fn create_user(
    State(state): State<SharedState>,
    Path(tenant): Path<String>,
    Json(spec): Json<UserSpec>,
) -> Result<(StatusCode, Json<DirectoryUser>)> {
    let upn = spec
        .user_principal_name
        .clone()
        .map(|u| u.trim().to_ascii_lowercase())
        .filter(|u| u.contains('@'))
        .ok_or_else(|| bad("user_principal_name must be an address"))?;
    let t = tenants::find(&state, &tenant).ok_or_else(|| missing("tenant"))?;
    if !upn.ends_with(&format!("@{}", t.domain)) {
        return Err(bad(format!(
            "user_principal_name must be in the tenant's domain {}",
            t.domain
        )));
    }
    if t.user(&upn).is_some() {
        return Err(ControlError(StatusCode::CONFLICT, "user exists".into()));
    }
    let mailbox = spec.mailbox.unwrap_or_default();
    let display_name = spec.display_name.clone().unwrap_or_else(|| upn.clone());
    let mut words = display_name.split_whitespace();
    let first = words.next().map(str::to_string);
    let rest: Vec<&str> = words.collect();
    let user = DirectoryUser {
        id: tenants::new_user_id(&upn),
        mail: (mailbox != MailboxKind::None).then(|| upn.clone()),
        user_principal_name: upn,
        given_name: spec.given_name.or(first),
        surname: spec
            .surname
            .or_else(|| (!rest.is_empty()).then(|| rest.join(" "))),
        display_name,
        department: spec.department,
        job_title: spec.job_title,
        office_location: spec.office_location,
        account_enabled: spec
            .account_enabled
            .unwrap_or(mailbox != MailboxKind::Shared),
        mailbox,
    };
    ensure_mailbox(&state, &t.id, &user)?;
    tenants::with_tenant(&state, &t.id, |t| t.users.push(user.clone()));
    Ok((StatusCode::CREATED, Json(user)))
}

async fn patch_user(
    State(state): State<SharedState>,
    Path((tenant, key)): Path<(String, String)>,
    Json(spec): Json<UserSpec>,
) -> Result<Json<DirectoryUser>> {
    let t = tenants::find(&state, &tenant).ok_or_else(|| missing("tenant"))?;
    let mut user = t.user(&key).cloned().ok_or_else(|| missing("user"))?;
    if let Some(upn) = spec.user_principal_name.as_deref() {
        rename(&state, &t, &mut user, upn)?;
    }
    if let Some(v) = spec.display_name {
        user.display_name = v;
    }
    if let Some(v) = spec.given_name {
        user.given_name = Some(v);
    }
    if let Some(v) = spec.surname {
        user.surname = Some(v);
    }
    if let Some(v) = spec.department {
        user.department = Some(v);
    }
    if let Some(v) = spec.job_title {
        user.job_title = Some(v);
    }
    if let Some(v) = spec.office_location {
        user.office_location = Some(v);
    }
    if let Some(v) = spec.account_enabled {
        user.account_enabled = v;
    }
    if let Some(kind) = spec.mailbox {
        user.mailbox = kind;
        if kind != MailboxKind::None && user.mail.is_none() {
            user.mail = Some(user.user_principal_name.clone());
        }
    }
    ensure_mailbox(&state, &t.id, &user)?;
    let id = user.id.clone();
    tenants::with_tenant(&state, &t.id, |t| {
        if let Some(slot) = t.users.iter_mut().find(|u| u.id == id) {
            *slot = user.clone();
        }
    });
    Ok(Json(user))
}

/// A rename: the object id stays, the user principal name and `mail` change, and the old
/// address stays an alias of the same mailbox (as Exchange keeps it as a proxy address).
fn rename(state: &SharedState, t: &Tenant, user: &mut DirectoryUser, upn: &str) -> Result<()> {
    let upn = upn.trim().to_ascii_lowercase();
    if !upn.contains('@') || !upn.ends_with(&format!("@{}", t.domain)) {
        return Err(bad(format!(
            "user_principal_name must be an address in the tenant's domain {}",
            t.domain
        )));
    }
    if t.user(&upn).is_some_and(|other| other.id != user.id) {
        return Err(ControlError(StatusCode::CONFLICT, "user exists".into()));
    }
    if let Some(old) = user.mail.clone() {
        if old != upn && !state.store.alias(&upn, &old) {
            return Err(ControlError(
                StatusCode::CONFLICT,
                format!("a mailbox {upn} exists"),
            ));
        }
        user.mail = Some(upn.clone());
    }
    user.user_principal_name = upn;
    Ok(())
}

async fn delete_user(
    State(state): State<SharedState>,
    Path((tenant, key)): Path<(String, String)>,
) -> Result<StatusCode> {
    let t = tenants::find(&state, &tenant).ok_or_else(|| missing("tenant"))?;
    let id = t
        .user(&key)
        .map(|u| u.id.clone())
        .ok_or_else(|| missing("user"))?;
    tenants::with_tenant(&state, &t.id, |t| {
        t.users.retain(|u| u.id != id);
        for g in &mut t.groups {
            g.members.retain(|m| *m != id);
        }
    });
    Ok(StatusCode::NO_CONTENT)
}

fn member_ids(t: &Tenant, keys: &[String]) -> Result<Vec<String>> {
    keys.iter()
        .map(|k| {
            t.user(k)
                .map(|u| u.id.clone())
                .ok_or_else(|| bad(format!("no such user {k}")))
        })
        .collect()
}

async fn create_group(
    State(state): State<SharedState>,
    Path(tenant): Path<String>,
    Json(body): Json<CreateGroup>,
) -> Result<(StatusCode, Json<Group>)> {
    let t = tenants::find(&state, &tenant).ok_or_else(|| missing("tenant"))?;
    let mut members = member_ids(&t, &body.members)?;
    members.dedup();
    let group = Group {
        id: new_guid(&body.display_name),
        display_name: body.display_name,
        mail: body.mail,
        members,
    };
    tenants::with_tenant(&state, &t.id, |t| t.groups.push(group.clone()));
    Ok((StatusCode::CREATED, Json(group)))
}

async fn add_member(
    State(state): State<SharedState>,
    Path((tenant, group)): Path<(String, String)>,
    Json(body): Json<AddMember>,
) -> Result<Json<Group>> {
    let t = tenants::find(&state, &tenant).ok_or_else(|| missing("tenant"))?;
    let id = member_ids(&t, std::slice::from_ref(&body.member))?.remove(0);
    tenants::with_tenant(&state, &t.id, |t| {
        let g = t
            .groups
            .iter_mut()
            .find(|g| g.id.eq_ignore_ascii_case(&group))?;
        if !g.members.contains(&id) {
            g.members.push(id);
        }
        Some(g.clone())
    })
    .flatten()
    .map(Json)
    .ok_or_else(|| missing("group"))
}

async fn remove_member(
    State(state): State<SharedState>,
    Path((tenant, group, user)): Path<(String, String, String)>,
) -> Result<StatusCode> {
    let t = tenants::find(&state, &tenant).ok_or_else(|| missing("tenant"))?;
    let id = member_ids(&t, &[user])?.remove(0);
    tenants::with_tenant(&state, &t.id, |t| {
        let g = t
            .groups
            .iter_mut()
            .find(|g| g.id.eq_ignore_ascii_case(&group))?;
        g.members.retain(|m| *m != id);
        Some(())
    })
    .flatten()
    .ok_or_else(|| missing("group"))?;
    Ok(StatusCode::NO_CONTENT)
}
