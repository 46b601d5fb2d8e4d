//! The outbox: events written in the transaction of the change that causes them (so a rolled
//! back change never announces anything, and a committed one is never lost), only when some
//! enabled endpoint of the organization wants the type. Mail is announced only from mailboxes
//! at the `subject` or `full` visibility level and never from a private thread; payloads carry
//! ids, addresses, subjects and times, never bodies.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};
use serde_json::json;

use crate::db::batch::statement;
use crate::db::entities::{email_links, webhook_events};
use crate::domain::message::{NormalizedMessage, ParticipantRole};
use crate::domain::records::RecordKind;
use crate::domain::webhooks::{body, message_id, EventType};

/// Does an enabled endpoint of the organization subscribe to `kind`? (One indexed look-up.)
pub async fn wants(db: &impl ConnectionTrait, org_id: i64, kind: EventType) -> Result<bool, DbErr> {
    let row = db
        .query_one(statement(
            db.get_database_backend(),
            "SELECT 1 FROM webhook_endpoints WHERE organization_id = ? AND enabled = ? \
             AND events LIKE ? LIMIT 1",
            vec![org_id.into(), true.into(), kind.pattern().into()],
        ))
        .await?;
    Ok(row.is_some())
}

fn event(
    org_id: i64,
    kind: EventType,
    data: &serde_json::Value,
    endpoint: Option<i64>,
    now: DateTime<Utc>,
) -> (String, webhook_events::ActiveModel) {
    let msg_id = message_id(uuid::Uuid::new_v4());
    let row = webhook_events::ActiveModel {
        organization_id: Set(org_id),
        msg_id: Set(msg_id.clone()),
        event_type: Set(kind.as_str().to_string()),
        payload: Set(body(kind, now, data)),
        endpoint_id: Set(endpoint),
        dispatched: Set(false),
        created_at: Set(now),
        ..Default::default()
    };
    (msg_id, row)
}

/// Write events of one type (one statement per 100) when some endpoint wants the type.
pub async fn enqueue_many(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: EventType,
    data: Vec<serde_json::Value>,
) -> Result<u64, DbErr> {
    if data.is_empty() || !wants(db, org_id, kind).await? {
        return Ok(0);
    }
    insert(db, org_id, kind, &data).await
}

async fn insert(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: EventType,
    data: &[serde_json::Value],
) -> Result<u64, DbErr> {
    let now = crate::db::now();
    for chunk in data.chunks(100) {
        let rows = chunk.iter().map(|d| event(org_id, kind, d, None, now).1);
        webhook_events::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(data.len() as u64)
}

/// One event, when some endpoint wants it.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: EventType,
    data: serde_json::Value,
) -> Result<bool, DbErr> {
    Ok(enqueue_many(db, org_id, kind, vec![data]).await? > 0)
}

/// A `webhook.test` event for one endpoint; returns its message id.
pub async fn enqueue_test(
    db: &impl ConnectionTrait,
    org_id: i64,
    endpoint_id: i64,
    actor: i64,
) -> Result<String, DbErr> {
    let data = json!({ "endpoint_id": endpoint_id, "sent_by_user_id": actor });
    let (msg_id, row) = event(
        org_id,
        EventType::Test,
        &data,
        Some(endpoint_id),
        crate::db::now(),
    );
    webhook_events::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(msg_id)
}

/// Of `ids`, the emails a webhook may announce: in a mailbox at the `subject` or `full` level,
/// not in a thread someone marked private.
pub async fn shareable(
    db: &impl ConnectionTrait,
    org_id: i64,
    ids: &[i64],
) -> Result<HashSet<i64>, DbErr> {
    let mut out = HashSet::new();
    for chunk in ids.chunks(500) {
        let list = vec!["?"; chunk.len()].join(", ");
        let sql = format!(
            "SELECT e.id FROM emails e JOIN mail_accounts a ON a.id = e.account_id \
             WHERE e.organization_id = ? AND e.id IN ({list}) \
             AND a.visibility IN ('subject', 'full') AND NOT EXISTS (SELECT 1 FROM \
             private_threads t WHERE t.organization_id = e.organization_id \
             AND t.thread_key = e.thread_key)"
        );
        let mut values = vec![org_id.into()];
        values.extend(chunk.iter().map(|id| (*id).into()));
        for row in db
            .query_all(statement(db.get_database_backend(), &sql, values))
            .await?
        {
            out.insert(row.try_get_by_index::<i64>(0)?);
        }
    }
    Ok(out)
}

/// A new email as `email.received` announces it.
#[derive(Debug, Clone)]
pub struct Received {
    pub email_id: i64,
    pub account_id: i64,
    pub message_id: Option<String>,
    pub subject: String,
    pub from: Option<String>,
    pub received_at: DateTime<Utc>,
    pub business_ids: Vec<i64>,
    pub contact_ids: Vec<i64>,
}

