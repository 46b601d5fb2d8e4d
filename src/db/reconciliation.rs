//! Reconciliation figures (`folder_counts`): per mailbox and synced folder (label), the
//! provider's own count beside the messages Threadline holds live in it and those the ledger
//! kept out of it, as of the last finished pass; and the counts themselves.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    Value,
};

use super::emails::Owner;
use super::entities::folder_counts;
use crate::domain::reconciliation::{differing_passes, Status};

/// One folder's check: the provider's count and what Threadline holds, counted by
/// [`stored_in`] and [`ledgered_in`].
#[derive(Debug, Clone)]
pub struct Check {
    /// The label its messages carry in `emails.folders`.
    pub folder: String,
    /// What the provider calls it.
    pub name: String,
    pub provider_count: u64,
    pub stored: u64,
    pub ledgered: u64,
    /// When the folder's sync cursor last moved.
    pub synced_at: Option<DateTime<Utc>>,
}

/// One folder as pages and `stats` show it.
#[derive(Debug, Clone)]
pub struct FolderFigures {
    pub name: String,
    pub provider_count: u64,
    pub stored: u64,
    pub ledgered: u64,
    pub checked_at: DateTime<Utc>,
    pub synced_at: Option<DateTime<Utc>>,
    pub status: Status,
}

