//! Businesses and contacts lists: search (plain GET and htmx fragment) and keyset "load more".
use reqwest::StatusCode;

use crate::directory::create;
use crate::support::TestApp;

/// The "Load more" URL of a list page or fragment, unescaped.
fn more_url(html: &str) -> Option<String> {
    let row = html.find("class=\"load-more\"")?;
    let start = html[row..].find("href=\"")? + row + 6;
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&amp;", "&")
            .replace("&#38;", "&")
            .replace("&#x2f;", "/")
            .replace("&#47;", "/"),
    )
}

async fn fragment(app: &TestApp, path: &str) -> String {
    let res = app
        .client
        .get(app.url(path))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.text().await.unwrap()
}

#[tokio::test]
async fn search_by_name_domain_and_address() {
    let app = TestApp::spawn_admin().await;
    create(
        &app,
        "/businesses",
        &[("name", "Acme Ltd"), ("domains", "acme.co.uk")],
    )
    .await;
    create(
        &app,
        "/businesses",
        &[("name", "Globex"), ("domains", "globex.com.au")],
    )
    .await;
    create(
        &app,
        "/contacts",
        &[("name", "Ann"), ("addresses", "ann@globex.com.au")],
    )
    .await;
    create(
        &app,
        "/contacts",
        &[("name", "Bob_Smith"), ("addresses", "bob@acme.co.uk")],
    )
    .await;

    let page = app.get_html("/businesses?q=GLOB").await;
    assert!(
        page.contains("Globex") && !page.contains("Acme Ltd"),
        "by name"
    );
    let page = app.get_html("/businesses?q=co.uk").await;
    assert!(
        page.contains("Acme Ltd") && !page.contains("Globex"),
        "by domain"
    );
    let page = app.get_html("/businesses?q=nothing-here").await;
    assert!(page.contains("No business matches"));

    let rows = fragment(&app, "/businesses?q=acme").await;
    assert!(
        rows.contains("Acme Ltd") && !rows.contains("<html"),
        "fragment only"
    );
    let page = app.get_html("/contacts?q=globex.com").await;
    assert!(
        page.contains("Ann") && !page.contains("Bob_Smith"),
        "by address"
    );
    let page = app.get_html("/contacts?q=_").await;
    assert!(
        page.contains("Bob_Smith") && !page.contains(">Ann<"),
        "LIKE wildcards are literal"
    );
}

#[tokio::test]
async fn load_more_walks_every_business_once() {
    use threadline::db::{directory, organizations};
    let app = TestApp::spawn_admin().await;
    let org = organizations::first(&app.db).await.unwrap().unwrap().id;
    // Ten equal names straddle the page boundary, so ties must be broken by id.
    let mut ids = Vec::new();
    for i in 0..30 {
        let name = if i < 20 {
            format!("Biz {i:02}")
        } else {
            "Zed".into()
        };
        let domain = format!("biz{i}.com");
        let row = directory::create_business(&app.db, org, &name, &[domain])
            .await
            .unwrap();
        ids.push(row.id);
    }
    let mut seen = Vec::new();
    let mut html = app.get_html("/businesses").await;
    let mut pages = 1;
    loop {
        for id in &ids {
            if html.contains(&format!("href=\"/businesses/{id}\"")) {
                seen.push(*id);
            }
        }
        let Some(url) = more_url(&html) else { break };
        html = fragment(&app, &url).await;
        pages += 1;
        assert!(pages < 5, "pagination does not end");
    }
    assert_eq!(pages, 2);
    seen.sort_unstable();
    assert_eq!(seen, ids, "every business exactly once");

    let first = app.get_html("/businesses?q=zed").await;
    assert!(more_url(&first).is_none(), "10 matches fit one page");
}
