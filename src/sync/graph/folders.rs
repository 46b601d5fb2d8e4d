//! Which Outlook folders a pass covers: the configured ones (well-known names, ids or display
//! names; Inbox and Sent Items by default) and, recursively, their child folders, never Deleted
//! Items or Junk Email. Each gets the label its messages are filed under in `emails.folders`:
//! the well-known name when it has one, else its (immutable) id. [`place`] says where a
//! message that left a synced folder is now: another synced folder, the bin (under Deleted
//! Items or Junk Email: deleted in the provider), or elsewhere (still live, filed under the
//! folder's well-known name, else its display name).
use std::collections::{HashMap, HashSet, VecDeque};

use futures_util::future::join_all;
use tokio::sync::OnceCell;

use super::super::session::Session;
use super::super::SyncError;
use crate::providers::graph::{Folder, NEVER_SYNCED, WELL_KNOWN};

/// More folders than any real mailbox has: a hostile folder tree cannot make a pass endless.
const MAX_FOLDERS: usize = 2000;

/// One synced folder.
#[derive(Debug, Clone)]
pub struct SyncedFolder {
    pub id: String,
    pub label: String,
    /// Its display name.
    pub name: String,
    /// `totalItemCount`: the progress estimate of a listing, and the count reconciliation
    /// compares with what Threadline holds.
    pub total: u64,
}

/// The folders of one pass, in sync order (the configured ones first, Inbox leading).
#[derive(Debug, Default)]
pub struct Synced {
    pub folders: Vec<SyncedFolder>,
    labels: HashMap<String, String>,
    /// Ids of Deleted Items and Junk Email.
    excluded: HashSet<String>,
    /// Their well-known names by id.
    bins: HashMap<String, String>,
    /// Well-known names by folder id, loaded when a message lands outside the synced folders.
    well_known: OnceCell<HashMap<String, String>>,
}

/// Where a message is now, by its `parentFolderId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A synced folder, with its label.
    Synced(String),
    /// Deleted Items or Junk Email (or a folder under them): deleted in the provider, filed
    /// under that well-known name.
    Bin(String),
    /// Any other folder: live, filed under its well-known name, else its display name.
    Elsewhere(String),
}

impl Synced {
    /// The label of a synced folder by id; None when the folder is not synced.
    pub fn label(&self, folder_id: &str) -> Option<&str> {
        self.labels.get(folder_id).map(String::as_str)
    }

    fn push(&mut self, folder: &Folder, label: String) -> bool {
        if self.labels.contains_key(&folder.id) {
            return false;
        }
        self.labels.insert(folder.id.clone(), label.clone());
        self.folders.push(SyncedFolder {
            id: folder.id.clone(),
            label,
            name: folder.display_name.clone(),
            total: folder.total,
        });
        true
    }
}

async fn get_folder(s: &Session, name: &str) -> Result<Option<Folder>, SyncError> {
    let graph = s.graph().clone();
    s.call(|t| {
        let (g, name) = (graph.clone(), name.to_string());
        async move { g.folder(&t, &name).await }
    })
    .await
}

async fn children(s: &Session, parent: Option<&str>) -> Result<Vec<Folder>, SyncError> {
    let graph = s.graph().clone();
    s.call(|t| {
        let (g, parent) = (graph.clone(), parent.map(str::to_string));
        async move { g.folders(&t, parent.as_deref()).await }
    })
    .await
}

/// Every folder of the mailbox (only loaded when a configured name needs a display-name match).
async fn tree(s: &Session) -> Result<Vec<Folder>, SyncError> {
    let mut out = children(s, None).await?;
    let mut seen: HashSet<String> = out.iter().map(|f| f.id.clone()).collect();
    let mut i = 0;
    while i < out.len() && out.len() < MAX_FOLDERS {
        if out[i].child_count > 0 {
            let id = out[i].id.clone();
            for child in children(s, Some(&id)).await? {
                if seen.insert(child.id.clone()) {
                    out.push(child);
                }
            }
        }
        i += 1;
    }
    Ok(out)
}

