//! View models of the timelines: the filter query as typed in the URL, the thread list with
//! its "Load more" link, and the messages of an expanded thread.
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::db::timeline::{Cursor, Deletion, Filters, Message, Page, Scope, ThreadSummary};
use crate::domain::references::encode;
use crate::domain::search::SearchQuery;

/// `?q=&since=&until=&mailbox=&attachments=on&unread=on&starred=on&hide_deleted=on&after=`
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct TimelineQuery {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub q: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub since: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub until: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mailbox: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starred: Option<String>,
    /// Leave out mail deleted in the provider (shown, marked, by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_deleted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

impl TimelineQuery {
    /// The filters, and a message for each part that could not be read (that part is ignored).
    pub fn filters(&self) -> (Filters, Vec<String>) {
        let mut errors = Vec::new();
        let mut day = |s: &str, what: &str| {
            if s.trim().is_empty() {
                return None;
            }
            let d = date(s);
            if d.is_none() {
                errors.push(format!(
                    "The {what} date \"{s}\" is not a date like 2026-03-31."
                ));
            }
            d
        };
        let since = day(&self.since, "from").map(midnight);
        let before = day(&self.until, "to").map(|d| midnight(d) + Duration::days(1));
        let mailbox = match self.mailbox.trim() {
            "" => None,
            m => {
                let id = m.parse().ok();
                if id.is_none() {
                    errors.push("Unknown mailbox.".into());
                }
                id
            }
        };
        if let (Some(a), Some(b)) = (since, before) {
            if a >= b {
                errors.push("The from date is after the to date: nothing can match.".into());
            }
        }
        let filters = Filters {
            since,
            before,
            mailbox,
            attachments: self.attachments.is_some(),
            unread: self.unread.is_some(),
            starred: self.starred.is_some(),
            hide_deleted: self.hide_deleted.is_some(),
            search: SearchQuery::parse(&self.q),
        };
        (filters, errors)
    }

    pub fn cursor(&self) -> Option<Cursor> {
        self.after.as_deref().and_then(Cursor::decode)
    }

    pub fn is_filtered(&self) -> bool {
        [&self.q, &self.since, &self.until, &self.mailbox]
            .iter()
            .any(|s| !s.trim().is_empty())
            || self.attachments.is_some()
            || self.unread.is_some()
            || self.starred.is_some()
            || self.hide_deleted.is_some()
    }

    fn without_cursor(&self) -> Self {
        Self {
            after: None,
            ..self.clone()
        }
    }

    /// `base?filters[&after=cursor]`.
    fn url(&self, base: &str, after: Option<Cursor>) -> String {
        let q = Self {
            after: after.map(|c| c.encode()),
            ..self.without_cursor()
        };
        match serde_urlencoded::to_string(&q) {
            Ok(qs) if !qs.is_empty() => format!("{base}?{qs}"),
            _ => base.to_string(),
        }
    }
}

/// Stands in for a subject a colleague's visibility level hides.
pub const NOT_SHARED_SUBJECT: &str = "(subject not shared)";
/// Stands in for the content of a message a colleague's visibility level hides.
pub const NOT_SHARED_CONTENT: &str = "(content not shared)";

/// A thread's name on a live page: stable while the thread grows, and telling nothing about
/// the thread itself (its key is made of Message-IDs).
pub fn live_id(thread_key: &str) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write;
    let digest = Sha256::digest(thread_key.as_bytes());
    digest[..8].iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// A thread as a line of the list.
pub struct ThreadRow {
    pub handle: i64,
    /// [`live_id`] of the thread.
    pub thread: String,
    /// Its latest message's time (ms), for placing it on a live page.
    pub at: i64,
    pub subject: String,
    pub people: String,
    pub messages: usize,
    pub unread: bool,
    pub starred: bool,
    pub attachments: bool,
    pub snippet: String,
    pub when: String,
    pub when_full: String,
    pub expand_url: String,
    /// The latest message's references: `(value, its timeline)`.
    pub references: Vec<(String, String)>,
    /// "deleted in Gmail on 2026-12-08" when all its messages are, "2 deleted in the
    /// provider" when some are.
    pub deleted: Option<String>,
}

/// "deleted in Gmail on 2026-12-08".
pub fn deleted_label(d: Deletion) -> String {
    format!(
        "deleted in {} on {}",
        d.provider.label(),
        d.at.format("%Y-%m-%d")
    )
}

fn thread_deleted(t: &ThreadSummary) -> Option<String> {
    match (t.all_deleted, t.deleted) {
        (Some(d), _) => Some(deleted_label(d)),
        (None, 0) => None,
        (None, n) => Some(format!("{n} deleted in the provider")),
    }
}

/// "Alice, Bob, Carol +2".
fn people_line(people: &[String]) -> String {
    let shown: Vec<&str> = people.iter().take(3).map(String::as_str).collect();
    let line = shown.join(", ");
    if people.len() > 3 {
        format!("{line} +{}", people.len() - 3)
    } else {
        line
    }
}

/// A short time: "14:05" today, "Mar 4" this year, "2024-03-04" before.
pub fn short_time(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if at.date_naive() == now.date_naive() {
        at.format("%H:%M").to_string()
    } else if at.year() == now.year() {
        at.format("%b %-d").to_string()
    } else {
        at.format("%Y-%m-%d").to_string()
    }
}

fn full_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

impl ThreadRow {
    pub fn new(t: ThreadSummary, base: &str, now: DateTime<Utc>) -> Self {
        let deleted = thread_deleted(&t);
        let subject = if t.subject_hidden {
            NOT_SHARED_SUBJECT.to_string()
        } else if t.subject.trim().is_empty() {
            "(no subject)".to_string()
        } else {
            t.subject
        };
        Self {
            deleted,
            expand_url: format!("{base}/threads/{}", t.handle),
            references: t
                .references
                .iter()
                .map(|(rule, value)| {
                    let href = format!("/references/{}/{}", encode(rule), encode(value));
                    (value.clone(), href)
                })
                .collect(),
            thread: live_id(&t.key),
            at: t.latest_at.timestamp_millis(),
            handle: t.handle,
            subject,
            people: people_line(&t.people),
            messages: t.messages,
            unread: t.unread > 0,
            starred: t.starred,
            attachments: t.attachments,
            snippet: t.snippet,
            when: short_time(t.latest_at, now),
            when_full: full_time(t.latest_at),
        }
    }
}

/// "Load more": the fragment for htmx and the page for plain links.
pub struct More {
    pub fragment: String,
    pub page: String,
}

/// The timeline part of a page, and what the thread-list fragment renders.
pub struct TimelineView {
    /// The page without filters.
    pub base: String,
    pub page_url: String,
    pub threads_url: String,
    pub q: TimelineQuery,
    pub filtered: bool,
    pub mailboxes: Vec<(i64, String, bool)>,
    pub threads: Vec<ThreadRow>,
    pub more: Option<More>,
    pub errors: Vec<String>,
    /// The first page (not a "Load more").
    pub first: bool,
    pub csrf: String,
    /// Where a live page asks for changed threads, and the time its threads were read at.
    pub changes_url: String,
    pub cursor: String,
}

impl TimelineView {
    pub fn new(
        base: String,
        query: &TimelineQuery,
        page: Page,
        errors: Vec<String>,
        first: bool,
        csrf: String,
    ) -> Self {
        let now = Utc::now();
        let threads_url = format!("{base}/threads");
        let changes_url = format!("{base}/threads/changes");
        let more = page.next.map(|c| More {
            fragment: query.url(&threads_url, Some(c)),
            page: query.url(&base, Some(c)),
        });
        let selected = query.mailbox.trim().parse::<i64>().ok();
        Self {
            page_url: query.url(&base, None),
            filtered: query.is_filtered(),
            mailboxes: page
                .mailboxes
                .into_iter()
                .map(|(id, address)| (id, address, Some(id) == selected))
                .collect(),
            threads: page
                .threads
                .into_iter()
                .map(|t| ThreadRow::new(t, &base, now))
                .collect(),
            threads_url,
            base,
            q: query.without_cursor(),
            more,
            errors,
            first,
            csrf,
            changes_url,
            cursor: (now.timestamp_millis() - 1).to_string(),
        }
    }
}

/// A message of an expanded thread.
pub struct MessageRow {
    pub email_id: i64,
    pub from: String,
    pub from_address: String,
    pub to: String,
    pub subject: String,
    pub snippet: String,
    pub when: String,
    pub read: bool,
    pub starred: bool,
    pub attachments: bool,
    /// The unlink form's action, in business and contact timelines.
    pub unlink: Option<String>,
    /// "deleted in Outlook on 2026-12-08".
    pub deleted: Option<String>,
}

impl MessageRow {
    pub fn new(m: Message, scope: Scope) -> Self {
        let unlink = match (scope, m.link_id) {
            (Scope::Mine | Scope::Reference(_), _) | (_, None) => None,
            (_, Some(link)) => Some(format!("/emails/{}/links/{link}/delete", m.email_id)),
        };
        Self {
            email_id: m.email_id,
            from: m.from_name,
            from_address: m.from_address,
            to: people_line(&m.to),
            subject: m.subject,
            snippet: if m.level.shows_body() {
                m.snippet
            } else {
                NOT_SHARED_CONTENT.to_string()
            },
            when: full_time(m.at),
            read: m.read,
            starred: m.starred,
            attachments: m.attachments,
            unlink,
            deleted: m.deleted.map(deleted_label),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_read_dates_inclusively_and_report_bad_input() {
        let q = TimelineQuery {
            since: "2026-03-01".into(),
            until: "2026-03-31".into(),
            mailbox: "x".into(),
            unread: Some("on".into()),
            ..Default::default()
        };
        let (f, errors) = q.filters();
        assert_eq!(f.since.unwrap().to_rfc3339(), "2026-03-01T00:00:00+00:00");
        assert_eq!(f.before.unwrap().to_rfc3339(), "2026-04-01T00:00:00+00:00");
        assert!(f.unread && !f.starred && f.mailbox.is_none());
        assert_eq!(errors, vec!["Unknown mailbox.".to_string()]);
        let (_, errors) = TimelineQuery {
            since: "31/03/2026".into(),
            ..Default::default()
        }
        .filters();
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn urls_keep_filters_and_replace_the_cursor() {
        let q = TimelineQuery {
            q: "renewal q3".into(),
            starred: Some("on".into()),
            after: Some("1.2".into()),
            ..Default::default()
        };
        assert!(q.is_filtered());
        let c = Cursor::decode("1700000000000000000.42").unwrap();
        assert_eq!(
            q.url("/businesses/3/threads", Some(c)),
            "/businesses/3/threads?q=renewal+q3&starred=on&after=1700000000000000000.42"
        );
        assert_eq!(q.url("/mail", None), "/mail?q=renewal+q3&starred=on");
        assert!(!TimelineQuery::default().is_filtered());
    }

    #[test]
    fn people_and_times_are_short() {
        let p: Vec<String> = ["A", "B", "C", "D", "E"].map(String::from).to_vec();
        assert_eq!(people_line(&p), "A, B, C +2");
        let now = "2026-11-22T15:00:00Z".parse().unwrap();
        assert_eq!(
            short_time("2026-11-22T09:05:00Z".parse().unwrap(), now),
            "09:05"
        );
        assert_eq!(
            short_time("2026-03-04T09:05:00Z".parse().unwrap(), now),
            "Mar 4"
        );
        assert_eq!(
            short_time("2024-03-04T09:05:00Z".parse().unwrap(), now),
            "2024-03-04"
        );
    }
}
