//! The authorize endpoint's consent page and the OIDC discovery document.

use serde_json::Value;
use threadline_emulator::Quota;

use crate::graph::support::{emulator, query_of, Emu, CLIENT, ME, REDIRECT, TENANT};

/// The consent page an authorize URL answers with these parameters.
async fn consent_page(emu: &Emu, url: &str, params: &[(&str, &str)]) -> String {
    let r = emu.http.get(url).query(params).send().await.expect("page");
    r.text().await.expect("html")
}

#[tokio::test]
async fn the_consent_page_lists_tenant_mailboxes_and_deny_redirects_with_access_denied() {
    let emu = emulator(Quota::Off, false).await;
    let url = format!("{}/{TENANT}/oauth2/v2.0/authorize", emu.base());
    let params = [
        ("client_id", CLIENT),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "offline_access Mail.Read"),
        ("state", "st4te"),
        ("login_hint", "bob@ourco.test"),
    ];
    let page = consent_page(&emu, &url, &params).await;
    assert!(page.contains(ME) && page.contains("bob@ourco.test"));
    assert!(
        !page.contains("eve@elsewhere.test"),
        "other tenants are not listed"
    );
    assert!(
        page.contains(r#"value="bob@ourco.test" checked"#),
        "login_hint preselects"
    );
    let mut form: Vec<(&str, &str)> = params.to_vec();
    form.push(("emulator_mailbox", "bob@ourco.test"));
    form.push(("emulator_decision", "deny"));
    let r = emu.http.post(&url).form(&form).send().await.expect("deny");
    assert_eq!(r.status().as_u16(), 302);
    let q = query_of(r.headers()["location"].to_str().unwrap_or_default());
    assert_eq!(q.get("error").map(String::as_str), Some("access_denied"));
    assert_eq!(q.get("state").map(String::as_str), Some("st4te"));
    assert!(q
        .get("error_description")
        .is_some_and(|d| d.starts_with("AADSTS")));
    form.pop();
    form.push(("emulator_decision", "allow"));
    let r = emu.http.post(&url).form(&form).send().await.expect("allow");
    let q = query_of(r.headers()["location"].to_str().unwrap_or_default());
    assert!(q.contains_key("code"));
    // common lists every account.
    let common = format!("{}/common/oauth2/v2.0/authorize", emu.base());
    let page = consent_page(&emu, &common, &params).await;
    assert!(page.contains("eve@elsewhere.test") && page.contains("pat@outlook.test"));
    // Unsupported response type goes back to the client.
    let mut bad = params.to_vec();
    bad[1] = ("response_type", "token");
    let r = emu.http.get(&url).query(&bad).send().await.expect("bad");
    assert!(r.headers()["location"]
        .to_str()
        .unwrap_or_default()
        .contains("error=unsupported_response_type"));
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration` with `headers`.
async fn openid_configuration(
    emu: &Emu,
    tenant: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let url = format!(
        "{}/{tenant}/v2.0/.well-known/openid-configuration",
        emu.base()
    );
    let mut req = emu.http.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("doc")
}

/// The OpenID configuration document of `tenant`.
async fn openid_document(emu: &Emu, tenant: &str, headers: &[(&str, &str)]) -> Value {
    let r = openid_configuration(emu, tenant, headers).await;
    r.json().await.expect("json")
}

#[tokio::test]
async fn openid_configuration_points_at_the_emulator() {
    let emu = emulator(Quota::Off, false).await;
    let doc: Value = openid_document(&emu, TENANT, &[]).await;
    assert_eq!(doc["issuer"], format!("{}/{TENANT}/v2.0", emu.base()));
    assert_eq!(
        doc["token_endpoint"],
        format!("{}/{TENANT}/oauth2/v2.0/token", emu.base())
    );
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{}/{TENANT}/oauth2/v2.0/authorize", emu.base())
    );
    let common: Value = openid_document(&emu, "common", &[]).await;
    assert!(common["issuer"]
        .as_str()
        .is_some_and(|i| i.contains("{tenantid}")));
    // Behind a TLS-terminating proxy the endpoints are https (MSAL requires it).
    let proxied: Value = openid_document(&emu, TENANT, &[("X-Forwarded-Proto", "https")]).await;
    assert!(proxied["token_endpoint"]
        .as_str()
        .is_some_and(|t| t.starts_with("https://")));
    let unknown = openid_configuration(&emu, "nope.example", &[]).await;
    assert_eq!(unknown.status().as_u16(), 400);
}
