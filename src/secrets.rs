//! The installation's secret keys: from `THREADLINE_SECRET_KEY`, else a key file in the data
//! directory, generated (mode 0600) on first run. The key ring's newest key encrypts and every
//! key decrypts (stored OAuth tokens; see the OAuth issue).
use std::fmt;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

pub const KEY_FILE: &str = "secret.key";

/// One 256-bit key with a short id (so stored envelopes name the key that sealed them).
#[derive(Clone)]
pub struct Key {
    pub id: String,
    pub bytes: [u8; 32],
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({}, [redacted])", self.id)
    }
}

#[derive(Clone, Debug)]
pub struct KeyRing {
    /// Oldest first; the last one encrypts.
    pub keys: Vec<Key>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("THREADLINE_SECRET_KEY / key file: {0}")]
    Invalid(String),
    /// `error` is in the message, so it is deliberately not a `source` (printed once).
    #[error("key file {path}: {error}")]
    Io { path: String, error: std::io::Error },
    /// Like OpenSSH with a private key: a key others can read is refused, not used.
    #[error(
        "key file {path} is accessible by others (mode {mode:04o}); it must be readable by its \
         owner only: run `chmod 600 {path}`"
    )]
    TooOpen { path: String, mode: u32 },
}

impl KeyRing {
    /// Parse `id1:base64,id2:base64` (or a single bare base64 key) of 32-byte keys.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let mut keys = Vec::new();
        for (n, item) in text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .enumerate()
        {
            let (id, b64) = item.split_once(':').unwrap_or(("", item));
            let raw = STANDARD
                .decode(b64)
                .map_err(|_| KeyError::Invalid(format!("key {} is not base64", n + 1)))?;
            let bytes: [u8; 32] = raw
                .try_into()
                .map_err(|_| KeyError::Invalid(format!("key {} is not 32 bytes", n + 1)))?;
            let id = if id.is_empty() {
                format!("k{}", n + 1)
            } else {
                id.to_string()
            };
            keys.push(Key { id, bytes });
        }
        if keys.is_empty() {
            return Err(KeyError::Invalid("no key given".into()));
        }
        Ok(Self { keys })
    }

    /// From the setting if given, else the data dir's key file, generated when absent.
    pub fn load_or_create(setting: Option<&str>, data_dir: &Path) -> Result<Self, KeyError> {
        if let Some(text) = setting {
            return Self::parse(text);
        }
        let path = data_dir.join(KEY_FILE);
        let io = |error| KeyError::Io {
            path: path.display().to_string(),
            error,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                check_private(&path)?;
                Self::parse(&text)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                crate::db::files::create_private_dir(data_dir).map_err(io)?;
                let bytes: [u8; 32] = rand::random();
                let line = format!("k1:{}\n", STANDARD.encode(bytes));
                write_private(&path, line.as_bytes()).map_err(io)?;
                tracing::info!(path = %path.display(), "generated a new secret key file");
                Self::parse(&line)
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Add a newly generated key to the data dir's key file (it becomes the encrypting key);
    /// older keys stay so existing ciphertexts still open.
    pub fn add_key_to_file(data_dir: &Path) -> Result<Self, KeyError> {
        let path = data_dir.join(KEY_FILE);
        let io = |error| KeyError::Io {
            path: path.display().to_string(),
            error,
        };
        let current = Self::load_or_create(None, data_dir)?;
        let next = (1..=current.keys.len() + 1)
            .map(|n| format!("k{n}"))
            .find(|id| current.get(id).is_none())
            .unwrap_or_default();
        let mut text = std::fs::read_to_string(&path).map_err(io)?;
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let bytes: [u8; 32] = rand::random();
        let _ = writeln!(text, "{next}:{}", STANDARD.encode(bytes));
        let tmp = data_dir.join(format!("{KEY_FILE}.new"));
        let _ = std::fs::remove_file(&tmp);
        write_private(&tmp, text.as_bytes()).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        Self::parse(&text)
    }

    /// The key that encrypts.
    pub fn current(&self) -> &Key {
        // `parse` never yields an empty ring.
        &self.keys[self.keys.len() - 1]
    }

    pub fn get(&self, id: &str) -> Option<&Key> {
        self.keys.iter().find(|k| k.id == id)
    }
}

/// Refuse a key file that its group or others may read or write (unix permissions).
fn check_private(path: &Path) -> Result<(), KeyError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|error| KeyError::Io {
                path: path.display().to_string(),
                error,
            })?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::TooOpen {
                path: path.display().to_string(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Create `path` readable by its owner only, failing if it already exists.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::KeyRing;

    #[test]
    fn generates_a_private_key_file_once() {
        let dir = std::env::temp_dir().join(format!("tl-keys-{}", uuid::Uuid::new_v4()));
        let first = KeyRing::load_or_create(None, &dir).unwrap();
        let again = KeyRing::load_or_create(None, &dir).unwrap();
        assert_eq!(first.current().bytes, again.current().bytes);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(super::KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("tl-keys-{}", uuid::Uuid::new_v4()));
        KeyRing::load_or_create(None, &dir).unwrap();
        let path = dir.join(super::KEY_FILE);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = KeyRing::load_or_create(None, &dir).unwrap_err().to_string();
        assert!(err.contains("mode 0644"), "{err}");
        assert!(
            err.contains(&format!("chmod 600 {}", path.display())),
            "{err}"
        );
        assert!(
            KeyRing::add_key_to_file(&dir).is_err(),
            "no key is added to it"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(KeyRing::load_or_create(None, &dir).is_ok(), "fixed as told");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn parses_rings_and_rejects_bad_keys() {
        use base64::Engine;
        let b64 = |b: u8| base64::engine::general_purpose::STANDARD.encode([b; 32]);
        let ring = KeyRing::parse(&format!("old:{},new:{}", b64(1), b64(2))).unwrap();
        assert_eq!(ring.current().id, "new");
        assert!(ring.get("old").is_some());
        assert!(KeyRing::parse("short").is_err());
        assert!(KeyRing::parse("").is_err());
    }
}
