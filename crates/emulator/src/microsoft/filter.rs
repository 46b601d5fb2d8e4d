//! `$filter` on messages: comparisons (`eq ne gt ge lt le`) of receivedDateTime and the other
//! filterable properties, joined by `and`/`or`, with parentheses and `not`; Graph's 400s for
//! syntax errors, unknown properties and quoted dates.

use super::error::GraphError;

/// A literal in a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Date(i64),
    Bool(bool),
    Str(String),
    Null,
}

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Cmp(String, &'static str, Lit),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

/// Filterable message properties and whether they are dates, booleans or strings.
const PROPERTIES: [(&str, char); 10] = [
    ("receivedDateTime", 'd'),
    ("sentDateTime", 'd'),
    ("createdDateTime", 'd'),
    ("lastModifiedDateTime", 'd'),
    ("isRead", 'b'),
    ("isDraft", 'b'),
    ("hasAttachments", 'b'),
    ("subject", 's'),
    ("conversationId", 's'),
    ("internetMessageId", 's'),
];

pub fn canonical_property(name: &str) -> Option<&'static str> {
    PROPERTIES
        .iter()
        .find(|(p, _)| p.eq_ignore_ascii_case(name))
        .map(|(p, _)| *p)
}

pub fn first_property(e: &Expr) -> Option<&str> {
    match e {
        Expr::Cmp(p, _, _) => Some(p),
        Expr::And(a, _) | Expr::Or(a, _) | Expr::Not(a) => first_property(a),
    }
}

fn invalid(raw: &str) -> GraphError {
    GraphError::bad_request(format!("Invalid filter clause: syntax error in '{raw}'."))
}

/// Tokens of a `$filter`: words, quoted strings (`'` doubled inside, the leading quote kept)
/// and each of `punctuation` on its own; None for an unterminated string. Shared with the user
/// filters (`user_filter`), whose punctuation has the comma of `in (...)`.
pub(super) fn tokens(raw: &str, punctuation: &[char]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut chars = raw.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if punctuation.contains(&c) {
            out.push(c.to_string());
            chars.next();
        } else if c == '\'' {
            chars.next();
            let mut s = String::from("'");
            loop {
                match chars.next() {
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                        s.push('\'');
                    }
                    Some('\'') => break,
                    Some(x) => s.push(x),
                    None => return None,
                }
            }
            out.push(s);
        } else {
            let mut s = String::new();
            while let Some(&x) = chars.peek() {
                if x.is_whitespace() || punctuation.contains(&x) {
                    break;
                }
                s.push(x);
                chars.next();
            }
            out.push(s);
        }
    }
    Some(out)
}

/// Parse a `$filter`.
pub fn parse_filter(raw: &str) -> Result<Expr, GraphError> {
    let tokens = tokens(raw, &['(', ')']).ok_or_else(|| invalid(raw))?;
    let mut pos = 0;
    let expr = parse_or(&tokens, &mut pos, raw)?;
    if pos != tokens.len() {
        return Err(invalid(raw));
    }
    Ok(expr)
}

fn parse_or(t: &[String], pos: &mut usize, raw: &str) -> Result<Expr, GraphError> {
    let mut left = parse_and(t, pos, raw)?;
    while t.get(*pos).is_some_and(|w| w.eq_ignore_ascii_case("or")) {
        *pos += 1;
        left = Expr::Or(Box::new(left), Box::new(parse_and(t, pos, raw)?));
    }
    Ok(left)
}

fn parse_and(t: &[String], pos: &mut usize, raw: &str) -> Result<Expr, GraphError> {
    let mut left = parse_term(t, pos, raw)?;
    while t.get(*pos).is_some_and(|w| w.eq_ignore_ascii_case("and")) {
        *pos += 1;
        left = Expr::And(Box::new(left), Box::new(parse_term(t, pos, raw)?));
    }
    Ok(left)
}

