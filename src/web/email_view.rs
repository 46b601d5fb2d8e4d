//! The email page (`/emails/{id}`): headers, participants linked to their contacts, the
//! businesses and contacts the email is linked to and why (with link / unlink, see
//! `email_links`), attachments, and the body in a sandboxed iframe served by
//! `/emails/{id}/body` under its own restrictive CSP (no script, no same-origin, no forms;
//! remote images only after "Show images").
use askama::Template;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::email_actions::{actions_view, ActionsView};
use super::email_links::LinksPanel;
use super::error::AppError;
use super::headers::set_static;
use super::link_targets;
use super::session::CurrentUser;
use super::views::{render, Layout};
use super::AppState;
use crate::db::email_view::{self, EmailDetail};
use crate::domain::email_html::{sanitize, HtmlOptions};
use crate::domain::message::ParticipantRole;
use crate::mailboxes::MailDeps;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/emails/{id}", get(show))
        .route("/emails/{id}/body", get(body))
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    #[serde(default)]
    images: Option<String>,
    /// A search of the "Link to a business or contact" form submitted without JavaScript.
    #[serde(default)]
    q: Option<String>,
}

impl PageQuery {
    fn shown(&self) -> bool {
        self.images.as_deref() == Some("1")
    }
}

struct PersonView {
    label: String,
    address: String,
    contact_href: Option<String>,
}

struct RoleView {
    role: &'static str,
    people: Vec<PersonView>,
}

struct AttachmentView {
    href: String,
    name: String,
    content_type: String,
    size: String,
}

#[derive(Template)]
#[template(path = "emails/show.html")]
struct EmailPage {
    layout: Layout,
    a: ActionsView,
    subject: String,
    date: String,
    mailbox: String,
    roles: Vec<RoleView>,
    p: LinksPanel,
    attachments: Vec<AttachmentView>,
    /// The iframe's source when there is an HTML body.
    frame_src: Option<String>,
    /// "Show images" link while remote images are held back.
    show_images: Option<String>,
    text: Option<String>,
    /// The body is still being fetched from the provider: the preview stands in for it.
    pending_preview: Option<String>,
    truncated: bool,
    /// "deleted in Gmail on 2026-12-08".
    deleted_in_provider: Option<String>,
    /// The provider folders (Outlook) or labels (Gmail) the message is in, readable.
    folders: String,
    /// For a colleague below `full`: what their level leaves out.
    level_note: Option<String>,
    /// For the owner: whether the thread is marked private (the form to mark or share it).
    thread_private: Option<bool>,
    /// The references reference rules found where the reader may see them.
    refs: Vec<RefView>,
}

/// A reference on the email page: its timeline, and the system that owns it when its rule
/// has a URL template.
pub struct RefView {
    pub rule: String,
    pub value: String,
    pub href: String,
    pub external: Option<String>,
}

impl From<crate::db::references::read::Shown> for RefView {
    fn from(s: crate::db::references::read::Shown) -> Self {
        use crate::domain::references::{encode, UrlTemplate};
        let external = s
            .url_template
            .as_deref()
            .and_then(|t| UrlTemplate::parse(t).ok().flatten())
            .map(|t| t.link(&s.value));
        Self {
            href: format!("/references/{}/{}", encode(&s.rule), encode(&s.value)),
            rule: s.rule,
            value: s.value,
            external,
        }
    }
}

fn role_label(role: ParticipantRole) -> Option<&'static str> {
    Some(match role {
        ParticipantRole::From => "From",
        ParticipantRole::To => "To",
        ParticipantRole::Cc => "Cc",
        ParticipantRole::Bcc => "Bcc",
        ParticipantRole::ReplyTo => "Reply-To",
        ParticipantRole::Sender => return None,
    })
}

fn size(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{} KB", b / 1024),
        b => format!(
            "{}.{} MB",
            b / (1024 * 1024),
            (b % (1024 * 1024)) * 10 / (1024 * 1024)
        ),
    }
}

impl FromRequestParts<AppState> for Opened {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        type Request = (State<MailDeps>, CurrentUser, Path<i64>, Query<PageQuery>);
        let (State(deps), user, Path(id), Query(query)) =
            Request::from_request_parts(parts, state).await?;
        let found = email_view::load(&deps.db, user.organization_id, user.id, id)
            .await
            .map_err(AppError::from)
            .and_then(|d| d.ok_or(AppError::NotFound));
        let d = found.map_err(IntoResponse::into_response)?;
        Ok(Self {
            deps,
            user,
            id,
            query,
            d,
        })
    }
}

/// The email the path names, loaded for the reader (404 when it is not theirs to see), with the
/// page's query: where both the page and its body frame start.
struct Opened {
    deps: MailDeps,
    user: CurrentUser,
    /// The email's id, from the path.
    id: i64,
    /// `?images=1` and the no-JavaScript link search.
    query: PageQuery,
    /// The email as this reader sees it.
    d: EmailDetail,
}

