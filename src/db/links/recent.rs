//! How many messages are linked to a business or contact, for its page: the messages its
//! timeline shows the reader, each once however many colleagues' mailboxes hold a copy.
use sea_orm::{ConnectionTrait, DbErr};

use crate::db::combined::{self, FromPartRow, PartRow};
use crate::db::timeline::sql::Sql;
use crate::db::timeline::Reader;
use crate::domain::association::Target;

/// The number of linked messages, as far as it was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkedCount {
    Exactly(u64),
    /// More links than the count walks: at least this many messages.
    AtLeast(u64),
}

/// Links a count walks per message it may report: copies of one message in several mailboxes
/// are several links.
const LINKS_PER_MESSAGE: u64 = 4;

/// How many distinct messages (by message key) are linked that the reader sees in the
/// timeline: not tombstoned, not soft-deleted, not bulk when the organization hides bulk mail,
/// not in a colleague's private mailbox or thread. It walks no more than `cap * 4 + 1` links
/// (the link index alone unless levels apply), so a page view does not pay for every link of
/// a business with tens of thousands.
pub async fn count_up_to(
    db: &impl ConnectionTrait,
    reader: Reader,
    target: Target,
    cap: u64,
) -> Result<LinkedCount, DbErr> {
    Ok(count_of(
        &combined::one(db, |sql| count_part(sql, reader, target, cap)).await?,
    ))
}

/// [`count_up_to`] as a part of a [`combined`] read: one row, kind 1 when the walk stopped
/// before the last link, the count of distinct messages as its number.
pub fn count_part(sql: &mut Sql, reader: Reader, target: Target, cap: u64) {
    let (column, id) = match target {
        Target::Business(id) => ("l.business_id", id),
        Target::Contact(id) => ("l.contact_id", id),
    };
    let org = reader.organization_id;
    let links = cap.saturating_mul(LINKS_PER_MESSAGE).saturating_add(1);
    sql.push(&format!(
        "SELECT CASE WHEN COUNT(*) > {links} THEN 1 ELSE 0 END, \
         COUNT(DISTINCT linked.message_key), NULL, NULL \
         FROM (SELECT l.message_key FROM email_links l WHERE {column} = "
    ))
    .bind(id)
    .push(" AND l.tombstone = ")
    .bind(false)
    .push(" AND l.organization_id = ")
    .bind(org)
    .push(" AND l.soft_deleted = ")
    .bind(false)
    // The organization's settings are read in the same round trip as this count, so they are
    // tested here: each an uncorrelated sub-select, evaluated once.
    .push(" AND (l.is_bulk = ")
    .bind(false)
    .push(" OR NOT EXISTS (SELECT 1 FROM organizations ho WHERE ho.id = ")
    .bind(org)
    .push(" AND ho.hide_bulk = ")
    .bind(true)
    .push("))");
    let restricted = crate::db::visibility::restricted_sql("?");
    let (rank, rank_values) = crate::db::visibility::rank_sql(reader.user_id, "l.email_id");
    sql.push(" AND CASE WHEN ")
        .splice(&restricted, vec![org.into(), org.into()])
        .push(" THEN ")
        .splice(&rank, rank_values)
        .push(" > 0 ELSE TRUE END")
        .push(&format!(" LIMIT {}) linked", links.saturating_add(1)));
}

/// [`count_part`]'s row.
struct CountRow {
    count: LinkedCount,
}

impl FromPartRow for CountRow {
    fn from_part_row(row: PartRow) -> Option<Self> {
        let n = u64::try_from(row.number?).ok()?;
        let count = if row.kind == 1 {
            LinkedCount::AtLeast(n)
        } else {
            LinkedCount::Exactly(n)
        };
        Some(Self { count })
    }
}

/// The count of [`count_part`]'s row.
pub fn count_of(rows: &[PartRow]) -> LinkedCount {
    rows.first()
        .cloned()
        .and_then(PartRow::decode::<CountRow>)
        .map_or(LinkedCount::Exactly(0), |r| r.count)
}
