//! The mailbox owner's marks follow the provider: a read or starred state that sync observes
//! on a copy in someone's own mailbox becomes that person's Threadline mark on the message,
//! unless they changed the mark later ("last change wins, by time"). A colleague's marks are
//! never touched. Marks live in `user_email_states` with the time each last changed (set or
//! cleared, in Threadline or by the provider), so the timelines read one mark per reader and
//! message whichever page shows it.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, Value};

/// A provider-side state of one stored copy (`emails.id`), as sync observed it at `at`: `None`
/// leaves that mark alone.
#[derive(Debug, Clone, Copy)]
pub struct Observed {
    pub email_id: i64,
    pub read: Option<bool>,
    pub starred: Option<bool>,
    /// When the state changed as far as Threadline knows: when sync saw it change, or, for a
    /// message stored for the first time, when it arrived (its state cannot be older), so a
    /// mark the owner set in Threadline since then stays.
    pub at: DateTime<Utc>,
}

/// The states of newly stored copies `(email id, read, starred, received at)`: a mark the
/// provider sets counts as changed when the message arrived, so the owner's marks start as the
/// provider's unless they set them in Threadline since (on a colleague's copy).
pub fn on_arrival(
    copies: impl IntoIterator<Item = (i64, bool, bool, DateTime<Utc>)>,
) -> Vec<Observed> {
    copies
        .into_iter()
        .filter(|(_, read, starred, _)| *read || *starred)
        .map(|(email_id, read, starred, at)| Observed {
            email_id,
            read: read.then_some(true),
            starred: starred.then_some(true),
            at,
        })
        .collect()
}

/// [`follow`] for one copy named by its mailbox and provider id, observed now: `read` and
/// `starred` are the marks that changed (None: unchanged).
pub async fn follow_one(
    db: &impl ConnectionTrait,
    account_id: i64,
    provider_message_id: &str,
    read: Option<bool>,
    starred: Option<bool>,
) -> Result<(), DbErr> {
    if read.is_none() && starred.is_none() {
        return Ok(());
    }
    let ids = super::emails::ids_by_provider_id(db, account_id, &[provider_message_id.to_string()])
        .await?;
    let observed: Vec<Observed> = ids
        .into_values()
        .map(|email_id| Observed {
            email_id,
            read,
            starred,
            at: super::now(),
        })
        .collect();
    follow(db, &observed).await
}

/// The new mark of one owner on one message.
#[derive(Debug, Clone)]
struct Follow {
    organization_id: i64,
    read: Option<(bool, DateTime<Utc>)>,
    starred: Option<(bool, DateTime<Utc>)>,
}

/// A later observation of the same mark wins.
fn merge(into: &mut Option<(bool, DateTime<Utc>)>, new: Option<(bool, DateTime<Utc>)>) {
    if let Some((v, at)) = new {
        if into.is_none_or(|(_, old)| old <= at) {
            *into = Some((v, at));
        }
    }
}

