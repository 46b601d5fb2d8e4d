//! Attachments through Threadline: `/emails/{id}/attachments/{attachment}` downloads one
//! (always `Content-Disposition: attachment`, never rendered by us), and `/emails/{id}/cid/{cid}`
//! serves an inline raster image the email body refers to. Both check that the reader may see
//! the email in full (its mailbox's visibility level), then serve the stored copy of the part,
//! or fetch it from the provider.
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::error::AppError;
use super::headers::set_static;
use super::session::CurrentUser;
use super::AppState;
use crate::db::email_view;
use crate::db::entities::attachments;
use crate::mailboxes::MailDeps;
use crate::sync::attachments::{content, AttachmentError};

/// Inline images we serve with their own type; anything else (SVG included) is not an image
/// to us.
const RASTER: [&str; 5] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/bmp",
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/emails/{id}/attachments/{attachment}", get(download))
        .route("/emails/{id}/cid/{cid}", get(inline))
}

impl From<AttachmentError> for AppError {
    fn from(e: AttachmentError) -> Self {
        match e {
            AttachmentError::Gone | AttachmentError::NoSuchPart => AppError::NotFound,
            AttachmentError::NeedsReconnect | AttachmentError::TooLarge => {
                AppError::Invalid(e.to_string())
            }
            other => AppError::Unexpected(anyhow::anyhow!("attachment: {other}")),
        }
    }
}

async fn part(
    deps: &MailDeps,
    user: &CurrentUser,
    email_id: i64,
    pick: impl Fn(&attachments::Model) -> bool,
) -> Result<(attachments::Model, Vec<u8>), AppError> {
    // Below `full` a colleague gets no attachment: as if the email had none.
    let (email, account, _) =
        email_view::visible_email_at(&deps.db, user.organization_id, user.id, email_id)
            .await?
            .filter(|(_, _, level)| level.shows_body())
            .ok_or(AppError::NotFound)?;
    let row = email_view::attachments_of(&deps.db, user.organization_id, email.id)
        .await?
        .into_iter()
        .find(|a| pick(a))
        .ok_or(AppError::NotFound)?;
    let bytes = content(deps, &account, &email.provider_message_id, &row).await?;
    Ok((row, bytes))
}

/// `filename*` (RFC 6266 / 5987) plus an ASCII fallback.
fn disposition(filename: &str) -> String {
    let name = if filename.is_empty() {
        "attachment"
    } else {
        filename
    };
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " ._-()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

async fn download(
    State(deps): State<MailDeps>,
    user: CurrentUser,
    Path((id, attachment)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let (row, bytes) = part(&deps, &user, id, |a| a.id == attachment).await?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition(&row.filename)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

async fn inline(
    State(deps): State<MailDeps>,
    user: CurrentUser,
    Path((id, cid)): Path<(i64, String)>,
) -> Result<Response, AppError> {
    let (row, bytes) = part(&deps, &user, id, |a| {
        a.content_id
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case(&cid))
    })
    .await?;
    let Some(kind) = RASTER.iter().find(|t| **t == row.content_type) else {
        return Err(AppError::NotFound);
    };
    let mut res = bytes.into_response();
    set_static(
        res.headers_mut(),
        [
            (header::CONTENT_TYPE, kind),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox",
            ),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::disposition;

    #[test]
    fn filenames_are_safe_in_the_header() {
        assert_eq!(
            disposition("quote.pdf"),
            "attachment; filename=\"quote.pdf\"; filename*=UTF-8''quote.pdf"
        );
        let d = disposition("Ré\"sumé;\r\n.pdf");
        assert!(!d.contains('\r') && !d.contains('\n'));
        assert!(d.starts_with("attachment; filename=\"R__sum__"), "{d}");
        assert!(
            d.contains("filename*=UTF-8''R%C3%A9%22sum%C3%A9%3B%0D%0A.pdf"),
            "{d}"
        );
        assert!(disposition("").contains("filename=\"attachment\""));
    }
}
