//! A subset of Gmail search syntax for `q`: `after:` `before:` (dates `YYYY/MM/DD` or epoch
//! seconds, midnight UTC), `newer_than:` `older_than:` (`Nd|Nm|Ny`), `in:` (inbox, sent, trash,
//! spam, drafts, starred, unread, anywhere), `is:` (unread, read, starred, important),
//! `label:`, `from:`, `to:`, `cc:`, `subject:`, `has:attachment`, `rfc822msgid:`, `-` negation
//! and free words (subject, snippet, sender). Terms are combined with AND; `OR` and braces are not supported.

use chrono::{NaiveDate, TimeZone as _, Utc};

use crate::mime::EmailAddr;
use crate::store::{Mailbox, StoredMessage};

use super::view::label_ids;

#[derive(Debug, Clone, PartialEq)]
enum Term {
    After(i64),
    Before(i64),
    Label(String),
    From(String),
    To(String),
    Cc(String),
    Subject(String),
    HasAttachment,
    MessageId(String),
    Word(String),
    Anywhere,
}

/// A parsed query.
#[derive(Debug, Clone, Default)]
pub struct Query {
    terms: Vec<(bool, Term)>,
}

fn parse_date(value: &str) -> Option<i64> {
    if let Ok(secs) = value.parse::<i64>() {
        return secs.checked_mul(1000);
    }
    let normal = value.replace('-', "/");
    let date = NaiveDate::parse_from_str(&normal, "%Y/%m/%d")
        .or_else(|_| NaiveDate::parse_from_str(&normal, "%m/%d/%Y"))
        .ok()?;
    Some(
        Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?)
            .timestamp_millis(),
    )
}

fn parse_age(value: &str, now_ms: i64) -> Option<i64> {
    let unit = value.chars().last()?;
    let n: i64 = value.get(..value.len() - unit.len_utf8())?.parse().ok()?;
    let days = match unit {
        'd' => n,
        'm' => n.checked_mul(30)?,
        'y' => n.checked_mul(365)?,
        _ => return None,
    };
    now_ms.checked_sub(days.checked_mul(86_400_000)?)
}

fn label_term(value: &str) -> Term {
    match value.to_ascii_lowercase().as_str() {
        "anywhere" => Term::Anywhere,
        "drafts" => Term::Label("DRAFT".into()),
        "read" => Term::Label("READ".into()),
        other => Term::Label(other.to_ascii_uppercase().replace(['-', ' '], "_")),
    }
}

impl Query {
    pub fn parse(q: &str, now_ms: i64) -> Self {
        let mut terms = Vec::new();
        for token in tokenize(q) {
            let (negated, token) = token
                .strip_prefix('-')
                .map_or((false, token.as_str()), |t| (true, t));
            let term = match token.split_once(':') {
                Some((op, value)) if !value.is_empty() => {
                    let value = value.trim_matches('"').to_string();
                    match op.to_ascii_lowercase().as_str() {
                        "after" => parse_date(&value).map(Term::After),
                        "before" => parse_date(&value).map(Term::Before),
                        "newer_than" => parse_age(&value, now_ms).map(Term::After),
                        "older_than" => parse_age(&value, now_ms).map(Term::Before),
                        "in" | "is" | "label" => Some(label_term(&value)),
                        "from" => Some(Term::From(value.to_lowercase())),
                        "to" => Some(Term::To(value.to_lowercase())),
                        "cc" => Some(Term::Cc(value.to_lowercase())),
                        "subject" => Some(Term::Subject(value.to_lowercase())),
                        "has" if value == "attachment" => Some(Term::HasAttachment),
                        "rfc822msgid" => Some(Term::MessageId(
                            value.trim_matches(['<', '>']).to_lowercase(),
                        )),
                        _ => None,
                    }
                    .unwrap_or_else(|| Term::Word(token.to_lowercase()))
                }
                _ => Term::Word(token.to_lowercase()),
            };
            terms.push((negated, term));
        }
        Self { terms }
    }

    /// Whether SPAM and TRASH are searched too (`in:anywhere`, `in:trash`, `in:spam`).
    pub fn includes_spam_trash(&self) -> bool {
        self.terms.iter().any(|(neg, t)| {
            !neg && matches!(t, Term::Anywhere)
                || matches!(t, Term::Label(l) if l == "TRASH" || l == "SPAM")
        })
    }

    pub fn matches(&self, mailbox: &Mailbox, m: &StoredMessage) -> bool {
        self.terms
            .iter()
            .all(|(negated, term)| term_matches(mailbox, m, term) != *negated)
    }
}

fn tokenize(q: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in q.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn any_addr(list: &[EmailAddr], needle: &str) -> bool {
    list.iter().any(|a| {
        a.address.to_lowercase().contains(needle)
            || a.name
                .as_deref()
                .is_some_and(|n| n.to_lowercase().contains(needle))
    })
}

fn term_matches(mailbox: &Mailbox, m: &StoredMessage, term: &Term) -> bool {
    let p = &m.parsed;
    match term {
        Term::After(ms) => m.internal_date_ms >= *ms,
        Term::Before(ms) => m.internal_date_ms < *ms,
        Term::Anywhere => true,
        Term::Label(l) if l == "READ" => m.state.read,
        Term::Label(l) => {
            let ids = label_ids(&m.state);
            ids.iter().any(|id| id == l)
                || mailbox
                    .find_user_label(l)
                    .is_some_and(|id| ids.contains(&id))
        }
        Term::From(s) => any_addr(&p.from, s),
        Term::To(s) => any_addr(&p.to, s),
        Term::Cc(s) => any_addr(&p.cc, s),
        Term::Subject(s) => p.subject.to_lowercase().contains(s),
        Term::HasAttachment => p.has_attachments,
        Term::MessageId(id) => p
            .message_id
            .as_deref()
            .is_some_and(|x| x.to_lowercase() == *id),
        Term::Word(w) => {
            let w = w.trim_matches('"');
            p.subject.to_lowercase().contains(w)
                || p.preview.to_lowercase().contains(w)
                || any_addr(&p.from, w)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_as_utc_midnight_or_epoch_seconds() {
        assert_eq!(parse_date("2024/01/02"), Some(1_704_153_600_000));
        assert_eq!(parse_date("1704153600"), Some(1_704_153_600_000));
        assert_eq!(parse_date("soon"), None);
    }

    #[test]
    fn odd_ages_and_dates_do_not_panic() {
        assert_eq!(parse_age("5日", 0), None);
        assert_eq!(parse_age("", 0), None);
        assert_eq!(parse_age("2d", 3 * 86_400_000), Some(86_400_000));
        let q = Query::parse("newer_than:5日 after:9999999999999999999 older_than:", 0);
        assert!(!q.includes_spam_trash());
    }

    #[test]
    fn in_anywhere_and_in_trash_include_spam_and_trash() {
        assert!(Query::parse("in:anywhere", 0).includes_spam_trash());
        assert!(Query::parse("in:trash from:x", 0).includes_spam_trash());
        assert!(!Query::parse("in:inbox", 0).includes_spam_trash());
    }
}
