//! Control routes for Google Workspace (`/_emulator/google/...`): domains and their users,
//! domain-wide delegation grants, service accounts and their keys (the JSON key file exactly
//! as the Cloud console downloads it, with `token_uri` pointing at this emulator).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::token::subject_id;
use super::workspace::{registry, Domain, ServiceAccount, ServiceAccountKey, WorkspaceUser};
use crate::control::ControlError;
use crate::store::{MailboxInfo, Provider};
use crate::SharedState;

/// `POST /_emulator/google/domains`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CreateDomain {
    pub domain: String,
    /// Generated (`C0` + 7 characters) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
}

/// `POST .../users`; `PATCH .../users/{email}` takes the same fields, all optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkspaceUserSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    /// Default `/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_unit_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_admin: Option<bool>,
    /// Default true (Gmail set up; a Google mailbox is created in the store).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_mailbox_setup: Option<bool>,
}

/// `PUT .../delegation/{client_id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DelegationGrant {
    pub scopes: Vec<String>,
}

/// `POST /_emulator/google/service-accounts`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateServiceAccount {
    /// Default `threadline-org`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// The account id before `@`; default `threadline-sync`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The JSON key file of a service account key, as Google issues it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccountKeyFile {
    #[serde(rename = "type")]
    pub kind: String,
    pub project_id: String,
    pub private_key_id: String,
    pub private_key: String,
    pub client_email: String,
    pub client_id: String,
    pub auth_uri: String,
    pub token_uri: String,
    pub auth_provider_x509_cert_url: String,
    pub client_x509_cert_url: String,
    pub universe_domain: String,
}

type Result<T> = std::result::Result<T, ControlError>;

fn bad(message: impl Into<String>) -> ControlError {
    ControlError(StatusCode::BAD_REQUEST, message.into())
}

fn missing(what: &str) -> ControlError {
    ControlError(StatusCode::NOT_FOUND, format!("no such {what}"))
}

pub fn router() -> Router<SharedState> {
    let d = "/_emulator/google/domains";
    let s = "/_emulator/google/service-accounts";
    Router::new()
        .route(d, post(create_domain).get(list_domains))
        .route(&format!("{d}/{{domain}}"), get(get_domain))
        .route(&format!("{d}/{{domain}}/users"), post(create_user))
        .route(
            &format!("{d}/{{domain}}/users/{{email}}"),
            patch(patch_user),
        )
        .route(
            &format!("{d}/{{domain}}/delegation/{{client_id}}"),
            put(grant).delete(revoke),
        )
        .route(s, post(create_service_account).get(list_service_accounts))
        .route(&format!("{s}/{{email}}/keys"), post(add_key))
        .route(
            &format!("{s}/{{email}}/keys/{{key_id}}"),
            axum::routing::delete(delete_key),
        )
}

fn random_chars(n: usize, alphabet: &[u8]) -> String {
    (0..n)
        .map(|_| char::from(alphabet[rand::random::<usize>() % alphabet.len()]))
        .collect()
}

async fn create_domain(
    State(state): State<SharedState>,
    Json(body): Json<CreateDomain>,
) -> Result<(StatusCode, Json<Domain>)> {
    let name = body.domain.trim().to_ascii_lowercase();
    if !name.contains('.') || name.contains('@') {
        return Err(bad("domain must be a DNS name such as example.test"));
    }
    let reg = registry(&state);
    let mut domains = reg.domains.write();
    if domains.iter().any(|d| d.domain == name) {
        return Err(ControlError(StatusCode::CONFLICT, "domain exists".into()));
    }
    let domain = Domain {
        domain: name,
        customer_id: body.customer_id.unwrap_or_else(|| {
            format!(
                "C0{}",
                random_chars(7, b"abcdefghijklmnopqrstuvwxyz0123456789")
            )
        }),
        users: Vec::new(),
        delegation: std::collections::BTreeMap::new(),
    };
    domains.push(domain.clone());
    Ok((StatusCode::CREATED, Json(domain)))
}

async fn list_domains(State(state): State<SharedState>) -> Json<Vec<Domain>> {
    Json(registry(&state).domains.read().clone())
}

async fn get_domain(
    State(state): State<SharedState>,
    Path(domain): Path<String>,
) -> Result<Json<Domain>> {
    super::workspace::domain_of(&state, &domain)
        .map(Json)
        .ok_or_else(|| missing("domain"))
}

