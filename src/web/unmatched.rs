//! Unmatched mail: emails with an external participant and no link, newest first, with
//! one-click triage (create a business from the domain, create a contact, link to an existing
//! record; its search is `link_targets`). Triage removes the row and, for new records saved
//! through re-association, links their existing mail too.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};

use super::directory_views::RecordForm;
use super::email_links::chosen_target;
use super::error::AppError;
use super::reassociation_views::edit_error;
use super::session::CurrentUser;
use super::views::{render, FieldErrors, Layout};
use super::AppState;
use crate::db::directory::correspondents::{self, Correspondent, Group};
use crate::db::directory::unmatched::{self, Before, Triager};
use crate::db::directory::{self, WriteError};
use crate::domain::address::EmailAddress;
use crate::reassociation::{triage, Edit};

/// Correspondents per page.
const PAGE: usize = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/unmatched", get(list))
        .route("/unmatched/{id}/business", post(create_business))
        .route("/unmatched/{id}/contact", post(create_contact))
        .route("/unmatched/{id}/link", post(link))
}

/// One correspondent as the page shows them.
pub struct PersonView {
    pub c: Correspondent,
    pub when: String,
    pub contact_name: String,
    /// The personal exclusion preview for this address.
    pub exclude: String,
}

/// A domain's correspondents together, or one person.
pub struct GroupView {
    pub domain: Option<String>,
    /// A business name suggested from the domain (`acme.co.uk` -> `Acme`).
    pub business_name: String,
    pub from_domain: u64,
    /// Several people: shown under a header row with the domain's actions.
    pub several: bool,
    pub exclude_domain: String,
    pub people: Vec<PersonView>,
}

fn exclude_url(rule: &str) -> String {
    let q = serde_urlencoded::to_string([("rule", rule)]).unwrap_or_default();
    format!("/account/exclusions/preview?{q}")
}

impl GroupView {
    fn new(g: Group) -> Self {
        let business_name = g
            .domain
            .as_deref()
            .and_then(|d| d.split('.').next())
            .map(capitalize)
            .unwrap_or_default();
        let people = g
            .people
            .into_iter()
            .map(|c| PersonView {
                when: c.latest_at.format("%Y-%m-%d %H:%M").to_string(),
                contact_name: if c.name.trim().is_empty() {
                    c.address.local_part().to_string()
                } else {
                    c.name.clone()
                },
                exclude: exclude_url(c.address.as_str()),
                c,
            })
            .collect::<Vec<_>>();
        Self {
            several: people.len() > 1,
            exclude_domain: g.domain.as_deref().map(exclude_url).unwrap_or_default(),
            domain: g.domain,
            business_name,
            from_domain: g.from_domain,
            people,
        }
    }

    /// The email a domain action is posted for (its newest correspondent's latest).
    pub fn anchor(&self) -> i64 {
        self.people.first().map_or(0, |p| p.c.latest_email_id)
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "unmatched/index.html")]
struct ListPage {
    layout: Layout,
    groups: Vec<GroupView>,
    more: Option<String>,
    first: bool,
    csrf: String,
}

#[derive(Template)]
#[template(path = "unmatched/index.html", block = "rows")]
struct ListRows {
    groups: Vec<GroupView>,
    more: Option<String>,
    first: bool,
    csrf: String,
}

#[derive(Template)]
#[template(path = "unmatched/fragments.html", block = "removed")]
struct Removed {
    ids: Vec<i64>,
    domain: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct ListQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    before_id: Option<i64>,
}

impl ListQuery {
    fn cursor(&self) -> Option<Before> {
        Some(Before {
            received_at: DateTime::parse_from_rfc3339(self.before.as_deref()?)
                .ok()?
                .with_timezone(&Utc),
            id: self.before_id?,
        })
    }

    fn more_url(next: Option<&Before>) -> Option<String> {
        let next = next?;
        let q = ListQuery {
            before: Some(
                next.received_at
                    .to_rfc3339_opts(SecondsFormat::AutoSi, true),
            ),
            before_id: Some(next.id),
        };
        serde_urlencoded::to_string(&q)
            .ok()
            .map(|qs| format!("/unmatched?{qs}"))
    }
}

