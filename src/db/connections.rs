//! `connections` and `connection_tokens` queries. Every read and change of a connection names
//! its organization; tokens are reached through a connection the caller already holds.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

use super::entities::connection_tokens::{self, Entity as Tokens, Model as TokenRow};
use super::entities::connections::{self, Entity as Connections, Model as Connection};
use super::entities::mail_accounts::{self, Entity as MailAccounts};
use crate::domain::mailbox::MailboxStatus;

const NO_TIME: Option<DateTime<Utc>> = None;

/// A connection as created; `credentials` is sealed after insert (the seal binds the row id).
pub struct NewRow<'a> {
    pub organization_id: i64,
    pub kind: &'a str,
    pub name: &'a str,
    pub tenant: &'a str,
    pub client_id: &'a str,
    pub credential_kind: &'a str,
    pub credential_hint: &'a str,
    pub admin_address: Option<&'a str>,
    pub created_by: Option<i64>,
}

pub async fn insert(db: &impl ConnectionTrait, new: NewRow<'_>) -> Result<Connection, DbErr> {
    let now = super::now();
    connections::ActiveModel {
        organization_id: Set(new.organization_id),
        kind: Set(new.kind.to_string()),
        name: Set(new.name.to_string()),
        tenant: Set(new.tenant.to_string()),
        client_id: Set(new.client_id.to_string()),
        credential_kind: Set(new.credential_kind.to_string()),
        credentials: Set(String::new()),
        credential_hint: Set(new.credential_hint.to_string()),
        admin_address: Set(new.admin_address.map(str::to_string)),
        consent_state: Set("unknown".into()),
        status: Set("active".into()),
        last_test_at: Set(None),
        last_test_result: Set(None),
        last_directory_sync_at: Set(None),
        last_error: Set(None),
        created_by: Set(new.created_by),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

async fn update(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
    sets: Vec<(connections::Column, sea_orm::Value)>,
) -> Result<bool, DbErr> {
    let mut q = Connections::update_many()
        .col_expr(connections::Column::UpdatedAt, Expr::value(super::now()));
    for (col, value) in sets {
        q = q.col_expr(col, Expr::value(value));
    }
    let res = q
        .filter(connections::Column::Id.eq(id))
        .filter(connections::Column::OrganizationId.eq(org_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn set_credentials(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
    sealed: String,
) -> Result<bool, DbErr> {
    update(
        db,
        org_id,
        id,
        vec![(connections::Column::Credentials, sealed.into())],
    )
    .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
) -> Result<Option<Connection>, DbErr> {
    Connections::find_by_id(id)
        .filter(connections::Column::OrganizationId.eq(org_id))
        .one(db)
        .await
}

pub async fn find_by_name(
    db: &impl ConnectionTrait,
    org_id: i64,
    name: &str,
) -> Result<Option<Connection>, DbErr> {
    Connections::find()
        .filter(connections::Column::OrganizationId.eq(org_id))
        .filter(connections::Column::Name.eq(name))
        .one(db)
        .await
}

pub async fn list(db: &impl ConnectionTrait, org_id: i64) -> Result<Vec<Connection>, DbErr> {
    Connections::find()
        .filter(connections::Column::OrganizationId.eq(org_id))
        .order_by_asc(connections::Column::Name)
        .all(db)
        .await
}

/// Every connection of every organization, for the operator's `threadline tenant list`
/// without `--org` and for key rotation.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Connection>, DbErr> {
    Connections::find()
        .order_by_asc(connections::Column::OrganizationId)
        .order_by_asc(connections::Column::Name)
        .all(db)
        .await
}

/// The last Test connection: when, its steps (JSON), and the status it leaves.
pub async fn record_test(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
    result_json: String,
    status: &str,
    last_error: Option<String>,
) -> Result<bool, DbErr> {
    let sets = vec![
        (connections::Column::LastTestAt, Some(super::now()).into()),
        (
            connections::Column::LastTestResult,
            Some(result_json).into(),
        ),
        (connections::Column::Status, status.into()),
        (connections::Column::LastError, last_error.into()),
    ];
    update(db, org_id, id, sets).await
}

pub async fn set_consent(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
    consent: &str,
    last_error: Option<String>,
) -> Result<bool, DbErr> {
    let sets = vec![
        (connections::Column::ConsentState, consent.into()),
        (connections::Column::LastError, last_error.into()),
    ];
    update(db, org_id, id, sets).await
}

/// Remove a connection: its tokens go, its mailboxes are paused and flagged
/// (`directory_state = connection_removed`) and keep their mail. Returns the mailboxes paused.
pub async fn remove(db: &impl ConnectionTrait, org_id: i64, id: i64) -> Result<u64, DbErr> {
    let message = "Paused: the organization connection this mailbox synced through was \
                   removed. Its stored mail stays.";
    let paused = MailAccounts::update_many()
        .col_expr(
            mail_accounts::Column::Status,
            Expr::value(MailboxStatus::Paused),
        )
        .col_expr(mail_accounts::Column::LastError, Expr::value(message))
        .col_expr(
            mail_accounts::Column::DirectoryState,
            Expr::value("connection_removed"),
        )
        .col_expr(
            mail_accounts::Column::ConnectionId,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(mail_accounts::Column::NextSyncAt, Expr::value(NO_TIME))
        .col_expr(mail_accounts::Column::UpdatedAt, Expr::value(super::now()))
        .filter(mail_accounts::Column::OrganizationId.eq(org_id))
        .filter(mail_accounts::Column::ConnectionId.eq(id))
        .exec(db)
        .await?
        .rows_affected;
    if find(db, org_id, id).await?.is_some() {
        Tokens::delete_many()
            .filter(connection_tokens::Column::ConnectionId.eq(id))
            .exec(db)
            .await?;
        Connections::delete_many()
            .filter(connections::Column::Id.eq(id))
            .filter(connections::Column::OrganizationId.eq(org_id))
            .exec(db)
            .await?;
    }
    Ok(paused)
}

/// The mailboxes synced through a connection.
pub async fn mailboxes(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
) -> Result<Vec<mail_accounts::Model>, DbErr> {
    MailAccounts::find()
        .filter(mail_accounts::Column::OrganizationId.eq(org_id))
        .filter(mail_accounts::Column::ConnectionId.eq(id))
        .all(db)
        .await
}

/// Mailboxes synced through a connection: (total, active).
pub async fn mailbox_counts(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
) -> Result<(u64, u64), DbErr> {
    use sea_orm::PaginatorTrait;
    let base = MailAccounts::find()
        .filter(mail_accounts::Column::OrganizationId.eq(org_id))
        .filter(mail_accounts::Column::ConnectionId.eq(id));
    let total = base.clone().count(db).await?;
    let active = base
        .filter(mail_accounts::Column::Status.eq(MailboxStatus::Active))
        .count(db)
        .await?;
    Ok((total, active))
}

// ---- cached tokens ----

pub async fn token(
    db: &impl ConnectionTrait,
    connection_id: i64,
    subject: &str,
    scope: &str,
) -> Result<Option<TokenRow>, DbErr> {
    Tokens::find()
        .filter(connection_tokens::Column::ConnectionId.eq(connection_id))
        .filter(connection_tokens::Column::Subject.eq(subject))
        .filter(connection_tokens::Column::Scope.eq(scope))
        .one(db)
        .await
}

/// Take the refresh lease of a (connection, subject, scope) token, creating its row if there
/// is none yet. True when this caller holds it until `until`.
pub async fn try_lock_token(
    db: &impl ConnectionTrait,
    (connection_id, subject, scope): (i64, &str, &str),
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = Tokens::update_many()
        .col_expr(
            connection_tokens::Column::RefreshLockUntil,
            Expr::value(until),
        )
        .filter(connection_tokens::Column::ConnectionId.eq(connection_id))
        .filter(connection_tokens::Column::Subject.eq(subject))
        .filter(connection_tokens::Column::Scope.eq(scope))
        .filter(
            connection_tokens::Column::RefreshLockUntil
                .is_null()
                .or(connection_tokens::Column::RefreshLockUntil.lt(now)),
        )
        .exec(db)
        .await?;
    if res.rows_affected == 1 {
        return Ok(true);
    }
    if token(db, connection_id, subject, scope).await?.is_some() {
        return Ok(false);
    }
    let row = connection_tokens::ActiveModel {
        connection_id: Set(connection_id),
        subject: Set(subject.to_string()),
        scope: Set(scope.to_string()),
        token: Set(None),
        expires_at: Set(None),
        refresh_lock_until: Set(Some(until)),
        updated_at: Set(now),
        ..Default::default()
    };
    let inserted = Tokens::insert(row)
        .on_conflict(
            OnConflict::columns([
                connection_tokens::Column::ConnectionId,
                connection_tokens::Column::Subject,
                connection_tokens::Column::Scope,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

/// Store a new token and release the lease.
pub async fn store_token(
    db: &impl ConnectionTrait,
    id: i64,
    sealed: String,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    Tokens::update_many()
        .col_expr(connection_tokens::Column::Token, Expr::value(Some(sealed)))
        .col_expr(
            connection_tokens::Column::ExpiresAt,
            Expr::value(Some(expires_at)),
        )
        .col_expr(
            connection_tokens::Column::RefreshLockUntil,
            Expr::value(NO_TIME),
        )
        .col_expr(
            connection_tokens::Column::UpdatedAt,
            Expr::value(super::now()),
        )
        .filter(connection_tokens::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn unlock_token(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    Tokens::update_many()
        .col_expr(
            connection_tokens::Column::RefreshLockUntil,
            Expr::value(NO_TIME),
        )
        .filter(connection_tokens::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Drop a cached token (the provider refused it): the next caller asks for a new one.
pub async fn forget_token(
    db: &impl ConnectionTrait,
    connection_id: i64,
    subject: &str,
    scope: &str,
) -> Result<(), DbErr> {
    Tokens::update_many()
        .col_expr(
            connection_tokens::Column::Token,
            Expr::value(Option::<String>::None),
        )
        .col_expr(connection_tokens::Column::ExpiresAt, Expr::value(NO_TIME))
        .col_expr(
            connection_tokens::Column::UpdatedAt,
            Expr::value(super::now()),
        )
        .filter(connection_tokens::Column::ConnectionId.eq(connection_id))
        .filter(connection_tokens::Column::Subject.eq(subject))
        .filter(connection_tokens::Column::Scope.eq(scope))
        .exec(db)
        .await?;
    Ok(())
}

/// Drop every cached token of a connection (its credentials changed).
pub async fn forget_all_tokens(db: &impl ConnectionTrait, connection_id: i64) -> Result<(), DbErr> {
    Tokens::delete_many()
        .filter(connection_tokens::Column::ConnectionId.eq(connection_id))
        .exec(db)
        .await?;
    Ok(())
}