fn with_domain<T>(
    state: &SharedState,
    name: &str,
    f: impl FnOnce(&mut Domain) -> Result<T>,
) -> Result<T> {
    let reg = registry(state);
    let mut domains = reg.domains.write();
    let domain = domains
        .iter_mut()
        .find(|d| d.domain.eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| missing("domain"))?;
    f(domain)
}

fn ensure_mailbox(state: &SharedState, user: &WorkspaceUser) -> Result<()> {
    if !user.is_mailbox_setup {
        return Ok(());
    }
    match state.store.get(&user.primary_email) {
        Some(m) if m.info.provider == Provider::Google => Ok(()),
        Some(_) => Err(ControlError(
            StatusCode::CONFLICT,
            format!("a Microsoft mailbox {} exists", user.primary_email),
        )),
        None => {
            state.store.create(MailboxInfo {
                provider: Provider::Google,
                address: user.primary_email.clone(),
                display_name: user.full_name(),
                tenant: None,
            });
            Ok(())
        }
    }
}

async fn create_user(
    State(state): State<SharedState>,
    Path(domain): Path<String>,
    Json(spec): Json<WorkspaceUserSpec>,
) -> Result<(StatusCode, Json<WorkspaceUser>)> {
    let email = spec
        .primary_email
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| e.contains('@'))
        .ok_or_else(|| bad("primary_email must be an address"))?;
    let local = email.split('@').next().unwrap_or_default().to_string();
    let user = WorkspaceUser {
        id: subject_id(&email),
        given_name: spec.given_name.unwrap_or_else(|| local.clone()),
        family_name: spec.family_name.unwrap_or_default(),
        suspended: spec.suspended.unwrap_or(false),
        archived: spec.archived.unwrap_or(false),
        org_unit_path: spec.org_unit_path.unwrap_or_else(|| "/".into()),
        is_admin: spec.is_admin.unwrap_or(false),
        is_mailbox_setup: spec.is_mailbox_setup.unwrap_or(true),
        creation_time: Utc::now(),
        primary_email: email.clone(),
    };
    with_domain(&state, &domain, |d| {
        if !email.ends_with(&format!("@{}", d.domain)) {
            return Err(bad(format!("primary_email must be in {}", d.domain)));
        }
        if d.user(&email).is_some() {
            return Err(ControlError(StatusCode::CONFLICT, "user exists".into()));
        }
        d.users.push(user.clone());
        Ok(())
    })?;
    ensure_mailbox(&state, &user)?;
    Ok((StatusCode::CREATED, Json(user)))
}

async fn patch_user(
    State(state): State<SharedState>,
    Path((domain, email)): Path<(String, String)>,
    Json(spec): Json<WorkspaceUserSpec>,
) -> Result<Json<WorkspaceUser>> {
    let user = with_domain(&state, &domain, |d| {
        let u = d
            .users
            .iter_mut()
            .find(|u| u.primary_email.eq_ignore_ascii_case(&email) || u.id == email)
            .ok_or_else(|| missing("user"))?;
        if spec.primary_email.is_some() {
            return Err(bad("renaming a user is not supported by this emulator"));
        }
        if let Some(v) = spec.given_name {
            u.given_name = v;
        }
        if let Some(v) = spec.family_name {
            u.family_name = v;
        }
        if let Some(v) = spec.suspended {
            u.suspended = v;
        }
        if let Some(v) = spec.archived {
            u.archived = v;
        }
        if let Some(v) = spec.org_unit_path {
            u.org_unit_path = v;
        }
        if let Some(v) = spec.is_admin {
            u.is_admin = v;
        }
        if let Some(v) = spec.is_mailbox_setup {
            u.is_mailbox_setup = v;
        }
        Ok(u.clone())
    })?;
    ensure_mailbox(&state, &user)?;
    Ok(Json(user))
}

async fn grant(
    State(state): State<SharedState>,
    Path((domain, client_id)): Path<(String, String)>,
    Json(body): Json<DelegationGrant>,
) -> Result<Json<Domain>> {
    let scopes: Vec<String> = body
        .scopes
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    with_domain(&state, &domain, |d| {
        d.delegation.insert(client_id.trim().to_string(), scopes);
        Ok(d.clone())
    })
    .map(Json)
}

