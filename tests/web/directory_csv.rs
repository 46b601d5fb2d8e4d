//! Directory CSV: export as a download, import through a preview that writes nothing, apply
//! all-or-nothing, formula cells escaped, oversized files refused.
use reqwest::{Response, StatusCode};
use sea_orm::{EntityTrait, PaginatorTrait};
use threadline::db::entities::{businesses, contacts};

use crate::support::{csrf_in, TestApp};

/// POST a file as the upload form does (multipart, CSRF token in the query).
pub async fn upload(app: &TestApp, kind: &str, file: &[u8]) -> Response {
    let token = app.csrf("/import").await;
    let boundary = "----threadline-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{kind}.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    app.client
        .post(app.url(&format!("/import/{kind}?csrf_token={token}")))
        .header("Origin", &app.base)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("upload")
}

/// Upload and apply a file that must have no errors; returns the summary page.
pub async fn import(app: &TestApp, kind: &str, file: &[u8]) -> String {
    let res = upload(app, kind, file).await;
    assert_eq!(res.status(), StatusCode::OK);
    let preview = res.text().await.unwrap();
    let token = field(&preview, "token");
    let res = app
        .post_form_with(
            "/import/apply",
            Some(&csrf_in(&preview)),
            &[("token", &token)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.text().await.unwrap()
}

fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name}:\n{html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_string()
}

async fn export(app: &TestApp, kind: &str) -> Vec<u8> {
    let res = app.get(&format!("/export/{kind}.csv")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(disposition, format!("attachment; filename=\"{kind}.csv\""));
    res.bytes().await.unwrap().to_vec()
}

async fn counts(app: &TestApp) -> (u64, u64) {
    (
        businesses::Entity::find().count(&app.db).await.unwrap(),
        contacts::Entity::find().count(&app.db).await.unwrap(),
    )
}

const BUSINESSES: &str = "\u{feff}Name;Domains;Notes\r\n\
Acme;acme.test mail.acme.test;=cmd|' /C calc'!A0\r\n\
Globex;globex.test;\"Big; important\"\r\n";

#[tokio::test]
async fn import_then_export_round_trips_with_no_changes() {
    let app = TestApp::spawn_admin().await;
    let done = import(&app, "businesses", BUSINESSES.as_bytes()).await;
    assert!(done.contains("2 businesses created, 0 updated"), "{done}");
    let contacts_file = "name,addresses,business,notes\n\
        Ann,ann@acme.test; ann@gmail.com,Acme,\n\
        Gil,gil@globex.test,globex.test,@home\n\
        Zed,zed@gmail.com,,\n";
    let done = import(&app, "contacts", contacts_file.as_bytes()).await;
    assert!(done.contains("3 contacts created"), "{done}");
    assert_eq!(counts(&app).await, (2, 3));

    let b = export(&app, "businesses").await;
    let text = String::from_utf8(b.clone()).unwrap();
    assert!(text.starts_with("name,domains,notes\n"), "{text}");
    assert!(
        text.contains("Acme,acme.test mail.acme.test,'=cmd|' /C calc'!A0"),
        "{text}"
    );
    assert!(
        text.contains("Globex,globex.test,Big; important\n"),
        "{text}"
    );
    let c = export(&app, "contacts").await;
    let text = String::from_utf8(c.clone()).unwrap();
    assert!(
        text.contains("Ann,ann@acme.test ann@gmail.com,Acme,"),
        "{text}"
    );
    assert!(text.contains("Gil,gil@globex.test,Globex,'@home"), "{text}");

    for (kind, file) in [("businesses", b), ("contacts", c)] {
        let res = upload(&app, kind, &file).await;
        assert_eq!(res.status(), StatusCode::OK);
        let preview = res.text().await.unwrap();
        assert!(
            preview.contains("<strong>0</strong> to create, <strong>0</strong> to update"),
            "{preview}"
        );
    }
    assert_eq!(counts(&app).await, (2, 3));
}

#[tokio::test]
async fn preview_lists_row_errors_and_writes_nothing() {
    let app = TestApp::spawn_admin().await;
    import(&app, "contacts", b"name,addresses\nAnn,ann@acme.test\n").await;
    let file = "name,domains\n\
        Acme,acme.test\n\
        Free,gmail.com\n\
        Suffix,co.uk\n\
        ,nameless.test\n\
        Again,acme.test\n\
        Bad,not a domain!\n";
    let res = upload(&app, "businesses", file.as_bytes()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    for want in [
        "gmail.com is a free-mail or personal domain",
        "co.uk is a public suffix",
        "the name is missing",
        "acme.test is also on row 2 of this file",
        "<strong>1</strong> to create",
        "<strong>5</strong> in error",
        "Nothing was written",
    ] {
        assert!(page.contains(want), "{want} missing:\n{page}");
    }
    assert!(!page.contains("Apply all rows"), "no apply with errors");
    let res = upload(
        &app,
        "contacts",
        b"name,addresses\nBo,ann@acme.test bo@acme.test\nCy,\n",
    )
    .await;
    let page = res.text().await.unwrap();
    assert!(page.contains("<strong>1</strong> to update"), "{page}");
    assert!(page.contains("no addresses"), "{page}");
    assert_eq!(counts(&app).await, (0, 1), "a preview writes nothing");

    // An apply without a pending, previewed file is refused.
    let res = app.post_form("/import/apply", &[("token", "forged")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn apply_creates_and_updates_and_is_audited() {
    let app = TestApp::spawn_admin().await;
    import(&app, "businesses", b"name,domains\nAcme,acme.test\n").await;
    let done = import(
        &app,
        "businesses",
        b"NAME,DOMAINS,NOTES\nAcme Group,acme.test acme.example,renamed\nInitech,initech.test,\n",
    )
    .await;
    assert!(done.contains("1 businesses created, 1 updated"), "{done}");
    let list = app.get_html("/businesses").await;
    assert!(
        list.contains("Acme Group") && list.contains("acme.example, acme.test"),
        "{list}"
    );
    assert!(!list.contains(">Acme<"));
    let audit = app.get_html("/admin/audit").await;
    assert!(audit.contains("directory.import"), "{audit}");
    assert!(audit.contains("business.update"), "{audit}");
}

#[tokio::test]
async fn members_may_import_and_oversized_files_are_refused() {
    let app = TestApp::spawn_admin().await;
    let member = app
        .member_browser("mo@acme.test", "member password 1")
        .await;
    import(&member, "businesses", b"name,domains\nAcme,acme.test\n").await;
    assert_eq!(counts(&app).await, (1, 0));

    let mut big = b"name,domains,notes\n".to_vec();
    while big.len() <= 5 * 1024 * 1024 {
        big.extend_from_slice(b"Row,row.test,padding padding padding padding padding padding\n");
    }
    let res = upload(&member, "businesses", &big).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let page = res.text().await.unwrap();
    assert!(page.contains("larger than 5 MB"), "{page}");

    let res = upload(&member, "businesses", b"name,colour\nAcme,red\n").await;
    crate::support::assert_form_error(res, "unknown column").await;
}

#[tokio::test]
async fn missing_optional_columns_keep_what_is_stored() {
    let app = TestApp::spawn_admin().await;
    import(
        &app,
        "businesses",
        b"name,domains,notes\nAcme,acme.test,Key account\n",
    )
    .await;
    import(
        &app,
        "contacts",
        b"name,addresses,business,notes\nAnn,ann@acme.test,Acme,VIP\n",
    )
    .await;
    // No business or notes columns: the update renames, and keeps the business and notes.
    let done = import(&app, "contacts", b"addresses,name\nann@acme.test,Ann Lee\n").await;
    assert!(done.contains("0 contacts created, 1 updated"), "{done}");
    let done = import(&app, "businesses", b"domains,name\nacme.test,Acme\n").await;
    assert!(done.contains("0 updated, 1 unchanged"), "{done}");
    let text = String::from_utf8(export(&app, "contacts").await).unwrap();
    assert!(text.contains("Ann Lee,ann@acme.test,Acme,VIP"), "{text}");
    let text = String::from_utf8(export(&app, "businesses").await).unwrap();
    assert!(text.contains("Acme,acme.test,Key account"), "{text}");
}

#[tokio::test]
async fn a_previewed_file_applies_once_and_only_for_its_uploader() {
    let app = TestApp::spawn_admin().await;
    let member = app
        .member_browser("mo@acme.test", "member password 1")
        .await;
    let preview = upload(&app, "businesses", b"name,domains\nAcme,acme.test\n")
        .await
        .text()
        .await
        .unwrap();
    let token = field(&preview, "token");
    let res = member
        .post_form("/import/apply", &[("token", &token)])
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "not the uploader's"
    );
    assert_eq!(counts(&app).await, (0, 0));
    let csrf = csrf_in(&preview);
    let res = app
        .post_form_with("/import/apply", Some(&csrf), &[("token", &token)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_form_with("/import/apply", Some(&csrf), &[("token", &token)])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "used up");
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("expired or was already applied"));
    assert_eq!(counts(&app).await, (1, 0));
}
