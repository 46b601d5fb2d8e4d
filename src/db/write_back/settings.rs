//! The switches of write-back: the organization's (admins) and each mailbox's (its owner or an
//! admin). Both off by default; each change is audited.
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::db::audit::{self, Entry};
use crate::db::entities::{mail_accounts, organizations, write_back_outbox};

/// Whether the organization lets mailboxes write marks back.
pub async fn org_allows(db: &impl ConnectionTrait, organization_id: i64) -> Result<bool, DbErr> {
    Ok(organizations::Entity::find_by_id(organization_id)
        .one(db)
        .await?
        .is_some_and(|o| o.write_back))
}

fn action(on: bool) -> &'static str {
    if on {
        "write_back.enable"
    } else {
        "write_back.disable"
    }
}

/// Allow or stop write-back for the whole organization. Stopping it drops what was waiting.
pub async fn set_org(
    db: &impl ConnectionTrait,
    organization_id: i64,
    user_id: i64,
    on: bool,
) -> Result<(), DbErr> {
    organizations::Entity::update_many()
        .col_expr(organizations::Column::WriteBack, Expr::value(on))
        .filter(organizations::Column::Id.eq(organization_id))
        .exec(db)
        .await?;
    if !on {
        write_back_outbox::Entity::delete_many()
            .filter(write_back_outbox::Column::OrganizationId.eq(organization_id))
            .exec(db)
            .await?;
    }
    let entry = Entry::by_user(
        organization_id,
        user_id,
        action(on),
        "organization",
        organization_id,
        String::new(),
    );
    audit::record(db, entry).await
}

/// Turn a mailbox's write-back on or off; off drops what was waiting for it. False when the
/// organization has no such mailbox.
pub async fn set_mailbox(
    db: &impl ConnectionTrait,
    organization_id: i64,
    user_id: i64,
    account_id: i64,
    on: bool,
) -> Result<bool, DbErr> {
    let changed = mail_accounts::Entity::update_many()
        .col_expr(mail_accounts::Column::WriteBack, Expr::value(on))
        .filter(mail_accounts::Column::OrganizationId.eq(organization_id))
        .filter(mail_accounts::Column::Id.eq(account_id))
        .exec(db)
        .await?
        .rows_affected
        > 0;
    if !changed {
        return Ok(false);
    }
    if !on {
        write_back_outbox::Entity::delete_many()
            .filter(write_back_outbox::Column::AccountId.eq(account_id))
            .exec(db)
            .await?;
    }
    let entry = Entry::by_user(
        organization_id,
        user_id,
        action(on),
        "mail_account",
        account_id,
        String::new(),
    );
    audit::record(db, entry).await?;
    Ok(true)
}
