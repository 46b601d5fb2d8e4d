//! Organization-wide connections, below the web layer: credentials sealed at rest, app-only
//! and delegated tokens cached per (connection, subject, scope) and shared by instances,
//! renewed ahead of expiry, classified token errors, and the directory and probe clients,
//! all against the in-process emulator.
use sea_orm::{ConnectionTrait, Statement};
use threadline::mailboxes::connections::store::NewCredential;
use threadline::mailboxes::connections::{
    tokens, ConnectionError, DIRECTORY_USER_READONLY, GMAIL_READONLY,
};
use threadline::providers::directory::google::{GoogleDirectory, UserQuery as GQuery};
use threadline::providers::directory::graph::{GraphDirectory, UserQuery};
use threadline::providers::directory::{probe, DirectoryError};
use threadline::providers::Secret;
use threadline_emulator::microsoft::app_control::PatchApp;
use threadline_emulator::microsoft::tenant_control::{CreateGroup, UserSpec};

use crate::connections_fixtures::{self as fx, DIRECTORY, GMAIL};
use crate::support::TestApp;

async fn raw_texts(app: &TestApp, sql: &str) -> Vec<String> {
    let backend = app.db.get_database_backend();
    app.db
        .query_all(Statement::from_string(backend, sql.to_string()))
        .await
        .unwrap()
        .iter()
        .map(|row| {
            row.try_get_by_index::<Option<String>>(0)
                .unwrap()
                .unwrap_or_default()
        })
        .collect()
}

#[tokio::test]
async fn app_only_tokens_are_sealed_cached_and_shared_by_instances() {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    let t = fx::tenant(&app, true).await;
    let conn = fx::secret_connection(&app, "contoso", &t).await;
    assert!(conn
        .credential_hint
        .starts_with("client secret ending in …"));
    assert!(!conn.credential_hint.contains(&t.secret));
    let stored = raw_texts(&app, "SELECT credentials FROM connections").await;
    assert_eq!(stored.len(), 1);
    assert!(
        !stored[0].is_empty() && !stored[0].contains(&t.secret),
        "sealed at rest"
    );

    let before = fx::token_requests(&app).await;
    let first = tokens::access_token(&app.deps, &conn, None, &[])
        .await
        .unwrap();
    let again = tokens::access_token(&app.deps, &conn, None, &[])
        .await
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(
        fx::token_requests(&app).await,
        before + 1,
        "the second call uses the cache"
    );
    let cached = raw_texts(&app, "SELECT token FROM connection_tokens").await;
    assert_eq!(cached.len(), 1);
    assert!(
        !cached[0].contains(first.expose()),
        "the token is sealed at rest"
    );

    // Another instance on the same database reuses it.
    let app = app.restart().await;
    let third = tokens::access_token(&app.deps, &conn, None, &[])
        .await
        .unwrap();
    assert_eq!(third, first);
    assert_eq!(fx::token_requests(&app).await, before + 1);

    // After a 401 the caller forgets it; the next call asks again.
    tokens::forget(&app.deps, conn.id, None, &[]).await.unwrap();
    let fourth = tokens::access_token(&app.deps, &conn, None, &[])
        .await
        .unwrap();
    assert_ne!(fourth, first);
    assert_eq!(fx::token_requests(&app).await, before + 2);
}

