//! Contacts created at ingest by the organization's auto-create policy, in the same
//! transaction as the email, so the email's links include them.
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

use crate::db::entities::{contact_addresses, contacts, mail_accounts, organizations};
use crate::domain::address::EmailAddress;
use crate::domain::association::Directory;
use crate::domain::auto_contacts::{contacts_to_create, AutoCreate, Person};
use crate::domain::message::{NormalizedMessage, ParticipantRole};

/// The policy of one organization and the mailbox being synced.
#[derive(Debug, Clone)]
pub struct AutoContacts {
    organization_id: i64,
    policy: AutoCreate,
    mailbox: EmailAddress,
}

impl AutoContacts {
    /// None when the policy is off (or the mailbox address is unreadable).
    pub async fn load(
        db: &impl ConnectionTrait,
        organization_id: i64,
        account_id: i64,
    ) -> Result<Option<Self>, DbErr> {
        let policy = organizations::Entity::find_by_id(organization_id)
            .one(db)
            .await?
            .map(|o| AutoCreate::from_setting(&o.auto_create_contacts))
            .unwrap_or_default();
        if policy == AutoCreate::Off {
            return Ok(None);
        }
        let mailbox = mail_accounts::Entity::find_by_id(account_id)
            .one(db)
            .await?
            .and_then(|a| EmailAddress::parse(&a.address).ok());
        Ok(mailbox.map(|mailbox| Self {
            organization_id,
            policy,
            mailbox,
        }))
    }

    /// Create the contacts this message calls for and add them to `directory`. An address a
    /// concurrent writer took first is left to that writer's contact. The number of addresses
    /// added to `directory`.
    pub async fn apply(
        &self,
        db: &impl ConnectionTrait,
        m: &NormalizedMessage,
        directory: &mut Directory,
    ) -> Result<usize, DbErr> {
        let people: Vec<Person<'_>> = m
            .participants
            .iter()
            .map(|p| Person {
                address: &p.address,
                name: &p.name,
                author: matches!(p.role, ParticipantRole::From | ParticipantRole::Sender),
            })
            .collect();
        let org = self.organization_id;
        let mut added = 0;
        for new in contacts_to_create(self.policy, directory, &self.mailbox, &people) {
            let now = crate::db::now();
            let contact = contacts::ActiveModel {
                organization_id: Set(org),
                business_id: Set(Some(new.business_id)),
                name: Set(new.name.clone()),
                notes: Set(String::new()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
            let inserted = contact_addresses::Entity::insert(contact_addresses::ActiveModel {
                organization_id: Set(org),
                contact_id: Set(contact.id),
                address: Set(new.address.to_string()),
                ..Default::default()
            })
            .on_conflict(
                OnConflict::columns([
                    contact_addresses::Column::OrganizationId,
                    contact_addresses::Column::Address,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
            if inserted == 0 {
                contacts::Entity::delete_by_id(contact.id).exec(db).await?;
                if let Some(owner) = contact_addresses::Entity::find()
                    .filter(contact_addresses::Column::OrganizationId.eq(org))
                    .filter(contact_addresses::Column::Address.eq(new.address.as_str()))
                    .one(db)
                    .await?
                {
                    let business = contacts::Entity::find_by_id(owner.contact_id)
                        .one(db)
                        .await?
                        .and_then(|c| c.business_id);
                    directory.add_contact_address(new.address, owner.contact_id, business);
                    added += 1;
                }
                continue;
            }
            crate::db::audit::record(
                db,
                crate::db::audit::Entry {
                    organization_id: org,
                    actor_user_id: None,
                    action: "contact.auto_create",
                    subject_kind: "contact",
                    subject_id: Some(contact.id),
                    detail: format!("{} <{}>", new.name, new.address),
                },
            )
            .await?;
            directory.add_contact_address(new.address, contact.id, Some(new.business_id));
            added += 1;
        }
        Ok(added)
    }
}
