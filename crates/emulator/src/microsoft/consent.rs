//! `GET|POST /{tenant}/oauth2/v2.0/authorize`: checks the request, shows a consent page listing
//! the tenant's mailboxes (all of them for `common`/`organizations`), or approves at once with
//! `--auto-consent`, and redirects back with `code`+`state` or `error`+`error_description`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use super::aad::parse_scopes;
use super::directory::{resolve_tenant, users, TenantSel};
use crate::google::clients::{self, ClientCheck};
use crate::store::Provider;
use crate::tokens::AuthCode;
use crate::SharedState;

/// Prefix of authorization codes.
const CODE_PREFIX: &str = "M.C5_BAY.";

/// Authorize parameters (query of the GET, form of the consent POST).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeParams {
    client_id: Option<String>,
    response_type: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    response_mode: Option<String>,
    state: Option<String>,
    prompt: Option<String>,
    login_hint: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    nonce: Option<String>,
    /// Consent page: the chosen mailbox.
    emulator_mailbox: Option<String>,
    /// Consent page: `allow` or `deny`.
    emulator_decision: Option<String>,
}

/// A checked request that may be answered by redirect.
struct Checked {
    client_id: String,
    redirect_uri: String,
    scopes: Vec<String>,
    pkce: Option<(String, String)>,
    tenant: TenantSel,
}

/// The answer before redirecting: an error page or an error for the client.
enum Refused {
    Page(String),
    Redirect(&'static str, String),
}

pub async fn authorize_get(
    State(state): State<SharedState>,
    Path(tenant): Path<String>,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    let checked = match check(&state, &tenant, &params) {
        Ok(c) => c,
        Err(refused) => return refuse(&params, refused),
    };
    let candidates: Vec<String> = users(&state)
        .iter()
        .filter(|m| checked.tenant.admits(m))
        .map(|m| m.info.address.clone())
        .collect();
    let hint = params
        .login_hint
        .as_deref()
        .map(str::to_ascii_lowercase)
        .filter(|h| candidates.contains(h));
    let prompt = params.prompt.as_deref().unwrap_or_default();
    let chosen = hint
        .clone()
        .or_else(|| (candidates.len() == 1).then(|| candidates[0].clone()));
    if state.tunables().auto_consent && prompt != "consent" && prompt != "select_account" {
        if let Some(mailbox) = chosen.or_else(|| candidates.first().cloned()) {
            return approve(&state, &params, &checked, &mailbox);
        }
    }
    if prompt == "none" {
        return refuse(
            &params,
            Refused::Redirect(
                "interaction_required",
                "AADSTS50058: A silent sign-in request was sent but no user is signed in.".into(),
            ),
        );
    }
    if candidates.is_empty() {
        return refuse(
            &params,
            Refused::Page(format!(
                "AADSTS50020: No account of tenant '{tenant}' exists in this emulator."
            )),
        );
    }
    Html(page(&params, &checked, &candidates, hint.as_deref())).into_response()
}

pub async fn authorize_post(
    State(state): State<SharedState>,
    Path(tenant): Path<String>,
    Form(params): Form<AuthorizeParams>,
) -> Response {
    let checked = match check(&state, &tenant, &params) {
        Ok(c) => c,
        Err(refused) => return refuse(&params, refused),
    };
    if params.emulator_decision.as_deref() != Some("allow") {
        return refuse(
            &params,
            Refused::Redirect(
                "access_denied",
                "AADSTS65004: User declined to consent to access the app.".into(),
            ),
        );
    }
    let mailbox = params
        .emulator_mailbox
        .as_deref()
        .map(str::to_ascii_lowercase)
        .and_then(|m| state.store.get(&m))
        .filter(|m| m.info.provider == Provider::Microsoft && checked.tenant.admits(m));
    match mailbox {
        Some(m) => approve(&state, &params, &checked, &m.info.address),
        None => refuse(
            &params,
            Refused::Page("AADSTS50034: The user account does not exist in this directory.".into()),
        ),
    }
}

fn check(state: &SharedState, tenant: &str, p: &AuthorizeParams) -> Result<Checked, Refused> {
    let tenant = resolve_tenant(state, tenant).ok_or_else(|| {
        Refused::Page(format!("AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."))
    })?;
    let client_id = p
        .client_id
        .clone()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            Refused::Page(
                "AADSTS900144: The request body must contain the following parameter: 'client_id'."
                    .into(),
            )
        })?;
    let redirect_uri = p.redirect_uri.clone().filter(|r| !r.is_empty()).ok_or_else(|| {
        Refused::Page("AADSTS900144: The request body must contain the following parameter: 'redirect_uri'.".into())
    })?;
    if url::Url::parse(&redirect_uri).is_err() {
        return Err(Refused::Page(format!(
            "AADSTS90102: 'redirect_uri' value must be a valid absolute URI: {redirect_uri}"
        )));
    }
    match clients::check(state, &client_id, None, Some(&redirect_uri)) {
        ClientCheck::UnknownClient => {
            return Err(Refused::Page(format!("AADSTS700016: Application with identifier '{client_id}' was not found in the directory.")));
        }
        ClientCheck::RedirectMismatch => {
            return Err(Refused::Page(format!("AADSTS50011: The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'.")));
        }
        ClientCheck::Ok | ClientCheck::BadSecret => {}
    }
    if p.response_type.as_deref() != Some("code") {
        return Err(Refused::Redirect(
            "unsupported_response_type",
            "AADSTS700054: response_type 'code' is required by this emulator's web flow.".into(),
        ));
    }
    let scopes = parse_scopes(p.scope.as_deref().unwrap_or_default()).map_err(|e| {
        Refused::Redirect(
            "invalid_scope",
            format!("AADSTS{}: {}", e.code, e.description),
        )
    })?;
    if scopes.is_empty() {
        return Err(Refused::Redirect(
            "invalid_request",
            "AADSTS900144: The request body must contain the following parameter: 'scope'.".into(),
        ));
    }
    let pkce = match (&p.code_challenge, p.code_challenge_method.as_deref()) {
        (None, _) => None,
        (Some(c), None | Some("plain")) => Some(("plain".to_string(), c.clone())),
        (Some(c), Some("S256")) => Some(("S256".to_string(), c.clone())),
        (Some(_), Some(other)) => {
            return Err(Refused::Redirect(
                "invalid_request",
                format!("AADSTS501491: Invalid code_challenge_method '{other}'."),
            ))
        }
    };
    Ok(Checked {
        client_id,
        redirect_uri,
        scopes,
        pkce,
        tenant,
    })
}

