//! Rendering of generated drafts to raw RFC 5322 bytes: mail-builder for well-formed MIME
//! (with fixed boundaries so output is deterministic), hand-written bytes for legacy charsets
//! and malformed messages.

use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::{BodyPart, MimePart};
use mail_builder::MessageBuilder;

use crate::ids::fnv;

/// A correspondent.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub address: String,
}

impl Person {
    pub fn new(name: &str, address: &str) -> Self {
        Self {
            name: name.to_string(),
            address: address.to_string(),
        }
    }

    fn first_name(&self) -> &str {
        self.name.split_whitespace().next().unwrap_or(&self.name)
    }

    fn domain(&self) -> &str {
        self.address.rsplit('@').next().unwrap_or("example.test")
    }
}

/// The shape of a generated message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Plain,
    WithAttachment,
    InlineImage,
    Forward,
    Newsletter {
        list_id: String,
    },
    /// 0 ISO-8859-1, 1 windows-1252, 2 ISO-2022-JP, 3 `Shift_JIS`.
    Charset(u8),
    /// Four flavours of broken input.
    Malformed(u8),
}

/// A message before rendering.
#[derive(Debug, Clone)]
pub struct Draft {
    pub tag: String,
    pub message_id: String,
    pub date_ms: i64,
    pub kind: Kind,
    pub from: Person,
    pub to: Vec<Person>,
    pub cc: Vec<Person>,
    pub subject: String,
    pub outgoing: bool,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub quoted: Option<Box<Draft>>,
}

impl Draft {
    pub fn new(tag: &str, date_ms: i64, kind: Kind, from: &Person) -> Self {
        Self {
            tag: tag.to_string(),
            message_id: format!(
                "{}.{:x}@{}",
                tag,
                fnv(tag.as_bytes()) & 0xffff_ffff,
                from.domain()
            ),
            date_ms,
            kind,
            from: from.clone(),
            to: Vec::new(),
            cc: Vec::new(),
            subject: String::new(),
            outgoing: false,
            in_reply_to: None,
            references: Vec::new(),
            quoted: None,
        }
    }

    fn boundary(&self, n: u8) -> String {
        format!("=_b{n}_{:016x}", fnv(self.tag.as_bytes()))
    }
}

const SENTENCES: &[&str] = &[
    "Thanks for the quick reply, the numbers look good to us.",
    "Could you send the updated figures before Friday?",
    "We reviewed the proposal internally and have a few questions.",
    "Attached is the document we discussed on the call.",
    "Let me know if Tuesday at 10:00 works for a short meeting.",
    "The shipment left our warehouse this morning — tracking to follow.",
    "Résumé of the discussion: price per unit stays at €12.40.",
];

fn body_text(d: &Draft) -> String {
    let h = fnv(d.tag.as_bytes());
    let to = d.to.first().map_or("there", Person::first_name);
    let a = SENTENCES[usize::try_from(h % 7).unwrap_or(0)];
    let b = SENTENCES[usize::try_from((h >> 8) % 7).unwrap_or(0)];
    format!(
        "Hi {to},\r\n\r\n{a}\r\n{b}\r\n\r\nBest regards,\r\n{}\r\n",
        d.from.first_name()
    )
}

fn html_of(text: &str, extra: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let paragraphs: Vec<String> = escaped
        .split("\r\n\r\n")
        .map(|p| format!("<p>{}</p>", p.replace("\r\n", "<br>")))
        .collect();
    format!("<html><body>{}{extra}</body></html>", paragraphs.join(""))
}

fn multipart(
    kind: &'static str,
    boundary: String,
    parts: Vec<MimePart<'static>>,
) -> MimePart<'static> {
    MimePart::new(
        ContentType::new(kind).attribute("boundary", boundary),
        BodyPart::Multipart(parts),
    )
}

fn alternative(d: &Draft, text: String, extra_html: &str) -> MimePart<'static> {
    let html = html_of(&text, extra_html);
    multipart(
        "multipart/alternative",
        d.boundary(1),
        vec![
            MimePart::new("text/plain", text),
            MimePart::new("text/html", html),
        ],
    )
}

/// A 1x1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82";

fn fake_pdf(d: &Draft) -> Vec<u8> {
    let mut pdf = format!("%PDF-1.4\n% {}\n", d.subject).into_bytes();
    pdf.extend((0..2048u64).map(|i| u8::try_from((fnv(d.tag.as_bytes()) ^ i) & 0xff).unwrap_or(0)));
    pdf.extend_from_slice(b"\n%%EOF\n");
    pdf
}

