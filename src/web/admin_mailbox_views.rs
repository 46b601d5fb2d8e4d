//! View models of Admin → Mailboxes: one table row per mailbox (owner, status, last sync, lag,
//! messages, errors and which actions apply), the pager, and the confirmation pages.
use chrono::{DateTime, Duration, Utc};

use crate::db::entities::mail_accounts::Model as MailAccount;
use crate::db::mailbox_console::{ConsoleRow, PAGE_SIZE};
use crate::domain::mailbox::MailboxStatus;

const TIME: &str = "%Y-%m-%d %H:%M UTC";

/// A connected mailbox is behind when its last successful pass (or, never synced, its
/// linking) is more than twice its interval ago, and at least this long.
const BEHIND_AT_LEAST: Duration = Duration::minutes(10);

pub fn status_label(status: MailboxStatus) -> &'static str {
    match status {
        MailboxStatus::Active => "Connected",
        MailboxStatus::NeedsReconnect => "Needs reconnecting",
        MailboxStatus::Paused => "Paused",
        MailboxStatus::Disconnected => "Disconnected",
        MailboxStatus::Refused => "Refused by the tenant's policy",
    }
}

/// A duration as people say it: "under a minute", "12 min", "5 h", "3 days".
pub fn span(d: Duration) -> String {
    let minutes = d.num_minutes();
    if minutes < 1 {
        "under a minute".into()
    } else if minutes < 60 {
        format!("{minutes} min")
    } else if minutes < 48 * 60 {
        format!("{} h", minutes / 60)
    } else {
        format!("{} days", minutes / (24 * 60))
    }
}

fn owner_label(name: Option<String>, email: Option<String>, disabled: bool) -> String {
    match (name, email) {
        (Some(name), Some(email)) => {
            let disabled = if disabled { " (disabled)" } else { "" };
            format!("{name} <{email}>{disabled}")
        }
        _ => "the organization".into(),
    }
}

/// One mailbox as the console's table shows it. Each field is one cell (or one action).
pub struct MailboxRow {
    pub id: i64,
    pub address: String,
    pub provider: &'static str,
    pub owner: String,
    pub status: &'static str,
    /// What its sync job is doing: "pass running", "due now", "next 12:40 UTC" (connected only).
    pub job: String,
    /// When the last pass ended, successful or not.
    pub last_sync: String,
    /// How long since the last successful pass ("never" without one).
    pub lag: String,
    pub behind: bool,
    pub messages: i64,
    pub last_error: String,
    /// "3 failed passes since 2026-12-07 09:10 UTC", when passes failed since the last success.
    pub failing: String,
    pub can_pause: bool,
    pub can_resume: bool,
    pub can_sync: bool,
    pub can_disconnect: bool,
    /// Push and the poll interval in effect (mailboxes that sync), filled by the page.
    pub push: Option<super::push_views::PushView>,
    /// Counts against the provider (reconciliation), filled by the page.
    pub reconciliation: Option<super::reconciliation_views::ReconciliationView>,
    /// Visibility level choices (`mailbox_visibility`), filled by the page.
    pub visibility: Vec<super::mailbox_visibility::LevelOption>,
    /// Write-back's switch when it can be changed (`Some(on)`), else why not (`Err`).
    pub write_back: Result<bool, &'static str>,
}

impl MailboxRow {
    pub fn new(r: ConsoleRow, now: DateTime<Utc>) -> Self {
        let active = matches!(r.status, MailboxStatus::Active | MailboxStatus::Refused);
        let lease_live = r.job_lease_until.is_some_and(|t| t > now);
        let job = match (&r.job_state, r.job_run_at) {
            _ if !active => String::new(),
            (Some(state), _) if state == "running" && lease_live => "pass running".into(),
            (Some(_), Some(at)) if at <= now => "due now".into(),
            (Some(_), Some(at)) => format!("next {}", at.format("%H:%M UTC")),
            _ => String::new(),
        };
        let since = r.last_success_at.unwrap_or(r.created_at);
        let interval = Duration::seconds(i64::from(r.sync_interval_secs.max(30)));
        let behind = active && now - since > (interval * 2).max(BEHIND_AT_LEAST);
        let failing = match (r.failures, r.failing_since) {
            (n, Some(at)) if n > 0 => {
                let passes = if n == 1 { "pass" } else { "passes" };
                format!("{n} failed {passes} since {}", at.format(TIME))
            }
            _ => String::new(),
        };
        Self {
            id: r.id,
            provider: r.provider.label(),
            owner: match r.tenant {
                // An organization mailbox: whose connection it syncs through.
                Some(tenant) if r.owner_user_id.is_none() => {
                    format!("the organization (tenant {tenant})")
                }
                _ => owner_label(r.owner_name, r.owner_email, r.owner_disabled == Some(true)),
            },
            status: status_label(r.status),
            job,
            last_sync: r
                .last_sync_at
                .map_or_else(|| "never".into(), |t| t.format(TIME).to_string()),
            lag: r
                .last_success_at
                .map_or_else(|| "never synced".into(), |t| span(now - t)),
            behind,
            messages: r.messages,
            last_error: r.last_error.unwrap_or_default(),
            failing,
            can_pause: matches!(
                r.status,
                MailboxStatus::Active | MailboxStatus::NeedsReconnect | MailboxStatus::Refused
            ),
            can_resume: r.status == MailboxStatus::Paused,
            can_sync: active,
            can_disconnect: r.status != MailboxStatus::Disconnected,
            visibility: Vec::new(),
            write_back: Err(""),
            push: None,
            reconciliation: None,
            address: r.address,
        }
    }
}

