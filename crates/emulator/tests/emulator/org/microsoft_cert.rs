//! Certificate credentials: a client assertion signed with the registered certificate's key
//! gets an app-only token; each way an assertion can be wrong gets Entra's own error.

use serde_json::{json, Value};
use threadline_emulator::crypto::{generate_key, private_key_from_pem, sign_rs256, RsaPrivateKey};
use threadline_emulator::microsoft::tenant_control::AddCertificate;
use threadline_emulator::x509::Certificate;

use super::microsoft::{code, tenant, APP, DEFAULT_SCOPE, DOMAIN};
use super::{now, Org};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

struct Signer {
    key: RsaPrivateKey,
    x5t: String,
}

impl Signer {
    #[allow(clippy::needless_pass_by_value)]
    fn assertion(&self, header: Value, claims: Value) -> String {
        let mut h = json!({"alg": "RS256", "typ": "JWT", "x5t": self.x5t});
        if let (Value::Object(h), Value::Object(extra)) = (&mut h, header) {
            h.extend(extra);
            h.retain(|_, v| !v.is_null());
        }
        sign_rs256(&self.key, &h, &claims)
    }
}

fn claims(org: &Org, tenant: &str) -> Value {
    let t = now();
    json!({
        "aud": org.url(&format!("/{tenant}/oauth2/v2.0/token")),
        "iss": APP, "sub": APP,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": t, "iat": t, "exp": t + 600,
    })
}

fn with(mut base: Value, changes: Value) -> Value {
    if let (Value::Object(b), Value::Object(c)) = (&mut base, changes) {
        b.extend(c);
    }
    base
}

async fn assert_token(org: &Org, tenant: &str, assertion: &str) -> (u16, Value) {
    org.form(
        &format!("/{tenant}/oauth2/v2.0/token"),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", APP),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
            ("scope", DEFAULT_SCOPE),
        ],
    )
    .await
}

