//! View models of Organization › Connections: rows of the list, the detail page and the steps
//! of the last Test connection. Built from stored rows; nothing secret is in them (the
//! credential shows only as its hint).
use crate::mailboxes::connections::test::{Outcome, Report};
use crate::mailboxes::connections::{Connection, ConnectionKind};

pub struct ConnectionRow {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub tenant: String,
    pub hint: String,
    pub consent: &'static str,
    pub status: String,
    pub last_test: String,
    /// `ok`, `failed` or `` (never tested), for styling.
    pub last_test_class: &'static str,
}

fn kind_label(conn: &Connection) -> &'static str {
    ConnectionKind::of(conn).map_or("unknown", ConnectionKind::label)
}

fn consent_label(conn: &Connection) -> &'static str {
    if ConnectionKind::of(conn) == Some(ConnectionKind::GoogleWorkspace) {
        return "by delegation";
    }
    match conn.consent_state.as_str() {
        "granted" => "granted",
        "missing" => "missing",
        _ => "not checked yet",
    }
}

fn last_test(conn: &Connection) -> (String, &'static str) {
    match (conn.last_test_at, Report::of(conn)) {
        (Some(at), Some(report)) => {
            let when = at.format("%Y-%m-%d %H:%M UTC");
            if report.ok {
                (format!("passed {when}"), "ok")
            } else {
                (format!("failed {when}"), "failed")
            }
        }
        _ => ("never".into(), ""),
    }
}

impl ConnectionRow {
    pub fn new(conn: &Connection) -> Self {
        let (last_test, last_test_class) = last_test(conn);
        Self {
            id: conn.id,
            name: conn.name.clone(),
            kind: kind_label(conn),
            tenant: conn.tenant.clone(),
            hint: conn.credential_hint.clone(),
            consent: consent_label(conn),
            status: conn.status.clone(),
            last_test,
            last_test_class,
        }
    }
}

pub struct StepView {
    pub name: String,
    /// `ok`, `failed`, `skipped`.
    pub outcome: &'static str,
    pub detail: String,
    pub problem: String,
    pub fix: String,
    pub provider_said: String,
}

pub struct ConnectionDetail {
    pub row: ConnectionRow,
    pub is_microsoft: bool,
    pub client_id: String,
    pub admin_address: String,
    pub last_error: String,
    pub steps: Vec<StepView>,
    pub mailboxes: u64,
    pub active_mailboxes: u64,
    pub created_at: String,
}

impl ConnectionDetail {
    pub fn new(conn: &Connection, (mailboxes, active_mailboxes): (u64, u64)) -> Self {
        let steps = Report::of(conn)
            .map(|r| {
                r.steps
                    .into_iter()
                    .map(|s| StepView {
                        name: s.name,
                        outcome: match s.outcome {
                            Outcome::Ok => "ok",
                            Outcome::Failed => "failed",
                            Outcome::Skipped => "skipped",
                        },
                        detail: s.detail,
                        problem: s.problem.unwrap_or_default(),
                        fix: s.fix.unwrap_or_default(),
                        provider_said: s.provider_said.unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            row: ConnectionRow::new(conn),
            is_microsoft: ConnectionKind::of(conn) == Some(ConnectionKind::Microsoft365),
            client_id: conn.client_id.clone(),
            admin_address: conn.admin_address.clone().unwrap_or_default(),
            last_error: conn.last_error.clone().unwrap_or_default(),
            steps,
            mailboxes,
            active_mailboxes,
            created_at: conn.created_at.format("%Y-%m-%d").to_string(),
        }
    }
}

/// What the add forms show again after a refusal (never the secret or the uploaded file).
#[derive(Default)]
pub struct AddForm {
    pub name: String,
    pub tenant: String,
    pub client_id: String,
    pub admin_address: String,
    pub error: String,
}
