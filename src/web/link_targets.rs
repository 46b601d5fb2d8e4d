//! Finding a business or contact to link mail to. `GET /link-targets?q=` answers the radio
//! choices of the email page's "Link to a business or contact" form (htmx typeahead); the same
//! search renders them server-side when the page is opened with `?q=` (no JavaScript).
//! `GET /unmatched/targets?q=` answers `<option>`s for the unmatched page's "Link to
//! existing…". Only the signed-in user's organization is searched, and at most `EACH`
//! businesses and `EACH` contacts come back.
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sea_orm::DatabaseConnection;
use serde::Deserialize;

use super::error::AppError;
use super::session::CurrentUser;
use super::views::render;
use super::AppState;
use crate::db::directory::records;
use crate::domain::records::RecordKind;

/// Businesses, and contacts, per answer.
pub const EACH: u64 = 8;
/// Longer queries are cut: nobody types a 100-character name.
const MAX_QUERY_CHARS: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/link-targets", get(radios))
        .route("/unmatched/targets", get(options))
}

/// One business or contact mail can be linked to.
#[derive(Debug, Clone)]
pub struct TargetView {
    /// The link form's `target`: `business:ID` or `contact:ID`.
    pub value: String,
    pub kind: &'static str,
    pub name: String,
    /// Domains of a business, addresses of a contact.
    pub detail: String,
}

impl TargetView {
    /// "Business: Acme", "Contact: Bo (bo@acme.test)".
    pub fn label(&self) -> String {
        let kind = if self.kind == "business" {
            "Business"
        } else {
            "Contact"
        };
        if self.kind == "contact" && !self.detail.is_empty() {
            format!("{kind}: {} ({})", self.name, self.detail)
        } else {
            format!("{kind}: {}", self.name)
        }
    }
}

/// The choices a link form shows: none until someone searches.
#[derive(Debug, Clone, Default)]
pub struct TargetList {
    pub q: String,
    pub searched: bool,
    pub items: Vec<TargetView>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
}

#[derive(Template)]
#[template(path = "links/_targets.html")]
struct Radios {
    t: TargetList,
}

#[derive(Template)]
#[template(path = "links/_target_options.html")]
struct Options {
    t: TargetList,
}

/// Businesses and contacts of `org` whose name, domain or address contains `q` (an empty `q`
/// lists the first ones by name).
pub async fn search(db: &DatabaseConnection, org: i64, q: &str) -> Result<TargetList, AppError> {
    let q: String = q.trim().chars().take(MAX_QUERY_CHARS).collect();
    let mut items = Vec::new();
    for kind in [RecordKind::Business, RecordKind::Contact] {
        for r in records::list(db, org, kind, &q, None, EACH).await?.items {
            items.push(TargetView {
                value: format!("{}:{}", kind.noun(), r.id),
                kind: kind.noun(),
                name: r.name,
                detail: r.identifiers.join(", "),
            });
        }
    }
    Ok(TargetList {
        q,
        searched: true,
        items,
    })
}

/// The choices for a page opened with `?q=` (searched), or none yet.
pub async fn for_page(
    db: &DatabaseConnection,
    org: i64,
    q: Option<&str>,
) -> Result<TargetList, AppError> {
    match q {
        Some(q) => search(db, org, q).await,
        None => Ok(TargetList::default()),
    }
}

async fn radios(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Query(query): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let t = search(&db, user.organization_id, &query.q).await?;
    Ok(render(&Radios { t })?.into_response())
}

async fn options(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Query(query): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let t = search(&db, user.organization_id, &query.q).await?;
    Ok(render(&Options { t })?.into_response())
}
