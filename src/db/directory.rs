//! The CRM directory: businesses with domains, contacts with addresses, internal domains.
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};

use super::entities::{
    business_domains, businesses, contact_addresses, contacts, organization_domains,
};

pub async fn add_internal_domain(
    db: &impl ConnectionTrait,
    org_id: i64,
    domain: &str,
) -> Result<(), DbErr> {
    organization_domains::ActiveModel {
        organization_id: Set(org_id),
        domain: Set(domain.to_string()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn create_business(
    db: &impl ConnectionTrait,
    org_id: i64,
    name: &str,
    domains: &[String],
) -> Result<businesses::Model, DbErr> {
    let now = super::now();
    let business = businesses::ActiveModel {
        organization_id: Set(org_id),
        name: Set(name.to_string()),
        notes: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    for domain in domains {
        business_domains::ActiveModel {
            organization_id: Set(org_id),
            business_id: Set(business.id),
            domain: Set(domain.clone()),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(business)
}

pub async fn create_contact(
    db: &impl ConnectionTrait,
    org_id: i64,
    business_id: Option<i64>,
    name: &str,
    addresses: &[String],
) -> Result<contacts::Model, DbErr> {
    let now = super::now();
    let contact = contacts::ActiveModel {
        organization_id: Set(org_id),
        business_id: Set(business_id),
        name: Set(name.to_string()),
        notes: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    for address in addresses {
        contact_addresses::ActiveModel {
            organization_id: Set(org_id),
            contact_id: Set(contact.id),
            address: Set(address.clone()),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(contact)
}
