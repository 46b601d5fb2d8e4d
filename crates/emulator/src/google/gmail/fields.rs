//! The standard `fields` parameter (partial responses): `a,b/c,d(e,f)` keeps only the named
//! properties of a successful JSON response; arrays apply the selection to each element.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::google::error::GoogleError;

/// A parsed selection: property name -> selection of its children (empty = everything).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Selection(Vec<(String, Selection)>);

impl Selection {
    /// Parse `fields`; `None` on unbalanced parentheses or empty names.
    pub fn parse(text: &str) -> Option<Self> {
        let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
        let (selection, end) = parse_list(&chars, 0)?;
        (end == chars.len()).then_some(selection)
    }

    fn merge(&mut self, name: String, child: Selection) {
        if let Some((_, existing)) = self.0.iter_mut().find(|(n, _)| *n == name) {
            if existing.0.is_empty() || child.0.is_empty() {
                existing.0.clear();
            } else {
                for (n, c) in child.0 {
                    existing.merge(n, c);
                }
            }
        } else {
            self.0.push((name, child));
        }
    }

    /// Keep only the selected parts of `value`.
    pub fn apply(&self, value: Value) -> Value {
        if self.0.is_empty() {
            return value;
        }
        match value {
            Value::Array(items) => Value::Array(items.into_iter().map(|v| self.apply(v)).collect()),
            Value::Object(mut object) => {
                let mut out = Map::new();
                for (name, child) in &self.0 {
                    if let Some(v) = object.remove(name) {
                        out.insert(name.clone(), child.apply(v));
                    }
                }
                Value::Object(out)
            }
            other => other,
        }
    }
}

/// Parse a comma-separated list of paths starting at `pos`; stops at `)` or the end.
fn parse_list(chars: &[char], mut pos: usize) -> Option<(Selection, usize)> {
    let mut selection = Selection::default();
    loop {
        let start = pos;
        while pos < chars.len() && !matches!(chars[pos], ',' | '(' | ')') {
            pos += 1;
        }
        let path: String = chars[start..pos].iter().collect();
        let mut segments: Vec<String> = path.split('/').map(str::to_string).collect();
        if segments.iter().any(String::is_empty) {
            return None;
        }
        let mut child = Selection::default();
        if chars.get(pos) == Some(&'(') {
            let (inner, end) = parse_list(chars, pos + 1)?;
            if chars.get(end) != Some(&')') {
                return None;
            }
            child = inner;
            pos = end + 1;
        }
        while segments.len() > 1 {
            let last = segments.pop().unwrap_or_default();
            child = Selection(vec![(last, child)]);
        }
        selection.merge(segments.pop().unwrap_or_default(), child);
        match chars.get(pos) {
            Some(',') => pos += 1,
            _ => return Some((selection, pos)),
        }
    }
}

/// Middleware: filter successful JSON bodies by the request's `fields` parameter.
pub async fn partial_response(request: Request, next: Next) -> Response {
    let fields = request.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "fields")
            .map(|(_, v)| v.into_owned())
    });
    let Some(fields) = fields.filter(|f| !f.is_empty()) else {
        return next.run(request).await;
    };
    let Some(selection) = Selection::parse(&fields) else {
        return GoogleError::invalid_argument(format!("Invalid field selection {fields}"))
            .into_response();
    };
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !response.status().is_success() || !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return GoogleError::from_status(500, "Backend Error".into()).into_response();
    };
    let Ok(value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, bytes.into());
    };
    let filtered = selection.apply(value).to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, filtered.into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn selections_keep_only_named_paths() {
        let sel =
            Selection::parse("messages(id),nextPageToken,payload/headers").unwrap_or_default();
        let value = json!({
            "messages": [{"id": "a", "threadId": "t"}],
            "nextPageToken": "n",
            "resultSizeEstimate": 3,
            "payload": {"headers": [1], "body": {}},
        });
        assert_eq!(
            sel.apply(value),
            json!({"messages": [{"id": "a"}], "nextPageToken": "n", "payload": {"headers": [1]}})
        );
        assert!(Selection::parse("a(b").is_none());
        assert!(Selection::parse("a,,b").is_none());
    }
}
