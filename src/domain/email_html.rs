//! Email HTML made safe to show: ammonia with an allowlist suited to email (layout tables,
//! fonts, inline styles), no scripts, forms, frames, SVG or event handlers; links only to
//! http(s), mailto and tel, opened outside the frame; `cid:` images pointed at our attachment
//! route; remote images dropped unless the reader asked for them. The result is further
//! confined by the sandboxed iframe and CSP of the route that serves it.
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// How to render one body.
#[derive(Debug, Clone)]
pub struct HtmlOptions {
    /// Prefix for `cid:` references, e.g. `/emails/42/cid/` (the content id is appended,
    /// percent-encoded).
    pub cid_base: String,
    /// Keep `http(s)` image sources (the reader clicked "show images").
    pub remote_images: bool,
}

/// A sanitized body and whether remote images were held back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeHtml {
    pub html: String,
    pub blocked_remote_images: bool,
}

/// The heading elements, h1 to h6 (allowed here; line breaks for `mime::html_to_text`).
pub const HEADINGS: [&str; 6] = ["h1", "h2", "h3", "h4", "h5", "h6"];

/// Allowed besides [`HEADINGS`].
const TAGS: &[&str] = &[
    "a",
    "abbr",
    "address",
    "b",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "font",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "wbr",
];

/// Presentational attributes every allowed tag may carry.
const GENERIC: &[&str] = &[
    "align", "bgcolor", "border", "class", "color", "dir", "height", "lang", "style", "title",
    "valign", "width",
];

fn tag_attributes() -> HashMap<&'static str, HashSet<&'static str>> {
    let mut map = HashMap::new();
    map.insert("a", HashSet::from(["href", "name"]));
    map.insert("img", HashSet::from(["src", "alt"]));
    map.insert("font", HashSet::from(["face", "size"]));
    for cell in ["td", "th"] {
        map.insert(cell, HashSet::from(["colspan", "rowspan", "nowrap"]));
    }
    map.insert(
        "table",
        HashSet::from(["cellpadding", "cellspacing", "summary"]),
    );
    map.insert("col", HashSet::from(["span"]));
    map.insert("colgroup", HashSet::from(["span"]));
    map.insert("ol", HashSet::from(["start", "type"]));
    map.insert("ul", HashSet::from(["type"]));
    map
}

/// CSS that could run code in old engines or fetch something.
fn dangerous_css(value: &str, remote_images: bool) -> bool {
    let lower = value.to_ascii_lowercase();
    let squeezed: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
    [
        "expression(",
        "javascript:",
        "behavior:",
        "-moz-binding",
        "@import",
        "\\",
    ]
    .iter()
    .any(|bad| squeezed.contains(bad))
        || (!remote_images && squeezed.contains("url("))
}

fn scheme(value: &str) -> Option<String> {
    let trimmed = value.trim_start();
    let colon = trimmed.find(':')?;
    let head = &trimmed[..colon];
    (!head.is_empty()
        && head
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then(|| head.to_ascii_lowercase())
}

fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

struct FilterContext {
    blocked: Arc<AtomicBool>,
    remote: bool,
    cid_base: String,
}

impl FilterContext {
    fn filter<'u>(&self, element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
        match (element, attribute) {
            ("a", "href") => match scheme(value).as_deref() {
                Some("http" | "https" | "mailto" | "tel") => Some(value.into()),
                // Relative, fragment-only, javascript:, data: ... lead nowhere useful.
                _ => None,
            },
            ("img", "src") => match scheme(value).as_deref() {
                Some("cid") => {
                    let id = value.trim_start()[4..].trim();
                    let id = id.trim_start_matches('<').trim_end_matches('>');
                    Some(format!("{}{}", self.cid_base, encode(id)).into())
                }
                Some("http" | "https") if self.remote => Some(value.into()),
                Some("http" | "https") => {
                    self.blocked.store(true, Ordering::Relaxed);
                    None
                }
                _ => None,
            },
            (_, "style") if dangerous_css(value, self.remote) => {
                if !self.remote && value.to_ascii_lowercase().contains("url(") {
                    self.blocked.store(true, Ordering::Relaxed);
                }
                None
            }
            _ => Some(value.into()),
        }
    }
}

