//! Authenticated Pub/Sub pushes: each push carries a Google-style ID token signed with the key
//! the JWKS at `/oauth2/v3/certs` publishes, for the registration's audience and service
//! account (or the defaults); unauthenticated registrations push unsigned; a topic Gmail may
//! not publish to makes users.watch answer 403.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::{BigUint, RsaPublicKey};
use serde_json::{json, Value};
use threadline_emulator::crypto::Jwt;
use threadline_emulator::google::gmail::watch::DEFAULT_PUSH_ACCOUNT;

use crate::google::schema::assert_google_error;
use crate::google::support::{google_with, Emu, READONLY};
use crate::support::serve;

/// The `Authorization` header of every push received (None: unsigned).
type Headers = Arc<Mutex<Vec<Option<String>>>>;

async fn receiver() -> (Headers, String) {
    let seen: Headers = Arc::default();
    let sink = seen.clone();
    let app = Router::new().route(
        "/push",
        post(move |headers: HeaderMap| {
            let sink = sink.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                sink.lock().expect("lock").push(auth);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    (seen, format!("http://{}/push", serve(app).await))
}

async fn push_one(emu: &Emu, token: &str, topic: &str, tag: &str) {
    let (status, _) = emu
        .post(
            token,
            "/gmail/v1/users/me/watch",
            json!({"topicName": topic, "labelIds": ["INBOX"]}),
        )
        .await;
    assert_eq!(status, 200);
    emu.deliver_simple("labels=INBOX", &format!("{tag}@x"), tag, "x")
        .await;
}

async fn first(seen: &Headers, n: usize) -> Vec<Option<String>> {
    for _ in 0..100 {
        if seen.lock().expect("lock").len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    seen.lock().expect("lock").clone()
}

fn public_key(jwks: &Value, kid: &str) -> RsaPublicKey {
    let key = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"] == kid))
        .expect("the token's key is published");
    assert_eq!(
        (&key["kty"], &key["alg"], &key["use"]),
        (&json!("RSA"), &json!("RS256"), &json!("sig"))
    );
    let int = |name: &str| {
        BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(key[name].as_str().unwrap()).unwrap())
    };
    RsaPublicKey::new(int("n"), int("e")).expect("an RSA key")
}

#[tokio::test]
async fn pushes_carry_an_id_token_signed_with_the_published_key() {
    let (seen, url) = receiver().await;
    let (emu, token) = google_with(&[READONLY]).await;
    let (status, _) = emu
        .control(
            reqwest::Method::POST,
            "/_emulator/pubsub/topics",
            Some(
                json!({"topic": "projects/crm/topics/gmail", "push_endpoint": url,
                        "audience": "https://crm.test/push/gmail",
                        "service_account": "push@crm.iam.gserviceaccount.com"}),
            ),
        )
        .await;
    assert_eq!(status, 201);
    push_one(&emu, &token, "projects/crm/topics/gmail", "signed").await;
    let headers = first(&seen, 1).await;
    let bearer = headers[0]
        .as_deref()
        .and_then(|h| h.strip_prefix("Bearer "))
        .expect("a bearer token");
    let jwt = Jwt::decode(bearer).expect("a JWT");
    let (_, jwks) = emu.control_get("/oauth2/v3/certs").await;
    let key = public_key(&jwks, jwt.header_str("kid").expect("kid"));
    assert!(jwt.verify_rs256(&key), "signed with the published key");
    assert_eq!(jwt.claim_str("iss"), Some("https://accounts.google.com"));
    assert_eq!(jwt.claim_str("aud"), Some("https://crm.test/push/gmail"));
    assert_eq!(
        jwt.claim_str("email"),
        Some("push@crm.iam.gserviceaccount.com")
    );
    assert_eq!(jwt.claims["email_verified"], json!(true));
    assert!(jwt
        .claim_str("sub")
        .is_some_and(|s| s.chars().all(|c| c.is_ascii_digit())));
    let (iat, exp) = (
        jwt.claim_time("iat").unwrap(),
        jwt.claim_time("exp").unwrap(),
    );
    assert_eq!(exp - iat, 3600);
    assert!((iat - chrono::Utc::now().timestamp()).abs() < 60);
}

#[tokio::test]
async fn defaults_unsigned_registrations_and_unpublishable_topics() {
    let (seen, url) = receiver().await;
    let (emu, token) = google_with(&[READONLY]).await;
    let register = |topic: &str, extra: Value| {
        let mut body = json!({"topic": topic, "push_endpoint": url});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    for (topic, extra) in [
        ("projects/p/topics/plain", json!({})),
        ("projects/p/topics/open", json!({"authenticated": false})),
        (
            "projects/p/topics/closed",
            json!({"gmail_may_publish": false}),
        ),
    ] {
        let body = register(topic, extra);
        emu.control(
            reqwest::Method::POST,
            "/_emulator/pubsub/topics",
            Some(body),
        )
        .await;
    }
    push_one(&emu, &token, "projects/p/topics/plain", "plain").await;
    let headers = first(&seen, 1).await;
    let jwt =
        Jwt::decode(headers[0].as_deref().unwrap().trim_start_matches("Bearer ")).expect("a JWT");
    assert_eq!(
        jwt.claim_str("aud"),
        Some(url.as_str()),
        "the push endpoint"
    );
    assert_eq!(jwt.claim_str("email"), Some(DEFAULT_PUSH_ACCOUNT));

    tokio::time::sleep(Duration::from_millis(1100)).await;
    push_one(&emu, &token, "projects/p/topics/open", "open").await;
    let headers = first(&seen, 2).await;
    assert_eq!(headers.len(), 2);
    assert_eq!(headers[1], None, "unauthenticated subscription: no token");

    let (status, body) = emu
        .post(
            &token,
            "/gmail/v1/users/me/watch",
            json!({"topicName": "projects/p/topics/closed"}),
        )
        .await;
    assert_eq!(status, 403);
    assert_google_error(&body, 403, "forbidden");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("User not authorized to perform this action")));
}
