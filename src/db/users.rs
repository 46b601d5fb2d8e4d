//! Users of an organization: lookups, creation, role and disabled changes.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QueryResult, Set, SqlErr,
};

use super::entities::users::{self, Entity as Users, Model as User};
use super::timeline::sql::Sql;
use crate::domain::address::EmailAddress;
use crate::domain::mailbox::MailboxStatus;
use crate::domain::provider::Provider;
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

/// What every signed-in request needs of its user: the user (within `org_id`) and their
/// mailboxes that need reconnecting as `(id, provider, address)`, in one statement. (The
/// session store reads the same with the session itself; see [`SIGNED_IN_COLUMNS`].)
pub async fn signed_in(
    db: &impl ConnectionTrait,
    org_id: i64,
    user_id: i64,
) -> Result<Option<(SignedIn, Reconnect)>, DbErr> {
    let mut sql = Sql::default();
    sql.push(&format!("SELECT {SIGNED_IN_COLUMNS} FROM users u"));
    join_reconnect(&mut sql);
    sql.push(" WHERE u.id = ")
        .bind(user_id)
        .push(" AND u.organization_id = ")
        .bind(org_id)
        .push(" ORDER BY a.id");
    let rows = db.query_all(sql.build(db.get_database_backend())).await?;
    signed_in_of(&rows, 0)
}

/// The columns a signed-in request reads of its user `u` and of their mailboxes `a` that need
/// reconnecting (see [`join_reconnect`]), in the order [`signed_in_of`] reads them.
pub const SIGNED_IN_COLUMNS: &str =
    "u.id, u.organization_id, u.email, u.name, u.role, u.disabled, a.id, a.provider, a.address";

/// Join the mailboxes `a` of the user `u` that need reconnecting (one row each, or one row
/// of NULLs).
pub fn join_reconnect(sql: &mut Sql) {
    sql.push(
        " LEFT JOIN mail_accounts a ON a.owner_user_id = u.id \
         AND a.organization_id = u.organization_id AND a.status = ",
    )
    .bind(MailboxStatus::NeedsReconnect);
}

/// The user and their reconnect list from rows of [`SIGNED_IN_COLUMNS`] starting at column
/// `at`; None without rows or when the user is missing (a NULL id).
pub fn signed_in_of(
    rows: &[QueryResult],
    at: usize,
) -> Result<Option<(SignedIn, Reconnect)>, DbErr> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let Some(id) = first.try_get_by_index::<Option<i64>>(at)? else {
        return Ok(None);
    };
    let user = SignedIn {
        id,
        organization_id: first.try_get_by_index(at + 1)?,
        email: first.try_get_by_index(at + 2)?,
        name: first.try_get_by_index(at + 3)?,
        role: first.try_get_by_index(at + 4)?,
        disabled: first.try_get_by_index(at + 5)?,
    };
    let mut reconnect = Vec::new();
    for row in rows {
        if let Some(id) = row.try_get_by_index::<Option<i64>>(at + 6)? {
            reconnect.push((
                id,
                row.try_get_by_index(at + 7)?,
                row.try_get_by_index(at + 8)?,
            ));
        }
    }
    Ok(Some((user, reconnect)))
}

/// A user's mailboxes that need reconnecting, as `(id, provider, address)`.
pub type Reconnect = Vec<(i64, Provider, String)>;

/// The user as a signed-in request sees them.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SignedIn {
    pub id: i64,
    pub organization_id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
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
        role: Set(role),
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
        .filter(users::Column::Role.eq(Role::Admin))
        .filter(users::Column::Disabled.eq(false))
        .count(db)
        .await
}

pub async fn set_role(db: &impl ConnectionTrait, user: User, role: Role) -> Result<User, DbErr> {
    let mut active: users::ActiveModel = user.into();
    active.role = Set(role);
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
