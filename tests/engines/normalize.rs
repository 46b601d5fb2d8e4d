//! Corpus tests for the MIME normalization layer: every message shipped as test data by the
//! `mail-parser` crate and by CPython's `email` package, found on this machine at run time.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use mail_parser::{MessageParser, MimeHeaders, PartType};
use proptest::prelude::*;
use threadline::providers::mime::{parse, Limits};

pub(crate) struct Corpus {
    pub(crate) name: &'static str,
    pub(crate) files: Vec<PathBuf>,
}

fn collect(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, keep, out);
        } else if keep(&path) {
            out.push(path);
        }
    }
}

fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// `.eml` files under `$CARGO_HOME/registry/src/*/mail-parser-0.11*/`.
fn mail_parser_corpus() -> Corpus {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let mut files = Vec::new();
    let registries = cargo_home
        .map(|h| h.join("registry/src"))
        .and_then(|d| std::fs::read_dir(d).ok());
    for registry in registries.into_iter().flatten().flatten() {
        for krate in std::fs::read_dir(registry.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if krate
                .file_name()
                .to_string_lossy()
                .starts_with("mail-parser-0.11")
            {
                collect(&krate.path(), &|p| has_extension(p, &["eml"]), &mut files);
            }
        }
    }
    files.sort();
    Corpus {
        name: "mail-parser 0.11 test data",
        files,
    }
}

/// `test/test_email/data/*.txt|*.eml` of the first `python3` on PATH.
fn cpython_corpus() -> Corpus {
    let script = "import os, test.test_email as t; print(os.path.dirname(t.__file__))";
    let dir = Command::new("python3")
        .args(["-c", script])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("data"));
    let mut files = Vec::new();
    if let Some(dir) = dir {
        collect(&dir, &|p| has_extension(p, &["txt", "eml"]), &mut files);
    }
    files.sort();
    Corpus {
        name: "CPython test_email data",
        files,
    }
}

pub(crate) fn corpora() -> &'static [(Corpus, Vec<Vec<u8>>)] {
    static CORPORA: OnceLock<Vec<(Corpus, Vec<Vec<u8>>)>> = OnceLock::new();
    CORPORA.get_or_init(|| {
        [mail_parser_corpus(), cpython_corpus()]
            .into_iter()
            .map(|corpus| {
                let raws = corpus
                    .files
                    .iter()
                    .filter_map(|f| std::fs::read(f).ok())
                    .collect();
                (corpus, raws)
            })
            .collect()
    })
}

/// Whether mail-parser itself sees a non-blank text/plain or text/html body part.
fn has_visible_body(raw: &[u8]) -> bool {
    let Some(message) = MessageParser::default().parse(raw) else {
        return false;
    };
    let is_body_text = |id: &u32| {
        message.part(*id).is_some_and(|part| {
            let plain = part.content_type().is_none_or(|ct| {
                ct.ctype().eq_ignore_ascii_case("text")
                    && ct.subtype().is_none_or(|s| s.eq_ignore_ascii_case("plain"))
            });
            let disposition_attachment = part
                .content_disposition()
                .is_some_and(mail_parser::ContentType::is_attachment);
            match &part.body {
                PartType::Html(text) => !disposition_attachment && !text.trim().is_empty(),
                PartType::Text(text) => plain && !disposition_attachment && !text.trim().is_empty(),
                _ => false,
            }
        })
    };
    message
        .text_body
        .iter()
        .chain(&message.html_body)
        .any(is_body_text)
}

#[test]
fn corpus_messages_parse_and_keep_their_bodies() {
    let mut parsed_total = 0;
    let mut missing = Vec::new();
    for (corpus, raws) in corpora() {
        if raws.is_empty() {
            println!("{}: not found on this machine, skipped", corpus.name);
            continue;
        }
        for (path, raw) in corpus.files.iter().zip(raws) {
            let parsed = parse(raw, &Limits::default());
            assert_eq!(parsed.size_bytes, raw.len() as u64);
            if has_visible_body(raw) && parsed.body_text.is_none() && parsed.body_html.is_none() {
                missing.push(path.display().to_string());
            }
            parsed_total += 1;
        }
        println!("{}: {} messages parsed", corpus.name, raws.len());
    }
    assert!(
        parsed_total >= 1,
        "no corpus found: the test would prove nothing"
    );
    assert!(
        missing.is_empty(),
        "bodies lost in {} messages: {missing:#?}",
        missing.len()
    );
}

#[test]
fn corpus_messages_survive_tight_limits() {
    let limits = Limits {
        max_body_bytes: 7,
        max_depth: 2,
        max_attachments: 1,
        ..Limits::default()
    };
    for (_, raws) in corpora() {
        for raw in raws {
            let parsed = parse(raw, &limits);
            for body in [&parsed.body_text, &parsed.body_html].into_iter().flatten() {
                assert!(body.len() <= limits.max_body_bytes);
            }
            assert!(parsed.attachments.len() <= 1);
        }
    }
}

fn all_raws() -> Vec<&'static [u8]> {
    corpora()
        .iter()
        .flat_map(|(_, raws)| raws.iter().map(Vec::as_slice))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Real messages with random splices, overwrites and truncations never panic the parser.
    #[test]
    fn mutated_corpus_messages_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), 0usize..32, prop::collection::vec(any::<u8>(), 0..16)),
            1..10,
        ),
        cut in any::<prop::sample::Index>(),
    ) {
        let raws = all_raws();
        prop_assume!(!raws.is_empty());
        let mut raw = raws[pick.index(raws.len())].to_vec();
        for (at, remove, insert) in &edits {
            let start = at.index(raw.len() + 1);
            let end = (start + remove).min(raw.len());
            raw.splice(start..end, insert.iter().copied());
        }
        raw.truncate(raw.len() - cut.index(raw.len() / 4 + 1));
        let parsed = parse(&raw, &Limits { max_body_bytes: 256, ..Limits::default() });
        prop_assert_eq!(parsed.size_bytes, raw.len() as u64);
    }
}
