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

#[cfg(test)]
mod tests {
    use super::registrable;

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
