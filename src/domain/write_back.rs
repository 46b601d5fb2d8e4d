//! Write-back of the reader's marks to the mailbox (pure rules): which scopes allow it, whether
//! a mailbox writes back, and what a wanted state becomes on each provider's wire.
use super::provider::Provider;

/// Gmail's scope that lets an app change labels (UNREAD, STARRED) without deleting mail.
pub const GMAIL_MODIFY: &str = "https://www.googleapis.com/auth/gmail.modify";
/// Gmail's full scope: also allows label changes (never requested by Threadline).
pub const GMAIL_FULL: &str = "https://mail.google.com/";
/// Microsoft Graph's delegated permission to change messages (isRead, flag).
pub const MAIL_READ_WRITE: &str = "Mail.ReadWrite";

/// The scope a mailbox's grant needs so its marks can be written back.
pub fn write_scope(provider: Provider) -> &'static str {
    match provider {
        Provider::Google => GMAIL_MODIFY,
        Provider::Microsoft => MAIL_READ_WRITE,
    }
}

/// Whether the scopes granted (space-separated, as stored) let Threadline change messages.
pub fn can_write(provider: Provider, granted: &str) -> bool {
    granted.split_whitespace().any(|g| match provider {
        Provider::Google => g == GMAIL_MODIFY || g == GMAIL_FULL,
        Provider::Microsoft => g
            .strip_prefix("https://graph.microsoft.com/")
            .unwrap_or(g)
            .eq_ignore_ascii_case(MAIL_READ_WRITE),
    })
}

/// Whether a mailbox writes its owner's marks back, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eligibility {
    /// Marks are written back.
    On,
    /// The mailbox's own switch is off.
    MailboxOff,
    /// The organization has not allowed write-back.
    OrgOff,
    /// The grant is read-only: reconnecting with write access would allow it.
    ReadOnly,
    /// The mailbox syncs through an organization connection, whose permissions are read-only.
    OrgConnection,
}

/// What a mailbox's settings and grant add up to.
pub struct Facts<'a> {
    pub provider: Provider,
    pub granted_scopes: &'a str,
    pub org_allows: bool,
    pub mailbox_on: bool,
    pub via_connection: bool,
}

pub fn eligibility(f: &Facts<'_>) -> Eligibility {
    if f.via_connection {
        Eligibility::OrgConnection
    } else if !can_write(f.provider, f.granted_scopes) {
        Eligibility::ReadOnly
    } else if !f.org_allows {
        Eligibility::OrgOff
    } else if !f.mailbox_on {
        Eligibility::MailboxOff
    } else {
        Eligibility::On
    }
}

/// Gmail's batchModify change for a wanted state: `(addLabelIds, removeLabelIds)`.
pub fn gmail_labels(
    read: Option<bool>,
    starred: Option<bool>,
) -> (Vec<&'static str>, Vec<&'static str>) {
    let (mut add, mut remove) = (Vec::new(), Vec::new());
    match read {
        Some(true) => remove.push("UNREAD"),
        Some(false) => add.push("UNREAD"),
        None => {}
    }
    match starred {
        Some(true) => add.push("STARRED"),
        Some(false) => remove.push("STARRED"),
        None => {}
    }
    (add, remove)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_that_allow_writing() {
        let read_only = "openid email https://www.googleapis.com/auth/gmail.readonly";
        assert!(!can_write(Provider::Google, read_only));
        assert!(can_write(
            Provider::Google,
            &format!("{read_only} {GMAIL_MODIFY}")
        ));
        assert!(can_write(Provider::Google, GMAIL_FULL));
        assert!(!can_write(
            Provider::Microsoft,
            "openid User.Read Mail.Read"
        ));
        assert!(can_write(
            Provider::Microsoft,
            "User.Read https://graph.microsoft.com/Mail.ReadWrite"
        ));
        assert!(!can_write(Provider::Microsoft, "Mail.ReadWrite.Shared2"));
    }

    #[test]
    fn eligibility_names_the_first_obstacle() {
        let f = |scopes, org_allows, mailbox_on, via_connection| Facts {
            provider: Provider::Google,
            granted_scopes: scopes,
            org_allows,
            mailbox_on,
            via_connection,
        };
        assert_eq!(
            eligibility(&f(GMAIL_MODIFY, true, true, true)),
            Eligibility::OrgConnection
        );
        assert_eq!(
            eligibility(&f("email", true, true, false)),
            Eligibility::ReadOnly
        );
        assert_eq!(
            eligibility(&f(GMAIL_MODIFY, false, true, false)),
            Eligibility::OrgOff
        );
        assert_eq!(
            eligibility(&f(GMAIL_MODIFY, true, false, false)),
            Eligibility::MailboxOff
        );
        assert_eq!(
            eligibility(&f(GMAIL_MODIFY, true, true, false)),
            Eligibility::On
        );
    }

    #[test]
    fn gmail_labels_follow_the_wanted_state() {
        assert_eq!(gmail_labels(Some(true), None), (vec![], vec!["UNREAD"]));
        assert_eq!(
            gmail_labels(Some(false), Some(true)),
            (vec!["UNREAD", "STARRED"], vec![])
        );
        assert_eq!(gmail_labels(None, Some(false)), (vec![], vec!["STARRED"]));
    }
}
