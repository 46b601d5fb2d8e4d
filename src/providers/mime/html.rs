//! Rough HTML to text (for snippets and text-less messages) and `cid:` reference scanning.
//! Not a renderer: tags are dropped, script/style/head content skipped, entities decoded,
//! whitespace collapsed, block tags become line breaks.
use std::collections::HashSet;

use crate::domain::email_html::HEADINGS;

/// Elements whose content is never visible text.
const HIDDEN: [&str; 6] = ["script", "style", "head", "title", "template", "noscript"];
/// Elements that start a new line, besides the [`HEADINGS`].
const BLOCKS: [&str; 14] = [
    "br",
    "p",
    "div",
    "tr",
    "li",
    "ul",
    "ol",
    "table",
    "blockquote",
    "hr",
    "pre",
    "section",
    "article",
    "header",
];

/// The visible text of an HTML document or fragment.
pub fn html_to_text(html: &str) -> String {
    to_text(html, usize::MAX)
}

/// Like [`html_to_text`], stopping once `max_chars` characters are out.
pub(super) fn to_text(html: &str, max_chars: usize) -> String {
    // ASCII lowercasing keeps byte offsets, so `lower` indexes `html` directly.
    let lower = html.to_ascii_lowercase();
    let mut out = Output::default();
    let mut pos = 0;
    while pos < html.len() && out.chars < max_chars {
        let rest = &html[pos..];
        let Some(c) = rest.chars().next() else {
            break;
        };
        if c == '<' {
            pos = skip_markup(&lower, pos, &mut out);
        } else if c == '&' {
            let (decoded, len) = entity(rest);
            out.push(decoded);
            pos += len;
        } else {
            out.push(c);
            pos += c.len_utf8();
        }
    }
    out.text
}

/// Consumes the markup starting at `pos` (a `<`); returns where text resumes.
fn skip_markup(lower: &str, pos: usize, out: &mut Output) -> usize {
    let rest = &lower[pos..];
    if rest.starts_with("<!--") {
        return rest.find("-->").map_or(lower.len(), |end| pos + end + 3);
    }
    let Some(end) = rest.find('>') else {
        return lower.len();
    };
    let after = pos + end + 1;
    let inner = &rest[1..end];
    let closing = inner.starts_with('/');
    let name: String = inner
        .trim_start_matches('/')
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    if name.is_empty() {
        return after;
    }
    if BLOCKS.contains(&name.as_str()) || HEADINGS.contains(&name.as_str()) {
        out.line_break();
    } else if name == "td" || name == "th" {
        out.push(' ');
    }
    if !closing && !inner.ends_with('/') && HIDDEN.contains(&name.as_str()) {
        let close = format!("</{name}");
        return lower[after..]
            .find(&close)
            .and_then(|at| lower[after + at..].find('>').map(|gt| after + at + gt + 1))
            .unwrap_or(lower.len());
    }
    after
}

/// Decodes the entity at the start of `text` (which starts with `&`); returns the character
/// and how many bytes it used. Unknown or unterminated entities stay a literal `&`.
fn entity(text: &str) -> (char, usize) {
    let literal = ('&', 1);
    let Some(semi) = text
        .get(1..)
        .and_then(|t| t.find(';'))
        .filter(|&at| at > 0 && at <= 10)
    else {
        return literal;
    };
    let name = &text[1..=semi];
    let decoded = if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => number.parse::<u32>().ok(),
        };
        code.map(|code| {
            char::from_u32(code)
                .filter(|&c| c != '\0')
                .unwrap_or(char::REPLACEMENT_CHARACTER)
        })
    } else {
        named_entity(name)
    };
    decoded.map_or(literal, |c| (c, semi + 2))
}

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" | "AMP" => '&',
        "lt" | "LT" => '<',
        "gt" | "GT" => '>',
        "quot" | "QUOT" => '"',
        "apos" => '\'',
        "nbsp" | "ensp" | "emsp" | "thinsp" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "bull" => '•',
        "middot" => '·',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "euro" => '€',
        "pound" => '£',
        "yen" => '¥',
        "cent" => '¢',
        "deg" => '°',
        "times" => '×',
        "divide" => '÷',
        "aacute" => 'á',
        "eacute" => 'é',
        "iacute" => 'í',
        "oacute" => 'ó',
        "uacute" => 'ú',
        "Eacute" => 'É',
        "agrave" => 'à',
        "egrave" => 'è',
        "acirc" => 'â',
        "ecirc" => 'ê',
        "ocirc" => 'ô',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "Auml" => 'Ä',
        "Ouml" => 'Ö',
        "Uuml" => 'Ü',
        "szlig" => 'ß',
        "ccedil" => 'ç',
        "ntilde" => 'ñ',
        "aring" => 'å',
        "oslash" => 'ø',
        "iexcl" => '¡',
        "iquest" => '¿',
        "zwnj" => '\u{200c}',
        "zwj" => '\u{200d}',
        "shy" => '\u{ad}',
        _ => return None,
    })
}

