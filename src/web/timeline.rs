//! Timelines in the browser: a business's, a contact's and the reader's own mail ("my mail"),
//! as threads newest first. The filter form and "Load more" work as plain links and forms; with
//! htmx they swap the thread list in place, and a thread expands in place to its messages.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::error::AppError;
use super::session::CurrentUser;
use super::timeline_views::{MessageRow, TimelineQuery, TimelineView};
use super::views::{render, Layout};
use super::AppState;
use crate::db;
use crate::db::timeline::{self, Context, Reader, Scope};

/// Threads per page.
pub const PAGE_SIZE: usize = 25;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mail", get(mail))
        .route("/mail/threads", get(mail_threads))
        .route("/mail/threads/{email}", get(mail_thread))
        .route("/businesses/{id}/threads", get(record_threads::<Business>))
        .route(
            "/businesses/{id}/threads/{email}",
            get(record_thread::<Business>),
        )
        .route("/contacts/{id}/threads", get(record_threads::<Contact>))
        .route(
            "/contacts/{id}/threads/{email}",
            get(record_thread::<Contact>),
        )
}

pub fn reader(user: &CurrentUser) -> Reader {
    Reader {
        organization_id: user.organization_id,
        user_id: user.id,
    }
}

/// Where a scope's pages live.
pub fn base_of(scope: Scope) -> String {
    match scope {
        Scope::Business(id) => format!("/businesses/{id}"),
        Scope::Contact(id) => format!("/contacts/{id}"),
        Scope::Mine => "/mail".into(),
        // Its page knows the rule's name and the value (`web::references`).
        Scope::Reference(_) => "/references".into(),
    }
}

/// The timeline section of a page (business, contact or my mail).
pub async fn section(
    db: &impl ConnectionTrait,
    user: &CurrentUser,
    scope: Scope,
    query: &TimelineQuery,
) -> Result<TimelineView, AppError> {
    let ctx = timeline::context(db, reader(user), scope).await?;
    section_with(db, ctx, user, scope, query).await
}

/// [`section`] with its [`Context`] already read (with the page's other reads).
pub async fn section_with(
    db: &impl ConnectionTrait,
    ctx: Context,
    user: &CurrentUser,
    scope: Scope,
    query: &TimelineQuery,
) -> Result<TimelineView, AppError> {
    let reader = reader(user);
    let (filters, errors) = query.filters();
    let after = query.cursor();
    let page = timeline::page(db, ctx, reader, scope, &filters, after, PAGE_SIZE).await?;
    Ok(TimelineView::new(
        base_of(scope),
        query,
        page,
        errors,
        after.is_none(),
        user.csrf.clone(),
    ))
}

#[derive(Template)]
#[template(path = "timeline/mail.html")]
struct MailPage {
    layout: Layout,
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

async fn mail(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Query(query): Query<TimelineQuery>,
) -> Result<Response, AppError> {
    let read = db::begin_read(&db).await?;
    let t = section(&read, &user, Scope::Mine, &query).await?;
    read.commit().await?;
    let layout = Layout::for_user(&user, "My mail", "mail");
    Ok(render(&MailPage { layout, t })?.into_response())
}

/// The thread list alone: a filter change (the address bar follows) or the next page.
async fn threads(
    db: &DatabaseConnection,
    user: &CurrentUser,
    scope: Scope,
    headers: &HeaderMap,
    query: &TimelineQuery,
) -> Result<Response, AppError> {
    let read = db::begin_read(db).await?;
    let ctx = timeline::context(&read, reader(user), scope).await?;
    if !ctx.scope_exists {
        return Err(AppError::NotFound);
    }
    let t = section_with(&read, ctx, user, scope, query).await?;
    read.commit().await?;
    let push = (t.first && headers.contains_key("HX-Request")).then(|| t.page_url.clone());
    let mut response = render(&Rows { t })?.into_response();
    if let Some(url) = push.and_then(|u| u.parse().ok()) {
        response.headers_mut().insert("HX-Push-Url", url);
    }
    Ok(response)
}

/// One thread's messages, for expanding it in place.
async fn thread(
    db: &DatabaseConnection,
    user: &CurrentUser,
    scope: Scope,
    email_id: i64,
) -> Result<Response, AppError> {
    let reader = reader(user);
    let read = db::begin_read(db).await?;
    let ctx = timeline::context(&read, reader, scope).await?;
    if !ctx.scope_exists {
        return Err(AppError::NotFound);
    }
    let messages = timeline::thread(&read, ctx, reader, scope, email_id)
        .await?
        .ok_or(AppError::NotFound)?;
    read.commit().await?;
    let back = base_of(scope);
    let messages = messages
        .into_iter()
        .map(|m| MessageRow::new(m, scope))
        .collect();
    Ok(render(&ThreadFragment {
        messages,
        csrf: user.csrf.clone(),
        back,
    })?
    .into_response())
}

async fn mail_threads(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    headers: HeaderMap,
    Query(query): Query<TimelineQuery>,
) -> Result<Response, AppError> {
    threads(&db, &user, Scope::Mine, &headers, &query).await
}

/// The directory record a timeline route is scoped to: `/businesses/{id}` or `/contacts/{id}`.
trait RecordScope: Send + 'static {
    fn scope(id: i64) -> Scope;
}

enum Business {}
enum Contact {}

impl RecordScope for Business {
    fn scope(id: i64) -> Scope {
        Scope::Business(id)
    }
}

impl RecordScope for Contact {
    fn scope(id: i64) -> Scope {
        Scope::Contact(id)
    }
}

async fn record_threads<R: RecordScope>(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(query): Query<TimelineQuery>,
) -> Result<Response, AppError> {
    threads(&db, &user, R::scope(id), &headers, &query).await
}

async fn mail_thread(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path(email): Path<i64>,
) -> Result<Response, AppError> {
    thread(&db, &user, Scope::Mine, email).await
}

async fn record_thread<R: RecordScope>(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path((id, email)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    thread(&db, &user, R::scope(id), email).await
}