async fn revoke(
    State(state): State<SharedState>,
    Path((domain, client_id)): Path<(String, String)>,
) -> Result<StatusCode> {
    with_domain(&state, &domain, |d| {
        d.delegation
            .remove(client_id.trim())
            .map(|_| StatusCode::NO_CONTENT)
            .ok_or_else(|| missing("delegation grant"))
    })
}

/// Generate a key for `account` and the key file that carries it.
async fn new_key(
    state: &SharedState,
    account: &ServiceAccount,
) -> Result<(ServiceAccountKey, ServiceAccountKeyFile)> {
    let (pem, der) = tokio::task::spawn_blocking(|| {
        let key = crate::crypto::generate_key().map_err(|e| e.to_string())?;
        let pem = crate::crypto::private_key_pem(&key).map_err(|e| e.to_string())?;
        let der = crate::crypto::public_key_der(&key.to_public_key()).map_err(|e| e.to_string())?;
        Ok::<_, String>((pem, der))
    })
    .await
    .map_err(|e| ControlError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| ControlError(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let key = ServiceAccountKey {
        private_key_id: random_chars(40, b"0123456789abcdef"),
        public_key_der: STANDARD.encode(der),
    };
    let base = state.base_url.read().clone();
    let encoded_email: String =
        url::form_urlencoded::byte_serialize(account.client_email.as_bytes()).collect();
    let file = ServiceAccountKeyFile {
        kind: "service_account".into(),
        project_id: account.project_id.clone(),
        private_key_id: key.private_key_id.clone(),
        private_key: pem,
        client_email: account.client_email.clone(),
        client_id: account.client_id.clone(),
        auth_uri: format!("{base}/o/oauth2/auth"),
        token_uri: format!("{base}/token"),
        auth_provider_x509_cert_url: format!("{base}/oauth2/v1/certs"),
        client_x509_cert_url: format!("{base}/robot/v1/metadata/x509/{encoded_email}"),
        universe_domain: "googleapis.com".into(),
    };
    Ok((key, file))
}

async fn create_service_account(
    State(state): State<SharedState>,
    Json(body): Json<CreateServiceAccount>,
) -> Result<(StatusCode, Json<ServiceAccountKeyFile>)> {
    let project_id = body.project_id.unwrap_or_else(|| "threadline-org".into());
    let name = body.name.unwrap_or_else(|| "threadline-sync".into());
    let email = format!("{name}@{project_id}.iam.gserviceaccount.com").to_ascii_lowercase();
    if super::workspace::service_account(&state, &email).is_some() {
        return Err(ControlError(
            StatusCode::CONFLICT,
            "service account exists".into(),
        ));
    }
    let mut account = ServiceAccount {
        project_id,
        client_id: format!("1{}", random_chars(20, b"0123456789")),
        client_email: email,
        keys: Vec::new(),
    };
    let (key, file) = new_key(&state, &account).await?;
    account.keys.push(key);
    registry(&state).service_accounts.write().push(account);
    Ok((StatusCode::CREATED, Json(file)))
}

async fn list_service_accounts(State(state): State<SharedState>) -> Json<Vec<ServiceAccount>> {
    Json(registry(&state).service_accounts.read().clone())
}

async fn add_key(
    State(state): State<SharedState>,
    Path(email): Path<String>,
) -> Result<(StatusCode, Json<ServiceAccountKeyFile>)> {
    let account = super::workspace::service_account(&state, &email)
        .ok_or_else(|| missing("service account"))?;
    let (key, file) = new_key(&state, &account).await?;
    let reg = registry(&state);
    let mut accounts = reg.service_accounts.write();
    if let Some(a) = accounts
        .iter_mut()
        .find(|a| a.client_email == account.client_email)
    {
        a.keys.push(key);
    }
    Ok((StatusCode::CREATED, Json(file)))
}

async fn delete_key(
    State(state): State<SharedState>,
    Path((email, key_id)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let reg = registry(&state);
    let mut accounts = reg.service_accounts.write();
    let account = accounts
        .iter_mut()
        .find(|a| a.client_email.eq_ignore_ascii_case(&email))
        .ok_or_else(|| missing("service account"))?;
    let before = account.keys.len();
    account.keys.retain(|k| k.private_key_id != key_id);
    if account.keys.len() == before {
        return Err(missing("key"));
    }
    Ok(Json(json!({"deleted": key_id})))
}
