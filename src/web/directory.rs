//! Businesses and contacts, one router mounted at `/businesses` and `/contacts`: searchable,
//! keyset-paginated list; create, edit (with a preview of the re-association), show; delete
//! (admins). Every write goes through re-association.
use askama::Template;
use axum::extract::{FromRef, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::directory_views::{ActivityView, FormMeta, ListQuery, RecordForm, RecordInput};
use super::error::AppError;
use super::reassociation_views::{self, edit_error, edit_failed, LinkedMail, PanelParts};
use super::session::{AdminUser, CurrentUser};
use super::timeline;
use super::timeline_views::{TimelineQuery, TimelineView};
use super::views::{render, FieldErrors, Layout};
use super::AppState;
use crate::db::combined::Combined;
use crate::db::directory::records::{self, activity, RecordDetail, RecordRow};
use crate::db::directory::{self, PAGE_SIZE};
use crate::db::timeline::{self as db_timeline, Scope};
use crate::domain::records::RecordKind;
use crate::reassociation::{self, Edit, Subject};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(routes(RecordKind::Business))
        .merge(routes(RecordKind::Contact))
}

fn routes(kind: RecordKind) -> Router<AppState> {
    let base = kind.base();
    Router::new()
        .route(base, get(list).post(create))
        .route(&format!("{base}/new"), get(new))
        .route(&format!("{base}/{{id}}"), get(show).post(update))
        .route(&format!("{base}/{{id}}/edit"), get(edit))
        .route(&format!("{base}/{{id}}/preview"), post(preview))
        .route(&format!("{base}/{{id}}/reassociation"), get(progress))
        .route(
            &format!("{base}/{{id}}/delete"),
            get(confirm_delete).post(delete),
        )
        .layer(Extension(kind))
}

/// What every directory handler starts from: the pool, the kind of record its route is for,
/// and the signed-in user.
struct Ctx {
    db: DatabaseConnection,
    kind: RecordKind,
    user: CurrentUser,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let kind = parts
            .extensions
            .get::<RecordKind>()
            .copied()
            .ok_or_else(|| {
                AppError::Unexpected(anyhow::anyhow!("directory route without a record kind"))
            })?;
        Ok(Self {
            db: DatabaseConnection::from_ref(state),
            kind,
            user,
        })
    }
}

/// The list page; its rows alone answer htmx (search as you type, "load more").
#[derive(Template)]
#[template(path = "directory/index.html")]
struct ListPage {
    layout: Layout,
    list: ListRows,
}

impl std::ops::Deref for ListPage {
    type Target = ListRows;

    fn deref(&self) -> &ListRows {
        &self.list
    }
}

#[derive(Template)]
#[template(path = "directory/index.html", block = "rows")]
struct ListRows {
    kind: RecordKind,
    columns: usize,
    q: String,
    /// Sorted by last activity (else by name).
    by_activity: bool,
    /// The first page in the other order.
    resort: String,
    rows: Vec<(RecordRow, ActivityView)>,
    more: Option<String>,
    first: bool,
}

#[derive(Template)]
#[template(path = "directory/form.html")]
struct FormPage {
    layout: Layout,
    kind: RecordKind,
    meta: FormMeta,
    form: RecordForm,
    errors: FieldErrors,
    /// `(id, name)` of every business, for a contact's picker.
    businesses: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "directory/show.html")]
struct ShowPage {
    layout: Layout,
    kind: RecordKind,
    r: RecordDetail,
    can_delete: bool,
    linked: LinkedMail,
    t: TimelineView,
}

#[derive(Template)]
#[template(path = "directory/delete.html")]
struct DeletePage {
    layout: Layout,
    kind: RecordKind,
    r: RecordDetail,
}

