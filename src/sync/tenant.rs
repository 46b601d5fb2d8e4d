//! Which organization mailboxes `threadline sync --tenant T [--filter F] [--max-users N]`
//! syncs: the connection's mailboxes (the ones directory sync created by the selection rules),
//! narrowed to the directory users a filter matches when one is given (asked of the directory:
//! Microsoft Graph `$filter`, Google Directory `query`), at most N by address. Mailboxes are
//! never created here; directory users the filter matches without a mailbox are reported.
use std::collections::HashSet;

use crate::db::entities::connections::Model as Connection;
use crate::db::entities::mail_accounts::Model as MailAccount;
use crate::db::org_access;
use crate::mailboxes::connections::tokens;
use crate::mailboxes::MailDeps;
use crate::providers::directory::{google, graph};

/// Graph and Google Directory read scopes for the filter's look-up.
const GRAPH_SCOPE: &str = super::org_access::GRAPH_APP_SCOPE;
const GOOGLE_DIRECTORY_SCOPE: &str = crate::mailboxes::connections::DIRECTORY_USER_READONLY;

#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error("no organization-wide connection is called {0} (see `threadline tenant list`)")]
    Unknown(String),
    #[error("{0} connections are called {1}: name one by its tenant id or domain")]
    Ambiguous(usize, String),
    #[error("the connection {name} cannot read its directory: {detail}")]
    Directory { name: String, detail: String },
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// What `--tenant` picked.
#[derive(Debug)]
pub struct Selection {
    pub connection: Connection,
    /// The mailboxes to sync, by address.
    pub mailboxes: Vec<MailAccount>,
    /// Addresses of directory users the filter matched that have no mailbox of this connection
    /// (the selection rules leave them out; `threadline directory sync` adds those they match).
    pub without_mailbox: Vec<String>,
}

/// The connection named `tenant` (its name, tenant id or domain) and its mailboxes to sync.
pub async fn select(
    deps: &MailDeps,
    tenant: &str,
    filter: Option<&str>,
    max_users: Option<usize>,
) -> Result<Selection, TenantError> {
    let mut found = org_access::connections_named(&deps.db, tenant).await?;
    let connection = match found.len() {
        0 => return Err(TenantError::Unknown(tenant.to_string())),
        1 => found.remove(0),
        n => return Err(TenantError::Ambiguous(n, tenant.to_string())),
    };
    let mut mailboxes =
        org_access::of_connection(&deps.db, connection.organization_id, connection.id).await?;
    let mut without_mailbox = Vec::new();
    if let Some(filter) = filter.map(str::trim).filter(|f| !f.is_empty()) {
        let users = directory_users(deps, &connection, filter).await?;
        let ids: HashSet<&str> = users.iter().map(|(id, _)| id.as_str()).collect();
        let have: HashSet<String> = mailboxes
            .iter()
            .filter_map(|m| m.directory_id.clone())
            .collect();
        without_mailbox = users
            .iter()
            .filter(|(id, _)| !have.contains(id))
            .map(|(_, address)| address.clone())
            .collect();
        mailboxes.retain(|m| m.directory_id.as_deref().is_some_and(|id| ids.contains(id)));
    }
    if let Some(n) = max_users {
        mailboxes.truncate(n);
    }
    Ok(Selection {
        connection,
        mailboxes,
        without_mailbox,
    })
}

/// The directory users (immutable id, address) the filter matches.
async fn directory_users(
    deps: &MailDeps,
    conn: &Connection,
    filter: &str,
) -> Result<Vec<(String, String)>, TenantError> {
    let failed = |detail: String| TenantError::Directory {
        name: conn.name.clone(),
        detail,
    };
    if conn.kind == "google_workspace" {
        let admin = conn.admin_address.as_deref();
        let token = tokens::access_token(deps, conn, admin, &[GOOGLE_DIRECTORY_SCOPE])
            .await
            .map_err(|e| failed(e.to_string()))?;
        let query = google::UserQuery {
            query: Some(filter.to_string()),
            ..google::UserQuery::default()
        };
        let users = google::GoogleDirectory::new(&deps.providers)
            .all_users(&token, &query, None)
            .await
            .map_err(|e| failed(e.to_string()))?;
        Ok(users.into_iter().map(|u| (u.id, u.primary_email)).collect())
    } else {
        let token = tokens::access_token(deps, conn, None, &[GRAPH_SCOPE])
            .await
            .map_err(|e| failed(e.to_string()))?;
        let query = graph::UserQuery {
            filter: Some(filter.to_string()),
            ..graph::UserQuery::default()
        };
        let users = graph::GraphDirectory::new(&deps.providers)
            .all_users(&token, &query, None)
            .await
            .map_err(|e| failed(e.to_string()))?;
        Ok(users
            .into_iter()
            .map(|u| {
                let address = u.address().unwrap_or_default().to_string();
                (u.id, address)
            })
            .collect())
    }
}
