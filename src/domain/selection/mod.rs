//! Which directory users an organization-wide connection syncs (issue 20 §2, §3), as one pure
//! function: the rules, the directory as the provider listed it (with what each queried rule
//! matched), the connection's current mailboxes and the addresses already taken in the
//! organization go in; the plan comes out: who is selected, which mailboxes to add, pause,
//! resume or rename, and who is skipped and why. The preview shows the plan; directory sync
//! applies it.
pub mod outcome;
pub mod rules;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};

pub use outcome::{Addition, Pause, PauseReason, Plan, Rename, Resume, Selected, Skip, SkipReason};
pub use rules::{Directory, Rule, RuleError, RuleKind};

/// The directory's word on a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UserState {
    Active,
    /// Microsoft: `accountEnabled` false.
    Disabled,
    /// Google: suspended.
    Suspended,
    /// Google: archived.
    Archived,
}

impl UserState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
            Self::Suspended => "suspended",
            Self::Archived => "archived",
        }
    }
}

/// A user as the directory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    /// The immutable id (Graph object id, Google user id).
    pub id: String,
    /// The primary address, lowercase.
    pub address: String,
    pub display_name: String,
    pub state: UserState,
    /// Whether the user has a mailbox (Graph: a `mail`; Google: `isMailboxSetup`).
    pub has_mailbox: bool,
    /// Microsoft: looks like a shared mailbox (sign-in disabled, no licence, a mailbox). Such
    /// users are chosen one by one, never by the all-users, filter or group rules.
    pub shared: bool,
}

/// The directory as read for one evaluation.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Every user of the directory.
    pub users: Vec<DirectoryUser>,
    /// For each queried rule (filter, org unit, group), by rule id: the ids it matched.
    pub matched: HashMap<i64, BTreeSet<String>>,
}

/// A mailbox the connection already syncs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub account_id: i64,
    pub directory_id: String,
    pub address: String,
    pub display_name: String,
    /// The mailbox is paused (by the directory, or by an admin).
    pub paused: bool,
    /// `mail_accounts.directory_state`: what the last directory sync said.
    pub directory_state: Option<String>,
}

/// Who already holds an address in the organization (same provider), other than this
/// connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// A mailbox its owner linked personally.
    Personal,
    /// A mailbox of another connection of the organization.
    OtherConnection,
}

/// The first inclusion rule that includes `u`, if any.
fn included_by(rules: &[Rule], listing: &Listing, u: &DirectoryUser) -> Option<RuleKind> {
    rules.iter().find_map(|r| {
        let hit = match r.kind {
            RuleKind::AllUsers => !u.shared,
            RuleKind::Filter | RuleKind::OrgUnit | RuleKind::Group => {
                !u.shared
                    && listing
                        .matched
                        .get(&r.id)
                        .is_some_and(|m| m.contains(&u.id))
            }
            RuleKind::Address | RuleKind::Shared => r.value == u.address,
            RuleKind::MaxCount | RuleKind::Exclude => false,
        };
        hit.then_some(r.kind)
    })
}

/// Where a listed user stands under the rules.
enum Standing {
    Selected(RuleKind),
    Out(PauseReason),
}

fn standing(
    rules: &[Rule],
    listing: &Listing,
    excluded: &BTreeSet<&str>,
    u: &DirectoryUser,
) -> Standing {
    let Some(via) = included_by(rules, listing, u) else {
        return Standing::Out(PauseReason::of_state(u.state).unwrap_or(PauseReason::NotSelected));
    };
    if excluded.contains(u.address.as_str()) {
        return Standing::Out(PauseReason::Excluded);
    }
    // A shared mailbox chosen by address has sign-in disabled by design.
    let chosen_shared = u.shared && matches!(via, RuleKind::Address | RuleKind::Shared);
    if let Some(reason) = PauseReason::of_state(u.state).filter(|_| !chosen_shared) {
        return Standing::Out(reason);
    }
    if !u.has_mailbox {
        return Standing::Out(PauseReason::NoMailbox);
    }
    Standing::Selected(via)
}

