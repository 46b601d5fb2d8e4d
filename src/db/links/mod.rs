//! Stored email links: the reads and batched writes re-association runs over a chunk of
//! emails, the emails a directory change can affect (found through participant indexes),
//! manual links and unlinks ([`manual`]), linked-email lists for pages ([`recent`]), and the
//! registrable-domain backfill ([`backfill`]).
pub mod backfill;
pub mod manual;
pub mod recent;

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use super::entities::{email_links, email_participants, emails};
use crate::domain::address::EmailAddress;
use crate::domain::association::{Link, Reason, Target};
use crate::domain::reassociation::{EmailDiff, Source, StoredLink};

/// Ids per `IN (...)` list and rows per multi-row INSERT (11 values a row: far below SQLite's
/// 32,766 bound parameters), so a chunk of 1,000 emails costs a handful of statements.
const BATCH: usize = 1_000;

/// What a directory change can affect: stored mail with a participant at one of these exact
/// addresses, or whose host has one of these registrable domains.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub addresses: BTreeSet<String>,
    pub registrables: BTreeSet<String>,
}

impl Scope {
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty() && self.registrables.is_empty()
    }

    pub fn merge(&mut self, other: Scope) {
        self.addresses.extend(other.addresses);
        self.registrables.extend(other.registrables);
    }

    /// The registrable domain of a business domain (a listed subdomain shares its parent's).
    pub fn add_domain(&mut self, domain: &str) {
        if let Some(reg) = crate::domain::domains::registrable(domain) {
            self.registrables.insert(reg);
        }
    }

    pub fn add_address(&mut self, address: &str) {
        self.addresses.insert(address.to_string());
    }
}

/// Ids (ascending, after `after`) of the organization's emails the scope reaches.
pub async fn affected(
    db: &impl ConnectionTrait,
    org_id: i64,
    scope: &Scope,
    after: i64,
) -> Result<Vec<i64>, DbErr> {
    let mut ids = BTreeSet::new();
    let column = |c: email_participants::Column, values: &BTreeSet<String>| {
        (c, values.iter().cloned().collect::<Vec<_>>())
    };
    for (col, values) in [
        column(email_participants::Column::Address, &scope.addresses),
        column(email_participants::Column::Registrable, &scope.registrables),
    ] {
        for chunk in values.chunks(BATCH) {
            let rows: Vec<i64> = email_participants::Entity::find()
                .select_only()
                .column(email_participants::Column::EmailId)
                .distinct()
                .filter(email_participants::Column::OrganizationId.eq(org_id))
                .filter(col.is_in(chunk.iter().cloned()))
                .filter(email_participants::Column::EmailId.gt(after))
                .into_tuple()
                .all(db)
                .await?;
            ids.extend(rows);
        }
    }
    Ok(ids.into_iter().collect())
}