/// Sanitize one HTML body.
pub fn sanitize(html: &str, options: &HtmlOptions) -> SafeHtml {
    let blocked = Arc::new(AtomicBool::new(false));
    let ctx = FilterContext {
        blocked: blocked.clone(),
        remote: options.remote_images,
        cid_base: options.cid_base.clone(),
    };
    let mut builder = ammonia::Builder::default();
    builder
        .tags(TAGS.iter().chain(&HEADINGS).copied().collect())
        .generic_attributes(GENERIC.iter().copied().collect())
        .tag_attributes(tag_attributes())
        .url_schemes(HashSet::from(["http", "https", "mailto", "tel", "cid"]))
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer nofollow"))
        .set_tag_attribute_value("a", "target", "_blank")
        .strip_comments(true)
        .attribute_filter(move |element, attribute, value| ctx.filter(element, attribute, value));
    let html = builder.clean(html).to_string();
    SafeHtml {
        html,
        blocked_remote_images: blocked.load(Ordering::Relaxed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(html: &str) -> SafeHtml {
        sanitize(
            html,
            &HtmlOptions {
                cid_base: "/emails/7/cid/".into(),
                remote_images: false,
            },
        )
    }

    #[test]
    fn scripts_handlers_and_dangerous_urls_are_gone() {
        let hostile = r#"<script>alert(1)</script><p onclick="x()" onmouseover="y()">Hi</p>
            <a href="javascript:alert(1)">js</a><a href=" JaVaScRiPt:alert(2)">js2</a>
            <a href="data:text/html,<script>">data</a><a href="/logout">rel</a>
            <iframe src="https://evil.test"></iframe><object data="x"></object>
            <embed src="x"><form action="https://evil.test"><input name="p"><button>Go</button></form>
            <meta http-equiv="refresh" content="0;url=https://evil.test"><base href="https://evil.test/">
            <svg onload="alert(1)"><script>alert(2)</script></svg><math><mi>x</mi></math>
            <style>body{background:url(https://evil.test/t.gif)}</style>
            <div style="width: expression(alert(1))">css</div><link rel="stylesheet" href="https://evil.test/s.css">"#;
        let out = clean(hostile).html;
        let lower = out.to_ascii_lowercase();
        for bad in [
            "<script",
            "onclick",
            "onmouseover",
            "javascript",
            "data:",
            "<iframe",
            "<object",
            "<embed",
            "<form",
            "<input",
            "<button",
            "<meta",
            "<base",
            "<svg",
            "onload",
            "<style",
            "expression",
            "<link",
            "evil.test",
            "href=\"/logout\"",
        ] {
            assert!(!lower.contains(bad), "{bad} survived in {out}");
        }
        assert!(out.contains("<p>Hi</p>"), "{out}");
        assert!(out.contains(">css</div>"));
    }

    #[test]
    fn links_open_outside_the_frame_without_referrer() {
        let out = clean(r#"<a href="https://acme.test/offer">Offer</a>"#).html;
        assert!(out.contains(r#"href="https://acme.test/offer""#), "{out}");
        assert!(out.contains(r#"target="_blank""#));
        assert!(out.contains("noopener") && out.contains("noreferrer"));
        let out = clean(r#"<a href="mailto:ann@acme.test">Ann</a>"#).html;
        assert!(out.contains("mailto:ann@acme.test"));
    }

    #[test]
    fn remote_images_wait_for_the_reader_and_cid_images_are_served_by_us() {
        let body = r#"<img src="https://tracker.test/p.gif" alt="pixel" width="1"><img src="cid:logo@acme.test" alt="Logo">
            <td style="background:url('https://tracker.test/bg.png')">cell</td>"#;
        let held = clean(body);
        assert!(held.blocked_remote_images);
        assert!(!held.html.contains("tracker.test"), "{}", held.html);
        assert!(
            held.html
                .contains(r#"src="/emails/7/cid/logo%40acme.test""#),
            "{}",
            held.html
        );
        assert!(held.html.contains(r#"alt="pixel""#));

        let shown = sanitize(
            body,
            &HtmlOptions {
                cid_base: "/emails/7/cid/".into(),
                remote_images: true,
            },
        );
        assert!(!shown.blocked_remote_images);
        assert!(shown.html.contains(r#"src="https://tracker.test/p.gif""#));
    }

    #[test]
    fn layout_markup_of_real_newsletters_survives() {
        let body = r##"<table width="600" cellpadding="0" bgcolor="#ffffff"><tr><td align="center" style="padding: 8px; color: #333">
            <font face="Arial" size="2"><b>Hello</b></font></td></tr></table>"##;
        let out = clean(body).html;
        for kept in [
            r#"width="600""#,
            r#"cellpadding="0""#,
            r##"bgcolor="#ffffff""##,
            r#"align="center""#,
            "padding: 8px",
            r#"face="Arial""#,
            "<b>Hello</b>",
        ] {
            assert!(out.contains(kept), "{kept} lost in {out}");
        }
        assert!(!clean(body).blocked_remote_images);
    }
}
