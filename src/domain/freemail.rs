//! Free-mail and personal-mailbox domains: a domain here names a mail provider, not the
//! correspondent's business, so it never produces a business match.
//!
//! Source and criteria: the consumer mailbox providers that dominate the public free-mail lists
//! (HubSpot's "free email domains" list, the `free-email-domains` npm package, Twenty's
//! `email-providers`), kept to well-known providers that hand out personal addresses under their
//! own domain. Brands that register one domain per country (hotmail.co.uk, yahoo.fr, gmx.de) are
//! listed once as a brand and match `brand.<any public suffix>`. Organizations adjust the list
//! with [`FreeMail`] overrides (extra domains, and shipped domains removed).
use std::collections::BTreeSet;

use super::domains::registrable;

/// Exact registrable domains of free-mail and personal-mailbox providers.
pub const SHIPPED: &[&str] = &[
    "163.com",
    "126.com",
    "aim.com",
    "aol.com",
    "comcast.net",
    "duck.com",
    "fastmail.com",
    "fastmail.fm",
    "gmail.com",
    "googlemail.com",
    "hey.com",
    "hushmail.com",
    "icloud.com",
    "inbox.ru",
    "list.ru",
    "bk.ru",
    "mail.com",
    "mail.ru",
    "mac.com",
    "me.com",
    "msn.com",
    "naver.com",
    "pm.me",
    "proton.me",
    "protonmail.com",
    "protonmail.ch",
    "qq.com",
    "rambler.ru",
    "rocketmail.com",
    "sina.com",
    "t-online.de",
    "tuta.io",
    "tutanota.com",
    "web.de",
    "yeah.net",
    "ymail.com",
    "zoho.com",
    "zohomail.com",
];

/// Brands whose every `brand.<public suffix>` domain is free-mail (hotmail.fr, yahoo.co.jp).
pub const SHIPPED_BRANDS: &[&str] = &[
    "gmx", "hotmail", "libero", "live", "outlook", "yahoo", "yandex",
];

/// The shipped list as one organization sees it. Domains are lowercase ASCII.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FreeMail {
    /// Also free-mail for this organization.
    pub extra: BTreeSet<String>,
    /// Shipped domains this organization treats as business domains.
    pub removed: BTreeSet<String>,
}

impl FreeMail {
    /// Read the organization setting: a JSON array of domains; `-domain` removes a shipped one.
    /// Unreadable settings fall back to the shipped list alone.
    pub fn from_setting(json: &str) -> Self {
        let entries: Vec<String> = serde_json::from_str(json).unwrap_or_default();
        let mut list = Self::default();
        for entry in entries {
            let entry = entry.trim().to_ascii_lowercase();
            if let Some(removed) = entry.strip_prefix('-') {
                if !removed.is_empty() {
                    list.removed.insert(removed.to_string());
                }
            } else if !entry.is_empty() {
                list.extra.insert(entry);
            }
        }
        list
    }

    /// Is mail from this host (or any host under the same registrable domain) personal mail?
    pub fn contains(&self, host: &str) -> bool {
        let reg = registrable(host).unwrap_or_else(|| host.to_string());
        if self.removed.contains(host) || self.removed.contains(&reg) {
            return false;
        }
        if self.extra.contains(host) || self.extra.contains(&reg) {
            return true;
        }
        is_shipped(&reg)
    }
}

/// Is this registrable domain on the shipped list (exactly or as `brand.<suffix>`)?
pub fn is_shipped(reg: &str) -> bool {
    if SHIPPED.contains(&reg) {
        return true;
    }
    reg.split_once('.')
        .is_some_and(|(brand, _)| SHIPPED_BRANDS.contains(&brand))
}

#[cfg(test)]
mod tests {
    use super::FreeMail;

    #[test]
    fn shipped_brands_and_subdomains() {
        let list = FreeMail::default();
        for free in [
            "gmail.com",
            "hotmail.co.uk",
            "yahoo.co.jp",
            "gmx.de",
            "mx.gmail.com",
        ] {
            assert!(list.contains(free), "{free}");
        }
        for work in ["acme.com", "hotmailer.com", "gmail.acme.com", "mygmx.de"] {
            assert!(!list.contains(work), "{work}");
        }
    }

    #[test]
    fn organization_overrides() {
        let list = FreeMail::from_setting(r#"["Mailinator.com", "-gmx.de", "-"]"#);
        assert!(list.contains("mailinator.com"));
        assert!(!list.contains("gmx.de"));
        assert!(list.contains("gmx.net"));
        assert_eq!(FreeMail::from_setting("not json"), FreeMail::default());
    }
}
