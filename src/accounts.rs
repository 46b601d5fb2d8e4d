//! Account rules shared by the web pages and the command line: first-run setup, sign-in with
//! throttling, and user administration (each change audited).
use std::net::IpAddr;

use chrono::Duration;
use sea_orm::{DatabaseConnection, DbErr};

use crate::db::entities::organizations::Model as Organization;
use crate::db::entities::users::Model as User;
use crate::db::organizations::{self, SetupError};
use crate::db::users::{self, UserError};
use crate::db::{self, audit, session_store, throttle};
use crate::domain::address::EmailAddress;
use crate::domain::password;
use crate::domain::user::{parse_name, Role};
use crate::mailboxes::pausing;

/// Five failures for one account within 15 minutes lock it for 15 minutes.
const ACCOUNT_LIMIT: throttle::Limit = throttle::Limit {
    failures: 5,
    window: Duration::minutes(15),
    lockout: Duration::minutes(15),
};
/// Thirty failures from one client address within 15 minutes lock that address.
const CLIENT_LIMIT: throttle::Limit = throttle::Limit {
    failures: 30,
    window: Duration::minutes(15),
    lockout: Duration::minutes(15),
};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Deliberately vague: wrong address, wrong password, disabled and throttled look alike.
    #[error("sign-in failed")]
    SignInFailed,
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{0}")]
    Refused(&'static str),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

fn invalid(field: &'static str, message: impl Into<String>) -> AccountError {
    AccountError::Invalid {
        field,
        message: message.into(),
    }
}

impl From<UserError> for AccountError {
    fn from(err: UserError) -> Self {
        match err {
            UserError::EmailTaken => invalid("email", "a user with this email address exists"),
            UserError::Db(e) => AccountError::Db(e),
        }
    }
}

/// A new user's validated fields.
pub struct NewUser {
    pub email: EmailAddress,
    pub name: String,
    pub password: String,
}

impl NewUser {
    pub fn parse(email: &str, name: &str, password: &str) -> Result<Self, AccountError> {
        let email = EmailAddress::parse(email).map_err(|e| invalid("email", e.to_string()))?;
        let name = parse_name(name).map_err(|m| invalid("name", m))?;
        password::check_policy(password).map_err(|m| invalid("password", m))?;
        Ok(Self {
            email,
            name,
            password: password.to_string(),
        })
    }
}

async fn hash(password: String) -> Result<String, AccountError> {
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| AccountError::Hash(e.to_string()))?
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// First run: the organization and its first admin, only while no user exists.
pub async fn setup(
    db: &DatabaseConnection,
    organization: &str,
    admin: NewUser,
) -> Result<User, AccountError> {
    let organization = parse_name(organization).map_err(|m| invalid("organization", m))?;
    let hash = hash(admin.password).await?;
    match organizations::create_first(db, &organization, &admin.email, &admin.name, hash).await {
        Ok((_, user)) => Ok(user),
        Err(SetupError::AlreadySetUp) => Err(AccountError::Refused("Threadline is already set up")),
        Err(SetupError::User(e)) => Err(e.into()),
        Err(SetupError::Db(e)) => Err(e.into()),
    }
}

/// A further organization and its first admin (`threadline org create`): allowed at any time,
/// by whoever runs the binary against the database (the platform operator).
pub async fn create_organization(
    db: &DatabaseConnection,
    organization: &str,
    admin: NewUser,
) -> Result<(Organization, User), AccountError> {
    let organization = parse_name(organization).map_err(|m| invalid("organization", m))?;
    let hash = hash(admin.password).await?;
    let created =
        organizations::create_with_admin(db, &organization, &admin.email, &admin.name, hash)
            .await?;
    Ok(created)
}

/// Check a password sign-in, throttled per account and per client address.
pub async fn authenticate(
    db: &DatabaseConnection,
    email: &str,
    password_attempt: &str,
    client: IpAddr,
) -> Result<User, AccountError> {
    let now = db::now();
    let account_key = format!("account:{}", email.trim().to_lowercase());
    let client_key = format!("client:{client}");
    let locked = throttle::is_locked(db, &account_key, now).await?
        || throttle::is_locked(db, &client_key, now).await?;
    let user = match EmailAddress::parse(email) {
        Ok(address) => users::find_by_email(db, &address).await?,
        Err(_) => None,
    };
    // Verify even when there is no such user, so timing does not tell accounts apart.
    let phc = user.as_ref().map_or_else(
        || password::dummy_hash().to_string(),
        |u| u.password_hash.clone(),
    );
    let attempt = password_attempt.to_string();
    let matches = tokio::task::spawn_blocking(move || password::verify(&attempt, &phc))
        .await
        .map_err(|e| AccountError::Hash(e.to_string()))?;
    match user {
        Some(user) if matches && !locked && !user.disabled => {
            throttle::clear(db, &account_key).await?;
            users::touch_login(db, user.id).await?;
            Ok(user)
        }
        _ => {
            throttle::record_failure(db, &account_key, ACCOUNT_LIMIT, now).await?;
            throttle::record_failure(db, &client_key, CLIENT_LIMIT, now).await?;
            Err(AccountError::SignInFailed)
        }
    }
}

/// Create a user in `org_id` (admin page, `threadline user create`).
pub async fn create_user(
    db: &DatabaseConnection,
    org_id: i64,
    actor: Option<i64>,
    new: NewUser,
    role: Role,
) -> Result<User, AccountError> {
    let hash = hash(new.password).await?;
    let txn = crate::db::begin_write(db).await?;
    let user = users::create(&txn, org_id, &new.email, &new.name, role, hash).await?;
    audit::record(
        &txn,
        audit::Entry {
            organization_id: org_id,
            actor_user_id: actor,
            action: "user.create",
            subject_kind: "user",
            subject_id: Some(user.id),
            detail: format!("{} ({role})", user.email),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

/// Change a user's role or disabled flag; an organization always keeps one active admin.
pub async fn update_user(
    db: &DatabaseConnection,
    org_id: i64,
    actor: i64,
    user_id: i64,
    change: UserChange,
) -> Result<User, AccountError> {
    let txn = crate::db::begin_write(db).await?;
    let user = users::find_in_org(&txn, org_id, user_id)
        .await?
        .ok_or(AccountError::NotFound)?;
    let was_active_admin = user.role == Role::Admin && !user.disabled;
    let loses_admin = match change {
        UserChange::Role(role) => role != Role::Admin,
        UserChange::Disabled(disabled) => disabled,
    };
    if was_active_admin && loses_admin && users::count_active_admins(&txn, org_id).await? <= 1 {
        return Err(AccountError::Refused(
            "An organization needs at least one active admin.",
        ));
    }
    let (user, action, detail) = match change {
        UserChange::Role(role) => (
            users::set_role(&txn, user, role).await?,
            "user.role",
            role.to_string(),
        ),
        UserChange::Disabled(disabled) => {
            let action = if disabled {
                // Offboarding: their mailboxes stop syncing at once (a pass already running
                // ends at its slice); re-enabling resumes nothing (see `mailboxes::pausing`).
                pausing::pause_owned_by(&txn, org_id, actor, (user.id, &user.email)).await?;
                "user.disable"
            } else {
                "user.enable"
            };
            (
                users::set_disabled(&txn, user, disabled).await?,
                action,
                String::new(),
            )
        }
    };
    audit::record(
        &txn,
        audit::Entry {
            organization_id: org_id,
            actor_user_id: Some(actor),
            action,
            subject_kind: "user",
            subject_id: Some(user.id),
            detail: format!("{} {detail}", user.email).trim().to_string(),
        },
    )
    .await?;
    txn.commit().await?;
    if user.disabled {
        // A disabled user is signed out everywhere at once.
        session_store::delete_user_sessions(db, user.id, None).await?;
    }
    Ok(user)
}

#[derive(Debug, Clone, Copy)]
pub enum UserChange {
    Role(Role),
    Disabled(bool),
}

/// Change one's own password (the current one is required); every other session of the user
/// is ended, as after any credential change.
pub async fn change_password(
    db: &DatabaseConnection,
    user: &User,
    current: &str,
    new: &str,
    keep_session: &str,
) -> Result<(), AccountError> {
    let phc = user.password_hash.clone();
    let attempt = current.to_string();
    let ok = tokio::task::spawn_blocking(move || password::verify(&attempt, &phc))
        .await
        .map_err(|e| AccountError::Hash(e.to_string()))?;
    if !ok {
        return Err(invalid(
            "current_password",
            "this is not your current password",
        ));
    }
    password::check_policy(new).map_err(|m| invalid("new_password", m))?;
    let hash = hash(new.to_string()).await?;
    let txn = crate::db::begin_write(db).await?;
    users::set_password(&txn, user.id, hash).await?;
    audit::record(
        &txn,
        audit::Entry {
            organization_id: user.organization_id,
            actor_user_id: Some(user.id),
            action: "user.password",
            subject_kind: "user",
            subject_id: Some(user.id),
            detail: user.email.clone(),
        },
    )
    .await?;
    txn.commit().await?;
    session_store::delete_user_sessions(db, user.id, Some(keep_session)).await?;
    Ok(())
}
