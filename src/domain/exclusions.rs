//! Exclusion rules: an exact address or a domain (its subdomains included) whose mail is never
//! stored. Parsing normalizes like the rest of the code (addresses and domains lowercase, IDN in
//! ASCII); matching is over every participant of a message.
use std::collections::HashMap;

use super::address::EmailAddress;
use super::domains::{Domain, DomainError};

/// What a rule names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleKind {
    Address,
    Domain,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Address => "address",
            RuleKind::Domain => "domain",
        }
    }

    pub fn from_setting(s: &str) -> Self {
        if s == "domain" {
            RuleKind::Domain
        } else {
            RuleKind::Address
        }
    }
}

/// A rule as typed, normalized.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuleValue {
    pub kind: RuleKind,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("enter an email address (name@example.com) or a domain (example.com)")]
    Empty,
    #[error("{0}")]
    Address(#[from] super::address::AddressError),
    #[error("{0}")]
    Domain(String),
}

impl RuleValue {
    /// An address when the input has an `@`, else a domain; a domain must be someone's own
    /// (a public suffix such as `co.uk` would exclude the mail of countless owners).
    pub fn parse(input: &str) -> Result<Self, RuleError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(RuleError::Empty);
        }
        if input.contains('@') {
            let a = EmailAddress::parse(input)?;
            return Ok(Self {
                kind: RuleKind::Address,
                value: a.as_str().to_string(),
            });
        }
        let d = Domain::parse(input).map_err(|e| RuleError::Domain(e.to_string()))?;
        if d.registrable().is_none() {
            let e = DomainError::PublicSuffix(d.to_string());
            return Err(RuleError::Domain(e.to_string()));
        }
        Ok(Self {
            kind: RuleKind::Domain,
            value: d.as_str().to_string(),
        })
    }
}

/// The rules covering one mailbox (the organization's and its owner's), by value, for matching
/// messages in memory: `value -> rule id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclusions {
    addresses: HashMap<String, i64>,
    domains: HashMap<String, i64>,
}

impl Exclusions {
    pub fn new(rules: impl IntoIterator<Item = (i64, RuleValue)>) -> Self {
        let mut out = Self::default();
        for (id, r) in rules {
            let map = match r.kind {
                RuleKind::Address => &mut out.addresses,
                RuleKind::Domain => &mut out.domains,
            };
            map.entry(r.value).or_insert(id);
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty() && self.domains.is_empty()
    }

    /// The rule one of `addresses` matches, if any: an exact address, or a domain equal to or
    /// a parent of the address's domain.
    pub fn matching<'a>(
        &self,
        addresses: impl IntoIterator<Item = &'a EmailAddress>,
    ) -> Option<i64> {
        if self.is_empty() {
            return None;
        }
        for a in addresses {
            if let Some(id) = self.addresses.get(a.as_str()) {
                return Some(*id);
            }
            let mut host = a.domain();
            loop {
                if let Some(id) = self.domains.get(host) {
                    return Some(*id);
                }
                match host.split_once('.') {
                    Some((_, parent)) if parent.contains('.') => host = parent,
                    _ => break,
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    #[test]
    fn parses_and_normalizes() {
        let r = RuleValue::parse("  HR@Acme.Example ").unwrap();
        assert_eq!(
            (r.kind, r.value.as_str()),
            (RuleKind::Address, "hr@acme.example")
        );
        let r = RuleValue::parse("Bücher.Example.").unwrap();
        assert_eq!(
            (r.kind, r.value.as_str()),
            (RuleKind::Domain, "xn--bcher-kva.example")
        );
        for bad in [
            "",
            "  ",
            "a@",
            "@x.com",
            "not a domain",
            "localhost",
            "co.uk",
            "x@y",
        ] {
            assert!(RuleValue::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(RuleValue::parse("co.uk")
            .unwrap_err()
            .to_string()
            .contains("public suffix"));
    }

    #[test]
    fn matches_addresses_and_domains_with_subdomains() {
        let rules = Exclusions::new([
            (1, RuleValue::parse("hr@acme.example").unwrap()),
            (2, RuleValue::parse("bank.example").unwrap()),
        ]);
        assert_eq!(rules.matching([&a("hr@acme.example")]), Some(1));
        assert_eq!(rules.matching([&a("boss@acme.example")]), None);
        assert_eq!(rules.matching([&a("x@bank.example")]), Some(2));
        assert_eq!(rules.matching([&a("x@mail.eu.bank.example")]), Some(2));
        assert_eq!(rules.matching([&a("x@notbank.example")]), None);
        assert_eq!(rules.matching([&a("x@bank.example.org")]), None);
        assert_eq!(
            rules.matching([&a("a@other.example"), &a("b@bank.example")]),
            Some(2)
        );
        assert_eq!(Exclusions::default().matching([&a("x@bank.example")]), None);
    }
}
