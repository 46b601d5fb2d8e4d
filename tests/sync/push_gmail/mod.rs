//! Gmail push through Pub/Sub (issue 22) against the emulator, which signs its pushes as
//! Google does: after a pass the mailbox has a watch on its synced labels; a delivered message
//! is pushed with a Google-signed ID token, wakes the mailbox, and the next worker pass stores
//! it; forged, expired, misaddressed and missing tokens are refused and wake nothing; a pushed
//! history id that is not newer than the cursor wakes nothing; the watch is renewed after a
//! day; without a topic Gmail polls and says why.
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use threadline::db::entities::mailbox_push::Model as PushRow;
use threadline::db::{jobs, push, sync_cursors};
use threadline::sync::worker;
use threadline_emulator::control::DeliverQuery;
use threadline_emulator::google::gmail::watch::Topic;
use threadline_emulator::google::signing::Signer;
use threadline_emulator::{EmulatorConfig, RunningEmulator};

use crate::common::{self, stored, Linked, Mailbox};
use crate::support::{client, TestApp, TestDb};

mod upkeep;

pub const TOPIC: &str = "projects/crm/topics/gmail";
pub const PUSHER: &str = "gmail-push@crm.iam.gserviceaccount.com";
pub const AUDIENCE: &str = "https://crm.example.test/push/gmail";
pub const MAILBOX: Mailbox = Mailbox {
    provider: "google",
    address: "pia@push.test",
    name: "Pia Push",
};

/// An app with Gmail push on (and `push_flags`), the mailbox linked with a few messages, and
/// the topic registered in the emulator to push to the app.
pub async fn linked_with(push_flags: &[&str], topic: impl FnOnce(&TestApp) -> Topic) -> Linked {
    let app = push_app(push_flags).await;
    app.setup_admin().await;
    app.provider_mailbox(MAILBOX.provider, MAILBOX.address, MAILBOX.name)
        .await;
    for tag in ["push-old-1", "push-old-2"] {
        deliver(&app, tag).await;
    }
    app.emulator_client()
        .add_topic(&topic(&app))
        .await
        .expect("topic registered");
    common::link(app, MAILBOX).await
}

/// A fresh emulator and the app with `--push on`, Google's keys at the emulator, and
/// `push_flags`.
pub async fn push_app(push_flags: &[&str]) -> TestApp {
    let emulator =
        threadline_emulator::start("127.0.0.1:0".parse().unwrap(), EmulatorConfig::default())
            .await
            .expect("emulator starts");
    let certs = format!("{}/oauth2/v3/certs", emulator.base_url);
    let mut args = vec!["--push", "on", "--google-certs-url", &certs];
    args.extend_from_slice(push_flags);
    let db = Arc::new(TestDb::new().await);
    TestApp::spawn_full(db, client(), Some(Arc::new(emulator)), &args).await
}

pub const CONFIGURED: [&str; 6] = [
    "--google-pubsub-topic",
    TOPIC,
    "--google-pubsub-service-account",
    PUSHER,
    "--google-pubsub-audience",
    AUDIENCE,
];

/// The topic as the operator sets it up: pushes to the app, authenticated as [`PUSHER`] for
/// [`AUDIENCE`].
pub fn topic_for(app: &TestApp) -> Topic {
    Topic {
        audience: Some(AUDIENCE.into()),
        service_account: Some(PUSHER.into()),
        ..Topic::new(TOPIC, app.url("/push/gmail"))
    }
}

pub async fn linked() -> Linked {
    linked_with(&CONFIGURED, topic_for).await
}

pub async fn deliver(app: &TestApp, tag: &str) -> String {
    let raw = common::message(
        &format!("{} <{}>", MAILBOX.name, MAILBOX.address),
        "",
        tag,
        tag,
        false,
    );
    let query = DeliverQuery {
        labels: Some("INBOX".into()),
        ..DeliverQuery::default()
    };
    common::deliver_to(app, MAILBOX.address, &query, &raw).await
}

/// Worker passes until nothing is due; how many ran.
pub async fn run_due(l: &Linked) -> usize {
    let mut passes = 0;
    while worker::sync_next_due(&l.app.deps, "push-w")
        .await
        .expect("pass")
        .is_some()
    {
        passes += 1;
    }
    passes
}

