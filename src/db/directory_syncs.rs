//! Directory sync runs of a connection (`directory_syncs`): started, finished with their
//! summary and changes, and the last one for the rules page.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use serde::{Deserialize, Serialize};

use super::entities::connections::{self, Entity as Connections};
use super::entities::directory_syncs::{self, Entity as Runs, Model as Run};

/// What a run changed, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub added: u64,
    pub paused: u64,
    pub resumed: u64,
    pub renamed: u64,
    pub skipped: u64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "added {}, paused {}, resumed {}, renamed {}, skipped {}",
            self.added, self.paused, self.resumed, self.renamed, self.skipped
        )
    }
}

/// One change of a run, for the page and the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// added | paused | flagged | resumed | renamed | skipped
    pub action: String,
    pub address: String,
    #[serde(default)]
    pub detail: String,
}

/// Record the start of a run.
pub async fn start(
    db: &impl ConnectionTrait,
    org_id: i64,
    connection_id: i64,
    trigger: &str,
    actor: Option<i64>,
) -> Result<Run, DbErr> {
    directory_syncs::ActiveModel {
        organization_id: Set(org_id),
        connection_id: Set(connection_id),
        trigger: Set(trigger.to_string()),
        actor_user_id: Set(actor),
        started_at: Set(super::now()),
        finished_at: Set(None),
        added: Set(0),
        paused: Set(0),
        resumed: Set(0),
        renamed: Set(0),
        skipped: Set(0),
        details: Set("[]".into()),
        error: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Finish a run with its summary and changes (or its error), and stamp the connection's
/// `last_directory_sync_at`.
pub async fn finish(
    db: &impl ConnectionTrait,
    run: &Run,
    summary: Summary,
    changes: &[Change],
    error: Option<String>,
) -> Result<(), DbErr> {
    let now = super::now();
    let details = serde_json::to_string(changes).unwrap_or_else(|_| "[]".into());
    Runs::update_many()
        .filter(directory_syncs::Column::Id.eq(run.id))
        .col_expr(directory_syncs::Column::FinishedAt, Expr::value(now))
        .col_expr(
            directory_syncs::Column::Added,
            Expr::value(count(summary.added)),
        )
        .col_expr(
            directory_syncs::Column::Paused,
            Expr::value(count(summary.paused)),
        )
        .col_expr(
            directory_syncs::Column::Resumed,
            Expr::value(count(summary.resumed)),
        )
        .col_expr(
            directory_syncs::Column::Renamed,
            Expr::value(count(summary.renamed)),
        )
        .col_expr(
            directory_syncs::Column::Skipped,
            Expr::value(count(summary.skipped)),
        )
        .col_expr(directory_syncs::Column::Details, Expr::value(details))
        .col_expr(directory_syncs::Column::Error, Expr::value(error.clone()))
        .exec(db)
        .await?;
    let mut stamp = Connections::update_many()
        .filter(connections::Column::Id.eq(run.connection_id))
        .filter(connections::Column::OrganizationId.eq(run.organization_id))
        .col_expr(connections::Column::UpdatedAt, Expr::value(now));
    if error.is_none() {
        stamp = stamp.col_expr(
            connections::Column::LastDirectorySyncAt,
            Expr::value(Some(now)),
        );
    }
    stamp.exec(db).await?;
    Ok(())
}

/// The connection's latest finished run.
pub async fn last(
    db: &impl ConnectionTrait,
    org_id: i64,
    connection_id: i64,
) -> Result<Option<Run>, DbErr> {
    Runs::find()
        .filter(directory_syncs::Column::OrganizationId.eq(org_id))
        .filter(directory_syncs::Column::ConnectionId.eq(connection_id))
        .filter(directory_syncs::Column::FinishedAt.is_not_null())
        .order_by_desc(directory_syncs::Column::Id)
        .one(db)
        .await
}

/// A stored run's changes.
pub fn changes(run: &Run) -> Vec<Change> {
    serde_json::from_str(&run.details).unwrap_or_default()
}

/// A stored run's summary.
pub fn summary(run: &Run) -> Summary {
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Summary {
        added: n(run.added),
        paused: n(run.paused),
        resumed: n(run.resumed),
        renamed: n(run.renamed),
        skipped: n(run.skipped),
    }
}
