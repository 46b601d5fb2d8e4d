//! Control routes for app registrations of managed tenants (routed by `tenant_control`):
//! create an app (permissions, admin consent, mailbox scope), change it, add client secrets
//! and certificates (uploaded, or generated with their private key).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::tenant_control::{bad, missing, Result};
use super::tenants::{
    self, new_guid, AppRegistration, CertificateCredential, MailboxScope, SecretCredential,
    DEFAULT_PERMISSIONS,
};
use crate::control::ControlError;
use crate::x509::Certificate;
use crate::SharedState;

/// `POST .../apps`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateApp {
    /// Application (client) id; generated when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Default: `User.Read.All`, `Mail.Read`, `GroupMember.Read.All`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    pub admin_consent: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mailbox_scope: Option<MailboxScope>,
}

/// `PATCH .../apps/{client_id}`: `mailbox_scope: null` lifts the scope.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PatchApp {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_consent: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    /// Absent: unchanged; `null`: every mailbox; an object: that scope.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub mailbox_scope: Option<serde_json::Value>,
}

/// A present field, even `null`, is `Some` (serde maps `null` to `None` otherwise).
fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// `POST .../apps/{client_id}/secrets`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AddSecret {
    /// Generated when absent (`xxx8Q~...`, 40 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Default: 180 days from now (a past time makes an expired secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<DateTime<Utc>>,
}

/// `POST .../apps/{client_id}/certificates`: upload a certificate (PEM) or let the emulator
/// generate a key pair and a self-signed certificate (valid from `start` to `end`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AddCertificate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_pem: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<DateTime<Utc>>,
}

/// The answer of `POST .../certificates`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateAdded {
    #[serde(flatten)]
    pub credential: CertificateCredential,
    /// PKCS#8 PEM of the generated key (absent for an uploaded certificate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_pem: Option<String>,
}

pub(super) async fn create_app(
    State(state): State<SharedState>,
    Path(tenant): Path<String>,
    Json(body): Json<CreateApp>,
) -> Result<(StatusCode, Json<AppRegistration>)> {
    let t = tenants::find(&state, &tenant).ok_or_else(|| missing("tenant"))?;
    let client_id = body
        .client_id
        .unwrap_or_else(|| new_guid("app"))
        .trim()
        .to_string();
    if client_id.is_empty() || t.app(&client_id).is_some() {
        return Err(ControlError(StatusCode::CONFLICT, "app exists".into()));
    }
    let app = AppRegistration {
        display_name: body.display_name.unwrap_or_else(|| "Threadline".into()),
        client_id,
        permissions: body
            .permissions
            .unwrap_or_else(|| DEFAULT_PERMISSIONS.map(str::to_string).to_vec()),
        admin_consent: body.admin_consent,
        secrets: Vec::new(),
        certificates: Vec::new(),
        mailbox_scope: body.mailbox_scope,
    };
    tenants::with_tenant(&state, &t.id, |t| t.apps.push(app.clone()));
    Ok((StatusCode::CREATED, Json(app)))
}

/// Change an app of a tenant; `Err` when either does not exist.
fn update_app<T>(
    state: &SharedState,
    tenant: &str,
    client_id: &str,
    f: impl FnOnce(&mut AppRegistration) -> T,
) -> Result<T> {
    tenants::with_tenant(state, tenant, |t| {
        t.apps
            .iter_mut()
            .find(|a| a.client_id.eq_ignore_ascii_case(client_id))
            .map(f)
            .ok_or_else(|| missing("app"))
    })
    .ok_or_else(|| missing("tenant"))?
}

pub(super) async fn patch_app(
    State(state): State<SharedState>,
    Path((tenant, client_id)): Path<(String, String)>,
    Json(body): Json<PatchApp>,
) -> Result<Json<AppRegistration>> {
    let scope = match body.mailbox_scope {
        None => None,
        Some(serde_json::Value::Null) => Some(None),
        Some(v) => Some(Some(
            serde_json::from_value::<MailboxScope>(v).map_err(|e| bad(e.to_string()))?,
        )),
    };
    update_app(&state, &tenant, &client_id, |app| {
        if let Some(c) = body.admin_consent {
            app.admin_consent = c;
        }
        if let Some(p) = body.permissions {
            app.permissions = p;
        }
        if let Some(s) = scope {
            app.mailbox_scope = s;
        }
        app.clone()
    })
    .map(Json)
}

fn random_secret() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.~";
    let pick = |n: usize| -> String {
        (0..n)
            .map(|_| char::from(CHARS[rand::random::<usize>() % CHARS.len()]))
            .collect()
    };
    format!("{}8Q~{}", pick(3), pick(34))
}

pub(super) async fn add_secret(
    State(state): State<SharedState>,
    Path((tenant, client_id)): Path<(String, String)>,
    Json(body): Json<AddSecret>,
) -> Result<(StatusCode, Json<SecretCredential>)> {
    let secret = SecretCredential {
        key_id: new_guid("secret"),
        value: body.value.unwrap_or_else(random_secret),
        end: body.end.unwrap_or_else(|| Utc::now() + Duration::days(180)),
    };
    let stored = secret.clone();
    update_app(&state, &tenant, &client_id, move |app| {
        app.secrets.push(stored);
    })?;
    Ok((StatusCode::CREATED, Json(secret)))
}

pub(super) async fn add_certificate(
    State(state): State<SharedState>,
    Path((tenant, client_id)): Path<(String, String)>,
    Json(body): Json<AddCertificate>,
) -> Result<(StatusCode, Json<CertificateAdded>)> {
    let (certificate, private_key_pem) = if let Some(pem) = &body.certificate_pem {
        (Certificate::parse(pem.as_bytes()).map_err(bad)?, None)
    } else {
        {
            let start = body.start.unwrap_or_else(|| Utc::now() - Duration::days(1));
            let end = body.end.unwrap_or_else(|| start + Duration::days(365));
            // Key generation is CPU-bound: keep it off the async workers.
            let (cert, pem) = tokio::task::spawn_blocking(move || {
                let key = crate::crypto::generate_key().map_err(|e| e.to_string())?;
                let cert = Certificate::self_signed(&key, "Threadline", start, end)?;
                let pem = crate::crypto::private_key_pem(&key).map_err(|e| e.to_string())?;
                Ok::<_, String>((cert, pem))
            })
            .await
            .map_err(|e| ControlError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
            .map_err(|e| ControlError(StatusCode::INTERNAL_SERVER_ERROR, e))?;
            (cert, Some(pem))
        }
    };
    let credential = CertificateCredential {
        key_id: new_guid("certificate"),
        thumbprint: certificate.thumbprint(),
        x5t: certificate.x5t(),
        x5t_s256: certificate.x5t_s256(),
        certificate_pem: certificate.pem(),
        start: body
            .start
            .filter(|_| body.certificate_pem.is_some())
            .unwrap_or(certificate.not_before),
        end: body
            .end
            .filter(|_| body.certificate_pem.is_some())
            .unwrap_or(certificate.not_after),
    };
    let stored = credential.clone();
    update_app(&state, &tenant, &client_id, move |app| {
        app.certificates.push(stored);
    })?;
    Ok((
        StatusCode::CREATED,
        Json(CertificateAdded {
            credential,
            private_key_pem,
        }),
    ))
}
