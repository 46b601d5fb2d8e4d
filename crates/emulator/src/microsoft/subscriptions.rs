//! Change-notification subscriptions (`/v1.0/subscriptions`, §D.10): create with the
//! validation handshake (the emulator POSTs `?validationToken=..` and needs a 200 text/plain
//! echo of the decoded token within 10 s, trap 22), lifetimes per trap 23 (over the maximum →
//! 400, under 45 minutes → raised), renew (PATCH), delete, list. Also the Microsoft settings
//! control routes.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::auth::{admit, caller, require_mail, target, Caller, GraphLimits, GraphSettings};
use super::directory::user_id;
use super::error::{odata_json, GraphError};
use super::folders::resolve;
use super::notify::{ensure_running, Sub, Subs};
use super::wire::Subscription;
use crate::SharedState;

/// Most active subscriptions per mailbox.
const MAX_PER_MAILBOX: usize = 1000;

fn invalid(message: impl Into<String>) -> GraphError {
    GraphError::new(StatusCode::BAD_REQUEST, "InvalidRequest", message)
}

/// The wire form of a subscription.
pub fn render(s: &Sub) -> Subscription {
    Subscription {
        id: s.id.clone(),
        resource: s.resource.clone(),
        application_id: s.client_id.clone(),
        change_type: s.change_types.join(","),
        client_state: s.client_state.clone(),
        notification_url: s.notification_url.clone(),
        notification_query_options: None,
        lifecycle_notification_url: s.lifecycle_url.clone(),
        expiration_date_time: s.expires.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        creator_id: s.creator_id.clone(),
        include_resource_data: None,
        latest_supported_tls_version: "v1_2".into(),
        encryption_certificate: None,
        encryption_certificate_id: None,
    }
}

fn entity(state: &SharedState, s: &Sub) -> Value {
    let mut v = json!(render(s));
    v["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#subscriptions/$entity",
        state.base_url.read()
    ));
    v
}

/// `(user, folder)` of a resource such as `/me/mailfolders('inbox')/messages`.
fn parse_resource(resource: &str) -> Result<(Option<String>, Option<String>), GraphError> {
    let bad = || {
        invalid(format!("Resource '{resource}' is not supported: use /me/messages, /users/{{id}}/messages or .../mailFolders/{{id}}/messages."))
    };
    let mut segments: Vec<(String, Option<String>)> = Vec::new();
    for seg in resource.trim().trim_start_matches('/').split('/') {
        match seg.split_once("('") {
            Some((name, rest)) => {
                segments.push((name.to_ascii_lowercase(), None));
                segments.push((rest.trim_end_matches("')").to_string(), None));
            }
            None => segments.push((seg.to_string(), None)),
        }
    }
    let names: Vec<String> = segments.into_iter().map(|(s, _)| s).collect();
    let lower: Vec<String> = names.iter().map(|s| s.to_ascii_lowercase()).collect();
    let (user, rest) = match lower.first().map(String::as_str) {
        Some("me") => (None, 1),
        Some("users") if names.len() > 1 => (Some(names[1].clone()), 2),
        _ => return Err(bad()),
    };
    match &lower[rest..] {
        [m] if m == "messages" => Ok((user, None)),
        [f, _, m] if f == "mailfolders" && m == "messages" => {
            Ok((user, Some(names[rest + 1].clone())))
        }
        _ => Err(bad()),
    }
}

fn expiration(state: &SharedState, raw: Option<&str>) -> Result<DateTime<Utc>, GraphError> {
    let settings = state.ext.get::<GraphLimits>().settings.read().clone();
    let raw = raw.ok_or_else(|| invalid("expirationDateTime is required."))?;
    let at = DateTime::parse_from_rfc3339(raw)
        .map_err(|_| invalid(format!("Invalid expirationDateTime '{raw}'.")))?
        .with_timezone(&Utc);
    let now = Utc::now();
    if at <= now {
        return Err(invalid(
            "Subscription expiration can only be in the future.",
        ));
    }
    if at
        > now
            + chrono::Duration::minutes(settings.max_subscription_minutes)
            + chrono::Duration::seconds(60)
    {
        return Err(invalid(format!(
            "Subscription expiration can only be {} minutes in the future.",
            settings.max_subscription_minutes
        )));
    }
    Ok(at.max(now + chrono::Duration::minutes(settings.min_subscription_minutes)))
}

