//! A small OpenAPI-3.0-aware validator for the official Graph descriptions: `$ref`, `allOf`
//! inheritance (message -> outlookItem -> entity), `nullable`, `anyOf`/`oneOf`, `enum`,
//! `type`, `format` (date-time, base64url), `pattern`, int32 bounds, `required`, and `OData`
//! derived types via `@odata.type`. Unlike the descriptions (which allow additional
//! properties), it rejects every property the schema does not declare, except `@odata.*` and
//! `@removed` annotations, so the emulator cannot invent fields. CSDL entity and complex types
//! are converted into the same form.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{json, Map, Value};

/// A set of named schemas (`#/components/schemas/NAME`).
pub struct Doc {
    pub schemas: HashMap<String, Value>,
}

/// `shared/provider-schemas/` beside the clone (the repository root is two levels above this
/// crate), else the vendored copy in this crate's `tests/fixtures`.
pub fn shared(file: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let beside = root.join("../../../shared/provider-schemas").join(file);
    if beside.exists() {
        beside
    } else {
        root.join("tests/fixtures/provider-schemas").join(file)
    }
}

fn read(file: &str) -> String {
    let path = shared(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the schema file {} is missing or unreadable: {e}",
            path.display()
        )
    })
}

impl Doc {
    /// An `OpenAPI` YAML file of `shared/provider-schemas`.
    pub fn openapi(file: &str) -> Self {
        let doc: Value =
            serde_yaml::from_str(&read(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let schemas = doc["components"]["schemas"]
            .as_object()
            .unwrap_or_else(|| panic!("{file}: no components.schemas"))
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Self { schemas }
    }

    /// The `microsoft.graph` namespace of the CSDL, as OpenAPI-like schemas.
    pub fn csdl() -> Self {
        let text = read("graph-v1.0-csdl.xml");
        let xml = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("CSDL: {e}"));
        let mut schemas = HashMap::new();
        let ns = xml
            .descendants()
            .find(|n| {
                n.has_tag_name("Schema") && n.attribute("Namespace") == Some("microsoft.graph")
            })
            .unwrap_or_else(|| panic!("CSDL: no microsoft.graph schema"));
        for node in ns.children().filter(roxmltree::Node::is_element) {
            let Some(name) = node.attribute("Name") else {
                continue;
            };
            let full = format!("microsoft.graph.{name}");
            match node.tag_name().name() {
                "EnumType" => {
                    let members: Vec<Value> = node
                        .children()
                        .filter(|m| m.has_tag_name("Member"))
                        .filter_map(|m| m.attribute("Name").map(|n| json!(n)))
                        .collect();
                    schemas.insert(full, json!({"type": "string", "enum": members}));
                }
                "EntityType" | "ComplexType" => {
                    let mut props = Map::new();
                    for p in node.children().filter(|p| {
                        p.has_tag_name("Property") || p.has_tag_name("NavigationProperty")
                    }) {
                        let (Some(pname), Some(ty)) = (p.attribute("Name"), p.attribute("Type"))
                        else {
                            continue;
                        };
                        let nullable = p.attribute("Nullable") != Some("false");
                        props.insert(pname.to_string(), csdl_type(ty, nullable));
                    }
                    let own = json!({"type": "object", "properties": props});
                    let schema = match node.attribute("BaseType") {
                        Some(base) => json!({"allOf": [{"$ref": reference(base)}, own]}),
                        None => own,
                    };
                    schemas.insert(full, schema);
                }
                _ => {}
            }
        }
        Self { schemas }
    }

    /// `#/components/schemas/NAME`.
    pub fn reference(name: &str) -> Value {
        json!({ "$ref": format!("#/components/schemas/{name}") })
    }

    /// Validate `value` against the named schema; the errors found.
    pub fn check(&self, name: &str, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.validate(&Self::reference(name), value, "$", &mut errors);
        errors
    }

    /// Validate against an inline schema.
    pub fn check_schema(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.validate(schema, value, "$", &mut errors);
        errors
    }

    /// Panic with every error found.
    pub fn assert_valid(&self, name: &str, value: &Value) {
        let errors = self.check(name, value);
        assert!(errors.is_empty(), "{name}: {errors:#?}\nin {value:#}");
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> Option<&'a Value> {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => r
                .strip_prefix("#/components/schemas/")
                .and_then(|n| self.schemas.get(n)),
            None => Some(schema),
        }
    }