/// A mailbox's reconciliation: its status, when it was last checked, its folders.
#[derive(Debug, Clone)]
pub struct Reconciliation {
    pub status: Status,
    pub checked_at: Option<DateTime<Utc>>,
    pub folders: Vec<FolderFigures>,
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A `LIKE` pattern matching `folder` as an element of a stored JSON array of labels.
fn pattern(folder: &str) -> String {
    let quoted = serde_json::to_string(folder).unwrap_or_default();
    let escaped = quoted
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

async fn scalar(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<u64, DbErr> {
    let st = super::batch::statement(db.get_database_backend(), sql, values);
    let n = match db.query_one(st).await? {
        Some(row) => row.try_get::<i64>("", "n")?,
        None => 0,
    };
    Ok(unsigned(n))
}

/// Messages of mailbox `account_id` Threadline stores in `folder` that the provider still
/// holds: live ones, and with `binned_count` (Gmail, where a label stays on a message in the
/// bin and the label's total counts it) those in the provider's bin.
pub async fn stored_in(
    db: &impl ConnectionTrait,
    account_id: i64,
    folder: &str,
    binned_count: bool,
) -> Result<u64, DbErr> {
    let mut sql = String::from(
        "SELECT COUNT(*) AS n FROM emails WHERE account_id = ? AND folders LIKE ? ESCAPE '\\' \
         AND (deleted_in_provider_at IS NULL",
    );
    let mut values: Vec<Value> = vec![account_id.into(), pattern(folder).into()];
    if binned_count {
        sql.push_str(" OR folders LIKE ? ESCAPE '\\' OR folders LIKE ? ESCAPE '\\'");
        values.push(pattern("TRASH").into());
        values.push(pattern("SPAM").into());
    }
    sql.push(')');
    scalar(db, &sql, values).await
}

/// Messages of mailbox `account_id` the ledger kept out of `folder` (excluded by a rule,
/// purged by an administrator) that the provider has not deleted and that are not stored.
pub async fn ledgered_in(
    db: &impl ConnectionTrait,
    account_id: i64,
    folder: &str,
) -> Result<u64, DbErr> {
    let sql = "SELECT COUNT(*) AS n FROM sync_ledger l WHERE l.account_id = ? \
               AND l.gone_at IS NULL AND l.reason <> ? AND l.folders LIKE ? ESCAPE '\\' \
               AND NOT EXISTS (SELECT 1 FROM emails e WHERE e.account_id = l.account_id \
               AND e.provider_message_id = l.provider_message_id)";
    let values = vec![account_id.into(), GONE.into(), pattern(folder).into()];
    scalar(db, sql, values).await
}

/// The ledger reason of a message deleted in the provider before it could be fetched.
pub const GONE: &str = "gone";

/// Record a finished pass's checks of mailbox `owner` at `now`; folders no longer synced are
/// forgotten.
pub async fn record(
    db: &impl ConnectionTrait,
    owner: Owner,
    checks: &[Check],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let before = rows(db, owner.account_id).await?;
    for c in checks {
        let previous = before
            .iter()
            .find(|r| r.folder == c.folder)
            .map_or(0, |r| r.differing_passes);
        let row = folder_counts::ActiveModel {
            organization_id: Set(owner.organization_id),
            account_id: Set(owner.account_id),
            folder: Set(c.folder.clone()),
            name: Set(c.name.clone()),
            provider_count: Set(signed(c.provider_count)),
            stored: Set(signed(c.stored)),
            ledgered: Set(signed(c.ledgered)),
            differing_passes: Set(differing_passes(
                previous,
                c.provider_count,
                c.stored + c.ledgered,
            )),
            checked_at: Set(now),
            synced_at: Set(c.synced_at),
            ..Default::default()
        };
        folder_counts::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    folder_counts::Column::AccountId,
                    folder_counts::Column::Folder,
                ])
                .update_columns([
                    folder_counts::Column::Name,
                    folder_counts::Column::ProviderCount,
                    folder_counts::Column::Stored,
                    folder_counts::Column::Ledgered,
                    folder_counts::Column::DifferingPasses,
                    folder_counts::Column::CheckedAt,
                    folder_counts::Column::SyncedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    let checked: Vec<String> = checks.iter().map(|c| c.folder.clone()).collect();
    folder_counts::Entity::delete_many()
        .filter(folder_counts::Column::AccountId.eq(owner.account_id))
        .filter(folder_counts::Column::Folder.is_not_in(checked))
        .exec(db)
        .await?;
    Ok(())
}

/// Forget a mailbox's checks (it cannot be reconciled: it syncs only mail since a date).
pub async fn clear(db: &impl ConnectionTrait, account_id: i64) -> Result<(), DbErr> {
    folder_counts::Entity::delete_many()
        .filter(folder_counts::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}

async fn rows(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<Vec<folder_counts::Model>, DbErr> {
    folder_counts::Entity::find()
        .filter(folder_counts::Column::AccountId.eq(account_id))
        .order_by_asc(folder_counts::Column::Id)
        .all(db)
        .await
}

/// The reconciliation of mailbox `account_id`.
pub async fn of_mailbox(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<Reconciliation, DbErr> {
    Ok(summarize(rows(db, account_id).await?))
}

/// The reconciliations of several mailboxes at once, in `account_ids` order.
pub async fn of_mailboxes(
    db: &impl ConnectionTrait,
    account_ids: &[i64],
) -> Result<Vec<Reconciliation>, DbErr> {
    let mut all = Vec::new();
    for chunk in account_ids.chunks(500) {
        all.extend(
            folder_counts::Entity::find()
                .filter(folder_counts::Column::AccountId.is_in(chunk.iter().copied()))
                .order_by_asc(folder_counts::Column::Id)
                .all(db)
                .await?,
        );
    }
    // Grouped once (rows stay in id order): a scrape over thousands of mailboxes reads each row
    // once, not once per mailbox.
    let mut by_account: std::collections::HashMap<i64, Vec<folder_counts::Model>> =
        std::collections::HashMap::new();
    for row in all {
        by_account.entry(row.account_id).or_default().push(row);
    }
    Ok(account_ids
        .iter()
        .map(|id| summarize(by_account.remove(id).unwrap_or_default()))
        .collect())
}

fn summarize(rows: Vec<folder_counts::Model>) -> Reconciliation {
    let folders: Vec<FolderFigures> = rows
        .into_iter()
        .map(|r| FolderFigures {
            name: r.name,
            provider_count: unsigned(r.provider_count),
            stored: unsigned(r.stored),
            ledgered: unsigned(r.ledgered),
            checked_at: r.checked_at,
            synced_at: r.synced_at,
            status: Status::of_folder(r.differing_passes),
        })
        .collect();
    Reconciliation {
        status: Status::of_mailbox(folders.iter().map(|f| f.status)),
        checked_at: folders.iter().map(|f| f.checked_at).max(),
        folders,
    }
}

/// Mailboxes by reconciliation status, `(matches, differs, unknown)`, over every mailbox that
/// syncs (the `threadline_reconciliation_mailboxes{status}` gauge).
pub async fn mailboxes_by_status(db: &impl ConnectionTrait) -> Result<(u64, u64, u64), DbErr> {
    use super::entities::mail_accounts;
    use crate::domain::mailbox::MailboxStatus;
    let ids: Vec<i64> = mail_accounts::Entity::find()
        .select_only()
        .column(mail_accounts::Column::Id)
        .filter(mail_accounts::Column::Status.eq(MailboxStatus::Active))
        .into_tuple()
        .all(db)
        .await?;
    let mut out = (0, 0, 0);
    for r in of_mailboxes(db, &ids).await? {
        match r.status {
            Status::Matches => out.0 += 1,
            Status::Differs => out.1 += 1,
            Status::Unknown => out.2 += 1,
        }
    }
    Ok(out)
}
