//! Businesses: searchable, keyset-paginated list; create, edit, show; delete (admins).
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::directory_views::{BusinessForm, FormMeta, ListQuery};
use super::error::AppError;
use super::relink_views::{self, edit_error, edit_failed, same, PanelParts, Relink};
use super::session::{AdminUser, CurrentUser};
use super::timeline;
use super::timeline_views::TimelineQuery;
use super::timeline_views::TimelineView;
use super::views::{render, FieldErrors, Layout};
use super::AppState;
use crate::db::combined::Combined;
use crate::db::directory::businesses::{self, BusinessDetail, BusinessRow};
use crate::db::directory::{self, PAGE_SIZE};
use crate::db::timeline::{self as db_timeline, Scope};
use crate::reassociation::{self, Edit, Subject};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/businesses", get(list).post(create))
        .route("/businesses/new", get(new))
        .route("/businesses/{id}", get(show).post(update))
        .route("/businesses/{id}/edit", get(edit))
        .route("/businesses/{id}/preview", post(preview))
        .route("/businesses/{id}/reassociation", get(progress))
        .route("/businesses/{id}/delete", get(confirm_delete).post(delete))
}

#[derive(Template)]
#[template(path = "businesses/index.html")]
struct ListPage {
    layout: Layout,
    q: String,
    rows: Vec<BusinessRow>,
    more: Option<String>,
    first: bool,
}

#[derive(Template)]
#[template(path = "businesses/index.html", block = "rows")]
struct ListRows {
    q: String,
    rows: Vec<BusinessRow>,
    more: Option<String>,
    first: bool,
}

#[derive(Template)]
#[template(path = "businesses/form.html")]
struct FormPage {
    layout: Layout,
    meta: FormMeta,
    form: BusinessForm,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "businesses/show.html")]
struct ShowPage {
    layout: Layout,
    b: BusinessDetail,
    can_delete: bool,
    relink: Relink,
    t: TimelineView,
}

#[derive(Template)]
#[template(path = "businesses/delete.html")]
struct DeletePage {
    layout: Layout,
    b: BusinessDetail,
}

async fn list(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    let cursor = query.cursor();
    let page = businesses::list(
        &db,
        user.organization_id,
        &query.q,
        cursor.as_ref(),
        PAGE_SIZE,
    )
    .await?;
    let more = query.more_url("/businesses", page.next.as_ref());
    let (q, rows, first) = (query.q, page.items, cursor.is_none());
    if headers.contains_key("HX-Request") {
        return Ok(render(&ListRows {
            q,
            rows,
            more,
            first,
        })?
        .into_response());
    }
    let layout = Layout::for_user(&user, "Businesses", "businesses");
    Ok(render(&ListPage {
        layout,
        q,
        rows,
        more,
        first,
    })?
    .into_response())
}

fn form_page(
    user: &CurrentUser,
    meta: FormMeta,
    form: BusinessForm,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let layout = Layout::for_user(user, meta.heading.clone(), "businesses");
    let page = FormPage {
        layout,
        meta,
        form,
        errors,
    };
    Ok((status, render(&page)?).into_response())
}

fn new_meta() -> FormMeta {
    FormMeta {
        heading: "New business".into(),
        action: "/businesses".into(),
        cancel: "/businesses".into(),
        submit: "Save",
    }
}

fn edit_meta(id: i64) -> FormMeta {
    FormMeta {
        heading: "Edit business".into(),
        action: format!("/businesses/{id}/preview"),
        cancel: format!("/businesses/{id}"),
        submit: "Preview changes",
    }
}

async fn new(user: CurrentUser) -> Result<Response, AppError> {
    form_page(
        &user,
        new_meta(),
        BusinessForm::default(),
        FieldErrors::default(),
    )
}

async fn create(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Form(form): Form<BusinessForm>,
) -> Result<Response, AppError> {
    let org = user.organization_id;
    let errors = match form.parse(&directory::free_mail(&db, org).await?) {
        Ok(input) => {
            match reassociation::save(&db, org, user.id, Edit::CreateBusiness(&input)).await {
                Ok(saved) => return Ok(Redirect::to(&saved.subject.url()).into_response()),
                Err(e) => edit_error(e, "domains")?,
            }
        }
        Err(errors) => errors,
    };
    form_page(&user, new_meta(), form, errors)
}