    /// Declared properties along `$ref`/`allOf`, and whether any were declared at all.
    fn properties(&self, schema: &Value, out: &mut Map<String, Value>, depth: usize) {
        if depth > 32 {
            return;
        }
        let Some(schema) = self.resolve(schema) else {
            return;
        };
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                out.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        for sub in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.properties(sub, out, depth + 1);
        }
    }

    fn is_nullable(&self, schema: &Value) -> bool {
        schema.get("nullable").and_then(Value::as_bool) == Some(true)
            || schema
                .get("anyOf")
                .and_then(Value::as_array)
                .is_some_and(|a| {
                    a.iter()
                        .any(|s| self.resolve(s).is_some_and(|s| self.is_nullable(s)))
                })
    }

    fn validate(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let Some(resolved) = self.resolve(schema) else {
            // A type from another namespace: not checked.
            return;
        };
        if value.is_null() {
            if !self.is_nullable(resolved) && !self.is_nullable(schema) {
                errors.push(format!("{at}: null is not allowed"));
            }
            return;
        }
        // OData derived types: validate against the type named by @odata.type.
        if let Some(derived) = value
            .get("@odata.type")
            .and_then(Value::as_str)
            .map(|t| t.trim_start_matches('#'))
        {
            let current = schema
                .get("$ref")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if self.schemas.contains_key(derived) && !current.ends_with(derived) {
                self.validate(&Self::reference(derived), value, at, errors);
                return;
            }
        }
        if let Some(any) = resolved
            .get("anyOf")
            .or_else(|| resolved.get("oneOf"))
            .and_then(Value::as_array)
        {
            let ok = any.iter().any(|s| {
                let mut e = Vec::new();
                self.validate(s, value, at, &mut e);
                e.is_empty()
            });
            if !ok {
                errors.push(format!("{at}: matches no anyOf/oneOf branch"));
            }
            return;
        }
        let mut props = Map::new();
        self.properties(resolved, &mut props, 0);
        let is_object_schema = resolved.get("allOf").is_some()
            || resolved.get("type").and_then(Value::as_str) == Some("object");
        if is_object_schema {
            let Some(object) = value.as_object() else {
                errors.push(format!("{at}: expected an object, got {value}"));
                return;
            };
            for required in resolved
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !object.contains_key(required) {
                    errors.push(format!("{at}: missing required property {required}"));
                }
            }
            for (key, v) in object {
                let here = format!("{at}.{key}");
                match props.get(key) {
                    Some(p) => self.validate(p, v, &here, errors),
                    None if key.starts_with("@odata.") || key == "@removed" => {}
                    // A schema that declares no properties at all is open (e.g. InnerError).
                    None if props.is_empty() => {}
                    None => errors.push(format!("{here}: property not in the schema")),
                }
            }
            return;
        }
        self.scalar(resolved, value, at, errors);
    }

    fn scalar(&self, s: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        if let Some(values) = s.get("enum").and_then(Value::as_array) {
            if !values.contains(value) {
                errors.push(format!("{at}: {value} is not one of {values:?}"));
            }
        }
        let ty = s.get("type").and_then(Value::as_str).unwrap_or_default();
        let ok = match ty {
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "array" => value.is_array(),
            _ => true,
        };
        if !ok {
            errors.push(format!("{at}: expected {ty}, got {value}"));
            return;
        }
        if let (Some(items), Some(array)) = (s.get("items"), value.as_array()) {
            for (i, item) in array.iter().enumerate() {
                self.validate(items, item, &format!("{at}[{i}]"), errors);
            }
        }
        if let Some(n) = value.as_i64() {
            let min = s.get("minimum").and_then(Value::as_i64).unwrap_or(i64::MIN);
            let max = s.get("maximum").and_then(Value::as_i64).unwrap_or(i64::MAX);
            if n < min || n > max {
                errors.push(format!("{at}: {n} out of range"));
            }
        }
        let Some(text) = value.as_str() else { return };
        match s.get("format").and_then(Value::as_str) {
            Some("date-time") if chrono::DateTime::parse_from_rfc3339(text).is_err() => {
                errors.push(format!("{at}: '{text}' is not an RFC 3339 date-time"));
            }
            // Graph serialises Edm.Binary with the standard alphabet (trap 26) although the
            // description says base64url: accept either alphabet, but it must decode.
            Some("base64url") if !is_base64(text) => {
                errors.push(format!("{at}: '{text}' is not base64"));
            }
            _ => {}
        }
        if let Some(pattern) = s.get("pattern").and_then(Value::as_str) {
            let re =
                regex::Regex::new(pattern).unwrap_or_else(|e| panic!("bad pattern {pattern}: {e}"));
            if !re.is_match(text) {
                errors.push(format!("{at}: '{text}' does not match {pattern}"));
            }
        }
    }
}

fn is_base64(text: &str) -> bool {
    use base64::Engine as _;
    let standard = text.replace('-', "+").replace('_', "/");
    base64::engine::general_purpose::STANDARD
        .decode(&standard)
        .is_ok()
        || base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(standard.trim_end_matches('='))
            .is_ok()
}

fn reference(csdl_type: &str) -> String {
    format!(
        "#/components/schemas/microsoft.graph.{}",
        csdl_type.trim_start_matches("graph.")
    )
}

fn csdl_type(ty: &str, nullable: bool) -> Value {
    if let Some(inner) = ty
        .strip_prefix("Collection(")
        .and_then(|t| t.strip_suffix(')'))
    {
        return json!({"type": "array", "items": csdl_type(inner, true)});
    }
    let mut schema = match ty {
        "Edm.String" | "Edm.Guid" | "Edm.Duration" | "Edm.TimeOfDay" | "Edm.Date" => {
            json!({"type": "string"})
        }
        "Edm.Boolean" => json!({"type": "boolean"}),
        "Edm.Int32" => json!({"type": "integer", "minimum": i32::MIN, "maximum": i32::MAX}),
        "Edm.Int64" | "Edm.Int16" | "Edm.Byte" => json!({"type": "integer"}),
        "Edm.Double" | "Edm.Single" | "Edm.Decimal" => json!({"type": "number"}),
        "Edm.DateTimeOffset" => json!({"type": "string", "format": "date-time"}),
        "Edm.Binary" => json!({"type": "string", "format": "base64url"}),
        t if t.starts_with("graph.") => json!({"$ref": reference(t)}),
        // Other namespaces: unchecked.
        _ => json!({}),
    };
    if nullable {
        schema["nullable"] = json!(true);
    }
    schema
}
