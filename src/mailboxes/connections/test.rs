//! Test connection: obtain a token, list one user, read one mailbox, and say for each step
//! exactly what is wrong and how to fix it. The report is stored on the connection
//! (`last_test_at`, `last_test_result`) with the status it leaves (`active` or `failing`);
//! a Microsoft directory read also records whether admin consent is granted.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::advice::{advise, Advice, Context};
use super::store::{self, Credential};
use super::{tokens, Connection, ConnectionError, ConnectionKind};
use super::{DIRECTORY_USER_READONLY, GMAIL_READONLY};
use crate::db::connections as q;
use crate::mailboxes::MailDeps;
use crate::providers::directory::google::{GoogleDirectory, UserQuery as GoogleQuery};
use crate::providers::directory::graph::{GraphDirectory, GraphUser, UserQuery as GraphQuery};
use crate::providers::directory::{probe, DirectoryError};

/// One step's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// What was tried, e.g. "Get an app-only token".
    pub name: String,
    pub outcome: Outcome,
    /// What happened (success: what was found; failure: what is wrong).
    pub detail: String,
    /// Failure: a stable code (`bad_secret`, `consent_missing`, `certificate_expired`,
    /// `delegation_not_granted`, `unknown_user`, `user_suspended`, `mailbox_not_enabled`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Failure: how to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Failure: the provider's own words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_said: Option<String>,
}

/// A whole Test connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub ok: bool,
    pub at: DateTime<Utc>,
    pub steps: Vec<Step>,
}

impl Report {
    /// The first failed step.
    pub fn failure(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.outcome == Outcome::Failed)
    }

    /// The stored report of a connection's last test, if any and readable.
    pub fn of(conn: &Connection) -> Option<Self> {
        serde_json::from_str(conn.last_test_result.as_deref()?).ok()
    }
}

fn ok(name: &str, detail: String) -> Step {
    Step {
        name: name.into(),
        outcome: Outcome::Ok,
        detail,
        problem: None,
        fix: None,
        provider_said: None,
    }
}

fn skipped(name: &str) -> Step {
    Step {
        name: name.into(),
        outcome: Outcome::Skipped,
        detail: "not tried: an earlier step failed".into(),
        problem: None,
        fix: None,
        provider_said: None,
    }
}

fn failed(name: &str, err: &ConnectionError, ctx: &Context<'_>) -> Step {
    let Advice {
        problem,
        detail,
        fix,
    } = advise(err, ctx);
    Step {
        name: name.into(),
        outcome: Outcome::Failed,
        detail,
        problem: Some(problem.into()),
        fix: Some(fix),
        provider_said: Some(err.to_string()),
    }
}

/// Run Test connection on `conn`, reading `mailbox` (an address) or else one the directory
/// lists, and store the report.
pub async fn run(
    deps: &MailDeps,
    conn: &Connection,
    mailbox: Option<&str>,
) -> Result<Report, ConnectionError> {
    let mailbox = mailbox.map(str::trim).filter(|m| !m.is_empty());
    let steps = match ConnectionKind::of(conn) {
        Some(ConnectionKind::Microsoft365) => microsoft(deps, conn, mailbox).await?,
        Some(ConnectionKind::GoogleWorkspace) => google(deps, conn, mailbox).await?,
        None => return Err(ConnectionError::Corrupt(format!("kind {:?}", conn.kind))),
    };
    let report = Report {
        ok: steps.iter().all(|s| s.outcome == Outcome::Ok),
        at: crate::db::now(),
        steps,
    };
    let json =
        serde_json::to_string(&report).map_err(|e| ConnectionError::Corrupt(e.to_string()))?;
    let (status, error) = match report.failure() {
        None => ("active", None),
        Some(step) => ("failing", Some(format!("{}: {}", step.name, step.detail))),
    };
    q::record_test(&deps.db, conn.organization_id, conn.id, json, status, error).await?;
    Ok(report)
}

/// Pass a database or crypto failure up; keep every provider answer as a step.
fn provider(err: ConnectionError) -> Result<ConnectionError, ConnectionError> {
    match err {
        ConnectionError::Db(_) | ConnectionError::Crypto(_) | ConnectionError::Corrupt(_) => {
            Err(err)
        }
        other => Ok(other),
    }
}

