//! Organization › Connections (admins only): the list, adding a Microsoft 365 tenant (secret
//! or, preferred, certificate) or a Google Workspace domain (service account key), a detail
//! page with Test connection and its steps, and removal after a confirmation. Uploads are
//! multipart forms (CSRF token in the query, as the middleware reads it); every change is
//! audited; nothing secret is rendered or logged. Admin consent is in `connection_consent`.
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::connection_views::{AddForm, ConnectionDetail, ConnectionRow};
use super::error::AppError;
use super::session::{AdminUser, CurrentUser};
use super::views::{render, Layout};
use super::AppState;
use crate::db::{self, audit};
use crate::mailboxes::connections::store::{self, NewConnection, NewCredential};
use crate::mailboxes::connections::{test, ConnectionError, ConnectionKind};
use crate::mailboxes::MailDeps;
use crate::providers::Secret;

pub const FLASH_KEY: &str = "admin.connections.flash";
const LIST: &str = "/admin/connections";
/// Largest uploaded certificate or key file.
const MAX_FIELD: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(LIST, get(list))
        .route(
            "/admin/connections/new/microsoft",
            get(new_microsoft).post(add_microsoft),
        )
        .route(
            "/admin/connections/new/google",
            get(new_google).post(add_google),
        )
        .route("/admin/connections/{id}", get(show))
        .route("/admin/connections/{id}/test", post(run_test))
        .route(
            "/admin/connections/{id}/remove",
            get(confirm_remove).post(remove),
        )
}

#[derive(Template)]
#[template(path = "admin/connections/index.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<ConnectionRow>,
    flash: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/connections/new_microsoft.html")]
struct MicrosoftPage {
    layout: Layout,
    form: AddForm,
}

#[derive(Template)]
#[template(path = "admin/connections/new_google.html")]
struct GooglePage {
    layout: Layout,
    form: AddForm,
}

#[derive(Template)]
#[template(path = "admin/connections/show.html")]
struct ShowPage {
    layout: Layout,
    c: ConnectionDetail,
    flash: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/connections/remove.html")]
struct RemovePage {
    layout: Layout,
    c: ConnectionDetail,
}

fn layout(admin: &CurrentUser, title: impl Into<String>) -> Layout {
    Layout::for_user(admin, title, "connections")
}

async fn list(
    State(deps): State<MailDeps>,
    AdminUser(admin): AdminUser,
) -> Result<Response, AppError> {
    let rows = store::list(&deps, admin.organization_id)
        .await
        .map_err(unexpected)?
        .iter()
        .map(ConnectionRow::new)
        .collect();
    let page = ListPage {
        layout: layout(&admin, "Connections"),
        rows,
        flash: admin.session.remove::<String>(FLASH_KEY).await?,
    };
    Ok(render(&page)?.into_response())
}

fn unexpected(e: ConnectionError) -> AppError {
    match e {
        ConnectionError::NotFound => AppError::NotFound,
        other => AppError::Unexpected(other.into()),
    }
}

async fn new_microsoft(AdminUser(admin): AdminUser) -> Result<Response, AppError> {
    let page = MicrosoftPage {
        layout: layout(&admin, "Add a Microsoft 365 tenant"),
        form: AddForm::default(),
    };
    Ok(render(&page)?.into_response())
}

async fn new_google(AdminUser(admin): AdminUser) -> Result<Response, AppError> {
    let page = GooglePage {
        layout: layout(&admin, "Add a Google Workspace domain"),
        form: AddForm::default(),
    };
    Ok(render(&page)?.into_response())
}

/// The multipart fields, text and files alike, each at most `MAX_FIELD` bytes.
async fn fields(mut form: Multipart) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| format!("The form could not be read: {e}"))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| format!("The form could not be read: {e}"))?;
        if bytes.len() > MAX_FIELD {
            return Err(format!(
                "The {name} is larger than 64 KB: is it the right file?"
            ));
        }
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| format!("The {name} is not a text file (PEM or JSON)."))?;
        out.insert(name, text);
    }
    Ok(out)
}

