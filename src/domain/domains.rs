//! Domain names: the registrable domain (Public Suffix List), so mail.acme.co.uk belongs to
//! acme.co.uk.

/// The registrable domain of a lowercase ASCII host, or None for public suffixes and hosts that
/// are not under a known suffix.
pub fn registrable(host: &str) -> Option<String> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let domain = psl::domain_str(&host)?;
    // psl also accepts unknown TLDs through its wildcard rule; keep only names with a dot.
    domain.contains('.').then(|| domain.to_string())
}

/// A domain name normalized once: trimmed, lowercase, ASCII (IDNA), no trailing dot, at least
/// two labels.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Domain(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("enter a domain like example.com")]
    Malformed,
    #[error("{0} is a public suffix shared by many owners; enter the business's own domain")]
    PublicSuffix(String),
    #[error("{0} is a free-mail or personal domain and cannot identify a business")]
    FreeMail(String),
}

impl Domain {
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let trimmed = input.trim().trim_end_matches('.');
        if trimmed.is_empty() || trimmed.contains(['@', '/', ':']) {
            return Err(DomainError::Malformed);
        }
        let Ok(url::Host::Domain(ascii)) = url::Host::parse(trimmed) else {
            return Err(DomainError::Malformed);
        };
        let labels_ok = ascii.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        if !ascii.contains('.') || ascii.len() > 253 || !labels_ok {
            return Err(DomainError::Malformed);
        }
        Ok(Self(ascii))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The registrable domain (`mail.acme.co.uk` -> `acme.co.uk`), None for public suffixes.
    pub fn registrable(&self) -> Option<String> {
        registrable(&self.0)
    }
}

impl std::fmt::Display for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::{registrable, Domain, DomainError};

    #[test]
    fn parses_domains() {
        let ok = [
            (" Acme.CO.uk. ", "acme.co.uk"),
            ("Bücher.example", "xn--bcher-kva.example"),
            ("mail.acme.com", "mail.acme.com"),
        ];
        for (input, want) in ok {
            assert_eq!(Domain::parse(input).unwrap().as_str(), want, "{input}");
        }
        for bad in [
            "",
            "acme",
            "a b.com",
            "ann@acme.com",
            "http://acme.com",
            "-x.com",
            "a..b",
        ] {
            assert_eq!(Domain::parse(bad), Err(DomainError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn registrable_domains() {
        let cases = [
            ("mail.acme.co.uk", Some("acme.co.uk")),
            ("acme.co.uk", Some("acme.co.uk")),
            ("globex.com.au", Some("globex.com.au")),
            ("eu.initech.com", Some("initech.com")),
            ("Sub.Example.COM.", Some("example.com")),
            ("co.uk", None),
            ("com", None),
            ("xn--bcher-kva.example", Some("xn--bcher-kva.example")),
        ];
        for (host, want) in cases {
            assert_eq!(registrable(host).as_deref(), want, "{host}");
        }
    }
}
