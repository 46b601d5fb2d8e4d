//! Which businesses and contacts an email involves, and why: a pure function over an in-memory
//! [`Directory`] and the email's participant addresses.
//!
//! Rules:
//! - a participant matches a contact by exact normalized address (`ann+crm@x` is not `ann@x`);
//! - a participant's host matches a business that lists that exact host (an explicit
//!   subdomain), else one that lists the host's registrable domain (Public Suffix List);
//!   intermediate levels are not inherited;
//! - free-mail / personal domains and the organization's internal domains (and their
//!   subdomains) never match a business by domain, but an exact contact address there still
//!   matches the contact;
//! - a matched contact's business is linked too;
//! - one link per target; a business matched both by domain and through a contact keeps
//!   `Domain`: it is direct evidence from this email, while a contact's business is a
//!   directory fact that may be stale (people change jobs, write from personal mail).
//!
//! Roles (from, to, cc, ...) do not change any rule, so the engine takes addresses only.
use std::collections::{BTreeMap, BTreeSet};

use super::address::EmailAddress;
pub use super::domains::DomainError;
use super::domains::{registrable, Domain};
use super::freemail::FreeMail;

/// What an email is linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Business(i64),
    Contact(i64),
}

/// Why an email is linked; stored in `email_links.reason` (an unknown stored text reads as
/// `Manual`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String", from_str = "Reason::from_stored")]
pub enum Reason {
    /// A participant's address is one of the contact's addresses.
    Address,
    /// A participant's domain is one of the business's domains.
    Domain,
    /// A matched contact belongs to the business.
    ContactBusiness,
    /// Linked by a person; never produced by [`associate`].
    Manual,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Address => "address",
            Self::Domain => "domain",
            Self::ContactBusiness => "contact_business",
            Self::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Address,
            Self::Domain,
            Self::ContactBusiness,
            Self::Manual,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// A stored text; one this version does not know reads as `Manual`.
    #[allow(clippy::unnecessary_wraps)]
    fn from_stored(s: &str) -> Result<Self, std::convert::Infallible> {
        Ok(Self::parse(s).unwrap_or(Self::Manual))
    }

    /// Higher wins when one target is matched for several reasons.
    fn strength(self) -> u8 {
        match self {
            Self::ContactBusiness => 1,
            Self::Domain | Self::Address => 2,
            Self::Manual => 3,
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One link of an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Link {
    pub target: Target,
    pub reason: Reason,
}

/// The organization's directory as the matcher needs it.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    business_domains: BTreeMap<String, i64>,
    contacts: BTreeMap<EmailAddress, (i64, Option<i64>)>,
    businesses: BTreeSet<i64>,
    free_mail: FreeMail,
    internal: BTreeSet<String>,
}

impl Directory {
    pub fn new(free_mail: FreeMail) -> Self {
        Self {
            free_mail,
            ..Self::default()
        }
    }

    /// A business and its domains (a business without domains may still be reached through
    /// its contacts).
    pub fn add_business(&mut self, business_id: i64, domains: impl IntoIterator<Item = Domain>) {
        self.businesses.insert(business_id);
        for domain in domains {
            self.business_domains
                .insert(domain.as_str().to_string(), business_id);
        }
    }

    /// One address of a contact, with the contact's business if it has one.
    pub fn add_contact_address(
        &mut self,
        address: EmailAddress,
        contact_id: i64,
        business_id: Option<i64>,
    ) {
        if let Some(b) = business_id {
            self.businesses.insert(b);
        }
        self.contacts.insert(address, (contact_id, business_id));
    }

    /// A domain of the organization itself (`ourco.com` also covers `eu.ourco.com`).
    pub fn add_internal_domain(&mut self, domain: &Domain) {
        self.internal.insert(domain.as_str().to_string());
    }

    pub fn has_business(&self, id: i64) -> bool {
        self.businesses.contains(&id)
    }

    pub fn has_contact(&self, id: i64) -> bool {
        self.contacts.values().any(|(c, _)| *c == id)
    }

    /// Is this host one of the organization's own domains or under one?
    pub fn is_internal(&self, host: &str) -> bool {
        self.internal.iter().any(|d| {
            host == d
                || host
                    .strip_suffix(d.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        })
    }

    pub fn is_free_mail(&self, host: &str) -> bool {
        self.free_mail.contains(host)
    }

    /// The business a host identifies: an exact listed domain, else its registrable domain.
    pub fn business_for_host(&self, host: &str) -> Option<i64> {
        if self.is_free_mail(host) || self.is_internal(host) {
            return None;
        }
        if let Some(id) = self.business_domains.get(host) {
            return Some(*id);
        }
        let reg = registrable(host)?;
        self.business_domains.get(&reg).copied()
    }

    /// The contact owning this exact address, with its business.
    pub fn contact_for(&self, address: &EmailAddress) -> Option<(i64, Option<i64>)> {
        self.contacts.get(address).copied()
    }
}

/// Every business and contact the participants involve, one link per target, sorted by target.
pub fn associate<'a>(
    directory: &Directory,
    participants: impl IntoIterator<Item = &'a EmailAddress>,
) -> Vec<Link> {
    let mut best: BTreeMap<Target, Reason> = BTreeMap::new();
    let mut offer = |target: Target, reason: Reason| {
        best.entry(target)
            .and_modify(|r| {
                if reason.strength() > r.strength() {
                    *r = reason;
                }
            })
            .or_insert(reason);
    };
    for address in participants {
        if let Some((contact, business)) = directory.contact_for(address) {
            offer(Target::Contact(contact), Reason::Address);
            if let Some(b) = business {
                offer(Target::Business(b), Reason::ContactBusiness);
            }
        }
        if let Some(b) = directory.business_for_host(address.domain()) {
            offer(Target::Business(b), Reason::Domain);
        }
    }
    best.into_iter()
        .map(|(target, reason)| Link { target, reason })
        .collect()
}

/// A domain typed by a person for a business: normalized, not a public suffix, not free-mail.
pub fn business_domain(input: &str, free_mail: &FreeMail) -> Result<Domain, DomainError> {
    let domain = Domain::parse(input)?;
    if domain.registrable().is_none() {
        return Err(DomainError::PublicSuffix(domain.to_string()));
    }
    if free_mail.contains(domain.as_str()) {
        return Err(DomainError::FreeMail(domain.to_string()));
    }
    Ok(domain)
}

#[cfg(test)]
#[path = "association_tests.rs"]
mod tests;
