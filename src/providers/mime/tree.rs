//! The MIME part tree as a flat, depth-capped list of nodes with Gmail-style part keys.
use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

/// No configuration may ask for deeper walks (body selection recurses once per level).
pub const HARD_MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Multipart {
    Alternative,
    Related,
    /// mixed, signed, report, digest, and any unknown subtype: children shown in order.
    Mixed,
}

#[derive(Debug)]
pub struct Node {
    /// Index into `Message::parts`.
    pub part: usize,
    /// Gmail `partId`: "" for the root, "0", "1" for its children, "1.0" below them.
    pub key: String,
    /// Place among the parent's parts (0 for the root).
    pub position: usize,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    /// Set for containers, even those whose children were cut by the depth cap.
    pub multipart: Option<Multipart>,
}

pub struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    /// Walks breadth-first from the root. A child id must come after its parent in
    /// `Message::parts` and be seen once, so malformed ids cannot make cycles or blow-ups.
    pub fn build(message: &Message<'_>, max_depth: usize) -> Self {
        let max_depth = max_depth.min(HARD_MAX_DEPTH);
        let parts = &message.parts;
        let mut nodes = Vec::new();
        if parts.is_empty() {
            return Self { nodes };
        }
        let mut seen = vec![false; parts.len()];
        seen[0] = true;
        nodes.push(Node {
            part: 0,
            key: String::new(),
            position: 0,
            parent: None,
            children: Vec::new(),
            multipart: None,
        });
        let mut depths = vec![0usize];
        let mut next = 0;
        while next < nodes.len() {
            let (part_index, depth) = (nodes[next].part, depths[next]);
            let Some(part) = parts.get(part_index) else {
                next += 1;
                continue;
            };
            if let PartType::Multipart(children) = &part.body {
                nodes[next].multipart = Some(multipart_kind(part));
                if depth < max_depth {
                    for (position, &child) in children.iter().enumerate() {
                        let child = child as usize;
                        if child <= part_index || child >= parts.len() || seen[child] {
                            continue;
                        }
                        seen[child] = true;
                        let parent_key = &nodes[next].key;
                        let key = if parent_key.is_empty() {
                            position.to_string()
                        } else {
                            format!("{parent_key}.{position}")
                        };
                        nodes.push(Node {
                            part: child,
                            key,
                            position,
                            parent: Some(next),
                            children: Vec::new(),
                            multipart: None,
                        });
                        depths.push(depth + 1);
                        let added = nodes.len() - 1;
                        nodes[next].children.push(added);
                    }
                }
            }
            next += 1;
        }
        Self { nodes }
    }

    pub fn part<'m, 'x>(
        &self,
        message: &'m Message<'x>,
        node: usize,
    ) -> Option<&'m MessagePart<'x>> {
        self.nodes.get(node).and_then(|n| message.parts.get(n.part))
    }

    /// Leaves (non-containers) in document order.
    pub fn leaves(&self) -> Vec<usize> {
        let mut leaves: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].multipart.is_none())
            .collect();
        leaves.sort_by_key(|&i| self.nodes[i].part);
        leaves
    }

    pub fn parent_kind(&self, node: usize) -> Option<Multipart> {
        let parent = self.nodes.get(node)?.parent?;
        self.nodes.get(parent)?.multipart
    }
}

fn multipart_kind(part: &MessagePart<'_>) -> Multipart {
    let subtype = part
        .content_type()
        .and_then(|ct| ct.subtype())
        .unwrap_or("");
    if subtype.eq_ignore_ascii_case("alternative") {
        Multipart::Alternative
    } else if subtype.eq_ignore_ascii_case("related") {
        Multipart::Related
    } else {
        Multipart::Mixed
    }
}

/// A Content-ID or `start` parameter without brackets or surrounding space.
pub fn bare_content_id(raw: &str) -> Option<String> {
    let id = raw
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!id.is_empty()).then(|| id.replace('\0', ""))
}
