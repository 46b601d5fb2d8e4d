//! Contacts: searchable, keyset-paginated list; create, edit, show; delete (admins).
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::directory_views::{ContactForm, FormMeta, ListQuery};
use super::error::AppError;
use super::relink_views::{self, edit_error, edit_failed, same, PanelParts, Relink};
use super::session::{AdminUser, CurrentUser};
use super::timeline;
use super::timeline_views::TimelineQuery;
use super::timeline_views::TimelineView;
use super::views::{render, FieldErrors, Layout};
use super::AppState;
use crate::db::combined::Combined;
use crate::db::directory::contacts::{self, ContactDetail, ContactRow};
use crate::db::directory::{businesses, PAGE_SIZE};
use crate::db::timeline::{self as db_timeline, Scope};
use crate::reassociation::{self, Edit, Subject};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/contacts", get(list).post(create))
        .route("/contacts/new", get(new))
        .route("/contacts/{id}", get(show).post(update))
        .route("/contacts/{id}/edit", get(edit))
        .route("/contacts/{id}/preview", post(preview))
        .route("/contacts/{id}/reassociation", get(progress))
        .route("/contacts/{id}/delete", get(confirm_delete).post(delete))
}

#[derive(Template)]
#[template(path = "contacts/index.html")]
struct ListPage {
    layout: Layout,
    q: String,
    rows: Vec<ContactRow>,
    more: Option<String>,
    first: bool,
}

#[derive(Template)]
#[template(path = "contacts/index.html", block = "rows")]
struct ListRows {
    q: String,
    rows: Vec<ContactRow>,
    more: Option<String>,
    first: bool,
}

#[derive(Template)]
#[template(path = "contacts/form.html")]
struct FormPage {
    layout: Layout,
    meta: FormMeta,
    form: ContactForm,
    errors: FieldErrors,
    /// `(id, name)` of every business, for the picker.
    businesses: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "contacts/show.html")]
struct ShowPage {
    layout: Layout,
    c: ContactDetail,
    can_delete: bool,
    relink: Relink,
    t: TimelineView,
}

#[derive(Template)]
#[template(path = "contacts/delete.html")]
struct DeletePage {
    layout: Layout,
    c: ContactDetail,
}

async fn list(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    let cursor = query.cursor();
    let page = contacts::list(
        &db,
        user.organization_id,
        &query.q,
        cursor.as_ref(),
        PAGE_SIZE,
    )
    .await?;
    let more = query.more_url("/contacts", page.next.as_ref());
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
    let layout = Layout::for_user(&user, "Contacts", "contacts");
    Ok(render(&ListPage {
        layout,
        q,
        rows,
        more,
        first,
    })?
    .into_response())
}

async fn form_page(
    db: &DatabaseConnection,
    user: &CurrentUser,
    meta: FormMeta,
    form: ContactForm,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let businesses = businesses::options(db, user.organization_id).await?;
    let layout = Layout::for_user(user, meta.heading.clone(), "contacts");
    let page = FormPage {
        layout,
        meta,
        form,
        errors,
        businesses,
    };
    Ok((status, render(&page)?).into_response())
}

fn new_meta() -> FormMeta {
    FormMeta {
        heading: "New contact".into(),
        action: "/contacts".into(),
        cancel: "/contacts".into(),
        submit: "Save",
    }
}

fn edit_meta(id: i64) -> FormMeta {
    FormMeta {
        heading: "Edit contact".into(),
        action: format!("/contacts/{id}/preview"),
        cancel: format!("/contacts/{id}"),
        submit: "Preview changes",
    }
}

/// `?business=ID` preselects a business (the "add contact" link of a business page).
#[derive(Debug, serde::Deserialize)]
struct NewQuery {
    business: Option<i64>,
}

async fn new(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Query(query): Query<NewQuery>,
) -> Result<Response, AppError> {
    let form = ContactForm {
        business_id: query.business.map(|b| b.to_string()).unwrap_or_default(),
        ..ContactForm::default()
    };
    form_page(&db, &user, new_meta(), form, FieldErrors::default()).await
}

