//! Real corpora: the `.eml` test messages shipped in the `mail-parser` crate and `CPython`'s
//! `test/test_email/data` messages load without a panic, every Gmail view validates against
//! the discovery document, and the Gmail payload agrees with an independent parser (Python's
//! `email` package, run through `tests/fixtures/emulator/mime_tree.py`): same tree shape, same
//! mime types, same decoded body bytes. Both corpora are found at run time (the crate's
//! sources in the cargo registry; `CPython`'s via `python3 -c "import test"`);
//! `.ci/emulator/fetch_corpora.sh` fetches them from crates.io / `PyPI` on a machine that
//! lacks them (then point `THREADLINE_CORPORA` / `THREADLINE_CPYTHON_EMAIL_DATA` at them).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde_json::Value;
use threadline_emulator::store::MessageState;

use crate::google::schema::assert_valid;
use crate::google::support::{google_with, READONLY};

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"),
        PathBuf::from,
    )
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, keep: &dyn Fn(&Path) -> bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out, keep);
        } else if keep(&path) {
            out.push(path);
        }
    }
}

/// mail-parser's shipped .eml messages (`resources/eml/{rfc,thirdparty,legacy,malformed}`).
fn mail_parser_corpus() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let extra = std::env::var_os("THREADLINE_CORPORA").map(PathBuf::from);
    let mut roots: Vec<PathBuf> = extra.into_iter().collect();
    if let Ok(registries) = std::fs::read_dir(cargo_home().join("registry/src")) {
        for registry in registries.flatten() {
            if let Ok(crates) = std::fs::read_dir(registry.path()) {
                roots.extend(crates.flatten().map(|c| c.path()).filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("mail-parser-0.11"))
                }));
            }
        }
    }
    for root in roots {
        walk(&root.join("resources/eml"), &mut out, &|p| {
            p.extension().is_some_and(|e| e == "eml")
        });
    }
    out.sort();
    out.dedup_by(|a, b| {
        a.file_name() == b.file_name()
            && a.parent().and_then(Path::file_name) == b.parent().and_then(Path::file_name)
    });
    out
}

/// `CPython`'s `test/test_email/data/msg_*.txt`.
fn cpython_corpus() -> Vec<PathBuf> {
    if let Some(dir) = std::env::var_os("THREADLINE_CPYTHON_EMAIL_DATA") {
        let mut out = Vec::new();
        walk(Path::new(&dir), &mut out, &|p| {
            p.extension().is_some_and(|e| e == "txt")
        });
        out.sort();
        return out;
    }
    let output = Command::new("python3")
        .args([
            "-c",
            "import test, os; print(os.path.dirname(test.__file__))",
        ])
        .output();
    let Ok(output) = output else {
        return Vec::new();
    };
    let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()).join("test_email/data");
    let mut out = Vec::new();
    walk(&dir, &mut out, &|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("msg_") && n.to_ascii_lowercase().ends_with(".txt"))
    });
    out.sort();
    out
}

/// Messages where Python's `email` package is known to differ from Gmail, with the reason;
/// they are still loaded and validated, only the tree comparison is skipped.
const PYTHON_DIFFERS: &[(&str, &str)] = &[
    ("legacy/017.eml", "x-uuencode bodies: Python decodes them, MIME transfer decoding (RFC 2045) covers base64 and quoted-printable only"),
    ("legacy/026.eml", "x-uuencode body"),
    ("legacy/048.eml", "x-uuencode bodies"),
    ("thirdparty/003.eml", "`Content-Transfer-Encoding: quoted-printable` followed by spaces: compat32 does not trim the value and skips decoding"),
];

