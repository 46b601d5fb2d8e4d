//! Typed session contents and the extractors for the signed-in user.
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::error::AppError;
use super::AppState;
use crate::db::session_store::{LoadedUser, LOADED_USER_KEY, USER_KEY};
use crate::db::{self, users};
use crate::domain::user::Role;
use crate::providers::Provider;

/// A session ends this long after sign-in, however active it is.
pub const ABSOLUTE_TIMEOUT: Duration = Duration::days(14);
/// The idle expiry is pushed forward at most this often (one write, not one per request).
const TOUCH_EVERY: Duration = Duration::minutes(5);

const SEEN_KEY: &str = "auth.seen_at";

/// Stored under `auth.user` when someone signs in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionUser {
    pub user_id: i64,
    pub organization_id: i64,
    pub authenticated_at: DateTime<Utc>,
}

/// The signed-in, enabled user of this request, with a CSRF token for the page's forms.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i64,
    pub organization_id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub csrf: String,
    pub session: Session,
    /// The user's mailboxes that need reconnecting: `(id, provider, address)`.
    pub reconnect: Vec<(i64, Provider, String)>,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// A signed-in admin; members get 403.
#[derive(Debug, Clone)]
pub struct AdminUser(pub CurrentUser);

/// Start an authenticated session: a fresh session id, a fresh CSRF token.
pub async fn sign_in(
    session: &Session,
    user_id: i64,
    organization_id: i64,
) -> Result<(), AppError> {
    session.cycle_id().await?;
    let now = db::now();
    session
        .insert(
            USER_KEY,
            SessionUser {
                user_id,
                organization_id,
                authenticated_at: now,
            },
        )
        .await?;
    session.insert(SEEN_KEY, now).await?;
    super::csrf::rotate(session).await?;
    Ok(())
}

/// End the session everywhere it is stored.
pub async fn sign_out(session: &Session) -> Result<(), AppError> {
    session.flush().await?;
    Ok(())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let htmx = parts.headers.contains_key("HX-Request");
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::Unexpected(anyhow::anyhow!("session layer missing")))?;
        let Some(stored) = session.get::<SessionUser>(USER_KEY).await? else {
            return Err(AppError::SignInRequired { htmx });
        };
        let now = db::now();
        if now - stored.authenticated_at > ABSOLUTE_TIMEOUT {
            sign_out(&session).await?;
            return Err(AppError::SignInRequired { htmx });
        }
        // Read with the session (one statement); looked up afresh only when the session was
        // not loaded from the store with this user (a sign-in earlier in this request).
        let loaded = session
            .get::<LoadedUser>(LOADED_USER_KEY)
            .await?
            .filter(|l| {
                l.user.id == stored.user_id && l.user.organization_id == stored.organization_id
            });
        let found = match loaded {
            Some(l) => Some((l.user, l.reconnect)),
            None => users::signed_in(&state.db, stored.organization_id, stored.user_id).await?,
        };
        let Some((user, reconnect)) = found.filter(|(u, _)| !u.disabled) else {
            sign_out(&session).await?;
            return Err(AppError::SignInRequired { htmx });
        };
        let seen = session.get::<DateTime<Utc>>(SEEN_KEY).await?;
        if seen.is_none_or(|seen| now - seen > TOUCH_EVERY) {
            session.insert(SEEN_KEY, now).await?;
        }
        let csrf = super::csrf::token(&session).await?;
        Ok(CurrentUser {
            id: user.id,
            organization_id: user.organization_id,
            name: user.name,
            email: user.email,
            role: user.role,
            csrf,
            session,
            reconnect,
        })
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        if !user.is_admin() {
            return Err(AppError::Forbidden("Only administrators can do this."));
        }
        Ok(AdminUser(user))
    }
}