fn parse_term(t: &[String], pos: &mut usize, raw: &str) -> Result<Expr, GraphError> {
    let word = t.get(*pos).ok_or_else(|| invalid(raw))?;
    if word == "(" {
        *pos += 1;
        let inner = parse_or(t, pos, raw)?;
        if t.get(*pos).map(String::as_str) != Some(")") {
            return Err(invalid(raw));
        }
        *pos += 1;
        return Ok(inner);
    }
    if word.eq_ignore_ascii_case("not") {
        *pos += 1;
        return Ok(Expr::Not(Box::new(parse_term(t, pos, raw)?)));
    }
    let (Some(op), Some(value)) = (t.get(*pos + 1), t.get(*pos + 2)) else {
        return Err(invalid(raw));
    };
    let (prop, kind) = PROPERTIES
        .iter()
        .find(|(p, _)| p.eq_ignore_ascii_case(word))
        .copied()
        .ok_or_else(|| {
            GraphError::bad_request(format!(
                "Could not find a property named '{word}' on type 'microsoft.graph.message'."
            ))
        })?;
    let op = ["eq", "ne", "gt", "ge", "lt", "le"]
        .into_iter()
        .find(|o| o.eq_ignore_ascii_case(op))
        .ok_or_else(|| invalid(raw))?;
    let lit = literal(kind, value, raw)?;
    *pos += 3;
    Ok(Expr::Cmp(prop.to_string(), op, lit))
}

fn literal(kind: char, value: &str, raw: &str) -> Result<Lit, GraphError> {
    if value.eq_ignore_ascii_case("null") {
        return Ok(Lit::Null);
    }
    let quoted = value.strip_prefix('\'');
    match (kind, quoted) {
        ('d', None) => chrono::DateTime::parse_from_rfc3339(value)
            .map(|d| Lit::Date(d.timestamp_millis()))
            .or_else(|_| {
                chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").map(|d| {
                    Lit::Date(
                        d.and_hms_opt(0, 0, 0)
                            .unwrap_or_default()
                            .and_utc()
                            .timestamp_millis(),
                    )
                })
            })
            .map_err(|_| invalid(raw)),
        ('b', None) => match value.to_ascii_lowercase().as_str() {
            "true" => Ok(Lit::Bool(true)),
            "false" => Ok(Lit::Bool(false)),
            _ => Err(invalid(raw)),
        },
        ('s', Some(s)) => Ok(Lit::Str(s.to_string())),
        _ => Err(GraphError::bad_request(format!(
            "A binary operator with incompatible types was detected in '{raw}'."
        ))),
    }
}

/// Evaluate a filter; `get` returns a property's value.
pub fn eval(e: &Expr, get: &dyn Fn(&str) -> Lit) -> bool {
    match e {
        Expr::And(a, b) => eval(a, get) && eval(b, get),
        Expr::Or(a, b) => eval(a, get) || eval(b, get),
        Expr::Not(a) => !eval(a, get),
        Expr::Cmp(prop, op, lit) => {
            let actual = get(prop);
            let ord = match (&actual, lit) {
                (Lit::Date(a), Lit::Date(b)) => a.partial_cmp(b),
                (Lit::Bool(a), Lit::Bool(b)) => a.partial_cmp(b),
                (Lit::Str(a), Lit::Str(b)) => Some(a.to_lowercase().cmp(&b.to_lowercase())),
                (Lit::Null, Lit::Null) => Some(std::cmp::Ordering::Equal),
                _ => None,
            };
            match (*op, ord) {
                ("eq", Some(o)) => o.is_eq(),
                ("ne", Some(o)) => o.is_ne(),
                ("ne", None) => true,
                ("gt", Some(o)) => o.is_gt(),
                ("ge", Some(o)) => o.is_ge(),
                ("lt", Some(o)) => o.is_lt(),
                ("le", Some(o)) => o.is_le(),
                _ => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_evaluate() {
        let e = parse_filter("receivedDateTime ge 2024-01-01T00:00:00Z and (isRead eq false or receivedDateTime lt 2023-01-01)")
            .unwrap_or(Expr::Not(Box::new(Expr::Cmp(String::new(), "eq", Lit::Null))));
        let get = |p: &str| match p {
            "receivedDateTime" => Lit::Date(1_710_000_000_000),
            "isRead" => Lit::Bool(false),
            _ => Lit::Null,
        };
        assert!(eval(&e, &get));
        assert!(parse_filter("receivedDateTime ge '2024-01-01T00:00:00Z'").is_err());
        assert!(parse_filter("nope eq 1").is_err());
        assert!(parse_filter("receivedDateTime ge").is_err());
    }
}
