//! The demo's organization-wide capture: an emulated Microsoft 365 tenant and an emulated
//! Google Workspace domain (a handful of users, a shared `support@` mailbox), with mail whose
//! correspondents are the demo's seeded businesses, connected to Threadline through the
//! product's own functions: a connection each (a certificate for Microsoft, a service account
//! key with domain-wide delegation for Google), Test connection, mailbox rules that select
//! some of the users, and a directory sync. The normal sync workers then sync the mailboxes
//! the rules selected.
use anyhow::Context;
use chrono::{Duration, Utc};

use threadline::db::{audit, connection_rules, directory};
use threadline::directory_sync::{self, Trigger};
use threadline::domain::selection::{rules, Directory};
use threadline::mailboxes::connections::store::{self, NewConnection, NewCredential};
use threadline::mailboxes::connections::{
    self, ConnectionKind, DIRECTORY_USER_READONLY, GMAIL_READONLY,
};
use threadline::mailboxes::MailDeps;
use threadline_emulator::control::DeliverQuery;
use threadline_emulator::corpus::{self, people::BUSINESSES};
use threadline_emulator::google::workspace_control::{
    CreateDomain, CreateServiceAccount, WorkspaceUserSpec,
};
use threadline_emulator::microsoft::app_control::{AddCertificate, CreateApp};
use threadline_emulator::microsoft::tenant_control::{CreateTenant, UserSpec};
use threadline_emulator::microsoft::tenants::MailboxKind;
use threadline_emulator::store::{MailboxInfo, Provider as EmuProvider};
use threadline_emulator::EmulatorClient;

/// The Microsoft 365 tenant's verified domain.
pub const M365_DOMAIN: &str = "northwind-uk.test";
/// The Google Workspace primary domain.
pub const WORKSPACE_DOMAIN: &str = "northwind-us.test";
/// The tenant's shared mailbox.
pub const SUPPORT: &str = "support@northwind-uk.test";
/// Generated messages in each user's mailbox.
const MESSAGES_PER_USER: usize = 30;
/// The generated mailboxes of the demo's first run use indexes 0..4; these stay clear of them
/// (the index is part of each generated Message-ID).
const FIRST_INDEX: usize = 100;

/// `(local part, display name, department)` of the tenant's users.
const M365_USERS: [(&str, &str, &str); 3] = [
    ("eva", "Eva Lindqvist", "Sales"),
    ("farid", "Farid Haddad", "Sales"),
    ("grace", "Grace O'Neill", "Engineering"),
];
/// `(local part, given name, family name, org unit)` of the domain's users.
const WORKSPACE_USERS: [(&str, &str, &str, &str); 3] = [
    ("hiro", "Hiro", "Tanaka", "/Sales"),
    ("lena", "Lena", "Novak", "/Sales/West"),
    ("marco", "Marco", "Rossi", "/Engineering"),
];
/// The Workspace administrator Threadline reads the directory as.
const WORKSPACE_ADMIN: &str = "it-admin@northwind-us.test";

/// Microsoft rules: `(kind, value)` as an admin types them on the rules page.
const M365_RULES: [(&str, &str); 2] = [("filter", "department eq 'Sales'"), ("shared", SUPPORT)];
const WORKSPACE_RULES: [(&str, &str); 1] = [("org_unit", "/Sales")];

/// Create the tenant and the domain in the emulator, connect both, and say (one line each)
/// what was connected and which mailboxes the rules selected.
pub async fn connect(
    emulator: &EmulatorClient,
    deps: &MailDeps,
    org_id: i64,
    worker: &str,
) -> anyhow::Result<Vec<String>> {
    for domain in [M365_DOMAIN, WORKSPACE_DOMAIN] {
        directory::add_internal_domain(&deps.db, org_id, domain).await?;
    }
    let microsoft = microsoft(emulator, deps, org_id, worker);
    let google = google(emulator, deps, org_id, worker);
    let (microsoft, google) = tokio::join!(microsoft, google);
    Ok(vec![microsoft?, google?])
}

