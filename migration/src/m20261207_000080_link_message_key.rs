//! `email_links.message_key`: a copy of the email's message key (the identity of a message
//! across mailboxes, which the reader's read and starred marks are keyed by), at the end of the
//! timeline indexes. A timeline filtered to unread or starred mail then walks the link index
//! alone and looks up only the reader's mark of each message, instead of the email row first:
//! with most mail read, an unread-only page walks a few hundred links for its 25 threads.
//!
//! The copy is kept like the link's other copies (migration 000060), by the same triggers, now
//! copying the message key too: a new link copies its email's; a change of it (none today:
//! ingest sets it once) is copied to the email's links. Existing rows are filled here.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::common::{add_columns, drop_columns, drop_index, index, text_default};
use crate::m20261206_000060_timeline_copies as copies;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum EmailLinks {
    Table,
    MessageKey,
}

const FILL: &str = "UPDATE email_links SET message_key = e.message_key \
     FROM emails e WHERE e.id = email_links.email_id";

const PG_DROP: [&str; 4] = [
    "DROP TRIGGER IF EXISTS emails_copy_to_links ON emails",
    "DROP TRIGGER IF EXISTS email_links_copy_email ON email_links",
    "DROP FUNCTION IF EXISTS emails_copy_to_links()",
    "DROP FUNCTION IF EXISTS email_links_copy_email()",
];

const SQLITE_DROP: [&str; 2] = [
    "DROP TRIGGER IF EXISTS emails_copy_to_links",
    "DROP TRIGGER IF EXISTS email_links_copy_email",
];

const PG_TRIGGERS: [&str; 4] = [
    "CREATE FUNCTION email_links_copy_email() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       SELECT e.thread_key, e.is_bulk, e.soft_deleted_at IS NOT NULL, e.message_key \
         INTO NEW.thread_key, NEW.is_bulk, NEW.soft_deleted, NEW.message_key \
         FROM emails e WHERE e.id = NEW.email_id; \
       RETURN NEW; \
     END $$",
    "CREATE TRIGGER email_links_copy_email BEFORE INSERT ON email_links \
     FOR EACH ROW EXECUTE FUNCTION email_links_copy_email()",
    "CREATE FUNCTION emails_copy_to_links() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       UPDATE email_links SET thread_key = NEW.thread_key, is_bulk = NEW.is_bulk, \
         soft_deleted = NEW.soft_deleted_at IS NOT NULL, message_key = NEW.message_key \
         WHERE email_id = NEW.id; \
       RETURN NULL; \
     END $$",
    "CREATE TRIGGER emails_copy_to_links \
     AFTER UPDATE OF thread_key, is_bulk, soft_deleted_at, message_key \
     ON emails FOR EACH ROW WHEN (OLD.thread_key IS DISTINCT FROM NEW.thread_key \
     OR OLD.is_bulk IS DISTINCT FROM NEW.is_bulk \
     OR (OLD.soft_deleted_at IS NULL) <> (NEW.soft_deleted_at IS NULL) \
     OR OLD.message_key IS DISTINCT FROM NEW.message_key) \
     EXECUTE FUNCTION emails_copy_to_links()",
];

const SQLITE_TRIGGERS: [&str; 2] = [
    "CREATE TRIGGER email_links_copy_email AFTER INSERT ON email_links BEGIN \
     UPDATE email_links SET (thread_key, is_bulk, soft_deleted, message_key) = \
     (SELECT e.thread_key, e.is_bulk, e.soft_deleted_at IS NOT NULL, e.message_key \
     FROM emails e WHERE e.id = NEW.email_id) WHERE id = NEW.id; END",
    "CREATE TRIGGER emails_copy_to_links \
     AFTER UPDATE OF thread_key, is_bulk, soft_deleted_at, message_key \
     ON emails FOR EACH ROW WHEN OLD.thread_key IS NOT NEW.thread_key \
     OR OLD.is_bulk IS NOT NEW.is_bulk \
     OR (OLD.soft_deleted_at IS NULL) IS NOT (NEW.soft_deleted_at IS NULL) \
     OR OLD.message_key IS NOT NEW.message_key BEGIN \
     UPDATE email_links SET thread_key = NEW.thread_key, is_bulk = NEW.is_bulk, \
     soft_deleted = NEW.soft_deleted_at IS NOT NULL, message_key = NEW.message_key \
     WHERE email_id = NEW.id; END",
];

/// `(new name, scope column, old name)` of the two timeline indexes.
const SWAPS: [(&str, &str, &str); 2] = [
    (
        "ix_links_business_timeline",
        "business_id",
        "ix_links_business_walk",
    ),
    (
        "ix_links_contact_timeline",
        "contact_id",
        "ix_links_contact_walk",
    ),
];

/// The timeline index of `scope`, with the message key at its end or not.
fn columns(scope: &'static str, message_key: bool) -> Vec<&'static str> {
    let mut cols = vec![
        scope,
        "tombstone",
        "organization_id",
        "soft_deleted",
        "received_at",
        "email_id",
        "is_bulk",
        "thread_key",
    ];
    if message_key {
        cols.push("message_key");
    }
    cols
}

/// Replace the copy triggers: drop them, then run `create`. In one string, hence on one
/// connection: SQLite checks a new trigger's name against the schema its connection last read,
/// and another pooled connection may not have seen the drop yet ("already exists").
async fn replace_triggers(db: &SchemaManagerConnection<'_>, create: &[&str]) -> Result<(), DbErr> {
    let drops: &[&str] = match db.get_database_backend() {
        DbBackend::Postgres => &PG_DROP,
        _ => &SQLITE_DROP,
    };
    let all: Vec<&str> = drops.iter().chain(create).copied().collect();
    db.execute_unprepared(&all.join(";\n")).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        add_columns(
            m,
            EmailLinks::Table,
            vec![text_default(EmailLinks::MessageKey, "")],
        )
        .await?;
        db.execute_unprepared(FILL).await?;
        let create: &[&str] = match db.get_database_backend() {
            DbBackend::Postgres => &PG_TRIGGERS,
            _ => &SQLITE_TRIGGERS,
        };
        replace_triggers(db, create).await?;
        for (new, scope, old) in SWAPS {
            index(m, new, EmailLinks::Table, &columns(scope, true), false).await?;
            drop_index(m, old, EmailLinks::Table).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for (new, scope, old) in SWAPS {
            index(m, old, EmailLinks::Table, &columns(scope, false), false).await?;
            drop_index(m, new, EmailLinks::Table).await?;
        }
        let create: &[&str] = match db.get_database_backend() {
            DbBackend::Postgres => &copies::PG_TRIGGERS,
            _ => &copies::SQLITE_TRIGGERS,
        };
        replace_triggers(db, create).await?;
        drop_columns(m, EmailLinks::Table, [EmailLinks::MessageKey]).await
    }
}
