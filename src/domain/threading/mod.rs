//! Conversation threading, pure: JWZ over Message-ID, In-Reply-To and References across
//! providers and mailboxes, provider thread ids as a same-mailbox hint, a narrow subject fallback.
//!
//! The rules, in the order [`thread_with`] applies them:
//!
//! 1. **Copies collapse.** Inputs with the same Message-ID (the same mail in several mailboxes)
//!    are one node listing every key; the copy with the longest References supplies the headers,
//!    the earliest copy the date. Inputs without a Message-ID collapse only by equal `key`.
//! 2. **Own headers decide.** A message's parent is its last reference, else its In-Reply-To
//!    (References beat a conflicting In-Reply-To). Placeholders stand in for missing ids.
//! 3. **Chains fill the gaps.** Adjacent References pairs parent only containers whose parent no
//!    header of their own states (placeholders and header-less messages) and that have no parent
//!    yet; longer References chains are applied first, ties by the earlier message.
//!    No link that would make a cycle is ever added.
//! 4. **Provider hint.** Within one mailbox, messages with the same provider thread id form a
//!    group. Its anchor is the earliest member that has reply headers or already has a parent,
//!    else the earliest member. Every member with no In-Reply-To/References that is still a root
//!    joins the anchor's thread (under its root), bringing its own replies. Messages with reply
//!    headers are never moved by the hint, and groups never span mailboxes (Gmail `threadId`
//!    and Graph `conversationId` are per mailbox).
//! 5. **Subject fallback** (on by default): a message with no In-Reply-To/References that is
//!    still a root *and* whose subject carries a reply/forward marker (`Re:`, `Fwd:`, localized
//!    prefixes, `(fwd)`, `[Fwd: ...]`) joins, with its own replies, the thread whose root
//!    message (for a placeholder root: its earliest message) has the same non-empty base
//!    subject: the latest such root dated no later than it, else the earliest. Roots that are
//!    themselves such candidates are not targets. So a message with reply headers is never
//!    moved on subject, two header-backed threads are never merged on subject, subjects without
//!    a marker never merge, and two header-less replies whose original we lack stay apart.
//! 6. **Output.** Empty placeholders are pruned: dropped when childless, replaced by their
//!    children below the root, kept at the root only with two or more children. Children and
//!    threads are ordered by date, then name. `thread_key` is `<id>` of the root-most container
//!    *before pruning* (possibly a missing ancestor, so it does not change when that ancestor
//!    arrives), or the key of a root message without Message-ID.
//!
//! Processing runs in a canonical order (date, then id), so the result does not depend on input
//! order.
mod assign;
mod jwz;
mod subject;
mod tree;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

pub use assign::{assign, Assignment};
pub use subject::{base_subject, BaseSubject, DEFAULT_REPLY_PREFIXES};

use crate::domain::message::MessageId;
use jwz::Table;

/// One message as the threading engine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadInput {
    /// The message key, unique per logical message (see `MessageKey`).
    pub key: String,
    pub message_id: Option<MessageId>,
    pub in_reply_to: Option<MessageId>,
    /// Oldest first.
    pub references: Vec<MessageId>,
    pub subject: String,
    pub date: DateTime<Utc>,
    pub mailbox: i64,
    pub provider_thread_id: Option<String>,
}

/// Policy knobs; [`Default`] is what Threadline uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadOptions {
    /// Rule 5 of the module docs.
    pub subject_fallback: bool,
    /// Reply/forward leaders, case-insensitive, without the colon.
    pub reply_prefixes: Vec<String>,
}

impl Default for ThreadOptions {
    fn default() -> Self {
        Self {
            subject_fallback: true,
            reply_prefixes: DEFAULT_REPLY_PREFIXES.map(String::from).to_vec(),
        }
    }
}

/// One conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    /// Stable name of the conversation (module docs, rule 6).
    pub thread_key: String,
    pub root: Node,
}

/// A message, or a placeholder for a missing one (`keys` empty) that holds replies together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub message_id: Option<MessageId>,
    /// The input keys of this message (several only if inputs disagreed on keys).
    pub keys: Vec<String>,
    /// `None` for a placeholder.
    pub date: Option<DateTime<Utc>>,
    /// Ordered by date (a placeholder by its earliest descendant), then name.
    pub children: Vec<Node>,
}

