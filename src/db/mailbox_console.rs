//! The admin's console of the organization's mailboxes (`/admin/mailboxes`): one page of them
//! with what the table shows — owner, sync job, messages held, failed passes since the last
//! success — in two statements (the count and the page) whatever the page holds, and the
//! users a mailbox can be handed to.
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
};

use super::batch::statement;
use super::entities::users::{self, Model as User};
use crate::domain::mailbox::MailboxStatus;
use crate::domain::provider::Provider;

/// Mailboxes per page of the console.
pub const PAGE_SIZE: u64 = 50;

/// One mailbox as the console lists it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ConsoleRow {
    pub id: i64,
    pub address: String,
    pub provider: Provider,
    pub status: MailboxStatus,
    pub owner_user_id: Option<i64>,
    pub owner_name: Option<String>,
    pub owner_email: Option<String>,
    pub owner_disabled: Option<bool>,
    /// The organization-wide connection an organization mailbox syncs through (its name).
    pub tenant: Option<String>,
    pub sync_interval_secs: i32,
    pub created_at: DateTime<Utc>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The sync job's state (`queued`, `running`), when the mailbox has one.
    pub job_state: Option<String>,
    pub job_run_at: Option<DateTime<Utc>>,
    pub job_lease_until: Option<DateTime<Utc>>,
    /// Messages the mailbox holds now: stored copies not deleted in the provider (a row whose
    /// message the provider deleted stays, marked, until purged).
    pub messages: i64,
    /// Failed passes since the last successful one (within the kept runs).
    pub failures: i64,
    /// When the first of those failed passes started.
    pub failing_since: Option<DateTime<Utc>>,
    /// Its push row (`mailbox_push`), when a pass set push up or refused it.
    pub push_state: Option<String>,
    pub push_reason: Option<String>,
    pub push_expires_at: Option<DateTime<Utc>>,
    pub push_last_notification_at: Option<DateTime<Utc>>,
    pub push_notifications: Option<i64>,
    pub push_rejected: Option<i64>,
    /// Write-back: the mailbox's switch, its grant and whether it syncs through a connection.
    pub write_back: bool,
    pub granted_scopes: String,
    pub connection_id: Option<i64>,
}

/// The failed runs of mailbox `m` that started after its last successful pass ended.
const FAILED_SINCE_SUCCESS: &str = "FROM sync_runs r WHERE r.account_id = m.id \
     AND r.status = 'failed' AND (m.last_success_at IS NULL OR r.started_at >= m.last_success_at)";

/// How many mailboxes the organization has.
pub async fn count(db: &impl ConnectionTrait, org_id: i64) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let sql = "SELECT COUNT(*) AS n FROM mail_accounts WHERE organization_id = ?";
    let row = db
        .query_one(statement(backend, sql, vec![org_id.into()]))
        .await?;
    let n: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Page `page` (from 0) of the organization's mailboxes, by address.
pub async fn page(
    db: &impl ConnectionTrait,
    org_id: i64,
    page: u64,
) -> Result<Vec<ConsoleRow>, DbErr> {
    let backend = db.get_database_backend();
    let sql = format!(
        "SELECT m.id, m.address, m.provider, m.status, m.owner_user_id, \
         u.name AS owner_name, u.email AS owner_email, u.disabled AS owner_disabled, \
         c.name AS tenant, m.sync_interval_secs, m.created_at, m.last_sync_at, m.last_success_at, m.last_error, \
         j.state AS job_state, j.run_at AS job_run_at, j.lease_until AS job_lease_until, \
         (SELECT COUNT(*) FROM emails e WHERE e.account_id = m.id \
         AND e.deleted_in_provider_at IS NULL) AS messages, \
         (SELECT COUNT(*) {FAILED_SINCE_SUCCESS}) AS failures, \
         (SELECT MIN(r.started_at) {FAILED_SINCE_SUCCESS}) AS failing_since, \
         p.state AS push_state, p.reason AS push_reason, p.expires_at AS push_expires_at, \
         p.last_notification_at AS push_last_notification_at, \
         p.notifications AS push_notifications, p.rejected AS push_rejected, \
         m.write_back, m.granted_scopes, m.connection_id \
         FROM mail_accounts m \
         LEFT JOIN users u ON u.id = m.owner_user_id AND u.organization_id = m.organization_id \
         LEFT JOIN connections c ON c.id = m.connection_id AND c.organization_id = m.organization_id \
         LEFT JOIN jobs j ON j.kind = 'sync_account' AND j.subject_id = m.id \
         LEFT JOIN mailbox_push p ON p.account_id = m.id AND p.organization_id = m.organization_id \
         WHERE m.organization_id = ? ORDER BY m.address, m.id LIMIT ? OFFSET ?"
    );
    let limit = i64::try_from(PAGE_SIZE).unwrap_or(50);
    let offset = i64::try_from(page.saturating_mul(PAGE_SIZE)).unwrap_or(i64::MAX);
    let values = vec![org_id.into(), limit.into(), offset.into()];
    ConsoleRow::find_by_statement(statement(backend, &sql, values))
        .all(db)
        .await
}

/// The users a mailbox may be handed to: the organization's active users, by name.
pub async fn transfer_targets(db: &impl ConnectionTrait, org_id: i64) -> Result<Vec<User>, DbErr> {
    users::Entity::find()
        .filter(users::Column::OrganizationId.eq(org_id))
        .filter(users::Column::Disabled.eq(false))
        .order_by_asc(users::Column::Name)
        .order_by_asc(users::Column::Email)
        .all(db)
        .await
}

/// Stored copies of messages in one mailbox (what purging it deletes).
pub async fn stored_messages(db: &impl ConnectionTrait, account_id: i64) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;

    use super::entities::emails;
    emails::Entity::find()
        .filter(emails::Column::AccountId.eq(account_id))
        .count(db)
        .await
}
