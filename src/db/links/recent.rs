//! How many emails are linked to a business or contact, for its page.
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
};

use crate::db::entities::email_links;
use crate::domain::association::Target;

fn of_target(target: Target) -> sea_orm::Condition {
    let cond = sea_orm::Condition::all().add(email_links::Column::Tombstone.eq(false));
    match target {
        Target::Business(id) => cond.add(email_links::Column::BusinessId.eq(id)),
        Target::Contact(id) => cond.add(email_links::Column::ContactId.eq(id)),
    }
}

/// How many emails are linked (tombstones excluded), counting no further than `cap + 1`: a page
/// view must not pay for walking every link of a business with tens of thousands.
pub async fn count_up_to(
    db: &impl ConnectionTrait,
    org_id: i64,
    target: Target,
    cap: u64,
) -> Result<u64, DbErr> {
    let subquery = email_links::Entity::find()
        .select_only()
        .column(email_links::Column::Id)
        .filter(email_links::Column::OrganizationId.eq(org_id))
        .filter(of_target(target))
        .limit(cap + 1)
        .into_query();
    let count = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(subquery, Alias::new("linked"))
        .to_owned();
    let backend = db.get_database_backend();
    let row = db.query_one(backend.build(&count)).await?;
    let n: i64 = match row {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or_default())
}