#[tokio::test]
async fn tokens_are_renewed_ahead_of_expiry() {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    let t = fx::tenant(&app, true).await;
    let conn = fx::secret_connection(&app, "contoso", &t).await;
    let first = tokens::access_token(&app.deps, &conn, None, &[])
        .await
        .unwrap();
    // Two minutes left: inside the five-minute margin.
    let soon = threadline::db::now() + chrono::Duration::minutes(2);
    let backend = app.db.get_database_backend();
    app.db
        .execute(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DbBackend::Postgres => "UPDATE connection_tokens SET expires_at = $1",
                _ => "UPDATE connection_tokens SET expires_at = ?",
            },
            [soon.into()],
        ))
        .await
        .unwrap();
    let before = fx::token_requests(&app).await;
    let renewed = tokens::access_token(&app.deps, &conn, None, &[])
        .await
        .unwrap();
    assert_ne!(renewed, first);
    assert_eq!(fx::token_requests(&app).await, before + 1);
    let row = threadline::db::connections::token(
        &app.db,
        conn.id,
        "",
        threadline::mailboxes::connections::GRAPH_DEFAULT_SCOPE,
    )
    .await
    .unwrap()
    .unwrap();
    assert!(row.expires_at.unwrap() > threadline::db::now() + chrono::Duration::minutes(50));
    assert!(row.refresh_lock_until.is_none(), "the lease is released");
}

#[tokio::test]
async fn certificate_assertions_get_tokens_and_failures_are_classified() {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    let t = fx::tenant(&app, true).await;
    let pem = fx::certificate(&app, &t, None, None).await;
    let conn = fx::add_microsoft(
        &app,
        "cert",
        &t,
        NewCredential::Certificate(Secret::new(pem)),
    )
    .await;
    assert!(
        conn.credential_hint.starts_with("certificate "),
        "{}",
        conn.credential_hint
    );
    tokens::access_token(&app.deps, &conn, None, &[])
        .await
        .expect("certificate works");

    let wrong = fx::add_microsoft(
        &app,
        "wrong",
        &t,
        NewCredential::Secret(Secret::new("nope~123")),
    )
    .await;
    let err = tokens::access_token(&app.deps, &wrong, None, &[])
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectionError::BadSecret(_)), "{err:?}");

    let past = chrono::Utc::now() - chrono::Duration::days(400);
    let expired_pem = fx::certificate(
        &app,
        &t,
        Some(past),
        Some(past + chrono::Duration::days(30)),
    )
    .await;
    let expired = fx::add_microsoft(
        &app,
        "expired",
        &t,
        NewCredential::Certificate(Secret::new(expired_pem)),
    )
    .await;
    let err = tokens::access_token(&app.deps, &expired, None, &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectionError::CertificateExpired(_)),
        "{err:?}"
    );

    let mut other = fx::Tenant {
        client_id: "00000000-0000-0000-0000-0000000000aa".into(),
        ..t
    };
    other.secret = "x".into();
    let stranger = fx::add_microsoft(
        &app,
        "stranger",
        &other,
        NewCredential::Secret(Secret::new("x")),
    )
    .await;
    let err = tokens::access_token(&app.deps, &stranger, None, &[])
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectionError::AppNotInTenant(_)), "{err:?}");
    // A failure leaves no token and no lease behind.
    let row = threadline::db::connections::token(
        &app.db,
        stranger.id,
        "",
        threadline::mailboxes::connections::GRAPH_DEFAULT_SCOPE,
    )
    .await
    .unwrap()
    .unwrap();
    assert!(row.token.is_none() && row.refresh_lock_until.is_none());
}

