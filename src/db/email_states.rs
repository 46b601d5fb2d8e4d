//! Provider-side state of stored messages, set for a whole page at once: one look-up of the
//! current state (by primary key) and one UPDATE per distinct new state (a page's messages
//! share a handful of label sets), only for rows whose state actually changes.
use std::collections::{BTreeMap, HashMap};

use sea_orm::{ConnectionTrait, DbErr, Value};

use crate::domain::stored::Folders;

/// The new provider-side state of one stored message (by `emails.id`).
#[derive(Debug, Clone)]
pub struct StateChange {
    pub id: i64,
    pub folders: Folders,
    pub read: bool,
    pub starred: bool,
}

/// What [`set_states`] found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StatesSet {
    /// Changes naming a stored message.
    pub stored: u64,
    /// Of those, the ones whose folders, read or starred state differed.
    pub changed: u64,
}

/// Set each message's folders and read / starred state. With `live`, a message marked deleted
/// in the provider is live again (it was seen in a live folder); otherwise (bins) its deletion
/// stamp is left to [`super::emails::mark_deleted`].
pub async fn set_states(
    db: &impl ConnectionTrait,
    changes: &[StateChange],
    live: bool,
) -> Result<StatesSet, DbErr> {
    let mut out = StatesSet::default();
    if changes.is_empty() {
        return Ok(out);
    }
    let ids: Vec<i64> = changes.iter().map(|c| c.id).collect();
    let now = current(db, &ids).await?;
    // (folders, read, starred) -> ids to set to it.
    let mut groups: BTreeMap<(String, bool, bool), Vec<i64>> = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    let stamp = super::now();
    // Marks that changed in the provider: the mailbox owner's own marks follow them.
    let mut observed = Vec::new();
    for c in changes.iter().rev() {
        // The last change of a message wins.
        if !seen.insert(c.id) {
            continue;
        }
        let Some((folders, read, starred, deleted)) = now.get(&c.id) else {
            continue;
        };
        out.stored += 1;
        let differs = folders != &c.folders || *read != c.read || *starred != c.starred;
        if differs {
            out.changed += 1;
        }
        if *read != c.read || *starred != c.starred {
            observed.push(super::provider_marks::Observed {
                email_id: c.id,
                read: (*read != c.read).then_some(c.read),
                starred: (*starred != c.starred).then_some(c.starred),
                at: stamp,
            });
        }
        if differs || (live && *deleted) {
            let key = (c.folders.to_json(), c.read, c.starred);
            groups.entry(key).or_default().push(c.id);
        }
    }
    let first = groups.values().flatten().next().copied();
    for ((folders, read, starred), ids) in groups {
        let set = if live {
            "folders = ?, provider_read = ?, provider_starred = ?, updated_at = ?, \
             deleted_in_provider_at = NULL"
        } else {
            "folders = ?, provider_read = ?, provider_starred = ?, updated_at = ?"
        };
        let values = [
            Value::from(folders),
            read.into(),
            starred.into(),
            stamp.into(),
        ];
        super::batch::update_by_id(db, "emails", (set, &values), &ids, ("", &[])).await?;
    }
    super::provider_marks::follow(db, &observed).await?;
    if let Some(id) = first {
        // Open pages of the organization show the new marks.
        super::live::bump_for_email(db, id).await?;
    }
    Ok(out)
}

/// `id -> (folders, read, starred, deleted in the provider)` of the stored ones among `ids`.
async fn current(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, (Folders, bool, bool, bool)>, DbErr> {
    let backend = db.get_database_backend();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(super::batch::KEYS) {
        let chunk = super::batch::padded(chunk);
        let sql = format!(
            "SELECT id, folders, provider_read, provider_starred, \
             deleted_in_provider_at IS NOT NULL AS deleted FROM emails WHERE id IN {}",
            super::batch::list(chunk.len())
        );
        let values = chunk.into_iter().map(Value::from).collect();
        for row in db
            .query_all(super::batch::statement(backend, &sql, values))
            .await?
        {
            out.insert(
                row.try_get::<i64>("", "id")?,
                (
                    row.try_get::<Folders>("", "folders")?,
                    row.try_get::<bool>("", "provider_read")?,
                    row.try_get::<bool>("", "provider_starred")?,
                    row.try_get::<bool>("", "deleted")?,
                ),
            );
        }
    }
    Ok(out)
}

/// A stored message's state as the provider reports it, by provider id; `binned` when it sits
/// in the provider's bin (Trash / Deleted Items, Spam / Junk): deleted in the provider.
#[derive(Debug, Clone)]
pub struct ProviderState {
    pub id: String,
    pub folders: Folders,
    pub read: bool,
    pub starred: bool,
    pub binned: bool,
}

/// What [`apply_provider_states`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// Live messages that are stored, and of those the ones whose state changed.
    pub live: StatesSet,
    /// Binned messages newly marked deleted in the provider.
    pub deleted: u64,
}

/// Set the state of a page's stored messages: live ones are live again if they were marked
/// deleted; binned ones follow the provider's folder and are marked deleted (stamped once).
/// Messages not stored are left alone.
pub async fn apply_provider_states(
    db: &impl ConnectionTrait,
    account_id: i64,
    states: &[ProviderState],
) -> Result<Applied, DbErr> {
    let mut out = Applied::default();
    if states.is_empty() {
        return Ok(out);
    }
    let pids: Vec<String> = states.iter().map(|s| s.id.clone()).collect();
    let ids = super::emails::ids_by_provider_id(db, account_id, &pids).await?;
    let (mut live, mut binned, mut binned_pids) = (Vec::new(), Vec::new(), Vec::new());
    for s in states {
        let Some(&id) = ids.get(&s.id) else { continue };
        let change = StateChange {
            id,
            folders: s.folders.clone(),
            read: s.read,
            starred: s.starred,
        };
        if s.binned {
            binned.push(change);
            binned_pids.push(s.id.clone());
        } else {
            live.push(change);
        }
    }
    out.live = set_states(db, &live, true).await?;
    set_states(db, &binned, false).await?;
    out.deleted = super::emails::mark_deleted(db, account_id, &binned_pids).await?;
    Ok(out)
}
