//! Reconciliation as people see it on the mailbox page and the admin console (issue 23): does
//! what Threadline holds add up to the provider's own count, folder by folder, and when was
//! each folder last synced.
use chrono::{DateTime, Utc};

use super::admin_mailbox_views::span;
use crate::db::reconciliation::Reconciliation;
use crate::domain::reconciliation::Status;

/// One synced folder (label): the provider's count beside what Threadline holds.
#[derive(Debug, Clone)]
pub struct FolderRow {
    pub name: String,
    pub provider_count: u64,
    pub stored: u64,
    pub ledgered: u64,
    /// "12 min ago", or "never".
    pub last_synced: String,
    pub status: &'static str,
    pub class: &'static str,
}

/// A mailbox's reconciliation in one line, with its folders.
#[derive(Debug, Clone)]
pub struct ReconciliationView {
    /// "Counts match the provider (checked 3 min ago)", "Differs from the provider: Inbox",
    /// "Counts not checked yet".
    pub label: String,
    pub class: &'static str,
    pub folders: Vec<FolderRow>,
}

fn class(status: Status) -> &'static str {
    match status {
        Status::Matches => "badge-ok",
        Status::Differs => "badge-error",
        Status::Unknown => "",
    }
}

fn ago(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    t.map_or_else(|| "never".into(), |t| format!("{} ago", span(now - t)))
}

impl ReconciliationView {
    pub fn new(r: &Reconciliation, now: DateTime<Utc>) -> Self {
        let checked = ago(r.checked_at, now);
        let label = match r.status {
            Status::Matches => format!("Counts match the provider (checked {checked})"),
            Status::Differs => {
                let names: Vec<&str> = r
                    .folders
                    .iter()
                    .filter(|f| f.status == Status::Differs)
                    .map(|f| f.name.as_str())
                    .collect();
                format!(
                    "Differs from the provider: {} (checked {checked})",
                    names.join(", ")
                )
            }
            Status::Unknown if r.folders.is_empty() => "Counts not checked yet".into(),
            Status::Unknown => {
                format!("Counts being confirmed: the next pass checks again (checked {checked})")
            }
        };
        Self {
            label,
            class: class(r.status),
            folders: r
                .folders
                .iter()
                .map(|f| FolderRow {
                    name: f.name.clone(),
                    provider_count: f.provider_count,
                    stored: f.stored,
                    ledgered: f.ledgered,
                    last_synced: ago(f.synced_at, now),
                    status: f.status.as_str(),
                    class: class(f.status),
                })
                .collect(),
        }
    }
}
