//! Threadline: a self-hosted CRM email timeline.
pub mod accounts;
pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod config_push;
pub mod crypto;
pub mod db;
pub mod directory_sync;
pub mod domain;
pub mod mailboxes;
pub mod providers;
pub mod reassociation;
pub mod secrets;
pub mod sync;
pub mod telemetry;
pub mod web;
