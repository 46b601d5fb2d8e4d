//! What a connection failure means for the admin: a stable problem code, what is wrong in
//! plain words, and the fix, for Test connection, the page and the CLI alike.
use super::{Connection, ConnectionError, ConnectionKind};
use crate::providers::directory::DirectoryError;

/// What a step was about when it failed.
pub struct Context<'a> {
    kind: Option<ConnectionKind>,
    tenant: &'a str,
    client_id: &'a str,
    /// Google: the service account's numeric client id (what delegation is granted to).
    client_number: &'a str,
    hint: &'a str,
    /// The user or mailbox the step acted on.
    user: Option<&'a str>,
}

impl<'a> Context<'a> {
    pub fn of(conn: &'a Connection, user: Option<&'a str>) -> Self {
        Self {
            kind: ConnectionKind::of(conn),
            tenant: &conn.tenant,
            client_id: &conn.client_id,
            client_number: "",
            hint: &conn.credential_hint,
            user,
        }
    }

    #[must_use]
    pub fn with_client_number(mut self, number: &'a str) -> Self {
        self.client_number = number;
        self
    }

    fn user(&self) -> &str {
        self.user.unwrap_or("the user")
    }

    fn delegation_client(&self) -> &str {
        if self.client_number.is_empty() {
            self.client_id
        } else {
            self.client_number
        }
    }
}

pub struct Advice {
    pub problem: &'static str,
    pub detail: String,
    pub fix: String,
}

fn advice(problem: &'static str, detail: String, fix: String) -> Advice {
    Advice {
        problem,
        detail,
        fix,
    }
}

