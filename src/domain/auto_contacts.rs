//! Which contacts to create automatically when mail arrives, by the organization's policy: a
//! pure function over the [`Directory`] and one email's participants.
//!
//! Only people at a business the directory already knows (the association engine's domain
//! rule) qualify, so free-mail, internal and unknown domains never create contacts; an address
//! that already belongs to a contact is left alone.
use std::collections::BTreeSet;

use super::address::EmailAddress;
use super::association::Directory;

/// The organization's `auto_create_contacts` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AutoCreate {
    /// Never create contacts automatically.
    #[default]
    Off,
    /// From mail the mailbox owner sent: its external recipients.
    Sent,
    /// From any mail: every external participant.
    All,
}

impl AutoCreate {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Sent => "sent",
            Self::All => "all",
        }
    }

    /// Unknown values read as `Off`.
    pub fn from_setting(s: &str) -> Self {
        Self::parse(s).unwrap_or_default()
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Off, Self::Sent, Self::All]
            .into_iter()
            .find(|p| p.as_str() == s.trim())
    }
}

/// One participant of an email as the rule needs it.
#[derive(Debug, Clone, Copy)]
pub struct Person<'a> {
    pub address: &'a EmailAddress,
    pub name: &'a str,
    /// From (or Sender): the author rather than a recipient.
    pub author: bool,
}

/// A contact to create: its address, a name and the business its domain identifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    pub address: EmailAddress,
    pub name: String,
    pub business_id: i64,
}

/// The contacts an email should create under `policy`. `mailbox` is the address of the mailbox
/// the email was synced from: under `Sent`, only mail it authored counts.
pub fn contacts_to_create(
    policy: AutoCreate,
    directory: &Directory,
    mailbox: &EmailAddress,
    people: &[Person<'_>],
) -> Vec<NewContact> {
    let candidates: Vec<&Person<'_>> = match policy {
        AutoCreate::Off => return Vec::new(),
        AutoCreate::Sent => {
            if !people.iter().any(|p| p.author && p.address == mailbox) {
                return Vec::new();
            }
            people.iter().filter(|p| !p.author).collect()
        }
        AutoCreate::All => people.iter().collect(),
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for p in candidates {
        if p.address == mailbox
            || directory.contact_for(p.address).is_some()
            || !seen.insert(p.address)
        {
            continue;
        }
        if let Some(business_id) = directory.business_for_host(p.address.domain()) {
            out.push(NewContact {
                address: p.address.clone(),
                name: display_name(p.name, p.address),
                business_id,
            });
        }
    }
    out
}

/// The header's display name, else the address's local part.
fn display_name(name: &str, address: &EmailAddress) -> String {
    let name = name.trim().trim_matches(['"', '\'']).trim();
    if name.is_empty() || name.contains('@') {
        address.local_part().to_string()
    } else {
        name.chars().take(200).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{contacts_to_create, AutoCreate, Person};
    use crate::domain::address::EmailAddress;
    use crate::domain::association::Directory;
    use crate::domain::domains::Domain;
    use crate::domain::freemail::FreeMail;

    fn addr(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    fn directory() -> Directory {
        let mut dir = Directory::new(FreeMail::default());
        dir.add_business(1, [Domain::parse("acme.test").unwrap()]);
        dir.add_contact_address(addr("known@acme.test"), 9, Some(1));
        dir.add_internal_domain(&Domain::parse("ourco.test").unwrap());
        dir
    }

    #[test]
    fn policies() {
        let dir = directory();
        let me = addr("me@ourco.test");
        let (ann, known, zed, bob) = (
            addr("ann@mail.acme.test"),
            addr("known@acme.test"),
            addr("zed@gmail.com"),
            addr("bob@unknown.test"),
        );
        let sent = [
            Person {
                address: &me,
                name: "Me",
                author: true,
            },
            Person {
                address: &ann,
                name: "Ann A",
                author: false,
            },
            Person {
                address: &known,
                name: "",
                author: false,
            },
            Person {
                address: &zed,
                name: "Zed",
                author: false,
            },
            Person {
                address: &bob,
                name: "Bob",
                author: false,
            },
        ];
        let got = contacts_to_create(AutoCreate::Sent, &dir, &me, &sent);
        assert_eq!(got.len(), 1);
        assert_eq!(
            (
                got[0].address.as_str(),
                got[0].name.as_str(),
                got[0].business_id
            ),
            ("ann@mail.acme.test", "Ann A", 1)
        );
        assert!(contacts_to_create(AutoCreate::Off, &dir, &me, &sent).is_empty());

        let received = [
            Person {
                address: &ann,
                name: "",
                author: true,
            },
            Person {
                address: &me,
                name: "Me",
                author: false,
            },
        ];
        assert!(contacts_to_create(AutoCreate::Sent, &dir, &me, &received).is_empty());
        let got = contacts_to_create(AutoCreate::All, &dir, &me, &received);
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].name, "ann",
            "local part when there is no display name"
        );
    }

    #[test]
    fn parses_settings() {
        assert_eq!(AutoCreate::from_setting("sent"), AutoCreate::Sent);
        assert_eq!(AutoCreate::from_setting("bogus"), AutoCreate::Off);
        assert_eq!(AutoCreate::parse("all"), Some(AutoCreate::All));
    }
}
