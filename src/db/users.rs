//! Users of an organization: lookups, creation, role and disabled changes.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set, SqlErr,
};

use super::entities::users::{self, Entity as Users, Model as User};
use crate::domain::address::EmailAddress;
use crate::domain::user::Role;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("a user with this email address already exists")]
    EmailTaken,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Turn a unique-key violation into the form-level error users understand.
fn map_unique(err: DbErr) -> UserError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => UserError::EmailTaken,
        _ => UserError::Db(err),
    }
}

pub async fn count_all(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    Users::find().count(db).await
}

pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &EmailAddress,
) -> Result<Option<User>, DbErr> {
    Users::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .one(db)
        .await
}

pub async fn find_by_email_in_org(
    db: &impl ConnectionTrait,
    org_id: i64,
    email: &EmailAddress,
) -> Result<Option<User>, DbErr> {
    Users::find()
        .filter(users::Column::OrganizationId.eq(org_id))
        .filter(users::Column::Email.eq(email.as_str()))
        .one(db)
        .await
}

/// A user by id, only within `org_id`.
pub async fn find_in_org(
    db: &impl ConnectionTrait,
    org_id: i64,
    user_id: i64,
) -> Result<Option<User>, DbErr> {
    Users::find_by_id(user_id)
        .filter(users::Column::OrganizationId.eq(org_id))
        .one(db)
        .await
}

pub async fn list_in_org(db: &impl ConnectionTrait, org_id: i64) -> Result<Vec<User>, DbErr> {
    Users::find()
        .filter(users::Column::OrganizationId.eq(org_id))
        .order_by_asc(users::Column::Name)
        .order_by_asc(users::Column::Id)
        .all(db)
        .await
}

pub async fn create(
    db: &impl ConnectionTrait,
    org_id: i64,
    email: &EmailAddress,
    name: &str,
    role: Role,
    password_hash: String,
) -> Result<User, UserError> {
    let now = super::now();
    users::ActiveModel {
        organization_id: Set(org_id),
        email: Set(email.as_str().to_string()),
        name: Set(name.to_string()),
        role: Set(role.as_str().to_string()),
        password_hash: Set(password_hash),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        last_login_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(map_unique)
}

pub async fn count_active_admins(db: &impl ConnectionTrait, org_id: i64) -> Result<u64, DbErr> {
    Users::find()
        .filter(users::Column::OrganizationId.eq(org_id))
        .filter(users::Column::Role.eq(Role::Admin.as_str()))
        .filter(users::Column::Disabled.eq(false))
        .count(db)
        .await
}

pub async fn set_role(db: &impl ConnectionTrait, user: User, role: Role) -> Result<User, DbErr> {
    let mut active: users::ActiveModel = user.into();
    active.role = Set(role.as_str().to_string());
    active.updated_at = Set(super::now());
    active.update(db).await
}

pub async fn set_disabled(
    db: &impl ConnectionTrait,
    user: User,
    disabled: bool,
) -> Result<User, DbErr> {
    let mut active: users::ActiveModel = user.into();
    active.disabled = Set(disabled);
    active.updated_at = Set(super::now());
    active.update(db).await
}

pub async fn touch_login(db: &impl ConnectionTrait, user_id: i64) -> Result<(), DbErr> {
    Users::update_many()
        .col_expr(
            users::Column::LastLoginAt,
            sea_orm::sea_query::Expr::value(super::now()),
        )
        .filter(users::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn set_password(
    db: &impl ConnectionTrait,
    user_id: i64,
    hash: String,
) -> Result<(), DbErr> {
    Users::update_many()
        .col_expr(
            users::Column::PasswordHash,
            sea_orm::sea_query::Expr::value(hash),
        )
        .col_expr(
            users::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(super::now()),
        )
        .filter(users::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
