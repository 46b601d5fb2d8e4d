//! Full-text search, the pure part: what text an email is indexed under, and a reader's query
//! turned into terms. Both sides split on anything that is not a letter or digit, so
//! `alice@acme.com` is indexed as `alice acme com` and the query `acme` finds it on SQLite (FTS5)
//! and PostgreSQL (`tsvector`) alike. Every term is a prefix and all must match.

/// Bodies are indexed up to this many bytes (the subject and participants always).
pub const BODY_LIMIT: usize = 64 * 1024;
/// Terms beyond this many are ignored.
const MAX_TERMS: usize = 8;
/// Longer terms are cut (nobody types them; they would only slow the index down).
const MAX_TERM_CHARS: usize = 64;

/// The words of `text`, lowercased, everything else a single space.
pub fn words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = true;
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            gap = false;
        } else if !gap {
            out.push(' ');
            gap = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The text an email is indexed under, in three fields so a search can be held to what a
/// reader's visibility level shows: participants' names and addresses, the subject, and the
/// body (the text part, else the HTML part reduced to its text) capped at [`BODY_LIMIT`].
/// Each field is [`words`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchDocument {
    pub people: String,
    pub subject: String,
    pub body: String,
}

impl SearchDocument {
    /// Bytes of text, for batching.
    pub fn len(&self) -> usize {
        self.people.len() + self.subject.len() + self.body.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The [`SearchDocument`] of an email.
pub fn document<'a>(
    subject: &str,
    people: impl IntoIterator<Item = (&'a str, &'a str)>,
    body_text: Option<&str>,
    body_html: Option<&str>,
) -> SearchDocument {
    let mut names = String::new();
    for (name, address) in people {
        names.push(' ');
        names.push_str(name);
        names.push(' ');
        names.push_str(address);
    }
    let stripped;
    let body = match (body_text, body_html) {
        (Some(text), _) if !text.trim().is_empty() => text,
        (_, Some(html)) => {
            stripped = ammonia::Builder::empty().clean(html).to_string();
            stripped.as_str()
        }
        _ => "",
    };
    SearchDocument {
        people: words(&names),
        subject: words(subject),
        body: words(cut(body, BODY_LIMIT)),
    }
}

/// `s` cut to at most `max` bytes at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A reader's search: the terms, each matched as a word prefix, all required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    terms: Vec<String>,
}

impl SearchQuery {
    /// None when the input holds no letter or digit (an empty search shows everything).
    pub fn parse(input: &str) -> Option<Self> {
        let terms: Vec<String> = words(input)
            .split(' ')
            .filter(|t| !t.is_empty())
            .map(|t| t.chars().take(MAX_TERM_CHARS).collect())
            .take(MAX_TERMS)
            .collect();
        (!terms.is_empty()).then_some(Self { terms })
    }

    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// An FTS5 MATCH expression: `"acme"* "invoice"*` (quoted, so no term is an operator).
    pub fn fts5(&self) -> String {
        self.terms
            .iter()
            .map(|t| format!("\"{t}\"*"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A PostgreSQL `to_tsquery('simple', ..)` expression: `acme:* & invoice:*`.
    pub fn tsquery(&self) -> String {
        self.tsquery_in("")
    }

    /// [`Self::fts5`] with every term held to the fields `columns` (FTS5 column names):
    /// `{people subject} : ("acme"* "invoice"*)`.
    pub fn fts5_in(&self, columns: &[&str]) -> String {
        format!("{{{}}} : ({})", columns.join(" "), self.fts5())
    }

    /// [`Self::tsquery`] with every term held to the weights `weights` (`"AB"`):
    /// `acme:*AB & invoice:*AB`.
    pub fn tsquery_in(&self, weights: &str) -> String {
        self.terms
            .iter()
            .map(|t| format!("{t}:*{weights}"))
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_on_punctuation_and_lowercase() {
        assert_eq!(
            words("Re: Invoice #42 — alice@Acme.com!"),
            "re invoice 42 alice acme com"
        );
        assert_eq!(words("  ..  "), "");
        assert_eq!(words("Ünïcode straße"), "ünïcode straße");
    }

    #[test]
    fn document_holds_subject_people_and_body() {
        let doc = document(
            "Q3 renewal",
            [("Bob Stone", "bob@acme.com")],
            Some("Hello, the contract."),
            None,
        );
        assert_eq!(doc.subject, "q3 renewal");
        assert_eq!(doc.people, "bob stone bob acme com");
        assert_eq!(doc.body, "hello the contract");
    }

    #[test]
    fn html_body_is_reduced_to_text_without_script() {
        let doc = document(
            "",
            [],
            None,
            Some("<p>Price <b>list</b></p><script>var secret = 1;</script><style>p{}</style>"),
        );
        assert_eq!(doc.body, "price list");
    }

    #[test]
    fn huge_bodies_are_cut_at_a_char_boundary() {
        let body = "é".repeat(BODY_LIMIT);
        let doc = document("s", [], Some(&body), None);
        assert!(doc.body.len() <= BODY_LIMIT + 2);
    }

    #[test]
    fn queries_quote_terms_and_drop_operators() {
        let q = SearchQuery::parse("acme OR \"invoice\" NEAR(x) -draft*").unwrap();
        assert_eq!(
            q.fts5(),
            "\"acme\"* \"or\"* \"invoice\"* \"near\"* \"x\"* \"draft\"*"
        );
        assert_eq!(
            q.tsquery(),
            "acme:* & or:* & invoice:* & near:* & x:* & draft:*"
        );
        let q = SearchQuery::parse("acme invoice").unwrap();
        assert_eq!(q.tsquery_in("AB"), "acme:*AB & invoice:*AB");
        assert_eq!(
            q.fts5_in(&["people", "subject"]),
            "{people subject} : (\"acme\"* \"invoice\"*)"
        );
        assert_eq!(SearchQuery::parse(" !!! "), None);
        assert_eq!(
            SearchQuery::parse(&"w ".repeat(20)).unwrap().terms().len(),
            8
        );
    }
}
