//! Threadline: a self-hosted CRM email timeline.
pub mod cli;
pub mod commands;
pub mod emulator;
