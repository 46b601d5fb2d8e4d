//! What the businesses and contacts pages share: list queries and their "load more" links,
//! create / edit forms parsed into directory inputs, and write errors turned into field errors.
use serde::{Deserialize, Serialize};

use super::error::AppError;
use super::views::FieldErrors;
use crate::db::directory::businesses::BusinessInput;
use crate::db::directory::contacts::ContactInput;
use crate::db::directory::{Cursor, WriteError};
use crate::domain::address::EmailAddress;
use crate::domain::association::business_domain;
use crate::domain::freemail::FreeMail;

const NAME_MAX: usize = 200;
const NOTES_MAX: usize = 10_000;

/// `?q=&after=&after_name=` of a list page.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct ListQuery {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub q: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_name: Option<String>,
}

impl ListQuery {
    pub fn cursor(&self) -> Option<Cursor> {
        Some(Cursor {
            id: self.after?,
            name: self.after_name.clone()?,
        })
    }

    /// The URL of the page after `next`, keeping the search.
    pub fn more_url(&self, base: &str, next: Option<&Cursor>) -> Option<String> {
        let next = next?;
        let query = ListQuery {
            q: self.q.clone(),
            after: Some(next.id),
            after_name: Some(next.name.clone()),
        };
        serde_urlencoded::to_string(&query)
            .ok()
            .map(|qs| format!("{base}?{qs}"))
    }
}

/// The business create / edit form as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct BusinessForm {
    #[serde(default)]
    pub name: String,
    /// One per line.
    #[serde(default)]
    pub domains: String,
    #[serde(default)]
    pub notes: String,
}

impl BusinessForm {
    pub fn parse(&self, free_mail: &FreeMail) -> Result<BusinessInput, FieldErrors> {
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
}

/// The contact create / edit form as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    pub name: String,
    /// One per line.
    #[serde(default)]
    pub addresses: String,
    #[serde(default)]
    pub notes: String,
    /// A business id, or empty for none.
    #[serde(default)]
    pub business_id: String,
}

impl ContactForm {
    pub fn parse(&self) -> Result<ContactInput, FieldErrors> {
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