/// The new emails as `email.received` announces them, with what they were associated with.
pub fn received(
    account_id: i64,
    fresh: &[(i64, &NormalizedMessage)],
    links: &[email_links::ActiveModel],
) -> Vec<Received> {
    let mut targets: HashMap<i64, (Vec<i64>, Vec<i64>)> = HashMap::new();
    for l in links {
        if l.tombstone.clone().take() == Some(true) {
            continue;
        }
        let (Some(email), Some(business), Some(contact)) = (
            l.email_id.clone().take(),
            l.business_id.clone().take(),
            l.contact_id.clone().take(),
        ) else {
            continue;
        };
        let entry = targets.entry(email).or_default();
        entry.0.extend(business);
        entry.1.extend(contact);
    }
    fresh
        .iter()
        .map(|(id, m)| {
            let (business_ids, contact_ids) = targets.remove(id).unwrap_or_default();
            Received {
                email_id: *id,
                account_id,
                message_id: m.message_id.as_ref().map(ToString::to_string),
                subject: m.subject.clone(),
                from: m
                    .participants
                    .iter()
                    .find(|p| p.role == ParticipantRole::From)
                    .map(|p| p.address.to_string()),
                received_at: m.received_at,
                business_ids,
                contact_ids,
            }
        })
        .collect()
}

/// `email.received` for a page of new mail, after association: the emails that got a link
/// (a business or a contact), shareable ones only. Three statements when some endpoint wants
/// the event (the check, the visibility filter, the insert), one when none does.
pub async fn email_received(
    db: &impl ConnectionTrait,
    org_id: i64,
    emails: Vec<Received>,
) -> Result<u64, DbErr> {
    let emails: Vec<Received> = emails
        .into_iter()
        .filter(|e| !(e.business_ids.is_empty() && e.contact_ids.is_empty()))
        .collect();
    if emails.is_empty() || !wants(db, org_id, EventType::EmailReceived).await? {
        return Ok(0);
    }
    let ids: Vec<i64> = emails.iter().map(|e| e.email_id).collect();
    let shown = shareable(db, org_id, &ids).await?;
    let data: Vec<serde_json::Value> = emails
        .into_iter()
        .filter(|e| shown.contains(&e.email_id))
        .map(|e| {
            json!({
                "email_id": e.email_id,
                "mailbox_id": e.account_id,
                "message_id": e.message_id,
                "subject": e.subject,
                "from": e.from,
                "received_at": e.received_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "business_ids": e.business_ids,
                "contact_ids": e.contact_ids,
            })
        })
        .collect();
    if data.is_empty() {
        return Ok(0);
    }
    insert(db, org_id, EventType::EmailReceived, &data).await
}

/// `email.linked` / `email.unlinked` for a manual change of links: the shareable emails it
/// covered and the target.
pub async fn link_changed(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: EventType,
    email_ids: &[i64],
    target: (Option<i64>, Option<i64>),
    actor: i64,
) -> Result<bool, DbErr> {
    if email_ids.is_empty() || !wants(db, org_id, kind).await? {
        return Ok(false);
    }
    let shown = shareable(db, org_id, email_ids).await?;
    let mut ids: Vec<i64> = email_ids
        .iter()
        .copied()
        .filter(|id| shown.contains(id))
        .collect();
    if ids.is_empty() {
        return Ok(false);
    }
    ids.sort_unstable();
    let data = json!({
        "email_ids": ids,
        "business_id": target.0,
        "contact_id": target.1,
        "by_user_id": actor,
    });
    insert(db, org_id, kind, &[data]).await?;
    Ok(true)
}

/// `business.created`, `business.updated` or `contact.created` for a record just written (in
/// the edit's or the import's transaction). A contact's update announces nothing.
pub async fn record_saved(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: RecordKind,
    created: bool,
    id: i64,
) -> Result<bool, DbErr> {
    let event = match (kind, created) {
        (RecordKind::Business, true) => EventType::BusinessCreated,
        (RecordKind::Business, false) => EventType::BusinessUpdated,
        (RecordKind::Contact, true) => EventType::ContactCreated,
        (RecordKind::Contact, false) => return Ok(false),
    };
    if !wants(db, org_id, event).await? {
        return Ok(false);
    }
    let Some(r) = crate::db::directory::records::get(db, org_id, kind, id).await? else {
        return Ok(false);
    };
    let data = match kind {
        RecordKind::Business => json!({
            "business_id": r.id,
            "name": r.name,
            "domains": r.identifiers,
        }),
        RecordKind::Contact => json!({
            "contact_id": r.id,
            "name": r.name,
            "addresses": r.identifiers,
            "business_id": r.business.map(|(id, _)| id),
        }),
    };
    insert(db, org_id, event, &[data]).await?;
    Ok(true)
}