/// The problem, in words, and the fix.
pub fn advise(err: &ConnectionError, ctx: &Context<'_>) -> Advice {
    use ConnectionError as E;
    let user = ctx.user();
    match err {
        E::BadSecret(_) => advice(
            "bad_secret",
            format!("Microsoft refused the client secret ({}).", ctx.hint),
            format!(
                "In the Entra admin center › App registrations › the app {} › Certificates & \
                 secrets, copy the secret's Value (not its Secret ID), or create a new one; \
                 then remove this connection and add it again with it. A certificate is \
                 preferred over a secret.",
                ctx.client_id
            ),
        ),
        E::SecretExpired(_) => advice(
            "secret_expired",
            format!("The client secret has expired ({}).", ctx.hint),
            "Create a new client secret (or better, upload a certificate) in the app \
             registration's Certificates & secrets, then add the connection again with it."
                .into(),
        ),
        E::CertificateRejected(_) => advice(
            "certificate_rejected",
            format!(
                "Microsoft does not accept the certificate ({}): it is not registered on the \
                 app, or the private key does not match it.",
                ctx.hint
            ),
            format!(
                "Upload the certificate's public part (.cer/.pem) to the app {} › \
                 Certificates & secrets › Certificates, or add the connection with the \
                 certificate and key that are registered there.",
                ctx.client_id
            ),
        ),
        E::CertificateExpired(_) => advice(
            "certificate_expired",
            format!(
                "The certificate is outside its validity period ({}).",
                ctx.hint
            ),
            "Create a new certificate, upload its public part to the app registration's \
             Certificates & secrets, and add the connection again with the new certificate \
             and key."
                .into(),
        ),
        E::ClockSkew(_) => advice(
            "clock_skew",
            "The provider refused the signed assertion's times.".into(),
            "This server's clock is wrong: synchronise it (NTP) and test again.".into(),
        ),
        E::AppNotInTenant(_) => advice(
            "app_not_in_tenant",
            format!(
                "The application {} is not registered in the tenant {}.",
                ctx.client_id, ctx.tenant
            ),
            "Check the tenant id and the application (client) id. For an app registered in \
             another tenant, an administrator of this tenant must first grant admin consent \
             (Grant admin consent)."
                .into(),
        ),
        E::TenantNotFound(_) => advice(
            "tenant_not_found",
            format!("Microsoft has no tenant {}.", ctx.tenant),
            "Use the Directory (tenant) ID shown on the app registration's Overview, or a \
             verified domain of the tenant."
                .into(),
        ),
        E::ConsentMissing(_) => advice(
            "consent_missing",
            "The app got a token, but the tenant has not granted it any application \
             permission: admin consent is missing."
                .into(),
            "Click Grant admin consent (an administrator of the tenant signs in and accepts), \
             or in the Entra admin center › the app › API permissions, add the Application \
             permissions User.Read.All, Mail.Read and GroupMember.Read.All and click Grant \
             admin consent."
                .into(),
        ),
        E::DelegationNotGranted { scopes, .. } => advice(
            "delegation_not_granted",
            format!("Domain-wide delegation is not granted to this service account for {scopes}."),
            format!(
                "In the Google Admin console › Security › Access and data control › API \
                 controls › Manage Domain Wide Delegation, add (or edit) client ID {} with \
                 the scopes {} and {}.",
                ctx.delegation_client(),
                super::GMAIL_READONLY,
                super::DIRECTORY_USER_READONLY
            ),
        ),
        E::UnknownUser(_) => advice(
            "unknown_user",
            format!("{user} is not a user of this organization's directory."),
            "Check the address (a typo, a renamed or deleted user), or choose another mailbox."
                .into(),
        ),
        E::UserSuspended(_) => advice(
            "user_suspended",
            format!("{user} is suspended, so it cannot be impersonated."),
            "Restore the user in the Admin console › Directory › Users, or leave this \
             mailbox out."
                .into(),
        ),
        E::KeyRejected(_) => advice(
            "key_rejected",
            format!(
                "Google does not accept the service account key ({}).",
                ctx.hint
            ),
            "The key was deleted or the service account removed: create a new JSON key for \
             the service account in the Google Cloud console and add the connection again \
             with it."
                .into(),
        ),
        E::MailboxNotEnabled(_) => match ctx.kind {
            Some(ConnectionKind::GoogleWorkspace) => advice(
                "mailbox_not_enabled",
                format!("{user} has no Gmail mailbox (Gmail is not enabled for this user)."),
                "Turn Gmail on for the user (licence or organizational unit's service \
                 status), or leave this user out."
                    .into(),
            ),
            _ => advice(
                "mailbox_not_enabled",
                format!(
                    "{user} has no Exchange Online mailbox (unlicensed, inactive, \
                     soft-deleted or hosted on-premises)."
                ),
                "Assign a licence that includes Exchange Online, or leave this user out.".into(),
            ),
        },
        E::MailboxAccessDenied(_) => advice(
            "mailbox_access_denied",
            format!("The tenant does not let this app read {user}'s mailbox."),
            "The mailbox is outside the app's allowed scope (Exchange Online RBAC for \
             Applications or an application access policy), or the Mail.Read application \
             permission is not granted: add the mailbox to the app's management scope, or \
             leave it out."
                .into(),
        ),
        E::Directory(DirectoryError::InsufficientPrivileges(_)) => advice(
            "not_directory_admin",
            format!("The directory refused to list users as {user}."),
            "Use the address of a Workspace super administrator (or an admin role that may \
             read users) as the directory administrator, and grant the service account the \
             admin.directory.user.readonly scope."
                .into(),
        ),
        E::Transient(_) | E::Busy => advice(
            "provider_unavailable",
            "The provider did not answer in time or was busy.".into(),
            "Nothing to change: test again in a minute.".into(),
        ),
        E::Directory(e) if e.is_transient() => advice(
            "provider_unavailable",
            "The provider did not answer in time or was busy.".into(),
            "Nothing to change: test again in a minute.".into(),
        ),
        E::Key(e) => advice(
            "credential_unusable",
            format!("The stored certificate or key cannot be used: {e}."),
            "Add the connection again with a valid certificate or key.".into(),
        ),
        other => advice(
            "refused",
            format!("The provider refused: {other}."),
            "Check the connection's settings at the provider; the provider's answer is \
             shown below."
                .into(),
        ),
    }
}
