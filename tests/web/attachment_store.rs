//! Attachment content at rest (issue 24, item 4): off by default (downloads ask the provider);
//! on, in the database or in files, the same file in two mailboxes is stored once, served
//! after the mailbox is disconnected and the provider message deleted, and removed with the
//! last email using it; a message over the size limit (the organization's, or the mailbox's
//! own) keeps its text and is ledgered `too_large` with its size; bad settings are refused.
use base64::Engine;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use threadline::db::entities::{attachment_blobs, attachment_contents, emails, sync_ledger};
use threadline::sync::sync_account;

use crate::mailbox_fixtures::{all_accounts, linked_app, GMAIL};
use crate::support::mail::approve;
use crate::support::{assert_form_error, TestApp};

const OTHER: &str = "other@gmail-user.test";
/// The file both messages carry.
const QUOTE: &[u8] = b"%PDF-1.4\nthe same quote, sent twice\n";

fn message(to: &str, id: &str, subject: &str, file: &str, content: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(content);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "From: Bo <bo@customer.test>\r\nTo: {to}\r\nSubject: {subject}\r\n\
         Message-ID: <{id}@customer.test>\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"m\"\r\n\r\n\
         --m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nText of {subject}\r\n\
         --m\r\nContent-Type: application/pdf; name=\"{file}\"\r\n\
         Content-Disposition: attachment; filename=\"{file}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--m--\r\n",
        lines.join("\r\n")
    )
}

fn len(bytes: &[u8]) -> i64 {
    i64::try_from(bytes.len()).unwrap()
}