impl Node {
    pub fn is_placeholder(&self) -> bool {
        self.keys.is_empty()
    }

    /// Every key in this subtree, depth first.
    pub fn keys(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_keys(&mut out);
        out
    }

    fn collect_keys<'n>(&'n self, out: &mut Vec<&'n str>) {
        out.extend(self.keys.iter().map(String::as_str));
        for child in &self.children {
            child.collect_keys(out);
        }
    }

    /// The earliest message date in this subtree.
    pub fn earliest(&self) -> Option<DateTime<Utc>> {
        self.children
            .iter()
            .filter_map(Node::earliest)
            .chain(self.date)
            .min()
    }
}

impl Thread {
    pub fn keys(&self) -> Vec<&str> {
        self.root.keys()
    }
}

/// [`thread_with`] with the default options.
pub fn thread(inputs: &[ThreadInput]) -> Vec<Thread> {
    thread_with(inputs, &ThreadOptions::default())
}

/// Groups `inputs` into threads following the rules in the module docs.
pub fn thread_with(inputs: &[ThreadInput], options: &ThreadOptions) -> Vec<Thread> {
    let mut table = Table::build(inputs);
    apply_provider_hints(&mut table);
    if options.subject_fallback {
        apply_subject_fallback(&mut table, &options.reply_prefixes);
    }
    tree::threads(&table)
}

/// The form ids are compared in: a quoted local part (`"abc"@x`) unquoted, so it matches `abc@x`.
pub(crate) fn canonical_id(id: &MessageId) -> String {
    let text = id.as_str();
    let Some((local, domain)) = text.rsplit_once('@') else {
        return text.to_string();
    };
    match local.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
        Some(inner) if !inner.is_empty() => {
            let mut out = String::with_capacity(text.len());
            let mut escaped = false;
            for c in inner.chars() {
                if c == '\\' && !escaped {
                    escaped = true;
                    continue;
                }
                escaped = false;
                out.push(c);
            }
            format!("{out}@{domain}")
        }
        _ => text.to_string(),
    }
}

/// Rule 4 of the module docs.
fn apply_provider_hints(table: &mut Table) {
    let mut groups: BTreeMap<(i64, String), Vec<usize>> = BTreeMap::new();
    for &at in &table.order {
        for hint in table.nodes[at].msg.iter().flat_map(|m| m.hints.iter()) {
            groups.entry(hint.clone()).or_default().push(at);
        }
    }
    for members in groups.values() {
        // Members are in canonical order: the anchor is the earliest one that cannot move,
        // else the earliest.
        let Some(&anchor) = members
            .iter()
            .find(|&&m| !table.is_movable(m))
            .or_else(|| members.first())
        else {
            continue;
        };
        let anchor_root = table.root_of(anchor);
        for &member in members {
            if member != anchor_root && table.is_movable(member) {
                table.try_link(anchor_root, member);
            }
        }
    }
}

/// Rule 5 of the module docs.
fn apply_subject_fallback(table: &mut Table, prefixes: &[String]) {
    let mut candidates = Vec::new();
    let mut targets: Vec<(String, DateTime<Utc>, &str, usize)> = Vec::new();
    for (root, first) in tree::root_messages(table) {
        let Some(msg) = table.nodes[first].msg.as_ref() else {
            continue;
        };
        let subject = base_subject(&msg.subject, prefixes);
        if subject.base.is_empty() {
            continue;
        }
        if table.is_movable(root) && subject.is_reply {
            candidates.push((root, subject.base, msg.date));
        } else {
            targets.push((subject.base, msg.date, table.nodes[root].name(), root));
        }
    }
    targets.sort_unstable();
    let links: Vec<(usize, usize)> = candidates
        .into_iter()
        .filter_map(|(at, base, date)| {
            let same: Vec<_> = targets.iter().filter(|t| t.0 == base).collect();
            let chosen = same.iter().rev().find(|t| t.1 <= date).or(same.first())?;
            Some((chosen.3, at))
        })
        .collect();
    for (target, at) in links {
        table.try_link(target, at);
    }
}
