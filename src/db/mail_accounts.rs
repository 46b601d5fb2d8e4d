//! Connected mailboxes: lookups scoped to an organization, connecting, credentials, status, and the
//! refresh lease.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Value,
};

use crate::domain::mailbox::MailboxStatus;
use crate::domain::provider::Provider;
use crate::domain::stored::SyncSettings;

use super::entities::mail_accounts::{self, Entity as MailAccounts, Model as MailAccount};

pub async fn find_in_org(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
) -> Result<Option<MailAccount>, DbErr> {
    MailAccounts::find_by_id(id)
        .filter(mail_accounts::Column::OrganizationId.eq(org_id))
        .one(db)
        .await
}

pub async fn find_by_address(
    db: &impl ConnectionTrait,
    org_id: i64,
    provider: Provider,
    address: &str,
) -> Result<Option<MailAccount>, DbErr> {
    MailAccounts::find()
        .filter(mail_accounts::Column::OrganizationId.eq(org_id))
        .filter(mail_accounts::Column::Provider.eq(provider))
        .filter(mail_accounts::Column::Address.eq(address))
        .one(db)
        .await
}

/// The `provider` mailboxes at `address` in every organization: a provider's push notification
/// names its mailbox by address only (Gmail through Pub/Sub).
pub async fn with_address(
    db: &impl ConnectionTrait,
    provider: Provider,
    address: &str,
) -> Result<Vec<MailAccount>, DbErr> {
    MailAccounts::find()
        .filter(mail_accounts::Column::Provider.eq(provider))
        .filter(mail_accounts::Column::Address.eq(address))
        .all(db)
        .await
}

/// Every mailbox of every organization, in a stable order (operator commands).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<MailAccount>, DbErr> {
    MailAccounts::find()
        .order_by_asc(mail_accounts::Column::OrganizationId)
        .order_by_asc(mail_accounts::Column::Provider)
        .order_by_asc(mail_accounts::Column::Address)
        .all(db)
        .await
}

/// Every mailbox of the organization (its admins' console), by address.
pub async fn list_in_org(
    db: &impl ConnectionTrait,
    org_id: i64,
) -> Result<Vec<MailAccount>, DbErr> {
    MailAccounts::find()
        .filter(mail_accounts::Column::OrganizationId.eq(org_id))
        .order_by_asc(mail_accounts::Column::Address)
        .order_by_asc(mail_accounts::Column::Id)
        .all(db)
        .await
}

/// The mailboxes a user linked, in a stable order.
pub async fn list_for_owner(
    db: &impl ConnectionTrait,
    org_id: i64,
    user_id: i64,
) -> Result<Vec<MailAccount>, DbErr> {
    MailAccounts::find()
        .filter(mail_accounts::Column::OrganizationId.eq(org_id))
        .filter(mail_accounts::Column::OwnerUserId.eq(user_id))
        .order_by_asc(mail_accounts::Column::Provider)
        .order_by_asc(mail_accounts::Column::Address)
        .all(db)
        .await
}

pub struct NewAccount<'a> {
    pub organization_id: i64,
    pub owner_user_id: i64,
    pub provider: Provider,
    pub address: &'a str,
    pub display_name: &'a str,
}

/// A mailbox an organization-wide connection syncs: it has no owner and follows a directory
/// user by the user's immutable id.
pub struct NewOrgAccount<'a> {
    pub organization_id: i64,
    pub connection_id: i64,
    pub provider: Provider,
    /// `app_only` (Microsoft 365) or `delegation` (Google Workspace).
    pub auth_kind: &'a str,
    pub address: &'a str,
    pub display_name: &'a str,
    pub directory_id: &'a str,
    /// The directory's word on the user: `active`, `disabled`, `suspended`, ...
    pub directory_state: &'a str,
}

pub async fn insert(db: &impl ConnectionTrait, new: NewAccount<'_>) -> Result<MailAccount, DbErr> {
    let row = fresh_row(
        new.organization_id,
        new.provider,
        new.address,
        new.display_name,
    );
    let row = mail_accounts::ActiveModel {
        owner_user_id: Set(Some(new.owner_user_id)),
        auth_kind: Set("delegated".into()),
        ..row
    };
    insert_row(db, row).await
}

