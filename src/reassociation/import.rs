//! Applying a previewed directory import: every row re-checked against the directory as it
//! is now, written all-or-nothing in one transaction through the re-association entry point
//! ([`super::save_in`]), and the stored mail the rows reach re-associated in the same
//! transaction.
use sea_orm::{ConnectionTrait, DbErr, TransactionTrait};

use super::{reassociate_now, save_in, Edit, ReassociateError};
use crate::db::directory::import::{
    forget_pending, plan, take_pending, Action, Counts, Input, Pending, Plan,
};
use crate::db::directory::{self, WriteError};
use crate::db::links::Scope;

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

impl From<ReassociateError> for ImportError {
    fn from(e: ReassociateError) -> Self {
        match e {
            ReassociateError::Write(e) => Self::Write(e),
            ReassociateError::Db(e) => Self::Db(e),
        }
    }
}

/// Apply the user's previewed file: every row in one transaction, or none when any row is in
/// error now (the directory may have changed since the preview). Then re-associate the stored
/// mail the rows reach (before and after). The file is used up either way.
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
    let mut scope = Scope::default();
    for row in &plan.rows {
        let edit = match (&row.action, &row.input) {
            (Action::Create, Some(Input::Business(i))) => Edit::CreateBusiness(i),
            (Action::Update(id), Some(Input::Business(i))) => Edit::UpdateBusiness(*id, i),
            (Action::Create, Some(Input::Contact(i))) => Edit::CreateContact(i),
            (Action::Update(id), Some(Input::Contact(i))) => Edit::UpdateContact(*id, i),
            _ => continue,
        };
        scope.merge(save_in(&txn, org_id, actor, edit).await?.1);
    }
    reassociate_now(&txn, org_id, &scope).await?;
    let detail = format!(
        "{}: {} created, {} updated, {} unchanged",
        kind.as_str(),
        counts.create,
        counts.update,
        counts.unchanged
    );
    directory::record(&txn, org_id, actor, "directory.import", org_id, &detail).await?;
    txn.commit().await?;
    Ok((file, counts))
}
