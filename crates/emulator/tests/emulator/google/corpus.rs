//! The generated corpus has every feature the brief asks for.

use threadline_emulator::corpus::{generate, mailbox_info, CORPUS_END_MS};
use threadline_emulator::mime;

#[test]
fn the_generated_corpus_covers_every_kind_of_mail() {
    let owner = mailbox_info(0);
    let messages = generate(1, 0, &owner, 600);
    let text: Vec<String> = messages
        .iter()
        .map(|m| String::from_utf8_lossy(&m.raw).into_owned())
        .collect();
    let any = |needle: &str| text.iter().any(|t| t.contains(needle));
    for needle in [
        "List-Unsubscribe: <mailto:",
        "Precedence: bulk",
        "In-Reply-To: <",
        "References: <",
        "@mail.acme.co.uk",
        "@globex.com.au",
        "@gmail.com",
        "@yahoo.com",
        "@outlook.com",
        "Cc: ",
        "multipart/alternative",
        "multipart/related",
        "Content-ID: <logo@corpus>",
        "Content-Disposition: attachment",
        "message/rfc822",
        "charset=iso-8859-1",
        "charset=windows-1252",
        "charset=iso-2022-jp",
        "charset=shift_jis",
        "=?utf-8?",
        "Subject: Fwd: ",
    ] {
        assert!(any(needle), "corpus lacks {needle}");
    }
    let malformed = text
        .iter()
        .filter(|t| {
            t.contains("Unclosed multipart")
                || t.contains("no colon")
                || t.contains("Bad base64")
                || t.starts_with("Just a body")
        })
        .count();
    assert!(
        (1..=40).contains(&malformed),
        "a few malformed messages: {malformed}"
    );
    let dates: Vec<i64> = messages.iter().map(|m| m.internal_date_ms).collect();
    let (min, max) = (
        dates.iter().min().copied().unwrap_or(0),
        dates.iter().max().copied().unwrap_or(0),
    );
    assert!(max - min > 500 * 86_400_000, "spread over about two years");
    assert!(min > CORPUS_END_MS - 2 * 366 * 86_400_000);
    let internal = messages.iter().filter(|m| {
        let p = mime::parse(&m.raw);
        !p.from.is_empty()
            && p.from
                .iter()
                .chain(&p.to)
                .all(|a| a.address.ends_with("@northwind-labs.test"))
    });
    assert!(internal.count() > 10, "internal-only threads");
    for m in &messages {
        let parsed = mime::parse(&m.raw);
        if let Some(date) = parsed.date_ms {
            assert!(
                m.internal_date_ms > date,
                "internalDate is the later receipt time"
            );
        }
    }
}
