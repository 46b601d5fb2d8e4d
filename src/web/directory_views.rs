//! The directory pages' view side: list queries and their "load more" links, the one create /
//! edit form of a business or contact parsed into a directory input, and write errors turned
//! into field errors.
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::error::AppError;
use super::views::FieldErrors;
use crate::db::directory::businesses::BusinessInput;
use crate::db::directory::contacts::ContactInput;
use crate::db::directory::records::activity::{Activity, ActivityCursor, Position};
use crate::db::directory::records::RecordDetail;
use crate::db::directory::{Cursor, WriteError};
use crate::domain::address::EmailAddress;
use crate::domain::association::business_domain;
use crate::domain::freemail::FreeMail;
use crate::domain::records::RecordKind;
use crate::reassociation::Edit;

const NAME_MAX: usize = 200;
const NOTES_MAX: usize = 10_000;

/// `?q=&sort=&after=&after_name=&at=&idle=` of a list page: by name (the default) or by last
/// activity (`sort=activity`), whose cursor is a walk position (`at`) or, among records
/// without mail (`idle=1`), a name cursor.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct ListQuery {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub q: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sort: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle: Option<u8>,
}

impl ListQuery {
    /// Sorted by last activity?
    pub fn by_activity(&self) -> bool {
        self.sort == "activity"
    }

    pub fn cursor(&self) -> Option<Cursor> {
        Some(Cursor {
            id: self.after?,
            name: self.after_name.clone()?,
        })
    }

    /// Where a list by activity goes on; None for its first page (and for a cursor that does
    /// not read, which starts it again).
    pub fn activity_cursor(&self) -> Option<ActivityCursor> {
        if self.idle.is_some() {
            return Some(ActivityCursor::Idle(self.cursor()));
        }
        self.at
            .as_deref()
            .and_then(Position::decode)
            .map(ActivityCursor::Walk)
    }

    /// The URL of the page after `next`, keeping the search.
    pub fn more_url(&self, base: &str, next: Option<&Cursor>) -> Option<String> {
        let next = next?;
        Self::url(
            base,
            &ListQuery {
                after: Some(next.id),
                after_name: Some(next.name.clone()),
                ..self.base()
            },
        )
    }

    /// The URL of the page by activity after `next`, keeping the search.
    pub fn more_activity_url(&self, base: &str, next: Option<&ActivityCursor>) -> Option<String> {
        let query = match next? {
            ActivityCursor::Walk(p) => ListQuery {
                at: Some(p.encode()),
                ..self.base()
            },
            ActivityCursor::Idle(c) => ListQuery {
                idle: Some(1),
                after: c.as_ref().map(|c| c.id),
                after_name: c.as_ref().map(|c| c.name.clone()),
                ..self.base()
            },
        };
        Self::url(base, &query)
    }

    /// The first page in the other order, keeping the search.
    pub fn sort_url(&self, base: &str, activity: bool) -> String {
        let query = ListQuery {
            sort: if activity {
                "activity".into()
            } else {
                String::new()
            },
            ..ListQuery {
                q: self.q.clone(),
                ..ListQuery::default()
            }
        };
        Self::url(base, &query).unwrap_or_else(|| base.to_string())
    }

    /// The search and the order, without a cursor.
    fn base(&self) -> ListQuery {
        ListQuery {
            q: self.q.clone(),
            sort: self.sort.clone(),
            ..ListQuery::default()
        }
    }

    fn url(base: &str, query: &ListQuery) -> Option<String> {
        serde_urlencoded::to_string(query).ok().map(|qs| {
            if qs.is_empty() {
                base.to_string()
            } else {
                format!("{base}?{qs}")
            }
        })
    }
}

/// A record's activity as a list row shows it.
#[derive(Debug, Clone)]
pub struct ActivityView {
    /// `2026-12-08 09:30`, or empty without visible mail.
    pub last: String,
    /// `12`, or `1000+` when counting stopped.
    pub threads: String,
    pub messages: String,
}

impl ActivityView {
    pub fn of(a: &Activity) -> Self {
        let plus = if a.capped { "+" } else { "" };
        Self {
            last: a
                .last_at
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            threads: format!("{}{plus}", a.threads),
            messages: format!("{}{plus}", a.messages),
        }
    }
}

/// The create / edit form of a business or contact as typed (each kind reads its fields).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct RecordForm {
    #[serde(default)]
    pub name: String,
    /// A business's domains, one per line.
    #[serde(default)]
    pub domains: String,
    /// A contact's addresses, one per line.
    #[serde(default)]
    pub addresses: String,
    #[serde(default)]
    pub notes: String,
    /// A contact's business id, or empty for none.
    #[serde(default)]
    pub business_id: String,
}

/// A parsed form.
#[derive(Debug, Clone)]
pub enum RecordInput {
    Business(BusinessInput),
    Contact(ContactInput),
}

impl RecordInput {
    pub fn name(&self) -> &str {
        match self {
            Self::Business(b) => &b.name,
            Self::Contact(c) => &c.name,
        }
    }