async fn list(
    Ctx { db, kind, user }: Ctx,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    let org = user.organization_id;
    let sight = activity::sight(&db, timeline::reader(&user)).await?;
    let by_activity = query.by_activity();
    let (mut rows, more, first) = if by_activity {
        let cursor = query.activity_cursor();
        let size = usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX);
        let page = activity::by_activity(&db, sight, kind, &query.q, cursor.as_ref(), size).await?;
        let more = query.more_activity_url(kind.base(), page.next.as_ref());
        (page.items, more, cursor.is_none())
    } else {
        let cursor = query.cursor();
        let page = records::list(&db, org, kind, &query.q, cursor.as_ref(), PAGE_SIZE).await?;
        let more = query.more_url(kind.base(), page.next.as_ref());
        (page.items, more, cursor.is_none())
    };
    activity::fill(&db, sight, kind, &mut rows).await?;
    let list = ListRows {
        kind,
        columns: if kind.is_contact() { 6 } else { 5 },
        resort: query.sort_url(kind.base(), !by_activity),
        q: query.q,
        by_activity,
        rows: rows
            .into_iter()
            .map(|r| {
                let a = ActivityView::of(&r.activity);
                (r, a)
            })
            .collect(),
        more,
        first,
    };
    if headers.contains_key("HX-Request") {
        return Ok(render(&list)?.into_response());
    }
    let layout = Layout::for_user(&user, kind.title(), kind.plural());
    Ok(render(&ListPage { layout, list })?.into_response())
}

async fn form_page(
    db: &DatabaseConnection,
    user: &CurrentUser,
    kind: RecordKind,
    meta: FormMeta,
    form: RecordForm,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let businesses = if kind.is_contact() {
        records::options(db, user.organization_id, RecordKind::Business).await?
    } else {
        Vec::new()
    };
    let layout = Layout::for_user(user, meta.heading.clone(), kind.plural());
    let page = FormPage {
        layout,
        kind,
        meta,
        form,
        errors,
        businesses,
    };
    Ok((status, render(&page)?).into_response())
}

fn new_meta(kind: RecordKind) -> FormMeta {
    FormMeta {
        heading: format!("New {}", kind.noun()),
        action: kind.base().into(),
        cancel: kind.base().into(),
        submit: "Save",
    }
}

fn edit_meta(kind: RecordKind, id: i64) -> FormMeta {
    FormMeta {
        heading: format!("Edit {}", kind.noun()),
        action: format!("{}/preview", kind.url(id)),
        cancel: kind.url(id),
        submit: "Preview changes",
    }
}

/// `?business=ID` preselects a contact's business (the "add contact" link of a business page).
#[derive(Debug, serde::Deserialize)]
struct NewQuery {
    business: Option<i64>,
}

async fn new(
    Ctx { db, kind, user }: Ctx,
    Query(query): Query<NewQuery>,
) -> Result<Response, AppError> {
    let form = RecordForm {
        business_id: query.business.map(|b| b.to_string()).unwrap_or_default(),
        ..RecordForm::default()
    };
    let meta = new_meta(kind);
    form_page(&db, &user, kind, meta, form, FieldErrors::default()).await
}

/// The form parsed for `kind` (a business's domains are checked against the free-mail list).
async fn parse(
    db: &DatabaseConnection,
    org: i64,
    kind: RecordKind,
    form: &RecordForm,
) -> Result<Result<RecordInput, FieldErrors>, AppError> {
    let free_mail = match kind {
        RecordKind::Business => directory::free_mail(db, org).await?,
        RecordKind::Contact => crate::domain::freemail::FreeMail::default(),
    };
    Ok(form.parse(kind, &free_mail))
}

/// Save an edit: to its page when saved, else the field errors to show again.
async fn save(
    db: &DatabaseConnection,
    user: &CurrentUser,
    kind: RecordKind,
    edit: Edit<'_>,
) -> Result<Result<Response, FieldErrors>, AppError> {
    match reassociation::save(db, user.organization_id, user.id, edit).await {
        Ok(saved) => Ok(Ok(Redirect::to(&saved.subject.url()).into_response())),
        Err(e) => edit_error(e, kind.identifiers()).map(Err),
    }
}

async fn create(
    Ctx { db, kind, user }: Ctx,
    Form(form): Form<RecordForm>,
) -> Result<Response, AppError> {
    let errors = match parse(&db, user.organization_id, kind, &form).await? {
        Ok(input) => match save(&db, &user, kind, input.create()).await? {
            Ok(saved) => return Ok(saved),
            Err(errors) => errors,
        },
        Err(errors) => errors,
    };
    form_page(&db, &user, kind, new_meta(kind), form, errors).await
}

