//! Bodies decoded by their declared charset, bad bytes replaced, unknown charsets lossy.
use super::parse_bytes;

fn message(charset: &str, encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut raw = format!(
        "Subject: charset\nContent-Type: text/plain; charset=\"{charset}\"\n\
         Content-Transfer-Encoding: {encoding}\n\n"
    )
    .into_bytes();
    raw.extend_from_slice(body);
    raw
}

#[test]
fn bodies_are_decoded_by_charset() {
    let cases: [(&str, &str, &[u8], &str); 12] = [
        ("iso-8859-1", "8bit", b"caf\xe9 cr\xe8me", "café crème"),
        ("ISO-8859-1", "quoted-printable", b"caf=E9", "café"),
        ("latin1", "8bit", b"\xa3100", "£100"),
        (
            "windows-1252",
            "8bit",
            b"\x93quoted\x94 \x80 \x85",
            "“quoted” € …",
        ),
        ("cp1252", "8bit", b"na\xefve", "naïve"),
        (
            "iso-2022-jp",
            "7bit",
            b"\x1b$B%O%m!<\x1b(B hello",
            "ハロー hello",
        ),
        ("shift_jis", "8bit", b"\x83n\x83\x8D\x81[", "ハロー"),
        ("Shift-JIS", "base64", b"g26DjYFb", "ハロー"),
        ("utf-8", "8bit", "déjà vu ✓".as_bytes(), "déjà vu ✓"),
        ("utf-8", "8bit", b"ok \xff\xfe ok", "ok \u{fffd}\u{fffd} ok"),
        ("x-no-such-charset", "8bit", b"abc \xe9", "abc \u{fffd}"),
        (
            "x-no-such-charset",
            "8bit",
            "plain ütf".as_bytes(),
            "plain ütf",
        ),
    ];
    for (charset, encoding, body, want) in cases {
        let parsed = parse_bytes(&message(charset, encoding, body));
        assert_eq!(
            parsed.body_text.as_deref(),
            Some(want),
            "{charset} {encoding}"
        );
    }
}

#[test]
fn html_charset_and_encoded_words_in_names() {
    let raw = b"Subject: =?ISO-2022-JP?B?GyRCJU8lbSE8GyhC?=\n\
        From: =?windows-1252?Q?=93Ren=E9e=94?= <renee@example.com>\n\
        Content-Type: text/html; charset=windows-1252\n\n<p>\x80 price</p>";
    let parsed = parse_bytes(raw);
    assert_eq!(parsed.subject, "ハロー");
    assert_eq!(
        parsed.participants.first().map(|p| p.name.as_str()),
        Some("“Renée”")
    );
    assert_eq!(parsed.body_html.as_deref(), Some("<p>€ price</p>"));
    assert_eq!(parsed.snippet, "€ price");
}

#[test]
fn nul_bytes_never_reach_storage() {
    let parsed = parse_bytes(b"Subject: a\0b\nContent-Type: text/plain\n\nx\0y\n");
    assert!(!parsed.subject.contains('\0'));
    assert_eq!(parsed.body_text.as_deref(), Some("xy\n"));
}