#[tokio::test]
async fn graph_directory_lists_pages_filters_groups_and_probes_mailboxes() {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    let t = fx::tenant(&app, false).await;
    let e = fx::emulator(&app);
    for i in 0..5 {
        e.create_tenant_user(
            &t.id,
            &UserSpec {
                user_principal_name: Some(format!("user{i}@contoso.test")),
                department: Some(if i % 2 == 0 { "Sales" } else { "Ops" }.into()),
                ..UserSpec::default()
            },
        )
        .await
        .unwrap();
    }
    e.create_group(
        &t.id,
        &CreateGroup {
            display_name: "Team".into(),
            mail: None,
            members: vec!["alice@contoso.test".into(), "user1@contoso.test".into()],
        },
    )
    .await
    .unwrap();
    let conn = fx::secret_connection(&app, "contoso", &t).await;
    let token = tokens::access_token(&app.deps, &conn, None, &[])
        .await
        .unwrap();
    let graph = GraphDirectory::new(&app.deps.providers);
    // Without admin consent the token carries no roles: Graph refuses the directory.
    let err = graph
        .users(&token, &UserQuery::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, DirectoryError::InsufficientPrivileges(_)),
        "{err:?}"
    );

    e.update_app(
        &t.id,
        &t.client_id,
        &PatchApp {
            admin_consent: Some(true),
            ..PatchApp::default()
        },
    )
    .await
    .unwrap();
    tokens::forget(&app.deps, conn.id, None, &[]).await.unwrap();
    let token = tokens::access_token(&app.deps, &conn, None, &[])
        .await
        .unwrap();
    let paged = UserQuery {
        top: Some(2),
        ..UserQuery::default()
    };
    let first = graph.users(&token, &paged).await.unwrap();
    assert_eq!(first.items.len(), 2);
    assert!(first.next.is_some());
    let all = graph.all_users(&token, &paged, None).await.unwrap();
    assert_eq!(all.len(), 8, "every user over four pages");
    let limited = graph.all_users(&token, &paged, Some(3)).await.unwrap();
    assert_eq!(limited.len(), 3);
    let support = all
        .iter()
        .find(|u| u.address() == Some("support@contoso.test"))
        .unwrap();
    assert_eq!(
        support.account_enabled,
        Some(false),
        "a shared mailbox's sign-in is disabled"
    );

    let sales = UserQuery {
        filter: Some("department eq 'Sales'".into()),
        ..UserQuery::default()
    };
    let mut names: Vec<_> = graph
        .all_users(&token, &sales, None)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|u| u.user_principal_name)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "alice@contoso.test",
            "bob@contoso.test",
            "user0@contoso.test",
            "user2@contoso.test",
            "user4@contoso.test"
        ]
    );
    // An advanced query: $count and ConsistencyLevel are added.
    let advanced = UserQuery {
        filter: Some("department ne 'Sales'".into()),
        ..UserQuery::default()
    };
    let page = graph.users(&token, &advanced).await.unwrap();
    assert_eq!(page.count, Some(3));

    let team = e.tenant(&t.id).await.unwrap().groups[0].id.clone();
    let members = graph
        .all_group_members(&token, &team, &UserQuery::default(), None)
        .await
        .unwrap();
    assert_eq!(members.len(), 2);
    let alice = graph
        .user(&token, "alice@contoso.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        graph.user(&token, &alice.id).await.unwrap().unwrap().id,
        alice.id
    );
    assert!(graph
        .user(&token, "ghost@contoso.test")
        .await
        .unwrap()
        .is_none());

    probe::graph_first_message(&app.deps.providers, &token, &alice.id)
        .await
        .expect("alice's mailbox reads");
    let err = probe::graph_first_message(&app.deps.providers, &token, "bob@contoso.test")
        .await
        .unwrap_err();
    assert!(
        matches!(err, DirectoryError::MailboxNotEnabled(_)),
        "{err:?}"
    );
    e.update_app(
        &t.id,
        &t.client_id,
        &PatchApp {
            mailbox_scope: Some(
                serde_json::json!({"mailboxes":["support@contoso.test"],"mechanism":"rbac"}),
            ),
            ..PatchApp::default()
        },
    )
    .await
    .unwrap();
    let err = probe::graph_first_message(&app.deps.providers, &token, &alice.id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DirectoryError::MailboxAccessDenied(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn google_delegated_tokens_directory_and_gmail_probe() {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    let w = fx::workspace(&app, &[DIRECTORY]).await;
    let conn = fx::add_google(&app, "acme", &w).await;
    assert!(
        conn.credential_hint.contains(&conn.client_id),
        "{}",
        conn.credential_hint
    );
    assert!(conn.client_id.ends_with(".iam.gserviceaccount.com"));
    let stored = raw_texts(&app, "SELECT credentials FROM connections").await;
    assert!(
        !stored[0].contains("PRIVATE KEY"),
        "the key is sealed at rest"
    );

    let before = fx::token_requests(&app).await;
    let admin = tokens::access_token(&app.deps, &conn, Some(&w.admin), &[DIRECTORY_USER_READONLY])
        .await
        .unwrap();
    tokens::access_token(&app.deps, &conn, Some(&w.admin), &[DIRECTORY_USER_READONLY])
        .await
        .unwrap();
    assert_eq!(
        fx::token_requests(&app).await,
        before + 1,
        "cached per user and scope"
    );
    assert_eq!(
        tokens::directory_token(&app.deps, &conn).await.unwrap(),
        admin,
        "the directory token is the administrator's"
    );

    let directory = GoogleDirectory::new(&app.deps.providers);
    let q = GQuery {
        max_results: Some(2),
        ..GQuery::default()
    };
    let page = directory.users(&admin, &q, None).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert!(page.next.is_some());
    let all = directory.all_users(&admin, &q, None).await.unwrap();
    assert_eq!(all.len(), 4);
    let sales = GQuery {
        query: Some("orgUnitPath='/Sales'".into()),
        ..GQuery::default()
    };
    let mut names: Vec<_> = directory
        .all_users(&admin, &sales, None)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.primary_email)
        .collect();
    names.sort();
    assert_eq!(names, ["ann@acme-corp.test", "sam@acme-corp.test"]);
    let sam = directory
        .user(&admin, "sam@acme-corp.test")
        .await
        .unwrap()
        .unwrap();
    assert!(sam.suspended);
    let nog = directory
        .user(&admin, "nog@acme-corp.test")
        .await
        .unwrap()
        .unwrap();
    assert!(!nog.is_mailbox_setup);
    assert!(directory
        .user(&admin, "ghost@acme-corp.test")
        .await
        .unwrap()
        .is_none());

    // Gmail's scope is not delegated yet.
    let err = tokens::access_token(
        &app.deps,
        &conn,
        Some("ann@acme-corp.test"),
        &[GMAIL_READONLY],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, ConnectionError::DelegationNotGranted { ref scopes, .. } if scopes == GMAIL),
        "{err:?}"
    );
    fx::emulator(&app)
        .grant_delegation(&w.domain, &w.client_number, &[DIRECTORY, GMAIL])
        .await
        .unwrap();
    let ann = tokens::access_token(
        &app.deps,
        &conn,
        Some("ann@acme-corp.test"),
        &[GMAIL_READONLY],
    )
    .await
    .unwrap();
    assert_eq!(
        tokens::mailbox_token(&app.deps, &conn, "ann@acme-corp.test")
            .await
            .unwrap(),
        ann
    );
    probe::gmail_first_message(&app.deps.providers, &ann, "ann@acme-corp.test")
        .await
        .expect("ann's Gmail reads");
    let nog_token = tokens::access_token(
        &app.deps,
        &conn,
        Some("nog@acme-corp.test"),
        &[GMAIL_READONLY],
    )
    .await
    .unwrap();
    let err = probe::gmail_first_message(&app.deps.providers, &nog_token, "nog@acme-corp.test")
        .await
        .unwrap_err();
    assert!(
        matches!(err, DirectoryError::MailboxNotEnabled(_)),
        "{err:?}"
    );
    let err = tokens::access_token(
        &app.deps,
        &conn,
        Some("ghost@acme-corp.test"),
        &[GMAIL_READONLY],
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ConnectionError::UnknownUser(_)), "{err:?}");
}

