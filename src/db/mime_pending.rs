//! Emails stored before their MIME text (Outlook's newest mail, shown at once from its Graph
//! fields): the `mime_pending` marker, written in the transaction that stores the email and
//! removed in the one that fills in what only the MIME text gives (bodies, attachments, the
//! participants and subject as the MIME headers spell them, the snippet, the size). Whatever
//! is still marked after a crash is fetched by the next pass, newest first, so the end state
//! is the one a MIME-only sync reaches. The marker is deleted with its email.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryTrait, Value};

use super::batch::{list, padded, rows_per_insert, statement, KEYS};
use super::emails::Owner;
use super::entities::{attachments, email_participants};
use crate::domain::message::{NormalizedMessage, ParticipantRole};

/// A stored email whose MIME text is still to be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub email_id: i64,
    pub provider_message_id: String,
}

/// Mark `emails` (id, received time) of the mailbox as waiting for their MIME text. Call it in
/// the transaction that inserted them.
pub async fn mark(
    db: &impl ConnectionTrait,
    account_id: i64,
    emails: &[(i64, DateTime<Utc>)],
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    for chunk in emails.chunks(rows_per_insert(3)) {
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 3);
        let rows: Vec<&str> = chunk
            .iter()
            .map(|(id, at)| {
                values.extend([(*id).into(), account_id.into(), (*at).into()]);
                "(?, ?, ?)"
            })
            .collect();
        let sql = format!(
            "INSERT INTO mime_pending (email_id, account_id, received_at) VALUES {} \
             ON CONFLICT (email_id) DO NOTHING",
            rows.join(", ")
        );
        db.execute(statement(backend, &sql, values)).await?;
    }
    Ok(())
}

/// Up to `limit` of the mailbox's emails waiting for their MIME text, newest first.
pub async fn due(
    db: &impl ConnectionTrait,
    account_id: i64,
    limit: u64,
) -> Result<Vec<Due>, DbErr> {
    let sql = "SELECT p.email_id, e.provider_message_id FROM mime_pending p \
               JOIN emails e ON e.id = p.email_id WHERE p.account_id = ? \
               ORDER BY p.received_at DESC, p.email_id DESC LIMIT ?";
    let backend = db.get_database_backend();
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = db
        .query_all(statement(
            backend,
            sql,
            vec![account_id.into(), limit.into()],
        ))
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Due {
                email_id: r.try_get("", "email_id")?,
                provider_message_id: r.try_get("", "provider_message_id")?,
            })
        })
        .collect()
}

/// Whether the email still waits for its MIME text (the email page says so).
pub async fn is_pending(db: &impl ConnectionTrait, email_id: i64) -> Result<bool, DbErr> {
    let backend = db.get_database_backend();
    let row = db
        .query_one(statement(
            backend,
            "SELECT 1 AS pending FROM mime_pending WHERE email_id = ?",
            vec![email_id.into()],
        ))
        .await?;
    Ok(row.is_some())
}

/// Remove the markers of `email_ids`; the ids that were still marked (what this caller may
/// fill: a marker is claimed once).
pub async fn claim(db: &impl ConnectionTrait, email_ids: &[i64]) -> Result<Vec<i64>, DbErr> {
    let backend = db.get_database_backend();
    let mut claimed = Vec::with_capacity(email_ids.len());
    for chunk in email_ids.chunks(KEYS) {
        let chunk = padded(chunk);
        let sql = format!(
            "DELETE FROM mime_pending WHERE email_id IN {} RETURNING email_id",
            list(chunk.len())
        );
        let values = chunk.into_iter().map(Value::from).collect();
        for row in db.query_all(statement(backend, &sql, values)).await? {
            claimed.push(row.try_get::<i64>("", "email_id")?);
        }
    }
    Ok(claimed)
}

