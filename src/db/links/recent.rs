//! How many emails are linked to a business or contact, for its page.
use sea_orm::{ConnectionTrait, DbErr};

use crate::db::combined::{self, FromPartRow, PartRow};
use crate::db::timeline::sql::Sql;
use crate::domain::association::Target;

/// How many emails are linked (tombstones excluded), counting no further than `cap + 1`: a page
/// view must not pay for walking every link of a business with tens of thousands.
pub async fn count_up_to(
    db: &impl ConnectionTrait,
    org_id: i64,
    target: Target,
    cap: u64,
) -> Result<u64, DbErr> {
    Ok(count_of(
        &combined::one(db, |sql| count_part(sql, org_id, target, cap)).await?,
    ))
}

/// [`count_up_to`] as a part of a [`combined`] read: one row, the count as its number.
pub fn count_part(sql: &mut Sql, org_id: i64, target: Target, cap: u64) {
    let (column, id) = match target {
        Target::Business(id) => ("l.business_id", id),
        Target::Contact(id) => ("l.contact_id", id),
    };
    sql.push("SELECT 0, COUNT(*), NULL, NULL FROM (SELECT l.id FROM email_links l WHERE ")
        .push(column)
        .push(" = ")
        .bind(id)
        .push(" AND l.tombstone = ")
        .bind(false)
        .push(" AND l.organization_id = ")
        .bind(org_id)
        .push(&format!(" LIMIT {}) linked", cap.saturating_add(1)));
}

/// [`count_part`]'s row: the count.
struct CountRow {
    count: u64,
}

impl FromPartRow for CountRow {
    fn from_part_row(row: PartRow) -> Option<Self> {
        let count = u64::try_from(row.number?).ok()?;
        Some(Self { count })
    }
}

/// The count of [`count_part`]'s row.
pub fn count_of(rows: &[PartRow]) -> u64 {
    rows.first()
        .cloned()
        .and_then(PartRow::decode::<CountRow>)
        .map_or(0, |r| r.count)
}
