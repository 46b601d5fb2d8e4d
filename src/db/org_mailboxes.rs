//! The mailboxes an organization-wide connection syncs, as directory sync reads and changes
//! them: the connection's current mailboxes, the addresses other mailboxes of the organization
//! hold, and the plan's changes (add, pause and flag, resume, rename) in one transaction.
use std::collections::BTreeMap;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::entities::mail_accounts::{self, Entity as MailAccounts};
use super::mail_accounts::{insert_org, NewOrgAccount};
use crate::domain::mailbox::MailboxStatus;
use crate::domain::provider::Provider;
use crate::domain::selection::{Addition, Current, Pause, Rename, Resume, Taken};

/// The connection's mailboxes as the selection compares them.
pub async fn current(
    db: &impl ConnectionTrait,
    org_id: i64,
    connection_id: i64,
) -> Result<Vec<Current>, DbErr> {
    let rows = MailAccounts::find()
        .filter(mail_accounts::Column::OrganizationId.eq(org_id))
        .filter(mail_accounts::Column::ConnectionId.eq(connection_id))
        .order_by_asc(mail_accounts::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|m| {
            Some(Current {
                account_id: m.id,
                directory_id: m.directory_id?,
                address: m.address,
                display_name: m.display_name,
                paused: m.status == MailboxStatus::Paused,
                directory_state: m.directory_state,
            })
        })
        .collect())
}

/// Addresses of the organization's other mailboxes of `provider` (personal ones, and other
/// connections'), lowercase.
pub async fn taken(
    db: &impl ConnectionTrait,
    org_id: i64,
    provider: Provider,
    connection_id: i64,
) -> Result<BTreeMap<String, Taken>, DbErr> {
    let rows = MailAccounts::find()
        .filter(mail_accounts::Column::OrganizationId.eq(org_id))
        .filter(mail_accounts::Column::Provider.eq(provider))
        .filter(
            mail_accounts::Column::ConnectionId
                .is_null()
                .or(mail_accounts::Column::ConnectionId.ne(connection_id)),
        )
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|m| {
            let who = if m.connection_id.is_some() {
                Taken::OtherConnection
            } else {
                Taken::Personal
            };
            (m.address.to_lowercase(), who)
        })
        .collect())
}

/// Where the new mailboxes go.
pub struct Target<'a> {
    pub organization_id: i64,
    pub connection_id: i64,
    pub provider: Provider,
    pub auth_kind: &'a str,
}

pub async fn add(
    db: &impl ConnectionTrait,
    target: &Target<'_>,
    a: &Addition,
) -> Result<i64, DbErr> {
    let row = insert_org(
        db,
        NewOrgAccount {
            organization_id: target.organization_id,
            connection_id: target.connection_id,
            provider: target.provider,
            auth_kind: target.auth_kind,
            address: &a.address,
            display_name: &a.display_name,
            directory_id: &a.directory_id,
            directory_state: "active",
        },
    )
    .await?;
    // Due for its first pass at once.
    let now = super::now();
    super::jobs::ensure(
        db,
        target.organization_id,
        super::jobs::SYNC_ACCOUNT,
        row.id,
        now,
    )
    .await?;
    Ok(row.id)
}

/// Scoped update of one mailbox of the connection.
async fn update(
    db: &impl ConnectionTrait,
    target: &Target<'_>,
    account_id: i64,
    sets: Vec<(mail_accounts::Column, sea_orm::Value)>,
) -> Result<(), DbErr> {
    let mut q = MailAccounts::update_many()
        .filter(mail_accounts::Column::Id.eq(account_id))
        .filter(mail_accounts::Column::OrganizationId.eq(target.organization_id))
        .filter(mail_accounts::Column::ConnectionId.eq(target.connection_id));
    for (col, value) in sets {
        q = q.col_expr(col, Expr::value(value));
    }
    q.col_expr(mail_accounts::Column::UpdatedAt, Expr::value(super::now()))
        .exec(db)
        .await?;
    Ok(())
}

/// Pause and flag: no pass runs; the stored mail stays.
pub async fn pause(db: &impl ConnectionTrait, target: &Target<'_>, p: &Pause) -> Result<(), DbErr> {
    let sets = vec![
        (mail_accounts::Column::Status, MailboxStatus::Paused.into()),
        (
            mail_accounts::Column::LastError,
            Some(format!("Paused by directory sync: {}", p.reason.describe())).into(),
        ),
        (
            mail_accounts::Column::DirectoryState,
            Some(p.reason.as_str().to_string()).into(),
        ),
    ];
    update(db, target, p.account_id, sets).await
}

/// Active again, due for a pass at once.
pub async fn resume(
    db: &impl ConnectionTrait,
    target: &Target<'_>,
    r: &Resume,
) -> Result<(), DbErr> {
    let sets = vec![
        (mail_accounts::Column::Status, MailboxStatus::Active.into()),
        (
            mail_accounts::Column::LastError,
            Option::<String>::None.into(),
        ),
        (
            mail_accounts::Column::DirectoryState,
            Some("active".to_string()).into(),
        ),
        (mail_accounts::Column::NextSyncAt, Some(super::now()).into()),
    ];
    update(db, target, r.account_id, sets).await?;
    super::jobs::run_now(db, super::jobs::SYNC_ACCOUNT, r.account_id).await?;
    Ok(())
}

/// The same row follows the user's new address and name.
pub async fn rename(
    db: &impl ConnectionTrait,
    target: &Target<'_>,
    r: &Rename,
) -> Result<(), DbErr> {
    let sets = vec![
        (mail_accounts::Column::Address, r.new_address.clone().into()),
        (
            mail_accounts::Column::DisplayName,
            r.display_name.clone().into(),
        ),
    ];
    update(db, target, r.account_id, sets).await
}
