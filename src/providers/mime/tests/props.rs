//! Property tests: no input makes the parser panic, caps hold, ids are clean.
use proptest::prelude::*;

use super::bodies::NESTED;
use crate::domain::message::MessageId;
use crate::providers::mime::{parse, truncate_at_char_boundary, Limits};

const SEEDS: [&str; 3] = [
    NESTED,
    "From: \"A\" <a@x.com>\nTo: g: b@x.com;\nDate: Tue, 1 Jul 2003 10:52:37 +0200\n\
     Message-ID: <m@x>\nReferences: <r@x> <s@x>\nSubject: =?utf-8?q?caf=C3=A9?=\n\
     Content-Type: multipart/alternative; boundary=a\n\n--a\n\
     Content-Type: text/plain; charset=iso-2022-jp\n\n\x1b$B%O\x1b(B\n--a\n\
     Content-Type: text/html; charset=windows-1252\nContent-Transfer-Encoding: quoted-printable\n\n\
     <p>=80 caf=E9</p>\n--a--\n",
    "Subject: fwd\nContent-Type: multipart/digest; boundary=d\n\n--d\n\n\
     Subject: one\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\naGk=\n--d\n\
     Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n\
     U3ViamVjdDogbmVzdGVkCgpib2R5Cg==\n--d--\n",
];

/// Byte-level damage: overwrite, insert, delete, truncate.
#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop::sample::select(vec![
        b"\n".to_vec(),
        b"\r\n".to_vec(),
        b"--".to_vec(),
        b"--a".to_vec(),
        b"--b--\n".to_vec(),
        b"Content-Type: multipart/mixed; boundary=a\n\n".to_vec(),
        b"Content-Transfer-Encoding: base64\n".to_vec(),
        b"=?utf-8?b?".to_vec(),
        b"<".to_vec(),
        b"\xff\xfe\x00".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Set(at, b)),
        (
            any::<usize>(),
            prop_oneof![interesting, prop::collection::vec(any::<u8>(), 0..8)]
        )
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (any::<usize>(), 0usize..64).prop_map(|(at, n)| Mutation::Remove(at, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(raw: &mut Vec<u8>, mutation: &Mutation) {
    let len = raw.len().max(1);
    match mutation {
        Mutation::Set(at, byte) => {
            if let Some(slot) = raw.get_mut(at % len) {
                *slot = *byte;
            }
        }
        Mutation::Insert(at, bytes) => {
            let at = at % (raw.len() + 1);
            raw.splice(at..at, bytes.iter().copied());
        }
        Mutation::Remove(at, n) => {
            let start = at % len;
            let end = (start + n).min(raw.len());
            if start < end {
                raw.drain(start..end);
            }
        }
        Mutation::Truncate(at) => raw.truncate(at % len),
    }
}

fn check_invariants(raw: &[u8], limits: &Limits) {
    let parsed = parse(raw, limits);
    for body in [&parsed.body_text, &parsed.body_html].into_iter().flatten() {
        assert!(body.len() <= limits.max_body_bytes);
        assert!(!body.contains('\0'));
    }
    assert!(parsed.snippet.chars().count() <= 200);
    assert!(parsed.attachments.len() <= limits.max_attachments);
    assert_eq!(parsed.size_bytes, raw.len() as u64);
    for id in parsed
        .references
        .iter()
        .chain(&parsed.message_id)
        .chain(&parsed.in_reply_to)
    {
        assert!(!id.as_str().is_empty() && !id.as_str().contains(char::is_whitespace));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(raw in prop::collection::vec(any::<u8>(), 0..4096)) {
        check_invariants(&raw, &Limits { max_body_bytes: 64, ..Limits::default() });
    }

    #[test]
    fn parse_never_panics_on_mutated_messages(
        seed in 0..SEEDS.len(),
        mutations in prop::collection::vec(mutation(), 1..12),
        cap in 0usize..300,
    ) {
        let mut raw = SEEDS[seed].as_bytes().to_vec();
        for m in &mutations {
            apply(&mut raw, m);
        }
        check_invariants(&raw, &Limits { max_body_bytes: cap, max_depth: 8, max_attachments: 4, ..Limits::default() });
    }

    #[test]
    fn truncation_is_valid_utf8_within_the_cap(text in any::<String>(), cap in 0usize..64) {
        let mut cut = text.clone();
        let did_cut = truncate_at_char_boundary(&mut cut, cap);
        prop_assert!(cut.len() <= cap);
        prop_assert!(text.starts_with(&cut));
        prop_assert_eq!(did_cut, text.len() > cap);
        // A cut backs up by less than one character (at most 4 bytes).
        prop_assert!(!did_cut || cap - cut.len() < 4);
    }

    #[test]
    fn reference_lists_hold_only_clean_ids(header in "[<>@a-z \t\r\n,;()\"]{0,200}") {
        let ids = MessageId::parse_list(&header);
        prop_assert!(ids.len() <= crate::domain::message::MAX_REFERENCES);
        let mut seen = std::collections::HashSet::new();
        for id in &ids {
            let s = id.as_str();
            prop_assert!(!s.is_empty());
            prop_assert!(!s.contains(char::is_whitespace));
            prop_assert!(!s.contains(['<', '>']));
            prop_assert!(seen.insert(s.to_string()), "duplicate {}", s);
        }
    }

    #[test]
    fn reference_lists_from_any_text(header in any::<String>()) {
        for id in MessageId::parse_list(&header) {
            prop_assert!(!id.as_str().is_empty() && !id.as_str().contains(char::is_whitespace));
        }
    }
}
