//! The full-text index of stored mail (`email_search`): written at ingest in the email's
//! transaction, dropped with the email (SQLite trigger / PostgreSQL cascade), and queried by the
//! timelines. SQLite uses a contentless FTS5 table keyed by the email id; PostgreSQL a `tsvector`
//! per email with a GIN index. The indexed text comes from [`crate::domain::search::document`],
//! in three fields (participants, subject, body: FTS5 columns `people`, `subject`, `body`;
//! `tsvector` weights A, B, C) so a colleague's search is held to what the email's visibility
//! level shows ([`matches_at_level`]).
use std::fmt::Write as _;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};

use crate::domain::search::{SearchDocument, SearchQuery};

/// Index new emails: `(email id, document)`. Callers pass emails that are not indexed yet.
pub async fn index(
    db: &impl ConnectionTrait,
    organization_id: i64,
    entries: &[(i64, SearchDocument)],
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let rows = super::batch::rows_per_insert(5);
    for chunk in super::batch::runs(entries, rows, |(_, doc)| doc.len()) {
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 5);
        let rows: Vec<String> = chunk
            .iter()
            .map(|(id, doc)| {
                values.push((*id).into());
                if backend == DbBackend::Postgres {
                    values.push(organization_id.into());
                }
                values.push(doc.people.clone().into());
                values.push(doc.subject.clone().into());
                values.push(doc.body.clone().into());
                match backend {
                    DbBackend::Postgres => "(?, ?, setweight(to_tsvector('simple', ?), 'A') || \
                         setweight(to_tsvector('simple', ?), 'B') || \
                         setweight(to_tsvector('simple', ?), 'C'))"
                        .to_string(),
                    _ => "(?, ?, ?, ?)".to_string(),
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
                "INSERT INTO email_search (rowid, people, subject, body) VALUES {}",
                rows.join(", ")
            ),
        };
        db.execute(super::batch::statement(backend, &sql, values))
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

/// [`matches`] for a colleague's timeline: the email matches only in the fields its level, as
/// `reader` sees it ([`super::visibility::rank_sql`]), shows: every field at `full`,
/// participants and subject at `subject`, participants at `metadata`, none at `private` (so
/// the condition also leaves out what the reader may not see at all). The unrestricted match
/// comes first: the level is computed only for the emails that have the words.
pub fn matches_at_level(
    backend: DbBackend,
    query: &SearchQuery,
    id: &str,
    reader_user_id: i64,
) -> (String, Vec<Value>) {
    let (any, mut values) = matches(backend, query, id);
    let (rank, rank_values) = super::visibility::rank_sql(reader_user_id, id);
    values.extend(rank_values);
    let (yes, nothing, fields) = match backend {
        DbBackend::Postgres => (
            "true",
            "false",
            [query.tsquery_in("AB"), query.tsquery_in("A")],
        ),
        _ => (
            "1",
            "0",
            [
                query.fts5_in(&["people", "subject"]),
                query.fts5_in(&["people"]),
            ],
        ),
    };
    let mut text = format!("{any} AND CASE {rank} WHEN 3 THEN {yes}");
    for (level, expr) in [2, 1].into_iter().zip(fields) {
        let cond = match backend {
            DbBackend::Postgres => format!(
                "(SELECT s.document @@ (SELECT to_tsquery('simple', ?)) FROM email_search s \
                 WHERE s.email_id = {id})"
            ),
            _ => format!("{id} IN (SELECT rowid FROM email_search WHERE email_search MATCH ?)"),
        };
        let _ = write!(text, " WHEN {level} THEN COALESCE({cond}, {nothing})");
        values.push(expr.into());
    }
    let _ = write!(text, " ELSE {nothing} END");
    (text, values)
}

/// Rebuild the whole index from the stored mail (after a bulk load that bypassed ingest, such as
/// the benchmarks' seeding). Bodies are taken from their text part.
pub async fn rebuild(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let fill = match backend {
        DbBackend::Postgres => {
            let words = |text: &str, weight: char| {
                format!(
                    "setweight(to_tsvector('simple', lower(regexp_replace({text}, \
                     '[^[:alnum:]]+', ' ', 'g'))), '{weight}')"
                )
            };
            format!(
                "INSERT INTO email_search (email_id, organization_id, document) \
                 SELECT e.id, e.organization_id, {} || {} || {} \
                 FROM emails e LEFT JOIN email_bodies b ON b.email_id = e.id",
                words(
                    "COALESCE((SELECT string_agg(p.name || ' ' || p.address, ' ') \
                     FROM email_participants p WHERE p.email_id = e.id), '')",
                    'A'
                ),
                words("e.subject", 'B'),
                words("COALESCE(left(b.body_text, 65536), '')", 'C'),
            )
        }
        _ => "INSERT INTO email_search (rowid, people, subject, body) \
              SELECT e.id, COALESCE((SELECT group_concat(p.name || ' ' || p.address, ' ') \
              FROM email_participants p WHERE p.email_id = e.id), ''), e.subject, \
              COALESCE(substr(b.body_text, 1, 65536), '') \
              FROM emails e LEFT JOIN email_bodies b ON b.email_id = e.id"
            .to_string(),
    };
    db.execute(Statement::from_string(backend, "DELETE FROM email_search"))
        .await?;
    Ok(db
        .execute(Statement::from_string(backend, fill))
        .await?
        .rows_affected())
}
