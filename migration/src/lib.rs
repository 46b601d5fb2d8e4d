//! Threadline's schema, one change per file, applied in order on SQLite and PostgreSQL.
//!
//! Every table carries `organization_id` (except pre-authentication tables: sessions and login
//! throttles), so a deployment could later be distributed by organization.
pub use sea_orm_migration::prelude::*;

mod common;
mod m20261121_000001_organizations_users;
mod m20261121_000002_sessions_throttles;
mod m20261121_000003_mail_accounts;
mod m20261121_000004_emails;
mod m20261121_000005_directory;
mod m20261121_000006_links_states;
mod m20261121_000007_sync_jobs;
mod m20261121_000008_audit;
mod m20261121_000009_account_refresh_lock;
mod m20261122_000010_listing_marks;
mod m20261122_000011_participant_registrable;
mod m20261122_000012_link_tombstones;
mod m20261122_000021_directory_imports;
mod m20261122_000030_email_search;
mod m20261203_000040_link_timeline_indexes;
mod m20261203_000050_participant_display_index;
mod m20261206_000060_timeline_copies;
mod m20261207_000070_link_lookup_covering;
mod m20261207_000080_link_message_key;
mod m20261207_000090_run_holders;
mod m20261207_000130_job_slices;
mod m20261207_000145_job_progress;
mod m20261207_000200_mime_pending;
mod m20261207_000210_hashed_session_ids;
mod m20261207_000210_timeline_indexes;
mod m20261207_000300_visibility_levels;
mod m20261207_000301_search_fields;
mod m20261207_000310_exclusion_rules;
mod m20261207_000400_connections;
mod m20261207_000410_connection_rules;
mod m20261208_000500_push;
mod m20261208_000510_live;
mod m20261209_000610_reconciliation;
mod m20261210_000700_provider_state;
mod m20261210_000710_write_back;
mod m20261210_000720_references;
mod m20261210_000730_attachment_store;
mod m20261210_000750_webhooks;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_organizations_users::Migration),
            Box::new(m20261121_000002_sessions_throttles::Migration),
            Box::new(m20261121_000003_mail_accounts::Migration),
            Box::new(m20261121_000004_emails::Migration),
            Box::new(m20261121_000005_directory::Migration),
            Box::new(m20261121_000006_links_states::Migration),
            Box::new(m20261121_000007_sync_jobs::Migration),
            Box::new(m20261121_000008_audit::Migration),
            Box::new(m20261121_000009_account_refresh_lock::Migration),
            Box::new(m20261122_000010_listing_marks::Migration),
            Box::new(m20261122_000011_participant_registrable::Migration),
            Box::new(m20261122_000012_link_tombstones::Migration),
            Box::new(m20261122_000021_directory_imports::Migration),
            Box::new(m20261122_000030_email_search::Migration),
            Box::new(m20261203_000040_link_timeline_indexes::Migration),
            Box::new(m20261203_000050_participant_display_index::Migration),
            Box::new(m20261206_000060_timeline_copies::Migration),
            Box::new(m20261207_000070_link_lookup_covering::Migration),
            Box::new(m20261207_000080_link_message_key::Migration),
            Box::new(m20261207_000090_run_holders::Migration),
            Box::new(m20261207_000130_job_slices::Migration),
            Box::new(m20261207_000145_job_progress::Migration),
            Box::new(m20261207_000200_mime_pending::Migration),
            Box::new(m20261207_000210_hashed_session_ids::Migration),
            Box::new(m20261207_000210_timeline_indexes::Migration),
            Box::new(m20261207_000300_visibility_levels::Migration),
            Box::new(m20261207_000301_search_fields::Migration),
            Box::new(m20261207_000310_exclusion_rules::Migration),
            Box::new(m20261207_000400_connections::Migration),
            Box::new(m20261207_000410_connection_rules::Migration),
            Box::new(m20261208_000500_push::Migration),
            Box::new(m20261208_000510_live::Migration),
            Box::new(m20261209_000610_reconciliation::Migration),
            Box::new(m20261210_000700_provider_state::Migration),
            Box::new(m20261210_000710_write_back::Migration),
            Box::new(m20261210_000720_references::Migration),
            Box::new(m20261210_000730_attachment_store::Migration),
            Box::new(m20261210_000750_webhooks::Migration),
        ]
    }
}