    pub fn create(&self) -> Edit<'_> {
        match self {
            Self::Business(b) => Edit::CreateBusiness(b),
            Self::Contact(c) => Edit::CreateContact(c),
        }
    }

    pub fn update(&self, id: i64) -> Edit<'_> {
        match self {
            Self::Business(b) => Edit::UpdateBusiness(id, b),
            Self::Contact(c) => Edit::UpdateContact(id, c),
        }
    }

    /// Does the edit keep what links mail to `current` (its domains or addresses, and a
    /// contact's business)?
    pub fn keeps_links(&self, current: &RecordDetail) -> bool {
        let (identifiers, business): (Vec<String>, Option<i64>) = match self {
            Self::Business(b) => (b.domains.iter().map(ToString::to_string).collect(), None),
            Self::Contact(c) => (
                c.addresses.iter().map(ToString::to_string).collect(),
                c.business_id,
            ),
        };
        let (a, b): (BTreeSet<String>, BTreeSet<String>) = (
            identifiers.into_iter().collect(),
            current.identifiers.iter().cloned().collect(),
        );
        a == b && business == current.business.as_ref().map(|(id, _)| *id)
    }
}

impl RecordForm {
    /// The form of a saved record, for editing.
    pub fn of(kind: RecordKind, r: RecordDetail) -> Self {
        let identifiers = r.identifiers.join("\n");
        let (domains, addresses) = match kind {
            RecordKind::Business => (identifiers, String::new()),
            RecordKind::Contact => (String::new(), identifiers),
        };
        Self {
            name: r.name,
            domains,
            addresses,
            notes: r.notes,
            business_id: r.business.map(|(b, _)| b.to_string()).unwrap_or_default(),
        }
    }

    pub fn parse(
        &self,
        kind: RecordKind,
        free_mail: &FreeMail,
    ) -> Result<RecordInput, FieldErrors> {
        match kind {
            RecordKind::Business => self.parse_business(free_mail).map(RecordInput::Business),
            RecordKind::Contact => self.parse_contact().map(RecordInput::Contact),
        }
    }

    /// The fields a preview carries to Apply, as the kind's form names them.
    pub fn fields(self, kind: RecordKind) -> Vec<(&'static str, String)> {
        match kind {
            RecordKind::Business => vec![
                ("name", self.name),
                ("domains", self.domains),
                ("notes", self.notes),
            ],
            RecordKind::Contact => vec![
                ("name", self.name),
                ("addresses", self.addresses),
                ("notes", self.notes),
                ("business_id", self.business_id),
            ],
        }
    }

    pub fn parse_business(&self, free_mail: &FreeMail) -> Result<BusinessInput, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = check_name(&self.name, &mut errors);
        let notes = check_notes(&self.notes, &mut errors);
        let mut domains = Vec::new();
        for line in lines(&self.domains) {
            match business_domain(line, free_mail) {
                Ok(d) => domains.push(d),
                Err(e) => errors.add("domains", format!("{line}: {e}")),
            }
        }
        if domains.is_empty() && errors.get("domains").is_none() {
            errors.add("domains", "enter at least one domain, like acme.com");
        }
        finish(
            errors,
            BusinessInput {
                name,
                notes,
                domains,
            },
        )
    }

    pub fn parse_contact(&self) -> Result<ContactInput, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = check_name(&self.name, &mut errors);
        let notes = check_notes(&self.notes, &mut errors);
        let mut addresses = Vec::new();
        for line in lines(&self.addresses) {
            match EmailAddress::parse(line) {
                Ok(a) => addresses.push(a),
                Err(e) => errors.add("addresses", format!("{line}: {e}")),
            }
        }
        if addresses.is_empty() && errors.get("addresses").is_none() {
            errors.add("addresses", "enter at least one address, like ann@acme.com");
        }
        let business_id = match self.business_id.trim() {
            "" => None,
            id => {
                let parsed = id.parse().ok();
                if parsed.is_none() {
                    errors.add("business_id", "choose a business from the list");
                }
                parsed
            }
        };
        finish(
            errors,
            ContactInput {
                name,
                notes,
                business_id,
                addresses,
            },
        )
    }

    /// Is this business the one selected?
    pub fn selects(&self, id: &i64) -> bool {
        self.business_id.trim() == id.to_string()
    }
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

fn check_name(name: &str, errors: &mut FieldErrors) -> String {
    let name = name.trim();
    if name.is_empty() {
        errors.add("name", "enter a name");
    } else if name.chars().count() > NAME_MAX {
        errors.add("name", format!("keep the name under {NAME_MAX} characters"));
    }
    name.to_string()
}

fn check_notes(notes: &str, errors: &mut FieldErrors) -> String {
    if notes.chars().count() > NOTES_MAX {
        errors.add("notes", format!("keep notes under {NOTES_MAX} characters"));
    }
    notes.trim().to_string()
}

fn finish<T>(errors: FieldErrors, value: T) -> Result<T, FieldErrors> {
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(errors)
    }
}

/// A refused write: field errors to show on the form, or an error page.
pub fn write_error(err: WriteError, field: &'static str) -> Result<FieldErrors, AppError> {
    let mut errors = FieldErrors::default();
    match err {
        WriteError::Taken { value, owner } => {
            errors.add(field, format!("{value} already belongs to {owner}"));
        }
        WriteError::NoSuchBusiness => errors.add("business_id", "choose a business from the list"),
        WriteError::NotFound => return Err(AppError::NotFound),
        WriteError::Db(e) => return Err(e.into()),
    }
    Ok(errors)
}

/// A write that has no form to return to (delete): every refusal is an error page.
pub fn write_failed(err: WriteError) -> AppError {
    match err {
        WriteError::Db(e) => e.into(),
        WriteError::NotFound | WriteError::Taken { .. } | WriteError::NoSuchBusiness => {
            AppError::NotFound
        }
    }
}

/// Form fields shown on both create and edit pages.
pub struct FormMeta {
    pub heading: String,
    pub action: String,
    pub cancel: String,
    /// The submit button's label (edits go through a preview first).
    pub submit: &'static str,
}
