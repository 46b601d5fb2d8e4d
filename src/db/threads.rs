//! Thread keys at ingest: each new message joins the thread of a stored message it names
//! (References, In-Reply-To), of a stored copy of itself, or of stored replies whose thread is
//! named after it (they fell back to its id while it was missing); a message that bridges two
//! stored threads merges them, so order of arrival does not split threads (JWZ's header rules, applied
//! incrementally by [`crate::domain::threading::assign`]). Organization-wide, so colleagues'
//! copies of one conversation share one key whichever mailbox synced first.
use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use super::entities::emails;
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
    for chunk in wanted.chunks(500) {
        let rows: Vec<(String, String)> = emails::Entity::find()
            .select_only()
            .column(emails::Column::MessageKey)
            .column(emails::Column::ThreadKey)
            .filter(emails::Column::OrganizationId.eq(organization_id))
            .filter(emails::Column::MessageKey.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        known.extend(rows);
        // A thread already named after one of these ids: stored replies fell back to it
        // while the message itself was missing.
        let named: Vec<String> = emails::Entity::find()
            .select_only()
            .column(emails::Column::ThreadKey)
            .distinct()
            .filter(emails::Column::OrganizationId.eq(organization_id))
            .filter(emails::Column::ThreadKey.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        for key in named {
            known.entry(key.clone()).or_insert(key);
        }
    }
    let mut order: Vec<&(&NormalizedMessage, String)> = fresh.iter().collect();
    order.sort_by_key(|(m, _)| m.sent_at.unwrap_or(m.received_at));
    let mut out = HashMap::new();
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
            emails::Entity::update_many()
                .col_expr(
                    emails::Column::ThreadKey,
                    Expr::value(assignment.thread_key.clone()),
                )
                .filter(emails::Column::OrganizationId.eq(organization_id))
                .filter(emails::Column::ThreadKey.eq(merged.as_str()))
                .exec(db)
                .await?;
            for value in known.values_mut().chain(out.values_mut()) {
                if value == merged {
                    value.clone_from(&assignment.thread_key);
                }
            }
        }
        known.insert(key.clone(), assignment.thread_key.clone());
        out.insert(m.provider_message_id.clone(), assignment.thread_key);
    }
    Ok(out)
}
