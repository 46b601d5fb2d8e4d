//! Email addresses, parsed and normalized once: trimmed, lowercased, domain in ASCII (IDNA).
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("enter an email address like name@example.com")]
    Malformed,
    #[error("the domain of this address is not valid")]
    BadDomain,
}

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let trimmed = input.trim();
        let (local, domain) = trimmed.rsplit_once('@').ok_or(AddressError::Malformed)?;
        if local.is_empty()
            || local.len() > 64
            || domain.is_empty()
            || trimmed.len() > 254
            || local
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        {
            return Err(AddressError::Malformed);
        }
        let domain =
            url::Host::parse(domain.trim_end_matches('.')).map_err(|_| AddressError::BadDomain)?;
        let url::Host::Domain(domain) = domain else {
            return Err(AddressError::BadDomain);
        };
        if !domain.contains('.') {
            return Err(AddressError::BadDomain);
        }
        Ok(Self(format!("{}@{}", local.to_lowercase(), domain)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text before the first `@` (a name to show for someone who gave none).
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }

    /// The domain part, already lowercase ASCII.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::{AddressError, EmailAddress};

    #[test]
    fn normalizes_case_whitespace_and_idn() {
        let cases = [
            ("  Alice@Example.COM ", "alice@example.com"),
            ("bob+crm@Sub.Example.co.uk", "bob+crm@sub.example.co.uk"),
            ("info@Bücher.example", "info@xn--bcher-kva.example"),
            ("x@example.com.", "x@example.com"),
        ];
        for (input, want) in cases {
            assert_eq!(
                EmailAddress::parse(input).unwrap().as_str(),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "a b@example.com",
            "a@localhost",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            EmailAddress::parse("a@exa mple.com"),
            Err(AddressError::BadDomain)
        );
    }

    #[test]
    fn domain_part() {
        assert_eq!(
            EmailAddress::parse("a@Mail.Acme.co.uk").unwrap().domain(),
            "mail.acme.co.uk"
        );
    }
}