/// Render a draft to raw bytes.
pub fn render(d: &Draft) -> Vec<u8> {
    match d.kind {
        Kind::Charset(n) => return charset_message(d, n),
        Kind::Malformed(n) => return malformed_message(d, n),
        _ => {}
    }
    let text = body_text(d);
    let body = match &d.kind {
        Kind::WithAttachment => multipart(
            "multipart/mixed",
            d.boundary(0),
            vec![
                alternative(d, text, ""),
                MimePart::new("application/pdf", BodyPart::Binary(fake_pdf(d).into()))
                    .attachment(format!("{}.pdf", d.subject.replace(['/', ':'], "-"))),
            ],
        ),
        Kind::InlineImage => multipart(
            "multipart/related",
            d.boundary(0),
            vec![
                alternative(d, text, "<img src=\"cid:logo@corpus\" alt=\"logo\">"),
                MimePart::new("image/png", BodyPart::Binary(PNG.into()))
                    .inline()
                    .cid("logo@corpus"),
            ],
        ),
        Kind::Forward => {
            let original = d.quoted.as_ref().map(|q| render(q)).unwrap_or_default();
            multipart(
                "multipart/mixed",
                d.boundary(0),
                vec![
                    MimePart::new("text/plain", format!("FYI, see below.\r\n\r\n{text}")),
                    MimePart::new("message/rfc822", BodyPart::Binary(original.into()))
                        .attachment("forwarded.eml"),
                ],
            )
        }
        Kind::Newsletter { .. } => alternative(
            d,
            text,
            "<p><a href=\"https://example.test/u\">Unsubscribe</a></p>",
        ),
        _ => alternative(d, text, ""),
    };
    let mut builder = MessageBuilder::new()
        .from((d.from.name.clone(), d.from.address.clone()))
        .to(d
            .to
            .iter()
            .map(|p| (p.name.clone(), p.address.clone()))
            .collect::<Vec<_>>())
        .subject(d.subject.clone())
        .message_id(d.message_id.clone())
        .date(d.date_ms / 1000);
    if !d.cc.is_empty() {
        builder = builder.cc(d
            .cc
            .iter()
            .map(|p| (p.name.clone(), p.address.clone()))
            .collect::<Vec<_>>());
    }
    if let Some(irt) = &d.in_reply_to {
        builder = builder.in_reply_to(irt.clone());
    }
    if !d.references.is_empty() {
        builder = builder.references(d.references.clone());
    }
    if let Kind::Newsletter { list_id } = &d.kind {
        builder = builder
            .header("List-Id", Raw::new(format!("<{list_id}>")))
            .header(
                "List-Unsubscribe",
                Raw::new(format!(
                    "<mailto:unsubscribe@{list_id}>, <https://{list_id}/unsubscribe>"
                )),
            )
            .header(
                "List-Unsubscribe-Post",
                Raw::new("List-Unsubscribe=One-Click"),
            )
            .header("Precedence", Raw::new("bulk"));
    }
    builder.body(body).write_to_vec().unwrap_or_default()
}

fn rfc2822_date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S +0000")
        .to_string()
}

fn envelope(d: &Draft, subject: &str, content_type: &str, cte: &str) -> Vec<u8> {
    let to = d.to.first().map_or_else(String::new, |p| p.address.clone());
    format!(
        "From: {} <{}>\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {}\r\nMessage-ID: <{}>\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n",
        d.from.name.replace(|c: char| !c.is_ascii(), "?"),
        d.from.address,
        rfc2822_date(d.date_ms),
        d.message_id
    )
    .into_bytes()
}

fn charset_message(d: &Draft, n: u8) -> Vec<u8> {
    match n {
        0 => {
            let mut raw = envelope(
                d,
                "=?ISO-8859-1?Q?Gr=FC=DFe_aus_M=FCnchen?=",
                "text/plain; charset=iso-8859-1",
                "quoted-printable",
            );
            raw.extend_from_slice(
                b"Sch=F6ne Gr=FC=DFe aus M=FCnchen, die Preise sind =E0 jour.\r\n",
            );
            raw
        }
        1 => {
            let mut raw = envelope(
                d,
                "=?windows-1252?Q?=93Quoted=94_offer_=80_99?=",
                "text/plain; charset=windows-1252",
                "8bit",
            );
            raw.extend_from_slice(
                b"Our \x93special\x94 price is \x8099 \x96 valid until Friday.\r\n",
            );
            raw
        }
        2 => {
            let mut raw = envelope(
                d,
                "=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=",
                "text/plain; charset=iso-2022-jp",
                "7bit",
            );
            raw.extend_from_slice(b"\x1b$B$3$s$K$A$O\x1b(B, Tanaka Shoji.\r\n");
            raw
        }
        _ => {
            let mut raw = envelope(
                d,
                "=?Shift_JIS?B?grGC8YLJgr+CzQ==?=",
                "text/html; charset=shift_jis",
                "8bit",
            );
            raw.extend_from_slice(
                b"<html><body><p>\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd</p></body></html>\r\n",
            );
            raw
        }
    }
}

fn malformed_message(d: &Draft, n: u8) -> Vec<u8> {
    let date = rfc2822_date(d.date_ms);
    let text = match n {
        0 => format!("From: {}\r\nSubject: Unclosed multipart\r\nDate: {date}\r\nMessage-ID: <{}>\r\nContent-Type: multipart/mixed; boundary=\"zzz\"\r\n\r\n--zzz\r\nContent-Type: text/plain\r\n\r\nThe closing boundary never comes.\r\n--zzz\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC", d.from.address, d.message_id),
        1 => format!("From: {}\r\nSubject: Bad base64\r\nDate: {date}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!! not base64 @@@@\r\n", d.from.address),
        2 => format!("From: {}\r\nThis header line has no colon\r\nSubject: Raw 8bit \u{e9}t\u{e9} in a header\r\nDate: not a date\r\n\r\nBody after a broken header block.\r\n", d.from.address),
        _ => "Just a body without any header at all.\r\nSecond line.\r\n".to_string(),
    };
    text.into_bytes()
}
