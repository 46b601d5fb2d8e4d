//! Directory CSV: export businesses or contacts as a download, and import a file in two steps:
//! upload -> preview (each row create / update / unchanged / error, nothing written; the
//! parsed rows kept server-side under a token) -> apply (all rows or none) -> summary. Members
//! may import.
use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::multipart::MultipartError;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use sea_orm::DatabaseConnection;
use serde::Deserialize;

use super::error::AppError;
use super::session::CurrentUser;
use super::views::{render, Layout};
use super::AppState;
use crate::db::directory::export;
use crate::db::directory::import::{self, Action, Counts, Plan};
use crate::domain::directory_csv::{read, Kind};
use crate::reassociation::import::{self as reassociation_import, ImportError};

/// Largest file accepted.
pub const MAX_UPLOAD: usize = 5 * 1024 * 1024;
/// Rows a preview lists (the counts cover the whole file).
const PREVIEW_ROWS: usize = 1000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/import", get(index))
        .route(
            "/import/{kind}",
            post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD + 64 * 1024)),
        )
        .route("/import/apply", post(apply))
        .route("/export/{file}", get(download))
}

#[derive(Template)]
#[template(path = "import/index.html")]
struct IndexPage {
    layout: Layout,
    error: Option<String>,
}

/// A preview row as shown.
pub struct RowView {
    pub line: u64,
    pub name: String,
    pub list: String,
    pub action: &'static str,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "import/preview.html")]
struct PreviewPage {
    layout: Layout,
    kind: &'static str,
    filename: String,
    counts: Counts,
    rows: Vec<RowView>,
    hidden: usize,
    token: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "import/done.html")]
struct DonePage {
    layout: Layout,
    kind: &'static str,
    counts: Counts,
}

fn layout(user: &CurrentUser, title: &str) -> Layout {
    Layout::for_user(user, title, "import")
}

fn kind_of(s: &str) -> Result<Kind, AppError> {
    Kind::parse(s).ok_or(AppError::NotFound)
}

async fn index(user: CurrentUser) -> Result<Response, AppError> {
    let layout = layout(&user, "Import and export");
    Ok(render(&IndexPage {
        layout,
        error: None,
    })?
    .into_response())
}

fn refused(user: &CurrentUser, status: StatusCode, message: String) -> Result<Response, AppError> {
    let page = IndexPage {
        layout: layout(user, "Import and export"),
        error: Some(message),
    };
    Ok((status, render(&page)?).into_response())
}

fn too_large() -> String {
    format!(
        "The file is larger than {} MB. Split it into smaller files and import them one by one.",
        MAX_UPLOAD / (1024 * 1024)
    )
}

/// The `file` field of the upload, or why there is none.
async fn file_field(mut form: Multipart) -> Result<(String, Bytes), (StatusCode, String)> {
    let failed = |e: MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            (StatusCode::PAYLOAD_TOO_LARGE, too_large())
        } else {
            (
                StatusCode::BAD_REQUEST,
                format!("The upload could not be read: {e}"),
            )
        }
    };
    while let Some(field) = form.next_field().await.map_err(failed)? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("upload.csv").to_string();
            let bytes = field.bytes().await.map_err(failed)?;
            return Ok((name, bytes));
        }
    }
    Err((
        StatusCode::BAD_REQUEST,
        "Choose a CSV file to upload.".into(),
    ))
}

async fn upload(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path(kind): Path<String>,
    form: Multipart,
) -> Result<Response, AppError> {
    let kind = kind_of(&kind)?;
    let (filename, bytes) = match file_field(form).await {
        Ok(f) => f,
        Err((status, message)) => return refused(&user, status, message),
    };
    if bytes.len() > MAX_UPLOAD {
        return refused(&user, StatusCode::PAYLOAD_TOO_LARGE, too_large());
    }
    let rows = match read(&bytes, kind) {
        Ok(rows) => rows,
        Err(e) => return refused(&user, StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    let org = user.organization_id;
    let plan = import::plan(&db, org, kind, &rows).await?;
    let token = if plan.counts().error == 0 {
        Some(import::keep_pending(&db, org, user.id, kind, &filename, &rows).await?)
    } else {
        import::forget_pending(&db, user.id).await?;
        None
    };
    preview(&user, kind, filename, &plan, token, None)
}

fn preview(
    user: &CurrentUser,
    kind: Kind,
    filename: String,
    plan: &Plan,
    token: Option<String>,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let counts = plan.counts();
    let rows = plan
        .rows
        .iter()
        .take(PREVIEW_ROWS)
        .map(|r| {
            let (action, errors) = match &r.action {
                Action::Create => ("create", Vec::new()),
                Action::Update(_) => ("update", Vec::new()),
                Action::Unchanged(_) => ("unchanged", Vec::new()),
                Action::Error(e) => ("error", e.clone()),
            };
            RowView {
                line: r.line,
                name: r.name.clone(),
                list: r.list.clone(),
                action,
                errors,
            }
        })
        .collect();
    let status = if counts.error > 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = PreviewPage {
        layout: layout(user, "Import preview"),
        kind: kind.as_str(),
        filename,
        counts,
        rows,
        hidden: plan.rows.len().saturating_sub(PREVIEW_ROWS),
        token,
        notice,
    };
    Ok((status, render(&page)?).into_response())
}

#[derive(Debug, Deserialize)]
struct ApplyForm {
    #[serde(default)]
    token: String,
}

async fn apply(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Form(form): Form<ApplyForm>,
) -> Result<Response, AppError> {
    let org = user.organization_id;
    match reassociation_import::apply(&db, org, user.id, &form.token).await {
        Ok((file, counts)) => {
            let page = DonePage {
                layout: layout(&user, "Import done"),
                kind: file.kind.as_str(),
                counts,
            };
            Ok(render(&page)?.into_response())
        }
        Err(ImportError::Expired) => Err(AppError::Invalid(
            "This import has expired or was already applied. Upload the file again.".into(),
        )),
        Err(ImportError::Invalid(file, plan)) => {
            let notice = "The directory changed since the preview and some rows are now in \
                          error. Nothing was written."
                .to_string();
            preview(&user, file.kind, file.filename, &plan, None, Some(notice))
        }
        Err(ImportError::Write(e)) => Err(AppError::Invalid(format!(
            "Nothing was written: {e}. Upload the file again to see the current state."
        ))),
        Err(ImportError::Db(e)) => Err(e.into()),
    }
}

/// `GET /export/businesses.csv` or `/export/contacts.csv`, streamed page by page.
async fn download(
    State(db): State<DatabaseConnection>,
    user: CurrentUser,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let kind = kind_of(file.strip_suffix(".csv").ok_or(AppError::NotFound)?)?;
    let org = user.organization_id;
    let first = Some(Bytes::from(export::header(kind)));
    let pages = futures_util::stream::unfold((Some(0_i64), first), move |(after, header)| {
        let db = db.clone();
        async move {
            if let Some(h) = header {
                return Some((Ok::<_, sea_orm::DbErr>(h), (after, None)));
            }
            let after = after?;
            match export::page(&db, org, kind, after).await {
                Ok((bytes, next)) => Some((Ok(Bytes::from(bytes)), (next, None))),
                Err(e) => {
                    tracing::error!(error = ?e, "export failed");
                    Some((Err(e), (None, None)))
                }
            }
        }
    });
    let disposition = format!("attachment; filename=\"{}.csv\"", kind.as_str());
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(pages),
    )
        .into_response())
}
