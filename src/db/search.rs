//! The full-text index of stored mail (`email_search`): written at ingest in the email's
//! transaction, dropped with the email (SQLite trigger / PostgreSQL cascade), and queried by the
//! timelines. SQLite uses a contentless FTS5 table keyed by the email id; PostgreSQL a `tsvector`
//! per email with a GIN index. The indexed text comes from [`crate::domain::search::document`].
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};

use crate::domain::search::SearchQuery;

/// Index new emails: `(email id, document)`. Callers pass emails that are not indexed yet.
pub async fn index(
    db: &impl ConnectionTrait,
    organization_id: i64,
    entries: &[(i64, String)],
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let rows = super::batch::rows_per_insert(3);
    for chunk in super::batch::runs(entries, rows, |(_, doc)| doc.len()) {
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 3);
        let rows: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, (id, doc))| {
                values.push((*id).into());
                values.push(doc.clone().into());
                match backend {
                    DbBackend::Postgres => {
                        values.push(organization_id.into());
                        let n = i * 3;
                        format!(
                            "(${}, ${}, to_tsvector('simple', ${}))",
                            n + 1,
                            n + 3,
                            n + 2
                        )
                    }
                    _ => "(?, ?)".to_string(),
                }
            })
            .collect();
        let sql = match backend {
            DbBackend::Postgres => format!(
                "INSERT INTO email_search (email_id, organization_id, document) VALUES {} \
                 ON CONFLICT (email_id) DO NOTHING",
                rows.join(", ")
            ),
            _ => format!(
                "INSERT INTO email_search (rowid, document) VALUES {}",
                rows.join(", ")
            ),
        };
        db.execute(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    Ok(())
}

/// A condition that the email whose id is the column `id` matches `query`, with its bound
/// values. `?` placeholders; the caller numbers them for PostgreSQL.
///
/// PostgreSQL tests each row the caller reaches through the row's own index entry (a scalar
/// sub-select, which the planner never turns into a join): the timeline walks a scope's links
/// newest first and stops after a page, so a common word costs a look-up per walked link, not
/// a pass over every email that has the word (an `IN (...)` of the matching ids read all
/// ~80,000 emails with "invoice" on every page of the heavy business). SQLite's FTS5 answers a
/// `MATCH` as the list of matching rowids, read once per statement.
pub fn matches(backend: DbBackend, query: &SearchQuery, id: &str) -> (String, Vec<Value>) {
    match backend {
        DbBackend::Postgres => (
            // The query is parsed once per execution (an InitPlan): in a reused generic plan a
            // bare `to_tsquery(?)` is parsed again for every row tested. No row (an email not
            // indexed) is NULL, hence no match.
            format!(
                "(SELECT s.document @@ (SELECT to_tsquery('simple', ?)) FROM email_search s \
                 WHERE s.email_id = {id})"
            ),
            vec![query.tsquery().into()],
        ),
        // The FTS5 table has no organization column: the caller's scope (the email's or the
        // link's organization) keeps other organizations out, as on PostgreSQL.
        _ => (
            format!("{id} IN (SELECT rowid FROM email_search WHERE email_search MATCH ?)"),
            vec![query.fts5().into()],
        ),
    }
}

/// Rebuild the whole index from the stored mail (after a bulk load that bypassed ingest, such as
/// the benchmarks' seeding). Bodies are taken from their text part.
pub async fn rebuild(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let (clear, fill) = match backend {
        DbBackend::Postgres => (
            "DELETE FROM email_search",
            "INSERT INTO email_search (email_id, organization_id, document) \
             SELECT e.id, e.organization_id, to_tsvector('simple', lower(regexp_replace(\
             e.subject || ' ' || COALESCE((SELECT string_agg(p.name || ' ' || p.address, ' ') \
             FROM email_participants p WHERE p.email_id = e.id), '') || ' ' || \
             COALESCE(left(b.body_text, 65536), ''), '[^[:alnum:]]+', ' ', 'g'))) \
             FROM emails e LEFT JOIN email_bodies b ON b.email_id = e.id",
        ),
        _ => (
            "DELETE FROM email_search",
            "INSERT INTO email_search (rowid, document) \
             SELECT e.id, e.subject || ' ' || COALESCE((SELECT group_concat(p.name || ' ' || \
             p.address, ' ') FROM email_participants p WHERE p.email_id = e.id), '') || ' ' || \
             COALESCE(substr(b.body_text, 1, 65536), '') \
             FROM emails e LEFT JOIN email_bodies b ON b.email_id = e.id",
        ),
    };
    db.execute(Statement::from_string(backend, clear)).await?;
    Ok(db
        .execute(Statement::from_string(backend, fill))
        .await?
        .rows_affected())
}
