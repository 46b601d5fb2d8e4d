//! Environment files: `threadline demo` writes `<data dir>/demo/demo.env` (mode 0600: it holds
//! the demo's client secrets) so that `threadline --demo stats` reaches the demo's database and
//! emulator; `THREADLINE_ENV_FILE=path` reads any such file. Lines are `KEY='value'`, as
//! dotenv and systemd's `EnvironmentFile=` read them.
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::cli::SettingsArgs;

/// The file `threadline demo` writes in its data directory.
pub const DEMO_FILE: &str = "demo.env";

/// Where the demo run with `data_dir` as THREADLINE_DATA_DIR keeps its environment file.
pub fn demo_path(data_dir: &Path) -> PathBuf {
    data_dir.join("demo").join(DEMO_FILE)
}

/// The file the command line asks for: `--demo`'s, else `--env-file` / THREADLINE_ENV_FILE.
pub fn chosen(settings: &SettingsArgs) -> anyhow::Result<Option<PathBuf>> {
    if settings.demo {
        let path = demo_path(&settings.data_dir);
        anyhow::ensure!(
            path.is_file(),
            "--demo: there is no {} (start `threadline demo` once in this directory, or with \
             the same THREADLINE_DATA_DIR)",
            path.display()
        );
        return Ok(Some(path));
    }
    Ok(settings
        .env_file
        .clone()
        .filter(|p| !p.as_os_str().is_empty()))
}

/// Set every variable of the file in this process's environment, over what is there.
pub fn load(path: &Path) -> anyhow::Result<()> {
    dotenvy::from_path_override(path)
        .with_context(|| format!("cannot read the environment file {}", path.display()))
}

/// Write `vars` to `path` as `KEY='value'` lines, readable by its owner only (created 0600,
/// never wider even for a moment).
pub fn write(path: &Path, header: &str, vars: &[(&str, String)]) -> anyhow::Result<()> {
    let mut text = String::new();
    for line in header.lines() {
        text.push_str("# ");
        text.push_str(line);
        text.push('\n');
    }
    for (key, value) in vars {
        let _ = writeln!(text, "{key}={}", quote(value));
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        options.mode(0o600);
        // An older file keeps its mode through `truncate`: tighten it first.
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// Single quotes take the value literally; a value holding one is double-quoted with escapes.
fn quote(value: &str) -> String {
    if !value.contains('\'') {
        return format!("'{value}'");
    }
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "\\$");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_values_read_back_exactly() {
        let dir = std::env::temp_dir().join(format!("tl-envfile-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.env");
        let values = [
            ("A", "sqlite:///tmp/a b/demo.db?mode=rwc".to_string()),
            ("B", "it's $HOME \"quoted\" \\ back".to_string()),
            ("C", String::new()),
        ];
        write(&path, "a header\nof two lines", &values).unwrap();
        let read: Vec<(String, String)> = dotenvy::from_path_iter(&path)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let expected: Vec<(String, String)> = values
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect();
        assert_eq!(read, expected);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
