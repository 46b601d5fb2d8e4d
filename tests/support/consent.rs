//! Driving an emulator consent page as a person would: pick the mailbox, untick scopes, press
//! Allow or Cancel. Parses the page's one form generically (inputs and submit buttons).

/// What the person does on the consent page.
pub struct Choice<'a> {
    pub mailbox: &'a str,
    pub approve: bool,
    /// Scopes to untick (granular consent).
    pub drop_scopes: &'a [&'a str],
}

struct Tag {
    attrs: Vec<(String, String)>,
}

impl Tag {
    fn get(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.attrs.iter().any(|(k, _)| k == name)
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Every `<name ...>` tag's attributes, in order.
fn tags(html: &str, name: &str) -> Vec<Tag> {
    let open = format!("<{name}");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let end = after.find('>').unwrap_or(after.len());
        out.push(Tag {
            attrs: parse_attrs(&after[..end]),
        });
        rest = &after[end..];
    }
    out
}

fn parse_attrs(s: &str) -> Vec<(String, String)> {
    let mut attrs = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && (chars[i].is_whitespace() || chars[i] == '/') {
            i += 1;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '=' && chars[i] != '/' {
            i += 1;
        }
        if start == i {
            i += 1;
            continue;
        }
        let key: String = chars[start..i]
            .iter()
            .collect::<String>()
            .to_ascii_lowercase();
        let mut value = String::new();
        if i < chars.len() && chars[i] == '=' {
            i += 1;
            if i < chars.len() && (chars[i] == '"' || chars[i] == '\'') {
                let quote = chars[i];
                i += 1;
                let vstart = i;
                while i < chars.len() && chars[i] != quote {
                    i += 1;
                }
                value = chars[vstart..i].iter().collect();
                i += 1;
            } else {
                let vstart = i;
                while i < chars.len() && !chars[i].is_whitespace() {
                    i += 1;
                }
                value = chars[vstart..i].iter().collect();
            }
        }
        attrs.push((key, unescape(&value)));
    }
    attrs
}

/// The form's action and the fields a browser would submit for `choice`.
pub fn submission(html: &str, choice: &Choice<'_>) -> (String, Vec<(String, String)>) {
    let form = tags(html, "form")
        .into_iter()
        .next()
        .expect("the consent page has a form");
    let action = form.get("action").unwrap_or_default().to_string();
    let mut fields = Vec::new();
    for input in tags(html, "input") {
        let Some(name) = input.get("name") else {
            continue;
        };
        let value = input.get("value").unwrap_or_default().to_string();
        let kind = input.get("type").unwrap_or("text").to_ascii_lowercase();
        if input.has("disabled") {
            continue;
        }
        match kind.as_str() {
            "radio" => {
                if value.eq_ignore_ascii_case(choice.mailbox) {
                    fields.push((name.to_string(), value));
                }
            }
            "checkbox" => {
                if input.has("checked") && !choice.drop_scopes.contains(&value.as_str()) {
                    fields.push((name.to_string(), value));
                }
            }
            "submit" | "button" => {}
            _ => fields.push((name.to_string(), value)),
        }
    }
    if !fields
        .iter()
        .any(|(_, v)| v.eq_ignore_ascii_case(choice.mailbox))
        && html.contains("name=\"login_hint\"")
    {
        fields.push(("login_hint".into(), choice.mailbox.to_string()));
    }
    let wanted = |v: &str| {
        let v = v.to_ascii_lowercase();
        if choice.approve {
            ["approve", "accept", "allow", "yes"]
                .iter()
                .any(|w| v.contains(w))
        } else {
            ["deny", "cancel", "decline", "no"]
                .iter()
                .any(|w| v.contains(w))
        }
    };
    let buttons = tags(html, "button").into_iter().chain(
        tags(html, "input")
            .into_iter()
            .filter(|t| t.get("type") == Some("submit")),
    );
    for button in buttons {
        if let (Some(name), Some(value)) = (button.get("name"), button.get("value")) {
            if wanted(value) {
                fields.push((name.to_string(), value.to_string()));
                break;
            }
        }
    }
    (action, fields)
}
