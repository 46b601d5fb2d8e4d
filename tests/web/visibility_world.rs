//! Stored mail for the visibility tests, written straight into the database (no provider): an
//! organization's users, mailboxes at given levels, emails with a subject, snippet, text and
//! HTML body, participants, an attachment and their search entry, and links to a business.
use chrono::{Duration, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Value};
use threadline::db::batch::statement;
use threadline::domain::search::document;

pub async fn exec(db: &DatabaseConnection, sql: &str, values: Vec<Value>) {
    db.execute(statement(db.get_database_backend(), sql, values))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

pub async fn returning_id(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> i64 {
    db.query_one(statement(
        db.get_database_backend(),
        &format!("{sql} RETURNING id"),
        values,
    ))
    .await
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
    .expect("a row")
    .try_get_by_index(0)
    .unwrap()
}

fn at(minute: i64) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap() + Duration::minutes(minute)
}

/// An organization of its own (the property test makes one per case).
pub async fn organization(db: &DatabaseConnection, name: &str) -> i64 {
    threadline::db::organizations::create(db, name)
        .await
        .unwrap()
        .id
}

/// A user who never signs in (the password hash is not a hash).
pub async fn user(db: &DatabaseConnection, org: i64, email: &str) -> i64 {
    returning_id(
        db,
        "INSERT INTO users (organization_id, email, name, role, password_hash, disabled, \
         created_at, updated_at) VALUES (?, ?, ?, 'member', 'x', ?, ?, ?)",
        vec![
            org.into(),
            email.into(),
            email.into(),
            false.into(),
            at(0).into(),
            at(0).into(),
        ],
    )
    .await
}

pub async fn mailbox(
    db: &DatabaseConnection,
    org: i64,
    owner: Option<i64>,
    address: &str,
    level: &str,
) -> i64 {
    returning_id(
        db,
        "INSERT INTO mail_accounts (organization_id, owner_user_id, provider, address, \
         visibility, created_at, updated_at) VALUES (?, ?, 'google', ?, ?, ?, ?)",
        vec![
            org.into(),
            owner.into(),
            address.into(),
            level.into(),
            at(0).into(),
            at(0).into(),
        ],
    )
    .await
}

pub async fn business(db: &DatabaseConnection, org: i64, name: &str, domain: &str) -> i64 {
    threadline::db::directory::create_business(db, org, name, &[domain.to_string()])
        .await
        .unwrap()
        .id
}

/// One stored copy of a message.
pub struct Mail<'a> {
    pub account: i64,
    pub message_key: &'a str,
    pub thread_key: &'a str,
    /// One word each, so a search can aim at one field.
    pub subject: &'a str,
    pub body: &'a str,
    pub minute: i64,
}

/// Store `m` (from `gus@globex.test`, to `to`) with a text and HTML body, a snippet that is
/// the body, an attachment `report-<body>.pdf` and its search entry; returns its id.
pub async fn email(db: &DatabaseConnection, org: i64, to: &str, m: &Mail<'_>) -> i64 {
    let id = returning_id(
        db,
        "INSERT INTO emails (organization_id, account_id, provider_message_id, message_id, \
         message_key, thread_key, subject, snippet, received_at, has_attachments, \
         created_at, updated_at, sender_name, sender_address) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'Gus', 'gus@globex.test')",
        vec![
            org.into(),
            m.account.into(),
            format!("{}-{}", m.message_key, m.account).into(),
            m.message_key.into(),
            m.message_key.into(),
            m.thread_key.into(),
            m.subject.into(),
            format!("snippet {}", m.body).into(),
            at(m.minute).into(),
            true.into(),
            at(m.minute).into(),
            at(m.minute).into(),
        ],
    )
    .await;
    for (role, name, address) in [("from", "Gus", "gus@globex.test"), ("to", "", to)] {
        let domain = address.split('@').nth(1).unwrap_or_default().to_string();
        exec(
            db,
            "INSERT INTO email_participants (organization_id, email_id, role, address, name, \
             domain, registrable) VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                org.into(),
                id.into(),
                role.into(),
                address.into(),
                name.into(),
                domain.clone().into(),
                domain.into(),
            ],
        )
        .await;
    }
    exec(
        db,
        "INSERT INTO email_bodies (email_id, organization_id, body_text, body_html, truncated) \
         VALUES (?, ?, ?, ?, ?)",
        vec![
            id.into(),
            org.into(),
            format!("Text {}", m.body).into(),
            format!("<p>Html {}</p>", m.body).into(),
            false.into(),
        ],
    )
    .await;
    exec(
        db,
        "INSERT INTO attachments (organization_id, email_id, part_key, filename, content_type, \
         size_bytes, is_inline) VALUES (?, ?, '1', ?, 'application/pdf', 10, ?)",
        vec![
            org.into(),
            id.into(),
            format!("report-{}.pdf", m.body).into(),
            false.into(),
        ],
    )
    .await;
    let doc = document(
        m.subject,
        [("Gus", "gus@globex.test"), ("", to)],
        Some(&format!("Text {}", m.body)),
        None,
    );
    threadline::db::search::index(db, org, &[(id, doc)])
        .await
        .unwrap();
    id
}

/// Link `email` to `business` as ingest would (a domain match).
pub async fn link(db: &DatabaseConnection, org: i64, email: i64, business: i64) {
    exec(
        db,
        "INSERT INTO email_links (organization_id, email_id, business_id, source, reason, \
         tombstone, received_at, created_at) SELECT ?, e.id, ?, 'auto', 'domain', ?, \
         e.received_at, e.created_at FROM emails e WHERE e.id = ?",
        vec![org.into(), business.into(), false.into(), email.into()],
    )
    .await;
}

/// Mark `thread_key` private for `user` (as the email page's form does).
pub async fn private_thread(db: &DatabaseConnection, org: i64, user: i64, thread_key: &str) {
    threadline::db::private_threads::set(db, org, user, thread_key, true)
        .await
        .unwrap();
}
