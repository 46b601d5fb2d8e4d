//! The normalizer's text bodies against CPython's `email` package over both corpora (the
//! `mail-parser` crate's test messages and CPython's own): Python reads each message with
//! `policy=email.policy.default` and `get_body(preferencelist=('plain',))`
//! (`python_bodies.py`); both texts are compared with whitespace collapsed and NULs dropped
//! (the normalizer drops them: PostgreSQL text cannot hold them). Every message where they
//! still differ is listed with its reason in `python_differences.txt`: a new difference fails,
//! and so does a listed one that went away (the list stays true).
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use threadline::providers::mime::{parse, Limits};

use crate::normalize::corpora;

/// `mail-parser/<path in the crate>` or `cpython/<file>`.
fn key(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(at) = parts.iter().position(|p| p.starts_with("mail-parser-")) {
        return format!("mail-parser/{}", parts[at + 1..].join("/"));
    }
    format!("cpython/{}", parts.last().cloned().unwrap_or_default())
}

fn normalized(text: &str) -> String {
    text.replace('\0', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Python's text body per file path (`Err` when Python cannot read the message); None when
/// `python3` is not installed.
fn python_bodies(paths: &[String]) -> Option<BTreeMap<String, Result<Option<String>, String>>> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/engines/python_bodies.py"
    );
    let out = match Command::new("python3").arg(script).args(paths).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("python3 did not run: {e}"),
    };
    assert!(
        out.status.success(),
        "python_bodies.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut bodies = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let path = v["path"].as_str().expect("path").to_string();
        let body = match v.get("error").and_then(|e| e.as_str()) {
            Some(e) => Err(e.to_string()),
            None => Ok(v["text"].as_str().map(str::to_string)),
        };
        bodies.insert(path, body);
    }
    Some(bodies)
}

/// The committed list: `key  reason` per line (`#` comments).
fn explained() -> BTreeMap<String, String> {
    include_str!("python_differences.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (key, reason) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            assert!(
                !reason.trim().is_empty(),
                "{key}: a listed difference needs its reason"
            );
            (key.to_string(), reason.trim().to_string())
        })
        .collect()
}

/// Both texts from a little before where they part.
fn preview(ours: Option<&str>, theirs: Option<&str>) -> String {
    let (a, b) = (ours.unwrap_or_default(), theirs.unwrap_or_default());
    let same = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let from = same.saturating_sub(40);
    let cut = |t: &str| -> String { t.chars().skip(from).take(160).collect() };
    format!(
        "ours ({}) {:?}\n  python ({}) {:?}",
        if ours.is_some() { "text" } else { "none" },
        cut(a),
        if theirs.is_some() { "text" } else { "none" },
        cut(b)
    )
}

#[test]
fn text_bodies_match_python_email_or_are_explained() {
    let mut files = Vec::new();
    for (corpus, raws) in corpora() {
        for (path, raw) in corpus.files.iter().zip(raws) {
            files.push((path.display().to_string(), key(path), raw));
        }
    }
    if files.is_empty() {
        println!("no corpus found on this machine: nothing to compare");
        return;
    }
    let paths: Vec<String> = files.iter().map(|(p, _, _)| p.clone()).collect();
    let Some(python) = python_bodies(&paths) else {
        println!("SKIPPED: python3 is not installed, so there is no reference to compare with");
        return;
    };
    let mut differing = BTreeMap::new();
    for (path, key, raw) in &files {
        let ours = parse(raw, &Limits::default())
            .body_text
            .map(|t| normalized(&t))
            .filter(|t| !t.is_empty());
        let theirs = match python.get(path).expect("python read every file") {
            Ok(text) => text.as_deref().map(normalized).filter(|t| !t.is_empty()),
            Err(e) => Some(format!("<python error: {e}>")),
        };
        if ours != theirs {
            differing.insert(key.clone(), preview(ours.as_deref(), theirs.as_deref()));
        }
    }
    let listed = explained();
    let new: Vec<String> = differing
        .iter()
        .filter(|(k, _)| !listed.contains_key(*k))
        .map(|(k, d)| format!("{k}\n  {d}"))
        .collect();
    // A corpus missing on this machine proves nothing about its listed messages.
    let present: BTreeSet<&String> = files.iter().map(|(_, k, _)| k).collect();
    let gone: BTreeSet<&String> = listed
        .keys()
        .filter(|k| present.contains(k) && !differing.contains_key(*k))
        .collect();
    assert!(
        new.is_empty(),
        "{} text bodies differ from Python's and are not explained in \
         python_differences.txt:\n{}",
        new.len(),
        new.join("\n")
    );
    assert!(
        gone.is_empty(),
        "listed in python_differences.txt but now equal to Python's: {gone:?}"
    );
    println!(
        "{} messages compared with Python, {} explained differences",
        files.len(),
        differing.len()
    );
}
