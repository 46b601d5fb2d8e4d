//! From the linked container table to output trees: placeholders pruned, children ordered.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::jwz::Table;
use super::{Node, Thread};

/// Every root holding at least one message, with the message that speaks for it: the root's
/// own, else (a placeholder root) the earliest message below it.
pub(super) fn root_messages(table: &Table) -> BTreeMap<usize, usize> {
    let mut out: BTreeMap<usize, usize> = BTreeMap::new();
    for &at in &table.order {
        // `order` is canonical (date, name), so the first message seen per root is the earliest.
        let root = table.root_of(at);
        let speaker = if table.nodes[root].msg.is_some() {
            root
        } else {
            at
        };
        out.entry(root).or_insert(speaker);
    }
    out
}

pub(super) fn threads(table: &Table) -> Vec<Thread> {
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); table.nodes.len()];
    for (at, node) in table.nodes.iter().enumerate() {
        if let Some(parent) = node.parent {
            children[parent].push(at);
        }
    }
    let mut out: Vec<Thread> = root_messages(table)
        .into_keys()
        .filter_map(|root| {
            let container = &table.nodes[root];
            let thread_key = match (&container.id, &container.msg) {
                (Some(id), _) => format!("<{id}>"),
                (None, Some(msg)) => msg.keys.first()?.clone(),
                (None, None) => return None,
            };
            let mut pruned = prune(build(table, &children, root, 0), true);
            (pruned.len() == 1).then(|| Thread {
                thread_key,
                root: pruned.remove(0),
            })
        })
        .collect();
    out.sort_by(|a, b| (a.root.earliest(), &a.thread_key).cmp(&(b.root.earliest(), &b.thread_key)));
    out
}

/// Output trees nest at most this deep; deeper messages hang flat under the node at the limit,
/// in date order. Building, pruning and dropping nested nodes recurse, and a reply chain can be
/// thousands long; a tokio worker has a 2 MiB stack.
pub const MAX_DEPTH: usize = 256;

fn build(table: &Table, children: &[Vec<usize>], at: usize, depth: usize) -> Node {
    let kids = if depth + 1 < MAX_DEPTH {
        children[at]
            .iter()
            .map(|&child| build(table, children, child, depth + 1))
            .collect()
    } else {
        let mut below = Vec::new();
        let mut stack: Vec<usize> = children[at].clone();
        while let Some(next) = stack.pop() {
            below.push(leaf(table, next));
            stack.extend(&children[next]);
        }
        below
    };
    Node {
        children: kids,
        ..leaf(table, at)
    }
}

fn leaf(table: &Table, at: usize) -> Node {
    let container = &table.nodes[at];
    Node {
        message_id: container.message_id.clone(),
        keys: container
            .msg
            .as_ref()
            .map(|m| m.keys.clone())
            .unwrap_or_default(),
        date: container.date(),
        children: Vec::new(),
    }
}

/// JWZ step 4; returns the nodes that take this one's place.
fn prune(mut node: Node, is_root: bool) -> Vec<Node> {
    let mut kids: Vec<Node> = std::mem::take(&mut node.children)
        .into_iter()
        .flat_map(|child| prune(child, false))
        .collect();
    kids.sort_by_cached_key(sort_key);
    if !node.is_placeholder() {
        node.children = kids;
        return vec![node];
    }
    match (is_root, kids.len()) {
        (_, 0) => Vec::new(),
        (false, _) | (true, 1) => kids,
        (true, _) => {
            node.children = kids;
            vec![node]
        }
    }
}

fn sort_key(node: &Node) -> (Option<DateTime<Utc>>, String) {
    let name = node
        .message_id
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| node.keys.first().cloned())
        .unwrap_or_default();
    (node.date.or_else(|| node.earliest()), name)
}
