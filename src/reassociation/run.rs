//! The re-association engine run: recompute the automatic links of a chunk of stored emails
//! against the directory and store the difference; or all of a scope at once.
use sea_orm::{ConnectionTrait, DbErr};

use super::{Counts, CHUNK};
use crate::db::directory;
use crate::db::links::{self, Scope};
use crate::domain::association::{associate, Directory};
use crate::domain::reassociation::{diff, EmailDiff};

/// Recompute the automatic links of `ids` against `dir`; with `write`, store the changes.
pub async fn chunk(
    db: &impl ConnectionTrait,
    org_id: i64,
    dir: &Directory,
    ids: &[i64],
    write: bool,
) -> Result<Counts, DbErr> {
    let mut counts = Counts::default();
    let mut diffs = Vec::new();
    for (id, d) in diffs_of(db, org_id, dir, ids).await? {
        counts.count(&d);
        if d.gains() || d.loses() || !d.reason.is_empty() {
            diffs.push((id, d));
        }
    }
    if write && !diffs.is_empty() {
        links::apply(db, org_id, &diffs).await?;
    }
    Ok(counts)
}

/// What re-association would change for each of `ids` against `dir` (nothing is written).
pub(super) async fn diffs_of(
    db: &impl ConnectionTrait,
    org_id: i64,
    dir: &Directory,
    ids: &[i64],
) -> Result<Vec<(i64, EmailDiff)>, DbErr> {
    let people = links::participants(db, org_id, ids).await?;
    let stored = links::stored(db, org_id, ids).await?;
    Ok(ids
        .iter()
        .map(|id| {
            let produced = associate(dir, people.get(id).into_iter().flatten());
            let d = diff(stored.get(id).map_or(&[][..], Vec::as_slice), &produced);
            (*id, d)
        })
        .collect())
}

/// Re-associate, at once and within `db` (a caller's transaction), every stored email `scope`
/// reaches (edits saved with [`super::save_in`], e.g. an import or a triage); returns their ids.
pub async fn reassociate_now(
    db: &impl ConnectionTrait,
    org_id: i64,
    scope: &Scope,
) -> Result<Vec<i64>, DbErr> {
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    let ids = links::affected(db, org_id, scope, 0).await?;
    let dir = directory::load(db, org_id).await?;
    for ids in ids.chunks(CHUNK) {
        chunk(db, org_id, &dir, ids, true).await?;
    }
    Ok(ids)
}