async fn microsoft(
    emulator: &EmulatorClient,
    deps: &MailDeps,
    org_id: i64,
    worker: &str,
) -> anyhow::Result<String> {
    let tenant = emulator
        .create_tenant(&CreateTenant {
            domain: M365_DOMAIN.into(),
            id: None,
            display_name: Some("Northwind Labs UK".into()),
        })
        .await
        .context("creating the emulated Microsoft 365 tenant")?;
    for (index, (local, name, department)) in M365_USERS.iter().enumerate() {
        let address = format!("{local}@{M365_DOMAIN}");
        let spec = UserSpec {
            user_principal_name: Some(address.clone()),
            display_name: Some((*name).to_string()),
            department: Some((*department).to_string()),
            mailbox: Some(MailboxKind::User),
            ..UserSpec::default()
        };
        emulator.create_tenant_user(&tenant.id, &spec).await?;
        let info = MailboxInfo {
            provider: EmuProvider::Microsoft,
            address,
            display_name: (*name).to_string(),
            tenant: Some(tenant.id.clone()),
        };
        fill(emulator, &info, FIRST_INDEX + index).await?;
    }
    let shared = UserSpec {
        user_principal_name: Some(SUPPORT.into()),
        display_name: Some("Northwind Support".into()),
        mailbox: Some(MailboxKind::Shared),
        ..UserSpec::default()
    };
    emulator.create_tenant_user(&tenant.id, &shared).await?;
    support_mail(emulator).await?;
    let app = emulator
        .create_app(
            &tenant.id,
            &CreateApp {
                display_name: Some("Threadline".into()),
                admin_consent: true,
                ..CreateApp::default()
            },
        )
        .await?;
    let certificate = emulator
        .add_certificate(&tenant.id, &app.client_id, &AddCertificate::default())
        .await?;
    let key = certificate
        .private_key_pem
        .context("the emulator generated no private key")?;
    let pem = format!("{}\n{key}", certificate.credential.certificate_pem);
    let new = NewConnection {
        name: "northwind-uk".into(),
        kind: ConnectionKind::Microsoft365,
        tenant: tenant.id.clone(),
        client_id: app.client_id.clone(),
        credential: NewCredential::Certificate(threadline::providers::Secret::new(pem)),
        admin_address: None,
    };
    let selected = enroll(
        deps,
        org_id,
        &new,
        Directory::Microsoft,
        &M365_RULES,
        worker,
    )
    .await?;
    Ok(format!(
        "Microsoft 365 tenant {M365_DOMAIN} (certificate; rules: department eq 'Sales', shared \
         mailbox {SUPPORT}) syncs {selected}"
    ))
}

async fn google(
    emulator: &EmulatorClient,
    deps: &MailDeps,
    org_id: i64,
    worker: &str,
) -> anyhow::Result<String> {
    emulator
        .create_domain(&CreateDomain {
            domain: WORKSPACE_DOMAIN.into(),
            customer_id: None,
        })
        .await
        .context("creating the emulated Google Workspace domain")?;
    let admin = WorkspaceUserSpec {
        primary_email: Some(WORKSPACE_ADMIN.into()),
        given_name: Some("IT".into()),
        family_name: Some("Admin".into()),
        org_unit_path: Some("/IT".into()),
        is_admin: Some(true),
        ..WorkspaceUserSpec::default()
    };
    emulator
        .create_workspace_user(WORKSPACE_DOMAIN, &admin)
        .await?;
    for (index, (local, given, family, unit)) in WORKSPACE_USERS.iter().enumerate() {
        let address = format!("{local}@{WORKSPACE_DOMAIN}");
        let spec = WorkspaceUserSpec {
            primary_email: Some(address.clone()),
            given_name: Some((*given).to_string()),
            family_name: Some((*family).to_string()),
            org_unit_path: Some((*unit).to_string()),
            ..WorkspaceUserSpec::default()
        };
        emulator
            .create_workspace_user(WORKSPACE_DOMAIN, &spec)
            .await?;
        let info = MailboxInfo {
            provider: EmuProvider::Google,
            address,
            display_name: format!("{given} {family}"),
            tenant: None,
        };
        fill(emulator, &info, FIRST_INDEX + M365_USERS.len() + index).await?;
    }
    let key = emulator
        .create_service_account(&CreateServiceAccount::default())
        .await?;
    emulator
        .grant_delegation(
            WORKSPACE_DOMAIN,
            &key.client_id,
            &[GMAIL_READONLY, DIRECTORY_USER_READONLY],
        )
        .await?;
    let new = NewConnection {
        name: "northwind-us".into(),
        kind: ConnectionKind::GoogleWorkspace,
        tenant: WORKSPACE_DOMAIN.into(),
        client_id: String::new(),
        credential: NewCredential::ServiceAccountKey(threadline::providers::Secret::new(
            serde_json::to_string(&key)?,
        )),
        admin_address: Some(WORKSPACE_ADMIN.into()),
    };
    let selected = enroll(
        deps,
        org_id,
        &new,
        Directory::Google,
        &WORKSPACE_RULES,
        worker,
    )
    .await?;
    Ok(format!(
        "Google Workspace domain {WORKSPACE_DOMAIN} (service account, domain-wide delegation; \
         rule: org unit /Sales) syncs {selected}"
    ))
}

