//! The attachment policy as stored: the organization's storage mode and size limit
//! (`organizations`), a mailbox's own limit (`mail_accounts.attachment_limit_bytes`). Each
//! change is audited.
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::audit;
use super::entities::{mail_accounts, organizations};
use crate::domain::attachments::{as_mb, effective, Policy, Storage};

fn bytes(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn stored(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The organization's policy (the defaults for an unknown organization).
pub async fn policy(db: &impl ConnectionTrait, organization_id: i64) -> Result<Policy, DbErr> {
    Ok(organizations::Entity::find_by_id(organization_id)
        .one(db)
        .await?
        .map(|o| Policy {
            storage: Storage::parse(&o.attachment_storage).unwrap_or_default(),
            limit_bytes: bytes(o.attachment_limit_bytes),
        })
        .unwrap_or_default())
}

/// What applies to mailbox `account_id` of the organization: its storage and limit.
pub async fn for_mailbox(
    db: &impl ConnectionTrait,
    organization_id: i64,
    account_id: i64,
) -> Result<Policy, DbErr> {
    let org = policy(db, organization_id).await?;
    let own = mailbox_limit(db, organization_id, account_id).await?;
    Ok(effective(org, own))
}

/// The mailbox's own limit, if it has one.
pub async fn mailbox_limit(
    db: &impl ConnectionTrait,
    organization_id: i64,
    account_id: i64,
) -> Result<Option<u64>, DbErr> {
    Ok(mail_accounts::Entity::find_by_id(account_id)
        .filter(mail_accounts::Column::OrganizationId.eq(organization_id))
        .one(db)
        .await?
        .and_then(|a| a.attachment_limit_bytes)
        .map(bytes))
}

/// Save the organization's policy.
pub async fn save_policy(
    db: &impl ConnectionTrait,
    organization_id: i64,
    actor: i64,
    policy: Policy,
) -> Result<(), DbErr> {
    organizations::Entity::update_many()
        .filter(organizations::Column::Id.eq(organization_id))
        .set(organizations::ActiveModel {
            attachment_storage: Set(policy.storage.as_str().to_string()),
            attachment_limit_bytes: Set(stored(policy.limit_bytes)),
            ..Default::default()
        })
        .exec(db)
        .await?;
    let detail = format!(
        "storage {}, limit {} MB",
        policy.storage,
        as_mb(policy.limit_bytes)
    );
    let entry = audit::Entry::by_user(
        organization_id,
        actor,
        "settings.attachments",
        "organization",
        organization_id,
        detail,
    );
    audit::record(db, entry).await
}

/// Save mailbox `account_id`'s own limit (None: the organization's).
pub async fn save_mailbox_limit(
    db: &impl ConnectionTrait,
    organization_id: i64,
    actor: i64,
    account_id: i64,
    limit: Option<u64>,
) -> Result<(), DbErr> {
    mail_accounts::Entity::update_many()
        .filter(mail_accounts::Column::Id.eq(account_id))
        .filter(mail_accounts::Column::OrganizationId.eq(organization_id))
        .set(mail_accounts::ActiveModel {
            attachment_limit_bytes: Set(limit.map(stored)),
            ..Default::default()
        })
        .exec(db)
        .await?;
    let detail = limit.map_or_else(
        || "attachment limit: the organization's".to_string(),
        |l| format!("attachment limit {} MB", as_mb(l)),
    );
    let entry = audit::Entry::by_user(
        organization_id,
        actor,
        "mailbox.attachment_limit",
        "mail_account",
        account_id,
        detail,
    );
    audit::record(db, entry).await
}
