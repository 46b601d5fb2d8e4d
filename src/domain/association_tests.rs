//! Table-driven and property tests of the association rules.
use proptest::prelude::*;

use super::{associate, business_domain, Directory, Link, Reason, Target};
use crate::domain::address::EmailAddress;
use crate::domain::domains::{Domain, DomainError};
use crate::domain::freemail::FreeMail;

fn d(s: &str) -> Domain {
    Domain::parse(s).unwrap()
}

fn a(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn directory() -> Directory {
    let mut dir = Directory::new(FreeMail::from_setting(r#"["corp-mail.net", "-gmx.net"]"#));
    dir.add_business(1, [d("acme.co.uk")]);
    dir.add_business(2, [d("globex.com.au")]);
    dir.add_business(3, [d("initech.com")]);
    dir.add_business(4, [d("eu.initech.com")]);
    dir.add_business(5, [d("acme.github.io")]);
    dir.add_business(6, [d("bücher.de")]);
    dir.add_business(7, [d("hotmailer.com")]);
    dir.add_business(8, [d("gmx.net")]);
    // Directory rows that validation would refuse today (settings change): never matched.
    dir.add_business(9, [d("eu.ourco.com"), d("corp-mail.net"), d("gmail.com")]);
    dir.add_contact_address(a("ann@acme.co.uk"), 10, Some(1));
    dir.add_contact_address(a("bob@initech.com"), 11, Some(3));
    dir.add_contact_address(a("carol.personal@gmail.com"), 12, Some(2));
    dir.add_contact_address(a("dave@gmail.com"), 13, None);
    dir.add_contact_address(a("erin@sub.globex.com.au"), 15, Some(1));
    dir.add_contact_address(a("frank@ourco.com"), 16, None);
    dir.add_internal_domain(&d("ourco.com"));
    dir
}

fn show(links: &[Link]) -> Vec<String> {
    links
        .iter()
        .map(|l| {
            let (kind, id) = match l.target {
                Target::Business(id) => ("b", id),
                Target::Contact(id) => ("c", id),
            };
            format!("{kind}{id}:{}", l.reason.as_str())
        })
        .collect()
}

#[test]
#[allow(clippy::too_many_lines)]
fn matching_table() {
    let dir = directory();
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "contact and its domain",
            &["ann@acme.co.uk"],
            &["b1:domain", "c10:address"],
        ),
        (
            "case and whitespace",
            &["  ANN@Acme.CO.UK "],
            &["b1:domain", "c10:address"],
        ),
        ("co.uk registrable", &["zed@acme.co.uk"], &["b1:domain"]),
        ("co.uk subdomain", &["zed@mail.acme.co.uk"], &["b1:domain"]),
        ("bare public suffix co.uk", &["zed@co.uk"], &[]),
        ("com.au registrable", &["x@globex.com.au"], &["b2:domain"]),
        (
            "com.au deep subdomain",
            &["x@deep.sub.globex.com.au"],
            &["b2:domain"],
        ),
        ("bare public suffix com.au", &["x@com.au"], &[]),
        ("plain .com", &["x@initech.com"], &["b3:domain"]),
        (
            "explicit subdomain wins",
            &["x@eu.initech.com"],
            &["b4:domain"],
        ),
        (
            "unlisted subdomain -> registrable",
            &["x@mail.initech.com"],
            &["b3:domain"],
        ),
        (
            "explicit subdomain not inherited",
            &["x@x.eu.initech.com"],
            &["b3:domain"],
        ),
        (
            "private suffix github.io",
            &["x@acme.github.io"],
            &["b5:domain"],
        ),
        ("other github.io site", &["x@other.github.io"], &[]),
        ("IDN unicode", &["x@BÜCHER.de"], &["b6:domain"]),
        ("IDN punycode", &["x@xn--bcher-kva.de"], &["b6:domain"]),
        (
            "contact by address",
            &["bob@initech.com"],
            &["b3:domain", "c11:address"],
        ),
        (
            "plus-address is distinct",
            &["bob+news@initech.com"],
            &["b3:domain"],
        ),
        (
            "free-mail contact with business",
            &["carol.personal@gmail.com"],
            &["b2:contact_business", "c12:address"],
        ),
        ("free-mail stranger", &["random@gmail.com"], &[]),
        (
            "free-mail plus-address of contact",
            &["dave+x@gmail.com"],
            &[],
        ),
        (
            "free-mail contact without business",
            &["dave@gmail.com"],
            &["c13:address"],
        ),
        ("free-mail brand, other country", &["x@hotmail.co.uk"], &[]),
        ("free-mail brand, .co.jp", &["x@yahoo.co.jp"], &[]),
        ("free-mail subdomain", &["x@mx.gmail.com"], &[]),
        (
            "brand prefix is not the brand",
            &["x@hotmailer.com"],
            &["b7:domain"],
        ),
        ("internal domain", &["x@ourco.com"], &[]),
        (
            "internal subdomain beats listed domain",
            &["x@eu.ourco.com"],
            &[],
        ),
        (
            "internal contact still matches",
            &["frank@ourco.com"],
            &["c16:address"],
        ),
        ("organization extra free-mail", &["x@corp-mail.net"], &[]),
        (
            "organization removed free-mail",
            &["x@gmx.net"],
            &["b8:domain"],
        ),
        ("shipped brand still free", &["x@gmx.de"], &[]),
        (
            "several participants",
            &["erin@sub.globex.com.au", "ann@acme.co.uk"],
            &["b1:domain", "b2:domain", "c10:address", "c15:address"],
        ),
        (
            "domain beats contact's business",
            &["carol.personal@gmail.com", "x@globex.com.au"],
            &["b2:domain", "c12:address"],
        ),
        (
            "contact's business via other contact",
            &["erin@sub.globex.com.au"],
            &["b1:contact_business", "b2:domain", "c15:address"],
        ),
        (
            "duplicates collapse",
            &["ann@acme.co.uk", "Ann@acme.co.uk"],
            &["b1:domain", "c10:address"],
        ),
        ("nobody", &[], &[]),
    ];
    assert!(cases.len() >= 25);
    for (name, participants, want) in cases {
        let addresses: Vec<EmailAddress> = participants.iter().map(|p| a(p)).collect();
        let got = show(&associate(&dir, &addresses));
        assert_eq!(got, *want, "{name}");
    }
}

#[test]
fn business_domains_typed_by_people() {
    let free = FreeMail::from_setting(r#"["corp-mail.net"]"#);
    let ok = [
        ("Acme.co.uk", "acme.co.uk"),
        (" mail.acme.co.uk. ", "mail.acme.co.uk"),
        ("Bücher.de", "xn--bcher-kva.de"),
        ("acme.github.io", "acme.github.io"),
    ];
    for (input, want) in ok {
        assert_eq!(
            business_domain(input, &free).unwrap().as_str(),
            want,
            "{input}"
        );
    }
    let bad = [
        ("co.uk", DomainError::PublicSuffix("co.uk".into())),
        ("github.io", DomainError::PublicSuffix("github.io".into())),
        ("com", DomainError::Malformed),
        ("gmail.com", DomainError::FreeMail("gmail.com".into())),
        ("hotmail.fr", DomainError::FreeMail("hotmail.fr".into())),
        (
            "corp-mail.net",
            DomainError::FreeMail("corp-mail.net".into()),
        ),
        ("not a domain", DomainError::Malformed),
        ("ann@acme.com", DomainError::Malformed),
    ];
    for (input, want) in bad {
        assert_eq!(business_domain(input, &free), Err(want), "{input}");
    }
}

#[test]
fn reasons_round_trip() {
    for r in [
        Reason::Address,
        Reason::Domain,
        Reason::ContactBusiness,
        Reason::Manual,
    ] {
        assert_eq!(Reason::parse(r.as_str()), Some(r));
    }
    assert_eq!(Reason::parse("nope"), None);
}

const HOSTS: &[&str] = &[
    "acme.co.uk",
    "mail.acme.co.uk",
    "globex.com.au",
    "initech.com",
    "eu.initech.com",
    "x.github.io",
    "gmail.com",
    "hotmail.fr",
    "corp-mail.net",
    "ourco.com",
    "eu.ourco.com",
    "co.uk",
];
const LOCALS: &[&str] = &["ann", "ann+crm", "bob"];

fn address(i: usize) -> EmailAddress {
    a(&format!(
        "{}@{}",
        LOCALS[i % LOCALS.len()],
        HOSTS[i / LOCALS.len() % HOSTS.len()]
    ))
}

type Spec = (
    Vec<(usize, i64)>,
    Vec<(usize, i64, Option<i64>)>,
    Vec<usize>,
);

fn spec() -> impl Strategy<Value = Spec> {
    let n = HOSTS.len() * LOCALS.len();
    (
        prop::collection::vec((0..HOSTS.len(), 1..6_i64), 0..8),
        prop::collection::vec((0..n, 10..16_i64, prop::option::of(1..8_i64)), 0..8),
        prop::collection::vec(0..n, 0..10),
    )
}

fn build(businesses: &[(usize, i64)], contacts: &[(usize, i64, Option<i64>)]) -> Directory {
    let mut dir = Directory::new(FreeMail::from_setting(r#"["corp-mail.net"]"#));
    dir.add_internal_domain(&d("ourco.com"));
    for (host, id) in businesses {
        dir.add_business(*id, [d(HOSTS[*host])]);
    }
    for (addr, id, business) in contacts {
        dir.add_contact_address(address(*addr), *id, *business);
    }
    dir
}

proptest! {
    #[test]
    fn deterministic_and_order_independent(
        (businesses, contacts, participants) in spec(),
        seed in any::<u64>(),
    ) {
        let dir = build(&businesses, &contacts);
        let addrs: Vec<EmailAddress> = participants.iter().map(|i| address(*i)).collect();
        let mut shuffled = addrs.clone();
        // A seeded Fisher-Yates keeps the shuffle reproducible from the proptest seed.
        let mut state = seed;
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let j = usize::try_from(state >> 33).unwrap() % (i + 1);
            shuffled.swap(i, j);
        }
        let first = associate(&dir, &addrs);
        prop_assert_eq!(&first, &associate(&dir, &addrs));
        prop_assert_eq!(&first, &associate(&dir, &shuffled));
    }

    #[test]
    fn links_are_unique_and_exist((businesses, contacts, participants) in spec()) {
        let dir = build(&businesses, &contacts);
        let addrs: Vec<EmailAddress> = participants.iter().map(|i| address(*i)).collect();
        let links = associate(&dir, &addrs);
        let mut targets: Vec<Target> = links.iter().map(|l| l.target).collect();
        targets.dedup();
        prop_assert_eq!(targets.len(), links.len());
        for link in &links {
            match link.target {
                Target::Business(id) => prop_assert!(dir.has_business(id)),
                Target::Contact(id) => prop_assert!(dir.has_contact(id)),
            }
            prop_assert_ne!(link.reason, Reason::Manual);
        }
    }

    #[test]
    fn no_business_from_free_mail_or_internal((businesses, contacts, participants) in spec()) {
        let dir = build(&businesses, &contacts);
        for i in participants {
            let addr = address(i);
            let host = addr.domain();
            let links = associate(&dir, [&addr]);
            let by_domain = links.iter().any(|l| l.reason == Reason::Domain);
            if dir.is_free_mail(host) || dir.is_internal(host) {
                prop_assert!(!by_domain, "{} produced a domain link", addr);
            }
            if dir.contact_for(&addr).is_none() {
                prop_assert!(links.iter().all(|l| l.reason == Reason::Domain));
            }
        }
    }
}