const MS_TOKEN: &str = "Get an app-only token";
const MS_LIST: &str = "List one user of the directory";
const MS_READ: &str = "Read one mailbox";

async fn microsoft(
    deps: &MailDeps,
    conn: &Connection,
    mailbox: Option<&str>,
) -> Result<Vec<Step>, ConnectionError> {
    let ctx = Context::of(conn, None);
    let mut token = match tokens::access_token(deps, conn, None, &[]).await {
        Ok(token) => token,
        Err(e) => {
            let e = provider(e)?;
            return Ok(vec![
                failed(MS_TOKEN, &e, &ctx),
                skipped(MS_LIST),
                skipped(MS_READ),
            ]);
        }
    };
    let mut steps = vec![ok(
        MS_TOKEN,
        format!("tenant {} issued a token", conn.tenant),
    )];
    let graph = GraphDirectory::new(&deps.providers);
    let query = GraphQuery {
        top: Some(10),
        ..GraphQuery::default()
    };
    // A token cached from before admin consent carries no permissions: on a refusal, ask
    // once more with a fresh one before concluding that consent is missing.
    let mut listed = graph.users(&token, &query).await;
    if matches!(
        listed,
        Err(DirectoryError::InsufficientPrivileges(_) | DirectoryError::Unauthorized)
    ) {
        tokens::forget(deps, conn.id, None, &[]).await?;
        if let Ok(fresh) = tokens::access_token(deps, conn, None, &[]).await {
            token = fresh;
            listed = graph.users(&token, &query).await;
        }
    }
    let users = match listed {
        Ok(page) => {
            q::set_consent(&deps.db, conn.organization_id, conn.id, "granted", None).await?;
            page.items
        }
        Err(e) => {
            let e = match e {
                DirectoryError::InsufficientPrivileges(m) => {
                    q::set_consent(&deps.db, conn.organization_id, conn.id, "missing", None)
                        .await?;
                    ConnectionError::ConsentMissing(m)
                }
                DirectoryError::Unauthorized => {
                    tokens::forget(deps, conn.id, None, &[]).await?;
                    ConnectionError::Directory(e)
                }
                other => other.into(),
            };
            steps.push(failed(MS_LIST, &e, &ctx));
            steps.push(skipped(MS_READ));
            return Ok(steps);
        }
    };
    let target: Option<(String, String)> = match mailbox {
        Some(m) => Some((m.to_string(), m.to_string())),
        None => pick_graph(&users).map(|u| (u.id.clone(), u.address().unwrap_or(&u.id).into())),
    };
    steps.push(ok(
        MS_LIST,
        match users.first() {
            Some(u) => format!(
                "the directory answered (first user: {})",
                u.address().unwrap_or(&u.id)
            ),
            None => "the directory answered, but it lists no users".into(),
        },
    ));
    let Some((user, address)) = target else {
        steps.push(Step {
            detail: "no user with a mailbox to try; give one to test".into(),
            ..skipped(MS_READ)
        });
        return Ok(steps);
    };
    let ctx = Context::of(conn, Some(&address));
    match probe::graph_first_message(&deps.providers, &token, &user).await {
        Ok(_) => steps.push(ok(MS_READ, format!("read the mailbox of {address}"))),
        Err(DirectoryError::NotFound(m)) => {
            steps.push(failed(MS_READ, &ConnectionError::UnknownUser(m), &ctx));
        }
        Err(e) => steps.push(failed(MS_READ, &e.into(), &ctx)),
    }
    Ok(steps)
}

/// An enabled user with an address (a licensed person is the likeliest to have a mailbox).
fn pick_graph(users: &[GraphUser]) -> Option<&GraphUser> {
    users
        .iter()
        .find(|u| u.account_enabled != Some(false) && u.mail.is_some())
        .or_else(|| users.iter().find(|u| u.mail.is_some()))
}

const G_TOKEN: &str = "Get a token as the directory administrator";
const G_LIST: &str = "List one user of the directory";
const G_USER_TOKEN: &str = "Get a token as the mailbox's user";
const G_READ: &str = "Read one mailbox";