/// Add the connection, test it, add its rules and run a directory sync; the addresses it
/// added, joined.
async fn enroll(
    deps: &MailDeps,
    org_id: i64,
    new: &NewConnection,
    directory: Directory,
    typed: &[(&str, &str)],
    worker: &str,
) -> anyhow::Result<String> {
    let conn = store::create(deps, org_id, None, new).await?;
    audit::record(
        &deps.db,
        audit::Entry {
            organization_id: org_id,
            actor_user_id: None,
            action: "connection.add",
            subject_kind: "connection",
            subject_id: Some(conn.id),
            detail: format!("{} {} (demo)", conn.kind, conn.name),
        },
    )
    .await?;
    let report = connections::test::run(deps, &conn, None).await?;
    if let Some(step) = report.failure() {
        anyhow::bail!(
            "{}: Test connection failed: {}: {}",
            conn.name,
            step.name,
            step.detail
        );
    }
    for (kind, value) in typed {
        let (kind, value) = rules::parse(directory, kind, value)?;
        connection_rules::add(&deps.db, &conn, kind, &value, None).await?;
    }
    let run = directory_sync::run_now(deps, &conn, Trigger::Cli, worker).await?;
    let added: Vec<&str> = run
        .changes
        .iter()
        .filter(|c| c.action == "added")
        .map(|c| c.address.as_str())
        .collect();
    Ok(added.join(", "))
}

/// Fill a directory user's mailbox with generated mail (business threads with the seeded
/// businesses, colleagues, newsletters), through the emulator's delivery endpoint.
async fn fill(emulator: &EmulatorClient, info: &MailboxInfo, index: usize) -> anyhow::Result<()> {
    for message in corpus::generate(1, index, info, MESSAGES_PER_USER) {
        let state = message.state(info.provider);
        let query = DeliverQuery {
            labels: (!state.labels.is_empty())
                .then(|| state.labels.iter().cloned().collect::<Vec<_>>().join(",")),
            folder: state.folder.clone(),
            read: Some(state.read),
            starred: Some(state.starred),
            internal_date: Some(message.internal_date_ms),
        };
        emulator
            .deliver(&info.address, message.raw, &query)
            .await
            .with_context(|| format!("delivering mail to {}", info.address))?;
    }
    Ok(())
}

/// The subject of the shared mailbox's request from the `index`-th seeded business.
pub fn support_subject(index: usize) -> String {
    let business = &BUSINESSES[index % BUSINESSES.len()];
    format!(
        "Support request #{}: {}",
        4200 + index,
        business.topics[index % business.topics.len()]
    )
}

/// One recent request from a contact of each seeded business into `support@`.
async fn support_mail(emulator: &EmulatorClient) -> anyhow::Result<()> {
    let now = Utc::now();
    for (index, business) in BUSINESSES.iter().enumerate() {
        let (name, local) = business.contacts[0];
        let from = format!("{local}@{}", business.mail_domain);
        let hours = i64::try_from(index).unwrap_or(0) * 5 + 2;
        let date = now - Duration::hours(hours);
        let subject = support_subject(index);
        let raw = format!(
            "Message-ID: <support.{index}.{}@{}>\r\nFrom: {name} <{from}>\r\n\
             To: Northwind Support <{SUPPORT}>\r\nSubject: {subject}\r\nDate: {}\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nHello,\r\n\r\nCould you help us \
             with this? {subject}.\r\n\r\nThanks,\r\n{name}\r\n{}\r\n",
            date.timestamp(),
            business.mail_domain,
            date.to_rfc2822(),
            business.name,
        );
        let query = DeliverQuery {
            folder: Some("inbox".into()),
            read: Some(index % 2 == 0),
            internal_date: Some(date.timestamp_millis()),
            ..DeliverQuery::default()
        };
        emulator
            .deliver(SUPPORT, raw, &query)
            .await
            .context("delivering mail to the shared support mailbox")?;
    }
    Ok(())
}
