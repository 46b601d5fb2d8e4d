//! The container table: copies of one message collapsed, then JWZ parent links from each
//! message's own headers and from the References chains of others, never forming a cycle.
use std::cmp::Reverse;
use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{canonical_id, ThreadInput};
use crate::domain::message::MessageId;

/// One logical message: every copy (mailbox) of it merged.
pub(super) struct Msg {
    /// Caller keys, sorted and deduplicated (normally one).
    pub keys: Vec<String>,
    /// The earliest copy's date.
    pub date: DateTime<Utc>,
    pub subject: String,
    /// Canonical ids from the copy with the longest References.
    pub refs: Vec<String>,
    pub in_reply_to: Option<String>,
    /// `(mailbox, provider thread id)` of every copy that had one.
    pub hints: Vec<(i64, String)>,
}

impl Msg {
    pub fn has_headers(&self) -> bool {
        !self.refs.is_empty() || self.in_reply_to.is_some()
    }

    /// JWZ: the last reference, else In-Reply-To.
    fn parent_id(&self) -> Option<&str> {
        self.refs
            .last()
            .or(self.in_reply_to.as_ref())
            .map(String::as_str)
    }
}

/// A node of the id table; a placeholder (phantom) when `msg` is `None`.
pub(super) struct Container {
    /// The canonical Message-ID, or `None` for a message without one.
    pub id: Option<String>,
    pub message_id: Option<MessageId>,
    pub msg: Option<Msg>,
    pub parent: Option<usize>,
}

impl Container {
    /// What orders and names this container: its id, else its first key.
    pub fn name(&self) -> &str {
        self.id
            .as_deref()
            .or_else(|| {
                self.msg
                    .as_ref()
                    .and_then(|m| m.keys.first().map(String::as_str))
            })
            .unwrap_or_default()
    }

    pub fn date(&self) -> Option<DateTime<Utc>> {
        self.msg.as_ref().map(|m| m.date)
    }
}

pub(super) struct Table {
    pub nodes: Vec<Container>,
    /// Message containers in canonical order: by date, then name.
    pub order: Vec<usize>,
}

impl Table {
    /// Collapses copies (same Message-ID, or same key when there is none) into one container.
    pub fn build(inputs: &[ThreadInput]) -> Self {
        let mut groups: HashMap<(bool, String), Vec<&ThreadInput>> = HashMap::new();
        for input in inputs {
            let group = match &input.message_id {
                Some(id) => (true, canonical_id(id)),
                None => (false, input.key.clone()),
            };
            groups.entry(group).or_default().push(input);
        }
        let mut messages: Vec<Container> = groups
            .into_iter()
            .map(|((has_id, name), copies)| merge_copies(has_id.then_some(name), copies))
            .collect();
        messages.sort_by(|a, b| {
            (a.date(), a.id.is_none(), a.name()).cmp(&(b.date(), b.id.is_none(), b.name()))
        });
        let mut table = Self {
            order: (0..messages.len()).collect(),
            nodes: messages,
        };
        let mut index: HashMap<String, usize> = table
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.id.clone().map(|id| (id, i)))
            .collect();
        // Placeholders for every referenced id we do not hold, in a deterministic order.
        for pos in 0..table.order.len() {
            let msg = table.nodes[pos].msg.as_ref();
            let ids: Vec<String> = msg
                .map(|m| m.refs.iter().chain(&m.in_reply_to).cloned().collect())
                .unwrap_or_default();
            for id in ids {
                if !index.contains_key(&id) {
                    index.insert(id.clone(), table.nodes.len());
                    table.nodes.push(Container {
                        message_id: MessageId::parse(&format!("<{id}>")),
                        id: Some(id),
                        msg: None,
                        parent: None,
                    });
                }
            }
        }
        table.link(&index);
        table
    }

    /// A message's own headers decide its parent (JWZ step 1B); then, for containers whose
    /// parent no header of their own states (placeholders and header-less messages), the
    /// adjacent pairs of everyone's References, longest chain first (ties: earlier message).
    fn link(&mut self, index: &HashMap<String, usize>) {
        for pos in 0..self.order.len() {
            let parent = self.nodes[pos]
                .msg
                .as_ref()
                .and_then(Msg::parent_id)
                .and_then(|id| index.get(id).copied());
            if let Some(parent) = parent {
                self.try_link(parent, pos);
            }
        }
        let mut pairs: Vec<(Reverse<usize>, usize, usize, usize, usize)> = Vec::new();
        for pos in 0..self.order.len() {
            let Some(msg) = self.nodes[pos].msg.as_ref() else {
                continue;
            };
            let ids: Vec<usize> = msg
                .refs
                .iter()
                .filter_map(|r| index.get(r).copied())
                .collect();
            for (step, pair) in ids.windows(2).enumerate() {
                pairs.push((Reverse(msg.refs.len()), pos, step, pair[0], pair[1]));
            }
        }
        pairs.sort_unstable();
        for (_, _, _, parent, child) in pairs {
            let stated = self.nodes[child].msg.as_ref().is_some_and(Msg::has_headers);
            if !stated && self.nodes[child].parent.is_none() {
                self.try_link(parent, child);
            }
        }
    }

    /// Links unless that would make a cycle (self-links included).
    pub fn try_link(&mut self, parent: usize, child: usize) -> bool {
        let mut cursor = Some(parent);
        while let Some(at) = cursor {
            if at == child {
                return false;
            }
            cursor = self.nodes[at].parent;
        }
        self.nodes[child].parent = Some(parent);
        true
    }

    pub fn root_of(&self, mut at: usize) -> usize {
        while let Some(parent) = self.nodes[at].parent {
            at = parent;
        }
        at
    }

    /// A real message with no reply headers that ended up a root: the only kind the provider
    /// hint and the subject fallback may move.
    pub fn is_movable(&self, at: usize) -> bool {
        let node = &self.nodes[at];
        node.parent.is_none() && node.msg.as_ref().is_some_and(|m| !m.has_headers())
    }
}

fn merge_copies(id: Option<String>, mut copies: Vec<&ThreadInput>) -> Container {
    // The richest copy first: longest References, then one with In-Reply-To; the rest only
    // break ties so the choice never depends on input order.
    copies.sort_by(|a, b| {
        let rank = |c: &ThreadInput| (Reverse(c.references.len()), c.in_reply_to.is_none(), c.date);
        (
            rank(a),
            &a.key,
            a.mailbox,
            &a.subject,
            &a.provider_thread_id,
        )
            .cmp(&(
                rank(b),
                &b.key,
                b.mailbox,
                &b.subject,
                &b.provider_thread_id,
            ))
            .then_with(|| (&a.references, &a.in_reply_to).cmp(&(&b.references, &b.in_reply_to)))
    });
    let best = copies[0];
    let mut keys: Vec<String> = copies.iter().map(|c| c.key.clone()).collect();
    keys.sort();
    keys.dedup();
    let mut hints: Vec<(i64, String)> = copies
        .iter()
        .filter_map(|c| c.provider_thread_id.clone().map(|t| (c.mailbox, t)))
        .collect();
    hints.sort();
    hints.dedup();
    let mut refs: Vec<String> = Vec::new();
    for r in best.references.iter().map(canonical_id) {
        if !refs.contains(&r) {
            refs.push(r);
        }
    }
    Container {
        message_id: best.message_id.clone(),
        id,
        msg: Some(Msg {
            keys,
            date: copies.iter().map(|c| c.date).min().unwrap_or(best.date),
            subject: best.subject.clone(),
            refs,
            in_reply_to: best.in_reply_to.as_ref().map(canonical_id),
            hints,
        }),
        parent: None,
    }
}
