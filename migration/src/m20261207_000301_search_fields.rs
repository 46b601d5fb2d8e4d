//! The search document in three fields, so a colleague's search can be held to what a
//! mailbox's visibility level shows: participants (names and addresses), subject, body.
//! PostgreSQL: one `tsvector` with weights A (participants), B (subject), C (body); a query
//! restricted with `term:*AB` matches participants and subject only. SQLite: the FTS5 table
//! gets the columns `people`, `subject`, `body` (column filters). The existing index is
//! rebuilt from the stored mail.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const PEOPLE_PG: &str = "COALESCE((SELECT string_agg(p.name || ' ' || p.address, ' ') \
     FROM email_participants p WHERE p.email_id = e.id), '')";
const PEOPLE_SQLITE: &str = "COALESCE((SELECT group_concat(p.name || ' ' || p.address, ' ') \
     FROM email_participants p WHERE p.email_id = e.id), '')";

/// `to_tsvector` of `text` split as the application splits words.
fn tsv(text: &str, weight: char) -> String {
    format!(
        "setweight(to_tsvector('simple', lower(regexp_replace({text}, '[^[:alnum:]]+', ' ', 'g'))), '{weight}')"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared("DELETE FROM email_search").await?;
                db.execute_unprepared(&format!(
                    "INSERT INTO email_search (email_id, organization_id, document) \
                     SELECT e.id, e.organization_id, {} || {} || {} \
                     FROM emails e LEFT JOIN email_bodies b ON b.email_id = e.id",
                    tsv(PEOPLE_PG, 'A'),
                    tsv("e.subject", 'B'),
                    tsv("COALESCE(left(b.body_text, 65536), '')", 'C'),
                ))
                .await?;
            }
            _ => {
                db.execute_unprepared("DROP TABLE email_search").await?;
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE email_search USING fts5(people, subject, body, \
                     content = '', contentless_delete = 1, \
                     tokenize = 'unicode61 remove_diacritics 2')",
                )
                .await?;
                db.execute_unprepared(&format!(
                    "INSERT INTO email_search (rowid, people, subject, body) \
                     SELECT e.id, {PEOPLE_SQLITE}, e.subject, \
                     COALESCE(substr(b.body_text, 1, 65536), '') \
                     FROM emails e LEFT JOIN email_bodies b ON b.email_id = e.id"
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                // A tsvector with weights still matches unrestricted queries: nothing to undo.
            }
            _ => {
                db.execute_unprepared("DROP TABLE email_search").await?;
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE email_search USING fts5(document, content = '', \
                     contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2')",
                )
                .await?;
                db.execute_unprepared(&format!(
                    "INSERT INTO email_search (rowid, document) \
                     SELECT e.id, e.subject || ' ' || {PEOPLE_SQLITE} || ' ' || \
                     COALESCE(substr(b.body_text, 1, 65536), '') \
                     FROM emails e LEFT JOIN email_bodies b ON b.email_id = e.id"
                ))
                .await?;
            }
        }
        Ok(())
    }
}
