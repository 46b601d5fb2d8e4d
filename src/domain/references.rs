//! Reference rules, the pure part: a rule's name, its pattern (the `regex` crate: linear time,
//! no backtracking; validated once, bounded in size, never matching the empty string), the
//! optional URL template to the system that owns the numbers, and the references a pattern
//! finds in an email's subject and body, normalized (trimmed, inner blanks one space, upper
//! case) so `wo-00042` and `WO-00042` are one reference.
use std::borrow::Cow;
use std::fmt::{self, Write as _};

use regex::{Regex, RegexBuilder};

/// Longest name, pattern and URL template accepted.
pub const NAME_MAX: usize = 40;
pub const PATTERN_MAX: usize = 200;
pub const TEMPLATE_MAX: usize = 500;
/// Compiled size a pattern may take (the `regex` crate's limit; patterns beyond are refused).
const COMPILED_LIMIT: usize = 256 * 1024;
/// Matches longer than this are not references (a pattern like `PO .+` would take whole lines).
pub const VALUE_MAX: usize = 100;
/// References kept per email and rule.
pub const PER_EMAIL: usize = 50;
/// The body is searched up to this many bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("Give the rule a name of letters, digits, - or _ (at most {NAME_MAX}).")]
    Name,
    #[error("Give a pattern, for example WO-\\d{{5}}.")]
    PatternMissing,
    #[error("The pattern is longer than {PATTERN_MAX} characters.")]
    PatternTooLong,
    #[error("The pattern is not a valid regular expression: {0}")]
    PatternInvalid(String),
    #[error("The pattern is too complex (it would compile to more than 256 KB).")]
    PatternTooComplex,
    #[error("The pattern matches the empty string: it must match at least one character.")]
    PatternMatchesEmpty,
    #[error(
        "The URL must start with http:// or https://, contain {{value}} and be at most \
         {TEMPLATE_MAX} characters."
    )]
    Template,
}

/// A rule's name, as it appears in `/references/{name}/{value}`: lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleName(String);

