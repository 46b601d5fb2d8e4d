//! Directory import: a checked file becomes a plan (each row create / update / unchanged /
//! error, nothing written), and an applied plan is written all-or-nothing in one transaction,
//! re-checked against the directory as it is then.
use sea_orm::{ConnectionTrait, DbErr, TransactionTrait};
use serde::{Deserialize, Serialize};

use super::businesses::{self, BusinessInput};
use super::contacts::{self, ContactInput};
use super::relink::{link_existing_mail_for_new_businesses, link_existing_mail_for_new_contacts};
use super::WriteError;
use crate::domain::directory_csv::{Kind, RawRow};

/// What applying a row does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Create,
    Update(i64),
    Unchanged(i64),
    Error(Vec<String>),
}

/// One row of a plan as the preview shows it.
#[derive(Debug, Clone)]
pub struct PlannedRow {
    pub line: u64,
    pub name: String,
    /// Domains or addresses as written.
    pub list: String,
    pub action: Action,
    pub(super) input: Option<Input>,
}

#[derive(Debug, Clone)]
pub(super) enum Input {
    Business(BusinessInput),
    Contact(ContactInput),
}

/// A whole file's plan.
#[derive(Debug, Clone)]
pub struct Plan {
    pub rows: Vec<PlannedRow>,
}

/// Row counts of a plan or of an applied import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub unchanged: usize,
    pub error: usize,
}

impl Plan {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.rows {
            match r.action {
                Action::Create => c.create += 1,
                Action::Update(_) => c.update += 1,
                Action::Unchanged(_) => c.unchanged += 1,
                Action::Error(_) => c.error += 1,
            }
        }
        c
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file has rows in error (now): nothing was written.
    #[error("the file has rows in error")]
    Invalid(Plan),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Check every row against the file and the directory; writes nothing.
pub async fn plan(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: Kind,
    rows: &[RawRow],
) -> Result<Plan, DbErr> {
    match kind {
        Kind::Businesses => super::import_plan::businesses(db, org_id, rows).await,
        Kind::Contacts => super::import_plan::contacts(db, org_id, rows).await,
    }
}

/// Write a file's rows in one transaction: all of them, or none when any row is in error now.
/// Then link the stored mail of what was created or changed.
pub async fn apply<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    kind: Kind,
    rows: &[RawRow],
) -> Result<Counts, ImportError> {
    let txn = crate::db::begin_write(db).await?;
    let plan = plan(&txn, org_id, kind, rows).await?;
    let counts = plan.counts();
    if counts.error > 0 {
        return Err(ImportError::Invalid(plan));
    }
    let mut touched_businesses = Vec::new();
    let mut touched_contacts = Vec::new();
    for row in &plan.rows {
        match (&row.action, &row.input) {
            (Action::Create, Some(Input::Business(i))) => {
                touched_businesses.push(businesses::create(&txn, org_id, actor, i).await?);
            }
            (Action::Update(id), Some(Input::Business(i))) => {
                businesses::update(&txn, org_id, actor, *id, i).await?;
                touched_businesses.push(*id);
            }
            (Action::Create, Some(Input::Contact(i))) => {
                let id = contacts::create(&txn, org_id, actor, i).await?;
                touched_contacts.push((id, i.business_id));
            }
            (Action::Update(id), Some(Input::Contact(i))) => {
                contacts::update(&txn, org_id, actor, *id, i).await?;
                touched_contacts.push((*id, i.business_id));
            }
            _ => {}
        }
    }
    link_existing_mail_for_new_businesses(&txn, org_id, &touched_businesses).await?;
    link_existing_mail_for_new_contacts(&txn, org_id, &touched_contacts).await?;
    let detail = format!(
        "{}: {} created, {} updated, {} unchanged",
        kind.as_str(),
        counts.create,
        counts.update,
        counts.unchanged
    );
    super::record(&txn, org_id, actor, "directory.import", org_id, &detail).await?;
    txn.commit().await?;
    Ok(counts)
}
