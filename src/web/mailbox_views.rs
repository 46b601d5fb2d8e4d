//! View models of the mailboxes pages.
use chrono::{DateTime, Utc};

use crate::db::entities::mail_accounts::Model as MailAccount;
use crate::db::entities::{sync_ledger, sync_runs};
use crate::db::sync_status::SyncStatus;
use crate::domain::mailbox::MailboxStatus;
use crate::domain::sync_run::RunStatus;
use crate::providers::Provider;

#[derive(Debug, Clone)]
pub struct MailboxRow {
    pub id: i64,
    pub provider: &'static str,
    pub address: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub last_success: String,
    pub last_error: Option<String>,
    pub can_reconnect: bool,
    pub connected: bool,
    pub sync: SyncCell,
    /// Push and the poll interval in effect (connected, syncing mailboxes only).
    pub push: Option<super::push_views::PushView>,
}

/// The "Sync" column: what the engine is doing for this mailbox, in words.
#[derive(Debug, Clone, Default)]
pub struct SyncCell {
    pub label: String,
    /// 0–100 while a first listing with a known size runs.
    pub percent: Option<u8>,
    pub detail: String,
    /// Worth refreshing: a pass runs or a first listing is unfinished.
    pub active: bool,
}

/// `12345` -> `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn until(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (at - now).num_seconds();
    match secs {
        s if s <= 0 => "due now".into(),
        s if s < 90 => format!("in {s} s"),
        s => format!("in {} min", (s + 30) / 60),
    }
}

impl SyncCell {
    pub fn new(status: &SyncStatus, connected: bool, now: DateTime<Utc>) -> Self {
        let stored = match status.messages {
            1 => "1 message".to_string(),
            n => format!("{} messages", thousands(n)),
        };
        let skipped = if status.skipped > 0 {
            format!(", {} not stored (see details)", thousands(status.skipped))
        } else {
            String::new()
        };
        if !connected {
            return Self {
                label: "Not syncing".into(),
                detail: format!("{stored}{skipped}"),
                ..Self::default()
            };
        }
        let total = status.progress_total.max(status.progress_done);
        let percent = (status.listing && total > 0)
            .then(|| u8::try_from(status.progress_done * 100 / total).unwrap_or(100));
        let label = match (status.running, status.listing) {
            (true, true) if total > 0 => format!(
                "First sync: {} of about {}",
                thousands(status.progress_done),
                thousands(total)
            ),
            (true, true) => "First sync: starting".into(),
            (true, false) => "Syncing now".into(),
            (false, true) => "First sync: waiting for a sync worker".into(),
            (false, false) => "Up to date".into(),
        };
        let next = match (status.running, status.next_run_at) {
            (false, Some(at)) => format!("; next sync {}", until(at, now)),
            _ => String::new(),
        };
        Self {
            label,
            percent,
            detail: format!("{stored}{skipped}{next}"),
            active: status.running || status.listing,
        }
    }
}

impl MailboxRow {
    pub fn new(account: MailAccount, status: &SyncStatus, now: DateTime<Utc>) -> Self {
        let paused = matches!(
            account.status,
            MailboxStatus::NeedsReconnect | MailboxStatus::Paused
        );
        let mut row = Self::from(account);
        row.sync = SyncCell::new(status, row.connected && !row.can_reconnect, now);
        if paused {
            row.sync.label = "Paused until reconnected".into();
        }
        row
    }
}

/// One line of a mailbox's run history.
#[derive(Debug, Clone)]
pub struct RunRow {
    pub started: String,
    pub kind: String,
    pub status: String,
    pub status_class: &'static str,
    pub summary: String,
    pub duration: String,
    pub error: Option<String>,
}

impl From<sync_runs::Model> for RunRow {
    fn from(r: sync_runs::Model) -> Self {
        let status_class = match r.status {
            RunStatus::Succeeded => "badge-ok",
            RunStatus::Failed => "badge-error",
            RunStatus::Running | RunStatus::Interrupted => "badge-warn",
        };
        let n = |v: i64| thousands(u64::try_from(v).unwrap_or(0));
        Self {
            started: r.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            summary: format!(
                "{} listed, {} fetched, {} new, {} updated, {} skipped, {} deleted, {} throttled, {} requests",
                n(r.listed),
                n(r.fetched),
                n(r.stored),
                n(r.updated),
                n(r.skipped),
                n(r.deleted),
                n(r.throttled),
                n(r.requests)
            ),
            duration: if r.status == RunStatus::Interrupted {
                "interrupted".into()
            } else if r.finished_at.is_some() {
                format!("{}.{} s", r.duration_ms / 1000, (r.duration_ms % 1000) / 100)
            } else {
                "running".into()
            },
            kind: r.kind.to_string(),
            status: r.status.to_string(),
            status_class,
            error: r.error,
        }
    }
}

/// A message the engine deliberately did not store, and why.
#[derive(Debug, Clone)]
pub struct SkipRow {
    pub provider_id: String,
    pub reason: String,
    pub detail: String,
    pub at: String,
}

impl From<sync_ledger::Model> for SkipRow {
    fn from(s: sync_ledger::Model) -> Self {
        let reason = match s.reason.as_str() {
            "gone" => "Deleted in the provider before it could be fetched".to_string(),
            "provider_error" => "The provider refused to return it".to_string(),
            "too_large" => "Larger than the size limit".to_string(),
            other => other.replace('_', " "),
        };
        Self {
            provider_id: s.provider_message_id,
            reason,
            detail: s.detail,
            at: s.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }
}

impl From<MailAccount> for MailboxRow {
    fn from(a: MailAccount) -> Self {
        let (status, status_class) = match a.status {
            MailboxStatus::Active => ("Connected", "badge-ok"),
            MailboxStatus::NeedsReconnect => ("Paused: needs reconnecting", "badge-error"),
            MailboxStatus::Paused => ("Paused by the organization", "badge-warn"),
            MailboxStatus::Disconnected => ("Disconnected", "badge-warn"),
            MailboxStatus::Refused => ("Refused by the tenant's policy", "badge-error"),
        };
        Self {
            id: a.id,
            provider: a.provider.label(),
            last_success: a.last_success_at.map_or_else(
                || "not yet".into(),
                |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
            ),
            last_error: a.last_error,
            can_reconnect: a.status != MailboxStatus::Active,
            connected: a.status != MailboxStatus::Disconnected,
            sync: SyncCell::default(),
            push: None,
            status,
            status_class,
            address: a.address,
        }
    }
}

/// A "Connect ..." button, or why it is unavailable.
#[derive(Debug, Clone)]
pub struct ProviderChoice {
    pub key: &'static str,
    pub label: &'static str,
    pub available: bool,
    pub settings: &'static str,
}

impl ProviderChoice {
    pub fn new(provider: Provider, available: bool) -> Self {
        Self {
            key: provider.as_str(),
            label: provider.label(),
            available,
            settings: match provider {
                Provider::Google => "GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET",
                Provider::Microsoft => "MICROSOFT_CLIENT_ID and MICROSOFT_CLIENT_SECRET",
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
