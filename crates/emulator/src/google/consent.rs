//! The consent page of the emulated Google authorize endpoint and its error page.

use std::fmt::Write as _;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::oauth::{is_identity_scope, PendingAuth};

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const STYLE: &str = "body{font-family:sans-serif;max-width:40em;margin:3em auto;color:#202124}\
    fieldset{border:1px solid #dadce0;border-radius:8px;margin:1em 0;padding:1em}\
    button{padding:.5em 1.5em;margin-right:1em}";

/// Google's "Access blocked / Error 400: ..." page.
pub fn error_page(status: StatusCode, error: &str, description: &str) -> Response {
    let body = format!(
        "<!doctype html><html><head><title>Error {code}: {e}</title><style>{STYLE}</style></head>\
         <body><h1>Access blocked: this request is invalid</h1>\
         <p id=\"error\">Error {code}: {e}</p><p id=\"error_description\">{d}</p></body></html>",
        code = status.as_u16(),
        e = escape(error),
        d = escape(description),
    );
    (status, Html(body)).into_response()
}

/// The consent page: choose a mailbox, untick scopes to grant fewer (granular consent),
/// approve or deny.
pub fn render(id: &str, pending: &PendingAuth, mailboxes: &[(String, String)]) -> Response {
    let mut accounts = String::new();
    for (n, (address, name)) in mailboxes.iter().enumerate() {
        let checked = match &pending.login_hint {
            Some(hint) => hint.eq_ignore_ascii_case(address),
            None => n == 0,
        };
        let _ = write!(
            accounts,
            "<label><input type=\"radio\" name=\"mailbox\" value=\"{a}\"{c}> {nm} &lt;{a}&gt;</label><br>",
            a = escape(address),
            nm = escape(name),
            c = if checked { " checked" } else { "" },
        );
    }
    let mut scopes = String::new();
    for scope in &pending.scopes {
        let fixed = is_identity_scope(scope);
        let _ = write!(
            scopes,
            "<label><input type=\"checkbox\" name=\"scope\" value=\"{s}\" checked{d}> {s}</label><br>",
            s = escape(scope),
            d = if fixed { " disabled" } else { "" },
        );
        if fixed {
            let _ = write!(
                scopes,
                "<input type=\"hidden\" name=\"scope\" value=\"{}\">",
                escape(scope)
            );
        }
    }
    let body = format!(
        "<!doctype html><html><head><title>Sign in - Google Accounts (emulator)</title>\
         <style>{STYLE}</style></head><body><h1>Choose an account</h1>\
         <p>to continue to <b>{client}</b></p>\
         <form method=\"post\" action=\"/o/oauth2/v2/auth/decision\">\
         <input type=\"hidden\" name=\"request\" value=\"{id}\">\
         <fieldset><legend>Account</legend>{accounts}</fieldset>\
         <fieldset><legend>{client} wants to access your Google Account</legend>{scopes}</fieldset>\
         <button type=\"submit\" name=\"decision\" value=\"approve\" id=\"approve\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">Cancel</button>\
         </form></body></html>",
        client = escape(&pending.client_id),
        id = escape(id),
    );
    Html(body).into_response()
}
