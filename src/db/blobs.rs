//! Stored attachment content, addressed by the SHA-256 of the decoded bytes: one
//! `attachment_blobs` row per distinct content (its bytes in the row, or in a file named by
//! the hash, [`BlobDir`]), and one `attachment_contents` row per attachment that has it. A
//! file attached to many messages, in many mailboxes, is stored once.
//!
//! Removal is a sweep ([`sweep`]): deleting an email deletes its attachments and their
//! `attachment_contents` rows (cascade); the sweep then deletes every blob no row names, in
//! one statement whose foreign key refuses to delete a blob a concurrent transaction has just
//! named (the sweep then fails and the next one retries), and removes the files of the blobs
//! it deleted once that is committed. A crash between the two leaves files without rows, and a
//! crash while a file is written leaves a temporary file: [`collect_orphan_files`] (the daily
//! retention job) removes both once they are an hour old.
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
    Statement,
};
use sha2::{Digest, Sha256};

pub use super::blob_files::BlobDir;
use super::emails::Owner;
use super::entities::{attachment_blobs, attachment_contents, attachments};
use crate::domain::attachments::{too_large_detail, Storage};
use crate::domain::message::NormalizedMessage;

/// The ledger reason of a message over the attachment limit (stored without its attachments'
/// content).
pub const TOO_LARGE: &str = "too_large";

/// Files and temporary files without a row are removed once this old (a pass writes a file
/// before its transaction commits the row).
pub const ORPHAN_AGE: Duration = Duration::from_secs(3600);