#[tokio::test]
async fn key_rotation_reseals_connections_and_drops_cached_tokens() {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    let t = fx::tenant(&app, true).await;
    let conn = fx::secret_connection(&app, "contoso", &t).await;
    tokens::access_token(&app.deps, &conn, None, &[])
        .await
        .unwrap();
    // Start-up checks connection credentials too: a ring without their key is refused.
    let wrong =
        threadline::secrets::KeyRing::parse(&format!("x1:{}", "A".repeat(43) + "=")).unwrap();
    let err = threadline::mailboxes::keys::check(&app.db, &wrong)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not in the key ring") || err.to_string().contains("connection"),
        "{err}"
    );

    let ring =
        threadline::secrets::KeyRing::add_key_to_file(&app.test_db.dir.join("data")).unwrap();
    let n = threadline::mailboxes::keys::reencrypt(&app.db, &ring)
        .await
        .unwrap();
    assert_eq!(n, 1, "the connection's credential was re-sealed");
    let stored = raw_texts(&app, "SELECT credentials FROM connections").await;
    assert!(stored[0].starts_with(&format!("v1:{}:", ring.current().id)));
    assert!(raw_texts(&app, "SELECT token FROM connection_tokens")
        .await
        .is_empty());
    // The app restarts with the rotated key file and the connection still works.
    let app = app.restart().await;
    let conn = threadline::db::connections::find(&app.db, conn.organization_id, conn.id)
        .await
        .unwrap()
        .unwrap();
    tokens::access_token(&app.deps, &conn, None, &[])
        .await
        .expect("opens with the new ring");
}

