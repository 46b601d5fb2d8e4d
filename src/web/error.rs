//! The one error type of the web edge. Each variant is what a person sees; unexpected errors are
//! logged once with their cause chain and shown as a plain 500 page.
use askama::Template;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("sign-in required")]
    SignInRequired { htmx: bool },
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        AppError::Unexpected(err.into())
    }
}

impl From<askama::Error> for AppError {
    fn from(err: askama::Error) -> Self {
        AppError::Unexpected(err.into())
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(err: tower_sessions::session::Error) -> Self {
        AppError::Unexpected(err.into())
    }
}

/// What an error page shows; attached to error responses so `htmx_fragments` can re-render.
#[derive(Debug, Clone)]
pub struct ErrorView {
    pub status: u16,
    pub title: &'static str,
    pub message: String,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    e: &'a ErrorView,
}

#[derive(Template)]
#[template(path = "error.html", block = "content")]
struct ErrorFragment<'a> {
    e: &'a ErrorView,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            AppError::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing here, or it is not yours to see.".to_string(),
            ),
            AppError::Forbidden(why) => (StatusCode::FORBIDDEN, "Not allowed", why.to_string()),
            AppError::SignInRequired { htmx: true } => {
                let mut res = StatusCode::UNAUTHORIZED.into_response();
                res.headers_mut()
                    .insert("HX-Redirect", HeaderValue::from_static("/login"));
                return res;
            }
            AppError::SignInRequired { htmx: false } => {
                return Redirect::to("/login").into_response();
            }
            AppError::Invalid(message) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "Cannot do that", message)
            }
            AppError::Unexpected(err) => {
                tracing::error!(error = ?err, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Threadline could not complete this request. Nothing was changed by the failed \
                     part; try again, and tell your administrator if it keeps happening."
                        .to_string(),
                )
            }
        };
        error_response(ErrorView {
            status: status.as_u16(),
            title,
            message,
        })
    }
}

/// A full error page carrying its `ErrorView` for `htmx_fragments`.
pub fn error_response(view: ErrorView) -> Response {
    let status = StatusCode::from_u16(view.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = ErrorPage { e: &view }
        .render()
        .unwrap_or_else(|_| view.message.clone());
    let mut res = (status, Html(body)).into_response();
    res.extensions_mut().insert(view);
    res
}

/// Router fallback: unknown paths are a 404 page.
pub async fn not_found() -> AppError {
    AppError::NotFound
}

/// For htmx requests, error pages become fragments that the page shows in its message area.
pub async fn htmx_fragments(req: Request, next: Next) -> Response {
    let htmx = req.headers().contains_key("HX-Request");
    let mut res = next.run(req).await;
    if !htmx {
        return res;
    }
    let Some(view) = res.extensions_mut().remove::<ErrorView>() else {
        return res;
    };
    let body = ErrorFragment { e: &view }
        .render()
        .unwrap_or_else(|_| view.message.clone());
    let (mut parts, _) = res.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    // Errors replace the page's message area rather than the element that asked.
    parts
        .headers
        .insert("HX-Retarget", HeaderValue::from_static("#flash"));
    parts
        .headers
        .insert("HX-Reswap", HeaderValue::from_static("innerHTML"));
    Response::from_parts(parts, axum::body::Body::from(body))
}
