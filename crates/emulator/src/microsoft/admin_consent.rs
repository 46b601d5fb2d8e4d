//! The admin-consent endpoint of a managed tenant:
//! `GET /{tenant}/adminconsent?client_id&redirect_uri&state` shows the permissions the app
//! asks for (Accept / Cancel; `--auto-consent` accepts at once); accepting grants them
//! (`admin_consent` on the app) and redirects to `redirect_uri?admin_consent=True&tenant=
//! {tenant id}&state=...`; cancelling redirects with `error=access_denied&error_description=
//! AADSTS65004: ...` (learn.microsoft.com, "Grant tenant-wide admin consent": the v1 admin
//! consent endpoint and its redirect parameters). An app not registered in the tenant gets
//! the sign-in error page with AADSTS700016.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;

use super::consent::escape;
use super::tenants;
use crate::SharedState;

fn error_page(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!("<!doctype html><title>Sign in</title><h1>Sorry, but we're having trouble signing you in.</h1><p>{}</p>", escape(message))),
    )
        .into_response()
}

fn redirect(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("{redirect_uri}{sep}{query}"))],
    )
        .into_response()
}

/// Validate the request: `(tenant id, client id, redirect uri, state)`.
fn check(
    state: &SharedState,
    tenant: &str,
    q: &HashMap<String, String>,
) -> Result<(String, String, String, String), String> {
    let t = tenants::find(state, tenant).ok_or_else(|| {
        format!("AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
    })?;
    let client_id = q.get("client_id").cloned().unwrap_or_default();
    let redirect_uri = q.get("redirect_uri").cloned().ok_or_else(|| {
        "AADSTS900144: The request body must contain the following parameter: 'redirect_uri'."
            .to_string()
    })?;
    if t.app(&client_id).is_none() {
        return Err(format!("AADSTS700016: Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", t.display_name));
    }
    Ok((
        t.id,
        client_id,
        redirect_uri,
        q.get("state").cloned().unwrap_or_default(),
    ))
}

fn grant(
    state: &SharedState,
    tenant_id: &str,
    client_id: &str,
    redirect_uri: &str,
    s: &str,
) -> Response {
    tenants::with_tenant(state, tenant_id, |t| {
        if let Some(app) = t.apps.iter_mut().find(|a| a.client_id == client_id) {
            app.admin_consent = true;
        }
    });
    redirect(
        redirect_uri,
        &[
            ("admin_consent", "True"),
            ("tenant", tenant_id),
            ("state", s),
        ],
    )
}

/// `GET /{tenant}/adminconsent`.
pub async fn get(
    State(state): State<SharedState>,
    Path(tenant): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (tenant_id, client_id, redirect_uri, s) = match check(&state, &tenant, &q) {
        Ok(v) => v,
        Err(message) => return error_page(&message),
    };
    if state.tunables().auto_consent {
        return grant(&state, &tenant_id, &client_id, &redirect_uri, &s);
    }
    let permissions = tenants::find(&state, &tenant_id)
        .and_then(|t| {
            t.app(&client_id)
                .map(|a| (a.display_name.clone(), a.permissions.clone()))
        })
        .unwrap_or_default();
    let items = permissions.1.iter().fold(String::new(), |mut out, p| {
        let _ = write!(out, "<li>{}</li>", escape(p));
        out
    });
    let hidden: String = [
        ("client_id", &client_id),
        ("redirect_uri", &redirect_uri),
        ("state", &s),
    ]
    .iter()
    .fold(String::new(), |mut out, (k, v)| {
        let _ = write!(out, "<input type=hidden name={k} value=\"{}\">", escape(v));
        out
    });
    Html(format!(
        "<!doctype html><title>Permissions requested</title><h1>Permissions requested</h1>\
         <p>{} — accept for your organization</p><ul>{items}</ul>\
         <form method=post>{hidden}<button name=decision value=accept>Accept</button>\
         <button name=decision value=cancel>Cancel</button></form>",
        escape(&permissions.0)
    ))
    .into_response()
}

/// `POST /{tenant}/adminconsent` (the page's form).
pub async fn post(
    State(state): State<SharedState>,
    Path(tenant): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let (tenant_id, client_id, redirect_uri, s) = match check(&state, &tenant, &f) {
        Ok(v) => v,
        Err(message) => return error_page(&message),
    };
    if f.get("decision").map(String::as_str) == Some("accept") {
        return grant(&state, &tenant_id, &client_id, &redirect_uri, &s);
    }
    redirect(
        &redirect_uri,
        &[
            ("error", "access_denied"),
            (
                "error_description",
                "AADSTS65004: User declined to consent to access the app.",
            ),
            ("tenant", &tenant_id),
            ("state", &s),
        ],
    )
}
