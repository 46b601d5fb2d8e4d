//! When a mailbox is disconnected or paused (by an admin, or because its organization
//! connection is removed), its Outlook change-notification subscription is deleted at Graph
//! while its tokens still work (best effort: Graph drops it by its expiry anyway, and its
//! notifications find no subscription here once the row is cleared or gone). A resumed
//! mailbox's next pass subscribes it again.
use super::connections::{self, tokens};
use super::{credentials, MailDeps};
use crate::db::entities::mail_accounts::Model as Account;
use crate::db::{org_access, push};
use crate::domain::provider::Provider;
use crate::providers::graph::GraphClient;
use crate::providers::Secret;

/// Delete the mailbox's Graph subscription, if it has one, and forget it, recording `why`
/// push is off. Failures are logged.
pub async fn unsubscribe(deps: &MailDeps, account: &Account, why: &str) {
    if account.provider != Provider::Microsoft {
        return;
    }
    let row = match push::find(&deps.db, account.id).await {
        Ok(Some(row)) => row,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(account = account.id, error = %e, "could not read the mailbox's push state");
            return;
        }
    };
    let Some(id) = row.subscription_id.clone() else {
        return;
    };
    // Subscriptions live at `/subscriptions`, whoever's mailbox they watch.
    let graph = GraphClient::new(&deps.providers);
    let deleted = match token(deps, account).await {
        Some(t) => graph.unsubscribe(&t, &id).await.map_err(|e| e.to_string()),
        None => Err("no token".into()),
    };
    if let Err(e) = deleted {
        tracing::info!(account = account.id, error = %e, "could not delete the mailbox's Graph subscription; it expires on its own");
    }
    let upkeep = push::Upkeep {
        state: push::OFF,
        reason: Some(why.to_string()),
        handled: row.pending_event.clone(),
        ..push::Upkeep::default()
    };
    if let Err(e) = push::record_upkeep(&deps.db, row.id, upkeep).await {
        tracing::warn!(account = account.id, error = %e, "could not record the mailbox's push state");
    }
}

/// [`unsubscribe`] every mailbox synced through organization connection `connection_id`
/// (before the connection and its tokens go).
pub async fn unsubscribe_connection(deps: &MailDeps, org_id: i64, connection_id: i64, why: &str) {
    match crate::db::connections::mailboxes(&deps.db, org_id, connection_id).await {
        Ok(accounts) => {
            for account in accounts {
                unsubscribe(deps, &account, why).await;
            }
        }
        Err(e) => {
            tracing::warn!(connection = connection_id, error = %e, "could not list the connection's mailboxes");
        }
    }
}

async fn token(deps: &MailDeps, account: &Account) -> Option<Secret> {
    match account.connection_id {
        None => credentials::access_token(deps, account.id).await.ok(),
        Some(id) => {
            let conn = org_access::connection(&deps.db, id).await.ok()??;
            tokens::access_token(deps, &conn, None, &[connections::GRAPH_DEFAULT_SCOPE])
                .await
                .ok()
        }
    }
}