fn python_trees(files: &[PathBuf]) -> Vec<Value> {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/emulator/mime_tree.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let list: String = files.iter().fold(String::new(), |mut acc, f| {
        acc.push_str(&f.display().to_string());
        acc.push('\n');
        acc
    });
    let writer = std::thread::spawn(move || stdin.write_all(list.as_bytes()));
    let output = child.wait_with_output().expect("python output");
    writer.join().expect("writer").expect("write paths");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// `(type, body, children)` of a Gmail payload, fetching attachment bodies.
async fn gmail_tree(
    emu: &crate::google::support::Emu,
    token: &str,
    id: &str,
    part: &Value,
) -> Value {
    let mime = part["mimeType"].as_str().unwrap_or("").to_string();
    let body = if let Some(data) = part["body"]["data"].as_str() {
        base64::engine::general_purpose::URL_SAFE
            .decode(data)
            .expect("body base64url")
    } else if let Some(att) = part["body"]["attachmentId"].as_str() {
        let (status, b) = emu
            .get(
                token,
                &format!("/gmail/v1/users/me/messages/{id}/attachments/{att}"),
            )
            .await;
        assert_eq!(status, 200, "attachment of {id}");
        assert_valid("MessagePartBody", &b);
        base64::engine::general_purpose::URL_SAFE
            .decode(b["data"].as_str().unwrap_or(""))
            .expect("attachment base64url")
    } else {
        Vec::new()
    };
    let mut children = Vec::new();
    for child in part["parts"].as_array().cloned().unwrap_or_default() {
        children.push(Box::pin(gmail_tree(emu, token, id, &child)).await);
    }
    let body = if mime.starts_with("message/") || mime.starts_with("multipart/") {
        String::new()
    } else {
        base64::engine::general_purpose::STANDARD.encode(body)
    };
    serde_json::json!({"type": mime, "body": body, "parts": children})
}

/// Decoded bytes with line ends folded to LF: Python's parser and quoted-printable decoder
/// turn CRLF (and lone CR) into LF while Gmail keeps the message's own line ends, so line
/// endings are not compared.
fn normalised(body: &Value) -> Vec<u8> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body.as_str().unwrap_or(""))
        .unwrap_or_default();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' {
            out.push(b'\n');
            i += if bytes.get(i + 1) == Some(&b'\n') {
                2
            } else {
                1
            };
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn differences(path: &str, gmail: &Value, python: &Value, out: &mut Vec<String>) {
    if gmail["type"] != python["type"] {
        out.push(format!(
            "{path}: type {} vs python {}",
            gmail["type"], python["type"]
        ));
        return;
    }
    let (ours, theirs) = (normalised(&gmail["body"]), normalised(&python["body"]));
    if ours != theirs {
        let at = ours
            .iter()
            .zip(&theirs)
            .position(|(a, b)| a != b)
            .unwrap_or(ours.len().min(theirs.len()));
        let show = |b: &[u8]| format!("{:?}", &b[at.saturating_sub(8)..b.len().min(at + 12)]);
        out.push(format!(
            "{path}: body of {} differs: {} bytes {:?} vs python {} bytes {:?}",
            gmail["type"],
            ours.len(),
            show(&ours),
            theirs.len(),
            show(&theirs)
        ));
    }
    let (g, p) = (
        gmail["parts"].as_array().cloned().unwrap_or_default(),
        python["parts"].as_array().cloned().unwrap_or_default(),
    );
    if g.len() != p.len() {
        out.push(format!("{path}: {} parts vs python {}", g.len(), p.len()));
        return;
    }
    for (n, (a, b)) in g.iter().zip(&p).enumerate() {
        differences(&format!("{path}/{n}"), a, b, out);
    }
}

async fn check_corpus(name: &str, files: Vec<PathBuf>, minimum: usize) {
    assert!(files.len() >= minimum, "{name}: found only {} messages; run .ci/emulator/fetch_corpora.sh or set THREADLINE_CORPORA", files.len());
    let (emu, token) = google_with(&[READONLY]).await;
    let mailbox = emu.stored_mailbox("me@ourco.test");
    let pythons = python_trees(&files);
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for (file, python) in files.iter().zip(&pythons) {
        let raw = std::fs::read(file).expect("read corpus file");
        let id = mailbox
            .deliver(raw.into(), MessageState::default(), 1_700_000_000_000)
            .expect("deliver");
        let (status, full) = emu
            .get(&token, &format!("/gmail/v1/users/me/messages/{id}"))
            .await;
        assert_eq!(status, 200, "{}", file.display());
        assert_valid("Message", &full);
        for format in ["metadata", "minimal", "raw"] {
            let (status, m) = emu
                .get(
                    &token,
                    &format!("/gmail/v1/users/me/messages/{id}?format={format}"),
                )
                .await;
            assert_eq!(status, 200);
            assert_valid("Message", &m);
        }
        let path = file.display().to_string();
        if PYTHON_DIFFERS.iter().any(|(name, _)| path.ends_with(name)) {
            continue;
        }
        let malformed = file.components().any(|c| c.as_os_str() == "malformed")
            || python["defects"].as_u64().unwrap_or(1) > 0
            || python.get("error").is_some();
        if malformed {
            continue;
        }
        compared += 1;
        let ours = gmail_tree(&emu, &token, &id, &full["payload"]).await;
        differences(
            &file.display().to_string(),
            &ours,
            &python["tree"],
            &mut mismatches,
        );
    }
    eprintln!(
        "{name}: {} messages loaded, {compared} compared with Python's email package",
        files.len()
    );
    assert!(
        mismatches.is_empty(),
        "{name}: {} disagreements:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[tokio::test]
async fn mail_parser_eml_corpus_loads_and_agrees_with_pythons_mime_tree() {
    check_corpus("mail-parser", mail_parser_corpus(), 100).await;
}

#[tokio::test]
async fn cpython_email_corpus_loads_and_agrees_with_pythons_mime_tree() {
    check_corpus("cpython", cpython_corpus(), 30).await;
}
