//! `/references/{name}/{value}`: the threads that mention one reference, as a timeline with
//! the same filters, paging and visibility as a business's (`db::timeline`, scope
//! `Reference`). A value no email the reader may see mentions shows an empty timeline, never
//! a 404: whether someone else's mail mentions it is not the reader's to learn.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::error::AppError;
use super::session::CurrentUser;
use super::timeline::{reader, PAGE_SIZE};
use super::timeline_views::{MessageRow, TimelineQuery, TimelineView};
use super::views::{render, Layout};
use super::AppState;
use crate::db;
use crate::db::references::{self as rules, read};
use crate::db::timeline::{self, Page, Scope};
use crate::domain::references::{encode, normalize, UrlTemplate};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/references/{name}/{value}", get(show))
        .route("/references/{name}/{value}/threads", get(threads))
        .route("/references/{name}/{value}/threads/{email}", get(thread))
}

/// The reference a path names: the rule's name, the normalized value, its id when stored and
/// the link to the system that owns it.
struct Named {
    name: String,
    value: String,
    id: Option<i64>,
    external: Option<String>,
}

impl Named {
    fn base(&self) -> String {
        format!("/references/{}/{}", encode(&self.name), encode(&self.value))
    }
}

/// 404 only when the organization has no rule of that name.
async fn named(
    db: &impl ConnectionTrait,
    user: &CurrentUser,
    name: &str,
    value: &str,
) -> Result<Named, AppError> {
    let name = name.trim().to_lowercase();
    let value = normalize(value);
    let rule = rules::by_name(db, user.organization_id, &name)
        .await?
        .ok_or(AppError::NotFound)?;
    let found = read::find_value(db, user.organization_id, &name, &value).await?;
    let external = rule
        .url_template
        .as_deref()
        .and_then(|t| UrlTemplate::parse(t).ok().flatten())
        .map(|t| t.link(&value));
    Ok(Named {
        name,
        value,
        id: found.map(|(id, _)| id),
        external,
    })
}

async fn section(
    db: &impl ConnectionTrait,
    user: &CurrentUser,
    r: &Named,
    query: &TimelineQuery,
) -> Result<TimelineView, AppError> {
    let (filters, errors) = query.filters();
    let after = query.cursor();
    let page = match r.id {
        Some(id) => {
            let scope = Scope::Reference(id);
            let ctx = timeline::context(db, reader(user), scope).await?;
            timeline::page(db, ctx, reader(user), scope, &filters, after, PAGE_SIZE).await?
        }
        None => Page {
            threads: Vec::new(),
            next: None,
            mailboxes: Vec::new(),
        },
    };
    Ok(TimelineView::new(
        r.base(),
        query,
        page,
        errors,
        after.is_none(),
        user.csrf.clone(),
    ))
}

#[derive(Template)]
#[template(path = "references/show.html")]
struct ShowPage {
    layout: Layout,
    name: String,
    value: String,
    external: Option<String>,
    t: TimelineView,
}

#[derive(Template)]
#[template(path = "timeline/_rows.html")]
struct Rows {
    t: TimelineView,
}

#[derive(Template)]
#[template(path = "timeline/_thread.html")]
struct ThreadFragment {
    messages: Vec<MessageRow>,
    csrf: String,
    back: String,
}

async fn show(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path((name, value)): Path<(String, String)>,
    Query(query): Query<TimelineQuery>,
) -> Result<Response, AppError> {
    let read = db::begin_read(&db).await?;
    let r = named(&read, &user, &name, &value).await?;
    let t = section(&read, &user, &r, &query).await?;
    read.commit().await?;
    let page = ShowPage {
        layout: Layout::for_user(&user, format!("{} {}", r.name, r.value), ""),
        name: r.name,
        value: r.value,
        external: r.external,
        t,
    };
    Ok(render(&page)?.into_response())
}

async fn threads(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path((name, value)): Path<(String, String)>,
    Query(query): Query<TimelineQuery>,
) -> Result<Response, AppError> {
    let read = db::begin_read(&db).await?;
    let r = named(&read, &user, &name, &value).await?;
    let t = section(&read, &user, &r, &query).await?;
    read.commit().await?;
    Ok(render(&Rows { t })?.into_response())
}

async fn thread(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path((name, value, email)): Path<(String, String, i64)>,
) -> Result<Response, AppError> {
    let read = db::begin_read(&db).await?;
    let r = named(&read, &user, &name, &value).await?;
    let id = r.id.ok_or(AppError::NotFound)?;
    let scope = Scope::Reference(id);
    let ctx = timeline::context(&read, reader(&user), scope).await?;
    let messages = timeline::thread(&read, ctx, reader(&user), scope, email)
        .await?
        .ok_or(AppError::NotFound)?;
    read.commit().await?;
    let messages = messages
        .into_iter()
        .map(|m| MessageRow::new(m, scope))
        .collect();
    Ok(render(&ThreadFragment {
        messages,
        csrf: user.csrf.clone(),
        back: r.base(),
    })?
    .into_response())
}
