//! Query options as Graph mail accepts them: `$select`, `$top`, `$skip`, `$orderby`
//! (receivedDateTime), `$filter` (comparisons joined by and/or, parentheses, `not`), with
//! Graph's 400 errors for what it refuses, and `@odata.nextLink` building.

use serde_json::Value;

use super::error::GraphError;
use crate::emulator::state::EmulatorState;

/// Parsed query options.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pub select: Option<Vec<String>>,
    pub top: usize,
    pub top_given: bool,
    pub skip: usize,
    pub filter: Option<Expr>,
    pub filter_raw: Option<String>,
    /// `(property, descending)`.
    pub orderby: Option<(String, bool)>,
    pub orderby_raw: Option<String>,
    pub skiptoken: Option<String>,
    pub deltatoken: Option<String>,
}

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

impl Params {
    /// Parse a raw query; `default_top`/`max_top` per collection.
    pub fn parse(
        query: Option<&str>,
        default_top: usize,
        max_top: usize,
    ) -> Result<Self, GraphError> {
        let mut p = Self {
            top: default_top,
            ..Self::default()
        };
        for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let key = key.trim_start_matches('$').to_ascii_lowercase();
            let value = value.into_owned();
            match key.as_str() {
                "select" => {
                    p.select = Some(
                        value
                            .split(',')
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty())
                            .collect(),
                    );
                }
                "top" => {
                    let top: usize = value.trim().parse().map_err(|_| {
                        GraphError::bad_request(format!(
                            "Invalid value '{value}' for $top query option found."
                        ))
                    })?;
                    if top == 0 || top > max_top {
                        return Err(GraphError::new(axum::http::StatusCode::BAD_REQUEST, "ErrorInvalidParameter",
                            format!("Invalid page size specified: '{top}'. Must be between 1 and {max_top} inclusive.")));
                    }
                    p.top = top;
                    p.top_given = true;
                }
                "skip" => {
                    p.skip = value.trim().parse().map_err(|_| {
                        GraphError::bad_request(format!(
                            "Invalid value '{value}' for $skip query option found."
                        ))
                    })?;
                }
                "filter" => {
                    p.filter = Some(parse_filter(&value)?);
                    p.filter_raw = Some(value);
                }
                "orderby" => {
                    p.orderby = Some(parse_orderby(&value)?);
                    p.orderby_raw = Some(value);
                }
                "skiptoken" => p.skiptoken = Some(value),
                "deltatoken" => p.deltatoken = Some(value),
                "search" => {
                    return Err(GraphError::bad_request(
                        "$search is not supported by this emulator.",
                    ));
                }
                _ => {}
            }
        }
        if let (Some(filter), Some((prop, _))) = (&p.filter, &p.orderby) {
            if first_property(filter) != Some(prop.as_str()) {
                return Err(GraphError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "InefficientFilter",
                    "The restriction or sort order is too complex for this operation.",
                ));
            }
        }
        Ok(p)
    }

    /// Check `$select` names against the properties of the entity type.
    pub fn check_select(&self, allowed: &[&str], type_name: &str) -> Result<(), GraphError> {
        for name in self.select.iter().flatten() {
            if !allowed.iter().any(|a| a.eq_ignore_ascii_case(name)) {
                return Err(GraphError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "RequestBroker--ParseUri",
                    format!("Could not find a property named '{name}' on type '{type_name}'."),
                ));
            }
        }
        Ok(())
    }

    pub fn selects(&self, name: &str) -> bool {
        self.select
            .iter()
            .flatten()
            .any(|s| s.eq_ignore_ascii_case(name))
    }

    /// Keep `id`, annotations and the selected properties (everything without `$select`).
    pub fn select_fields(&self, value: &Value) -> Value {
        let (Some(select), Value::Object(map)) = (&self.select, value) else {
            return value.clone();
        };
        let kept = map
            .iter()
            .filter(|(k, _)| {
                k.as_str() == "id"
                    || k.starts_with('@')
                    || select.iter().any(|s| s.eq_ignore_ascii_case(k))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Value::Object(kept)
    }

    /// The query options other than paging, re-encoded for a nextLink.
    pub fn carry(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(s) = &self.select {
            out.push(("$select".into(), s.join(",")));
        }
        if self.top_given {
            out.push(("$top".into(), self.top.to_string()));
        }
        if let Some(f) = &self.filter_raw {
            out.push(("$filter".into(), f.clone()));
        }
        if let Some(o) = &self.orderby_raw {
            out.push(("$orderby".into(), o.clone()));
        }
        out
    }
}

/// `{base}{path}?{carried options}&$skip=N`.
pub fn page_link(state: &EmulatorState, path: &str, p: &Params, skip: usize) -> String {
    let mut pairs = p.carry();
    pairs.push(("$skip".into(), skip.to_string()));
    link(state, path, &pairs)
}

/// `{base}{path}?{pairs}` with `$` encoded as Graph does.
pub fn link(state: &EmulatorState, path: &str, pairs: &[(String, String)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .finish()
        .replace('+', "%20");
    format!("{}{path}?{query}", state.base_url.read())
}

fn first_property(e: &Expr) -> Option<&str> {
    match e {
        Expr::Cmp(p, _, _) => Some(p),
        Expr::And(a, _) | Expr::Or(a, _) | Expr::Not(a) => first_property(a),
    }
}

fn parse_orderby(raw: &str) -> Result<(String, bool), GraphError> {
    let clauses: Vec<&str> = raw.split(',').map(str::trim).collect();
    let mut words = clauses
        .first()
        .copied()
        .unwrap_or_default()
        .split_whitespace();
    let prop = words.next().unwrap_or_default();
    let desc = match words.next().map(str::to_ascii_lowercase).as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            return Err(GraphError::bad_request(format!(
                "Invalid $orderby direction '{other}'."
            )))
        }
    };
    if clauses.len() > 1
        || !matches!(
            prop.to_ascii_lowercase().as_str(),
            "receiveddatetime" | "sentdatetime" | "createddatetime" | "lastmodifieddatetime"
        )
    {
        return Err(GraphError::bad_request(format!("The $orderby '{raw}' is not supported: order by receivedDateTime, sentDateTime, createdDateTime or lastModifiedDateTime.")));
    }
    Ok((
        canonical_property(prop).unwrap_or_default().to_string(),
        desc,
    ))
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

fn canonical_property(name: &str) -> Option<&'static str> {
    PROPERTIES
        .iter()
        .find(|(p, _)| p.eq_ignore_ascii_case(name))
        .map(|(p, _)| *p)
}

fn invalid(raw: &str) -> GraphError {
    GraphError::bad_request(format!("Invalid filter clause: syntax error in '{raw}'."))
}

/// Tokens: words, quoted strings, parentheses.
fn tokenize(raw: &str) -> Result<Vec<String>, GraphError> {
    let mut out = Vec::new();
    let mut chars = raw.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' || c == ')' {
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
                    None => return Err(invalid(raw)),
                }
            }
            out.push(s);
        } else {
            let mut s = String::new();
            while let Some(&x) = chars.peek() {
                if x.is_whitespace() || x == '(' || x == ')' {
                    break;
                }
                s.push(x);
                chars.next();
            }
            out.push(s);
        }
    }
    Ok(out)
}

/// Parse a `$filter`.
pub fn parse_filter(raw: &str) -> Result<Expr, GraphError> {
    let tokens = tokenize(raw)?;
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
