//! Attachment content as files: `<data dir>/attachments/ab/cdef…`, named by the content's
//! SHA-256 (hex), directories 0700 and files 0600 (as the SQLite files, `db::files`), written
//! atomically (a temporary file in the same directory, synced, then renamed), so a reader
//! never sees half a file and a crash leaves at most a temporary file that
//! [`orphans`] finds later.
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Where attachment files live: `<data dir>/attachments`.
#[derive(Debug, Clone)]
pub struct BlobDir(Arc<PathBuf>);

const TMP_PREFIX: &str = ".tmp-";

impl BlobDir {
    pub fn under(data_dir: &Path) -> Self {
        Self(Arc::new(data_dir.join("attachments")))
    }

    pub fn root(&self) -> &Path {
        &self.0
    }

    /// The file of the content hashed `sha256` (lowercase hex, 64 characters); None for a
    /// name that is not one (never a path outside the directory).
    pub fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        let valid = sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| self.0.join(&sha256[..2]).join(&sha256[2..]))
    }

    /// Write `bytes` as the file of `sha256` unless it is there already.
    pub async fn write(&self, sha256: &str, bytes: Vec<u8>) -> io::Result<()> {
        let path = self.path_of(sha256).ok_or_else(bad_name)?;
        blocking(move || write_atomically(&path, &bytes)).await
    }

    /// The file's bytes; None when it is missing.
    pub async fn read(&self, sha256: &str) -> io::Result<Option<Vec<u8>>> {
        let path = self.path_of(sha256).ok_or_else(bad_name)?;
        blocking(move || match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        })
        .await
    }

    /// Remove the file of `sha256`; a missing file is fine.
    pub async fn remove(&self, sha256: &str) -> io::Result<()> {
        let path = self.path_of(sha256).ok_or_else(bad_name)?;
        blocking(move || remove_file(&path)).await
    }

    /// Files older than `age`: `(hash, path)` of content files and `(None, path)` of
    /// temporary files a crash left.
    pub async fn older_than(&self, age: Duration) -> io::Result<Vec<(Option<String>, PathBuf)>> {
        let root = self.0.clone();
        blocking(move || list_older(&root, age)).await
    }

    pub async fn remove_path(&self, path: PathBuf) -> io::Result<()> {
        blocking(move || remove_file(&path)).await
    }
}

fn bad_name() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "not a content hash")
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| io::Error::other(e.to_string()))?
}

fn remove_file(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if path.is_file() {
        return Ok(());
    }
    let dir = path.parent().ok_or_else(bad_name)?;
    super::files::create_private_dir(dir)?;
    let tmp = dir.join(format!(
        "{TMP_PREFIX}{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    let renamed = written.and_then(|()| std::fs::rename(&tmp, path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    renamed
}

fn list_older(root: &Path, age: Duration) -> io::Result<Vec<(Option<String>, PathBuf)>> {
    let mut out = Vec::new();
    let Ok(dirs) = std::fs::read_dir(root) else {
        return Ok(out);
    };
    let now = SystemTime::now();
    for dir in dirs.flatten() {
        let prefix = dir.file_name().to_string_lossy().into_owned();
        if prefix.len() != 2 || !dir.path().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(dir.path())?.flatten() {
            let modified = file.metadata().and_then(|m| m.modified());
            let old = modified.is_ok_and(|t| now.duration_since(t).unwrap_or_default() >= age);
            if !old {
                continue;
            }
            let name = file.file_name().to_string_lossy().into_owned();
            let hash = (!name.starts_with(TMP_PREFIX)).then(|| format!("{prefix}{name}"));
            out.push((hash, file.path()));
        }
    }
    Ok(out)
}
