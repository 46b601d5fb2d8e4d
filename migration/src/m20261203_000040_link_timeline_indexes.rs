//! The timeline indexes of `email_links` lead with every column a timeline filters on by
//! equality: `(business_id | contact_id, tombstone, organization_id, received_at, email_id)`
//! instead of `(business_id | contact_id, received_at, email_id)`. A page then walks the index in
//! time order without reading a link row to check its tombstone or organization, and the count
//! of a business's or contact's linked emails (shown on every visit to its page) is read from
//! the index alone.
use sea_orm_migration::prelude::*;

use crate::common::{drop_index, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmailLinks {
    Table,
}

/// `(new name, new columns, old name, old columns)`.
type Swap = (
    &'static str,
    [&'static str; 5],
    &'static str,
    [&'static str; 3],
);

const SWAPS: [Swap; 2] = [
    (
        "ix_links_business_live",
        [
            "business_id",
            "tombstone",
            "organization_id",
            "received_at",
            "email_id",
        ],
        "ix_links_business_time",
        ["business_id", "received_at", "email_id"],
    ),
    (
        "ix_links_contact_live",
        [
            "contact_id",
            "tombstone",
            "organization_id",
            "received_at",
            "email_id",
        ],
        "ix_links_contact_time",
        ["contact_id", "received_at", "email_id"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (new, cols, old, _) in SWAPS {
            index(m, new, EmailLinks::Table, &cols, false).await?;
            drop_index(m, old, EmailLinks::Table).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (new, _, old, cols) in SWAPS {
            index(m, old, EmailLinks::Table, &cols, false).await?;
            drop_index(m, new, EmailLinks::Table).await?;
        }
        Ok(())
    }
}
