//! Fill `email_participants.registrable` for rows stored before the column existed (the
//! migration cannot compute it: the Public Suffix List lives in this crate). Runs at start-up;
//! a no-op once every row is filled, answered from the `(organization_id, registrable)` index.
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use crate::db::entities::{email_participants as participants, organizations};
use crate::domain::domains::registrable;

/// Distinct hosts handled per round.
const HOSTS: u64 = 500;

/// Returns how many participant rows were filled.
pub async fn run(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let orgs: Vec<i64> = organizations::Entity::find()
        .select_only()
        .column(organizations::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut filled = 0;
    for org in orgs {
        loop {
            let hosts: Vec<String> = participants::Entity::find()
                .select_only()
                .column(participants::Column::Domain)
                .distinct()
                .filter(participants::Column::OrganizationId.eq(org))
                .filter(participants::Column::Registrable.is_null())
                .limit(HOSTS)
                .into_tuple()
                .all(db)
                .await?;
            if hosts.is_empty() {
                break;
            }
            for host in hosts {
                let reg = registrable(&host).unwrap_or_default();
                filled += participants::Entity::update_many()
                    .col_expr(participants::Column::Registrable, Expr::value(reg))
                    .filter(participants::Column::OrganizationId.eq(org))
                    .filter(participants::Column::Domain.eq(host))
                    .filter(participants::Column::Registrable.is_null())
                    .exec(db)
                    .await?
                    .rows_affected;
            }
        }
    }
    if filled > 0 {
        tracing::info!(rows = filled, "filled participants' registrable domains");
    }
    Ok(filled)
}