/// Resolve the pass's folders from `SyncOptions::labels` (filled with the defaults by the
/// engine when the mailbox names none).
pub async fn resolve(s: &Session) -> Result<Synced, SyncError> {
    let names = s.options().labels.clone().unwrap_or_default();
    // Ids of well-known folders, so a child found by recursion keeps its well-known label, and
    // of the never-synced ones, so recursion from a high folder cannot reach them.
    let mut well_known: HashMap<String, String> = HashMap::new();
    let mut excluded: HashSet<String> = HashSet::new();
    let mut bins: HashMap<String, String> = HashMap::new();
    // Every folder asked for by name is looked up at once (the limiter keeps it within
    // Graph's four requests in flight): a woken pass waits for one round trip, not six.
    let names: Vec<&str> = names
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty() && !NEVER_SYNCED.contains(&n.to_ascii_lowercase().as_str()))
        .collect();
    let (never, lookups) = tokio::join!(
        join_all(NEVER_SYNCED.iter().take(2).map(|name| get_folder(s, name))),
        join_all(names.iter().map(|name| async move {
            if name.contains('/') {
                Ok(None)
            } else {
                get_folder(s, name).await
            }
        }))
    );
    for (name, found) in NEVER_SYNCED.iter().take(2).zip(never) {
        if let Some(f) = found? {
            bins.insert(f.id.clone(), (*name).to_string());
            excluded.insert(f.id);
        }
    }
    let mut roots: Vec<(Folder, String)> = Vec::new();
    let mut all: Option<Vec<Folder>> = None;
    for (name, found) in names.into_iter().zip(lookups) {
        let lower = name.to_ascii_lowercase();
        let found = found?;
        let root = match found {
            Some(f) if WELL_KNOWN.contains(&lower.as_str()) => {
                well_known.insert(f.id.clone(), lower.clone());
                Some((f, lower))
            }
            Some(f) => {
                let id = f.id.clone();
                Some((f, id))
            }
            None => {
                if all.is_none() {
                    all = Some(tree(s).await?);
                }
                by_display_name(all.as_deref().unwrap_or_default(), name).map(|f| {
                    let id = f.id.clone();
                    (f, id)
                })
            }
        };
        match root {
            Some((f, _)) if excluded.contains(&f.id) => {}
            Some(root) => roots.push(root),
            None => tracing::warn!(folder = name, "no such Outlook folder; not synced"),
        }
    }
    let mut synced = Synced {
        excluded: excluded.clone(),
        bins,
        ..Synced::default()
    };
    let mut queue: VecDeque<Folder> = VecDeque::new();
    for (folder, label) in roots {
        if synced.push(&folder, label) {
            queue.push_back(folder);
        }
    }
    // Level by level, the children of a level's folders asked for at once.
    while !queue.is_empty() {
        let parents: Vec<Folder> = queue.drain(..).filter(|f| f.child_count > 0).collect();
        if synced.folders.len() >= MAX_FOLDERS {
            break;
        }
        let found = join_all(parents.iter().map(|f| children(s, Some(&f.id)))).await;
        for child in found
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
        {
            if excluded.contains(&child.id) {
                continue;
            }
            let label = well_known
                .get(&child.id)
                .cloned()
                .unwrap_or_else(|| child.id.clone());
            if synced.push(&child, label) {
                queue.push_back(child);
            }
        }
    }
    Ok(synced)
}

/// Whether a folder synced before is gone: unknown to Graph, or now under Deleted Items or
/// Junk Email (a deleted folder moves there with its messages). A folder that still exists
/// elsewhere was only dropped from the configuration.
pub async fn vanished(s: &Session, synced: &Synced, folder_id: &str) -> Result<bool, SyncError> {
    let mut at = folder_id.to_string();
    for _ in 0..64 {
        if synced.excluded.contains(&at) {
            return Ok(true);
        }
        let Some(folder) = get_folder(s, &at).await? else {
            return Ok(at == folder_id);
        };
        match folder.parent_id {
            Some(parent) if parent != at => at = parent,
            _ => return Ok(false),
        }
    }
    Ok(false)
}