fn description(body: &Value) -> &str {
    body["error_description"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_certificate_assertion_gets_a_token_and_every_flaw_its_own_error() {
    let org = Org::start().await;
    let (tenant, _) = tenant(&org).await;
    let client = org.emu.client();
    let added = client
        .add_certificate(&tenant, APP, &AddCertificate::default())
        .await
        .expect("certificate");
    assert_eq!(added.credential.thumbprint.len(), 40);
    let pem = added.private_key_pem.clone().expect("generated key");
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let signer = Signer {
        key: private_key_from_pem(&pem).expect("key"),
        x5t: added.credential.x5t.clone(),
    };
    let good = claims(&org, &tenant);

    let (status, body) =
        assert_token(&org, &tenant, &signer.assertion(json!({}), good.clone())).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, _) = org
        .get(&token, &format!("/v1.0/users/ada@{DOMAIN}/messages"), &[])
        .await;
    assert_eq!(status, 200);
    // The same assertion again (MSAL reuses one until it expires), and x5t#S256 alone.
    assert_eq!(
        assert_token(&org, &tenant, &signer.assertion(json!({}), good.clone()))
            .await
            .0,
        200
    );
    let s256 = signer.assertion(
        json!({"x5t": null, "x5t#S256": added.credential.x5t_s256}),
        good.clone(),
    );
    assert_eq!(assert_token(&org, &tenant, &s256).await.0, 200);
    // MSAL for Python pads the base64url thumbprint.
    let padded = signer.assertion(
        json!({"x5t": format!("{}=", added.credential.x5t)}),
        good.clone(),
    );
    assert_eq!(assert_token(&org, &tenant, &padded).await.0, 200);
    // aud may name the tenant by its domain.
    let by_domain = with(
        good.clone(),
        json!({"aud": org.url(&format!("/{DOMAIN}/oauth2/v2.0/token"))}),
    );
    assert_eq!(
        assert_token(&org, DOMAIN, &signer.assertion(json!({}), by_domain))
            .await
            .0,
        200
    );

    let expired = with(
        good.clone(),
        json!({"nbf": now() - 7200, "exp": now() - 3600}),
    );
    let (status, body) = assert_token(&org, &tenant, &signer.assertion(json!({}), expired)).await;
    assert_eq!((status, code(&body)), (401, 700_024), "{body}");
    assert!(description(&body)
        .contains("Client assertion is not within its valid time range. Current time: "));

    let wrong_aud = with(
        good.clone(),
        json!({"aud": "https://login.microsoftonline.com/common/oauth2/v2.0/token"}),
    );
    let (_, body) = assert_token(&org, &tenant, &signer.assertion(json!({}), wrong_aud)).await;
    assert_eq!(code(&body), 50_012, "{body}");

    let wrong_iss = with(good.clone(), json!({"iss": "someone-else"}));
    let (_, body) = assert_token(&org, &tenant, &signer.assertion(json!({}), wrong_iss)).await;
    assert_eq!(code(&body), 700_021, "{body}");

    let (_, body) = assert_token(
        &org,
        &tenant,
        &signer.assertion(json!({"x5t": null}), good.clone()),
    )
    .await;
    assert_eq!(code(&body), 50_027, "{body}");
    assert!(description(&body).contains("No certificate thumbprint specified in token header."));

    let no_jti = with(good.clone(), json!({"jti": null}));
    let (_, body) = assert_token(&org, &tenant, &signer.assertion(json!({}), no_jti)).await;
    assert_eq!(code(&body), 50_027, "{body}");

    let (_, body) = assert_token(&org, &tenant, "not-a-jwt").await;
    assert_eq!(code(&body), 50_027, "{body}");

    // A certificate the app does not know, and the known thumbprint signed by another key.
    let other = generate_key().expect("key");
    let unknown = Certificate::self_signed(
        &other,
        "other",
        chrono::Utc::now() - chrono::Duration::days(1),
        chrono::Utc::now() + chrono::Duration::days(30),
    )
    .expect("cert");
    let stranger = Signer {
        key: other.clone(),
        x5t: unknown.x5t(),
    };
    let (status, body) =
        assert_token(&org, &tenant, &stranger.assertion(json!({}), good.clone())).await;
    assert_eq!((status, code(&body)), (401, 700_027), "{body}");
    assert!(description(&body).contains("is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '"));
    assert!(description(&body).contains(&unknown.thumbprint()));
    let forger = Signer {
        key: other,
        x5t: added.credential.x5t.clone(),
    };
    let (_, body) = assert_token(&org, &tenant, &forger.assertion(json!({}), good.clone())).await;
    assert_eq!(code(&body), 700_027, "{body}");
    assert!(description(&body).contains("Client assertion failed signature validation."));

    // Uploading that certificate makes the stranger's assertions good.
    client
        .add_certificate(
            &tenant,
            APP,
            &AddCertificate {
                certificate_pem: Some(unknown.pem()),
                ..AddCertificate::default()
            },
        )
        .await
        .expect("upload");
    assert_eq!(
        assert_token(&org, &tenant, &stranger.assertion(json!({}), good))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let org = Org::start().await;
    let (tenant, _) = tenant(&org).await;
    let start = chrono::Utc::now() - chrono::Duration::days(400);
    let end = chrono::Utc::now() - chrono::Duration::days(1);
    let added = org
        .emu
        .client()
        .add_certificate(
            &tenant,
            APP,
            &AddCertificate {
                start: Some(start),
                end: Some(end),
                ..AddCertificate::default()
            },
        )
        .await
        .expect("certificate");
    assert_eq!(added.credential.end.timestamp(), end.timestamp());
    let signer = Signer {
        key: private_key_from_pem(added.private_key_pem.as_deref().unwrap_or_default())
            .expect("key"),
        x5t: added.credential.x5t,
    };
    let (status, body) = assert_token(
        &org,
        &tenant,
        &signer.assertion(json!({}), claims(&org, &tenant)),
    )
    .await;
    assert_eq!((status, code(&body)), (401, 1_000_502), "{body}");
    assert!(description(&body).contains("not within its specified validity window"));
}