async fn list(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    let cursor = query.cursor();
    let who = triager(&user);
    let (groups, next) =
        correspondents::page(&db, user.organization_id, who, cursor.as_ref(), PAGE).await?;
    let groups = groups.into_iter().map(GroupView::new).collect();
    let more = ListQuery::more_url(next.as_ref());
    let (first, csrf) = (cursor.is_none(), user.csrf.clone());
    if headers.contains_key("HX-Request") {
        return Ok(render(&ListRows {
            groups,
            more,
            first,
            csrf,
        })?
        .into_response());
    }
    let layout = Layout::for_user(&user, "Unmatched mail", "unmatched");
    Ok(render(&ListPage {
        layout,
        groups,
        more,
        first,
        csrf,
    })?
    .into_response())
}

/// The answer to a triage: every row whose latest email is now linked goes (htmx, out of
/// band; the forms swap nothing themselves), and the domain's header after a business.
fn done(
    headers: &HeaderMap,
    linked: Vec<i64>,
    domain: Option<String>,
) -> Result<Response, AppError> {
    if !headers.contains_key("HX-Request") {
        return Ok(Redirect::to("/unmatched").into_response());
    }
    Ok(render(&Removed {
        ids: linked,
        domain,
    })?
    .into_response())
}

/// Field errors of a triage form as one message (shown in the page's message area).
fn invalid(errors: &FieldErrors, fields: &[&str]) -> AppError {
    let message = fields
        .iter()
        .filter_map(|f| errors.get(f))
        .collect::<Vec<_>>()
        .join("; ");
    AppError::Invalid(message)
}

/// Everyone triages their own mailboxes' mail; admins also the organization's own mailboxes'
/// (no owner), never a colleague's.
pub(super) fn triager(user: &CurrentUser) -> Triager {
    if user.is_admin() {
        Triager::Admin(user.id)
    } else {
        Triager::Member(user.id)
    }
}

/// 404 unless the email is the user's to triage (a colleague's unlinked mail does not exist
/// for anyone else, admins included).
async fn check_email(db: &DatabaseConnection, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let org = user.organization_id;
    if unmatched::email_exists(db, org, triager(user), id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

async fn create_business(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<RecordForm>,
) -> Result<Response, AppError> {
    let org = user.organization_id;
    check_email(&db, &user, id).await?;
    let input = form
        .parse_business(&directory::free_mail(&db, org).await?)
        .map_err(|e| invalid(&e, &["name", "domains", "notes"]))?;
    let created = triage::create(&db, org, user.id, Edit::CreateBusiness(&input)).await;
    let (_, linked) =
        created.or_else(|e| Err(invalid(&edit_error(e, "domains")?, &["domains"])))?;
    let domain = input.domains.first().map(ToString::to_string);
    done(&headers, linked, domain)
}

async fn create_contact(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(mut form): Form<RecordForm>,
) -> Result<Response, AppError> {
    let org = user.organization_id;
    check_email(&db, &user, id).await?;
    // The business the address's domain identifies, if the directory knows one.
    let dir = directory::load(&db, org).await?;
    let host = form
        .addresses
        .rsplit_once('@')
        .map(|(_, h)| h.trim().to_lowercase());
    if let Some(b) = host.and_then(|h| dir.business_for_host(&h)) {
        form.business_id = b.to_string();
    }
    let input = form
        .parse_contact()
        .map_err(|e| invalid(&e, &["name", "addresses", "notes", "business_id"]))?;
    let created = triage::create(&db, org, user.id, Edit::CreateContact(&input)).await;
    let (_, linked) =
        created.or_else(|e| Err(invalid(&edit_error(e, "addresses")?, &["addresses"])))?;
    done(&headers, linked, None)
}

#[derive(Debug, Deserialize)]
struct LinkForm {
    #[serde(default)]
    target: String,
    /// The correspondent whose unmatched mail (in the user's sight) is linked; without it,
    /// the one email.
    #[serde(default)]
    address: String,
}

async fn link(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<LinkForm>,
) -> Result<Response, AppError> {
    let target = chosen_target(&form.target)?;
    let org = user.organization_id;
    let who = (user.id, triager(&user));
    let linked = if form.address.trim().is_empty() {
        unmatched::link_email_from_triage(&db, org, who, id, target).await
    } else {
        let address = EmailAddress::parse(&form.address).map_err(|_| AppError::NotFound)?;
        unmatched::link_person_from_triage(&db, org, who, (id, &address), target).await
    };
    let linked = linked.map_err(|e| match e {
        WriteError::Db(e) => e.into(),
        _ => AppError::NotFound,
    })?;
    done(&headers, linked, None)
}
