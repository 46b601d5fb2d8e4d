//! `threadline backup --to PATH`: an online, consistent copy of a SQLite database, made with
//! SQLite's `VACUUM INTO` through an ordinary connection while Threadline keeps running (the
//! copy is one read transaction's snapshot: writers go on, and nothing they commit after it
//! began is in it). The copy is written to a private temporary file beside the target (mode
//! 0600 from its creation) and moved into place only once complete, so a failed or interrupted
//! backup never leaves a partial file under the target's name. PostgreSQL is backed up with
//! its own tools (`pg_dump`), which this refuses with the commands to use.
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

use crate::config::Settings;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "threadline backup copies SQLite databases; back up PostgreSQL with pg_dump: \
         `pg_dump --format=custom --file=threadline.dump \"$DATABASE_URL\"` (restore into an \
         empty database with `pg_restore --no-owner --dbname=\"$DATABASE_URL\" threadline.dump`; \
         see the README, \"Backups and upgrades\")"
    )]
    Postgres,
    #[error("{0} is not a SQLite database file")]
    NotAFile(String),
    #[error("no database at {0}: nothing to back up")]
    NoDatabase(PathBuf),
    #[error("{0} exists; give --force to overwrite it")]
    Exists(PathBuf),
    #[error("{0} is a directory: give the backup file's name (e.g. {0}/threadline.db)")]
    Directory(PathBuf),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct Backup {
    pub path: PathBuf,
    pub bytes: u64,
}

/// `threadline backup`: copy the configured SQLite database to `to` (refusing an existing file
/// unless `force`), and say what was written and that the key is not in it.
pub async fn run(settings: &Settings, to: &Path, force: bool) -> Result<(), BackupError> {
    let url = &settings.database_url;
    if url.starts_with("postgres") {
        return Err(BackupError::Postgres);
    }
    let file = crate::db::sqlite_path(url).ok_or_else(|| BackupError::NotAFile(url.clone()))?;
    let file = PathBuf::from(file);
    if !file.is_file() {
        return Err(BackupError::NoDatabase(file));
    }
    // No migration: a backup is what one takes before upgrading.
    let db = crate::db::connect(url).await?;
    let backup = sqlite(&db, to, force).await;
    db.close().await.ok();
    let backup = backup?;
    println!(
        "wrote {} ({} bytes, mode 0600): a consistent copy of {}",
        backup.path.display(),
        backup.bytes,
        file.display()
    );
    let key = match &settings.secret_key {
        Some(_) => "the THREADLINE_SECRET_KEY value".to_string(),
        None => settings
            .data_dir
            .join(crate::secrets::KEY_FILE)
            .display()
            .to_string(),
    };
    println!(
        "not in it: the key that encrypts its stored OAuth tokens ({key}); keep a copy of the \
         key apart from this backup: Threadline refuses to start on the restored copy without it"
    );
    Ok(())
}

/// Copy the SQLite database behind `db` to `to` with `VACUUM INTO` (a consistent snapshot,
/// made while others write). Refuses an existing `to` unless `force`.
pub async fn sqlite(
    db: &DatabaseConnection,
    to: &Path,
    force: bool,
) -> Result<Backup, BackupError> {
    if to.is_dir() {
        return Err(BackupError::Directory(to.to_path_buf()));
    }
    if !force && to.exists() {
        return Err(BackupError::Exists(to.to_path_buf()));
    }
    let name = to.file_name().map_or_else(
        || "threadline-backup".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let partial = to.with_file_name(format!(".{name}.{}.partial", uuid::Uuid::new_v4().simple()));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BackupError::Io { path, source }
    };
    create_private(&partial).map_err(io(&partial))?;
    let copied = vacuum_into(db, &partial).await;
    let placed = copied.and_then(|()| {
        std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(io(&partial))?;
        place(&partial, to, force)
    });
    if placed.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    placed?;
    let bytes = std::fs::metadata(to).map_err(io(to))?.len();
    Ok(Backup {
        path: to.to_path_buf(),
        bytes,
    })
}

/// An empty file only its owner may read (SQLite's `VACUUM INTO` accepts an empty file, and
/// keeps its mode).
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}

async fn vacuum_into(db: &DatabaseConnection, path: &Path) -> Result<(), BackupError> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Err(BackupError::Postgres);
    }
    let target = path.to_string_lossy().into_owned();
    db.execute(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "VACUUM INTO ?",
        [target.into()],
    ))
    .await?;
    Ok(())
}

/// Move the finished copy to `to`: over an existing file only with `force`; without it, a
/// file that appeared meanwhile is not replaced (a hard link fails on an existing name).
fn place(partial: &Path, to: &Path, force: bool) -> Result<(), BackupError> {
    let io = |source| BackupError::Io {
        path: to.to_path_buf(),
        source,
    };
    if force {
        return std::fs::rename(partial, to).map_err(io);
    }
    match std::fs::hard_link(partial, to) {
        Ok(()) => std::fs::remove_file(partial).map_err(io),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(BackupError::Exists(to.into())),
        Err(e) => Err(io(e)),
    }
}
