//! The mail a customer sends in the browser flow, delivered into the emulated mailbox through
//! its control plane (standing in for "someone sends an email"). `internal_date` fixes the
//! order the timeline must show, whatever order the messages arrive in.
use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};

use crate::support::TestApp;

pub const MAILBOX: &str = "ada@gmail-user.test";
pub const RENEWAL: &str = "Renewal pricing";
pub const INVOICE: &str = "Invoice 1042";
/// Older one-message threads, enough to fill more than one timeline page (25 threads).
pub const NOTES: usize = 24;

/// The renewal thread's bodies (and so snippets), oldest first, and who sent each.
pub const RENEWAL_BODIES: [(&str, &str); 3] = [
    ("Bob Buyer", "Could you send us your 2027 pricing?"),
    ("Ada Admin", "Here it is: ten percent off for two years."),
    ("Bob Buyer", "Thanks, we accept the offer."),
];

pub fn note_subject(n: usize) -> String {
    format!("Weekly note {n:02}")
}

struct Mail<'a> {
    from: &'a str,
    to: &'a str,
    subject: &'a str,
    id: &'a str,
    replies_to: &'a [&'a str],
    body: &'a str,
}

fn rfc822(m: &Mail<'_>, at: DateTime<Utc>) -> String {
    let mut head = format!(
        "From: {}\r\nTo: {}\r\nSubject: {}\r\nMessage-ID: <{}>\r\nDate: {}\r\n",
        m.from,
        m.to,
        m.subject,
        m.id,
        at.to_rfc2822()
    );
    if let Some(parent) = m.replies_to.last() {
        let refs: Vec<String> = m.replies_to.iter().map(|r| format!("<{r}>")).collect();
        let _ = write!(
            head,
            "In-Reply-To: <{parent}>\r\nReferences: {}\r\n",
            refs.join(" ")
        );
    }
    format!(
        "{head}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
        m.body
    )
}

async fn deliver(app: &TestApp, m: &Mail<'_>, labels: &str, at: DateTime<Utc>) {
    app.deliver_gmail(MAILBOX, rfc822(m, at), labels, Some(at.timestamp_millis()))
        .await;
}

/// 24 weekly notes, then the renewal thread (days 28, 29, 31) around the invoice (day 30): the
/// renewal thread started first but its latest message is the newest.
pub async fn deliver_all(app: &TestApp) {
    let day = |n: i64| Utc::now() - Duration::days(40) + Duration::days(n);
    let carl = "Carl Clerk <carl@globex.test>";
    let bob = "Bob Buyer <bob@globex.test>";
    let ada = "Ada Admin <ada@gmail-user.test>";
    for n in 1..=NOTES {
        let (subject, id) = (note_subject(n), format!("note-{n}@globex.test"));
        let body = format!("Status note number {n}.");
        let m = Mail {
            from: carl,
            to: ada,
            subject: &subject,
            id: &id,
            replies_to: &[],
            body: &body,
        };
        deliver(app, &m, "INBOX,UNREAD", day(i64::try_from(n).unwrap())).await;
    }
    let ids = [
        "renewal-1@globex.test",
        "renewal-2@gmail-user.test",
        "renewal-3@globex.test",
    ];
    let re = format!("Re: {RENEWAL}");
    for (i, (from, to, subject, labels, at)) in [
        (bob, ada, RENEWAL, "INBOX,UNREAD", 28),
        (ada, bob, re.as_str(), "SENT", 29),
        (bob, ada, re.as_str(), "INBOX,UNREAD", 31),
    ]
    .into_iter()
    .enumerate()
    {
        let m = Mail {
            from,
            to,
            subject,
            id: ids[i],
            replies_to: &ids[..i],
            body: RENEWAL_BODIES[i].1,
        };
        deliver(app, &m, labels, day(at)).await;
    }
    let invoice = Mail {
        from: "Alice Accounts <alice@globex.test>",
        to: ada,
        subject: INVOICE,
        id: "invoice-1042@globex.test",
        replies_to: &[],
        body: "Invoice 1042: 1,200 EUR, due in 30 days.",
    };
    deliver(app, &invoice, "INBOX,UNREAD", day(30)).await;
}