async fn load(db: &impl ConnectionTrait, org: i64, id: i64) -> Result<BusinessDetail, AppError> {
    businesses::get(db, org, id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn show(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<TimelineQuery>,
) -> Result<Response, AppError> {
    let (org, scope) = (user.organization_id, Scope::Business(id));
    let read = crate::db::begin_read(&db).await?;
    // The business, the linked-mail panel and the timeline's settings in one round trip.
    let mut reads = Combined::default();
    let detail = reads.part(|sql| businesses::detail_part(sql, org, id));
    let panel = PanelParts::add(&mut reads, org, Subject::Business(id));
    let ctx = reads.part(|sql| db_timeline::context_part(sql, timeline::reader(&user), scope));
    let mut parts = reads.run(&read).await?;
    let b = businesses::detail_of(parts.take(detail)).ok_or(AppError::NotFound)?;
    let layout = Layout::for_user(&user, b.name.clone(), "businesses");
    let can_delete = user.is_admin();
    let relink = panel.read(&mut parts);
    let ctx = db_timeline::context_of(parts.take(ctx));
    let t = timeline::section_with(&read, ctx, &user, scope, &query).await?;
    read.commit().await?;
    Ok(render(&ShowPage {
        layout,
        b,
        can_delete,
        relink,
        t,
    })?
    .into_response())
}

/// The re-association progress fragment, polled while a job runs.
async fn progress(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    load(&db, user.organization_id, id).await?;
    relink_views::progress_fragment(&db, user.organization_id, Subject::Business(id)).await
}

async fn edit(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let b = load(&db, user.organization_id, id).await?;
    let form = BusinessForm {
        name: b.name,
        domains: b.domains.join("\n"),
        notes: b.notes,
    };
    form_page(&user, edit_meta(id), form, FieldErrors::default())
}

async fn update(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<BusinessForm>,
) -> Result<Response, AppError> {
    let org = user.organization_id;
    let errors = match form.parse(&directory::free_mail(&db, org).await?) {
        Ok(input) => {
            match reassociation::save(&db, org, user.id, Edit::UpdateBusiness(id, &input)).await {
                Ok(_) => return Ok(Redirect::to(&format!("/businesses/{id}")).into_response()),
                Err(e) => edit_error(e, "domains")?,
            }
        }
        Err(errors) => errors,
    };
    load(&db, org, id).await?;
    form_page(&user, edit_meta(id), form, errors)
}

/// How many stored emails the edit would re-link, with Apply / Cancel; an edit that keeps the
/// domains is saved at once.
async fn preview(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<BusinessForm>,
) -> Result<Response, AppError> {
    let org = user.organization_id;
    let current = load(&db, org, id).await?;
    let errors = match form.parse(&directory::free_mail(&db, org).await?) {
        Ok(input)
            if same(
                input.domains.iter().map(ToString::to_string),
                current.domains,
            ) =>
        {
            return update(State(db), user, Path(id), Form(form)).await;
        }
        Ok(input) => {
            match reassociation::preview(&db, org, user.id, Edit::UpdateBusiness(id, &input)).await
            {
                Ok(counts) => {
                    let layout =
                        Layout::for_user(&user, format!("Save {}?", input.name), "businesses");
                    let fields = vec![
                        ("name", form.name),
                        ("domains", form.domains),
                        ("notes", form.notes),
                    ];
                    return relink_views::preview_page(
                        layout,
                        counts,
                        fields,
                        format!("/businesses/{id}"),
                    );
                }
                Err(e) => edit_error(e, "domains")?,
            }
        }
        Err(errors) => errors,
    };
    form_page(&user, edit_meta(id), form, errors)
}

async fn confirm_delete(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let b = load(&db, user.organization_id, id).await?;
    let layout = Layout::for_user(&user, format!("Delete {}", b.name), "businesses");
    Ok(render(&DeletePage { layout, b })?.into_response())
}

async fn delete(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    reassociation::save(&db, user.organization_id, user.id, Edit::DeleteBusiness(id))
        .await
        .map_err(edit_failed)?;
    Ok(Redirect::to("/businesses").into_response())
}
