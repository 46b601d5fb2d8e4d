//! Body selection across multipart structures, size caps and snippets.
use std::fmt::Write as _;

use super::parse_str;
use crate::providers::mime::{parse, truncate_at_char_boundary, Limits};

const ALTERNATIVE: &str = "Subject: alt\n\
Content-Type: multipart/alternative; boundary=\"a\"\n\
\n\
--a\n\
Content-Type: text/plain; charset=utf-8\n\
\n\
Plain words\n\
--a\n\
Content-Type: text/html; charset=utf-8\n\
\n\
<p>Rich <b>words</b></p>\n\
--a--\n";

/// mixed[ alternative[ text, related[ html, image ] ], pdf ]
pub const NESTED: &str = "Subject: nested\n\
Content-Type: multipart/mixed; boundary=\"m\"\n\
\n\
--m\n\
Content-Type: multipart/alternative; boundary=\"a\"\n\
\n\
--a\n\
Content-Type: text/plain\n\
\n\
See the logo.\n\
--a\n\
Content-Type: multipart/related; boundary=\"r\"\n\
\n\
--r\n\
Content-Type: text/html\n\
\n\
<p>See the <img src=\"cid:logo@acme\"> logo.</p>\n\
--r\n\
Content-Type: image/png; name=\"logo.png\"\n\
Content-ID: <logo@acme>\n\
Content-Transfer-Encoding: base64\n\
\n\
iVBORw0K\n\
--r--\n\
--a--\n\
--m\n\
Content-Type: application/pdf; name=\"quote.pdf\"\n\
Content-Disposition: attachment; filename=\"quote.pdf\"\n\
Content-Transfer-Encoding: base64\n\
\n\
JVBERi0xLjQK\n\
--m--\n";

#[test]
fn alternative_gives_both_bodies() {
    let parsed = parse_str(ALTERNATIVE);
    assert_eq!(parsed.body_text.as_deref(), Some("Plain words"));
    assert_eq!(
        parsed.body_html.as_deref(),
        Some("<p>Rich <b>words</b></p>")
    );
    assert!(parsed.attachments.is_empty());
    assert!(!parsed.body_truncated);
    assert_eq!(parsed.snippet, "Plain words");
}

#[test]
fn nested_mixed_alternative_related() {
    let parsed = parse_str(NESTED);
    assert_eq!(parsed.body_text.as_deref(), Some("See the logo."));
    assert_eq!(
        parsed.body_html.as_deref(),
        Some("<p>See the <img src=\"cid:logo@acme\"> logo.</p>")
    );
    let keys: Vec<&str> = parsed
        .attachments
        .iter()
        .map(|a| a.part_key.as_str())
        .collect();
    assert_eq!(keys, ["0.1.1", "1"]);
}

#[test]
fn single_part_bodies() {
    let text = parse_str("Subject: t\n\nJust text\r\nsecond line\n");
    assert_eq!(text.body_text.as_deref(), Some("Just text\nsecond line\n"));
    assert_eq!(text.body_html, None);

    let html = parse_str(
        "Subject: h\nContent-Type: text/html\n\n<html><head><style>p{}</style></head>\
         <body><p>Hi&nbsp;there &amp; welcome</p><script>x()</script></body></html>\n",
    );
    assert_eq!(html.body_text, None, "no text derived from HTML-only mail");
    assert!(html
        .body_html
        .as_deref()
        .is_some_and(|h| h.contains("<p>Hi")));
    assert_eq!(html.snippet, "Hi there & welcome");
}

#[test]
fn structures_choose_like_mail_clients() {
    let cases: [(&str, &str, Option<&str>, Option<&str>); 7] = [
        (
            "named first part is the body (CPython msg_04)",
            "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\
             Content-Disposition: inline; filename=msg.txt\n\nmirror\n\
             --b\nContent-Type: text/plain; name=msg.txt\n\nsecond\n--b--\n",
            Some("mirror"),
            None,
        ),
        (
            "mixed with two inline texts around an image",
            "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nfirst\n\
             --b\nContent-Type: image/gif\nContent-Disposition: inline\n\nGIF\n\
             --b\nContent-Type: text/plain\n\nsecond\n--b--\n",
            Some("first\nsecond"),
            None,
        ),
        (
            "text attachment is not a body",
            "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbody\n\
             --b\nContent-Type: text/plain\nContent-Disposition: attachment; filename=a.txt\n\n\
             file\n--b--\n",
            Some("body"),
            None,
        ),
        (
            "named text part is an attachment",
            "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html\n\n<b>x</b>\n\
             --b\nContent-Type: text/plain; name=notes.txt\n\nnotes\n--b--\n",
            None,
            Some("<b>x</b>"),
        ),
        (
            "related start parameter picks the root",
            "Content-Type: multipart/related; boundary=b; start=\"<root@x>\"\n\n\
             --b\nContent-Type: text/plain\nContent-ID: <other@x>\n\nnot me\n\
             --b\nContent-Type: text/html\nContent-ID: <root@x>\n\n<i>me</i>\n--b--\n",
            None,
            Some("<i>me</i>"),
        ),
        (
            "last alternative wins, text/enriched is not text",
            "Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain\n\n\
             old\n--b\nContent-Type: text/enriched\n\n<bold>x</bold>\n--b\n\
             Content-Type: text/plain; format=flowed\n\nnew\n--b--\n",
            Some("new"),
            None,
        ),
        (
            "signed message shows the signed content",
            "Content-Type: multipart/signed; boundary=b; protocol=\"application/pgp-signature\"\n\n\
             --b\nContent-Type: text/plain\n\nsigned text\n--b\n\
             Content-Type: application/pgp-signature\n\nSIG\n--b--\n",
            Some("signed text"),
            None,
        ),
    ];
    for (name, structure, text, html) in cases {
        let parsed = parse_str(&format!("Subject: s\n{structure}"));
        assert_eq!(parsed.body_text.as_deref(), text, "{name}");
        assert_eq!(parsed.body_html.as_deref(), html, "{name}");
    }
}

