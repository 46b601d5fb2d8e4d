//! Organizations, and the first-run creation of an organization with its first admin.
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, Set};

use super::entities::organizations::{self, Entity as Organizations, Model as Organization};
use super::entities::users::Model as User;
use super::users::{self, UserError};
use crate::domain::address::EmailAddress;
use crate::domain::user::Role;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("Threadline is already set up")]
    AlreadySetUp,
    #[error(transparent)]
    User(#[from] UserError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<Organization>, DbErr> {
    Organizations::find_by_id(id).one(db).await
}

/// Create the organization and its first admin, only while no user exists (first-run setup).
/// Concurrent attempts are serialized so exactly one succeeds.
pub async fn create_first(
    db: &DatabaseConnection,
    org_name: &str,
    email: &EmailAddress,
    name: &str,
    password_hash: String,
) -> Result<(Organization, User), SetupError> {
    let txn = crate::db::begin_write(db).await?;
    if super::is_postgres(&txn) {
        // Serialize first-run setups across instances; released at commit.
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7146, 1)")
            .await?;
    }
    if users::count_all(&txn).await? > 0 {
        return Err(SetupError::AlreadySetUp);
    }
    let org = create(&txn, org_name).await?;
    let user = users::create(&txn, org.id, email, name, Role::Admin, password_hash).await?;
    txn.commit().await?;
    Ok((org, user))
}

pub async fn create(db: &impl ConnectionTrait, name: &str) -> Result<Organization, DbErr> {
    organizations::ActiveModel {
        name: Set(name.to_string()),
        auto_create_contacts: Set("off".into()),
        hide_internal_only: Set(true),
        hide_bulk: Set(true),
        free_mail_domains: Set("[]".into()),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// The one organization of a single-organization installation (the first one created).
pub async fn first(db: &impl ConnectionTrait) -> Result<Option<Organization>, DbErr> {
    use sea_orm::QueryOrder;
    Organizations::find()
        .order_by_asc(organizations::Column::Id)
        .one(db)
        .await
}
