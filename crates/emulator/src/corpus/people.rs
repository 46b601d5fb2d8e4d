//! The cast of the generated corpus: our organization's colleagues, businesses (with
//! subdomains and multi-part public suffixes) and their contacts, free-mail correspondents
//! and newsletters.

/// Our organization's domain; generated mailboxes live here.
pub const ORG_DOMAIN: &str = "northwind-labs.test";

/// `(display name, local part)` of colleagues.
pub const COLLEAGUES: &[(&str, &str)] = &[
    ("Alice Martin", "alice"),
    ("Bruno Keller", "bruno"),
    ("Chloé Dubois", "chloe"),
    ("Dmitri Volkov", "dmitri"),
    ("Eva Lindqvist", "eva"),
    ("Farid Haddad", "farid"),
    ("Grace O'Neill", "grace"),
    ("Hiro Tanaka", "hiro"),
];

/// A business and its people.
pub struct Business {
    pub name: &'static str,
    /// Domain people write from (may be a subdomain of the registrable domain).
    pub mail_domain: &'static str,
    pub contacts: &'static [(&'static str, &'static str)],
    pub topics: &'static [&'static str],
}

pub const BUSINESSES: &[Business] = &[
    Business {
        name: "Acme Trading Ltd",
        mail_domain: "mail.acme.co.uk",
        contacts: &[
            ("Oliver Smith", "oliver.smith"),
            ("Amelia Jones", "amelia.jones"),
        ],
        topics: &[
            "Pricing for Q3 order",
            "Delivery schedule",
            "Invoice 4471 query",
        ],
    },
    Business {
        name: "Globex Australia",
        mail_domain: "globex.com.au",
        contacts: &[("Jack Wilson", "jack"), ("Charlotte Brown", "charlotte.b")],
        topics: &["Renewal of support contract", "Site visit next week"],
    },
    Business {
        name: "Initech",
        mail_domain: "eu.initech.com",
        contacts: &[("Peter Gibbons", "pgibbons"), ("Joanna Müller", "jmuller")],
        topics: &[
            "TPS report integration",
            "Onboarding call",
            "Security questionnaire",
        ],
    },
    Business {
        name: "Umbrella Logistik GmbH",
        mail_domain: "umbrella-logistik.de",
        contacts: &[("Jürgen Weiß", "j.weiss"), ("Sabine Krüger", "s.krueger")],
        topics: &["Angebot Lagerfläche", "Lieferung Nr. 8812"],
    },
    Business {
        name: "Soylent Foods",
        mail_domain: "soylent.co.nz",
        contacts: &[("Mia Taylor", "mia"), ("Liam Walker", "liam")],
        topics: &["Sample shipment", "Contract draft v2"],
    },
    Business {
        name: "Tanaka Shoji",
        mail_domain: "tanaka-shoji.co.jp",
        contacts: &[("山田 太郎", "yamada"), ("佐藤 花子", "sato")],
        topics: &["お見積りのご依頼", "Meeting in Osaka"],
    },
];

/// Free-mail correspondents `(name, address)`.
pub const FREEMAIL: &[(&str, &str)] = &[
    ("Sam Rivera", "sam.rivera84@gmail.com"),
    ("Lucía Fernández", "lucia.fdez@outlook.com"),
    ("Tom Baker", "tombaker_77@yahoo.com"),
    ("Nadia Petrova", "nadia.petrova@gmail.com"),
];

/// Newsletter senders `(name, address, list id)`.
pub const NEWSLETTERS: &[(&str, &str, &str)] = &[
    (
        "SaaS Weekly",
        "news@updates.saasweekly.io",
        "weekly.saasweekly.io",
    ),
    (
        "Acme Product News",
        "no-reply@news.acme.co.uk",
        "product.acme.co.uk",
    ),
    (
        "CloudOps Digest",
        "digest@mail.cloudops.com.au",
        "digest.cloudops.com.au",
    ),
];

pub const INTERNAL_TOPICS: &[&str] = &[
    "Team offsite planning",
    "Quarterly numbers",
    "Hiring: backend engineer",
    "Café order",
];

pub const FREEMAIL_TOPICS: &[&str] = &[
    "Question about your product",
    "Freelance proposal",
    "Intro via Maria",
];
