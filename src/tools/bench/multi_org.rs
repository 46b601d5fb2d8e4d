//! `threadline bench sync --mailboxes N --organization`: the generated mailboxes become
//! organization mailboxes instead of being linked one by one. The emulator's Outlook mailboxes
//! join a managed Microsoft 365 tenant (an app with admin consent and a client secret, app-only
//! tokens) and its Gmail ones a Google Workspace domain (a service account granted domain-wide
//! delegation for Gmail); Threadline gets one connection for each and an organization mailbox
//! per directory user (as directory sync creates them, each with its sync job due at once).
use std::collections::BTreeMap;

use anyhow::Context;
use threadline::accounts::{self, NewUser};
use threadline::config::Settings;
use threadline::db::mail_accounts::{self, insert_org, NewOrgAccount};
use threadline::mailboxes::connections::store::{self, NewConnection, NewCredential};
use threadline::mailboxes::connections::{ConnectionKind, GMAIL_READONLY};
use threadline::mailboxes::MailDeps;
use threadline::providers::{Provider, Secret};
use threadline_emulator::corpus::mailbox_info;
use threadline_emulator::google::workspace_control::{
    CreateDomain, CreateServiceAccount, WorkspaceUserSpec,
};
use threadline_emulator::microsoft::app_control::{AddSecret, CreateApp};
use threadline_emulator::microsoft::tenant_control::{CreateTenant, UserSpec};
use threadline_emulator::microsoft::tenants::MailboxKind;
use threadline_emulator::store::Provider as EmulatedProvider;
use threadline_emulator::EmulatorClient;

use super::sync::{ADMIN, PASSWORD};

/// The tenant the emulator's generated Outlook mailboxes belong to, and their domain.
const TENANT_ID: &str = "8f3c2a91-5b7d-4e0a-9c61-2d4b7e9f1a03";
const DOMAIN: &str = threadline_emulator::corpus::people::ORG_DOMAIN;

/// Enroll the first `n` generated mailboxes as organization mailboxes; account ids with
/// addresses.
pub async fn enroll_all(
    settings: &Settings,
    emulator: &EmulatorClient,
    n: usize,
) -> anyhow::Result<BTreeMap<i64, String>> {
    let deps = MailDeps::open(settings).await?;
    let admin = NewUser::parse(ADMIN, "Bench", PASSWORD)?;
    let (org, _) = accounts::setup(&deps.db, "Bench", admin)
        .await
        .map(|user| (user.organization_id, user.id))
        .context("the bench needs an empty database (unset DATABASE_URL for a fresh SQLite one)")?;
    let (outlook, gmail): (Vec<_>, Vec<_>) = (0..n)
        .map(mailbox_info)
        .partition(|info| info.provider == EmulatedProvider::Microsoft);
    let mut enrolled = Vec::new();
    if !outlook.is_empty() {
        emulator
            .create_tenant(&CreateTenant {
                domain: DOMAIN.into(),
                id: Some(TENANT_ID.into()),
                display_name: Some("Northwind Labs".into()),
            })
            .await
            .context("creating the emulated tenant")?;
        let app = emulator
            .create_app(
                TENANT_ID,
                &CreateApp {
                    display_name: Some("Threadline bench".into()),
                    admin_consent: true,
                    ..CreateApp::default()
                },
            )
            .await?;
        let secret = emulator
            .add_secret(TENANT_ID, &app.client_id, &AddSecret::default())
            .await?;
        let conn = store::create(
            &deps,
            org,
            None,
            &NewConnection {
                name: "northwind-m365".into(),
                kind: ConnectionKind::Microsoft365,
                tenant: TENANT_ID.into(),
                client_id: app.client_id.clone(),
                credential: NewCredential::Secret(Secret::new(secret.value)),
                admin_address: None,
            },
        )
        .await?;
        for info in &outlook {
            let user = emulator
                .create_tenant_user(
                    TENANT_ID,
                    &UserSpec {
                        user_principal_name: Some(info.address.clone()),
                        display_name: Some(info.display_name.clone()),
                        mailbox: Some(MailboxKind::User),
                        ..UserSpec::default()
                    },
                )
                .await
                .with_context(|| format!("adding {} to the tenant", info.address))?;
            enrolled.push((
                conn.clone(),
                Provider::Microsoft,
                info.address.clone(),
                user.id,
            ));
        }
    }
    if !gmail.is_empty() {
        emulator
            .create_domain(&CreateDomain {
                domain: DOMAIN.into(),
                customer_id: None,
            })
            .await
            .context("creating the emulated Workspace domain")?;
        let key = emulator
            .create_service_account(&CreateServiceAccount::default())
            .await?;
        emulator
            .grant_delegation(DOMAIN, &key.client_id, &[GMAIL_READONLY])
            .await?;
        let conn = store::create(
            &deps,
            org,
            None,
            &NewConnection {
                name: "northwind-workspace".into(),
                kind: ConnectionKind::GoogleWorkspace,
                tenant: DOMAIN.into(),
                client_id: String::new(),
                credential: NewCredential::ServiceAccountKey(Secret::new(serde_json::to_string(
                    &key,
                )?)),
                admin_address: gmail.first().map(|i| i.address.clone()),
            },
        )
        .await?;
        for info in &gmail {
            let user = emulator
                .create_workspace_user(
                    DOMAIN,
                    &WorkspaceUserSpec {
                        primary_email: Some(info.address.clone()),
                        ..WorkspaceUserSpec::default()
                    },
                )
                .await
                .with_context(|| format!("adding {} to the domain", info.address))?;
            enrolled.push((
                conn.clone(),
                Provider::Google,
                info.address.clone(),
                user.id,
            ));
        }
    }
    for (conn, provider, address, directory_id) in &enrolled {
        let auth_kind = match provider {
            Provider::Microsoft => "app_only",
            Provider::Google => "delegation",
        };
        insert_org(
            &deps.db,
            NewOrgAccount {
                organization_id: org,
                connection_id: conn.id,
                provider: *provider,
                auth_kind,
                address,
                display_name: address,
                directory_id,
                directory_state: "active",
            },
        )
        .await?;
    }
    Ok(mail_accounts::all(&deps.db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.address))
        .collect())
}
