//! Google authorize endpoint (`GET /o/oauth2/v2/auth`) and the consent decision: validates the
//! request as Google does, remembers `redirect_uri`, scopes, PKCE, `access_type` and `prompt`, and
//! redirects with `code`, granted `scope` and `state` (or `error=access_denied`).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use parking_lot::Mutex;

use super::consent;
use crate::clients::{self, ClientCheck};
use crate::store::Provider;
use crate::tokens::{random_string, AuthCode};
use crate::SharedState;

pub const SCOPE_EMAIL: &str = "https://www.googleapis.com/auth/userinfo.email";
pub const SCOPE_PROFILE: &str = "https://www.googleapis.com/auth/userinfo.profile";

/// An authorize request waiting for the user's decision.
#[derive(Debug, Clone)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "one flag per authorize parameter"
)]
pub struct PendingAuth {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub login_hint: Option<String>,
    pub pkce: Option<(String, String)>,
    pub offline: bool,
    pub prompt_consent: bool,
    pub include_granted_scopes: bool,
    /// `prompt=none`: no page; succeed silently or redirect with `consent_required`.
    pub prompt_none: bool,
    pub nonce: Option<String>,
}

/// Pending consent requests (extension state).
#[derive(Default)]
pub struct OAuthState {
    pub pending: Mutex<HashMap<String, PendingAuth>>,
}

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/o/oauth2/v2/auth", get(authorize))
        .route("/o/oauth2/v2/auth/decision", post(decision))
}

/// `openid`, `email`, `profile` (and their URL forms) are granted without a checkbox.
pub fn is_identity_scope(scope: &str) -> bool {
    matches!(scope, "openid" | SCOPE_EMAIL | SCOPE_PROFILE)
}

fn normalise_scope(scope: &str) -> String {
    match scope {
        "email" => SCOPE_EMAIL.to_string(),
        "profile" => SCOPE_PROFILE.to_string(),
        other => other.to_string(),
    }
}

fn known_scope(scope: &str) -> bool {
    scope == "openid"
        || scope == "https://mail.google.com/"
        || scope.starts_with("https://www.googleapis.com/auth/")
}

pub fn query_map(raw: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

async fn authorize(State(state): State<SharedState>, RawQuery(raw): RawQuery) -> Response {
    match validate(&state, &query_map(raw.as_deref())) {
        Ok(pending) => start_consent(&state, pending),
        Err(page) => *page,
    }
}

fn bad(error: &str, description: &str) -> Response {
    consent::error_page(StatusCode::BAD_REQUEST, error, description)
}

#[allow(
    clippy::unnecessary_box_returns,
    reason = "keeps the Err of validate small"
)]
fn bad_page(error: &str, description: &str) -> Box<Response> {
    Box::new(bad(error, description))
}

