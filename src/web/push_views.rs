//! Push as people see it on the mailbox pages and the admin console (issue 22): whether the
//! provider calls Threadline when mail changes (a Graph subscription or a Gmail watch), why
//! not, and how often the mailbox is polled because of it.
use chrono::{DateTime, Utc};

use super::admin_mailbox_views::span;
use crate::config_push::PushSettings;
use crate::db::entities::mailbox_push::Model as PushRow;
use crate::db::push;
use crate::domain::provider::Provider;

/// What is known of a mailbox's push: its `mailbox_push` row, if any, in plain fields.
#[derive(Debug, Clone, Default)]
pub struct PushFacts {
    /// `off`, `pending`, `active`, `failing`; `None` while no pass has looked at push yet.
    pub state: Option<String>,
    pub reason: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_notification_at: Option<DateTime<Utc>>,
    pub notifications: i64,
    pub rejected: i64,
}

impl From<Option<PushRow>> for PushFacts {
    fn from(row: Option<PushRow>) -> Self {
        row.map_or_else(Self::default, |r| Self {
            state: Some(r.state),
            reason: r.reason,
            expires_at: r.expires_at,
            last_notification_at: r.last_notification_at,
            notifications: r.notifications,
            rejected: r.rejected,
        })
    }
}

/// One line about push and the effective poll interval.
#[derive(Debug, Clone, Default)]
pub struct PushView {
    /// "Push active (Graph subscription, renews in 2 days; last notification 3 min ago)",
    /// "Polling every 5 min: no public https URL (...)", "Push failing: ...; polling every 5 min".
    pub label: String,
    /// Badge class: `badge-ok` active, `badge-warn` being set up, `badge-error` failing, empty
    /// when the mailbox simply polls.
    pub class: &'static str,
    /// The poll interval in effect: "every 5 min", or with push healthy "every 1 h (safety net)".
    pub interval: String,
    /// Notifications received and refused, when there were any ("42 notifications, 1 refused").
    pub counts: String,
}

/// `300` -> "5 min", `3600` -> "1 h", `45` -> "45 s".
pub fn every(secs: i64) -> String {
    match secs {
        s if s >= 3600 && s % 3600 == 0 => format!("{} h", s / 3600),
        s if s >= 60 => format!("{} min", (s + 30) / 60),
        s => format!("{s} s"),
    }
}

/// A reason as stored or given by the settings, without its "…; polling" tail (the line says so).
fn reason_text(reason: &str) -> String {
    reason
        .trim()
        .trim_end_matches("; polling")
        .trim_end_matches(", so this mailbox polls")
        .to_string()
}

impl PushView {
    /// `own_secs`: the mailbox's own sync interval. `settings`/`base_url` explain a mailbox
    /// whose push no pass has looked at yet.
    pub fn new(
        provider: Provider,
        facts: &PushFacts,
        own_secs: i32,
        settings: &PushSettings,
        base_url: &str,
        now: DateTime<Utc>,
    ) -> Self {
        let own = i64::from(own_secs.max(30));
        let state = facts.state.as_deref();
        let healthy = state.is_some_and(|s| push::healthy(s, facts.expires_at, now));
        let effective = if healthy {
            own.max(i64::from(settings.poll_seconds))
        } else {
            own
        };
        let polling = format!("polling every {}", every(effective));
        let kind = match provider {
            Provider::Microsoft => "Graph subscription",
            Provider::Google => "Gmail watch",
        };
        let reason = facts.reason.as_deref().map(reason_text);
        let (label, class) = match state {
            Some(push::ACTIVE) if healthy => {
                let renews = facts
                    .expires_at
                    .map(|e| format!(", renews in {}", span(e - now)))
                    .unwrap_or_default();
                let last = facts.last_notification_at.map_or_else(
                    || "no notification yet".to_string(),
                    |t| format!("last notification {} ago", span(now - t)),
                );
                (format!("Push active ({kind}{renews}; {last})"), "badge-ok")
            }
            Some(push::ACTIVE) => (
                format!("Push lapsed: the {kind} expired; {polling} until it is renewed"),
                "badge-warn",
            ),
            Some(push::PENDING) => (
                format!("Push being set up ({kind}); {polling} until it is active"),
                "badge-warn",
            ),
            Some(push::FAILING) => (
                format!(
                    "Push failing: {}; {polling}",
                    reason.unwrap_or_else(|| "no reason recorded".into())
                ),
                "badge-error",
            ),
            Some(_) => (
                format!(
                    "Polling every {}: {}",
                    every(effective),
                    reason.unwrap_or_else(|| "push is off".into())
                ),
                "",
            ),
            None => {
                let refused = match provider {
                    Provider::Microsoft => settings.available(base_url).err(),
                    Provider::Google => settings.gmail(base_url).err(),
                };
                match refused {
                    Some(why) => (
                        format!("Polling every {}: {}", every(effective), reason_text(&why)),
                        "",
                    ),
                    None => (
                        format!("Push not set up yet ({kind} at the next sync); {polling}"),
                        "",
                    ),
                }
            }
        };
        let interval = if healthy {
            format!("every {} (safety net)", every(effective))
        } else {
            format!("every {}", every(effective))
        };
        let counts = match (facts.notifications, facts.rejected) {
            (0, 0) => String::new(),
            (n, 0) => format!("{n} notifications received"),
            (n, r) => format!("{n} notifications received, {r} refused"),
        };
        Self {
            label,
            class,
            interval,
            counts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::every;

    #[test]
    fn intervals_read_as_people_say_them() {
        assert_eq!(every(300), "5 min");
        assert_eq!(every(3600), "1 h");
        assert_eq!(every(5400), "90 min");
        assert_eq!(every(45), "45 s");
    }
}