/// Write-back's switch for the console (`Ok(on)`), or why it cannot be switched.
pub fn write_back_switch(r: &ConsoleRow, org_allows: bool) -> Result<bool, &'static str> {
    use crate::domain::write_back::{eligibility, Eligibility, Facts};
    let facts = Facts {
        provider: r.provider,
        granted_scopes: &r.granted_scopes,
        org_allows,
        mailbox_on: r.write_back,
        via_connection: r.connection_id.is_some(),
    };
    match eligibility(&facts) {
        Eligibility::On | Eligibility::MailboxOff => Ok(r.write_back),
        Eligibility::OrgOff => Err("not allowed"),
        Eligibility::ReadOnly => Err("read-only"),
        Eligibility::OrgConnection => Err("not available"),
    }
}

/// What the console row knows of the mailbox's push.
pub fn push_facts(r: &ConsoleRow) -> super::push_views::PushFacts {
    super::push_views::PushFacts {
        state: r.push_state.clone(),
        reason: r.push_reason.clone(),
        expires_at: r.push_expires_at,
        last_notification_at: r.push_last_notification_at,
        notifications: r.push_notifications.unwrap_or(0),
        rejected: r.push_rejected.unwrap_or(0),
    }
}

/// Which page of the console is shown, and the links to its neighbours.
pub struct Pager {
    pub first: u64,
    pub last: u64,
    pub total: u64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `page` counts from 0; `shown` rows are on it.
    pub fn new(page: u64, shown: usize, total: u64) -> Self {
        let first = page * PAGE_SIZE + 1;
        let link = |p: u64| format!("/admin/mailboxes?page={}", p + 1);
        Self {
            first,
            last: (first + shown as u64).saturating_sub(1),
            total,
            prev: (page > 0).then(|| link(page - 1)),
            next: ((page + 1) * PAGE_SIZE < total).then(|| link(page + 1)),
        }
    }
}

/// The mailbox a confirmation page is about.
pub struct MailboxSummary {
    pub id: i64,
    pub address: String,
    pub provider: &'static str,
    pub owner: String,
    pub status: &'static str,
    pub disconnected: bool,
}

impl MailboxSummary {
    pub fn new(m: &MailAccount, owner: Option<(String, String, bool)>) -> Self {
        let owner = match owner {
            Some((name, email, disabled)) => owner_label(Some(name), Some(email), disabled),
            None => owner_label(None, None, false),
        };
        Self {
            id: m.id,
            address: m.address.clone(),
            provider: m.provider.label(),
            owner,
            status: status_label(m.status),
            disconnected: m.status == MailboxStatus::Disconnected,
        }
    }
}

/// A user a mailbox can be handed to.
pub struct TargetUser {
    pub id: i64,
    pub label: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(Duration::seconds(20)), "under a minute");
        assert_eq!(span(Duration::minutes(12)), "12 min");
        assert_eq!(span(Duration::minutes(150)), "2 h");
        assert_eq!(span(Duration::days(3)), "3 days");
    }

    #[test]
    fn the_pager_links_its_neighbours() {
        let p = Pager::new(0, 50, 120);
        assert_eq!((p.first, p.last), (1, 50));
        assert_eq!(p.prev, None);
        assert_eq!(p.next.as_deref(), Some("/admin/mailboxes?page=2"));
        let p = Pager::new(2, 20, 120);
        assert_eq!((p.first, p.last), (101, 120));
        assert_eq!(p.prev.as_deref(), Some("/admin/mailboxes?page=2"));
        assert_eq!(p.next, None);
    }
}