#[tokio::test]
async fn removal_pauses_and_flags_mailboxes_and_is_scoped_to_the_organization() {
    use threadline::db::mail_accounts::{self, NewOrgAccount};
    use threadline::domain::mailbox::MailboxStatus;
    use threadline::mailboxes::connections::store;
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    let t = fx::tenant(&app, true).await;
    let conn = fx::secret_connection(&app, "contoso", &t).await;
    let org = conn.organization_id;
    let mailbox = mail_accounts::insert_org(
        &app.db,
        NewOrgAccount {
            organization_id: org,
            connection_id: conn.id,
            provider: threadline::providers::Provider::Microsoft,
            auth_kind: "app_only",
            address: "alice@contoso.test",
            display_name: "Alice",
            directory_id: "id-alice",
            directory_state: "active",
        },
    )
    .await
    .unwrap();
    tokens::access_token(&app.deps, &conn, None, &[])
        .await
        .unwrap();

    // Another organization sees nothing and removes nothing.
    let other = threadline::db::organizations::create(&app.db, "Other")
        .await
        .unwrap();
    assert!(matches!(
        store::get(&app.deps, other.id, conn.id).await,
        Err(ConnectionError::NotFound)
    ));
    assert!(store::list(&app.deps, other.id).await.unwrap().is_empty());
    assert!(matches!(
        store::remove(&app.deps, other.id, conn.id).await,
        Err(ConnectionError::NotFound)
    ));
    assert_eq!(store::list(&app.deps, org).await.unwrap().len(), 1);

    assert_eq!(store::remove(&app.deps, org, conn.id).await.unwrap(), 1);
    let row = mail_accounts::find(&app.db, mailbox.id)
        .await
        .unwrap()
        .expect("mailbox kept");
    assert_eq!(row.status, MailboxStatus::Paused);
    assert_eq!(row.directory_state.as_deref(), Some("connection_removed"));
    assert!(row.last_error.unwrap().contains("stored mail stays"));
    assert!(raw_texts(&app, "SELECT token FROM connection_tokens")
        .await
        .is_empty());
    assert!(store::list(&app.deps, org).await.unwrap().is_empty());
}

#[tokio::test]
async fn concurrent_callers_share_one_token_request() {
    let app = TestApp::spawn_with_emulator().await;
    app.setup_admin().await;
    let t = fx::tenant(&app, true).await;
    let conn = fx::secret_connection(&app, "contoso", &t).await;
    let before = fx::token_requests(&app).await;
    let (a, b, c) = tokio::join!(
        tokens::access_token(&app.deps, &conn, None, &[]),
        tokens::access_token(&app.deps, &conn, None, &[]),
        tokens::access_token(&app.deps, &conn, None, &[]),
    );
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    assert!(a == b && b == c, "every caller gets the one token");
    assert_eq!(
        fx::token_requests(&app).await,
        before + 1,
        "one holder asked"
    );
}
