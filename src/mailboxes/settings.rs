//! A mailbox's own sync settings: how often it syncs, from which date, which folders (Gmail
//! label ids or Outlook folder names). Stored as JSON in `mail_accounts.sync_settings`
//! (`{"since":"YYYY-MM-DD","labels":[..]}`, read as [`SyncSettings`]) and `sync_interval_secs`;
//! parsed from the settings form here, so the page only extracts and renders.
use chrono::NaiveDate;
use serde::Deserialize;

pub use crate::domain::stored::SyncSettings;
use crate::providers::Provider;

/// Choices offered for the interval, in minutes.
pub const INTERVALS: [(i32, &str); 7] = [
    (1, "minute"),
    (5, "5 minutes"),
    (15, "15 minutes"),
    (30, "30 minutes"),
    (60, "hour"),
    (240, "4 hours"),
    (1440, "day"),
];
pub const DEFAULT_INTERVAL_MINUTES: i32 = 5;
const MAX_FOLDERS: usize = 50;
const MAX_FOLDER_LEN: usize = 200;

/// The form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub interval_minutes: String,
    #[serde(default)]
    pub since: String,
    #[serde(default)]
    pub folders: String,
}

impl SettingsForm {
    pub fn from_stored(settings: &SyncSettings, interval_secs: i32) -> Self {
        Self {
            interval_minutes: (interval_secs / 60).max(1).to_string(),
            since: settings.since.map(|d| d.to_string()).unwrap_or_default(),
            folders: settings.labels.join(", "),
        }
    }
}

/// A field the form got wrong, and what to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

/// Validated settings: what to store and the interval in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated {
    pub settings: SyncSettings,
    pub interval_secs: i32,
}

/// Folders that are never synced, whatever the settings say.
fn never_synced(provider: Provider, folder: &str) -> bool {
    match provider {
        Provider::Google => crate::providers::gmail::NEVER_SYNCED
            .iter()
            .any(|l| l.eq_ignore_ascii_case(folder)),
        Provider::Microsoft => ["junkemail", "junk email", "deleteditems", "deleted items"]
            .iter()
            .any(|l| l.eq_ignore_ascii_case(folder)),
    }
}

/// Check the form against `today`; every problem is reported, not just the first.
pub fn validate(
    form: &SettingsForm,
    provider: Provider,
    today: NaiveDate,
) -> Result<Validated, Vec<Invalid>> {
    let mut problems = Vec::new();
    let mut bad = |field, message: String| problems.push(Invalid { field, message });
    let interval = form.interval_minutes.trim().parse::<i32>().ok();
    let interval = match interval {
        Some(m) if INTERVALS.iter().any(|(v, _)| *v == m) => m,
        _ => {
            bad(
                "interval_minutes",
                "Choose one of the offered intervals.".into(),
            );
            DEFAULT_INTERVAL_MINUTES
        }
    };
    let since = match form.since.trim() {
        "" => None,
        s => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) if d > today => {
                bad("since", "The start date cannot be in the future.".into());
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                bad("since", "Enter a date as YYYY-MM-DD.".into());
                None
            }
        },
    };
    let mut labels: Vec<String> = Vec::new();
    for folder in form.folders.split([',', '\n']).map(str::trim) {
        if folder.is_empty() || labels.iter().any(|l| l == folder) {
            continue;
        }
        if folder.len() > MAX_FOLDER_LEN || folder.chars().any(char::is_control) {
            bad(
                "folders",
                format!("“{}…” is not a folder name.", trunc(folder)),
            );
        } else if never_synced(provider, folder) {
            bad(
                "folders",
                format!("{folder} is never synced (spam and trash stay out)."),
            );
        } else {
            labels.push(folder.to_string());
        }
    }
    if labels.len() > MAX_FOLDERS {
        bad("folders", format!("At most {MAX_FOLDERS} folders."));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Validated {
        settings: SyncSettings { since, labels },
        interval_secs: interval * 60,
    })
}

fn trunc(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(interval: &str, since: &str, folders: &str) -> SettingsForm {
        SettingsForm {
            interval_minutes: interval.into(),
            since: since.into(),
            folders: folders.into(),
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    #[test]
    fn valid_settings_round_trip_through_json() {
        let v = validate(
            &form("15", "2025-01-31", "INBOX, SENT,,Label_7, INBOX"),
            Provider::Google,
            today(),
        )
        .unwrap();
        assert_eq!(v.interval_secs, 900);
        assert_eq!(v.settings.labels, ["INBOX", "SENT", "Label_7"]);
        assert_eq!(SyncSettings::parse(&v.settings.to_json()), v.settings);
        let back = SettingsForm::from_stored(&v.settings, v.interval_secs);
        assert_eq!(back.folders, "INBOX, SENT, Label_7");
        assert_eq!(back.since, "2025-01-31");
    }

    #[test]
    fn every_problem_is_reported() {
        let errs = validate(
            &form("7", "2027-01-01", "INBOX, spam"),
            Provider::Google,
            today(),
        )
        .unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["interval_minutes", "since", "folders"]);
        let errs = validate(&form("5", "31/01/2025", ""), Provider::Google, today()).unwrap_err();
        assert_eq!(errs[0].message, "Enter a date as YYYY-MM-DD.");
        let errs = validate(
            &form("5", "", "Deleted Items"),
            Provider::Microsoft,
            today(),
        )
        .unwrap_err();
        assert_eq!(errs[0].field, "folders");
    }

    #[test]
    fn empty_settings_mean_defaults() {
        let v = validate(&form("5", "", ""), Provider::Microsoft, today()).unwrap();
        assert_eq!(v.settings, SyncSettings::default());
        assert_eq!(v.settings.to_json(), "{}");
        assert_eq!(SyncSettings::parse("not json"), SyncSettings::default());
    }
}
