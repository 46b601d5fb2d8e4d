//! Per-mailbox figures for `threadline stats`: stored messages and threads, last sync, status,
//! last error (the `--json` shape is fixed by CONTRACTS.md).
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryOrder};
use serde::Serialize;

use crate::db::emails;
use crate::db::entities::mail_accounts;
use crate::domain::mailbox::MailboxStatus;
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
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub accounts: Vec<AccountStats>,
}

/// Every linked mailbox of every organization, in a stable order.
pub async fn collect(db: &impl ConnectionTrait) -> Result<Stats, DbErr> {
    let accounts = mail_accounts::Entity::find()
        .order_by_asc(mail_accounts::Column::OrganizationId)
        .order_by_asc(mail_accounts::Column::Provider)
        .order_by_asc(mail_accounts::Column::Address)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(accounts.len());
    for a in accounts {
        let (messages, threads) = emails::counts(db, a.id).await?;
        out.push(AccountStats {
            address: a.address,
            provider: a.provider,
            status: a.status,
            messages,
            threads,
            last_sync_at: a.last_sync_at,
            last_success_at: a.last_success_at,
            last_error: a.last_error,
        });
    }
    Ok(Stats { accounts: out })
}
