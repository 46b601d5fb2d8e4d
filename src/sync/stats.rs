//! Per-mailbox figures for `threadline stats`: stored messages and threads, last sync, status,
//! last error, the organization-wide connection (tenant) an organization mailbox syncs through,
//! reconciliation per folder, and totals per tenant (the `--json` shape is fixed by
//! CONTRACTS.md; fields are added).
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryOrder};
use serde::Serialize;

use crate::db::emails;
use crate::db::entities::mail_accounts;
use crate::db::reconciliation::{self, Reconciliation};
use crate::domain::mailbox::MailboxStatus;
use crate::domain::reconciliation::Status;
use crate::providers::Provider;

#[derive(Debug, Clone, Serialize)]
pub struct AccountStats {
    pub address: String,
    pub provider: Provider,
    pub status: MailboxStatus,
    pub messages: u64,
    pub threads: u64,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The connection's name for an organization mailbox; None for one linked by its owner.
    pub tenant: Option<String>,
    /// The mailbox's push (Graph subscription or Gmail watch).
    pub push: PushStats,
    /// The provider's counts against what Threadline holds, per synced folder (label).
    pub reconciliation: ReconciliationStats,
}

/// Reconciliation as `stats --json` shows it: `status` is `matches`, `differs` or `unknown`.
#[derive(Debug, Clone, Serialize)]
pub struct ReconciliationStats {
    pub status: Status,
    pub checked_at: Option<DateTime<Utc>>,
    pub folders: Vec<FolderStats>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FolderStats {
    pub name: String,
    pub provider_count: u64,
    pub stored: u64,
    pub ledgered: u64,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub status: Status,
}

impl ReconciliationStats {
    /// How plain `threadline stats` shows it: a line for the mailbox, one per folder (none
    /// before the first check).
    pub fn lines(&self, address: &str) -> Vec<String> {
        if self.folders.is_empty() {
            return Vec::new();
        }
        let at = self.checked_at.map(|t| t.to_rfc3339()).unwrap_or_default();
        let mut out = vec![format!(
            "{address} reconciliation: {} (checked {at})",
            self.status.as_str()
        )];
        for f in &self.folders {
            let synced = f
                .last_synced_at
                .map_or_else(|| "never".to_string(), |t| t.to_rfc3339());
            out.push(format!(
                "  {}: provider {}, stored {}, ledgered {}, {}, last synced {synced}",
                f.name,
                f.provider_count,
                f.stored,
                f.ledgered,
                f.status.as_str()
            ));
        }
        out
    }
}

impl From<Reconciliation> for ReconciliationStats {
    fn from(r: Reconciliation) -> Self {
        Self {
            status: r.status,
            checked_at: r.checked_at,
            folders: r
                .folders
                .into_iter()
                .map(|f| FolderStats {
                    name: f.name,
                    provider_count: f.provider_count,
                    stored: f.stored,
                    ledgered: f.ledgered,
                    last_synced_at: f.synced_at,
                    status: f.status,
                })
                .collect(),
        }
    }
}

/// Push as `stats --json` shows it: `state` is `off`, `pending`, `active` or `failing`, or
/// `none` while no pass has set push up (or refused it) yet.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PushStats {
    pub state: String,
    pub reason: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_notification_at: Option<DateTime<Utc>>,
    pub notifications: i64,
}

impl From<Option<crate::db::entities::mailbox_push::Model>> for PushStats {
    fn from(row: Option<crate::db::entities::mailbox_push::Model>) -> Self {
        match row {
            Some(r) => Self {
                state: r.state,
                reason: r.reason,
                expires_at: r.expires_at,
                last_notification_at: r.last_notification_at,
                notifications: r.notifications,
            },
            None => Self {
                state: "none".into(),
                reason: None,
                expires_at: None,
                last_notification_at: None,
                notifications: 0,
            },
        }
    }
}

/// Totals over the mailboxes of one organization-wide connection.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct TenantStats {
    pub tenant: String,
    pub mailboxes: u64,
    pub messages: u64,
    pub threads: u64,
    /// Mailboxes by status: active ones syncing, refused by the tenant's policy, paused.
    pub active: u64,
    pub refused: u64,
    pub paused: u64,
    /// Mailboxes whose last pass failed.
    pub failing: u64,
    pub last_sync_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub accounts: Vec<AccountStats>,
    pub tenants: Vec<TenantStats>,
}

/// Every linked mailbox of every organization, in a stable order.
pub async fn collect(db: &impl ConnectionTrait) -> Result<Stats, DbErr> {
    let accounts = mail_accounts::Entity::find()
        .order_by_asc(mail_accounts::Column::OrganizationId)
        .order_by_asc(mail_accounts::Column::Provider)
        .order_by_asc(mail_accounts::Column::Address)
        .all(db)
        .await?;
    let names = crate::db::org_access::connection_names(db).await?;
    let mut out = Vec::with_capacity(accounts.len());
    let mut tenants: BTreeMap<(i64, i64), TenantStats> = BTreeMap::new();
    for a in accounts {
        let (messages, threads) = emails::counts(db, a.id).await?;
        let tenant = a.connection_id.map(|id| {
            names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("connection {id}"))
        });
        if let (Some(id), Some(name)) = (a.connection_id, &tenant) {
            let t = tenants
                .entry((a.organization_id, id))
                .or_insert_with(|| TenantStats {
                    tenant: name.clone(),
                    ..TenantStats::default()
                });
            t.mailboxes += 1;
            t.messages += messages;
            t.threads += threads;
            match a.status {
                MailboxStatus::Active => t.active += 1,
                MailboxStatus::Refused => t.refused += 1,
                _ => t.paused += 1,
            }
            t.failing += u64::from(a.last_error.is_some());
            t.last_sync_at = t.last_sync_at.max(a.last_sync_at);
        }
        let push = crate::db::push::find(db, a.id).await?.into();
        let reconciliation = reconciliation::of_mailbox(db, a.id).await?.into();
        out.push(AccountStats {
            push,
            reconciliation,
            address: a.address,
            provider: a.provider,
            status: a.status,
            messages,
            threads,
            last_sync_at: a.last_sync_at,
            last_success_at: a.last_success_at,
            last_error: a.last_error,
            tenant,
        });
    }
    Ok(Stats {
        accounts: out,
        tenants: tenants.into_values().collect(),
    })
}
