//! Full-text search over stored mail: subject, participants (names and addresses) and the text
//! body. SQLite: a contentless FTS5 table keyed by `emails.id` (a trigger drops an email's entry
//! with the email). PostgreSQL: a `tsvector` per email with a GIN index, deleted in cascade.
//! Mail stored before this migration is indexed here, set-based.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The indexed text of every stored email (bodies capped at 64 KiB).
const DOCUMENTS_SQLITE: &str = "SELECT e.id, e.subject || ' ' || \
     COALESCE((SELECT group_concat(p.name || ' ' || p.address, ' ') FROM email_participants p \
     WHERE p.email_id = e.id), '') || ' ' || COALESCE(substr(b.body_text, 1, 65536), '') \
     FROM emails e LEFT JOIN email_bodies b ON b.email_id = e.id";

const DOCUMENTS_PG: &str = "SELECT e.id, e.organization_id, to_tsvector('simple', \
     regexp_replace(e.subject || ' ' || COALESCE((SELECT string_agg(p.name || ' ' || p.address, \
     ' ') FROM email_participants p WHERE p.email_id = e.id), '') || ' ' || \
     COALESCE(left(b.body_text, 65536), ''), '[^[:alnum:]]+', ' ', 'g')) \
     FROM emails e LEFT JOIN email_bodies b ON b.email_id = e.id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE TABLE email_search (\
                       email_id BIGINT PRIMARY KEY REFERENCES emails (id) ON DELETE CASCADE, \
                       organization_id BIGINT NOT NULL, \
                       document TSVECTOR NOT NULL)",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE INDEX ix_email_search_document ON email_search USING GIN (document)",
                )
                .await?;
                db.execute_unprepared(&format!(
                    "INSERT INTO email_search (email_id, organization_id, document) {DOCUMENTS_PG}"
                ))
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE email_search USING fts5(document, content = '', \
                     contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2')",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER email_search_forget AFTER DELETE ON emails BEGIN \
                     DELETE FROM email_search WHERE rowid = old.id; END",
                )
                .await?;
                db.execute_unprepared(&format!(
                    "INSERT INTO email_search (rowid, document) {DOCUMENTS_SQLITE}"
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            db.execute_unprepared("DROP TRIGGER IF EXISTS email_search_forget")
                .await?;
        }
        db.execute_unprepared("DROP TABLE IF EXISTS email_search")
            .await?;
        Ok(())
    }
}
