//! What business and contact pages share about linked mail: the count of linked emails, the
//! re-association progress fragment (polled by htmx while a job
//! runs), and the preview page shown before a domain or address change is saved.
use askama::Template;
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;

use super::directory_views::write_error;
use super::error::AppError;
use super::mailbox_views::thousands;
use super::views::{render, FieldErrors, Layout};
use crate::db::combined::{Combined, PartId, Parts};
use crate::db::links::recent::{self, LinkedCount};
use crate::db::timeline::Reader;
use crate::reassociation::job::{self, Progress};
use crate::reassociation::{Counts, ReassociateError, Subject};

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

/// Linked messages are counted exactly up to this many; beyond, the page says "more than".
pub const COUNT_CAP: u64 = 1000;

/// The linked-emails panel of a business or contact page.
pub struct LinkedMail {
    /// "3 linked emails", "more than 1,000 linked emails".
    pub total: String,
    pub progress: Option<ProgressView>,
    pub progress_url: String,
}

/// Messages, not stored copies: one message in three colleagues' mailboxes counts once.
fn linked_label(count: LinkedCount) -> String {
    match count {
        LinkedCount::Exactly(n) | LinkedCount::AtLeast(n) if n > COUNT_CAP => {
            format!("more than {} linked emails", thousands(COUNT_CAP))
        }
        LinkedCount::Exactly(1) => "1 linked email".into(),
        LinkedCount::Exactly(n) => format!("{} linked emails", thousands(n)),
        LinkedCount::AtLeast(n) => format!("at least {} linked emails", thousands(n)),
    }
}

fn progress_url(subject: Subject) -> String {
    match subject {
        Subject::Business(id) => format!("/businesses/{id}/reassociation"),
        Subject::Contact(id) => format!("/contacts/{id}/reassociation"),
    }
}

/// The linked-mail panel's reads as parts of a page's [`Combined`] read.
pub struct PanelParts {
    subject: Subject,
    count: PartId,
    progress: PartId,
}

impl PanelParts {
    pub fn add(c: &mut Combined, reader: Reader, subject: Subject) -> Self {
        let target = subject.target();
        let org_id = reader.organization_id;
        Self {
            subject,
            count: c.part(|sql| recent::count_part(sql, reader, target, COUNT_CAP)),
            progress: c.part(|sql| job::progress_part(sql, org_id, subject)),
        }
    }

    pub fn read(self, parts: &mut Parts) -> LinkedMail {
        LinkedMail {
            total: linked_label(recent::count_of(&parts.take(self.count))),
            progress: job::progress_of(&parts.take(self.progress)).map(Into::into),
            progress_url: progress_url(self.subject),
        }
    }
}

#[derive(Template)]
#[template(path = "links/_progress.html")]
struct ProgressFragment {
    linked: LinkedMail,
}

/// `GET /businesses/{id}/reassociation` and the contact one: the progress fragment alone.
pub async fn progress_fragment(
    db: &DatabaseConnection,
    org_id: i64,
    subject: Subject,
) -> Result<Response, AppError> {
    let linked = LinkedMail {
        total: String::new(),
        progress: job::progress(db, org_id, subject).await?.map(Into::into),
        progress_url: progress_url(subject),
    };
    Ok(render(&ProgressFragment { linked })?.into_response())
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

#[cfg(test)]
mod tests {
    use super::{linked_label, LinkedCount, COUNT_CAP};

    #[test]
    fn linked_counts_read_as_people_say_them() {
        use LinkedCount::{AtLeast, Exactly};
        assert_eq!(linked_label(Exactly(0)), "0 linked emails");
        assert_eq!(linked_label(Exactly(1)), "1 linked email");
        assert_eq!(linked_label(Exactly(COUNT_CAP)), "1,000 linked emails");
        assert_eq!(
            linked_label(Exactly(COUNT_CAP + 1)),
            "more than 1,000 linked emails"
        );
        assert_eq!(
            linked_label(AtLeast(COUNT_CAP + 1)),
            "more than 1,000 linked emails"
        );
        assert_eq!(linked_label(AtLeast(700)), "at least 700 linked emails");
    }
}
