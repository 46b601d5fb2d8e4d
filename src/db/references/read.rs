//! References as pages show them: those of one email as its reader sees it (a reference found
//! only where the reader's level hides the text is not shown), those of a page's thread lines,
//! and the look-up of `/references/{name}/{value}`.
use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DbErr};

use crate::db::timeline::sql::Sql;
use crate::domain::visibility::Level;

/// One reference shown on a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub rule: String,
    pub value: String,
    pub url_template: Option<String>,
}

/// The references of `email_id` that `level` lets the reader see: those found in the subject
/// from `subject` up, those found in the body at `full`.
pub async fn of_email(
    db: &impl ConnectionTrait,
    org_id: i64,
    email_id: i64,
    level: Level,
) -> Result<Vec<Shown>, DbErr> {
    let mut all = of_emails(db, org_id, &[(email_id, level)]).await?;
    Ok(all.remove(&email_id).unwrap_or_default())
}

/// [`of_email`] for several emails, each at its level, in one statement per 500.
pub async fn of_emails(
    db: &impl ConnectionTrait,
    org_id: i64,
    emails: &[(i64, Level)],
) -> Result<HashMap<i64, Vec<Shown>>, DbErr> {
    let levels: HashMap<i64, Level> = emails.iter().copied().collect();
    let ids: Vec<i64> = emails
        .iter()
        .filter(|(_, l)| l.shows_subject())
        .map(|(id, _)| *id)
        .collect();
    let mut out: HashMap<i64, Vec<Shown>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let mut sql = Sql::default();
        sql.push(
            "SELECT r.email_id, r.in_subject, r.in_body, u.name, v.value, u.url_template \
             FROM email_references r, reference_values v, reference_rules u \
             WHERE v.id = r.reference_id AND u.id = v.rule_id AND r.organization_id = ",
        )
        .bind(org_id)
        .push(" AND r.email_id IN ")
        .bind_list(chunk.iter().copied())
        .push(" ORDER BY u.name, v.value");
        for row in db.query_all(sql.build(db.get_database_backend())).await? {
            let email: i64 = row.try_get_by_index(0)?;
            let level = levels.get(&email).copied().unwrap_or(Level::Private);
            let in_subject: bool = row.try_get_by_index(1)?;
            let in_body: bool = row.try_get_by_index(2)?;
            if !((in_subject && level.shows_subject()) || (in_body && level.shows_body())) {
                continue;
            }
            let shown = Shown {
                rule: row.try_get_by_index(3)?,
                value: row.try_get_by_index(4)?,
                url_template: row.try_get_by_index(5)?,
            };
            let list = out.entry(email).or_default();
            if !list.contains(&shown) {
                list.push(shown);
            }
        }
    }
    Ok(out)
}

/// The reference `value` (normalized) of the organization's rule `name`: its id, with the
/// rule's URL template.
pub async fn find_value(
    db: &impl ConnectionTrait,
    org_id: i64,
    name: &str,
    value: &str,
) -> Result<Option<(i64, Option<String>)>, DbErr> {
    let mut sql = Sql::default();
    sql.push(
        "SELECT v.id, u.url_template FROM reference_rules u, reference_values v \
         WHERE v.rule_id = u.id AND u.organization_id = ",
    )
    .bind(org_id)
    .push(" AND u.name = ")
    .bind(name)
    .push(" AND v.value = ")
    .bind(value);
    let Some(row) = db.query_one(sql.build(db.get_database_backend())).await? else {
        return Ok(None);
    };
    Ok(Some((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
}
