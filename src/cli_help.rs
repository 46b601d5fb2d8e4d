//! Parsing the command line the way an operator reads it: the settings (about 30 of them, all
//! global flags backed by environment variables) are listed once, by `threadline --help` and
//! `threadline serve --help`, while every other command's `--help` shows its own options and a
//! pointer; and the environment files (`.env`, `--demo`, `THREADLINE_ENV_FILE`) are read before
//! the flags are resolved, since clap reads each setting's variable while it parses.
use clap::{ArgMatches, Command, FromArgMatches as _};

use crate::cli::{SettingsArgs, SETTINGS_HEADING};

/// Commands whose help lists the settings (`threadline` alone is `serve`).
const LISTS_SETTINGS: &[&str] = &["serve"];

const POINTER: &str = "Settings (DATABASE_URL, THREADLINE_DATA_DIR, the OAuth clients, provider \
URLs, ...) come from the environment or a .env file and apply to every command; `threadline \
--help` lists them. `--demo` runs the command against the demo's database and emulator.";

/// Parse the process's arguments: read `.env` (the environment wins over it), then the file of
/// `--demo` or `THREADLINE_ENV_FILE` (it wins over the environment), building the command
/// afresh after each: clap reads each setting's variable when the command is built.
/// `--help`, `--version` and usage errors exit here, as clap does.
pub fn matches(build: impl Fn() -> Command) -> anyhow::Result<ArgMatches> {
    let _ = dotenvy::dotenv();
    let first = shape(build()).get_matches();
    let settings = SettingsArgs::from_arg_matches(&first).unwrap_or_else(|e| e.exit());
    if settings.demo && first.subcommand_name() == Some("demo") {
        anyhow::bail!(
            "--demo runs a command against a running or stopped demo; start the demo itself \
             with `threadline demo`"
        );
    }
    match crate::env_file::chosen(&settings)? {
        None => Ok(first),
        Some(path) => {
            crate::env_file::load(&path)?;
            Ok(shape(build()).get_matches())
        }
    }
}

/// The command with its settings hidden from every subcommand's help but `serve`'s, and a
/// pointer to them in their place. Hidden arguments still parse. No help shows the value of a
/// variable (clap would, for settings not marked as secret).
pub fn shape(mut cmd: Command) -> Command {
    // Propagates the global settings into every subcommand, so they can be hidden there.
    cmd.build();
    cmd = cmd.mut_args(|arg| arg.hide_env_values(true));
    for sub in cmd.get_subcommands_mut() {
        if LISTS_SETTINGS.contains(&sub.get_name()) {
            let taken = std::mem::take(sub);
            *sub = taken.mut_args(|arg| arg.hide_env_values(true));
        } else {
            hide_settings(sub);
        }
    }
    cmd
}

fn hide_settings(cmd: &mut Command) {
    let taken = std::mem::take(cmd);
    let mut shaped = taken.mut_args(|arg| {
        let arg = arg.hide_env_values(true);
        if arg.get_help_heading() == Some(SETTINGS_HEADING) {
            arg.hide(true)
        } else {
            arg
        }
    });
    if shaped.get_after_help().is_none() && shaped.get_name() != "help" {
        shaped = shaped.after_help(POINTER);
    }
    *cmd = shaped;
    for sub in cmd.get_subcommands_mut() {
        hide_settings(sub);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    fn help(cmd: &mut Command, path: &[&str]) -> String {
        let mut cmd = cmd;
        for name in path {
            cmd = cmd.find_subcommand_mut(name).expect("a subcommand");
        }
        cmd.render_long_help().to_string()
    }

    #[test]
    fn settings_are_listed_by_the_root_and_serve_only() {
        let mut cmd = shape(crate::cli::Cli::command());
        for path in [&[][..], &["serve"]] {
            let text = help(&mut cmd, path);
            assert!(text.contains("GOOGLE_CLIENT_SECRET"), "{path:?}: {text}");
            assert!(text.contains(SETTINGS_HEADING), "{path:?}: {text}");
        }
        for path in [
            &["sync"][..],
            &["stats"],
            &["tenant", "add"],
            &["directory", "sync"],
        ] {
            let text = help(&mut cmd, path);
            assert!(!text.contains("GOOGLE_CLIENT_SECRET"), "{path:?}: {text}");
            assert!(!text.contains("--gmail-api-url"), "{path:?}: {text}");
            assert!(text.contains("threadline --help"), "{path:?}: {text}");
            assert!(text.contains("--demo"), "{path:?}: {text}");
        }
        let sync = help(&mut cmd, &["sync"]);
        assert!(
            sync.contains("--account") && sync.contains("--since"),
            "{sync}"
        );
    }

    #[test]
    fn hidden_settings_still_parse_after_a_subcommand() {
        let cmd = shape(crate::cli::Cli::command());
        let matches = cmd
            .try_get_matches_from(["threadline", "stats", "--database-url", "sqlite://x.db"])
            .unwrap();
        let settings = SettingsArgs::from_arg_matches(&matches).unwrap();
        assert_eq!(settings.database_url.as_deref(), Some("sqlite://x.db"));
    }
}