pub async fn insert_org(
    db: &impl ConnectionTrait,
    new: NewOrgAccount<'_>,
) -> Result<MailAccount, DbErr> {
    let row = fresh_row(
        new.organization_id,
        new.provider,
        new.address,
        new.display_name,
    );
    let row = mail_accounts::ActiveModel {
        owner_user_id: Set(None),
        auth_kind: Set(new.auth_kind.to_string()),
        connection_id: Set(Some(new.connection_id)),
        directory_id: Set(Some(new.directory_id.to_string())),
        directory_state: Set(Some(new.directory_state.to_string())),
        ..row
    };
    let inserted = insert_row(db, row).await?;
    // Its sync job, due at once: the workers pick it up like a freshly linked mailbox.
    super::jobs::ensure(
        db,
        inserted.organization_id,
        super::jobs::SYNC_ACCOUNT,
        inserted.id,
        super::now(),
    )
    .await?;
    Ok(inserted)
}

fn fresh_row(
    organization_id: i64,
    provider: Provider,
    address: &str,
    display_name: &str,
) -> mail_accounts::ActiveModel {
    let now = super::now();
    mail_accounts::ActiveModel {
        organization_id: Set(organization_id),
        provider: Set(provider),
        address: Set(address.to_string()),
        display_name: Set(display_name.to_string()),
        status: Set(MailboxStatus::Active),
        credentials: Set(None),
        granted_scopes: Set(String::new()),
        token_expires_at: Set(None),
        sync_settings: Set(SyncSettings::default()),
        sync_interval_secs: Set(300),
        next_sync_at: Set(Some(now)),
        last_sync_at: Set(None),
        last_success_at: Set(None),
        last_error: Set(None),
        progress_total: Set(0),
        progress_done: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        refresh_lock_until: Set(None),
        connection_id: Set(None),
        directory_id: Set(None),
        directory_state: Set(None),
        ..Default::default()
    }
}

async fn insert_row(
    db: &impl ConnectionTrait,
    row: mail_accounts::ActiveModel,
) -> Result<MailAccount, DbErr> {
    let inserted = row.insert(db).await?;
    // A new mailbox starts at the organization's default visibility level.
    super::visibility::apply_default(db, inserted.organization_id, inserted.id).await?;
    Ok(inserted)
}

/// `UPDATE mail_accounts SET <sets> WHERE id = <id>`.
async fn update_by_id(
    db: &impl ConnectionTrait,
    id: i64,
    sets: impl IntoIterator<Item = (mail_accounts::Column, Value)>,
) -> Result<(), DbErr> {
    let mut update = MailAccounts::update_many().filter(mail_accounts::Column::Id.eq(id));
    for (column, value) in sets {
        update = update.col_expr(column, Expr::value(value));
    }
    update.exec(db).await?;
    Ok(())
}

/// The columns a status change sets: status, last error, a released refresh lease, updated_at.
fn status_sets(
    status: MailboxStatus,
    last_error: Option<String>,
) -> [(mail_accounts::Column, Value); 4] {
    [
        (mail_accounts::Column::Status, status.into()),
        (mail_accounts::Column::LastError, last_error.into()),
        (mail_accounts::Column::RefreshLockUntil, NO_TIME.into()),
        (mail_accounts::Column::UpdatedAt, super::now().into()),
    ]
}

const NO_TIME: Option<DateTime<Utc>> = None;

/// Store freshly sealed credentials and mark the mailbox active (connect, reconnect, refresh).
pub async fn set_credentials(
    db: &impl ConnectionTrait,
    id: i64,
    sealed: String,
    expires_at: DateTime<Utc>,
    scopes: &str,
) -> Result<(), DbErr> {
    let credentials = [
        (mail_accounts::Column::Credentials, sealed.into()),
        (mail_accounts::Column::TokenExpiresAt, expires_at.into()),
        (mail_accounts::Column::GrantedScopes, scopes.into()),
    ];
    let active = status_sets(MailboxStatus::Active, None);
    update_by_id(db, id, credentials.into_iter().chain(active)).await
}

/// Store refreshed credentials and release the refresh lease, leaving the status as it is.
pub async fn refresh_credentials(
    db: &impl ConnectionTrait,
    id: i64,
    sealed: String,
    expires_at: DateTime<Utc>,
    scopes: &str,
) -> Result<(), DbErr> {
    let mut sets = vec![
        (mail_accounts::Column::Credentials, sealed.into()),
        (mail_accounts::Column::TokenExpiresAt, expires_at.into()),
        (mail_accounts::Column::RefreshLockUntil, NO_TIME.into()),
        (mail_accounts::Column::UpdatedAt, super::now().into()),
    ];
    // Empty: the provider did not say, so the stored grant stands.
    if !scopes.is_empty() {
        sets.push((mail_accounts::Column::GrantedScopes, scopes.into()));
    }
    update_by_id(db, id, sets).await
}