/// Where a pass keeps attachment content.
#[derive(Debug, Clone)]
pub struct Store {
    pub storage: Storage,
    pub dir: BlobDir,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// For new emails of this transaction whose attachment rows are written: ledger those over
/// the limit (`too_large`, with their size), and store the content the others' attachments
/// carry (`Limits::keep_content`).
pub async fn keep(
    db: &impl ConnectionTrait,
    owner: Owner,
    store: &Store,
    emails: &[(i64, &NormalizedMessage)],
) -> Result<(), DbErr> {
    let over: Vec<(&str, String)> = emails
        .iter()
        .filter_map(|(_, m)| {
            let limit = m.over_limit?;
            Some((
                m.provider_message_id.as_str(),
                too_large_detail(m.size_bytes, limit),
            ))
        })
        .collect();
    if !over.is_empty() {
        let skips: Vec<(&str, &str, &str)> = over
            .iter()
            .map(|(pid, detail)| (*pid, TOO_LARGE, detail.as_str()))
            .collect();
        super::emails::record_skipped_many(db, owner, &skips).await?;
    }
    if store.storage == Storage::Off {
        return Ok(());
    }
    let mut wanted: HashMap<(i64, &str), String> = HashMap::new();
    let mut contents: HashMap<String, &[u8]> = HashMap::new();
    for (id, m) in emails {
        for a in &m.attachments {
            if let Some(bytes) = &a.content {
                let sha = sha256_hex(bytes);
                wanted.insert((*id, a.part_key.as_str()), sha.clone());
                contents.insert(sha, bytes);
            }
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let stored = put(db, store, &contents).await?;
    let ids: Vec<i64> = emails.iter().map(|(id, _)| *id).collect();
    let mut joins = Vec::new();
    for chunk in ids.chunks(500) {
        let rows = attachments::Entity::find()
            .filter(attachments::Column::OrganizationId.eq(owner.organization_id))
            .filter(attachments::Column::EmailId.is_in(chunk.to_vec()))
            .all(db)
            .await?;
        for row in rows {
            let Some(sha) = wanted.get(&(row.email_id, row.part_key.as_str())) else {
                continue;
            };
            if stored.contains(sha) {
                joins.push(attachment_contents::ActiveModel {
                    attachment_id: Set(row.id),
                    sha256: Set(sha.clone()),
                });
            }
        }
    }
    for chunk in joins.chunks(super::batch::rows_per_insert(2)) {
        attachment_contents::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::column(attachment_contents::Column::AttachmentId)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Store the `contents` not stored yet; the hashes that are stored afterwards (a file that
/// cannot be written is left to the provider, with a warning).
async fn put(
    db: &impl ConnectionTrait,
    store: &Store,
    contents: &HashMap<String, &[u8]>,
) -> Result<HashSet<String>, DbErr> {
    let hashes: Vec<String> = contents.keys().cloned().collect();
    let mut stored: HashSet<String> = HashSet::new();
    for chunk in hashes.chunks(500) {
        let found = attachment_blobs::Entity::find()
            .filter(attachment_blobs::Column::Sha256.is_in(chunk.to_vec()))
            .all(db)
            .await?;
        stored.extend(found.into_iter().map(|b| b.sha256));
    }
    let now = super::now();
    for (sha, bytes) in contents {
        if stored.contains(sha) {
            continue;
        }
        let in_row = match store.storage {
            Storage::Directory => {
                if let Err(e) = store.dir.write(sha, bytes.to_vec()).await {
                    tracing::warn!(error = %e, "cannot write an attachment file; it stays at the provider");
                    continue;
                }
                None
            }
            _ => Some(bytes.to_vec()),
        };
        let location = if in_row.is_some() {
            Storage::Database
        } else {
            Storage::Directory
        };
        let row = attachment_blobs::ActiveModel {
            sha256: Set(sha.clone()),
            size_bytes: Set(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
            location: Set(location.as_str().to_string()),
            content: Set(in_row),
            created_at: Set(now),
        };
        attachment_blobs::Entity::insert(row)
            .on_conflict(
                OnConflict::column(attachment_blobs::Column::Sha256)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        stored.insert(sha.clone());
    }
    Ok(stored)
}

/// The stored content of attachment `attachment_id`, if it has one that can be read and is
/// what its hash says (anything else is left to the provider, with a warning).
pub async fn content_of(
    db: &impl ConnectionTrait,
    dir: &BlobDir,
    attachment_id: i64,
) -> Result<Option<Vec<u8>>, DbErr> {
    let Some(join) = attachment_contents::Entity::find_by_id(attachment_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(blob) = attachment_blobs::Entity::find_by_id(join.sha256.clone())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let bytes = if blob.location == Storage::Directory.as_str() {
        match dir.read(&blob.sha256).await {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read an attachment file; asking the provider");
                None
            }
        }
    } else {
        blob.content
    };
    let Some(bytes) = bytes else {
        tracing::warn!(
            sha256 = blob.sha256,
            "stored attachment content is missing; asking the provider"
        );
        return Ok(None);
    };
    if sha256_hex(&bytes) != blob.sha256 {
        tracing::warn!(
            sha256 = blob.sha256,
            "stored attachment content does not match its hash; asking the provider"
        );
        return Ok(None);
    }
    Ok(Some(bytes))
}

/// Delete every blob no attachment names any more, then the files of those kept in files;
/// how many blobs went.
pub async fn sweep(db: &DatabaseConnection, dir: &BlobDir) -> Result<u64, DbErr> {
    let txn = super::begin_write(db).await?;
    let sql = "DELETE FROM attachment_blobs WHERE NOT EXISTS (SELECT 1 FROM attachment_contents c \
               WHERE c.sha256 = attachment_blobs.sha256) RETURNING sha256, location";
    let backend = txn.get_database_backend();
    let rows = txn
        .query_all(Statement::from_string(backend, sql.to_string()))
        .await?;
    txn.commit().await?;
    let mut files = Vec::new();
    for row in &rows {
        let location: String = row.try_get("", "location")?;
        if location == Storage::Directory.as_str() {
            files.push(row.try_get::<String>("", "sha256")?);
        }
    }
    for sha in files {
        // Stored again meanwhile: the file is that row's.
        if attachment_blobs::Entity::find_by_id(sha.clone())
            .one(db)
            .await?
            .is_some()
        {
            continue;
        }
        if let Err(e) = dir.remove(&sha).await {
            tracing::warn!(error = %e, "cannot remove an attachment file; it is collected later");
        }
    }
    Ok(rows.len() as u64)
}

/// [`sweep`] for callers that must not fail over it (the purge is committed already): a
/// failure is logged, and the next sweep deletes what this one did not.
pub async fn sweep_quietly(db: &DatabaseConnection, dir: &BlobDir) {
    if let Err(e) = sweep(db, dir).await {
        tracing::warn!(error = %e, "attachment content sweep failed; the next one retries");
    }
}

/// Remove files under `dir` older than [`ORPHAN_AGE`] that no row stores (a crash between a
/// sweep's commit and its removals, or during a write); how many went.
pub async fn collect_orphan_files(db: &impl ConnectionTrait, dir: &BlobDir) -> Result<u64, DbErr> {
    let files = dir
        .older_than(ORPHAN_AGE)
        .await
        .map_err(|e| DbErr::Custom(format!("cannot list attachment files: {e}")))?;
    let hashes: Vec<String> = files.iter().filter_map(|(h, _)| h.clone()).collect();
    let mut kept: HashSet<String> = HashSet::new();
    for chunk in hashes.chunks(500) {
        let rows = attachment_blobs::Entity::find()
            .filter(attachment_blobs::Column::Sha256.is_in(chunk.to_vec()))
            .filter(attachment_blobs::Column::Location.eq(Storage::Directory.as_str()))
            .all(db)
            .await?;
        kept.extend(rows.into_iter().map(|b| b.sha256));
    }
    let mut removed = 0;
    for (hash, path) in files {
        if hash.is_some_and(|h| kept.contains(&h)) {
            continue;
        }
        match dir.remove_path(path).await {
            Ok(()) => removed += 1,
            Err(e) => tracing::warn!(error = %e, "cannot remove an orphan attachment file"),
        }
    }
    Ok(removed)
}
