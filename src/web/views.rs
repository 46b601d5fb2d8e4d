//! View-model pieces shared by every page, and rendering.
use askama::Template;
use axum::response::Html;

use super::error::AppError;
use super::session::CurrentUser;

/// What the base layout needs: the page title, who is signed in, the CSRF token for forms and
/// htmx, and which navigation entry is active.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    pub user: Option<NavUser>,
    pub csrf: String,
    pub active: &'static str,
    /// Mailboxes of the user that need reconnecting: `(id, provider label, address)`.
    pub reconnect: Vec<(i64, &'static str, String)>,
}

#[derive(Debug, Clone)]
pub struct NavUser {
    pub name: String,
    pub email: String,
    pub is_admin: bool,
}

impl Layout {
    pub fn for_user(user: &CurrentUser, title: impl Into<String>, active: &'static str) -> Self {
        Self {
            title: title.into(),
            user: Some(NavUser {
                name: user.name.clone(),
                email: user.email.clone(),
                is_admin: user.is_admin(),
            }),
            csrf: user.csrf.clone(),
            active,
            reconnect: user
                .reconnect
                .iter()
                .map(|(id, provider, address)| (*id, provider.label(), address.clone()))
                .collect(),
        }
    }

    pub fn anonymous(title: impl Into<String>, csrf: String) -> Self {
        Self {
            title: title.into(),
            user: None,
            csrf,
            active: "",
            reconnect: Vec::new(),
        }
    }

    /// JSON for `hx-headers`, so every htmx request carries the CSRF token.
    pub fn hx_headers(&self) -> String {
        serde_json::json!({ super::csrf::HEADER: self.csrf }).to_string()
    }
}

pub fn render<T: Template>(template: &T) -> Result<Html<String>, AppError> {
    Ok(Html(template.render()?))
}

/// Form errors per field name, shown next to the fields.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push((field, message.into()));
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