/// Both mailboxes linked by the admin.
async fn two_mailboxes() -> TestApp {
    let app = linked_app().await;
    let res = app.connect("google", approve(OTHER)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app
}

async fn account_id(app: &TestApp, address: &str) -> i64 {
    all_accounts(app)
        .await
        .into_iter()
        .find(|a| a.address == address)
        .expect("linked")
        .id
}

async fn sync_all(app: &TestApp) {
    for a in all_accounts(app).await {
        sync_account(&app.deps, a.id).await.unwrap();
    }
}

async fn set_policy(app: &TestApp, storage: &str, limit_mb: &str) {
    let res = app
        .post_form(
            "/settings/attachments",
            &[("storage", storage), ("limit_mb", limit_mb)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

async fn email_by_subject(app: &TestApp, subject: &str) -> i64 {
    emails::Entity::find()
        .filter(emails::Column::Subject.eq(subject))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{subject} stored"))
        .id
}

/// The download link of the email's attachment named `file`, from its page.
async fn download_link(app: &TestApp, email: i64, file: &str) -> String {
    let page = app.get_html(&format!("/emails/{email}")).await;
    let pattern = format!(r#"href="(/emails/\d+/attachments/\d+)" download>{file}"#);
    regex::Regex::new(&pattern)
        .unwrap()
        .captures(&page)
        .unwrap_or_else(|| panic!("{page}"))[1]
        .to_string()
}

async fn blobs(app: &TestApp) -> Vec<attachment_blobs::Model> {
    attachment_blobs::Entity::find().all(&app.db).await.unwrap()
}

/// Files under `<data dir>/attachments` (temporary files included).
fn files(app: &TestApp) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(dirs) = std::fs::read_dir(app.deps.blobs.root()) else {
        return out;
    };
    for dir in dirs.flatten() {
        for file in std::fs::read_dir(dir.path()).unwrap().flatten() {
            out.push(file.path());
        }
    }
    out
}

#[tokio::test]
async fn with_storage_off_nothing_is_stored_and_downloads_ask_the_provider() {
    let app = linked_app().await;
    let pid = app
        .deliver_gmail(
            GMAIL,
            message(GMAIL, "off-1", "Quote off", "quote.pdf", QUOTE),
            "INBOX",
            None,
        )
        .await;
    let id = app.sync_then_first_email().await;
    assert!(blobs(&app).await.is_empty());
    assert!(files(&app).is_empty());
    let href = download_link(&app, id, "quote.pdf").await;
    let res = app.get(&href).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(&res.bytes().await.unwrap()[..], QUOTE);
    // Without a stored copy, a message deleted in the provider has nothing to download.
    app.emulator_client()
        .delete_message(GMAIL, &pid)
        .await
        .unwrap();
    assert_eq!(app.get(&href).await.status(), StatusCode::NOT_FOUND);
}

/// Storage on in `mode`: stored once for two mailboxes, served from the stored copy, kept
/// while one email uses it and removed with the last.
async fn stored_once_served_and_cleaned_up(mode: &str) {
    let app = two_mailboxes().await;
    set_policy(&app, mode, "25").await;
    let first = app
        .deliver_gmail(
            GMAIL,
            message(GMAIL, "a-1", "Quote A", "quote.pdf", QUOTE),
            "INBOX",
            None,
        )
        .await;
    app.deliver_gmail(
        OTHER,
        message(OTHER, "b-1", "Quote B", "quote-copy.pdf", QUOTE),
        "INBOX",
        None,
    )
    .await;
    sync_all(&app).await;
    let stored = blobs(&app).await;
    assert_eq!(stored.len(), 1, "the same content is stored once");
    assert_eq!(stored[0].size_bytes, len(QUOTE));
    let joins = attachment_contents::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(joins.len(), 2, "both attachments have it");
    let on_disk = files(&app);
    if mode == "directory" {
        assert_eq!(on_disk.len(), 1, "{on_disk:?}");
        assert_eq!(std::fs::read(&on_disk[0]).unwrap(), QUOTE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode_of = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode();
            assert_eq!(mode_of(&on_disk[0]) & 0o777, 0o600);
            assert_eq!(mode_of(on_disk[0].parent().unwrap()) & 0o777, 0o700);
        }
        assert!(stored[0].content.is_none());
    } else {
        assert!(on_disk.is_empty(), "{on_disk:?}");
        assert_eq!(stored[0].content.as_deref(), Some(QUOTE));
    }

    // Gone from the provider and the mailbox disconnected: the stored copy is served.
    let a = email_by_subject(&app, "Quote A").await;
    let b = email_by_subject(&app, "Quote B").await;
    let href = download_link(&app, a, "quote.pdf").await;
    app.emulator_client()
        .delete_message(GMAIL, &first)
        .await
        .unwrap();
    let gmail = account_id(&app, GMAIL).await;
    let res = app
        .post_form(&format!("/mailboxes/{gmail}/disconnect"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app.get(&href).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(&res.bytes().await.unwrap()[..], QUOTE);

    // Purging one email keeps the content the other still uses.
    let res = app
        .post_form(&format!("/emails/{a}/purge"), &[("scope", "email")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(blobs(&app).await.len(), 1);
    assert_eq!(files(&app).len(), usize::from(mode == "directory"));
    let href = download_link(&app, b, "quote-copy.pdf").await;
    assert_eq!(&app.get(&href).await.bytes().await.unwrap()[..], QUOTE);

    // Purging the last one removes it: row and file.
    let res = app
        .post_form(&format!("/emails/{b}/purge"), &[("scope", "email")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(blobs(&app).await.is_empty());
    assert!(attachment_contents::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .is_empty());
    assert!(files(&app).is_empty(), "{:?}", files(&app));
}

#[tokio::test]
async fn attachments_stored_in_the_database_are_deduplicated_and_cleaned_up() {
    stored_once_served_and_cleaned_up("database").await;
}

#[tokio::test]
async fn attachments_stored_in_files_are_deduplicated_and_cleaned_up() {
    stored_once_served_and_cleaned_up("directory").await;
}

#[tokio::test]
async fn a_message_over_the_mailbox_limit_is_ledgered_too_large_and_keeps_its_text() {
    let app = two_mailboxes().await;
    set_policy(&app, "database", "25").await;
    let gmail = account_id(&app, GMAIL).await;
    let res = app
        .post_form(
            &format!("/mailboxes/{gmail}/attachment-limit"),
            &[("limit_mb", "1")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(app
        .get_html(&format!("/mailboxes/{gmail}"))
        .await
        .contains(r#"name="limit_mb" value="1""#));

    // 1.5 MB of attachment: over this mailbox's 1 MB, under the organization's 25 MB.
    let big = vec![b'x'; 1536 * 1024];
    let pid = app
        .deliver_gmail(
            GMAIL,
            message(GMAIL, "big-1", "Big drawing", "drawing.pdf", &big),
            "INBOX",
            None,
        )
        .await;
    app.deliver_gmail(
        OTHER,
        message(OTHER, "big-2", "Big drawing again", "drawing.pdf", &big),
        "INBOX",
        None,
    )
    .await;
    app.deliver_gmail(
        GMAIL,
        message(GMAIL, "small-1", "Small note", "note.pdf", QUOTE),
        "INBOX",
        None,
    )
    .await;
    sync_all(&app).await;

    // Stored with its text and its attachment listed.
    let id = email_by_subject(&app, "Big drawing").await;
    let page = app.get_html(&format!("/emails/{id}")).await;
    assert!(page.contains("drawing.pdf"), "{page}");
    assert!(page.contains("Text of Big drawing"), "{page}");
    // Ledgered with its size.
    let ledger = sync_ledger::Entity::find()
        .filter(sync_ledger::Column::AccountId.eq(gmail))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(ledger.len(), 1, "{ledger:?}");
    assert_eq!(ledger[0].provider_message_id, pid);
    assert_eq!(ledger[0].reason, "too_large");
    let size = emails::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .size_bytes;
    assert!(ledger[0].detail.starts_with(&format!("{size} bytes")));
    let mailbox = app.get_html(&format!("/mailboxes/{gmail}")).await;
    assert!(mailbox.contains("too_large") && mailbox.contains(&format!("{size} bytes")));
    // Its content is neither stored nor fetched through Threadline.
    let href = download_link(&app, id, "drawing.pdf").await;
    assert_form_error(app.get(&href).await, "over the attachment size limit").await;

    // The other mailbox has the organization's limit: there the same file is stored, as is
    // the small one here.
    let stored = blobs(&app).await;
    let mut sizes: Vec<i64> = stored.iter().map(|b| b.size_bytes).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [len(QUOTE), len(&big)]);
    let other = email_by_subject(&app, "Big drawing again").await;
    let href = download_link(&app, other, "drawing.pdf").await;
    assert_eq!(app.get(&href).await.bytes().await.unwrap().len(), big.len());
    let other_id = account_id(&app, OTHER).await;
    assert!(sync_ledger::Entity::find()
        .filter(sync_ledger::Column::AccountId.eq(other_id))
        .all(&app.db)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn invalid_attachment_settings_are_refused_with_form_errors() {
    let app = linked_app().await;
    let page = app.get_html("/settings").await;
    assert!(page.contains(r#"name="limit_mb" value="25""#), "{page}");
    let res = app
        .post_form(
            "/settings/attachments",
            &[("storage", "disk"), ("limit_mb", "0")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Choose off, in the database or in files."),
        "{page}"
    );
    assert!(page.contains("Enter a whole number of megabytes from 1 to 150."));
    assert_form_error(
        app.post_form(
            "/settings/attachments",
            &[("storage", "database"), ("limit_mb", "151")],
        )
        .await,
        "from 1 to 150",
    )
    .await;
    let gmail = account_id(&app, GMAIL).await;
    assert_form_error(
        app.post_form(
            &format!("/mailboxes/{gmail}/attachment-limit"),
            &[("limit_mb", "ten")],
        )
        .await,
        "Enter a whole number of megabytes",
    )
    .await;
    // Nothing changed.
    let org = all_accounts(&app).await[0].organization_id;
    let policy = threadline::db::attachment_settings::for_mailbox(&app.db, org, gmail)
        .await
        .unwrap();
    assert_eq!(policy, threadline::domain::attachments::Policy::default());

    // Members may not change the organization's settings.
    app.create_user("bea@acme.test", "a long enough password 1", false)
        .await;
    let bea = app.other_browser();
    bea.sign_in("bea@acme.test", "a long enough password 1")
        .await;
    let res = bea
        .post_form(
            "/settings/attachments",
            &[("storage", "database"), ("limit_mb", "10")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
