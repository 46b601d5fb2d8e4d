//! Derived views agree with the raw messages: the `.eml` corpus shipped with mail-parser and
//! the generated corpus (charsets, malformed messages) — body is the HTML part or else the
//! text part, bodyPreview ≤ 255 characters, every message valid against Mail.yml, no panics.

use std::path::{Path, PathBuf};

use mail_parser::{MessageParser, PartType};
use serde_json::Value;
use threadline_emulator::corpus::mailbox_info;
use threadline_emulator::{EmulatorConfig, Quota};

use crate::graph::schema::Doc;
use crate::graph::support::{emulator, Emu, ME};

/// `.eml` files of the mail-parser crate in the cargo registry, if present.
fn eml_files() -> Vec<PathBuf> {
    let home = std::env::var_os("CARGO_HOME").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"),
        PathBuf::from,
    );
    let mut out = Vec::new();
    let Ok(registries) = std::fs::read_dir(home.join("registry/src")) else {
        return out;
    };
    for registry in registries.flatten() {
        let Ok(crates) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for krate in crates.flatten() {
            if krate
                .file_name()
                .to_string_lossy()
                .starts_with("mail-parser-0.11")
            {
                walk(&krate.path(), &mut out);
            }
        }
    }
    out.sort();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "eml") {
            out.push(path);
        }
    }
}

/// Graph's body per mail-parser, independently of the emulator: the first HTML body part,
/// else the text body.
fn expected_body(raw: &[u8]) -> (String, String) {
    let Some(message) = MessageParser::default().parse(raw) else {
        return ("text".into(), String::from_utf8_lossy(raw).into_owned());
    };
    let html = message
        .html_body
        .first()
        .and_then(|i| message.parts.get(*i as usize))
        .is_some_and(|p| matches!(p.body, PartType::Html(_)));
    if html {
        (
            "html".into(),
            message
                .body_html(0)
                .map(std::borrow::Cow::into_owned)
                .unwrap_or_default(),
        )
    } else {
        (
            "text".into(),
            message
                .body_text(0)
                .map(std::borrow::Cow::into_owned)
                .unwrap_or_default(),
        )
    }
}

async fn check_mailbox(emu: &Emu, token: &str, address: &str, mail: &Doc) -> usize {
    let mailbox = emu.emu.state.store.get(address).expect("mailbox");
    let (items, _) = emu
        .all_pages(
            token,
            &format!("/v1.0/users/{address}/messages?$top=100"),
            &[("Prefer", "IdType=\"ImmutableId\"")],
        )
        .await;
    assert_eq!(items.len(), mailbox.data.read().messages.len());
    for item in &items {
        let id = item["id"].as_str().unwrap_or_default();
        let stored = mailbox
            .get(id)
            .unwrap_or_else(|| panic!("immutable id {id} is the store id"));
        let (kind, content) = expected_body(&stored.raw);
        assert_eq!(
            item["body"]["contentType"],
            kind.as_str(),
            "{id}\n{}",
            String::from_utf8_lossy(&stored.raw[..stored.raw.len().min(3000)])
        );
        assert_eq!(item["body"]["content"], content.as_str(), "{id}");
        assert!(item["bodyPreview"]
            .as_str()
            .is_some_and(|p| p.chars().count() <= 255));
        let errors = mail.check("microsoft.graph.message", item);
        assert!(errors.is_empty(), "{errors:?}");
    }
    items.len()
}

#[tokio::test]
async fn mail_parser_eml_corpus_views_agree_with_the_raw_messages() {
    let files = eml_files();
    if files.is_empty() {
        eprintln!("mail-parser 0.11 sources not in the cargo registry: nothing to check");
        return;
    }
    let emu = emulator(Quota::Off, true).await;
    let mut delivered = 0;
    for path in &files {
        let raw = std::fs::read(path).unwrap_or_default();
        if raw.is_empty() {
            continue;
        }
        let r = emu
            .http
            .post(format!(
                "{}/_emulator/mailboxes/{ME}/messages?folder=inbox",
                emu.base()
            ))
            .header("content-type", "message/rfc822")
            .body(raw)
            .send()
            .await
            .expect("deliver");
        assert_eq!(r.status().as_u16(), 201, "{}", path.display());
        delivered += 1;
    }
    let token = emu.user_token(ME).await;
    let mail = Doc::openapi("graph-mail.v1.0.yml");
    assert_eq!(check_mailbox(&emu, &token, ME, &mail).await, delivered);
    // Every message's attachments and MIME are served without errors.
    let (items, _) = emu
        .all_pages(
            &token,
            "/v1.0/me/messages?$top=200&$select=id,hasAttachments",
            &[],
        )
        .await;
    for item in items {
        let id = item["id"].as_str().unwrap_or_default();
        let (status, _) = emu
            .get(
                &token,
                &format!("/v1.0/me/messages/{id}/attachments?$select=id,name,size"),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            emu.get_full(&token, &format!("/v1.0/me/messages/{id}/$value"), &[])
                .await
                .0,
            200
        );
    }
}

#[tokio::test]
async fn generated_corpus_views_agree_with_the_raw_messages() {
    let config = EmulatorConfig {
        seed: 7,
        mailboxes: 2,
        messages: 150,
        quota: Quota::Off,
        auto_consent: true,
        ..EmulatorConfig::default()
    };
    let running = crate::support::start(config).await;
    let address = mailbox_info(1).address;
    let tenant = mailbox_info(1).tenant.unwrap_or_default();
    let emu = Emu {
        emu: running,
        http: reqwest::Client::new(),
    };
    let app = emu.app_token(&tenant).await;
    let mail = Doc::openapi("graph-mail.v1.0.yml");
    assert_eq!(check_mailbox(&emu, &app, &address, &mail).await, 150);
    let (_, folders): (u16, Value) = emu
        .get(
            &app,
            &format!("/v1.0/users/{address}/mailFolders/sentitems"),
        )
        .await;
    assert!(folders["totalItemCount"].as_i64().is_some_and(|n| n > 0));
}