/// Evaluate `rules` against `listing`, compared with the connection's `current` mailboxes;
/// `taken`: addresses (lowercase) other mailboxes of the organization hold.
pub fn plan(
    rules: &[Rule],
    listing: &Listing,
    current: &[Current],
    taken: &BTreeMap<String, Taken>,
) -> Plan {
    let mut out = Plan::default();
    if !rules.iter().any(|r| r.kind.includes()) {
        out.no_rules = true;
        return out;
    }
    let excluded: BTreeSet<&str> = rules
        .iter()
        .filter(|r| r.kind == RuleKind::Exclude)
        .map(|r| r.value.as_str())
        .collect();
    let max = rules.iter().filter_map(Rule::max).min();
    let by_id: HashMap<&str, &Current> = current
        .iter()
        .map(|c| (c.directory_id.as_str(), c))
        .collect();

    // Users the rules select (one per id, then one per address), existing mailboxes first so a
    // maximum count never swaps a synced mailbox for a new one, then by address.
    let mut seen_ids = BTreeSet::new();
    let mut chosen: Vec<(&DirectoryUser, RuleKind)> = Vec::new();
    let mut out_of: HashMap<&str, PauseReason> = HashMap::new();
    for u in &listing.users {
        if !seen_ids.insert(u.id.as_str()) {
            continue;
        }
        match standing(rules, listing, &excluded, u) {
            Standing::Selected(via) => chosen.push((u, via)),
            Standing::Out(reason) => {
                out_of.insert(u.id.as_str(), reason);
            }
        }
    }
    chosen.sort_by(|(a, _), (b, _)| {
        let (ea, eb) = (
            by_id.contains_key(a.id.as_str()),
            by_id.contains_key(b.id.as_str()),
        );
        eb.cmp(&ea)
            .then_with(|| a.address.cmp(&b.address))
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut seen_addresses = BTreeSet::new();
    chosen.retain(|(u, _)| seen_addresses.insert(u.address.as_str()));
    if let Some(max) = max {
        if chosen.len() > max {
            out.over_max = chosen.len() - max;
            for (u, _) in chosen.drain(max..) {
                out_of.insert(u.id.as_str(), PauseReason::OverMax);
            }
        }
    }

    // Addresses held by this connection's other mailboxes, for renames.
    let own_addresses: HashMap<&str, &str> = current
        .iter()
        .map(|c| (c.address.as_str(), c.directory_id.as_str()))
        .collect();

    for (u, via) in &chosen {
        let existing = by_id.get(u.id.as_str()).copied();
        out.selected.push(Selected {
            directory_id: u.id.clone(),
            address: u.address.clone(),
            display_name: u.display_name.clone(),
            via: *via,
            existing: existing.is_some(),
        });
        if let Some(c) = existing {
            if c.paused
                && c.directory_state
                    .as_deref()
                    .is_some_and(|s| s != UserState::Active.as_str())
            {
                out.resume.push(Resume {
                    account_id: c.account_id,
                    address: u.address.clone(),
                });
            }
            continue;
        }
        let reason = match taken.get(&u.address) {
            Some(Taken::Personal) => Some(SkipReason::LinkedByOwner),
            Some(Taken::OtherConnection) => Some(SkipReason::OtherConnection),
            None if own_addresses.contains_key(u.address.as_str()) => {
                Some(SkipReason::AddressInUse)
            }
            None => None,
        };
        match reason {
            Some(reason) => out.skip.push(Skip {
                address: u.address.clone(),
                reason,
            }),
            None => out.add.push(Addition {
                directory_id: u.id.clone(),
                address: u.address.clone(),
                display_name: u.display_name.clone(),
            }),
        }
    }

    let listed: HashMap<&str, &DirectoryUser> =
        listing.users.iter().map(|u| (u.id.as_str(), u)).collect();
    for c in current {
        let user = listed.get(c.directory_id.as_str()).copied();
        if let Some(u) = user {
            let moved = u.address != c.address && u.has_mailbox && !u.address.is_empty();
            let new_address = if moved
                && !taken.contains_key(&u.address)
                && !own_addresses.contains_key(u.address.as_str())
            {
                Some(u.address.clone())
            } else {
                if moved {
                    out.skip.push(Skip {
                        address: u.address.clone(),
                        reason: SkipReason::RenameTaken,
                    });
                }
                None
            };
            if new_address.is_some() || u.display_name != c.display_name {
                out.rename.push(Rename {
                    account_id: c.account_id,
                    old_address: c.address.clone(),
                    new_address: new_address.unwrap_or_else(|| c.address.clone()),
                    display_name: u.display_name.clone(),
                });
            }
        }
        let reason = match user {
            None => Some(PauseReason::Removed),
            Some(u) => out_of.get(u.id.as_str()).copied(),
        };
        if let Some(reason) = reason {
            let flagged = c.directory_state.as_deref() == Some(reason.as_str());
            if !(c.paused && flagged) {
                out.pause.push(Pause {
                    account_id: c.account_id,
                    address: c.address.clone(),
                    reason,
                    already_paused: c.paused,
                });
            }
        }
    }

    // Addresses chosen one by one that selected nobody.
    for r in rules
        .iter()
        .filter(|r| matches!(r.kind, RuleKind::Address | RuleKind::Shared))
    {
        if out.selected.iter().any(|s| s.address == r.value) || excluded.contains(r.value.as_str())
        {
            continue;
        }
        let reason = match listing.users.iter().find(|u| u.address == r.value) {
            None => SkipReason::Unknown,
            Some(u) if !u.has_mailbox => SkipReason::NoMailbox,
            Some(u) if out_of.get(u.id.as_str()) == Some(&PauseReason::OverMax) => continue,
            Some(_) => SkipReason::Inactive,
        };
        if !out.skip.iter().any(|s| s.address == r.value) {
            out.skip.push(Skip {
                address: r.value.clone(),
                reason,
            });
        }
    }
    out.skip.sort_by(|a, b| a.address.cmp(&b.address));
    out.selected.sort_by(|a, b| a.address.cmp(&b.address));
    out
}

/// The shared-mailbox candidates of a listing (Microsoft), by address, for choosing one by one.
pub fn shared_candidates(listing: &Listing) -> Vec<&DirectoryUser> {
    let mut v: Vec<&DirectoryUser> = listing
        .users
        .iter()
        .filter(|u| u.shared && u.has_mailbox)
        .collect();
    v.sort_by(|a, b| a.address.cmp(&b.address));
    v
}
