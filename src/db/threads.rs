//! Thread keys at ingest: each new message joins the thread of a stored message it names
//! (References, In-Reply-To), of a stored copy of itself, or of stored replies whose thread is
//! named after it (they fell back to its id while it was missing); a message that bridges two
//! stored threads merges them, so order of arrival does not split threads (JWZ's header rules, applied
//! incrementally by [`crate::domain::threading::assign`]). Organization-wide, so colleagues'
//! copies of one conversation share one key whichever mailbox synced first.
use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Value};

use crate::domain::message::{MessageId, NormalizedMessage};
use crate::domain::threading::assign;
use crate::domain::threading::ThreadInput;

/// `<id>`, the form message keys are stored in.
fn key_of(id: &MessageId) -> String {
    format!("<{id}>")
}

/// Thread keys for `fresh` (new messages with their message keys), oldest first so a page
/// holding a parent and its reply threads them together; merges of stored threads a new
/// message bridges are applied to stored rows here.
pub async fn assign_keys(
    db: &impl ConnectionTrait,
    organization_id: i64,
    account_id: i64,
    fresh: &[(&NormalizedMessage, String)],
) -> Result<HashMap<String, String>, DbErr> {
    let mut wanted: Vec<String> = Vec::new();
    for (m, key) in fresh {
        wanted.push(key.clone());
        wanted.extend(m.references.iter().map(key_of));
        wanted.extend(m.in_reply_to.iter().map(key_of));
    }
    wanted.sort();
    wanted.dedup();
    let mut known: HashMap<String, String> = HashMap::new();
    // Per id: the thread of a stored message with that key, and a thread already named after
    // it (stored replies fell back to it while the message itself was missing).
    let select = "SELECT v.k AS k, \
         (SELECT e.thread_key FROM emails e WHERE e.organization_id = ? AND e.message_key = v.k \
          LIMIT 1) AS thread, \
         (SELECT e.thread_key FROM emails e WHERE e.organization_id = ? AND e.thread_key = v.k \
          LIMIT 1) AS named FROM v";
    let scope = [organization_id.into(), organization_id.into()];
    let mut named = Vec::new();
    for row in super::batch::per_key(db, &wanted, select, &scope).await? {
        if let Some(thread) = row.try_get::<Option<String>>("", "thread")? {
            known.insert(row.try_get("", "k")?, thread);
        }
        if let Some(key) = row.try_get::<Option<String>>("", "named")? {
            named.push(key);
        }
    }
    for key in named {
        known.entry(key.clone()).or_insert(key);
    }
    let mut order: Vec<&(&NormalizedMessage, String)> = fresh.iter().collect();
    order.sort_by_key(|(m, _)| m.sent_at.unwrap_or(m.received_at));
    let mut out = HashMap::new();
    // Stored thread -> the thread it merged into, applied to stored rows at the end.
    let mut merges: HashMap<String, String> = HashMap::new();
    for (m, key) in order {
        let input = ThreadInput {
            key: key.clone(),
            message_id: m.message_id.clone(),
            in_reply_to: m.in_reply_to.clone(),
            references: m.references.clone(),
            subject: m.subject.clone(),
            date: m.sent_at.unwrap_or(m.received_at),
            mailbox: account_id,
            provider_thread_id: Some(m.provider_thread_id.clone()),
        };
        let lookup = |id: &MessageId| known.get(&key_of(id)).cloned();
        let assignment = assign(&input, &lookup);
        for merged in &assignment.merges {
            for value in known
                .values_mut()
                .chain(out.values_mut())
                .chain(merges.values_mut())
            {
                if value == merged {
                    value.clone_from(&assignment.thread_key);
                }
            }
            merges.insert(merged.clone(), assignment.thread_key.clone());
        }
        known.insert(key.clone(), assignment.thread_key.clone());
        out.insert(m.provider_message_id.clone(), assignment.thread_key);
    }
    merges.retain(|from, to| from != to);
    merge_stored(db, organization_id, &merges).await?;
    Ok(out)
}

/// Move the stored rows of each thread in `merges` to the thread it merged into: one look-up of
/// their ids (an index probe per thread) and one UPDATE by primary key.
async fn merge_stored(
    db: &impl ConnectionTrait,
    organization_id: i64,
    merges: &HashMap<String, String>,
) -> Result<(), DbErr> {
    if merges.is_empty() {
        return Ok(());
    }
    let from: Vec<String> = merges.keys().cloned().collect();
    // A join per thread key; on PostgreSQL written LATERAL so each key is its own index scan.
    let select = match db.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT x.id FROM v, LATERAL (SELECT e.id FROM emails e \
             WHERE e.organization_id = ? AND e.thread_key = v.k) x"
        }
        _ => "SELECT e.id FROM v JOIN emails e ON e.organization_id = ? AND e.thread_key = v.k",
    };
    let ids = super::batch::per_key(db, &from, select, &[organization_id.into()])
        .await?
        .into_iter()
        .map(|row| row.try_get::<i64>("", "id"))
        .collect::<Result<Vec<i64>, DbErr>>()?;
    let mut case = String::from("thread_key = CASE thread_key");
    let mut values: Vec<Value> = Vec::with_capacity(merges.len() * 2);
    for (from, to) in merges {
        case.push_str(" WHEN ? THEN ?");
        values.push(from.clone().into());
        values.push(to.clone().into());
    }
    case.push_str(" ELSE thread_key END");
    super::batch::update_by_id(db, "emails", (&case, &values), &ids, ("", &[])).await?;
    Ok(())
}
