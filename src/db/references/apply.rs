//! A rule applied to stored mail: chunks of emails by id (subject and body read once), the
//! rule's matches in each chunk replaced, and a preview that counts the emails a pattern would
//! match as the admin may see them, without writing anything.
use sea_orm::{ConnectionTrait, DbErr};

use super::{find_all, write, Compiled, EmailText};
use crate::db::timeline::sql::Sql;
use crate::domain::references::{body_text, Pattern};

/// Emails per chunk (their bodies are read with them).
pub const CHUNK: usize = 200;

/// One stored email's text.
pub struct Stored {
    pub id: i64,
    pub subject: String,
    pub body: String,
}

/// Up to [`CHUNK`] of the organization's emails after id `after`, by id.
pub async fn emails_after(
    db: &impl ConnectionTrait,
    org_id: i64,
    after: i64,
) -> Result<Vec<Stored>, DbErr> {
    let mut sql = Sql::default();
    sql.push(
        "SELECT e.id, e.subject, b.body_text, b.body_html FROM emails e \
         LEFT JOIN email_bodies b ON b.email_id = e.id WHERE e.organization_id = ",
    )
    .bind(org_id)
    .push(" AND e.id > ")
    .bind(after)
    .push(&format!(" ORDER BY e.id LIMIT {CHUNK}"));
    let mut out = Vec::new();
    for row in db.query_all(sql.build(db.get_database_backend())).await? {
        let text: Option<String> = row.try_get_by_index(2)?;
        let html: Option<String> = row.try_get_by_index(3)?;
        out.push(Stored {
            id: row.try_get_by_index(0)?,
            subject: row.try_get_by_index(1)?,
            body: body_text(text.as_deref(), html.as_deref()).into_owned(),
        });
    }
    Ok(out)
}

fn texts(chunk: &[Stored]) -> Vec<EmailText<'_>> {
    chunk
        .iter()
        .map(|s| EmailText {
            email_id: s.id,
            subject: &s.subject,
            body: &s.body,
        })
        .collect()
}

/// Replace rule `rule`'s matches in `chunk` by what `pattern` finds now; the matches written.
pub async fn apply_chunk(
    db: &impl ConnectionTrait,
    org_id: i64,
    rule: &Compiled,
    chunk: &[Stored],
) -> Result<u64, DbErr> {
    let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else {
        return Ok(0);
    };
    let mut sql = Sql::default();
    sql.push(
        "DELETE FROM email_references WHERE reference_id IN \
         (SELECT v.id FROM reference_values v WHERE v.rule_id = ",
    )
    .bind(rule.id)
    .push(") AND organization_id = ")
    .bind(org_id)
    .push(" AND email_id >= ")
    .bind(first.id)
    .push(" AND email_id <= ")
    .bind(last.id);
    db.execute(sql.build(db.get_database_backend())).await?;
    let found = find_all(std::slice::from_ref(rule), &texts(chunk));
    write(db, org_id, &found).await
}

/// Forget the rule's values no email mentions any more (after an edit's re-apply).
pub async fn prune(db: &impl ConnectionTrait, rule_id: i64) -> Result<(), DbErr> {
    let mut sql = Sql::default();
    sql.push("DELETE FROM reference_values WHERE rule_id = ")
        .bind(rule_id)
        .push(
            " AND NOT EXISTS (SELECT 1 FROM email_references r \
             WHERE r.reference_id = reference_values.id)",
        );
    db.execute(sql.build(db.get_database_backend())).await?;
    Ok(())
}

/// How many of the organization's emails there are (a job's total).
pub async fn email_count(db: &impl ConnectionTrait, org_id: i64) -> Result<u64, DbErr> {
    let mut sql = Sql::default();
    sql.push("SELECT COUNT(*) FROM emails WHERE organization_id = ")
        .bind(org_id);
    let row = db.query_one(sql.build(db.get_database_backend())).await?;
    Ok(row
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?
        .map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}

/// What applying a pattern would find, as `actor` may see it.
#[derive(Debug, Clone, Default)]
pub struct Preview {
    /// Emails the actor may see that mention a reference where they may see it.
    pub emails: u64,
    /// Distinct references among them.
    pub references: u64,
    /// A few of those references, for the page.
    pub examples: Vec<String>,
}

/// [`Preview`] of `pattern` over the organization's stored mail, for `actor`: an email counts
/// when it is theirs, or a colleague's linked copy whose level shows where the reference is.
pub async fn preview(
    db: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    pattern: &Pattern,
) -> Result<Preview, DbErr> {
    let rule = Compiled {
        id: 0,
        pattern: pattern.clone(),
    };
    let mut out = Preview::default();
    let mut values = std::collections::BTreeSet::new();
    let mut after = 0;
    loop {
        let chunk = emails_after(db, org_id, after).await?;
        let Some(last) = chunk.last() else { break };
        after = last.id;
        let found = find_all(std::slice::from_ref(&rule), &texts(&chunk));
        let ids: Vec<i64> = found.iter().map(|(id, _, _)| *id).collect();
        let standings = crate::db::visibility::standings(db, org_id, actor, &ids).await?;
        let mut counted = std::collections::HashSet::new();
        for (id, _, f) in &found {
            let Some(s) = standings.get(id) else { continue };
            let need = if f.in_subject { 2 } else { 3 };
            if s.own || (s.linked && s.rank >= need) {
                values.insert(f.value.clone());
                counted.insert(*id);
            }
        }
        out.emails += counted.len() as u64;
        if chunk.len() < CHUNK {
            break;
        }
    }
    out.references = values.len() as u64;
    out.examples = values.into_iter().take(5).collect();
    Ok(out)
}
