//! Black-box tests of the web app through the real router, on SQLite by default and on
//! PostgreSQL when `TEST_DATABASE_URL` is set.
/// The benchmark's bulk seeding of stored mail (tooling, not product code), shared as one file.
#[path = "../../src/tools/bench/seed.rs"]
mod seed;
#[path = "../support/mod.rs"]
mod support;

mod account;
mod admin;
mod assets;
mod auth;
mod cli;
mod connections;
mod connections_cli;
mod connections_fixtures;
mod connections_web;
mod csrf;
mod data_files;
mod directory;
mod directory_csv;
mod directory_lists;
mod directory_load;
mod directory_sync;
mod directory_sync_apply;
mod email_view;
mod exclusions;
mod isolation;
mod isolation_pages;
mod isolation_world;
mod jobs;
mod link_typeahead;
mod live;
mod mailbox_console;
mod mailbox_console_actions;
mod mailbox_fixtures;
mod mailbox_lifecycle;
mod mailbox_sync;
mod mailboxes;
mod mark_read;
mod metrics;
mod metrics_scrape;
mod offboarding;
mod org_cli;
mod page_reads;
mod provider_state;
mod push_state;
mod readiness;
mod redirects;
mod relink;
mod relink_db;
mod sessions;
mod settings;
mod timeline;
mod timeline_paging;
mod timeline_search;
mod unmatched;
mod upgrades;
mod visibility;
mod visibility_copies;
mod visibility_counts;
mod visibility_policy;
mod visibility_props;
mod visibility_world;
