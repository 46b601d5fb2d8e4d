//! `$filter` on directory users (`/users`, group members): `eq`, `ne`, `ge`, `le`, `in`,
//! `startswith(...)`, `endswith(...)`, `and`/`or`/`not`, parentheses, `null`. Graph only
//! serves `ne`, `not`, `endsWith` and comparisons with `null` as advanced queries
//! (`ConsistencyLevel: eventual` and `$count=true`, learn.microsoft.com/graph/aad-advanced-queries);
//! the parse records the first such operator so the caller can refuse it without them.
//! `contains` and `gt`/`lt` are not supported on users.

use serde_json::Value;

use super::error::GraphError;
use super::filter::tokens;
use axum::http::StatusCode;

/// A user filter.
#[derive(Debug, Clone, PartialEq)]
pub enum UserExpr {
    Eq(String, Option<Value>),
    Ne(String, Option<Value>),
    Ge(String, String),
    Le(String, String),
    In(String, Vec<Value>),
    StartsWith(String, String),
    EndsWith(String, String),
    And(Box<UserExpr>, Box<UserExpr>),
    Or(Box<UserExpr>, Box<UserExpr>),
    Not(Box<UserExpr>),
}

/// Filterable user properties: name and whether it is boolean.
const PROPERTIES: [(&str, bool); 11] = [
    ("accountEnabled", true),
    ("department", false),
    ("displayName", false),
    ("givenName", false),
    ("surname", false),
    ("mail", false),
    ("userPrincipalName", false),
    ("jobTitle", false),
    ("id", false),
    ("userType", false),
    ("officeLocation", false),
];

/// A parsed filter and the first operator that needs the advanced query parameters.
#[derive(Debug, Clone)]
pub struct UserFilter {
    pub expr: UserExpr,
    pub advanced: Option<&'static str>,
}

fn syntax(raw: &str) -> GraphError {
    GraphError::new(
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        format!("Invalid filter clause: syntax error in '{raw}'."),
    )
}

fn unsupported(prop: &str) -> GraphError {
    GraphError::new(
        StatusCode::BAD_REQUEST,
        "Request_UnsupportedQuery",
        format!("Unsupported or invalid query filter clause specified for property '{prop}' of resource 'User'."),
    )
}

/// Graph's refusal of an advanced operator without `ConsistencyLevel: eventual`.
pub fn needs_eventual(op: &str) -> GraphError {
    GraphError::new(
        StatusCode::BAD_REQUEST,
        "Request_UnsupportedQuery",
        format!("Operator '{op}' is not supported because the 'ConsistencyLevel:eventual' header is missing. Refer to https://aka.ms/graph-docs/advanced-queries for more information"),
    )
}

struct Parser<'a> {
    t: Vec<String>,
    pos: usize,
    raw: &'a str,
    advanced: Option<&'static str>,
}

