//! Directory import: a checked file becomes a plan (each row create / update / unchanged /
//! error, nothing written), and an applied plan is written all-or-nothing in one transaction,
//! re-checked against the directory as it is then.
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};

use super::businesses::{self, BusinessInput};
use super::contacts::{self, ContactInput};
use super::relink::{link_existing_mail_for_new_businesses, link_existing_mail_for_new_contacts};
use super::WriteError;
use crate::db::entities::directory_imports as pending;
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
    /// No previewed file under this token (expired, applied, or another user's).
    #[error("this import has expired or was already applied")]
    Expired,
    /// The file has rows in error (now): nothing was written.
    #[error("the file has rows in error")]
    Invalid(Pending, Plan),
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

/// A previewed file waiting for apply, for [`MAX_PENDING_AGE`] at most.
#[derive(Debug, Clone)]
pub struct Pending {
    pub token: String,
    pub kind: Kind,
    pub filename: String,
    pub rows: Vec<RawRow>,
}

/// How long a previewed file waits for apply.
pub const MAX_PENDING_AGE: Duration = Duration::hours(24);

/// Keep a previewed file for apply, replacing the user's earlier one; returns its token.
pub async fn keep_pending(
    db: &impl ConnectionTrait,
    org_id: i64,
    user_id: i64,
    kind: Kind,
    filename: &str,
    rows: &[RawRow],
) -> Result<String, DbErr> {
    forget_pending(db, user_id).await?;
    let now = crate::db::now();
    pending::Entity::delete_many()
        .filter(pending::Column::CreatedAt.lt(now - MAX_PENDING_AGE))
        .exec(db)
        .await?;
    let token = uuid::Uuid::new_v4().simple().to_string();
    pending::ActiveModel {
        organization_id: Set(org_id),
        user_id: Set(user_id),
        token: Set(token.clone()),
        kind: Set(kind.as_str().into()),
        filename: Set(filename.into()),
        rows: Set(serde_json::to_string(rows).map_err(|e| DbErr::Custom(e.to_string()))?),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Drop the user's previewed file, if any.
pub async fn forget_pending(db: &impl ConnectionTrait, user_id: i64) -> Result<(), DbErr> {
    pending::Entity::delete_many()
        .filter(pending::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Remove and return the user's previewed file with this token.
async fn take_pending(
    db: &impl ConnectionTrait,
    org_id: i64,
    user_id: i64,
    token: &str,
) -> Result<Option<Pending>, DbErr> {
    let Some(row) = pending::Entity::find()
        .filter(pending::Column::Token.eq(token))
        .filter(pending::Column::OrganizationId.eq(org_id))
        .filter(pending::Column::UserId.eq(user_id))
        .filter(pending::Column::CreatedAt.gte(crate::db::now() - MAX_PENDING_AGE))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    pending::Entity::delete_by_id(row.id).exec(db).await?;
    let (Some(kind), Ok(rows)) = (Kind::parse(&row.kind), serde_json::from_str(&row.rows)) else {
        return Ok(None);
    };
    Ok(Some(Pending {
        token: row.token,
        kind,
        filename: row.filename,
        rows,
    }))
}

/// Apply the user's previewed file: every row in one transaction, or none when any row is in
/// error now (the directory may have changed since the preview). Then link the stored mail of
/// what was created or changed. The file is used up either way.
pub async fn apply<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    token: &str,
) -> Result<(Pending, Counts), ImportError> {
    let txn = crate::db::begin_write(db).await?;
    let file = take_pending(&txn, org_id, actor, token)
        .await?
        .ok_or(ImportError::Expired)?;
    let (kind, rows) = (file.kind, &file.rows);
    let plan = plan(&txn, org_id, kind, rows).await?;
    let counts = plan.counts();
    if counts.error > 0 {
        txn.rollback().await?;
        forget_pending(db, actor).await?;
        return Err(ImportError::Invalid(file, plan));
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
    Ok((file, counts))
}
