//! Query options as Graph mail accepts them: `$select`, `$top`, `$skip`, `$orderby`
//! (receivedDateTime), `$filter` (comparisons joined by and/or, parentheses, `not`), with
//! Graph's 400 errors for what it refuses, and `@odata.nextLink` building.

use serde_json::Value;

use super::error::GraphError;
use super::filter::{canonical_property, first_property};
pub use super::filter::{eval, parse_filter, Expr, Lit};
use crate::state::EmulatorState;

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