/// Where a message in folder `folder_id` is, walking up its parents (a folder under Deleted
/// Items is in the bin). `cache` keeps the answers of one batch of lookups.
pub async fn place(
    s: &Session,
    synced: &Synced,
    folder_id: &str,
    cache: &mut HashMap<String, Place>,
) -> Result<Place, SyncError> {
    if let Some(p) = cache.get(folder_id) {
        return Ok(p.clone());
    }
    let found = locate_folder(s, synced, folder_id).await?;
    cache.insert(folder_id.to_string(), found.clone());
    Ok(found)
}

async fn locate_folder(s: &Session, synced: &Synced, folder_id: &str) -> Result<Place, SyncError> {
    if let Some(label) = synced.label(folder_id) {
        return Ok(Place::Synced(label.to_string()));
    }
    let mut name: Option<String> = None;
    let mut at = folder_id.to_string();
    for _ in 0..64 {
        if let Some(bin) = synced.bins.get(&at) {
            return Ok(Place::Bin(bin.clone()));
        }
        let Some(folder) = get_folder(s, &at).await? else {
            break;
        };
        name.get_or_insert(folder.display_name);
        match folder.parent_id {
            Some(parent) if parent != at => at = parent,
            _ => break,
        }
    }
    let well_known = synced
        .well_known
        .get_or_try_init(|| well_known_ids(s))
        .await?;
    let label = well_known
        .get(folder_id)
        .cloned()
        .or(name.filter(|n| !n.trim().is_empty()))
        .unwrap_or_else(|| folder_id.to_string());
    Ok(Place::Elsewhere(label))
}

/// Folder ids of the well-known folders a mailbox has (those not synced nor in the bin).
async fn well_known_ids(s: &Session) -> Result<HashMap<String, String>, SyncError> {
    let mut out = HashMap::new();
    for name in WELL_KNOWN.iter().filter(|n| !NEVER_SYNCED.contains(n)) {
        if let Some(f) = get_folder(s, name).await? {
            out.insert(f.id, (*name).to_string());
        }
    }
    Ok(out)
}

/// A folder by display name (case-insensitive), or by path of display names (`Inbox/Clients`).
fn by_display_name(all: &[Folder], name: &str) -> Option<Folder> {
    let by_id: HashMap<&str, &Folder> = all.iter().map(|f| (f.id.as_str(), f)).collect();
    let path = |f: &Folder| {
        let mut parts = vec![f.display_name.clone()];
        let mut at = f.parent_id.as_deref();
        while let Some(p) = at.and_then(|id| by_id.get(id)).filter(|_| parts.len() < 64) {
            parts.push(p.display_name.clone());
            at = p.parent_id.as_deref();
        }
        parts.reverse();
        parts.join("/")
    };
    let wanted = name.trim_matches('/');
    all.iter()
        .find(|f| f.display_name.eq_ignore_ascii_case(wanted))
        .or_else(|| all.iter().find(|f| path(f).eq_ignore_ascii_case(wanted)))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(id: &str, name: &str, parent: Option<&str>) -> Folder {
        Folder {
            id: id.into(),
            display_name: name.into(),
            parent_id: parent.map(str::to_string),
            child_count: 0,
            total: 0,
        }
    }

    #[test]
    fn display_names_and_paths_find_folders() {
        let all = vec![
            folder("i", "Inbox", Some("root")),
            folder("c", "Clients", Some("i")),
            folder("a", "Acme", Some("c")),
        ];
        assert_eq!(
            by_display_name(&all, "clients").map(|f| f.id),
            Some("c".into())
        );
        assert_eq!(
            by_display_name(&all, "Inbox/Clients/Acme").map(|f| f.id),
            Some("a".into())
        );
        assert!(by_display_name(&all, "Nope").is_none());
    }

    #[test]
    fn a_cyclic_tree_cannot_hang_path_building() {
        let all = vec![folder("x", "X", Some("y")), folder("y", "Y", Some("x"))];
        assert!(by_display_name(&all, "A/B").is_none());
    }
}
