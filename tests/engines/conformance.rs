//! The JSON conformance corpus shipped in the `mail-threading` crate (a dev-dependency, so
//! cargo downloads it), read at run time from the cargo registry.
use std::collections::HashMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use threadline::domain::message::MessageId;
use threadline::domain::threading::{thread_with, Thread, ThreadInput, ThreadOptions};

/// Fixtures encoding behaviour Threadline rejects on purpose, with the reason.
const EXCEPTIONS: [(&str, &str); 1] = [(
    "duplicate-message-id-first-wins",
    "RFC 5256 gives a repeated Message-ID to the first message only; for Threadline the same \
     Message-ID is the same mail seen in several mailboxes, shown once (one node, both keys). \
     First-wins would also make the result depend on input order.",
)];

#[derive(Deserialize)]
struct Fixture {
    name: String,
    options: Option<Options>,
    input: Vec<FixtureMessage>,
    expected: Expected,
}

#[derive(Deserialize, Default)]
struct Options {
    subject_merge: Option<bool>,
    prune_phantoms: Option<bool>,
    subject_prefixes: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct FixtureMessage {
    id: String,
    message_id: Option<String>,
    in_reply_to: Option<String>,
    #[serde(default)]
    references: Vec<String>,
    subject: String,
    date: DateTime<Utc>,
}

#[derive(Deserialize)]
struct Expected {
    threads: Vec<Flat>,
}

#[derive(Deserialize, Debug, PartialEq, Eq)]
struct Flat {
    root: String,
    messages: Vec<String>,
}

/// `<cargo home>/registry/src/*/mail-threading-0.1.3/testdata/conformance`.
fn corpus_dir() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cargo"),
        PathBuf::from,
    );
    let src = home.join("registry").join("src");
    let entries = std::fs::read_dir(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    entries
        .filter_map(Result::ok)
        .map(|entry| {
            entry
                .path()
                .join("mail-threading-0.1.3/testdata/conformance")
        })
        .find(|dir| dir.is_dir())
        .expect("mail-threading 0.1.3 is a dev-dependency; run `cargo fetch`")
}

fn fixtures() -> Vec<Fixture> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("corpus readable")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("fixture readable");
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .collect()
}

fn input(message: &FixtureMessage) -> ThreadInput {
    ThreadInput {
        key: message.id.clone(),
        message_id: message.message_id.as_deref().and_then(MessageId::parse),
        in_reply_to: message.in_reply_to.as_deref().and_then(MessageId::parse),
        references: message
            .references
            .iter()
            .filter_map(|r| MessageId::parse(r))
            .collect(),
        subject: message.subject.clone(),
        date: message.date,
        mailbox: 0,
        provider_thread_id: None,
    }
}

/// Our trees in the corpus's flat shape: members by date then key; the root is the first
/// visible message, or with `prune_phantoms: false` the missing ancestor the key names.
fn flatten(thread: &Thread, dates: &HashMap<&str, DateTime<Utc>>, prune: bool) -> Flat {
    let mut messages: Vec<String> = thread.keys().into_iter().map(String::from).collect();
    messages.sort_by_key(|key| (dates.get(key.as_str()).copied(), key.clone()));
    let root_id = thread.root.message_id.as_ref().map(|id| format!("<{id}>"));
    let root = if !prune && root_id.as_deref() != Some(thread.thread_key.as_str()) {
        thread.thread_key.trim_matches(['<', '>']).to_string()
    } else if let Some(key) = thread.root.keys.first() {
        key.clone()
    } else {
        thread.thread_key.trim_matches(['<', '>']).to_string()
    };
    Flat { root, messages }
}

fn run(fixture: &Fixture) -> Vec<Flat> {
    let options = fixture
        .options
        .as_ref()
        .map_or_else(ThreadOptions::default, |o| {
            let defaults = ThreadOptions::default();
            ThreadOptions {
                subject_fallback: o.subject_merge.unwrap_or(defaults.subject_fallback),
                reply_prefixes: o
                    .subject_prefixes
                    .clone()
                    .unwrap_or(defaults.reply_prefixes),
            }
        });
    let prune = fixture
        .options
        .as_ref()
        .and_then(|o| o.prune_phantoms)
        .unwrap_or(true);
    let inputs: Vec<ThreadInput> = fixture.input.iter().map(input).collect();
    let dates: HashMap<&str, DateTime<Utc>> = fixture
        .input
        .iter()
        .map(|m| (m.id.as_str(), m.date))
        .collect();
    thread_with(&inputs, &options)
        .iter()
        .map(|thread| flatten(thread, &dates, prune))
        .collect()
}

#[test]
fn conformance_corpus_passes_except_the_listed_rejections() {
    let fixtures = fixtures();
    assert!(fixtures.len() >= 37, "corpus shrank: {}", fixtures.len());
    let mut failures = Vec::new();
    let mut excepted = Vec::new();
    for fixture in &fixtures {
        let got = run(fixture);
        let passed = got == fixture.expected.threads;
        match (
            passed,
            EXCEPTIONS.iter().any(|(name, _)| *name == fixture.name),
        ) {
            (true, false) => {}
            (false, true) => excepted.push(fixture.name.clone()),
            (true, true) => failures.push(format!("{}: excepted but now passes", fixture.name)),
            (false, false) => failures.push(format!(
                "{}:\n  expected {:?}\n  got      {got:?}",
                fixture.name, fixture.expected.threads
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        excepted.len(),
        EXCEPTIONS.len(),
        "exceptions missing from the corpus"
    );
}

/// The excepted fixture, checked for the behaviour we chose instead.
#[test]
fn duplicate_message_id_is_one_message_with_both_keys() {
    let fixture = fixtures()
        .into_iter()
        .find(|f| f.name == "duplicate-message-id-first-wins")
        .expect("fixture present");
    let got = run(&fixture);
    assert_eq!(
        got,
        [Flat {
            root: "first".into(),
            messages: vec!["second".into(), "child".into(), "first".into()],
        }]
    );
}