impl RuleName {
    pub fn parse(input: &str) -> Result<Self, RuleError> {
        let name = input.trim().to_lowercase();
        let ok = !name.is_empty()
            && name.chars().count() <= NAME_MAX
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        ok.then_some(Self(name)).ok_or(RuleError::Name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Texts a pattern is tried on: a match of no characters in any of them refuses it.
const PROBES: [&str; 4] = ["", "a b", " 12 ", "WO-1 #2, PO 3."];

/// A compiled, validated pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    regex: Regex,
}

impl Pattern {
    pub fn parse(input: &str) -> Result<Self, RuleError> {
        let source = input.trim();
        if source.is_empty() {
            return Err(RuleError::PatternMissing);
        }
        if source.chars().count() > PATTERN_MAX {
            return Err(RuleError::PatternTooLong);
        }
        let regex = RegexBuilder::new(source)
            .size_limit(COMPILED_LIMIT)
            .dfa_size_limit(COMPILED_LIMIT)
            .build()
            .map_err(|e| match e {
                regex::Error::CompiledTooBig(_) => RuleError::PatternTooComplex,
                e => RuleError::PatternInvalid(last_line(&e.to_string())),
            })?;
        let empty = PROBES
            .iter()
            .any(|p| regex.find_iter(p).any(|m| m.is_empty()));
        if empty {
            return Err(RuleError::PatternMatchesEmpty);
        }
        Ok(Self {
            source: source.to_string(),
            regex,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The distinct references in `text`, normalized, in order of first appearance.
    fn values(&self, text: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in self.regex.find_iter(text) {
            if m.is_empty() || m.as_str().len() > VALUE_MAX {
                continue;
            }
            let v = normalize(m.as_str());
            if !v.is_empty() && !out.contains(&v) {
                out.push(v);
                if out.len() == PER_EMAIL {
                    break;
                }
            }
        }
        out
    }
}

/// The regex crate's message ends with the reason; its first lines repeat the pattern.
fn last_line(message: &str) -> String {
    message
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(message)
        .trim()
        .trim_start_matches("error: ")
        .to_string()
}

/// A reference as stored and looked up: trimmed, blanks one space, upper case.
pub fn normalize(value: &str) -> String {
    value
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

/// Where a rule's reference was found in one email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub value: String,
    pub in_subject: bool,
    pub in_body: bool,
}

/// The references `pattern` finds in an email's subject and body (at most [`PER_EMAIL`]).
pub fn find(pattern: &Pattern, subject: &str, body: &str) -> Vec<Found> {
    let mut out: Vec<Found> = pattern
        .values(subject)
        .into_iter()
        .map(|value| Found {
            value,
            in_subject: true,
            in_body: false,
        })
        .collect();
    for value in pattern.values(cut(body, BODY_LIMIT)) {
        if let Some(f) = out.iter_mut().find(|f| f.value == value) {
            f.in_body = true;
        } else if out.len() < PER_EMAIL {
            out.push(Found {
                value,
                in_subject: false,
                in_body: true,
            });
        }
    }
    out
}

/// The text a pattern reads of a body: the text part, else the HTML part reduced to its text.
pub fn body_text<'a>(text: Option<&'a str>, html: Option<&str>) -> Cow<'a, str> {
    match (text, html) {
        (Some(t), _) if !t.trim().is_empty() => Cow::Borrowed(t),
        (_, Some(h)) => Cow::Owned(ammonia::Builder::empty().clean(h).to_string()),
        _ => Cow::Borrowed(""),
    }
}

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

/// A link to the system that owns a rule's numbers: `https://erp.example.com/wo/{value}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate(String);

impl UrlTemplate {
    /// None for an empty input (a rule without links).
    pub fn parse(input: &str) -> Result<Option<Self>, RuleError> {
        let t = input.trim();
        if t.is_empty() {
            return Ok(None);
        }
        let lower = t.to_ascii_lowercase();
        let scheme = lower.starts_with("https://") || lower.starts_with("http://");
        let host = t.split_once("://").is_some_and(|(_, rest)| {
            !rest.is_empty() && !rest.starts_with('/') && !rest.starts_with('{')
        });
        let ok = scheme
            && host
            && t.contains("{value}")
            && t.len() <= TEMPLATE_MAX
            && !t.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok || url::Url::parse(&t.replace("{value}", "x")).is_err() {
            return Err(RuleError::Template);
        }
        Ok(Some(Self(t.to_string())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The link for `value`, percent-encoded (only unreserved characters are kept).
    pub fn link(&self, value: &str) -> String {
        self.0.replace("{value}", &encode(value))
    }
}

/// `value` percent-encoded for a URL path segment or query value.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_validated() {
        assert!(Pattern::parse(r"WO-\d{5}").is_ok());
        assert!(Pattern::parse(r"#\d{4,}").is_ok());
        assert_eq!(Pattern::parse("  ").unwrap_err(), RuleError::PatternMissing);
        assert!(matches!(
            Pattern::parse(r"WO-(\d").unwrap_err(),
            RuleError::PatternInvalid(_)
        ));
        assert_eq!(
            Pattern::parse(r"\d*").unwrap_err(),
            RuleError::PatternMatchesEmpty
        );
        assert_eq!(
            Pattern::parse(r"\b").unwrap_err(),
            RuleError::PatternMatchesEmpty
        );
        assert_eq!(
            Pattern::parse(&"a".repeat(PATTERN_MAX + 1)).unwrap_err(),
            RuleError::PatternTooLong
        );
        assert_eq!(
            Pattern::parse(r"\w{1000}\w{1000}").unwrap_err(),
            RuleError::PatternTooComplex
        );
    }

    #[test]
    fn references_are_found_in_subject_and_body_once() {
        let p = Pattern::parse(r"(?i)WO-\d{5}").unwrap();
        let found = find(&p, "Re: wo-00042 delayed", "About WO-00042 and WO-00043.");
        assert_eq!(
            found,
            vec![
                Found {
                    value: "WO-00042".into(),
                    in_subject: true,
                    in_body: true
                },
                Found {
                    value: "WO-00043".into(),
                    in_subject: false,
                    in_body: true
                },
            ]
        );
        let p = Pattern::parse(r"PO\s+\d+").unwrap();
        assert_eq!(find(&p, "PO   77", "")[0].value, "PO 77");
    }

    #[test]
    fn names_and_templates() {
        assert_eq!(
            RuleName::parse(" Work-Orders ").unwrap().as_str(),
            "work-orders"
        );
        assert!(RuleName::parse("a b").is_err());
        assert!(RuleName::parse("").is_err());
        let t = UrlTemplate::parse("https://erp.example.com/wo/{value}")
            .unwrap()
            .unwrap();
        assert_eq!(t.link("PO 7/8"), "https://erp.example.com/wo/PO%207%2F8");
        assert_eq!(UrlTemplate::parse("").unwrap(), None);
        for bad in [
            "javascript:alert(1)//{value}",
            "ftp://x/{value}",
            "https://erp.example.com/wo/",
            "https:///{value}",
        ] {
            assert_eq!(
                UrlTemplate::parse(bad).unwrap_err(),
                RuleError::Template,
                "{bad}"
            );
        }
    }

    #[test]
    fn html_bodies_are_read_as_text() {
        assert_eq!(
            body_text(None, Some("<p>WO-<b>1</b></p><script>WO-2</script>")),
            "WO-1"
        );
    }
}
