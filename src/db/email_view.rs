//! One stored email as a reader sees it: headers, participants, the businesses and contacts it
//! is linked to and why, attachments and bodies. Access: an email is visible to a member of its
//! organization when it sits in one of their own mailboxes or is linked (not tombstoned) to a
//! business or contact, at the visibility level of its mailbox (`super::visibility`);
//! otherwise it does not exist for them (callers answer 404). What the level hides is never
//! loaded: below `subject` no subject, below `full` no snippet, body or attachments.
use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use crate::domain::reassociation::Source;
use crate::domain::visibility::Level;

use super::entities::{
    attachments, businesses, contact_addresses, contacts, email_bodies, email_links,
    email_participants, emails, mail_accounts,
};

/// A link of the email, resolved to the record's name.
#[derive(Debug, Clone)]
pub struct LinkedRecord {
    pub link_id: i64,
    pub kind: &'static str,
    pub record_id: i64,
    pub name: String,
    pub reason: String,
    pub manual: bool,
}

#[derive(Debug, Clone)]
pub struct EmailDetail {
    pub email: emails::Model,
    pub mailbox: String,
    /// The mailbox's provider (which the email page names for mail deleted there).
    pub provider: crate::domain::provider::Provider,
    pub own_mailbox: bool,
    pub participants: Vec<email_participants::Model>,
    /// Participant address -> the contact that owns it: `(contact id, name)`.
    pub contacts_by_address: HashMap<String, (i64, String)>,
    pub links: Vec<LinkedRecord>,
    pub attachments: Vec<attachments::Model>,
    pub body: Option<email_bodies::Model>,
    /// Stored before its MIME text, which is still being fetched (`super::mime_pending`).
    pub body_pending: bool,
    /// The level the reader sees it at (`Full` for their own mail).
    pub level: Level,
}

/// The email `email_id` of organization `org_id` if `user_id` may read it (at any level).
pub async fn visible_email(
    db: &impl ConnectionTrait,
    org_id: i64,
    user_id: i64,
    email_id: i64,
) -> Result<Option<(emails::Model, mail_accounts::Model)>, DbErr> {
    Ok(visible_email_at(db, org_id, user_id, email_id)
        .await?
        .map(|(e, a, _)| (e, a)))
}

/// [`visible_email`] with the level the reader sees it at.
pub async fn visible_email_at(
    db: &impl ConnectionTrait,
    org_id: i64,
    user_id: i64,
    email_id: i64,
) -> Result<Option<(emails::Model, mail_accounts::Model, Level)>, DbErr> {
    let Some(email) = emails::Entity::find_by_id(email_id)
        .filter(emails::Column::OrganizationId.eq(org_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(account) = mail_accounts::Entity::find_by_id(email.account_id)
        .filter(mail_accounts::Column::OrganizationId.eq(org_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if super::visibility::reads_as_owner_id(db, &account, user_id).await? {
        return Ok(Some((email, account, Level::Full)));
    }
    let level = super::visibility::email_level(db, org_id, user_id, email_id).await?;
    Ok(level.map(|l| (email, account, l)))
}

/// Everything the email page shows, or None when the user may not see the email.
pub async fn load(
    db: &impl ConnectionTrait,
    org_id: i64,
    user_id: i64,
    email_id: i64,
) -> Result<Option<EmailDetail>, DbErr> {
    let Some((mut email, account, level)) = visible_email_at(db, org_id, user_id, email_id).await?
    else {
        return Ok(None);
    };
    if !level.shows_subject() {
        email.subject.clear();
    }
    if !level.shows_body() {
        email.snippet.clear();
        email.folders = crate::domain::stored::Folders::default();
    }
    let participants = email_participants::Entity::find()
        .filter(email_participants::Column::OrganizationId.eq(org_id))
        .filter(email_participants::Column::EmailId.eq(email_id))
        .order_by_asc(email_participants::Column::Id)
        .all(db)
        .await?;
    let addresses: Vec<String> = participants.iter().map(|p| p.address.clone()).collect();
    let mut contacts_by_address = HashMap::new();
    for owned in contact_addresses::Entity::find()
        .filter(contact_addresses::Column::OrganizationId.eq(org_id))
        .filter(contact_addresses::Column::Address.is_in(addresses))
        .all(db)
        .await?
    {
        if let Some(c) = contacts::Entity::find_by_id(owned.contact_id)
            .filter(contacts::Column::OrganizationId.eq(org_id))
            .one(db)
            .await?
        {
            contacts_by_address.insert(owned.address, (c.id, c.name));
        }
    }
    let links = links(db, org_id, email_id).await?;
    let (attachments, body, body_pending) = if level.shows_body() {
        (
            attachments_of(db, org_id, email_id).await?,
            email_bodies::Entity::find_by_id(email_id)
                .filter(email_bodies::Column::OrganizationId.eq(org_id))
                .one(db)
                .await?,
            super::mime_pending::is_pending(db, email_id).await?,
        )
    } else {
        (Vec::new(), None, false)
    };
    Ok(Some(EmailDetail {
        own_mailbox: account.owner_user_id == Some(user_id),
        provider: account.provider,
        mailbox: account.address,
        email,
        participants,
        contacts_by_address,
        links,
        attachments,
        body,
        body_pending,
        level,
    }))
}

/// The attachment metadata of an email of the organization, in stored order. The caller checks
/// that the reader may see the email.
pub async fn attachments_of(
    db: &impl ConnectionTrait,
    org_id: i64,
    email_id: i64,
) -> Result<Vec<attachments::Model>, DbErr> {
    attachments::Entity::find()
        .filter(attachments::Column::OrganizationId.eq(org_id))
        .filter(attachments::Column::EmailId.eq(email_id))
        .order_by_asc(attachments::Column::Id)
        .all(db)
        .await
}

/// The live links of an email of the organization, each resolved to its record's name, in the
/// order they were made. The caller checks that the reader may see the email.
pub async fn links(
    db: &impl ConnectionTrait,
    org_id: i64,
    email_id: i64,
) -> Result<Vec<LinkedRecord>, DbErr> {
    let rows = email_links::Entity::find()
        .filter(email_links::Column::OrganizationId.eq(org_id))
        .filter(email_links::Column::EmailId.eq(email_id))
        .filter(email_links::Column::Tombstone.eq(false))
        .order_by_asc(email_links::Column::Id)
        .all(db)
        .await?;
    let mut links = Vec::with_capacity(rows.len());
    for link in rows {
        let resolved = match (link.business_id, link.contact_id) {
            (Some(id), _) => businesses::Entity::find_by_id(id)
                .filter(businesses::Column::OrganizationId.eq(org_id))
                .one(db)
                .await?
                .map(|b| ("business", b.id, b.name)),
            (None, Some(id)) => contacts::Entity::find_by_id(id)
                .filter(contacts::Column::OrganizationId.eq(org_id))
                .one(db)
                .await?
                .map(|c| ("contact", c.id, c.name)),
            (None, None) => None,
        };
        if let Some((kind, record_id, name)) = resolved {
            links.push(LinkedRecord {
                link_id: link.id,
                kind,
                record_id,
                name,
                manual: link.source == Source::Manual,
                reason: link.reason.as_str().to_string(),
            });
        }
    }
    Ok(links)
}