async fn create(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Form(form): Form<ContactForm>,
) -> Result<Response, AppError> {
    let errors = match form.parse() {
        Ok(input) => match reassociation::save(
            &db,
            user.organization_id,
            user.id,
            Edit::CreateContact(&input),
        )
        .await
        {
            Ok(saved) => return Ok(Redirect::to(&saved.subject.url()).into_response()),
            Err(e) => edit_error(e, "addresses")?,
        },
        Err(errors) => errors,
    };
    form_page(&db, &user, new_meta(), form, errors).await
}

async fn load(db: &impl ConnectionTrait, org: i64, id: i64) -> Result<ContactDetail, AppError> {
    contacts::get(db, org, id).await?.ok_or(AppError::NotFound)
}

async fn show(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<TimelineQuery>,
) -> Result<Response, AppError> {
    let read = crate::db::begin_read(&db).await?;
    let c = load(&read, user.organization_id, id).await?;
    let layout = Layout::for_user(&user, c.name.clone(), "contacts");
    let can_delete = user.is_admin();
    // The linked-mail panel and the timeline's settings in one round trip.
    let (org, scope) = (user.organization_id, Scope::Contact(id));
    let mut reads = Combined::default();
    let panel = PanelParts::add(&mut reads, org, Subject::Contact(id));
    let ctx = reads.part(|sql| db_timeline::context_part(sql, timeline::reader(&user), scope));
    let mut parts = reads.run(&read).await?;
    let relink = panel.read(&mut parts);
    let ctx = db_timeline::context_of(parts.take(ctx));
    let t = timeline::section_with(&read, ctx, &user, scope, &query).await?;
    read.commit().await?;
    Ok(render(&ShowPage {
        layout,
        c,
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
    relink_views::progress_fragment(&db, user.organization_id, Subject::Contact(id)).await
}

async fn edit(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let c = load(&db, user.organization_id, id).await?;
    let form = ContactForm {
        name: c.name,
        addresses: c.addresses.join("\n"),
        notes: c.notes,
        business_id: c.business.map(|(b, _)| b.to_string()).unwrap_or_default(),
    };
    form_page(&db, &user, edit_meta(id), form, FieldErrors::default()).await
}

async fn update(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ContactForm>,
) -> Result<Response, AppError> {
    let org = user.organization_id;
    let errors = match form.parse() {
        Ok(input) => {
            match reassociation::save(&db, org, user.id, Edit::UpdateContact(id, &input)).await {
                Ok(_) => return Ok(Redirect::to(&format!("/contacts/{id}")).into_response()),
                Err(e) => edit_error(e, "addresses")?,
            }
        }
        Err(errors) => errors,
    };
    load(&db, org, id).await?;
    form_page(&db, &user, edit_meta(id), form, errors).await
}

/// How many stored emails the edit would re-link, with Apply / Cancel; an edit that keeps the
/// addresses and business is saved at once.
async fn preview(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ContactForm>,
) -> Result<Response, AppError> {
    let org = user.organization_id;
    let current = load(&db, org, id).await?;
    let errors = match form.parse() {
        Ok(input)
            if input.business_id == current.business.map(|(b, _)| b)
                && same(
                    input.addresses.iter().map(ToString::to_string),
                    current.addresses,
                ) =>
        {
            return update(State(db), user, Path(id), Form(form)).await;
        }
        Ok(input) => {
            match reassociation::preview(&db, org, user.id, Edit::UpdateContact(id, &input)).await {
                Ok(counts) => {
                    let layout =
                        Layout::for_user(&user, format!("Save {}?", input.name), "contacts");
                    let fields = vec![
                        ("name", form.name),
                        ("addresses", form.addresses),
                        ("notes", form.notes),
                        ("business_id", form.business_id),
                    ];
                    return relink_views::preview_page(
                        layout,
                        counts,
                        fields,
                        format!("/contacts/{id}"),
                    );
                }
                Err(e) => edit_error(e, "addresses")?,
            }
        }
        Err(errors) => errors,
    };
    form_page(&db, &user, edit_meta(id), form, errors).await
}

async fn confirm_delete(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let c = load(&db, user.organization_id, id).await?;
    let layout = Layout::for_user(&user, format!("Delete {}", c.name), "contacts");
    Ok(render(&DeletePage { layout, c })?.into_response())
}

async fn delete(
    State(db): State<DatabaseConnection>,
    AdminUser(user): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    reassociation::save(&db, user.organization_id, user.id, Edit::DeleteContact(id))
        .await
        .map_err(edit_failed)?;
    Ok(Redirect::to("/contacts").into_response())
}
