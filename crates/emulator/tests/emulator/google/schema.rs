//! A validator for the Google discovery-document schema dialect (types, `$ref` by schema
//! name, int64/uint64 as digit strings, byte as base64/base64url, arrays, objects,
//! additionalProperties, enums) that rejects unknown properties and wrong types; plus the
//! shape of Google's error bodies.

use std::sync::OnceLock;

use serde_json::Value;

pub fn discovery() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let path = crate::graph::schema::shared("gmail.v1.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("the Gmail discovery document is missing at {} ({e}); neither shared/ beside the clone nor tests/fixtures has it", path.display())
        });
        serde_json::from_str(&text).expect("gmail.v1.json is JSON")
    })
}

/// Validate `value` against the named schema; returns every violation with its JSON path.
pub fn validate(schema: &str, value: &Value) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    let doc = discovery();
    match doc["schemas"].get(schema) {
        Some(s) => check(doc, s, value, "$", &mut errors),
        None => errors.push(format!("no schema {schema}")),
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

pub fn assert_valid(schema: &str, value: &Value) {
    if let Err(errors) = validate(schema, value) {
        panic!(
            "{schema} does not validate:\n{}\nvalue: {value:#}",
            errors.join("\n")
        );
    }
}

fn is_base64(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    s.len() - body.len() <= 2
        && body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '/'))
}

fn check(doc: &Value, schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(name) = schema.get("$ref").and_then(Value::as_str) {
        match doc["schemas"].get(name) {
            Some(s) => return check(doc, s, value, path, errors),
            None => return errors.push(format!("{path}: unknown $ref {name}")),
        }
    }
    let kind = schema.get("type").and_then(Value::as_str).unwrap_or("any");
    let format = schema.get("format").and_then(Value::as_str);
    match kind {
        "object" => check_object(doc, schema, value, path, errors),
        "array" => match value.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    check(doc, &schema["items"], item, &format!("{path}[{i}]"), errors);
                }
            }
            None => errors.push(format!("{path}: expected array, got {value}")),
        },
        "string" => match value.as_str() {
            Some(s) => {
                let ok = match format {
                    Some("int64") => {
                        s.strip_prefix('-')
                            .unwrap_or(s)
                            .chars()
                            .all(|c| c.is_ascii_digit())
                            && !s.is_empty()
                    }
                    Some("uint64") => !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()),
                    Some("byte") => is_base64(s),
                    _ => true,
                };
                if !ok {
                    errors.push(format!(
                        "{path}: string {s:?} is not {}",
                        format.unwrap_or("")
                    ));
                }
                if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
                    if !allowed.iter().any(|a| a.as_str() == Some(s)) {
                        errors.push(format!("{path}: {s:?} not in enum"));
                    }
                }
            }
            None => errors.push(format!(
                "{path}: expected string ({}), got {value}",
                format.unwrap_or("plain")
            )),
        },
        "integer" => {
            let ok = match format {
                Some("int32") => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
                Some("uint32") => value.as_u64().is_some_and(|n| u32::try_from(n).is_ok()),
                _ => value.is_i64() || value.is_u64(),
            };
            if !ok {
                errors.push(format!(
                    "{path}: expected integer ({}), got {value}",
                    format.unwrap_or("")
                ));
            }
        }
        "number" if !value.is_number() => {
            errors.push(format!("{path}: expected number, got {value}"));
        }
        "boolean" if !value.is_boolean() => {
            errors.push(format!("{path}: expected boolean, got {value}"));
        }
        _ => {}
    }
}

fn check_object(doc: &Value, schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(object) = value.as_object() else {
        return errors.push(format!("{path}: expected object, got {value}"));
    };
    let properties = schema.get("properties").and_then(Value::as_object);
    for (key, item) in object {
        let child = format!("{path}.{key}");
        match properties.and_then(|p| p.get(key)) {
            Some(s) => check(doc, s, item, &child, errors),
            None => match schema.get("additionalProperties") {
                Some(extra) => check(doc, extra, item, &child, errors),
                None => errors.push(format!("{child}: unknown property")),
            },
        }
    }
}

/// Google's API error shape, exactly: `{"error":{"code","message","errors":[{..}],"status"}}`.
pub fn assert_google_error(body: &Value, status: u16, reason: &str) {
    let error = body
        .get("error")
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("no error object in {body}"));
    assert_eq!(
        body.as_object().map(serde_json::Map::len),
        Some(1),
        "only `error` at top level: {body}"
    );
    for key in error.keys() {
        assert!(
            ["code", "message", "errors", "status"].contains(&key.as_str()),
            "unexpected key {key} in {body}"
        );
    }
    assert_eq!(
        error["code"].as_u64(),
        Some(u64::from(status)),
        "code in {body}"
    );
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message in {body}"
    );
    assert!(
        error["status"]
            .as_str()
            .is_some_and(|s| s.chars().all(|c| c.is_ascii_uppercase() || c == '_')),
        "status in {body}"
    );
    let details = error["errors"].as_array().expect("errors array");
    assert!(!details.is_empty());
    for d in details {
        for key in d.as_object().expect("error detail object").keys() {
            assert!(
                ["message", "domain", "reason", "location", "locationType"].contains(&key.as_str()),
                "unexpected {key}"
            );
        }
        assert!(d["domain"].is_string() && d["message"].is_string());
    }
    assert_eq!(
        details[0]["reason"].as_str(),
        Some(reason),
        "reason in {body}"
    );
}

#[test]
fn validator_rejects_unknown_properties_wrong_types_and_numeric_int64() {
    let good = serde_json::json!({"emailAddress": "a@b", "messagesTotal": 3, "threadsTotal": 2, "historyId": "123"});
    assert!(validate("Profile", &good).is_ok());
    let unknown = serde_json::json!({"emailAddress": "a@b", "surprise": true});
    assert!(validate("Profile", &unknown).is_err());
    let numeric_history = serde_json::json!({"historyId": 123});
    assert!(validate("Profile", &numeric_history).is_err());
    let string_count = serde_json::json!({"messagesTotal": "3"});
    assert!(validate("Profile", &string_count).is_err());
    let bad_nested =
        serde_json::json!({"id": "x", "payload": {"parts": [{"body": {"size": "1"}}]}});
    assert!(validate("Message", &bad_nested).is_err());
    let bad_bytes = serde_json::json!({"size": 1, "data": "not base64!"});
    assert!(validate("MessagePartBody", &bad_bytes).is_err());
    let bad_enum =
        serde_json::json!({"labels": [{"id": "X", "messageListVisibility": "sometimes"}]});
    assert!(validate("ListLabelsResponse", &bad_enum).is_err());
}
