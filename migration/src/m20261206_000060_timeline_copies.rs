//! What a timeline page reads, where it walks:
//! - `emails.sender_name` and `emails.sender_address`: the first `from` participant, so a page's
//!   thread lines (which show senders only) need no participant look-up per message.
//! - `email_links.thread_key`, `email_links.is_bulk` and `email_links.soft_deleted`: copies of
//!   the email's, so the walk that finds a page's threads reads the link index alone instead of
//!   one email row per link. The timeline indexes end in them (`(business_id | contact_id,
//!   tombstone, organization_id, soft_deleted, received_at, email_id, is_bulk, thread_key)`).
//!
//! The link copies are kept by triggers, whatever code writes: a new link copies its email's
//! values; a change of an email's thread (a merge at ingest), bulk flag or soft deletion is
//! copied to its links. Existing rows are filled here, set-based.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::common::{add_columns, drop_columns, drop_index, flag, index, text_default};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Emails {
    Table,
    SenderName,
    SenderAddress,
}

#[derive(DeriveIden, Clone, Copy)]
enum EmailLinks {
    Table,
    ThreadKey,
    IsBulk,
    SoftDeleted,
}

/// `UPDATE ... FROM`: a join, not a sub-select per row (SQLite 3.33 and later).
const FILL_SENDERS: &str = "UPDATE emails SET sender_name = p.name, sender_address = p.address \
     FROM email_participants p WHERE p.email_id = emails.id AND p.role = 'from'";

const FILL_LINKS: &str = "UPDATE email_links SET thread_key = e.thread_key, \
     is_bulk = e.is_bulk, soft_deleted = e.soft_deleted_at IS NOT NULL \
     FROM emails e WHERE e.id = email_links.email_id";

pub(crate) const PG_TRIGGERS: [&str; 4] = [
    "CREATE FUNCTION email_links_copy_email() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       SELECT e.thread_key, e.is_bulk, e.soft_deleted_at IS NOT NULL \
         INTO NEW.thread_key, NEW.is_bulk, NEW.soft_deleted \
         FROM emails e WHERE e.id = NEW.email_id; \
       RETURN NEW; \
     END $$",
    "CREATE TRIGGER email_links_copy_email BEFORE INSERT ON email_links \
     FOR EACH ROW EXECUTE FUNCTION email_links_copy_email()",
    "CREATE FUNCTION emails_copy_to_links() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       UPDATE email_links SET thread_key = NEW.thread_key, is_bulk = NEW.is_bulk, \
         soft_deleted = NEW.soft_deleted_at IS NOT NULL WHERE email_id = NEW.id; \
       RETURN NULL; \
     END $$",
    "CREATE TRIGGER emails_copy_to_links AFTER UPDATE OF thread_key, is_bulk, soft_deleted_at \
     ON emails FOR EACH ROW WHEN (OLD.thread_key IS DISTINCT FROM NEW.thread_key \
     OR OLD.is_bulk IS DISTINCT FROM NEW.is_bulk \
     OR (OLD.soft_deleted_at IS NULL) <> (NEW.soft_deleted_at IS NULL)) \
     EXECUTE FUNCTION emails_copy_to_links()",
];

pub(crate) const SQLITE_TRIGGERS: [&str; 2] = [
    "CREATE TRIGGER email_links_copy_email AFTER INSERT ON email_links BEGIN \
     UPDATE email_links SET (thread_key, is_bulk, soft_deleted) = \
     (SELECT e.thread_key, e.is_bulk, e.soft_deleted_at IS NOT NULL FROM emails e \
     WHERE e.id = NEW.email_id) WHERE id = NEW.id; END",
    "CREATE TRIGGER emails_copy_to_links AFTER UPDATE OF thread_key, is_bulk, soft_deleted_at \
     ON emails FOR EACH ROW WHEN OLD.thread_key IS NOT NEW.thread_key \
     OR OLD.is_bulk IS NOT NEW.is_bulk \
     OR (OLD.soft_deleted_at IS NULL) IS NOT (NEW.soft_deleted_at IS NULL) BEGIN \
     UPDATE email_links SET thread_key = NEW.thread_key, is_bulk = NEW.is_bulk, \
     soft_deleted = NEW.soft_deleted_at IS NOT NULL WHERE email_id = NEW.id; END",
];

/// `(new name, scope column, old name)` of the two timeline indexes.
const SWAPS: [(&str, &str, &str); 2] = [
    (
        "ix_links_business_walk",
        "business_id",
        "ix_links_business_live",
    ),
    (
        "ix_links_contact_walk",
        "contact_id",
        "ix_links_contact_live",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        add_columns(
            m,
            Emails::Table,
            vec![
                text_default(Emails::SenderName, ""),
                text_default(Emails::SenderAddress, ""),
            ],
        )
        .await?;
        add_columns(
            m,
            EmailLinks::Table,
            vec![
                text_default(EmailLinks::ThreadKey, ""),
                flag(EmailLinks::IsBulk),
                flag(EmailLinks::SoftDeleted),
            ],
        )
        .await?;
        db.execute_unprepared(FILL_SENDERS).await?;
        db.execute_unprepared(FILL_LINKS).await?;
        let triggers: &[&str] = match db.get_database_backend() {
            DbBackend::Postgres => &PG_TRIGGERS,
            _ => &SQLITE_TRIGGERS,
        };
        for sql in triggers {
            db.execute_unprepared(sql).await?;
        }
        for (new, scope, old) in SWAPS {
            let cols = [
                scope,
                "tombstone",
                "organization_id",
                "soft_deleted",
                "received_at",
                "email_id",
                "is_bulk",
                "thread_key",
            ];
            index(m, new, EmailLinks::Table, &cols, false).await?;
            drop_index(m, old, EmailLinks::Table).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for (new, scope, old) in SWAPS {
            let cols = [
                scope,
                "tombstone",
                "organization_id",
                "received_at",
                "email_id",
            ];
            index(m, old, EmailLinks::Table, &cols, false).await?;
            drop_index(m, new, EmailLinks::Table).await?;
        }
        let drops: &[&str] = match db.get_database_backend() {
            DbBackend::Postgres => &[
                "DROP TRIGGER IF EXISTS emails_copy_to_links ON emails",
                "DROP TRIGGER IF EXISTS email_links_copy_email ON email_links",
                "DROP FUNCTION IF EXISTS emails_copy_to_links()",
                "DROP FUNCTION IF EXISTS email_links_copy_email()",
            ],
            _ => &[
                "DROP TRIGGER IF EXISTS emails_copy_to_links",
                "DROP TRIGGER IF EXISTS email_links_copy_email",
            ],
        };
        for sql in drops {
            db.execute_unprepared(sql).await?;
        }
        drop_columns(
            m,
            EmailLinks::Table,
            [
                EmailLinks::ThreadKey,
                EmailLinks::IsBulk,
                EmailLinks::SoftDeleted,
            ],
        )
        .await?;
        drop_columns(
            m,
            Emails::Table,
            [Emails::SenderName, Emails::SenderAddress],
        )
        .await?;
        Ok(())
    }
}
