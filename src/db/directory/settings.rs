//! Organization settings the directory and timeline read: internal domains, free-mail
//! overrides, the auto-create contacts policy and the timeline filters; every change audited.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, TransactionTrait,
};

use crate::db::entities::{organization_domains, organizations};
use crate::domain::auto_contacts::AutoCreate;
use crate::domain::domains::Domain;
use crate::domain::freemail::{is_shipped, FreeMail};

/// Everything the settings page shows.
#[derive(Debug, Clone)]
pub struct OrgSettings {
    pub internal_domains: Vec<String>,
    pub free_mail: FreeMail,
    pub auto_create: AutoCreate,
    pub hide_internal_only: bool,
    pub hide_bulk: bool,
}

/// The policies saved together by one form.
#[derive(Debug, Clone, Copy)]
pub struct Policies {
    pub auto_create: AutoCreate,
    pub hide_internal_only: bool,
    pub hide_bulk: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0} is already an internal domain")]
    Duplicate(String),
    #[error("{0} is already listed")]
    AlreadyListed(String),
    #[error("{0} is not on the shipped free-mail list")]
    NotShipped(String),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbErr),
}

async fn org(
    db: &impl ConnectionTrait,
    org_id: i64,
) -> Result<organizations::Model, SettingsError> {
    organizations::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .ok_or(SettingsError::NotFound)
}

pub async fn load(db: &impl ConnectionTrait, org_id: i64) -> Result<OrgSettings, SettingsError> {
    let o = org(db, org_id).await?;
    let internal_domains = organization_domains::Entity::find()
        .filter(organization_domains::Column::OrganizationId.eq(org_id))
        .order_by_asc(organization_domains::Column::Domain)
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.domain)
        .collect();
    Ok(OrgSettings {
        internal_domains,
        free_mail: FreeMail::from_setting(&o.free_mail_domains),
        auto_create: AutoCreate::from_setting(&o.auto_create_contacts),
        hide_internal_only: o.hide_internal_only,
        hide_bulk: o.hide_bulk,
    })
}

pub async fn save_policies<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    p: Policies,
) -> Result<(), SettingsError> {
    let txn = crate::db::begin_write(db).await?;
    let mut row: organizations::ActiveModel = org(&txn, org_id).await?.into();
    row.auto_create_contacts = Set(p.auto_create.as_str().to_string());
    row.hide_internal_only = Set(p.hide_internal_only);
    row.hide_bulk = Set(p.hide_bulk);
    row.update(&txn).await?;
    let detail = format!(
        "auto-create contacts: {}; hide internal-only: {}; hide bulk: {}",
        p.auto_create.as_str(),
        p.hide_internal_only,
        p.hide_bulk
    );
    super::record(
        &txn,
        org_id,
        actor,
        "organization.policies",
        org_id,
        &detail,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn add_internal_domain<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    domain: &Domain,
) -> Result<(), SettingsError> {
    let txn = crate::db::begin_write(db).await?;
    let exists = organization_domains::Entity::find()
        .filter(organization_domains::Column::OrganizationId.eq(org_id))
        .filter(organization_domains::Column::Domain.eq(domain.as_str()))
        .one(&txn)
        .await?;
    if exists.is_some() {
        return Err(SettingsError::Duplicate(domain.to_string()));
    }
    super::add_internal_domain(&txn, org_id, domain.as_str()).await?;
    let action = "organization.internal_domain_add";
    super::record(&txn, org_id, actor, action, org_id, domain.as_str()).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn remove_internal_domain<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    domain: &str,
) -> Result<(), SettingsError> {
    let txn = crate::db::begin_write(db).await?;
    let res = organization_domains::Entity::delete_many()
        .filter(organization_domains::Column::OrganizationId.eq(org_id))
        .filter(organization_domains::Column::Domain.eq(domain))
        .exec(&txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(SettingsError::NotFound);
    }
    let action = "organization.internal_domain_remove";
    super::record(&txn, org_id, actor, action, org_id, domain).await?;
    txn.commit().await?;
    Ok(())
}

/// How a free-mail override changes the shipped list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Override {
    /// Also treat this domain as free-mail.
    Add,
    /// Treat this shipped free-mail domain as a business domain.
    Remove,
}

/// Add an override; `Remove` only applies to shipped domains.
pub async fn add_free_mail_override<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    domain: &Domain,
    how: Override,
) -> Result<(), SettingsError> {
    let d = domain.as_str().to_string();
    change_free_mail(db, org_id, actor, "organization.free_mail_add", |list| {
        if list.extra.contains(&d) || list.removed.contains(&d) {
            return Err(SettingsError::AlreadyListed(d.clone()));
        }
        match how {
            Override::Add => list.extra.insert(d.clone()),
            Override::Remove if is_shipped(&d) => list.removed.insert(d.clone()),
            Override::Remove => return Err(SettingsError::NotShipped(d.clone())),
        };
        Ok(d.clone())
    })
    .await
}

/// Drop an override (in either direction), back to the shipped behaviour.
pub async fn remove_free_mail_override<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    domain: &str,
) -> Result<(), SettingsError> {
    change_free_mail(db, org_id, actor, "organization.free_mail_remove", |list| {
        if list.extra.remove(domain) || list.removed.remove(domain) {
            Ok(domain.to_string())
        } else {
            Err(SettingsError::NotFound)
        }
    })
    .await
}

async fn change_free_mail<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    action: &str,
    change: impl FnOnce(&mut FreeMail) -> Result<String, SettingsError>,
) -> Result<(), SettingsError> {
    let txn = crate::db::begin_write(db).await?;
    let row = org(&txn, org_id).await?;
    let mut list = FreeMail::from_setting(&row.free_mail_domains);
    let detail = change(&mut list)?;
    let entries: Vec<String> = list
        .extra
        .iter()
        .cloned()
        .chain(list.removed.iter().map(|d| format!("-{d}")))
        .collect();
    let mut row: organizations::ActiveModel = row.into();
    row.free_mail_domains = Set(serde_json::to_string(&entries).unwrap_or_else(|_| "[]".into()));
    row.update(&txn).await?;
    super::record(&txn, org_id, actor, action, org_id, &detail).await?;
    txn.commit().await?;
    Ok(())
}
