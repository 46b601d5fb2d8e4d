//! Emulated Microsoft 365 tenants and Google Workspace domains for the connection tests, and
//! connections made on them in the first organization.
use threadline::mailboxes::connections::store::{self, NewConnection, NewCredential};
use threadline::mailboxes::connections::{Connection, ConnectionKind};
use threadline::providers::Secret;
use threadline_emulator::google::workspace_control::{
    CreateDomain, CreateServiceAccount, WorkspaceUserSpec,
};
use threadline_emulator::microsoft::app_control::{AddCertificate, AddSecret, CreateApp};
use threadline_emulator::microsoft::tenant_control::{CreateTenant, UserSpec};
use threadline_emulator::microsoft::tenants::MailboxKind;
use threadline_emulator::EmulatorClient;

use crate::support::TestApp;

pub const GMAIL: &str = "https://www.googleapis.com/auth/gmail.readonly";
pub const DIRECTORY: &str = "https://www.googleapis.com/auth/admin.directory.user.readonly";

pub fn emulator(app: &TestApp) -> EmulatorClient {
    app.emulator.as_ref().expect("app with emulator").client()
}

/// A tenant `contoso.test` with alice (mailbox, Sales), bob (no mailbox), a shared support@
/// mailbox, and an app (consented or not) with a client secret.
pub struct Tenant {
    pub id: String,
    pub client_id: String,
    pub secret: String,
}

pub async fn tenant(app: &TestApp, consent: bool) -> Tenant {
    tenant_on(&emulator(app), consent).await
}

pub async fn tenant_on(e: &EmulatorClient, consent: bool) -> Tenant {
    let t = e
        .create_tenant(&CreateTenant {
            domain: "contoso.test".into(),
            ..CreateTenant::default()
        })
        .await
        .unwrap();
    for (upn, mailbox, department) in [
        ("alice@contoso.test", MailboxKind::User, "Sales"),
        ("bob@contoso.test", MailboxKind::None, "Sales"),
        ("support@contoso.test", MailboxKind::Shared, "Support"),
    ] {
        e.create_tenant_user(
            &t.id,
            &UserSpec {
                user_principal_name: Some(upn.into()),
                department: Some(department.into()),
                mailbox: Some(mailbox),
                ..UserSpec::default()
            },
        )
        .await
        .unwrap();
    }
    let (client_id, secret) = app_with_secret(e, &t.id, consent).await;
    Tenant {
        id: t.id,
        client_id,
        secret,
    }
}

/// The app `Threadline` registered in `tenant` (admin-consented or not) and a client secret
/// for it: its client id and the secret's value.
pub async fn app_with_secret(e: &EmulatorClient, tenant: &str, consent: bool) -> (String, String) {
    let registration = e
        .create_app(
            tenant,
            &CreateApp {
                display_name: Some("Threadline".into()),
                admin_consent: consent,
                ..CreateApp::default()
            },
        )
        .await
        .unwrap();
    let secret = e
        .add_secret(tenant, &registration.client_id, &AddSecret::default())
        .await
        .unwrap();
    (registration.client_id, secret.value)
}

/// A certificate registered on the tenant's app, valid `start..end`: PEM with the
/// certificate and its private key.
pub async fn certificate(
    app: &TestApp,
    t: &Tenant,
    start: Option<chrono::DateTime<chrono::Utc>>,
    end: Option<chrono::DateTime<chrono::Utc>>,
) -> String {
    let added = emulator(app)
        .add_certificate(
            &t.id,
            &t.client_id,
            &AddCertificate {
                certificate_pem: None,
                start,
                end,
            },
        )
        .await
        .unwrap();
    format!(
        "{}\n{}",
        added.credential.certificate_pem,
        added.private_key_pem.expect("generated key")
    )
}

pub async fn first_org(app: &TestApp) -> i64 {
    threadline::db::organizations::first(&app.db)
        .await
        .unwrap()
        .expect("org")
        .id
}