fn approve(state: &SharedState, p: &AuthorizeParams, c: &Checked, mailbox: &str) -> Response {
    let ttl = Duration::from_secs(state.tunables().code_ttl_secs);
    let code = state.tokens.issue_code(
        CODE_PREFIX,
        AuthCode {
            provider: Provider::Microsoft,
            client_id: c.client_id.clone(),
            redirect_uri: c.redirect_uri.clone(),
            mailbox: mailbox.to_string(),
            scopes: c.scopes.clone(),
            pkce: c.pkce.clone(),
            offline: c.scopes.iter().any(|s| s == "offline_access"),
            forced_consent: false,
            nonce: p.nonce.clone(),
            expires_at: SystemTime::now() + ttl,
        },
    );
    let mut fields = vec![("code", code)];
    if let Some(s) = &p.state {
        fields.push(("state", s.clone()));
    }
    fields.push(("session_state", uuid::Uuid::new_v4().to_string()));
    back_to_client(&c.redirect_uri, p.response_mode.as_deref(), &fields)
}

fn refuse(p: &AuthorizeParams, refused: Refused) -> Response {
    match refused {
        Refused::Page(message) => {
            (StatusCode::BAD_REQUEST, Html(format!("<!doctype html><title>Sign in</title><h1>Sorry, but we're having trouble signing you in.</h1><p>{}</p>", escape(&message)))).into_response()
        }
        Refused::Redirect(error, description) => {
            let Some(uri) = p.redirect_uri.as_deref() else {
                return refuse(p, Refused::Page(description));
            };
            let mut fields = vec![("error", error.to_string()), ("error_description", description)];
            if let Some(s) = &p.state {
                fields.push(("state", s.clone()));
            }
            back_to_client(uri, p.response_mode.as_deref(), &fields)
        }
    }
}

/// Redirect (query or fragment) or auto-submitted form (`form_post`).
fn back_to_client(redirect_uri: &str, mode: Option<&str>, fields: &[(&str, String)]) -> Response {
    if mode == Some("form_post") {
        let mut inputs = String::new();
        for (k, v) in fields {
            let _ = write!(
                inputs,
                r#"<input type="hidden" name="{}" value="{}">"#,
                escape(k),
                escape(v)
            );
        }
        return Html(format!(
            r#"<!doctype html><body onload="document.forms[0].submit()"><form method="post" action="{}">{inputs}<noscript><button>Continue</button></noscript></form></body>"#,
            escape(redirect_uri)
        ))
        .into_response();
    }
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let separator = if mode == Some("fragment") {
        '#'
    } else if redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    let location = format!("{redirect_uri}{separator}{encoded}");
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

fn page(p: &AuthorizeParams, c: &Checked, candidates: &[String], hint: Option<&str>) -> String {
    let mut hidden = String::new();
    let pairs: HashMap<&str, &Option<String>> = HashMap::from([
        ("client_id", &p.client_id),
        ("response_type", &p.response_type),
        ("redirect_uri", &p.redirect_uri),
        ("scope", &p.scope),
        ("response_mode", &p.response_mode),
        ("state", &p.state),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
        ("nonce", &p.nonce),
    ]);
    for (k, v) in pairs {
        if let Some(v) = v {
            let _ = write!(
                hidden,
                r#"<input type="hidden" name="{k}" value="{}">"#,
                escape(v)
            );
        }
    }
    let mut accounts = String::new();
    for (i, address) in candidates.iter().enumerate() {
        let checked = if hint.map_or(i == 0, |h| h == address) {
            " checked"
        } else {
            ""
        };
        let _ = write!(
            accounts,
            r#"<li><label><input type="radio" name="emulator_mailbox" value="{a}"{checked}> {a}</label></li>"#,
            a = escape(address)
        );
    }
    format!(
        r#"<!doctype html><html><head><title>Permissions requested</title></head><body>
<h1>Permissions requested</h1><p>App <code>{client}</code> would like to:</p><ul>{scopes}</ul>
<form method="post">{hidden}<ul>{accounts}</ul>
<button name="emulator_decision" value="allow">Accept</button>
<button name="emulator_decision" value="deny">Cancel</button></form></body></html>"#,
        client = escape(&c.client_id),
        scopes = c.scopes.iter().fold(String::new(), |mut out, s| {
            let _ = write!(out, "<li>{}</li>", escape(s));
            out
        }),
    )
}

/// Minimal HTML escaping for attribute and text content.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