#[test]
fn deep_nesting_is_capped_not_fatal() {
    let depth = 200;
    let mut raw = String::from("Subject: deep\n");
    for level in 0..depth {
        let _ = write!(
            raw,
            "Content-Type: multipart/mixed; boundary=\"b{level}\"\n\n--b{level}\n"
        );
    }
    raw.push_str("Content-Type: text/plain\n\ndeep body\n");
    for level in (0..depth).rev() {
        let _ = writeln!(raw, "--b{level}--");
    }
    let parsed = parse_str(&raw);
    assert_eq!(
        parsed.body_text, None,
        "parts below the depth cap are ignored"
    );
    assert_eq!(parsed.subject, "deep");

    let shallow = parse(
        raw.as_bytes(),
        &Limits {
            max_depth: 1000,
            ..Limits::default()
        },
    );
    assert_eq!(shallow.body_text, None, "the hard cap still applies");

    let mut ok = String::from("Subject: ok\n");
    for level in 0..5 {
        let _ = write!(
            ok,
            "Content-Type: multipart/mixed; boundary=\"b{level}\"\n\n--b{level}\n"
        );
    }
    ok.push_str("Content-Type: text/plain\n\nfound\n");
    assert_eq!(parse_str(&ok).body_text.as_deref(), Some("found\n"));
}

#[test]
fn bodies_are_capped_on_char_boundaries() {
    let body = "é".repeat(20);
    let raw = format!("Subject: cap\nContent-Type: text/plain; charset=utf-8\n\n{body}");
    let parsed = parse(
        raw.as_bytes(),
        &Limits {
            max_body_bytes: 11,
            ..Limits::default()
        },
    );
    assert_eq!(parsed.body_text.as_deref(), Some("ééééé"));
    assert!(parsed.body_truncated);

    let html = format!("Subject: cap\nContent-Type: text/html\n\n<p>{body}</p>");
    let parsed = parse(
        html.as_bytes(),
        &Limits {
            max_body_bytes: 8,
            ..Limits::default()
        },
    );
    assert_eq!(parsed.body_html.as_deref(), Some("<p>éé"));
    assert!(parsed.body_truncated);
}

#[test]
fn truncation_table() {
    let cases = [
        ("hello", 10, "hello", false),
        ("hello", 5, "hello", false),
        ("hello", 4, "hell", true),
        ("héllo", 2, "h", true),
        ("日本語", 4, "日", true),
        ("日本語", 2, "", true),
        ("🎉x", 3, "", true),
        ("", 0, "", false),
    ];
    for (input, cap, want, cut) in cases {
        let mut text = input.to_string();
        assert_eq!(
            truncate_at_char_boundary(&mut text, cap),
            cut,
            "{input:?} at {cap}"
        );
        assert_eq!(text, want, "{input:?} at {cap}");
    }
}

#[test]
fn snippets() {
    let long = "word ".repeat(100);
    let parsed = parse_str(&format!(
        "Subject: s\n\n  Hello,\n\n\tthis   is\u{200c} a {long}"
    ));
    assert!(
        parsed.snippet.starts_with("Hello, this is a word word"),
        "{}",
        parsed.snippet
    );
    assert!(parsed.snippet.chars().count() <= 200);
    assert!(!parsed.snippet.ends_with(' '));

    let html = parse_str(
        "Subject: s\nContent-Type: text/html\n\n<style>.x{color:red}</style>\
         <div>Caf&eacute;? &lt;b&gt; &#8364;5 &amp;&nbsp;more</div><script>var a=1</script>\
         <p>next</p>",
    );
    assert_eq!(html.snippet, "Café? <b> €5 & more next");

    assert_eq!(parse_str("Subject: empty\n\n").snippet, "");
}
