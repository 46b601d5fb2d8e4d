//! Organization mailboxes as the sync engine and the operator see them: the refused status a
//! tenant's policy gives a mailbox (set and lifted without racing a pause), the mailboxes of one
//! connection, and the connection names the statistics group by.
use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::entities::connections::{self, Entity as Connections, Model as Connection};
use super::entities::mail_accounts::{self, Entity as MailAccounts, Model as MailAccount};
use crate::domain::mailbox::MailboxStatus;

/// Mark an organization mailbox refused by its tenant's policy, with the reason; only a mailbox
/// that is active (or already refused) changes: one paused or disconnected meanwhile stays so.
/// Whether it changed.
pub async fn mark_refused(db: &impl ConnectionTrait, id: i64, reason: &str) -> Result<bool, DbErr> {
    let res = MailAccounts::update_many()
        .col_expr(
            mail_accounts::Column::Status,
            Expr::value(MailboxStatus::Refused),
        )
        .col_expr(
            mail_accounts::Column::LastError,
            Expr::value(Some(reason.to_string())),
        )
        .col_expr(mail_accounts::Column::UpdatedAt, Expr::value(super::now()))
        .filter(mail_accounts::Column::Id.eq(id))
        .filter(mail_accounts::Column::ConnectionId.is_not_null())
        .filter(
            mail_accounts::Column::Status.is_in([MailboxStatus::Active, MailboxStatus::Refused]),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// A refused mailbox a pass got through again: active (its last error is the pass's, set by
/// the engine). Whether it changed.
pub async fn lift_refused(db: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    let res = MailAccounts::update_many()
        .col_expr(
            mail_accounts::Column::Status,
            Expr::value(MailboxStatus::Active),
        )
        .col_expr(mail_accounts::Column::UpdatedAt, Expr::value(super::now()))
        .filter(mail_accounts::Column::Id.eq(id))
        .filter(mail_accounts::Column::Status.eq(MailboxStatus::Refused))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// The organization mailboxes of one connection, by address.
pub async fn of_connection(
    db: &impl ConnectionTrait,
    org_id: i64,
    connection_id: i64,
) -> Result<Vec<MailAccount>, DbErr> {
    MailAccounts::find()
        .filter(mail_accounts::Column::OrganizationId.eq(org_id))
        .filter(mail_accounts::Column::ConnectionId.eq(connection_id))
        .order_by_asc(mail_accounts::Column::Address)
        .all(db)
        .await
}

/// A connection of the organization by name (case-insensitive, as admins type it).
pub async fn connection_named(
    db: &impl ConnectionTrait,
    org_id: i64,
    name: &str,
) -> Result<Option<Connection>, DbErr> {
    let wanted = name.trim().to_lowercase();
    let all = Connections::find()
        .filter(connections::Column::OrganizationId.eq(org_id))
        .all(db)
        .await?;
    Ok(all.into_iter().find(|c| c.name.to_lowercase() == wanted))
}

/// Every connection by name, across organizations, for `threadline sync --tenant` on an
/// installation that may host several organizations.
pub async fn connections_named(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Vec<Connection>, DbErr> {
    let wanted = name.trim().to_lowercase();
    let all = Connections::find()
        .order_by_asc(connections::Column::Id)
        .all(db)
        .await?;
    Ok(all
        .into_iter()
        .filter(|c| c.name.to_lowercase() == wanted || c.tenant.to_lowercase() == wanted)
        .collect())
}

/// A connection by id.
pub async fn connection(db: &impl ConnectionTrait, id: i64) -> Result<Option<Connection>, DbErr> {
    Connections::find_by_id(id).one(db).await
}

/// Connection names by id (every organization): what `threadline stats` labels tenants with.
pub async fn connection_names(db: &impl ConnectionTrait) -> Result<HashMap<i64, String>, DbErr> {
    Ok(Connections::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect())
}