#[derive(Default)]
struct Output {
    text: String,
    chars: usize,
    space: bool,
    newline: bool,
}

impl Output {
    fn push(&mut self, c: char) {
        if c == '\0' {
            return;
        }
        if c.is_whitespace() {
            self.space = true;
            return;
        }
        if !self.text.is_empty() {
            if self.newline {
                self.text.push('\n');
                self.chars += 1;
            } else if self.space {
                self.text.push(' ');
                self.chars += 1;
            }
        }
        self.space = false;
        self.newline = false;
        self.text.push(c);
        self.chars += 1;
    }

    fn line_break(&mut self) {
        self.newline = true;
    }
}

/// Lowercased targets of `cid:` URLs in `html`, for telling inline images from attachments.
pub(super) fn cid_references(html: &str) -> HashSet<String> {
    let lower = html.to_ascii_lowercase();
    lower
        .match_indices("cid:")
        .filter_map(|(at, _)| {
            let target: String = lower[at + 4..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | '>' | ')' | '<'))
                .collect();
            let target = percent_decode(&target);
            let target = target.trim_start_matches('<').trim_end_matches('>');
            (!target.is_empty()).then(|| target.to_string())
        })
        .collect()
}

/// RFC 2392 cid URLs are percent-encoded; undo the common cases, leave bad escapes alone.
fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::{cid_references, html_to_text, to_text};

    #[test]
    fn converts_html_to_text() {
        let cases = [
            ("<p>Hello <b>world</b></p>", "Hello world"),
            ("a<br>b<br/>c", "a\nb\nc"),
            (
                "<script>alert(1)</script>x<style>p{color:red}</style>y",
                "xy",
            ),
            ("<SCRIPT type=x>if (a<b) {}</SCRIPT>ok", "ok"),
            ("<head><title>T</title></head><body>body</body>", "body"),
            ("<!-- hidden --> shown <!-- unterminated", "shown"),
            (
                "Tom &amp; Jerry &lt;3 &quot;hi&quot; &#39;x&#39; &#x263A;",
                "Tom & Jerry <3 \"hi\" 'x' ☺",
            ),
            (
                "&nbsp;a&nbsp;&nbsp;b&mdash;c &bogus; &amp",
                "a b—c &bogus; &amp",
            ),
            ("&#0; &#99999999; z", "\u{fffd} \u{fffd} z"),
            ("  lots \n\n of\t\tspace  ", "lots of space"),
            (
                "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>",
                "a b\nc",
            ),
            ("unclosed <a href='x'", "unclosed"),
            ("caf\u{e9} <i>ol\u{e9}</i>", "caf\u{e9} ol\u{e9}"),
        ];
        for (html, want) in cases {
            assert_eq!(html_to_text(html), want, "{html:?}");
        }
    }

    #[test]
    fn stops_early_when_asked() {
        let html = "<p>word </p>".repeat(10_000);
        assert!(to_text(&html, 50).chars().count() <= 60);
    }

    #[test]
    fn finds_cid_references() {
        let refs = cid_references(
            r#"<img src="cid:Logo@Acme"><img src='CID:part2%40x'><div style="background:url(cid:bg)">"#,
        );
        for want in ["logo@acme", "part2@x", "bg"] {
            assert!(refs.contains(want), "{want} missing from {refs:?}");
        }
    }
}
