//! What business and contact pages share about linked mail: the linked-emails panel with
//! unlink / link-to forms, the re-association progress fragment (polled by htmx while a job
//! runs), and the preview page shown before a domain or address change is saved.
use askama::Template;
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;

use super::directory_views::write_error;
use super::error::AppError;
use super::views::{render, FieldErrors, Layout};
use crate::db::directory::{businesses, contacts};
use crate::db::links::recent;
use crate::domain::association::Target;
use crate::reassociation::job::{self, Progress};
use crate::reassociation::{Counts, ReassociateError, Subject};

/// Linked emails shown on a page.
const RECENT: u64 = 25;

pub struct LinkedView {
    pub link_id: i64,
    pub email_id: i64,
    pub subject: String,
    pub received: String,
    pub reason: String,
}

pub struct ProgressView {
    pub running: bool,
    pub percent: u64,
    pub done: u64,
    pub total: u64,
    pub gained: u64,
    pub lost: u64,
    pub error: Option<String>,
}

impl From<Progress> for ProgressView {
    fn from(p: Progress) -> Self {
        Self {
            running: p.running,
            percent: p.percent(),
            done: p.done.emails,
            total: p.total,
            gained: p.done.gained,
            lost: p.done.lost,
            error: p.error,
        }
    }
}

/// The linked-emails panel of a business or contact page.
pub struct Relink {
    pub emails: Vec<LinkedView>,
    pub total: u64,
    pub progress: Option<ProgressView>,
    pub progress_url: String,
    /// `("business:3", "Acme (business)")` for the link-to picker.
    pub targets: Vec<(String, String)>,
    /// Where link and unlink forms return.
    pub here: String,
}

fn urls(subject: Subject) -> (String, String) {
    let here = match subject {
        Subject::Business(id) => format!("/businesses/{id}"),
        Subject::Contact(id) => format!("/contacts/{id}"),
    };
    let progress = format!("{here}/reassociation");
    (here, progress)
}

fn target_of(subject: Subject) -> Target {
    match subject {
        Subject::Business(id) => Target::Business(id),
        Subject::Contact(id) => Target::Contact(id),
    }
}

pub async fn panel(
    db: &DatabaseConnection,
    org_id: i64,
    subject: Subject,
) -> Result<Relink, AppError> {
    let target = target_of(subject);
    let emails = recent::list(db, org_id, target, RECENT)
        .await?
        .into_iter()
        .map(|e| LinkedView {
            link_id: e.link_id,
            email_id: e.email_id,
            subject: e.subject,
            received: e.received_at.format("%Y-%m-%d %H:%M").to_string(),
            reason: e.reason,
        })
        .collect();
    let mut targets: Vec<(String, String)> = businesses::options(db, org_id)
        .await?
        .into_iter()
        .filter(|(id, _)| Target::Business(*id) != target)
        .map(|(id, name)| (format!("business:{id}"), format!("{name} (business)")))
        .collect();
    targets.extend(
        contacts::options(db, org_id)
            .await?
            .into_iter()
            .filter(|(id, _)| Target::Contact(*id) != target)
            .map(|(id, name)| (format!("contact:{id}"), format!("{name} (contact)"))),
    );
    let (here, progress_url) = urls(subject);
    Ok(Relink {
        emails,
        total: recent::count(db, org_id, target).await?,
        progress: job::progress(db, org_id, subject).await?.map(Into::into),
        progress_url,
        targets,
        here,
    })
}

#[derive(Template)]
#[template(path = "links/_progress.html")]
struct ProgressFragment {
    relink: Relink,
}

/// `GET /businesses/{id}/reassociation` and the contact one: the progress fragment alone.
pub async fn progress_fragment(
    db: &DatabaseConnection,
    org_id: i64,
    subject: Subject,
) -> Result<Response, AppError> {
    let (here, progress_url) = urls(subject);
    let relink = Relink {
        emails: Vec::new(),
        total: 0,
        progress: job::progress(db, org_id, subject).await?.map(Into::into),
        progress_url,
        targets: Vec::new(),
        here,
    };
    Ok(render(&ProgressFragment { relink })?.into_response())
}

#[derive(Template)]
#[template(path = "links/preview.html")]
struct PreviewPage {
    layout: Layout,
    counts: Counts,
    fields: Vec<(&'static str, String)>,
    apply: String,
    cancel: String,
}

/// The page between an edit form and saving: counts and Apply / Cancel.
pub fn preview_page(
    layout: Layout,
    counts: Counts,
    fields: Vec<(&'static str, String)>,
    apply: String,
) -> Result<Response, AppError> {
    let cancel = apply.clone();
    Ok(render(&PreviewPage {
        layout,
        counts,
        fields,
        apply,
        cancel,
    })?
    .into_response())
}

/// Do two lists hold the same values (in any order)?
pub fn same(a: impl IntoIterator<Item = String>, b: Vec<String>) -> bool {
    let a: std::collections::BTreeSet<String> = a.into_iter().collect();
    a == b.into_iter().collect()
}

/// A refused edit: field errors for the form, or an error page.
pub fn edit_error(err: ReassociateError, field: &'static str) -> Result<FieldErrors, AppError> {
    match err {
        ReassociateError::Write(e) => write_error(e, field),
        ReassociateError::Db(e) => Err(e.into()),
    }
}

/// An edit with no form to return to (delete).
pub fn edit_failed(err: ReassociateError) -> AppError {
    match err {
        ReassociateError::Write(e) => super::directory_views::write_failed(e),
        ReassociateError::Db(e) => e.into(),
    }
}
