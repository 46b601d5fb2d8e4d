//! How many emails are linked to a business or contact, for its page.
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter};

use crate::db::entities::email_links;
use crate::domain::association::Target;

fn of_target(target: Target) -> sea_orm::Condition {
    let cond = sea_orm::Condition::all().add(email_links::Column::Tombstone.eq(false));
    match target {
        Target::Business(id) => cond.add(email_links::Column::BusinessId.eq(id)),
        Target::Contact(id) => cond.add(email_links::Column::ContactId.eq(id)),
    }
}

/// How many emails are linked (tombstones excluded).
pub async fn count(db: &impl ConnectionTrait, org_id: i64, target: Target) -> Result<u64, DbErr> {
    email_links::Entity::find()
        .filter(email_links::Column::OrganizationId.eq(org_id))
        .filter(of_target(target))
        .count(db)
        .await
}