async fn show(
    Opened {
        deps,
        user,
        id,
        query,
        d,
    }: Opened,
) -> Result<Response, AppError> {
    // A GET changes nothing: the page marks the email read by a POST of its own once loaded
    // (htmx; without JavaScript, the "Mark read" button).
    let a = actions_view(&deps, &user, &d.email).await?;
    let targets =
        link_targets::for_page(&deps.db, user.organization_id, query.q.as_deref()).await?;
    let thread_private = if d.own_mailbox {
        Some(crate::db::private_threads::is_private(&deps.db, user.id, &d.email.thread_key).await?)
    } else {
        None
    };
    let refs = crate::db::references::read::of_email(&deps.db, user.organization_id, id, d.level)
        .await?
        .into_iter()
        .map(RefView::from)
        .collect();
    let mut roles: Vec<RoleView> = Vec::new();
    for p in &d.participants {
        let Some(role) = role_label(p.role) else {
            continue;
        };
        let person = PersonView {
            label: if p.name.is_empty() {
                p.address.clone()
            } else {
                p.name.clone()
            },
            address: p.address.clone(),
            contact_href: d
                .contacts_by_address
                .get(&p.address)
                .map(|(cid, _)| format!("/contacts/{cid}")),
        };
        match roles.iter_mut().find(|r| r.role == role) {
            Some(r) => r.people.push(person),
            None => roles.push(RoleView {
                role,
                people: vec![person],
            }),
        }
    }
    let html = d.body.as_ref().and_then(|b| b.body_html.as_deref());
    let blocked = html
        .is_some_and(|h| !query.shown() && sanitize(h, &options(id, false)).blocked_remote_images);
    let page = EmailPage {
        layout: Layout::for_user(&user, d.email.subject.clone(), ""),
        a,
        subject: if !d.level.shows_subject() {
            super::timeline_views::NOT_SHARED_SUBJECT.into()
        } else if d.email.subject.is_empty() {
            "(no subject)".into()
        } else {
            d.email.subject.clone()
        },
        date: d
            .email
            .sent_at
            .unwrap_or(d.email.received_at)
            .format("%Y-%m-%d %H:%M UTC")
            .to_string(),
        mailbox: d.mailbox.clone(),
        roles,
        p: LinksPanel::new(&user, id, &d.links, targets),
        attachments: d
            .attachments
            .iter()
            .map(|a| AttachmentView {
                href: format!("/emails/{id}/attachments/{}", a.id),
                name: if a.filename.is_empty() {
                    "(unnamed)".into()
                } else {
                    a.filename.clone()
                },
                content_type: a.content_type.clone(),
                size: size(a.size_bytes),
            })
            .collect(),
        frame_src: html.map(|_| {
            if query.shown() {
                format!("/emails/{id}/body?images=1")
            } else {
                format!("/emails/{id}/body")
            }
        }),
        show_images: blocked.then(|| format!("/emails/{id}?images=1")),
        text: d.body.as_ref().and_then(|b| b.body_text.clone()),
        pending_preview: d.body_pending.then(|| d.email.snippet.clone()),
        truncated: d.body.as_ref().is_some_and(|b| b.truncated),
        deleted_in_provider: d.email.deleted_in_provider_at.map(|at| {
            super::timeline_views::deleted_label(crate::db::timeline::Deletion {
                provider: d.provider,
                at,
            })
        }),
        folders: d.email.folders.shown().join(", "),
        level_note: (!d.level.shows_body()).then(|| {
            format!(
                "Its mailbox shares {} with colleagues: {}.",
                d.level,
                d.level.describe()
            )
        }),
        thread_private,
        refs,
    };
    Ok(render(&page)?.into_response())
}

fn options(id: i64, remote_images: bool) -> HtmlOptions {
    HtmlOptions {
        cid_base: format!("/emails/{id}/cid/"),
        remote_images,
    }
}

/// The frame's CSP: nothing runs, nothing is submitted, only our own images (and, once the
/// reader asks, remote ones); the document is sandboxed even when opened on its own.
fn frame_csp(remote_images: bool) -> &'static str {
    if remote_images {
        "default-src 'none'; img-src 'self' data: https: http:; style-src 'unsafe-inline'; \
         font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; \
         sandbox allow-popups allow-popups-to-escape-sandbox"
    } else {
        "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; font-src data:; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'self'; \
         sandbox allow-popups allow-popups-to-escape-sandbox"
    }
}

async fn body(Opened { id, query, d, .. }: Opened) -> Result<Response, AppError> {
    let html = d.body.and_then(|b| b.body_html).ok_or(AppError::NotFound)?;
    let safe = sanitize(&html, &options(id, query.shown()));
    let doc = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><base target=\"_blank\">\
         <style>body{{margin:0;padding:12px;font:14px/1.5 system-ui,sans-serif;color:#1f2328;\
         word-wrap:break-word}}img{{max-width:100%;height:auto}}</style></head><body>{}</body></html>",
        safe.html
    );
    let mut res = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], doc).into_response();
    set_static(
        res.headers_mut(),
        [
            (header::CONTENT_SECURITY_POLICY, frame_csp(query.shown())),
            (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
            (header::CACHE_CONTROL, "no-store"),
        ],
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(size(512), "512 B");
        assert_eq!(size(13_068), "12 KB");
        assert_eq!(size(5 * 1024 * 1024 + 512 * 1024), "5.5 MB");
    }
}
