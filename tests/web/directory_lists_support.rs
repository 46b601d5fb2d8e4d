//! Reading the directory lists' rows in tests: record ids in order, a row's activity cells,
//! "Load more".
use reqwest::StatusCode;

use crate::support::TestApp;

/// The record ids of a list page's or fragment's rows, in order.
pub fn ids_in(html: &str) -> Vec<i64> {
    html.split("class=\"record-row\" data-id=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

/// A row's `(last activity, threads, messages)`; the date empty when there is none.
pub fn row_of(html: &str, id: i64) -> (String, String, String) {
    let start = html
        .find(&format!("class=\"record-row\" data-id=\"{id}\""))
        .unwrap_or_else(|| panic!("no row {id}"));
    let row = &html[start..start + html[start..].find("</tr>").unwrap()];
    let cell = |class: &str| -> String {
        let at = row.find(&format!("class=\"{class}\"")).expect(class);
        let rest = &row[at..];
        let open = rest.find('>').unwrap() + 1;
        let close = rest.find("</td>").unwrap();
        rest[open..close].trim().to_string()
    };
    let last = cell("last-activity");
    let last = last
        .strip_prefix("<time>")
        .and_then(|t| t.strip_suffix("</time>"))
        .unwrap_or_default()
        .to_string();
    (last, cell("num threads"), cell("num messages"))
}

/// The "Load more" URL of a list page or fragment, unescaped.
pub fn more_url(html: &str) -> Option<String> {
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

/// The rows and "Load more" URL of an htmx fragment.
pub async fn fragment_more(app: &TestApp, path: &str) -> (Vec<i64>, Option<String>) {
    let res = app
        .client
        .get(app.url(path))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let html = res.text().await.unwrap();
    (ids_in(&html), more_url(&html))
}
