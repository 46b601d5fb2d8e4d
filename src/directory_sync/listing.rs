//! Reading a connection's directory into a [`Listing`]: every user, and what each queried rule
//! (filter, org unit, group) matched, evaluated by the provider itself (Graph `$filter` and
//! group members; the Directory API's `query`).
use std::collections::BTreeSet;

use super::DirectorySyncError;
use crate::db::entities::connections::Model as Connection;
use crate::domain::selection::{Directory, DirectoryUser, Listing, Rule, RuleKind, UserState};
use crate::mailboxes::connections::tokens::access_token;
use crate::mailboxes::connections::ConnectionError;
use crate::mailboxes::MailDeps;
use crate::providers::app_auth::google::DIRECTORY_USER_READONLY;
use crate::providers::directory::google::{self, GoogleDirectory, GoogleUser};
use crate::providers::directory::graph::{self, GraphDirectory, GraphUser};
use crate::providers::directory::DirectoryError;

impl From<ConnectionError> for DirectorySyncError {
    fn from(e: ConnectionError) -> Self {
        match e {
            ConnectionError::Db(e) => Self::Db(e),
            e => Self::Directory(e.to_string()),
        }
    }
}

impl From<DirectoryError> for DirectorySyncError {
    fn from(e: DirectoryError) -> Self {
        Self::Directory(e.to_string())
    }
}

pub async fn read(
    deps: &MailDeps,
    connection: &Connection,
    directory: Directory,
    rules: &[Rule],
) -> Result<Listing, DirectorySyncError> {
    match directory {
        Directory::Microsoft => read_graph(deps, connection, rules).await,
        Directory::Google => read_google(deps, connection, rules).await,
    }
}

/// A Graph user as the selection sees it. Graph marks no user as a shared mailbox: one with a
/// mailbox whose sign-in is disabled is offered as one, to be chosen by address.
fn graph_user(u: &GraphUser) -> Option<DirectoryUser> {
    let address = u.address()?.to_ascii_lowercase();
    let enabled = u.account_enabled.unwrap_or(true);
    let has_mailbox = u.mail.as_deref().is_some_and(|m| !m.is_empty());
    Some(DirectoryUser {
        id: u.id.clone(),
        display_name: u.display_name.clone().unwrap_or_else(|| address.clone()),
        address,
        state: if enabled {
            UserState::Active
        } else {
            UserState::Disabled
        },
        has_mailbox,
        shared: !enabled && has_mailbox,
    })
}

fn graph_query(filter: Option<&str>) -> graph::UserQuery {
    graph::UserQuery {
        filter: filter.map(str::to_string),
        top: Some(graph::MAX_TOP),
        advanced: filter.is_some_and(graph::needs_advanced_query),
    }
}

async fn read_graph(
    deps: &MailDeps,
    connection: &Connection,
    rules: &[Rule],
) -> Result<Listing, DirectorySyncError> {
    let token = access_token(deps, connection, None, &[]).await?;
    let client = GraphDirectory::new(&deps.providers);
    let users = client.all_users(&token, &graph_query(None), None).await?;
    let mut listing = Listing {
        users: users.iter().filter_map(graph_user).collect(),
        ..Listing::default()
    };
    for rule in rules.iter().filter(|r| r.kind.queried()) {
        let matched = match rule.kind {
            RuleKind::Filter => {
                client
                    .all_users(&token, &graph_query(Some(&rule.value)), None)
                    .await
            }
            RuleKind::Group => {
                client
                    .all_group_members(&token, &rule.value, &graph_query(None), None)
                    .await
            }
            _ => continue,
        }
        .map_err(|e| rule_failed(rule, &e))?;
        let ids: BTreeSet<String> = matched.into_iter().map(|u| u.id).collect();
        listing.matched.insert(rule.id, ids);
    }
    Ok(listing)
}

fn google_user(u: &GoogleUser) -> DirectoryUser {
    let address = u.primary_email.to_ascii_lowercase();
    let state = if u.archived {
        UserState::Archived
    } else if u.suspended {
        UserState::Suspended
    } else {
        UserState::Active
    };
    DirectoryUser {
        id: u.id.clone(),
        display_name: u
            .full_name()
            .map_or_else(|| address.clone(), str::to_string),
        address,
        state,
        has_mailbox: u.is_mailbox_setup,
        shared: false,
    }
}

fn google_query(query: Option<String>) -> google::UserQuery {
    google::UserQuery {
        query,
        domain: None,
        max_results: Some(google::MAX_RESULTS),
    }
}

async fn read_google(
    deps: &MailDeps,
    connection: &Connection,
    rules: &[Rule],
) -> Result<Listing, DirectorySyncError> {
    let admin = connection.admin_address.as_deref().ok_or_else(|| {
        DirectorySyncError::Directory(
            "the connection has no administrator address to read the directory as".into(),
        )
    })?;
    let token = access_token(deps, connection, Some(admin), &[DIRECTORY_USER_READONLY]).await?;
    let client = GoogleDirectory::new(&deps.providers);
    let users = client.all_users(&token, &google_query(None), None).await?;
    let mut listing = Listing {
        users: users.iter().map(google_user).collect(),
        ..Listing::default()
    };
    for rule in rules.iter().filter(|r| r.kind.queried()) {
        let query = match rule.kind {
            RuleKind::Filter => rule.value.clone(),
            RuleKind::OrgUnit => format!("orgUnitPath='{}'", rule.value),
            _ => continue,
        };
        let matched = client
            .all_users(&token, &google_query(Some(query)), None)
            .await
            .map_err(|e| rule_failed(rule, &e))?;
        let ids: BTreeSet<String> = matched.into_iter().map(|u| u.id).collect();
        listing.matched.insert(rule.id, ids);
    }
    Ok(listing)
}

/// A rule the directory refused (a filter it does not accept, a group that does not exist).
fn rule_failed(rule: &Rule, e: &DirectoryError) -> DirectorySyncError {
    DirectorySyncError::Directory(format!(
        "the rule \"{}: {}\" was refused: {e}",
        rule.kind.label(),
        rule.value
    ))
}