async fn google(
    deps: &MailDeps,
    conn: &Connection,
    mailbox: Option<&str>,
) -> Result<Vec<Step>, ConnectionError> {
    let numeric_id = match store::open(&deps.keys, conn)? {
        Credential::ServiceAccount(key) => key.client_id,
        _ => String::new(),
    };
    let admin = conn.admin_address.clone().unwrap_or_default();
    let admin_ctx = Context::of(conn, Some(&admin)).with_client_number(&numeric_id);
    let mut steps = Vec::new();
    let directory = GoogleDirectory::new(&deps.providers);
    let mut listed = None;
    match tokens::access_token(deps, conn, Some(&admin), &[DIRECTORY_USER_READONLY]).await {
        Ok(token) => {
            steps.push(ok(
                G_TOKEN,
                format!("Google issued a token acting as {admin}"),
            ));
            let query = GoogleQuery {
                max_results: Some(10),
                ..GoogleQuery::default()
            };
            match directory.users(&token, &query, None).await {
                Ok(page) => {
                    steps.push(ok(
                        G_LIST,
                        match page.items.first() {
                            Some(u) => {
                                format!("the directory answered (first user: {})", u.primary_email)
                            }
                            None => "the directory answered, but it lists no users".into(),
                        },
                    ));
                    listed = Some((token, page.items));
                }
                Err(e) => {
                    let e = match e {
                        DirectoryError::Unauthorized => {
                            tokens::forget(deps, conn.id, Some(&admin), &[DIRECTORY_USER_READONLY])
                                .await?;
                            ConnectionError::Directory(e)
                        }
                        other => other.into(),
                    };
                    steps.push(failed(G_LIST, &e, &admin_ctx));
                }
            }
        }
        Err(e) => {
            let e = provider(e)?;
            steps.push(failed(G_TOKEN, &e, &admin_ctx));
            steps.push(skipped(G_LIST));
        }
    }
    // The mailbox: the one asked for, else the first active user with Gmail.
    let address = match (mailbox, &listed) {
        (Some(m), _) => Some(m.to_ascii_lowercase()),
        (None, Some((_, users))) => users
            .iter()
            .find(|u| !u.suspended && !u.archived && u.is_mailbox_setup)
            .map(|u| u.primary_email.clone()),
        (None, None) => None,
    };
    let Some(address) = address else {
        let mut step = skipped(G_USER_TOKEN);
        if listed.is_some() {
            step.detail = "no active user with Gmail to try; give one to test".into();
        }
        steps.push(step);
        steps.push(skipped(G_READ));
        return Ok(steps);
    };
    let ctx = Context::of(conn, Some(&address)).with_client_number(&numeric_id);
    // What the directory says about that user explains a refused token better than Google's
    // token endpoint does (it says "Invalid email or User ID" for unknown and suspended alike).
    let known = match &listed {
        Some((token, _)) => directory.user(token, &address).await.ok(),
        None => None,
    };
    if let Some(known) = &known {
        let refusal = match known {
            None => Some(ConnectionError::UnknownUser(format!(
                "the directory has no user {address}"
            ))),
            Some(u) if u.suspended => Some(ConnectionError::UserSuspended(format!(
                "{} is suspended in the directory",
                u.primary_email
            ))),
            _ => None,
        };
        if let Some(e) = refusal {
            steps.push(failed(G_USER_TOKEN, &e, &ctx));
            steps.push(skipped(G_READ));
            return Ok(steps);
        }
    }
    let token = match tokens::access_token(deps, conn, Some(&address), &[GMAIL_READONLY]).await {
        Ok(token) => token,
        Err(e) => {
            let e = provider(e)?;
            steps.push(failed(G_USER_TOKEN, &e, &ctx));
            steps.push(skipped(G_READ));
            return Ok(steps);
        }
    };
    steps.push(ok(
        G_USER_TOKEN,
        format!("Google issued a token acting as {address}"),
    ));
    match probe::gmail_first_message(&deps.providers, &token, &address).await {
        Ok(_) => steps.push(ok(G_READ, format!("read the mailbox of {address}"))),
        Err(e) => steps.push(failed(G_READ, &e.into(), &ctx)),
    }
    Ok(steps)
}