/// Re-seal credentials without touching status (key rotation).
pub async fn replace_sealed(
    db: &impl ConnectionTrait,
    id: i64,
    sealed: String,
) -> Result<(), DbErr> {
    update_by_id(
        db,
        id,
        [(mail_accounts::Column::Credentials, sealed.into())],
    )
    .await
}

pub async fn set_status(
    db: &impl ConnectionTrait,
    id: i64,
    status: MailboxStatus,
    last_error: Option<String>,
) -> Result<(), DbErr> {
    update_by_id(db, id, status_sets(status, last_error)).await
}

/// Hand the mailbox to another user (the admin's transfer): only the owner changes.
pub async fn set_owner(db: &impl ConnectionTrait, id: i64, owner: i64) -> Result<(), DbErr> {
    let sets = [
        (mail_accounts::Column::OwnerUserId, Some(owner).into()),
        (mail_accounts::Column::UpdatedAt, super::now().into()),
    ];
    update_by_id(db, id, sets).await
}

/// Forget the tokens (disconnect without purge): the mailbox and its mail stay.
pub async fn clear_credentials(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    let sets = [
        (
            mail_accounts::Column::Credentials,
            Option::<String>::None.into(),
        ),
        (mail_accounts::Column::TokenExpiresAt, NO_TIME.into()),
        (
            mail_accounts::Column::Status,
            MailboxStatus::Disconnected.into(),
        ),
        (mail_accounts::Column::UpdatedAt, super::now().into()),
    ];
    update_by_id(db, id, sets).await
}

/// Take the refresh lease unless another holder's lease is still running.
pub async fn try_lock_refresh(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = MailAccounts::update_many()
        .col_expr(mail_accounts::Column::RefreshLockUntil, Expr::value(until))
        .filter(mail_accounts::Column::Id.eq(id))
        .filter(
            mail_accounts::Column::RefreshLockUntil
                .is_null()
                .or(mail_accounts::Column::RefreshLockUntil.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn unlock_refresh(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    update_by_id(
        db,
        id,
        [(mail_accounts::Column::RefreshLockUntil, NO_TIME.into())],
    )
    .await
}

/// Every stored envelope: `(id, organization_id, sealed)`, for key checks and rotation.
pub async fn sealed_credentials(
    db: &impl ConnectionTrait,
) -> Result<Vec<(i64, i64, String)>, DbErr> {
    let rows: Vec<(i64, i64, Option<String>)> = MailAccounts::find()
        .select_only()
        .column(mail_accounts::Column::Id)
        .column(mail_accounts::Column::OrganizationId)
        .column(mail_accounts::Column::Credentials)
        .filter(mail_accounts::Column::Credentials.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, org, c)| c.map(|c| (id, org, c)))
        .collect())
}

/// Delete the mailbox and, by cascade, its emails, bodies, participants, links and cursors.
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    MailAccounts::delete_by_id(id).exec(db).await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<MailAccount>, DbErr> {
    MailAccounts::find_by_id(id).one(db).await
}

/// Pause every active (or waiting to be reconnected) mailbox `owner` owns in `org_id`: no
/// pass is claimed for them until each is reconnected. The mailboxes paused.
pub async fn pause_owned(
    db: &impl ConnectionTrait,
    org_id: i64,
    owner: i64,
    why: &str,
) -> Result<Vec<MailAccount>, DbErr> {
    let mailboxes = MailAccounts::find()
        .filter(mail_accounts::Column::OrganizationId.eq(org_id))
        .filter(mail_accounts::Column::OwnerUserId.eq(owner))
        .filter(
            mail_accounts::Column::Status
                .is_in([MailboxStatus::Active, MailboxStatus::NeedsReconnect]),
        )
        .order_by_asc(mail_accounts::Column::Id)
        .all(db)
        .await?;
    for account in &mailboxes {
        set_status(db, account.id, MailboxStatus::Paused, Some(why.to_string())).await?;
    }
    Ok(mailboxes)
}