/// The connection `name` to the tenant's app, proving itself with the tenant's client secret.
pub async fn secret_connection(app: &TestApp, name: &str, t: &Tenant) -> Connection {
    let secret = NewCredential::Secret(Secret::new(t.secret.clone()));
    add_microsoft(app, name, t, secret).await
}

pub async fn add_microsoft(
    app: &TestApp,
    name: &str,
    t: &Tenant,
    credential: NewCredential,
) -> Connection {
    let org = first_org(app).await;
    store::create(
        &app.deps,
        org,
        None,
        &NewConnection {
            name: name.into(),
            kind: ConnectionKind::Microsoft365,
            tenant: t.id.clone(),
            client_id: t.client_id.clone(),
            credential,
            admin_address: None,
        },
    )
    .await
    .expect("connection created")
}

/// A Workspace domain `acme-corp.test` with an admin, ann (Gmail), sam (suspended), nog (no
/// Gmail), and a service account whose key file is returned, delegated `scopes`.
pub struct Workspace {
    pub domain: String,
    pub key_json: String,
    pub client_number: String,
    pub admin: String,
}

pub async fn workspace(app: &TestApp, scopes: &[&str]) -> Workspace {
    workspace_on(&emulator(app), scopes).await
}

pub async fn workspace_on(e: &EmulatorClient, scopes: &[&str]) -> Workspace {
    let domain = "acme-corp.test";
    e.create_domain(&CreateDomain {
        domain: domain.into(),
        customer_id: None,
    })
    .await
    .unwrap();
    for (email, admin, suspended, gmail, unit) in [
        ("admin@acme-corp.test", true, false, true, "/"),
        ("ann@acme-corp.test", false, false, true, "/Sales"),
        ("sam@acme-corp.test", false, true, true, "/Sales"),
        ("nog@acme-corp.test", false, false, false, "/Ops"),
    ] {
        e.create_workspace_user(
            domain,
            &WorkspaceUserSpec {
                primary_email: Some(email.into()),
                is_admin: Some(admin),
                suspended: Some(suspended),
                is_mailbox_setup: Some(gmail),
                org_unit_path: Some(unit.into()),
                ..WorkspaceUserSpec::default()
            },
        )
        .await
        .unwrap();
    }
    service_account(e, domain, "admin@acme-corp.test", scopes).await
}

/// A new service account delegated `scopes` in `domain` (none when empty), acting through
/// `admin`.
pub async fn service_account(
    e: &EmulatorClient,
    domain: &str,
    admin: &str,
    scopes: &[&str],
) -> Workspace {
    let key = e
        .create_service_account(&CreateServiceAccount::default())
        .await
        .unwrap();
    if !scopes.is_empty() {
        e.grant_delegation(domain, &key.client_id, scopes)
            .await
            .unwrap();
    }
    Workspace {
        domain: domain.into(),
        key_json: serde_json::to_string(&key).unwrap(),
        client_number: key.client_id,
        admin: admin.into(),
    }
}

pub async fn add_google(app: &TestApp, name: &str, w: &Workspace) -> Connection {
    let org = first_org(app).await;
    store::create(
        &app.deps,
        org,
        None,
        &NewConnection {
            name: name.into(),
            kind: ConnectionKind::GoogleWorkspace,
            tenant: w.domain.clone(),
            client_id: String::new(),
            credential: NewCredential::ServiceAccountKey(Secret::new(w.key_json.clone())),
            admin_address: Some(w.admin.clone()),
        },
    )
    .await
    .expect("connection created")
}

/// Requests the emulator's token endpoints (Microsoft and Google) have answered.
pub async fn token_requests(app: &TestApp) -> u64 {
    emulator(app)
        .stats()
        .await
        .unwrap()
        .requests
        .iter()
        .filter(|r| r.route.ends_with("/token"))
        .map(|r| r.stats.requests)
        .sum()
}