pub async fn row(l: &Linked) -> PushRow {
    push::find(&l.app.db, l.account_id)
        .await
        .unwrap()
        .expect("push row")
}

/// Whether the mailbox's sync job was woken (due now, or stamped by a wake).
pub async fn woken(l: &Linked) -> bool {
    job_woken(&l.app, l.account_id).await
}

pub async fn job_woken(app: &TestApp, account_id: i64) -> bool {
    let job = jobs::find(&app.db, jobs::SYNC_ACCOUNT, account_id)
        .await
        .unwrap()
        .expect("job");
    job.woken_at.is_some() || job.run_at <= threadline::db::now()
}

pub fn emulator(l: &Linked) -> &RunningEmulator {
    l.app.emulator.as_deref().expect("emulator")
}

pub fn signer(l: &Linked) -> Arc<Signer> {
    emulator(l).state.ext.get::<Signer>()
}

/// A Pub/Sub push body for the mailbox at `history_id`.
pub fn push_body(address: &str, history_id: u64) -> serde_json::Value {
    use base64::Engine as _;
    let data = json!({"emailAddress": address, "historyId": history_id}).to_string();
    json!({
        "message": {
            "data": base64::engine::general_purpose::STANDARD.encode(data),
            "messageId": "2070443601311540",
            "publishTime": "2026-12-07T19:13:55.749Z",
        },
        "subscription": "projects/crm/subscriptions/push",
    })
}

pub async fn post_push(l: &Linked, token: Option<&str>, body: &serde_json::Value) -> StatusCode {
    let mut request = l.app.client.post(l.app.url("/push/gmail")).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("push").status()
}

/// The stored Gmail history cursor.
pub async fn cursor(l: &Linked) -> u64 {
    sync_cursors::cursor(&l.app.db, l.account_id, "gmail")
        .await
        .unwrap()
        .and_then(|c| c.cursor)
        .expect("a history cursor")
        .parse()
        .expect("numeric")
}

/// When the emulator's watch on the mailbox lapses (epoch ms).
pub async fn expiration(l: &Linked) -> i64 {
    let overview = l.app.emulator_client().push_state().await.unwrap();
    overview.watches[MAILBOX.address].expiration_ms
}

pub async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test]
async fn a_delivered_message_is_pushed_signed_wakes_the_mailbox_and_the_next_pass_stores_it() {
    let l = linked().await;
    assert_eq!(run_due(&l).await, 1, "the first pass");
    let r = row(&l).await;
    assert_eq!(r.state, push::ACTIVE, "{:?}", r.reason);
    assert_eq!(r.subscription_id.as_deref(), Some(TOPIC));
    assert!(r
        .expires_at
        .is_some_and(|e| e > threadline::db::now() + chrono::Duration::days(6)));
    let overview = l.app.emulator_client().push_state().await.unwrap();
    let watch = &overview.watches[MAILBOX.address];
    assert_eq!(watch.topic, TOPIC);
    assert_eq!(watch.label_ids, ["INBOX", "SENT"], "the synced labels");
    assert!(!watch.exclude);
    assert!(
        !woken(&l).await,
        "healthy push: the next poll is an hour away"
    );

    let id = deliver(&l.app, "push-new").await;
    let pushed = || async {
        let sent = l.app.emulator_client().push_state().await.unwrap().sent;
        !sent.is_empty()
    };
    until("the emulator pushes", pushed).await;
    assert!(woken(&l).await, "the push woke the mailbox");
    let sent = l.app.emulator_client().push_state().await.unwrap().sent;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].authenticated);
    assert_eq!(sent[0].status, Some(204));
    assert_eq!(row(&l).await.notifications, 1);
    assert!(
        !stored(&l).await.live.contains_key(&id),
        "not before the pass"
    );
    assert_eq!(run_due(&l).await, 1, "one pass for the wake");
    assert!(
        stored(&l).await.live.contains_key(&id),
        "the pass stored it"
    );
}

