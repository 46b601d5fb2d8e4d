//! Organizations: the first-run creation of an organization with its first admin, and the
//! operator's (`threadline org create` / `org list`) for installations hosting several.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};

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

/// Another organization with its first admin, whatever exists already (an operator's
/// command); audited in the new organization. The admin's address must be unused.
pub async fn create_with_admin(
    db: &DatabaseConnection,
    org_name: &str,
    email: &EmailAddress,
    name: &str,
    password_hash: String,
) -> Result<(Organization, User), UserError> {
    let txn = crate::db::begin_write(db).await?;
    let org = create(&txn, org_name).await?;
    let user = users::create(&txn, org.id, email, name, Role::Admin, password_hash).await?;
    super::audit::record(
        &txn,
        super::audit::Entry {
            organization_id: org.id,
            actor_user_id: None,
            action: "organization.create",
            subject_kind: "organization",
            subject_id: Some(org.id),
            detail: format!("{} (first admin {})", org.name, user.email),
        },
    )
    .await?;
    txn.commit().await?;
    Ok((org, user))
}

/// One organization as `threadline org list` shows it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub organization: Organization,
    pub users: u64,
    /// Admins who are not disabled.
    pub active_admins: u64,
}

/// Every organization, oldest first, with its user and active admin counts.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<Listed>, DbErr> {
    use super::entities::users::{Column, Entity as Users};
    let mut out = Vec::new();
    for organization in Organizations::find()
        .order_by_asc(organizations::Column::Id)
        .all(db)
        .await?
    {
        let of_org = Users::find().filter(Column::OrganizationId.eq(organization.id));
        out.push(Listed {
            users: of_org.clone().count(db).await?,
            active_admins: users::count_active_admins(db, organization.id).await?,
            organization,
        });
    }
    Ok(out)
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
    Organizations::find()
        .order_by_asc(organizations::Column::Id)
        .one(db)
        .await
}
