//! What a person does in the browser (go to a page, fill a field, press a button) and the
//! waiting for what they would then see. Every wait has a deadline and says what it waited for.
use std::future::Future;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::support::{TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

const PATIENCE: Duration = Duration::from_secs(30);

/// Retry `probe` until it answers `Some`, or fail naming `what` and the last thing seen.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let until = Instant::now() + PATIENCE;
    loop {
        match probe().await {
            Ok(v) => return v,
            Err(seen) => assert!(
                Instant::now() < until,
                "timed out waiting for {what}; last seen: {seen}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Wait until the page has loaded and htmx has started on it.
pub async fn ready(c: &Client) {
    eventually("the page and htmx to load", || async move {
        let v = c
            .execute(
                "return document.readyState === 'complete' && typeof htmx === 'object'",
                vec![],
            )
            .await
            .map_err(|e| e.to_string())?;
        if v == json!(true) {
            Ok(())
        } else {
            Err(format!("{v}"))
        }
    })
    .await;
}

pub async fn goto(c: &Client, url: &str) {
    c.goto(url).await.unwrap();
    ready(c).await;
}

pub async fn path(c: &Client) -> String {
    c.current_url().await.unwrap().path().to_string()
}

/// Wait until the address bar shows `prefix...`; returns the path.
pub async fn wait_path(c: &Client, prefix: &str) -> String {
    let p = eventually(&format!("the address {prefix}…"), || async move {
        let p = path(c).await;
        if p.starts_with(prefix) {
            Ok(p)
        } else {
            Err(p)
        }
    })
    .await;
    ready(c).await;
    p
}

/// Wait until the address bar's query is `want` (htmx pushes it after a filter).
pub async fn wait_query(c: &Client, want: &str) {
    eventually(&format!("the address ?{want}"), || async move {
        let url = c.current_url().await.map_err(|e| e.to_string())?;
        if url.query() == Some(want) {
            Ok(())
        } else {
            Err(url.to_string())
        }
    })
    .await;
}

/// Follow a link by its exact text, as a click.
pub async fn follow(c: &Client, text: &str) {
    c.find(Locator::LinkText(text))
        .await
        .unwrap_or_else(|e| panic!("no link {text:?}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Press the button whose text is `label`, inside `within` (a CSS selector) when given.
pub async fn press(c: &Client, within: &str, label: &str) {
    let button = format!(".//button[normalize-space(.)='{label}']");
    let scope = c
        .find(Locator::Css(within))
        .await
        .unwrap_or_else(|e| panic!("no {within}: {e}"));
    scope
        .find(Locator::XPath(&button))
        .await
        .unwrap_or_else(|e| panic!("no button {label:?} in {within}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Type `value` into the field `css` (cleared first).
pub async fn fill(c: &Client, css: &str, value: &str) {
    let field = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no field {css}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

pub async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("nothing to click at {css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// The visible text of every element matching `css`, in document order.
pub async fn texts(c: &Client, css: &str) -> Vec<String> {
    let v = c
        .execute(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText.trim())",
            vec![json!(css)],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

/// An attribute of every element matching `css`, in document order.
pub async fn attrs(c: &Client, css: &str, attr: &str) -> Vec<String> {
    let v = c
        .execute(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.getAttribute(arguments[1]) || '')",
            vec![json!(css), json!(attr)],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

/// The rendered width in CSS pixels of every element matching `css`.
pub async fn widths(c: &Client, css: &str) -> Vec<f64> {
    let v = c
        .execute(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.getBoundingClientRect().width)",
            vec![json!(css)],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

/// Wait until the text of `css` (all matches joined) contains `needle`; returns that text.
pub async fn wait_text(c: &Client, css: &str, needle: &str) -> String {
    eventually(&format!("{needle:?} in {css}"), || async move {
        let all = texts(c, css).await.join("\n");
        if all.contains(needle) {
            Ok(all)
        } else {
            Err(all)
        }
    })
    .await
}

/// Wait until the texts of the elements matching `css` are exactly `want`.
pub async fn wait_texts(c: &Client, css: &str, want: &[&str]) {
    eventually(&format!("{css} to read {want:?}"), || async move {
        let got = texts(c, css).await;
        if got == want {
            Ok(())
        } else {
            Err(format!("{got:?}"))
        }
    })
    .await;
}

/// Wait until exactly `n` elements match `css`.
pub async fn wait_count(c: &Client, css: &str, n: usize) {
    eventually(&format!("{n} × {css}"), || async move {
        let got = texts(c, css).await.len();
        if got == n {
            Ok(())
        } else {
            Err(format!("{got}"))
        }
    })
    .await;
}

/// Tag the current document: [`same_page`] then tells an in-place (htmx) update from a
/// navigation, which would load a fresh document without the tag.
pub async fn tag_page(c: &Client, tag: &str) {
    c.execute("window.threadlineTag = arguments[0]", vec![json!(tag)])
        .await
        .unwrap();
}

pub async fn same_page(c: &Client, tag: &str) -> bool {
    c.execute(
        "return window.threadlineTag === arguments[0]",
        vec![json!(tag)],
    )
    .await
    .unwrap()
        == json!(true)
}

/// Sign in through the login form; lands on the home page.
pub async fn sign_in(c: &Client, app: &TestApp) {
    goto(c, &app.url("/login")).await;
    fill(c, "input[name=email]", ADMIN_EMAIL).await;
    fill(c, "input[name=password]", ADMIN_PASSWORD).await;
    press(c, "main", "Sign in").await;
    c.wait()
        .for_url(url::Url::parse(&app.url("/")).unwrap())
        .await
        .unwrap();
    ready(c).await;
}