/// Make the owners' marks follow `observed`: each copy's mailbox owner (or the person an
/// organization mailbox belongs to by address) gets the observed state as their mark on the
/// message, where their mark did not change after `at`. Two statements per few thousand.
pub async fn follow(db: &impl ConnectionTrait, observed: &[Observed]) -> Result<(), DbErr> {
    let observed: Vec<&Observed> = observed
        .iter()
        .filter(|o| o.read.is_some() || o.starred.is_some())
        .collect();
    if observed.is_empty() {
        return Ok(());
    }
    let by_id: HashMap<i64, &Observed> = observed.iter().map(|o| (o.email_id, *o)).collect();
    let ids: Vec<i64> = by_id.keys().copied().collect();
    let backend = db.get_database_backend();
    // (user, message key) -> the marks to set.
    let mut follows: HashMap<(i64, String), Follow> = HashMap::new();
    for chunk in ids.chunks(super::batch::KEYS) {
        let chunk = super::batch::padded(chunk);
        let sql = format!(
            "SELECT e.id, e.organization_id, e.message_key, u.id FROM emails e \
             JOIN mail_accounts a ON a.id = e.account_id \
             JOIN users u ON u.organization_id = a.organization_id \
             AND (u.id = a.owner_user_id OR (a.owner_user_id IS NULL \
             AND a.connection_id IS NOT NULL AND LOWER(u.email) = LOWER(a.address))) \
             WHERE e.id IN {}",
            super::batch::list(chunk.len())
        );
        let values = chunk.into_iter().map(Value::from).collect();
        for row in db
            .query_all(super::batch::statement(backend, &sql, values))
            .await?
        {
            let email_id: i64 = row.try_get_by_index(0)?;
            let Some(o) = by_id.get(&email_id) else {
                continue;
            };
            let organization_id: i64 = row.try_get_by_index(1)?;
            let key: String = row.try_get_by_index(2)?;
            let user: i64 = row.try_get_by_index(3)?;
            let f = follows.entry((user, key)).or_insert(Follow {
                organization_id,
                read: None,
                starred: None,
            });
            merge(&mut f.read, o.read.map(|v| (v, o.at)));
            merge(&mut f.starred, o.starred.map(|v| (v, o.at)));
        }
    }
    let rows: Vec<((i64, String), Follow)> = follows.into_iter().collect();
    for chunk in rows.chunks(super::batch::rows_per_insert(7)) {
        upsert(db, chunk).await?;
    }
    Ok(())
}

/// Each mark is replaced where the stored one changed before the new one (or never).
const NEWER_READ: &str = "excluded.read_changed_at IS NOT NULL AND \
     (user_email_states.read_changed_at IS NULL \
     OR user_email_states.read_changed_at < excluded.read_changed_at)";
const NEWER_STARRED: &str = "excluded.starred_changed_at IS NOT NULL AND \
     (user_email_states.starred_changed_at IS NULL \
     OR user_email_states.starred_changed_at < excluded.starred_changed_at)";

async fn upsert(db: &impl ConnectionTrait, rows: &[((i64, String), Follow)]) -> Result<(), DbErr> {
    let mut values: Vec<Value> = Vec::with_capacity(rows.len() * 7);
    let mut tuples = Vec::with_capacity(rows.len());
    for ((user, key), f) in rows {
        // A mark's time when set (read_at / starred_at), and when it changed.
        let mark = |m: Option<(bool, DateTime<Utc>)>| -> [Value; 2] {
            let set = m.and_then(|(on, at)| on.then_some(at));
            [set.into(), m.map(|(_, at)| at).into()]
        };
        values.extend([f.organization_id.into(), (*user).into(), key.clone().into()]);
        values.extend(mark(f.read));
        values.extend(mark(f.starred));
        tuples.push("(?, ?, ?, ?, ?, ?, ?)");
    }
    let sql = format!(
        "INSERT INTO user_email_states (organization_id, user_id, message_key, read_at, \
         read_changed_at, starred_at, starred_changed_at) VALUES {} \
         ON CONFLICT (user_id, message_key) DO UPDATE SET \
         read_at = CASE WHEN {NEWER_READ} THEN excluded.read_at \
         ELSE user_email_states.read_at END, \
         read_changed_at = CASE WHEN {NEWER_READ} THEN excluded.read_changed_at \
         ELSE user_email_states.read_changed_at END, \
         starred_at = CASE WHEN {NEWER_STARRED} THEN excluded.starred_at \
         ELSE user_email_states.starred_at END, \
         starred_changed_at = CASE WHEN {NEWER_STARRED} THEN excluded.starred_changed_at \
         ELSE user_email_states.starred_changed_at END",
        tuples.join(", ")
    );
    db.execute(super::batch::statement(
        db.get_database_backend(),
        &sql,
        values,
    ))
    .await?;
    Ok(())
}