/// Participant addresses of each email (addresses that no longer parse are left out).
pub async fn participants(
    db: &impl ConnectionTrait,
    org_id: i64,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<EmailAddress>>, DbErr> {
    let mut out: HashMap<i64, Vec<EmailAddress>> = HashMap::new();
    for chunk in ids.chunks(BATCH) {
        let rows: Vec<(i64, i64, String)> = email_participants::Entity::find()
            .select_only()
            .column(email_participants::Column::OrganizationId)
            .column(email_participants::Column::EmailId)
            .column(email_participants::Column::Address)
            .filter(email_participants::Column::EmailId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        // The organization is checked here, not in SQL: SQLite without statistics would
        // otherwise walk an (organization_id, ...) index over every participant.
        for (_, id, address) in rows.into_iter().filter(|r| r.0 == org_id) {
            if let Ok(a) = EmailAddress::parse(&address) {
                out.entry(id).or_default().push(a);
            }
        }
    }
    Ok(out)
}

/// The stored link rows of each email.
pub async fn stored(
    db: &impl ConnectionTrait,
    org_id: i64,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<StoredLink>>, DbErr> {
    let mut out: HashMap<i64, Vec<StoredLink>> = HashMap::new();
    for chunk in ids.chunks(BATCH) {
        for row in email_links::Entity::find()
            .filter(email_links::Column::OrganizationId.eq(org_id))
            .filter(email_links::Column::EmailId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            if let Some(link) = stored_link(&row) {
                out.entry(row.email_id).or_default().push(link);
            }
        }
    }
    Ok(out)
}

pub fn stored_link(row: &email_links::Model) -> Option<StoredLink> {
    let target = match (row.business_id, row.contact_id) {
        (Some(b), None) => Target::Business(b),
        (None, Some(c)) => Target::Contact(c),
        _ => return None,
    };
    Some(StoredLink {
        id: row.id,
        target,
        source: row.source,
        reason: row.reason,
        tombstone: row.tombstone,
    })
}

/// `received_at` of each email (copied onto its links).
pub async fn received(
    db: &impl ConnectionTrait,
    org_id: i64,
    ids: &[i64],
) -> Result<HashMap<i64, DateTime<Utc>>, DbErr> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(BATCH) {
        let rows: Vec<(i64, i64, DateTime<Utc>)> = emails::Entity::find()
            .select_only()
            .column(emails::Column::OrganizationId)
            .column(emails::Column::Id)
            .column(emails::Column::ReceivedAt)
            .filter(emails::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        // Organization checked here (see `participants`): the primary key stays the index.
        out.extend(
            rows.into_iter()
                .filter(|r| r.0 == org_id)
                .map(|(_, id, at)| (id, at)),
        );
    }
    Ok(out)
}

/// A new link row; `tombstone` rows record that automatic matching must not link.
pub fn row(
    org_id: i64,
    email_id: i64,
    link: Link,
    source: Source,
    received_at: DateTime<Utc>,
    actor: Option<i64>,
) -> email_links::ActiveModel {
    let (business, contact) = match link.target {
        Target::Business(id) => (Some(id), None),
        Target::Contact(id) => (None, Some(id)),
    };
    email_links::ActiveModel {
        organization_id: Set(org_id),
        email_id: Set(email_id),
        business_id: Set(business),
        contact_id: Set(contact),
        source: Set(source),
        reason: Set(link.reason),
        tombstone: Set(false),
        received_at: Set(received_at),
        created_by: Set(actor),
        created_at: Set(super::now()),
        ..Default::default()
    }
}

/// Insert rows, skipping any (email, target) that meanwhile got a row.
pub async fn insert(
    db: &impl ConnectionTrait,
    rows: Vec<email_links::ActiveModel>,
) -> Result<(), DbErr> {
    for chunk in rows.chunks(BATCH) {
        email_links::Entity::insert_many(chunk.to_vec())
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Write the diffs of a chunk of emails: inserts, deletes and reason changes of automatic
/// rows only (new rows copy their email's `received_at`).
pub async fn apply(
    db: &impl ConnectionTrait,
    org_id: i64,
    diffs: &[(i64, EmailDiff)],
) -> Result<(), DbErr> {
    let gaining: Vec<i64> = diffs
        .iter()
        .filter(|(_, d)| d.gains())
        .map(|(id, _)| *id)
        .collect();
    let received_at = received(db, org_id, &gaining).await?;
    let mut rows = Vec::new();
    let mut deletes: Vec<i64> = Vec::new();
    let mut reasons: HashMap<Reason, Vec<i64>> = HashMap::new();
    for (email_id, d) in diffs {
        if let Some(&at) = received_at.get(email_id) {
            rows.extend(
                d.insert
                    .iter()
                    .map(|l| row(org_id, *email_id, *l, Source::Auto, at, None)),
            );
        }
        deletes.extend(&d.delete);
        for (id, reason) in &d.reason {
            reasons.entry(*reason).or_default().push(*id);
        }
    }
    let automatic = || {
        Condition::all()
            .add(email_links::Column::OrganizationId.eq(org_id))
            .add(email_links::Column::Source.eq(Source::Auto.as_str()))
            .add(email_links::Column::Tombstone.eq(false))
    };
    for chunk in deletes.chunks(BATCH) {
        email_links::Entity::delete_many()
            .filter(automatic())
            .filter(email_links::Column::Id.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
    }
    for (reason, ids) in reasons {
        for chunk in ids.chunks(BATCH) {
            email_links::Entity::update_many()
                .col_expr(email_links::Column::Reason, Expr::value(reason.as_str()))
                .filter(automatic())
                .filter(email_links::Column::Id.is_in(chunk.iter().copied()))
                .exec(db)
                .await?;
        }
    }
    insert(db, rows).await
}

/// Targets people unlinked from each message (by `message_key`), whichever copy they did it on.
pub async fn tombstones_by_message(
    db: &impl ConnectionTrait,
    org_id: i64,
    keys: &[String],
) -> Result<HashMap<String, HashSet<Target>>, DbErr> {
    let select = "SELECT t.message_key, t.business_id, t.contact_id FROM v \
                  JOIN link_tombstones t ON t.organization_id = ? AND t.message_key = v.k";
    let mut out: HashMap<String, HashSet<Target>> = HashMap::new();
    for row in super::batch::per_key(db, keys, select, &[org_id.into()]).await? {
        let target = match (
            row.try_get::<Option<i64>>("", "business_id")?,
            row.try_get::<Option<i64>>("", "contact_id")?,
        ) {
            (Some(b), _) => Target::Business(b),
            (None, Some(c)) => Target::Contact(c),
            (None, None) => continue,
        };
        out.entry(row.try_get::<String>("", "message_key")?)
            .or_default()
            .insert(target);
    }
    Ok(out)
}
