//! Directory import storage and checks: a checked file becomes a plan (each row create /
//! update / unchanged / error, nothing written) and waits, as a pending file, for apply
//! ([`crate::reassociation::import::apply`] writes it through re-association).
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use serde::{Deserialize, Serialize};

use super::businesses::BusinessInput;
use super::contacts::ContactInput;
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
    pub input: Option<Input>,
}

/// What a valid row writes.
#[derive(Debug, Clone)]
pub enum Input {
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
pub async fn take_pending(
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
