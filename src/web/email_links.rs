//! Linking an email (or its whole thread) to a business or contact by hand, and unlinking, and
//! the email page's "Linked to" section that does both. A plain form gets a redirect back to
//! the page it was on; htmx from the email page (`HX-Target: email-links`) gets the section
//! re-rendered in place.
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Router};
use sea_orm::DatabaseConnection;
use serde::Deserialize;

use super::error::AppError;
use super::link_targets::TargetList;
use super::local_path::{local_path, see_other};
use super::session::CurrentUser;
use super::views::render;
use super::AppState;
use crate::db::email_view::{self, LinkedRecord};
use crate::db::links::manual::{self, LinkError, Scope};
use crate::domain::association::Target;

/// The id of the email page's links section, which htmx requests name in `HX-Target`.
pub const PANEL_ID: &str = "email-links";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/emails/{id}/links", post(link))
        .route("/emails/{id}/links/{link_id}/delete", post(unlink))
}

/// One link as the email page shows it, with its Unlink button.
pub struct LinkView {
    pub link_id: i64,
    pub href: String,
    pub kind: &'static str,
    pub name: String,
    pub why: &'static str,
}

/// The email page's "Linked to" section: the links, and the form that adds one.
pub struct LinksPanel {
    pub email_id: i64,
    pub links: Vec<LinkView>,
    /// Choices found by the search the page was opened with (`?q=`), if any.
    pub t: TargetList,
    pub csrf: String,
    /// What the last action did (htmx answers only).
    pub notice: Option<String>,
}

impl LinksPanel {
    pub fn new(user: &CurrentUser, email_id: i64, links: &[LinkedRecord], t: TargetList) -> Self {
        Self {
            email_id,
            links: links
                .iter()
                .map(|l| LinkView {
                    link_id: l.link_id,
                    href: match l.kind {
                        "business" => format!("/businesses/{}", l.record_id),
                        _ => format!("/contacts/{}", l.record_id),
                    },
                    kind: l.kind,
                    name: l.name.clone(),
                    why: why(&l.reason),
                })
                .collect(),
            t,
            csrf: user.csrf.clone(),
            notice: None,
        }
    }
}

#[derive(Template)]
#[template(path = "emails/_links.html")]
struct LinksFragment {
    p: LinksPanel,
}

fn why(reason: &str) -> &'static str {
    match reason {
        "address" => "a participant's address belongs to this contact",
        "domain" => "a participant writes from this business's domain",
        "contact_business" => "a linked contact works here",
        "manual" => "linked by hand",
        _ => "linked",
    }
}

#[derive(Debug, Deserialize)]
struct LinkForm {
    /// `business:ID` or `contact:ID`.
    #[serde(default)]
    target: String,
    /// `email` (default) or `thread`.
    #[serde(default)]
    scope: String,
    #[serde(default)]
    back: String,
}

#[derive(Debug, Deserialize)]
struct UnlinkForm {
    #[serde(default)]
    back: String,
}

fn parse_target(s: &str) -> Option<Target> {
    let (kind, id) = s.split_once(':')?;
    let id = id.trim().parse().ok()?;
    match kind.trim() {
        "business" => Some(Target::Business(id)),
        "contact" => Some(Target::Contact(id)),
        _ => None,
    }
}

/// The record a link form chose (`business:<id>` or `contact:<id>`).
pub(super) fn chosen_target(s: &str) -> Result<Target, AppError> {
    parse_target(s)
        .ok_or_else(|| AppError::Invalid("Choose a business or contact to link to.".into()))
}

fn page_of(target: Target) -> String {
    match target {
        Target::Business(id) => format!("/businesses/{id}"),
        Target::Contact(id) => format!("/contacts/{id}"),
    }
}

/// A local path to return to (never another site), else the target's page.
fn back_or(back: &str, target: Target) -> String {
    local_path(back).map_or_else(|| page_of(target), str::to_string)
}

impl From<LinkError> for AppError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::NotFound => AppError::NotFound,
            LinkError::Db(e) => e.into(),
        }
    }
}

/// Links are changed only on an email the reader may see (404 otherwise, as on its page), or,
/// for an admin, on mail of the organization's own mailboxes (no owner), which admins triage:
/// linking never lets anyone read a colleague's mail they could not.
async fn may_link(db: &DatabaseConnection, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let org = user.organization_id;
    if email_view::visible_email(db, org, user.id, id)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let organizations =
        user.is_admin() && crate::db::visibility::mailbox_owner(db, org, id).await? == Some(None);
    if organizations {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

async fn link(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<LinkForm>,
) -> Result<Response, AppError> {
    let target = chosen_target(&form.target)?;
    let scope = match form.scope.as_str() {
        "thread" => Scope::Thread,
        "" | "email" => Scope::Email,
        _ => return Err(AppError::Invalid("scope is email or thread".into())),
    };
    may_link(&db, &user, id).await?;
    let n = manual::link(&db, user.organization_id, user.id, id, target, scope).await?;
    let notice = match scope {
        Scope::Thread => format!("Linked the thread ({n} emails)."),
        Scope::Email => "Linked.".to_string(),
    };
    answer(&db, &user, &headers, id, &form.back, target, notice).await
}

async fn unlink(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    headers: HeaderMap,
    Path((id, link_id)): Path<(i64, i64)>,
    Form(form): Form<UnlinkForm>,
) -> Result<Response, AppError> {
    may_link(&db, &user, id).await?;
    let target = manual::unlink(&db, user.organization_id, user.id, id, link_id).await?;
    let notice = "Unlinked.".to_string();
    answer(&db, &user, &headers, id, &form.back, target, notice).await
}

/// The links section for htmx from the email page, else a redirect back. When the change took
/// the email out of the user's sight (a colleague's mail, its last link gone), the email page
/// would be a 404: they go to the record's page instead.
async fn answer(
    db: &DatabaseConnection,
    user: &CurrentUser,
    headers: &HeaderMap,
    id: i64,
    back: &str,
    target: Target,
    notice: String,
) -> Result<Response, AppError> {
    let org = user.organization_id;
    let visible = email_view::visible_email(db, org, user.id, id)
        .await?
        .is_some();
    let from_panel = headers.get("HX-Target").and_then(|v| v.to_str().ok()) == Some(PANEL_ID);
    let mut dest = back_or(back, target);
    if !visible && dest.starts_with(&format!("/emails/{id}")) {
        dest = page_of(target);
    }
    if from_panel && visible {
        let links = email_view::links(db, org, id).await?;
        let mut p = LinksPanel::new(user, id, &links, TargetList::default());
        p.notice = Some(notice);
        return Ok(render(&LinksFragment { p })?.into_response());
    }
    if from_panel {
        let mut res = axum::http::StatusCode::NO_CONTENT.into_response();
        let location = HeaderValue::from_str(&dest).unwrap_or(HeaderValue::from_static("/"));
        res.headers_mut().insert("HX-Redirect", location);
        return Ok(res);
    }
    Ok(see_other(&dest))
}