fn validate(
    state: &SharedState,
    q: &HashMap<String, String>,
) -> Result<PendingAuth, Box<Response>> {
    let get = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let client_id = get("client_id")
        .ok_or_else(|| bad_page("invalid_request", "Missing required parameter: client_id"))?;
    let redirect_uri = get("redirect_uri").ok_or_else(|| {
        bad_page(
            "invalid_request",
            "Missing required parameter: redirect_uri",
        )
    })?;
    match clients::check(state, client_id, None, Some(redirect_uri)) {
        ClientCheck::UnknownClient | ClientCheck::BadSecret => {
            return Err(Box::new(consent::error_page(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "The OAuth client was not found.",
            )))
        }
        ClientCheck::RedirectMismatch => {
            return Err(bad_page("redirect_uri_mismatch", "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy."))
        }
        ClientCheck::Ok => {}
    }
    let parsed = url::Url::parse(redirect_uri).map_err(|_| {
        bad_page(
            "invalid_request",
            "Invalid parameter value for redirect_uri",
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad_page(
            "invalid_request",
            "Invalid parameter value for redirect_uri",
        ));
    }
    match get("response_type") {
        Some("code") => {}
        None => {
            return Err(bad_page(
                "invalid_request",
                "Required parameter is missing: response_type",
            ))
        }
        Some(other) => {
            return Err(bad_page(
                "unsupported_response_type",
                &format!("Invalid response_type: {other}"),
            ))
        }
    }
    let scopes: Vec<String> = get("scope")
        .unwrap_or("")
        .split_whitespace()
        .map(normalise_scope)
        .collect();
    if scopes.is_empty() {
        return Err(bad_page(
            "invalid_request",
            "Missing required parameter: scope",
        ));
    }
    if let Some(unknown) = scopes.iter().find(|s| !known_scope(s)) {
        return Err(bad_page(
            "invalid_scope",
            &format!("Some requested scopes were invalid. {unknown}"),
        ));
    }
    let pkce = match (get("code_challenge"), get("code_challenge_method")) {
        (None, None) => None,
        (None, Some(_)) => return Err(bad_page("invalid_request", "Missing code_challenge")),
        (Some(c), m @ (None | Some("S256" | "plain"))) => {
            Some((m.unwrap_or("plain").to_string(), c.to_string()))
        }
        (Some(_), Some(m)) => {
            return Err(bad_page(
                "invalid_request",
                &format!("Invalid code_challenge_method: {m}"),
            ))
        }
    };
    let prompt: Vec<&str> = get("prompt").unwrap_or("").split_whitespace().collect();
    if prompt.contains(&"none") && prompt.len() > 1 {
        return Err(bad_page(
            "invalid_request",
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(PendingAuth {
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        scopes,
        state: q.get("state").cloned(),
        login_hint: get("login_hint").map(str::to_string),
        pkce,
        offline: get("access_type") == Some("offline"),
        prompt_consent: prompt.contains(&"consent"),
        include_granted_scopes: get("include_granted_scopes") == Some("true"),
        prompt_none: prompt.contains(&"none"),
        nonce: get("nonce").map(str::to_string),
    })
}

fn start_consent(state: &SharedState, pending: PendingAuth) -> Response {
    let mailboxes: Vec<(String, String)> = state
        .store
        .of_provider(Provider::Google)
        .iter()
        .map(|m| (m.info.address.clone(), m.info.display_name.clone()))
        .collect();
    if mailboxes.is_empty() {
        return bad(
            "access_denied",
            "The emulator has no Google mailbox to sign in with.",
        );
    }
    let hinted = pending
        .login_hint
        .as_deref()
        .and_then(|h| mailboxes.iter().find(|(a, _)| a.eq_ignore_ascii_case(h)))
        .or_else(|| mailboxes.first())
        .map(|(a, _)| a.clone())
        .unwrap_or_default();
    if pending.prompt_none {
        let earlier = state
            .tokens
            .granted_scopes(Provider::Google, &hinted, &pending.client_id);
        if pending.scopes.iter().all(|s| earlier.contains(s)) {
            let scopes = pending.scopes.clone();
            return approve(state, &pending, &hinted, scopes);
        }
        let mut pairs = vec![("error", "consent_required".to_string())];
        if let Some(s) = &pending.state {
            pairs.push(("state", s.clone()));
        }
        return redirect(&pending.redirect_uri, &pairs);
    }
    if state.tunables().auto_consent {
        let scopes = pending.scopes.clone();
        return approve(state, &pending, &hinted, scopes);
    }
    let id = random_string(24);
    let page = consent::render(&id, &pending, &mailboxes);
    state
        .ext
        .get::<OAuthState>()
        .pending
        .lock()
        .insert(id, pending);
    page
}

async fn decision(State(state): State<SharedState>, body: String) -> Response {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let field = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let Some(pending) =
        field("request").and_then(|id| state.ext.get::<OAuthState>().pending.lock().remove(&id))
    else {
        return bad(
            "invalid_request",
            "This consent request is unknown or was already answered.",
        );
    };
    if field("decision").as_deref() != Some("approve") {
        let mut extra = vec![("error", "access_denied".to_string())];
        if let Some(s) = &pending.state {
            extra.push(("state", s.clone()));
        }
        return redirect(&pending.redirect_uri, &extra);
    }
    let mailbox = field("mailbox").unwrap_or_default();
    if state
        .store
        .get(&mailbox)
        .is_none_or(|m| m.info.provider != Provider::Google)
    {
        return bad("invalid_request", "Choose one of the listed accounts.");
    }
    let chosen: Vec<String> = pairs
        .iter()
        .filter(|(n, _)| n == "scope")
        .map(|(_, v)| v.clone())
        .collect();
    let granted: Vec<String> = pending
        .scopes
        .iter()
        .filter(|s| is_identity_scope(s) || chosen.contains(s))
        .cloned()
        .collect();
    approve(&state, &pending, &mailbox, granted)
}

/// Issue a code for `mailbox` with the `granted` scopes and redirect back to the client.
fn approve(
    state: &SharedState,
    pending: &PendingAuth,
    mailbox: &str,
    granted: Vec<String>,
) -> Response {
    let ttl = Duration::from_secs(state.tunables().code_ttl_secs);
    let mut granted = granted;
    if pending.include_granted_scopes {
        let earlier = state
            .tokens
            .granted_scopes(Provider::Google, mailbox, &pending.client_id);
        for s in earlier {
            if !granted.contains(&s) {
                granted.push(s);
            }
        }
    }
    let scope = granted.join(" ");
    let code = state.tokens.issue_code(
        "4/0A",
        AuthCode {
            provider: Provider::Google,
            client_id: pending.client_id.clone(),
            redirect_uri: pending.redirect_uri.clone(),
            mailbox: mailbox.to_ascii_lowercase(),
            scopes: granted,
            pkce: pending.pkce.clone(),
            offline: pending.offline,
            forced_consent: pending.prompt_consent,
            nonce: pending.nonce.clone(),
            expires_at: crate::tokens::later(SystemTime::now(), ttl),
        },
    );
    let mut pairs = Vec::new();
    if let Some(s) = &pending.state {
        pairs.push(("state", s.clone()));
    }
    pairs.push(("code", code));
    pairs.push(("scope", scope));
    pairs.push(("authuser", "0".into()));
    pairs.push(("prompt", "consent".into()));
    redirect(&pending.redirect_uri, &pairs)
}

fn redirect(uri: &str, pairs: &[(&str, String)]) -> Response {
    let Ok(mut url) = url::Url::parse(uri) else {
        return bad(
            "invalid_request",
            "Invalid parameter value for redirect_uri",
        );
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs {
            query.append_pair(k, v);
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}