async fn load(
    db: &impl ConnectionTrait,
    org: i64,
    kind: RecordKind,
    id: i64,
) -> Result<RecordDetail, AppError> {
    records::get(db, org, kind, id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn show(
    Ctx { db, kind, user }: Ctx,
    Path(id): Path<i64>,
    Query(query): Query<TimelineQuery>,
) -> Result<Response, AppError> {
    let org = user.organization_id;
    let scope = match kind {
        RecordKind::Business => Scope::Business(id),
        RecordKind::Contact => Scope::Contact(id),
    };
    let read = crate::db::begin_read(&db).await?;
    // The record, the linked-mail panel and the timeline's settings in one round trip.
    let mut reads = Combined::default();
    let detail = reads.part(|sql| records::detail_part(sql, org, kind, id));
    let panel = PanelParts::add(&mut reads, timeline::reader(&user), Subject::of(kind, id));
    let ctx = reads.part(|sql| db_timeline::context_part(sql, timeline::reader(&user), scope));
    let mut parts = reads.run(&read).await?;
    let r = records::detail_of(kind, parts.take(detail)).ok_or(AppError::NotFound)?;
    let layout = Layout::for_user(&user, r.name.clone(), kind.plural());
    let can_delete = user.is_admin();
    let linked = panel.read(&mut parts);
    let ctx = db_timeline::context_of(parts.take(ctx));
    let t = timeline::section_with(&read, ctx, &user, scope, &query).await?;
    read.commit().await?;
    let page = ShowPage {
        layout,
        kind,
        r,
        can_delete,
        linked,
        t,
    };
    Ok(render(&page)?.into_response())
}

/// The re-association progress fragment, polled while a job runs.
async fn progress(Ctx { db, kind, user }: Ctx, Path(id): Path<i64>) -> Result<Response, AppError> {
    load(&db, user.organization_id, kind, id).await?;
    reassociation_views::progress_fragment(&db, user.organization_id, Subject::of(kind, id)).await
}

async fn edit(Ctx { db, kind, user }: Ctx, Path(id): Path<i64>) -> Result<Response, AppError> {
    let r = load(&db, user.organization_id, kind, id).await?;
    let form = RecordForm::of(kind, r);
    let meta = edit_meta(kind, id);
    form_page(&db, &user, kind, meta, form, FieldErrors::default()).await
}

async fn update(
    Ctx { db, kind, user }: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<RecordForm>,
) -> Result<Response, AppError> {
    let org = user.organization_id;
    let errors = match parse(&db, org, kind, &form).await? {
        Ok(input) => match save(&db, &user, kind, input.update(id)).await? {
            Ok(_) => return Ok(Redirect::to(&kind.url(id)).into_response()),
            Err(errors) => errors,
        },
        Err(errors) => errors,
    };
    load(&db, org, kind, id).await?;
    form_page(&db, &user, kind, edit_meta(kind, id), form, errors).await
}

/// How many stored emails the edit would re-associate, with Apply / Cancel; an edit that keeps
/// what links mail (the domains or addresses, and a contact's business) is saved at once.
async fn preview(
    Ctx { db, kind, user }: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<RecordForm>,
) -> Result<Response, AppError> {
    let org = user.organization_id;
    let current = load(&db, org, kind, id).await?;
    let errors = match parse(&db, org, kind, &form).await? {
        Ok(input) if input.keeps_links(&current) => {
            return update(Ctx { db, kind, user }, Path(id), Form(form)).await;
        }
        Ok(input) => match reassociation::preview(&db, org, user.id, input.update(id)).await {
            Ok(counts) => {
                let title = format!("Save {}?", input.name());
                let layout = Layout::for_user(&user, title, kind.plural());
                let fields = form.fields(kind);
                return reassociation_views::preview_page(layout, counts, fields, kind.url(id));
            }
            Err(e) => edit_error(e, kind.identifiers())?,
        },
        Err(errors) => errors,
    };
    form_page(&db, &user, kind, edit_meta(kind, id), form, errors).await
}

async fn confirm_delete(
    State(db): State<DatabaseConnection>,
    Extension(kind): Extension<RecordKind>,
    AdminUser(user): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let r = load(&db, user.organization_id, kind, id).await?;
    let layout = Layout::for_user(&user, format!("Delete {}", r.name), kind.plural());
    Ok(render(&DeletePage { layout, kind, r })?.into_response())
}

async fn delete(
    State(db): State<DatabaseConnection>,
    Extension(kind): Extension<RecordKind>,
    AdminUser(user): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let edit = match kind {
        RecordKind::Business => Edit::DeleteBusiness(id),
        RecordKind::Contact => Edit::DeleteContact(id),
    };
    reassociation::save(&db, user.organization_id, user.id, edit)
        .await
        .map_err(edit_failed)?;
    Ok(Redirect::to(kind.base()).into_response())
}