/// Parse a user `$filter`.
pub fn parse(raw: &str) -> Result<UserFilter, GraphError> {
    let mut p = Parser {
        t: tokens(raw, &['(', ')', ',']).ok_or_else(|| syntax(raw))?,
        pos: 0,
        raw,
        advanced: None,
    };
    let expr = p.or()?;
    if p.pos != p.t.len() {
        return Err(syntax(raw));
    }
    Ok(UserFilter {
        expr,
        advanced: p.advanced,
    })
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.t.get(self.pos).map(String::as_str)
    }

    fn next(&mut self) -> Result<String, GraphError> {
        let t = self
            .t
            .get(self.pos)
            .cloned()
            .ok_or_else(|| syntax(self.raw))?;
        self.pos += 1;
        Ok(t)
    }

    fn expect(&mut self, what: &str) -> Result<(), GraphError> {
        if self.next()? == what {
            Ok(())
        } else {
            Err(syntax(self.raw))
        }
    }

    fn mark(&mut self, op: &'static str) {
        self.advanced.get_or_insert(op);
    }

    fn or(&mut self) -> Result<UserExpr, GraphError> {
        let mut left = self.and()?;
        while self.peek().is_some_and(|w| w.eq_ignore_ascii_case("or")) {
            self.pos += 1;
            left = UserExpr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<UserExpr, GraphError> {
        let mut left = self.term()?;
        while self.peek().is_some_and(|w| w.eq_ignore_ascii_case("and")) {
            self.pos += 1;
            left = UserExpr::And(Box::new(left), Box::new(self.term()?));
        }
        Ok(left)
    }

    fn property(word: &str) -> Result<(&'static str, bool), GraphError> {
        PROPERTIES
            .iter()
            .find(|(p, _)| p.eq_ignore_ascii_case(word))
            .copied()
            .ok_or_else(|| {
                GraphError::new(
                    StatusCode::BAD_REQUEST,
                    "Request_BadRequest",
                    format!("Could not find a property named '{word}' on type 'Microsoft.DirectoryServices.User'."),
                )
            })
    }

    fn literal(raw: &str, token: &str, boolean: bool) -> Result<Option<Value>, GraphError> {
        if token.eq_ignore_ascii_case("null") {
            return Ok(None);
        }
        match (boolean, token.strip_prefix('\'')) {
            (false, Some(s)) => Ok(Some(Value::String(s.to_string()))),
            (true, None) if token.eq_ignore_ascii_case("true") => Ok(Some(Value::Bool(true))),
            (true, None) if token.eq_ignore_ascii_case("false") => Ok(Some(Value::Bool(false))),
            _ => Err(GraphError::new(
                StatusCode::BAD_REQUEST,
                "Request_BadRequest",
                format!("A binary operator with incompatible types was detected in '{raw}'."),
            )),
        }
    }

    fn term(&mut self) -> Result<UserExpr, GraphError> {
        let word = self.next()?;
        if word == "(" {
            let inner = self.or()?;
            self.expect(")")?;
            return Ok(inner);
        }
        if word.eq_ignore_ascii_case("not") {
            self.mark("not");
            return Ok(UserExpr::Not(Box::new(self.term()?)));
        }
        let lower = word.to_ascii_lowercase();
        if matches!(lower.as_str(), "startswith" | "endswith" | "contains") {
            self.expect("(")?;
            let name = self.next()?;
            let (prop, boolean) = Self::property(&name)?;
            self.expect(",")?;
            let value = self.next()?;
            self.expect(")")?;
            if lower == "contains" || boolean {
                return Err(unsupported(prop));
            }
            let Some(Value::String(v)) = Self::literal(self.raw, &value, false)? else {
                return Err(syntax(self.raw));
            };
            return Ok(if lower == "startswith" {
                UserExpr::StartsWith(prop.into(), v)
            } else {
                self.mark("endsWith");
                UserExpr::EndsWith(prop.into(), v)
            });
        }
        let (prop, boolean) = Self::property(&word)?;
        let op = self.next()?.to_ascii_lowercase();
        match op.as_str() {
            "in" => {
                self.expect("(")?;
                let mut values = Vec::new();
                loop {
                    let token = self.next()?;
                    values.push(
                        Self::literal(self.raw, &token, boolean)?
                            .ok_or_else(|| syntax(self.raw))?,
                    );
                    match self.next()?.as_str() {
                        "," => {}
                        ")" => break,
                        _ => return Err(syntax(self.raw)),
                    }
                }
                Ok(UserExpr::In(prop.into(), values))
            }
            "eq" | "ne" => {
                let token = self.next()?;
                let value = Self::literal(self.raw, &token, boolean)?;
                if value.is_none() {
                    self.mark(if op == "eq" { "eq null" } else { "ne null" });
                }
                if op == "eq" {
                    Ok(UserExpr::Eq(prop.into(), value))
                } else {
                    self.mark("ne");
                    Ok(UserExpr::Ne(prop.into(), value))
                }
            }
            "ge" | "le" if !boolean => {
                let token = self.next()?;
                let Some(Value::String(v)) = Self::literal(self.raw, &token, false)? else {
                    return Err(syntax(self.raw));
                };
                Ok(if op == "ge" {
                    UserExpr::Ge(prop.into(), v)
                } else {
                    UserExpr::Le(prop.into(), v)
                })
            }
            "gt" | "lt" | "ge" | "le" => Err(unsupported(prop)),
            _ => Err(syntax(self.raw)),
        }
    }
}

/// Evaluate against a user's JSON (all properties present, null when unset).
pub fn eval(e: &UserExpr, user: &Value) -> bool {
    let text = |p: &str| user.get(p).and_then(Value::as_str).map(str::to_lowercase);
    let same = |p: &str, v: &Option<Value>| match (user.get(p), v) {
        (None | Some(Value::Null), None) => true,
        (Some(Value::String(a)), Some(Value::String(b))) => a.eq_ignore_ascii_case(b),
        (Some(a), Some(b)) => a == b,
        _ => false,
    };
    match e {
        UserExpr::Eq(p, v) => same(p, v),
        UserExpr::Ne(p, v) => !same(p, v),
        UserExpr::Ge(p, v) => text(p).is_some_and(|a| a >= v.to_lowercase()),
        UserExpr::Le(p, v) => text(p).is_some_and(|a| a <= v.to_lowercase()),
        UserExpr::In(p, vs) => vs.iter().any(|v| same(p, &Some(v.clone()))),
        UserExpr::StartsWith(p, v) => text(p).is_some_and(|a| a.starts_with(&v.to_lowercase())),
        UserExpr::EndsWith(p, v) => text(p).is_some_and(|a| a.ends_with(&v.to_lowercase())),
        UserExpr::And(a, b) => eval(a, user) && eval(b, user),
        UserExpr::Or(a, b) => eval(a, user) || eval(b, user),
        UserExpr::Not(a) => !eval(a, user),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_filters_parse_evaluate_and_flag_advanced_operators() {
        let ada = json!({"department": "Sales", "mail": "ada@contoso.test", "accountEnabled": true, "jobTitle": null});
        let f = parse("department eq 'sales' and startswith(mail,'ad')").expect("parses");
        assert!(f.advanced.is_none());
        assert!(eval(&f.expr, &ada));
        let f =
            parse("endswith(mail,'@contoso.test') and accountEnabled ne false").expect("parses");
        assert_eq!(f.advanced, Some("endsWith"));
        assert!(eval(&f.expr, &ada));
        let f = parse("department in ('Support', 'Sales') and jobTitle eq null").expect("parses");
        assert_eq!(f.advanced, Some("eq null"));
        assert!(eval(&f.expr, &ada));
        assert!(parse("contains(mail,'a')").is_err());
        assert!(parse("nope eq 'a'").is_err());
        assert!(parse("department eq").is_err());
        assert!(parse("accountEnabled eq 'yes'").is_err());
    }
}
