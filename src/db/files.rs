//! The SQLite database's files on disk are the service user's alone: a directory Threadline
//! creates is mode 0700, and the database file is created (empty, before SQLite opens it) with
//! mode 0600; SQLite gives its `-wal` and `-shm` files the database file's mode. An existing
//! database file (and its `-wal` / `-shm`) is tightened to 0600 at start. A directory that
//! already exists is left as the operator made it.
use std::io;
use std::path::Path;

/// Create `dir` (and missing parents) with mode 0700; an existing directory is left alone.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Make the database at `path` private before SQLite opens it: its directory (when created
/// here), the file itself (created empty when missing and `create`: the URL's `mode=rwc`), and
/// any `-wal` / `-shm` left from an earlier run.
pub fn prepare_sqlite(path: &Path, create: bool) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    if !create {
        return tighten(path);
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => tighten(path),
        Err(e) => Err(e),
    }
}

/// 0600 on an existing database and its companions. A file this user may not change (another
/// owner's) is left as it is; SQLite then reports whatever it cannot open.
fn tighten(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut files = vec![path.to_path_buf()];
        for suffix in ["-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            files.push(name.into());
        }
        for file in files {
            let Ok(meta) = std::fs::metadata(&file) else {
                continue;
            };
            let wider_than_owner = meta.permissions().mode() & 0o077 != 0;
            if !meta.is_file() || !wider_than_owner {
                continue;
            }
            match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)) {
                Err(e) if e.kind() != io::ErrorKind::PermissionDenied => return Err(e),
                _ => {}
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
