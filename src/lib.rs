//! Threadline: a self-hosted CRM email timeline.
pub mod accounts;
pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod domain;
pub mod emulator;
pub mod secrets;
pub mod telemetry;
pub mod web;