/// Fill in stored emails from their MIME text (`filled`: email id and the message as parsed
/// from it; only its content fields are read). Each email's marker is claimed first, so a fill
/// repeated after a crash, or raced, writes once. Returns the emails filled.
pub async fn fill(
    db: &impl ConnectionTrait,
    owner: Owner,
    filled: &[(i64, NormalizedMessage)],
    store: &super::blobs::Store,
) -> Result<u64, DbErr> {
    let ids: Vec<i64> = filled.iter().map(|(id, _)| *id).collect();
    let claimed: std::collections::HashSet<i64> = claim(db, &ids).await?.into_iter().collect();
    let filled: Vec<&(i64, NormalizedMessage)> = filled
        .iter()
        .filter(|(id, _)| claimed.contains(id))
        .collect();
    if filled.is_empty() {
        return Ok(0);
    }
    let backend = db.get_database_backend();
    let now = super::now();
    update_emails(db, &filled, now).await?;
    update_bodies(db, &filled).await?;
    let mut people = Vec::new();
    let mut files = Vec::new();
    let mut documents = Vec::with_capacity(filled.len());
    for (id, m) in &filled {
        super::ingest::children(owner, *id, m, &mut people, &mut files);
        documents.push((*id, super::ingest::search_document(m)));
    }
    let ids: Vec<i64> = filled.iter().map(|(id, _)| *id).collect();
    // The participants as the MIME headers spell them replace those read from Graph's fields.
    delete_by_email(db, "email_participants", "email_id", &ids).await?;
    let search_key = match backend {
        DbBackend::Postgres => "email_id",
        _ => "rowid",
    };
    delete_by_email(db, "email_search", search_key, &ids).await?;
    for chunk in people.chunks(rows_per_insert(8)) {
        let insert = email_participants::Entity::insert_many(chunk.to_vec());
        db.execute(insert.build(backend)).await?;
    }
    for chunk in files.chunks(rows_per_insert(8)) {
        let insert = attachments::Entity::insert_many(chunk.to_vec()).on_conflict(
            OnConflict::columns([attachments::Column::EmailId, attachments::Column::PartKey])
                .do_nothing()
                .to_owned(),
        );
        db.execute(insert.build(backend)).await?;
    }
    super::search::index(db, owner.organization_id, &documents).await?;
    // The references, read again from the full text.
    delete_by_email(db, "email_references", "email_id", &ids).await?;
    let messages: Vec<(i64, &NormalizedMessage)> = filled.iter().map(|(id, m)| (*id, m)).collect();
    super::references::match_messages(db, owner.organization_id, &messages).await?;
    let kept: Vec<(i64, &NormalizedMessage)> = filled.iter().map(|(id, m)| (*id, m)).collect();
    super::blobs::keep(db, owner, store, &kept).await?;
    Ok(filled.len() as u64)
}

/// The emails' own columns the MIME text decides, set-based (`WITH v AS (VALUES ...) UPDATE`).
async fn update_emails(
    db: &impl ConnectionTrait,
    filled: &[&(i64, NormalizedMessage)],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    const COLUMNS: usize = 9;
    let backend = db.get_database_backend();
    for chunk in filled.chunks(rows_per_insert(COLUMNS)) {
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * COLUMNS);
        for (id, m) in chunk {
            let sender = m
                .participants
                .iter()
                .find(|p| p.role == ParticipantRole::From);
            values.extend([
                (*id).into(),
                m.subject.clone().into(),
                m.snippet.clone().into(),
                m.sent_at.into(),
                m.attachments.iter().any(|a| !a.inline).into(),
                m.is_bulk.into(),
                i64::try_from(m.size_bytes).unwrap_or(i64::MAX).into(),
                sender.map(|p| p.name.clone()).unwrap_or_default().into(),
                sender
                    .map(|p| p.address.as_str().to_string())
                    .unwrap_or_default()
                    .into(),
            ]);
        }
        let rows = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        let sql = format!(
            "WITH v (id, subject, snippet, sent_at, has_attachments, is_bulk, size_bytes, \
             sender_name, sender_address) AS (VALUES {rows}) \
             UPDATE emails SET subject = v.subject, snippet = v.snippet, sent_at = v.sent_at, \
             has_attachments = v.has_attachments, is_bulk = v.is_bulk, \
             size_bytes = v.size_bytes, sender_name = v.sender_name, \
             sender_address = v.sender_address, updated_at = ? FROM v WHERE emails.id = v.id"
        );
        values.push(now.into());
        db.execute(statement(backend, &sql, values)).await?;
    }
    Ok(())
}

/// The bodies, set-based, in statements of bounded text.
async fn update_bodies(
    db: &impl ConnectionTrait,
    filled: &[&(i64, NormalizedMessage)],
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let text = |(_, m): &&(i64, NormalizedMessage)| {
        m.body_text.as_ref().map_or(0, String::len) + m.body_html.as_ref().map_or(0, String::len)
    };
    for run in super::batch::runs(filled, rows_per_insert(4), text) {
        let mut values: Vec<Value> = Vec::with_capacity(run.len() * 4);
        for (id, m) in run {
            values.extend([
                (*id).into(),
                m.body_text.clone().into(),
                m.body_html.clone().into(),
                m.body_truncated.into(),
            ]);
        }
        let rows = vec!["(?, ?, ?, ?)"; run.len()].join(", ");
        let sql = format!(
            "WITH v (id, body_text, body_html, truncated) AS (VALUES {rows}) \
             UPDATE email_bodies SET body_text = v.body_text, body_html = v.body_html, \
             truncated = v.truncated FROM v WHERE email_bodies.email_id = v.id"
        );
        db.execute(statement(backend, &sql, values)).await?;
    }
    Ok(())
}

async fn delete_by_email(
    db: &impl ConnectionTrait,
    table: &str,
    column: &str,
    ids: &[i64],
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    for chunk in ids.chunks(KEYS) {
        let chunk = padded(chunk);
        let sql = format!(
            "DELETE FROM {table} WHERE {column} IN {}",
            list(chunk.len())
        );
        let values = chunk.into_iter().map(Value::from).collect();
        db.execute(statement(backend, &sql, values)).await?;
    }
    Ok(())
}
