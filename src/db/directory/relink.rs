//! Stored mail linked to businesses or contacts just created by an import or a triage. The
//! general re-association does the work ([`crate::reassociation::relink`]): the records'
//! domains and addresses give the scope (indexed participant lookups), the pure engine decides
//! against the saved directory, manual links and tombstones are left alone. Returned: the ids
//! of the emails that are now linked to one of the records.
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use crate::db::entities::{business_domains, contact_addresses, email_links};
use crate::db::links::Scope;

/// Link the organization's stored mail from the business's domains (and their subdomains).
pub async fn link_existing_mail_for_new_business(
    db: &impl ConnectionTrait,
    org_id: i64,
    business_id: i64,
) -> Result<Vec<i64>, DbErr> {
    link_existing_mail_for_new_businesses(db, org_id, &[business_id]).await
}

/// [`link_existing_mail_for_new_business`] for several businesses (an import).
pub async fn link_existing_mail_for_new_businesses(
    db: &impl ConnectionTrait,
    org_id: i64,
    business_ids: &[i64],
) -> Result<Vec<i64>, DbErr> {
    let mut scope = Scope::default();
    for ids in business_ids.chunks(500) {
        for d in business_domains::Entity::find()
            .filter(business_domains::Column::OrganizationId.eq(org_id))
            .filter(business_domains::Column::BusinessId.is_in(ids.iter().copied()))
            .all(db)
            .await?
        {
            scope.add_domain(&d.domain);
        }
    }
    let emails = crate::reassociation::relink(db, org_id, &scope).await?;
    linked_to(
        db,
        org_id,
        &emails,
        email_links::Column::BusinessId,
        business_ids,
    )
    .await
}

/// Link the organization's stored mail from the contact's addresses (and to its business).
pub async fn link_existing_mail_for_new_contact(
    db: &impl ConnectionTrait,
    org_id: i64,
    contact_id: i64,
    business_id: Option<i64>,
) -> Result<Vec<i64>, DbErr> {
    link_existing_mail_for_new_contacts(db, org_id, &[(contact_id, business_id)]).await
}

/// [`link_existing_mail_for_new_contact`] for several `(contact, business)` (an import).
pub async fn link_existing_mail_for_new_contacts(
    db: &impl ConnectionTrait,
    org_id: i64,
    contacts: &[(i64, Option<i64>)],
) -> Result<Vec<i64>, DbErr> {
    let ids: Vec<i64> = contacts.iter().map(|c| c.0).collect();
    let mut scope = Scope::default();
    for chunk in ids.chunks(500) {
        for a in contact_addresses::Entity::find()
            .filter(contact_addresses::Column::OrganizationId.eq(org_id))
            .filter(contact_addresses::Column::ContactId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            scope.add_address(&a.address);
        }
    }
    let emails = crate::reassociation::relink(db, org_id, &scope).await?;
    linked_to(db, org_id, &emails, email_links::Column::ContactId, &ids).await
}

/// Those of `emails` with a live link to one of `targets`.
async fn linked_to(
    db: &impl ConnectionTrait,
    org_id: i64,
    emails: &[i64],
    column: email_links::Column,
    targets: &[i64],
) -> Result<Vec<i64>, DbErr> {
    let mut out = Vec::new();
    for chunk in emails.chunks(500) {
        let rows: Vec<i64> = email_links::Entity::find()
            .select_only()
            .column(email_links::Column::EmailId)
            .distinct()
            .filter(email_links::Column::OrganizationId.eq(org_id))
            .filter(email_links::Column::EmailId.is_in(chunk.iter().copied()))
            .filter(email_links::Column::Tombstone.eq(false))
            .filter(column.is_in(targets.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
    }
    out.sort_unstable();
    Ok(out)
}
