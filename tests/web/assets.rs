//! `/static/…` is served from the files compiled into the binary: the right type, an ETag the
//! browser revalidates with (304), and nothing outside `static/`.
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use reqwest::StatusCode;

use crate::support::TestApp;

#[tokio::test]
async fn static_files_are_served_with_their_type_and_revalidated_by_etag() {
    let app = TestApp::spawn().await;
    let res = app.get("/static/vendor/htmx-2.0.11.min.js").await;
    assert_eq!(res.status(), StatusCode::OK);
    let kind = res.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
    assert!(kind.contains("javascript"), "{kind}");
    assert_eq!(res.headers()[CACHE_CONTROL], "no-cache");
    let etag = res.headers()[ETAG].clone();
    let body = res.bytes().await.unwrap();
    let on_disk = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static/vendor/htmx-2.0.11.min.js"),
    )
    .unwrap();
    assert_eq!(
        body.as_ref(),
        on_disk.as_slice(),
        "the vendored htmx itself"
    );

    let css = app.get("/static/app.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert!(css.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    assert_ne!(css.headers()[ETAG], etag, "each file has its own tag");

    let again = app
        .client
        .get(app.url("/static/vendor/htmx-2.0.11.min.js"))
        .header(IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn nothing_outside_the_static_files_is_served() {
    let app = TestApp::spawn().await;
    for path in [
        "/static/nope.js",
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/..%2fCargo.toml",
        "/static//etc/passwd",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
}
