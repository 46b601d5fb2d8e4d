//! Ids, subjects, participants, dates and bulk markers from the top-level header.
use chrono::{TimeZone, Utc};

use super::{parse_bytes, parse_str};
use crate::domain::message::{MessageId, ParticipantRole};
use crate::providers::mime::headers::is_bulk;

#[test]
fn thread_ids_are_parsed_and_self_references_dropped() {
    let parsed = parse_str(
        "Message-ID: <Self@Example.COM>\n\
         In-Reply-To: <parent@x> (Bob's message)\n\
         References: <root@x>\n <parent@x> <Self@EXAMPLE.com>, <parent@x>\n\
         Subject: hi\n\nbody\n",
    );
    assert_eq!(
        parsed.message_id.as_ref().map(MessageId::as_str),
        Some("Self@example.com")
    );
    assert_eq!(
        parsed.in_reply_to.as_ref().map(MessageId::as_str),
        Some("parent@x")
    );
    let refs: Vec<&str> = parsed.references.iter().map(MessageId::as_str).collect();
    assert_eq!(refs, ["root@x", "parent@x"]);
}

#[test]
fn missing_or_broken_ids_are_none() {
    let parsed = parse_str("Message-ID: <>\nIn-Reply-To: whatever\nSubject: x\n\nbody\n");
    assert!(parsed.message_id.is_none());
    assert!(parsed.in_reply_to.is_none());
    assert!(parsed.references.is_empty());
}

#[test]
fn subjects_are_decoded_and_single_line() {
    let cases: [(&[u8], &str); 6] = [
        (b"Subject: plain", "plain"),
        (
            b"Subject: =?iso-8859-1?q?Caf=E9?= =?utf-8?b?4pyT?=",
            "Caf\u{e9}\u{2713}",
        ),
        (b"Subject: folded\n\tover\n  lines", "folded over lines"),
        ("Subject: Grüße 8-bit".as_bytes(), "Grüße 8-bit"),
        (b"Subject: latin1 Gr\xfc\xdfe", "latin1 Gr\u{fffd}\u{fffd}e"),
        (b"X-Other: 1", ""),
    ];
    for (header, want) in cases {
        let mut raw = header.to_vec();
        raw.extend_from_slice(b"\nFrom: a@example.com\n\nbody\n");
        assert_eq!(
            parse_bytes(&raw).subject,
            want,
            "{}",
            String::from_utf8_lossy(header)
        );
    }
}

#[test]
fn participants_from_every_address_header() {
    use ParticipantRole::{Bcc, Cc, From, ReplyTo, Sender, To};
    let parsed = parse_str(
        "From: \"Doe, Jane\" <Jane.Doe@Example.com>\n\
         Sender: =?utf-8?q?=C3=89lodie?= <elodie@example.org>\n\
         To: Team: a@x.com, \"B\" <b@x.com>;, undisclosed-recipients:;\n\
         Cc: c@x.com, C@X.COM, not-an-address, <@bad>, info@B\u{fc}cher.example\n\
         Bcc: \"Quoted \\\"Nick\\\" Name\" <d@x.com>\n\
         Reply-To: <noreply@x.com>\n\
         To: e@x.com\n\
         Subject: people\n\nbody\n",
    );
    let got: Vec<(ParticipantRole, &str, &str)> = parsed
        .participants
        .iter()
        .map(|p| (p.role, p.address.as_str(), p.name.as_str()))
        .collect();
    let want = [
        (From, "jane.doe@example.com", "Doe, Jane"),
        (Sender, "elodie@example.org", "\u{c9}lodie"),
        (To, "a@x.com", ""),
        (To, "b@x.com", "B"),
        (Cc, "c@x.com", ""),
        (Cc, "info@xn--bcher-kva.example", ""),
        (Bcc, "d@x.com", "Quoted \"Nick\" Name"),
        (ReplyTo, "noreply@x.com", ""),
        (To, "e@x.com", ""),
    ];
    assert_eq!(got, want);
}

#[test]
fn garbage_address_headers_yield_nobody() {
    let parsed = parse_bytes(b"From: <<<>>>\nTo: \xff\xfe@@@\nCc: ,,,;;;\n\nbody\n");
    assert!(parsed.participants.is_empty(), "{:?}", parsed.participants);
}

#[test]
fn dates_are_parsed_tolerantly() {
    let at = |y, mo, d, h, mi, s| Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single();
    let cases = [
        ("Tue, 1 Jul 2003 10:52:37 +0200", at(2003, 7, 1, 8, 52, 37)),
        ("1 Jul 2003 10:52:37 -0500", at(2003, 7, 1, 15, 52, 37)),
        ("Tue, 01 Jul 03 10:52:37 GMT", at(2003, 7, 1, 10, 52, 37)),
        ("Tue, 1 Jul 2003 10:52:37 EST", at(2003, 7, 1, 15, 52, 37)),
        (
            "Tue,  1 Jul 2003 10:52:37 +0000 (UTC)",
            at(2003, 7, 1, 10, 52, 37),
        ),
        (
            "Sat, 21 Nov 2026 23:59:60 +0000",
            at(2026, 11, 21, 23, 59, 59),
        ),
        ("garbage", None),
        ("", None),
        ("Thu, 1 Jan 1970 00:00:00 +0000", None),
        ("Fri, 1 Jan 2999 00:00:00 +0000", None),
        ("Mon, 31 Feb 2003 10:00:00 +0000", None),
        ("Tue, 1 Jul 2003 99:52:37 +0200", None),
    ];
    for (date, want) in cases {
        let parsed = parse_str(&format!("Date: {date}\nSubject: d\n\nbody\n"));
        assert_eq!(parsed.sent_at, want, "{date:?}");
    }
}

#[test]
fn bulk_markers() {
    let cases = [
        (None, None, None, false),
        (Some("<news.example.com>"), None, None, true),
        (None, Some("<mailto:unsub@x>"), None, true),
        (None, Some("   "), None, false),
        (None, None, Some("bulk"), true),
        (None, None, Some(" List"), true),
        (None, None, Some("junk (spam)"), true),
        (None, None, Some("first-class"), false),
    ];
    for (list_id, unsubscribe, precedence, want) in cases {
        assert_eq!(
            is_bulk(list_id, unsubscribe, precedence),
            want,
            "{list_id:?} {precedence:?}"
        );
    }
}

#[test]
fn bulk_and_auto_submitted_from_messages() {
    let cases = [
        ("List-Id: Announce <announce.example.com>\n", true, false),
        ("List-Unsubscribe: <https://x/u>\n", true, false),
        ("Precedence: bulk\n", true, false),
        ("Auto-Submitted: auto-replied\n", false, true),
        ("Auto-Submitted: No\n", false, false),
        ("X-Mailer: person\n", false, false),
    ];
    for (header, bulk, auto) in cases {
        let parsed = parse_str(&format!("{header}Subject: s\n\nbody\n"));
        assert_eq!(
            (parsed.is_bulk, parsed.auto_submitted),
            (bulk, auto),
            "{header:?}"
        );
    }
}

#[test]
fn size_is_the_raw_length() {
    let raw = "Subject: s\r\n\r\nbody\r\n";
    assert_eq!(parse_str(raw).size_bytes, raw.len() as u64);
    assert_eq!(parse_bytes(b"").size_bytes, 0);
}