fn field(fields: &HashMap<String, String>, name: &str) -> String {
    fields
        .get(name)
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

async fn add_microsoft(
    State(deps): State<MailDeps>,
    AdminUser(admin): AdminUser,
    form: Multipart,
) -> Result<Response, AppError> {
    add(&deps, &admin, form, microsoft_connection, refused_microsoft).await
}

async fn add_google(
    State(deps): State<MailDeps>,
    AdminUser(admin): AdminUser,
    form: Multipart,
) -> Result<Response, AppError> {
    add(&deps, &admin, form, google_connection, refused_google).await
}

/// The connection a form asks for and the form to show again should it be refused, or the
/// form with what to fix.
type Parsed = Result<(NewConnection, AddForm), AddForm>;

/// Read the form, `parse` it into a connection, create it; every refusal goes back to the
/// form through `refused`.
async fn add(
    deps: &MailDeps,
    admin: &CurrentUser,
    form: Multipart,
    parse: fn(&HashMap<String, String>) -> Parsed,
    refused: fn(&CurrentUser, AddForm) -> Result<Response, AppError>,
) -> Result<Response, AppError> {
    let parsed = match fields(form).await {
        Ok(f) => parse(&f),
        Err(error) => Err(AddForm {
            error,
            ..AddForm::default()
        }),
    };
    let (new, shown) = match parsed {
        Ok(parsed) => parsed,
        Err(form) => return refused(admin, form),
    };
    match created(deps, admin, &new).await? {
        Ok(response) => Ok(response),
        Err(error) => refused(admin, AddForm { error, ..shown }),
    }
}

fn microsoft_connection(f: &HashMap<String, String>) -> Parsed {
    let shown = AddForm {
        name: field(f, "name"),
        tenant: field(f, "tenant"),
        client_id: field(f, "client_id"),
        ..AddForm::default()
    };
    let certificate = field(f, "certificate");
    let secret = field(f, "secret");
    let credential = match (certificate.is_empty(), secret.is_empty()) {
        (false, true) => NewCredential::Certificate(Secret::new(certificate)),
        (true, false) => NewCredential::Secret(Secret::new(secret)),
        (false, false) => {
            let error = "Give either a certificate or a client secret, not both.".into();
            return Err(AddForm { error, ..shown });
        }
        (true, true) => {
            let error = "Upload the certificate (preferred) or give the client secret.".into();
            return Err(AddForm { error, ..shown });
        }
    };
    let new = NewConnection {
        name: shown.name.clone(),
        kind: ConnectionKind::Microsoft365,
        tenant: shown.tenant.clone(),
        client_id: shown.client_id.clone(),
        credential,
        admin_address: None,
    };
    Ok((new, shown))
}

fn google_connection(f: &HashMap<String, String>) -> Parsed {
    let shown = AddForm {
        name: field(f, "name"),
        tenant: field(f, "domain"),
        admin_address: field(f, "admin_address"),
        ..AddForm::default()
    };
    let key = field(f, "key");
    if key.is_empty() {
        let error = "Upload the service account's JSON key file.".into();
        return Err(AddForm { error, ..shown });
    }
    let new = NewConnection {
        name: shown.name.clone(),
        kind: ConnectionKind::GoogleWorkspace,
        tenant: shown.tenant.clone(),
        client_id: String::new(),
        credential: NewCredential::ServiceAccountKey(Secret::new(key)),
        admin_address: Some(shown.admin_address.clone()),
    };
    Ok((new, shown))
}

/// Create and audit, then to the new connection's page; a refusal the admin can fix comes
/// back as its message.
async fn created(
    deps: &MailDeps,
    admin: &CurrentUser,
    new: &NewConnection,
) -> Result<Result<Response, String>, AppError> {
    let org = admin.organization_id;
    let conn = match store::create(deps, org, Some(admin.id), new).await {
        Ok(conn) => conn,
        Err(
            e @ (ConnectionError::Invalid(_)
            | ConnectionError::Key(_)
            | ConnectionError::NameTaken(_)),
        ) => return Ok(Err(e.to_string())),
        Err(e) => return Err(unexpected(e)),
    };
    let detail = format!("{} {} ({})", conn.kind, conn.name, conn.credential_hint);
    audit::record(
        &deps.db,
        audit::Entry::by_user(
            org,
            admin.id,
            "connection.add",
            "connection",
            conn.id,
            detail,
        ),
    )
    .await?;
    let note = format!(
        "Added {}. Run Test connection to check that it works.",
        conn.name
    );
    admin.session.insert(FLASH_KEY, note).await?;
    Ok(Ok(
        Redirect::to(&format!("/admin/connections/{}", conn.id)).into_response()
    ))
}

fn refused_microsoft(admin: &CurrentUser, form: AddForm) -> Result<Response, AppError> {
    let page = MicrosoftPage {
        layout: layout(admin, "Add a Microsoft 365 tenant"),
        form,
    };
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

fn refused_google(admin: &CurrentUser, form: AddForm) -> Result<Response, AppError> {
    let page = GooglePage {
        layout: layout(admin, "Add a Google Workspace domain"),
        form,
    };
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

async fn detail(deps: &MailDeps, org: i64, id: i64) -> Result<ConnectionDetail, AppError> {
    let conn = store::get(deps, org, id).await.map_err(unexpected)?;
    let counts = db::connections::mailbox_counts(&deps.db, org, id).await?;
    Ok(ConnectionDetail::new(&conn, counts))
}

async fn show(
    State(deps): State<MailDeps>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let c = detail(&deps, admin.organization_id, id).await?;
    let page = ShowPage {
        layout: layout(&admin, format!("Connection {}", c.row.name)),
        c,
        flash: admin.session.remove::<String>(FLASH_KEY).await?,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Debug, Default, Deserialize)]
struct TestForm {
    #[serde(default)]
    mailbox: String,
}

/// Run Test connection; the report is stored and shown on the connection's page.
async fn run_test(
    State(deps): State<MailDeps>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
    Form(form): Form<TestForm>,
) -> Result<Response, AppError> {
    let org = admin.organization_id;
    let conn = store::get(&deps, org, id).await.map_err(unexpected)?;
    let report = test::run(&deps, &conn, Some(&form.mailbox))
        .await
        .map_err(unexpected)?;
    let verdict = match report.failure() {
        None => "passed".to_string(),
        Some(step) => format!(
            "failed at \"{}\" ({})",
            step.name,
            step.problem.as_deref().unwrap_or("refused")
        ),
    };
    audit::record(
        &deps.db,
        audit::Entry::by_user(
            org,
            admin.id,
            "connection.test",
            "connection",
            id,
            verdict.clone(),
        ),
    )
    .await?;
    admin
        .session
        .insert(FLASH_KEY, format!("Test connection {verdict}."))
        .await?;
    Ok(Redirect::to(&format!("/admin/connections/{id}")).into_response())
}

async fn confirm_remove(
    State(deps): State<MailDeps>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let c = detail(&deps, admin.organization_id, id).await?;
    let page = RemovePage {
        layout: layout(&admin, format!("Remove {}", c.row.name)),
        c,
    };
    Ok(render(&page)?.into_response())
}

async fn remove(
    State(deps): State<MailDeps>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let org = admin.organization_id;
    let conn = store::get(&deps, org, id).await.map_err(unexpected)?;
    let paused = store::remove(&deps, org, id).await.map_err(unexpected)?;
    let detail = format!("{} {}; {paused} mailbox(es) paused", conn.kind, conn.name);
    audit::record(
        &deps.db,
        audit::Entry::by_user(org, admin.id, "connection.remove", "connection", id, detail),
    )
    .await?;
    let note = format!(
        "Removed {}. {paused} mailbox(es) synced through it are paused; their mail stays.",
        conn.name
    );
    admin.session.insert(FLASH_KEY, note).await?;
    Ok(Redirect::to(LIST).into_response())
}
