//! Which parts are the message's text and HTML bodies (the way mail clients choose), their
//! decoded text, the size caps and the snippet.
use std::collections::HashSet;

use mail_parser::{ContentType, Message, MimeHeaders, PartType};

use super::html;
use super::tree::{bare_content_id, Multipart, Tree};

/// How many characters of text a snippet keeps.
pub const SNIPPET_CHARS: usize = 200;

#[derive(Debug, Default)]
pub struct Bodies {
    pub text: Option<String>,
    pub html: Option<String>,
    pub truncated: bool,
    pub snippet: String,
    /// Tree nodes shown as a body, so not listed as attachments.
    pub body_nodes: HashSet<usize>,
    /// `cid:` targets referenced by the HTML bodies (lowercase), before truncation.
    pub cid_refs: HashSet<String>,
}

#[derive(Debug, Default)]
struct Selection {
    text: Vec<usize>,
    html: Vec<usize>,
}

pub fn extract(message: &Message<'_>, tree: &Tree, max_body_bytes: usize) -> Bodies {
    let selection = if tree.nodes.is_empty() {
        Selection::default()
    } else {
        select(message, tree, 0)
    };
    let mut text = join(message, tree, &selection.text);
    let mut html = join(message, tree, &selection.html);
    let cid_refs = html
        .as_deref()
        .map(html::cid_references)
        .unwrap_or_default();
    let mut truncated = false;
    for body in [&mut text, &mut html].into_iter().flatten() {
        truncated |= truncate_at_char_boundary(body, max_body_bytes);
    }
    let snippet = match (&text, &html) {
        (Some(text), _) => snippet(text),
        (None, Some(html)) => snippet(&html::to_text(html, SNIPPET_CHARS * 4)),
        (None, None) => String::new(),
    };
    Bodies {
        text,
        html,
        truncated,
        snippet,
        body_nodes: selection.text.into_iter().chain(selection.html).collect(),
        cid_refs,
    }
}

/// RFC 2046 semantics: the last alternative a client can show is the best, only the root of a
/// `related` group is content, and every inline body part of a `mixed` is shown in order.
fn select(message: &Message<'_>, tree: &Tree, node: usize) -> Selection {
    let Some(current) = tree.nodes.get(node) else {
        return Selection::default();
    };
    match current.multipart {
        None => select_leaf(message, tree, node),
        Some(Multipart::Alternative) => {
            let mut best = Selection::default();
            for &child in &current.children {
                let choice = select(message, tree, child);
                if !choice.text.is_empty() {
                    best.text = choice.text;
                }
                if !choice.html.is_empty() {
                    best.html = choice.html;
                }
            }
            best
        }
        Some(Multipart::Related) => related_root(message, tree, node)
            .map(|root| select(message, tree, root))
            .unwrap_or_default(),
        Some(Multipart::Mixed) => {
            let mut all = Selection::default();
            for &child in &current.children {
                let choice = select(message, tree, child);
                all.text.extend(choice.text);
                all.html.extend(choice.html);
            }
            all
        }
    }
}

/// The child named by the `start` parameter (RFC 2387), else the first.
fn related_root(message: &Message<'_>, tree: &Tree, node: usize) -> Option<usize> {
    let current = tree.nodes.get(node)?;
    let start = tree
        .part(message, node)
        .and_then(|p| p.content_type())
        .and_then(|ct| ct.attribute("start"))
        .and_then(bare_content_id);
    start
        .and_then(|start| {
            current.children.iter().copied().find(|&child| {
                tree.part(message, child)
                    .and_then(|p| p.content_id())
                    .and_then(bare_content_id)
                    .is_some_and(|id| id == start)
            })
        })
        .or_else(|| current.children.first().copied())
}

/// A text/plain or text/html leaf is a body unless it is an attachment: disposition
/// `attachment`, or a file name on a part that is not first in its multipart (the RFC 8621
/// §4.1.4 rule: a named first part is how some clients send the body itself).
fn select_leaf(message: &Message<'_>, tree: &Tree, node: usize) -> Selection {
    let mut selection = Selection::default();
    let Some(part) = tree.part(message, node) else {
        return selection;
    };
    let disposition_attachment = part
        .content_disposition()
        .is_some_and(ContentType::is_attachment);
    let position = tree.nodes.get(node).map_or(0, |n| n.position);
    let named = position > 0 && part.attachment_name().is_some_and(|n| !n.trim().is_empty());
    if disposition_attachment || named {
        return selection;
    }
    let plain = part.content_type().is_none_or(|ct| {
        ct.ctype().eq_ignore_ascii_case("text")
            && ct.subtype().is_none_or(|s| s.eq_ignore_ascii_case("plain"))
    });
    match &part.body {
        PartType::Html(_) => selection.html.push(node),
        PartType::Text(_) if plain => selection.text.push(node),
        _ => {}
    }
    selection
}

/// The decoded text of the chosen parts, line endings as `\n`, NULs dropped (PostgreSQL text
/// cannot hold them); None when there is nothing but whitespace.
fn join(message: &Message<'_>, tree: &Tree, nodes: &[usize]) -> Option<String> {
    let mut out = String::new();
    for &node in nodes {
        let Some(text) = tree.part(message, node).and_then(|p| p.text_contents()) else {
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&clean_text(text));
    }
    (!out.trim().is_empty()).then_some(out)
}

pub(super) fn clean_text(text: &str) -> String {
    if !text.contains(['\r', '\0']) {
        return text.to_string();
    }
    text.replace("\r\n", "\n")
        .replace(['\r'], "\n")
        .replace('\0', "")
}

/// Cuts `text` to at most `max_bytes`, backing up to a char boundary. Returns whether it cut.
pub fn truncate_at_char_boundary(text: &mut String, max_bytes: usize) -> bool {
    if text.len() <= max_bytes {
        return false;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    true
}

/// About [`SNIPPET_CHARS`] characters of visible text: whitespace collapsed, invisible
/// formatting characters (preheader padding in marketing mail) dropped.
pub fn snippet(text: &str) -> String {
    let mut out = String::new();
    let mut count = 0;
    let mut space = false;
    for c in text.chars() {
        if is_invisible(c) {
            continue;
        }
        if c.is_whitespace() || c.is_control() {
            space = true;
            continue;
        }
        let gap = space && !out.is_empty();
        if count + 1 + usize::from(gap) > SNIPPET_CHARS {
            break;
        }
        if gap {
            out.push(' ');
            count += 1;
        }
        space = false;
        out.push(c);
        count += 1;
    }
    out
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}' | '\u{034f}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}'
    )
}