#[tokio::test]
async fn forged_expired_misaddressed_and_missing_tokens_are_refused_and_wake_nothing() {
    let l = linked().await;
    run_due(&l).await;
    let body = push_body(MAILBOX.address, cursor(&l).await + 10);
    let signer = signer(&l);
    let now = chrono::Utc::now().timestamp();
    let claims = |aud: &str, email: &str, iat: i64| {
        json!({"iss": "https://accounts.google.com", "aud": aud, "email": email,
               "email_verified": true, "sub": "1234567890", "iat": iat, "exp": iat + 3600})
    };
    let other_key = threadline_emulator::crypto::generate_key().unwrap();
    let forged = threadline_emulator::crypto::sign_rs256(
        &other_key,
        &json!({"alg": "RS256", "kid": signer.kid(), "typ": "JWT"}),
        &claims(AUDIENCE, PUSHER, now),
    );
    let unknown_key = threadline_emulator::crypto::sign_rs256(
        &other_key,
        &json!({"alg": "RS256", "kid": "not-a-google-key", "typ": "JWT"}),
        &claims(AUDIENCE, PUSHER, now),
    );
    let expired = signer.sign(&claims(AUDIENCE, PUSHER, now - 7200));
    let wrong_audience = signer.push_token("https://elsewhere.test/push/gmail", PUSHER);
    let wrong_account = signer.push_token(AUDIENCE, "intruder@evil.iam.gserviceaccount.com");
    let unverified = signer.sign(
        &json!({"iss": "https://accounts.google.com", "aud": AUDIENCE,
        "email": PUSHER, "email_verified": false, "iat": now, "exp": now + 3600}),
    );
    let wrong_issuer = signer.sign(&json!({"iss": "https://evil.test", "aud": AUDIENCE,
        "email": PUSHER, "email_verified": true, "iat": now, "exp": now + 3600}));
    for (what, token) in [
        ("forged", Some(forged.as_str())),
        ("unknown key", Some(unknown_key.as_str())),
        ("expired", Some(expired.as_str())),
        ("wrong audience", Some(wrong_audience.as_str())),
        ("wrong service account", Some(wrong_account.as_str())),
        ("unverified email", Some(unverified.as_str())),
        ("wrong issuer", Some(wrong_issuer.as_str())),
        ("garbage", Some("not.a.jwt")),
        ("no token", None),
    ] {
        assert_eq!(
            post_push(&l, token, &body).await,
            StatusCode::UNAUTHORIZED,
            "{what}"
        );
    }
    assert!(!woken(&l).await, "nothing woken");
    assert_eq!(row(&l).await.notifications, 0);

    let genuine = signer.push_token(AUDIENCE, PUSHER);
    assert_eq!(
        post_push(&l, Some(&genuine), &body).await,
        StatusCode::NO_CONTENT
    );
    assert!(woken(&l).await, "the same push, signed by Google, wakes it");
}

#[tokio::test]
async fn a_pushed_history_id_not_newer_than_the_cursor_wakes_nothing() {
    let l = linked().await;
    run_due(&l).await;
    let at = cursor(&l).await;
    let token = signer(&l).push_token(AUDIENCE, PUSHER);
    for stale in [at - 1, at] {
        let body = push_body(MAILBOX.address, stale);
        assert_eq!(
            post_push(&l, Some(&token), &body).await,
            StatusCode::NO_CONTENT
        );
    }
    assert!(!woken(&l).await);
    assert_eq!(row(&l).await.notifications, 2, "counted, not acted on");
    // Not a Gmail notification at all: acknowledged (Pub/Sub would redeliver it for days).
    let junk = json!({"message": {"data": "bm90IGpzb24="}});
    assert_eq!(
        post_push(&l, Some(&token), &junk).await,
        StatusCode::NO_CONTENT
    );
    assert!(!woken(&l).await);
    let body = push_body(MAILBOX.address, at + 1);
    assert_eq!(
        post_push(&l, Some(&token), &body).await,
        StatusCode::NO_CONTENT
    );
    assert!(woken(&l).await);
}

#[tokio::test]
async fn a_push_for_an_unknown_address_is_acknowledged_and_ignored() {
    let l = linked().await;
    run_due(&l).await;
    let token = signer(&l).push_token(AUDIENCE, PUSHER);
    let body = push_body("stranger@push.test", 99_999_999);
    assert_eq!(
        post_push(&l, Some(&token), &body).await,
        StatusCode::NO_CONTENT
    );
    assert!(!woken(&l).await);
    assert_eq!(row(&l).await.notifications, 0);
}