/// The validation handshake against one URL.
async fn validate(state: &SharedState, url: &str) -> Result<(), GraphError> {
    let token = format!(
        "Validation: Testing client application reachability for subscription Request-Id: {}",
        uuid::Uuid::new_v4()
    );
    let failed = || {
        GraphError::new(StatusCode::BAD_REQUEST, "ValidationError",
        format!("Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request. ({url})"))
    };
    let mut target =
        url::Url::parse(url).map_err(|_| invalid(format!("Invalid notification URL '{url}'.")))?;
    target
        .query_pairs_mut()
        .append_pair("validationToken", &token);
    let response = state
        .http
        .post(target)
        .header("content-type", "text/plain; charset=utf-8")
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|_| failed())?;
    let ok_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("text/plain"));
    if response.status() != reqwest::StatusCode::OK || !ok_type {
        return Err(failed());
    }
    let body = response.text().await.map_err(|_| failed())?;
    if body != token {
        return Err(failed());
    }
    Ok(())
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// `POST /v1.0/subscriptions`.
pub async fn create(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    let who = caller(&state, &headers)?;
    require_mail(&who, false)?;
    let req: Value = serde_json::from_slice(&body).map_err(|e| {
        GraphError::bad_request(format!("Unable to read JSON request payload: {e}"))
    })?;
    let change_types: Vec<String> = text(&req, "changeType")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if change_types.is_empty()
        || change_types
            .iter()
            .any(|c| !matches!(c.as_str(), "created" | "updated" | "deleted"))
    {
        return Err(invalid(
            "changeType must be a comma-separated list of created, updated, deleted.",
        ));
    }
    let notification_url =
        text(&req, "notificationUrl").ok_or_else(|| invalid("notificationUrl is required."))?;
    let resource = text(&req, "resource").ok_or_else(|| invalid("resource is required."))?;
    let client_state = text(&req, "clientState");
    if client_state
        .as_ref()
        .is_some_and(|c| c.chars().count() > 255)
    {
        return Err(invalid("clientState must be at most 255 characters."));
    }
    let (user, folder) = parse_resource(&resource)?;
    let mailbox = target(&state, &who, user.as_deref())?;
    let _permit = admit(
        &state,
        &who,
        &mailbox.info.address,
        "/v1.0/subscriptions",
        true,
    )
    .await?;
    let folder = folder.map(|f| resolve(&mailbox, &f)).transpose()?;
    let expires = expiration(&state, text(&req, "expirationDateTime").as_deref())?;
    let lifecycle_url = text(&req, "lifecycleNotificationUrl");
    validate(&state, &notification_url).await?;
    if let Some(url) = &lifecycle_url {
        validate(&state, url).await?;
    }
    let subs = state.ext.get::<Subs>();
    if subs.count_for(&mailbox.info.address) >= MAX_PER_MAILBOX {
        return Err(GraphError::new(StatusCode::FORBIDDEN, "ExtensionError", "Operation: Create; Exception: [Status Code: Forbidden; Reason: The number of subscriptions for the mailbox has reached its limit.]"));
    }
    let (cursor, epoch) = {
        let data = mailbox.data.read();
        (data.log.head(), data.log.epoch())
    };
    let sub = Sub {
        id: uuid::Uuid::new_v4().to_string(),
        mailbox: mailbox.info.address.clone(),
        user_id: user_id(&mailbox.info.address),
        tenant: who.tenant.clone(),
        folder,
        resource,
        change_types,
        client_state,
        notification_url,
        lifecycle_url,
        expires,
        client_id: who.client_id.clone(),
        creator_id: who
            .mailbox
            .as_deref()
            .map_or_else(|| who.client_id.clone(), user_id),
        cursor,
        epoch,
    };
    let body = entity(&state, &sub);
    subs.insert(sub);
    ensure_running(&state);
    Ok(odata_json(StatusCode::CREATED, &body))
}

fn owned(state: &SharedState, who: &Caller, id: &str) -> Result<Sub, GraphError> {
    state
        .ext
        .get::<Subs>()
        .get(id)
        .filter(|s| s.client_id == who.client_id)
        .ok_or_else(|| {
            GraphError::new(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                format!("The object was not found. Subscription '{id}'"),
            )
        })
}

/// `GET /v1.0/subscriptions/{id}`.
pub async fn get(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let who = caller(&state, &headers)?;
    Ok(odata_json(
        StatusCode::OK,
        &entity(&state, &owned(&state, &who, &id)?),
    ))
}

/// `GET /v1.0/subscriptions`: the calling app's subscriptions.
pub async fn list(
    State(state): State<SharedState>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let who = caller(&state, &headers)?;
    let value: Vec<Value> = state
        .ext
        .get::<Subs>()
        .all()
        .iter()
        .filter(|s| s.client_id == who.client_id)
        .map(|s| json!(render(s)))
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": format!("{}/v1.0/$metadata#subscriptions", state.base_url.read()), "value": value}),
    ))
}

/// `PATCH /v1.0/subscriptions/{id}` `{"expirationDateTime":..}`.
pub async fn renew(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    let who = caller(&state, &headers)?;
    let sub = owned(&state, &who, &id)?;
    let req: Value = serde_json::from_slice(&body).map_err(|e| {
        GraphError::bad_request(format!("Unable to read JSON request payload: {e}"))
    })?;
    let expires = expiration(&state, text(&req, "expirationDateTime").as_deref())?;
    let updated = state
        .ext
        .get::<Subs>()
        .update(&sub.id, |s| s.expires = expires)
        .ok_or_else(GraphError::item_not_found)?;
    Ok(odata_json(StatusCode::OK, &entity(&state, &updated)))
}

/// `DELETE /v1.0/subscriptions/{id}`.
pub async fn delete(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let who = caller(&state, &headers)?;
    let sub = owned(&state, &who, &id)?;
    state.ext.get::<Subs>().remove(&sub.id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /v1.0/subscriptions/{id}/reauthorize` (after `reauthorizationRequired`) → 204.
pub async fn reauthorize(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let who = caller(&state, &headers)?;
    owned(&state, &who, &id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /_emulator/microsoft/settings`.
pub async fn get_settings(State(state): State<SharedState>) -> Json<GraphSettings> {
    Json(state.ext.get::<GraphLimits>().settings.read().clone())
}

/// `PATCH /_emulator/microsoft/settings`: merge the given fields.
pub async fn patch_settings(
    State(state): State<SharedState>,
    Json(patch): Json<HashMap<String, Value>>,
) -> Response {
    let limits = state.ext.get::<GraphLimits>();
    let mut current = serde_json::to_value(limits.settings.read().clone()).unwrap_or_default();
    for (k, v) in patch {
        current[k] = v;
    }
    match serde_json::from_value::<GraphSettings>(current) {
        Ok(updated) => {
            *limits.settings.write() = updated.clone();
            Json(updated).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}
