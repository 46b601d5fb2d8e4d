//! On PostgreSQL, the unique indexes that find an email's link to a business or contact,
//! `(email_id, business_id)` and `(email_id, contact_id)`, also carry what a timeline checks
//! and shows of the link: `INCLUDE (organization_id, tombstone, soft_deleted, received_at,
//! id)`. The messages of a page's threads then find their links in the index alone (once
//! vacuum has marked the table's pages all-visible), not in a table row each: about a third of
//! the buffers that statement touched. Uniqueness stays on the two key columns.
//!
//! SQLite has no `INCLUDE`; its in-process look-up of the row is cheap, and its indexes stay.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (index, the column beside `email_id`)
const INDEXES: [(&str, &str); 2] = [
    ("ux_links_email_business", "business_id"),
    ("ux_links_email_contact", "contact_id"),
];

const CARRIED: &str = "organization_id, tombstone, soft_deleted, received_at, id";

async fn rebuild(m: &SchemaManager<'_>, include: bool) -> Result<(), DbErr> {
    let db = m.get_connection();
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for (name, column) in INDEXES {
        let extra = if include {
            format!(" INCLUDE ({CARRIED})")
        } else {
            String::new()
        };
        // Build the new one beside the old, then swap names: the constraint holds throughout.
        db.execute_unprepared(&format!(
            "CREATE UNIQUE INDEX {name}_next ON email_links (email_id, {column}){extra}"
        ))
        .await?;
        db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        db.execute_unprepared(&format!("ALTER INDEX {name}_next RENAME TO {name}"))
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rebuild(m, true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rebuild(m, false).await
    }
}
