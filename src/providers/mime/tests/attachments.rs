//! Attachment metadata and part keys in Gmail's partId convention.
use std::fmt::Write as _;

use super::bodies::NESTED;
use super::parse_str;
use crate::domain::message::AttachmentMeta;
use crate::providers::mime::attachments::clean_filename;
use crate::providers::mime::{parse, Limits};

type Summary<'a> = (&'a str, &'a str, &'a str, u64, bool);

fn summary(attachments: &[AttachmentMeta]) -> Vec<Summary<'_>> {
    attachments
        .iter()
        .map(|a| {
            (
                a.part_key.as_str(),
                a.filename.as_str(),
                a.content_type.as_str(),
                a.size,
                a.inline,
            )
        })
        .collect()
}

#[test]
fn part_keys_follow_gmail_part_ids() {
    let mixed = "Subject: m\nContent-Type: multipart/mixed; boundary=b\n\n\
        --b\nContent-Type: text/plain\n\nbody\n\
        --b\nContent-Type: application/pdf; name=a.pdf\nContent-Transfer-Encoding: base64\n\n\
        aGVsbG8=\n\
        --b\nContent-Type: image/jpeg\nContent-Disposition: attachment; filename=\"b.jpg\"\n\n\
        JPEG\n--b--\n";
    let single = "Subject: s\nContent-Type: application/zip\n\
        Content-Disposition: attachment; filename=all.zip\nContent-Transfer-Encoding: base64\n\n\
        UEsDBA==\n";
    let forwarded = "Subject: fwd\nContent-Type: multipart/mixed; boundary=b\n\n\
        --b\nContent-Type: text/plain\n\nsee below\n\
        --b\nContent-Type: message/rfc822\n\n\
        Subject: inner\nContent-Type: multipart/mixed; boundary=i\n\n\
        --i\nContent-Type: text/plain\n\ninner body\n\
        --i\nContent-Type: application/pdf; name=inner.pdf\n\nPDF\n--i--\n\
        --b--\n";
    let cases: [(&str, &str, Vec<Summary<'_>>); 4] = [
        (
            "mixed",
            mixed,
            vec![
                ("1", "a.pdf", "application/pdf", 5, false),
                ("2", "b.jpg", "image/jpeg", 4, false),
            ],
        ),
        (
            "single part",
            single,
            vec![("", "all.zip", "application/zip", 4, false)],
        ),
        (
            "nested",
            NESTED,
            vec![
                ("0.1.1", "logo.png", "image/png", 6, true),
                ("1", "quote.pdf", "application/pdf", 9, false),
            ],
        ),
        ("forwarded message is one attachment", forwarded, vec![]),
    ];
    for (name, raw, want) in cases {
        let parsed = parse_str(raw);
        if name.starts_with("forwarded") {
            let got = summary(&parsed.attachments);
            assert_eq!(got.len(), 1, "{name}: {got:?}");
            assert_eq!((got[0].0, got[0].2), ("1", "message/rfc822"), "{name}");
            assert_eq!(parsed.body_text.as_deref(), Some("see below"), "{name}");
            continue;
        }
        assert_eq!(summary(&parsed.attachments), want, "{name}");
    }
}

#[test]
fn filenames_are_decoded_and_cleaned() {
    let cases = [
        (
            "filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.pdf",
            "naïve résumé.pdf",
        ),
        (
            "filename*0=\"long-\"; filename*1=\"name.txt\"",
            "long-name.txt",
        ),
        ("filename=\"=?UTF-8?B?w6l0w6kucGRm?=\"", "été.pdf"),
        ("filename=\"C:\\\\Users\\\\me\\\\evil.exe\"", "evil.exe"),
        ("filename=\"../../etc/passwd\"", "passwd"),
        ("filename=\"  spaced.txt  \"", "spaced.txt"),
    ];
    for (param, want) in cases {
        let raw = format!(
            "Subject: f\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nbody\n\
             --b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; {param}\n\n\
             data\n--b--\n"
        );
        let parsed = parse_str(&raw);
        let names: Vec<&str> = parsed
            .attachments
            .iter()
            .map(|a| a.filename.as_str())
            .collect();
        assert_eq!(names, [want], "{param}");
    }
}

#[test]
fn clean_filename_table() {
    let long = "x".repeat(300);
    let cases = [
        ("a/b/c.txt", "c.txt".to_string()),
        ("bad\0name\r\n.txt", "badname.txt".to_string()),
        ("", String::new()),
        (long.as_str(), "x".repeat(255)),
    ];
    for (input, want) in cases {
        assert_eq!(clean_filename(input), want, "{input:?}");
    }
}

#[test]
fn inline_flags_and_content_ids() {
    let raw = "Subject: i\nContent-Type: multipart/related; boundary=b\n\n\
        --b\nContent-Type: text/html\n\n<img src=\"cid:Used%40x\">\n\
        --b\nContent-Type: image/png\nContent-ID: <used@x>\n\nPNG\n\
        --b\nContent-Type: image/png\nContent-ID: <unused@x>\n\nPNG\n\
        --b\nContent-Type: application/pdf\nContent-Disposition: inline; filename=x.pdf\n\nPDF\n\
        --b--\n";
    let parsed = parse_str(raw);
    let got: Vec<(&str, Option<&str>, bool)> = parsed
        .attachments
        .iter()
        .map(|a| (a.part_key.as_str(), a.content_id.as_deref(), a.inline))
        .collect();
    assert_eq!(
        got,
        [
            ("1", Some("used@x"), true),
            ("2", Some("unused@x"), false),
            ("3", None, true)
        ]
    );
}

#[test]
fn attachment_count_is_capped() {
    let mut raw = String::from("Subject: many\nContent-Type: multipart/mixed; boundary=b\n\n");
    for i in 0..50 {
        let _ = writeln!(raw, "--b\nContent-Type: application/x-{i}\n\nx");
    }
    raw.push_str("--b--\n");
    let limits = Limits {
        max_attachments: 10,
        ..Limits::default()
    };
    let parsed = parse(raw.as_bytes(), &limits);
    assert_eq!(parsed.attachments.len(), 10);
    assert_eq!(parsed.attachments[9].part_key, "9");
}
