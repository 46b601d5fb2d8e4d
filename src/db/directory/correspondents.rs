//! Unmatched mail grouped by correspondent: one row per external address (someone outside the
//! internal domains who is not one of the organization's mailboxes) with how many unmatched
//! emails in the reader's sight they take part in and their latest one; correspondents of one
//! registrable business domain together. Pages follow the mail newest first: a page walks the
//! unmatched emails from its cursor in batches, collecting people not met before, and stops once
//! it has a page of them or has read [`MAX_SCAN`] emails (so every request is bounded; the
//! cursor then says where the next one goes on).
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::unmatched::{counts_by_domain, emails_before, unmatched_in_sight, Before, Triager};
use crate::db::entities::{email_participants, emails, mail_accounts};
use crate::domain::address::EmailAddress;
use crate::domain::domains::registrable;

/// Emails read per batch, and at most per page.
const BATCH: u64 = 200;
pub const MAX_SCAN: usize = 2_000;

/// One external person and their unmatched mail in the reader's sight.
#[derive(Debug, Clone)]
pub struct Correspondent {
    pub address: EmailAddress,
    pub name: String,
    /// Unmatched emails they take part in (colleagues' copies of one message once).
    pub emails: u64,
    pub latest_email_id: i64,
    pub latest_subject: String,
    pub latest_at: DateTime<Utc>,
    /// The registrable domain a business could be created from; None for free-mail.
    pub business_domain: Option<String>,
}

/// Correspondents shown together: those of one business domain (when a page has several),
/// or one person.
#[derive(Debug, Clone)]
pub struct Group {
    pub domain: Option<String>,
    /// Unmatched emails involving the domain (subdomains too): what creating it links.
    pub from_domain: u64,
    pub people: Vec<Correspondent>,
}

/// A page of correspondents in `who`'s sight, newest mail first, after `after`; at most about
/// `size` people (all the people of the page's last email), and the next page's cursor.
pub async fn page(
    db: &impl ConnectionTrait,
    org_id: i64,
    who: Triager,
    after: Option<&Before>,
    size: usize,
) -> Result<(Vec<Group>, Option<Before>), DbErr> {
    let directory = super::load(db, org_id).await?;
    let internal = super::settings::load(db, org_id)
        .await
        .map(|s| s.internal_domains)
        .unwrap_or_default();
    let mailboxes: HashSet<String> = mail_accounts::Entity::find()
        .filter(mail_accounts::Column::OrganizationId.eq(org_id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.address.to_lowercase())
        .collect();
    let mut people: Vec<Correspondent> = Vec::new();
    let mut met: HashSet<String> = HashSet::new();
    let mut cursor = after.cloned();
    let mut scanned = 0usize;
    let mut exhausted = false;
    while people.len() < size && scanned < MAX_SCAN {
        let batch = emails_before(db, org_id, who, &internal, cursor.as_ref(), BATCH).await?;
        exhausted = (batch.len() as u64) < BATCH;
        let ids: Vec<i64> = batch.iter().map(|e| e.id).collect();
        let mut of_email: HashMap<i64, Vec<email_participants::Model>> = HashMap::new();
        for p in email_participants::Entity::find()
            .filter(email_participants::Column::EmailId.is_in(ids))
            .order_by_asc(email_participants::Column::Id)
            .all(db)
            .await?
        {
            of_email.entry(p.email_id).or_default().push(p);
        }
        let mut fresh = Vec::new();
        for e in batch {
            scanned += 1;
            for p in of_email.remove(&e.id).unwrap_or_default() {
                if directory.is_internal(&p.domain) || mailboxes.contains(&p.address) {
                    continue;
                }
                let Ok(address) = EmailAddress::parse(&p.address) else {
                    continue;
                };
                if !met.insert(address.as_str().to_string()) {
                    continue;
                }
                let business_domain = (!directory.is_free_mail(address.domain()))
                    .then(|| registrable(address.domain()))
                    .flatten();
                fresh.push(Correspondent {
                    address,
                    name: p.name.clone(),
                    emails: 0,
                    latest_email_id: e.id,
                    latest_subject: e.subject.clone(),
                    latest_at: e.received_at,
                    business_domain,
                });
            }
            cursor = Some(Before {
                received_at: e.received_at,
                id: e.id,
            });
            if people.len() + fresh.len() >= size {
                exhausted = false;
                break;
            }
        }
        // People with newer unmatched mail were on an earlier page.
        if let Some(start) = after {
            let shown = with_mail_since(db, org_id, who, &fresh, start).await?;
            fresh.retain(|c| !shown.contains(c.address.as_str()));
        }
        people.extend(fresh);
        if exhausted {
            break;
        }
    }
    let next = if exhausted { None } else { cursor };
    let counts = counts(db, org_id, who, &people).await?;
    for c in &mut people {
        c.emails = counts.get(c.address.as_str()).copied().unwrap_or(1);
    }
    let groups = group(db, org_id, who, people).await?;
    Ok((groups, next))
}

/// Correspondents of one business domain together, at the place of the newest of them.
async fn group(
    db: &impl ConnectionTrait,
    org_id: i64,
    who: Triager,
    people: Vec<Correspondent>,
) -> Result<Vec<Group>, DbErr> {
    let mut groups: Vec<Group> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for c in people {
        let Some(d) = c.business_domain.clone() else {
            groups.push(Group {
                domain: None,
                from_domain: 0,
                people: vec![c],
            });
            continue;
        };
        if let Some(i) = at.get(&d) {
            groups[*i].people.push(c);
        } else {
            at.insert(d.clone(), groups.len());
            groups.push(Group {
                domain: Some(d),
                from_domain: 0,
                people: vec![c],
            });
        }
    }
    let domains: HashSet<&str> = groups.iter().filter_map(|g| g.domain.as_deref()).collect();
    let counts = counts_by_domain(db, org_id, who, &domains).await?;
    for g in &mut groups {
        if let Some(n) = g.domain.as_ref().and_then(|d| counts.get(d)) {
            g.from_domain = *n;
        }
    }
    Ok(groups)
}

/// `SELECT ... FROM email_participants JOIN emails` on the participant's email, for the
/// unmatched emails in `who`'s sight that one of `addresses` takes part in (and `extra`).
fn involving(
    org_id: i64,
    who: Triager,
    addresses: Vec<String>,
    extra: Option<Condition>,
) -> SelectStatement {
    let mut cond = unmatched_in_sight(org_id, who)
        .add(
            Expr::col((
                email_participants::Entity,
                email_participants::Column::OrganizationId,
            ))
            .eq(org_id),
        )
        .add(address_col().is_in(addresses));
    if let Some(extra) = extra {
        cond = cond.add(extra);
    }
    Query::select()
        .from(email_participants::Entity)
        .inner_join(
            emails::Entity,
            Expr::col((emails::Entity, emails::Column::Id)).equals((
                email_participants::Entity,
                email_participants::Column::EmailId,
            )),
        )
        .cond_where(cond)
        .to_owned()
}

fn address_col() -> Expr {
    Expr::col((
        email_participants::Entity,
        email_participants::Column::Address,
    ))
}

/// Of `people`, those with unmatched mail in sight at or after `start` (newer first order).
async fn with_mail_since(
    db: &impl ConnectionTrait,
    org_id: i64,
    who: Triager,
    people: &[Correspondent],
    start: &Before,
) -> Result<HashSet<String>, DbErr> {
    if people.is_empty() {
        return Ok(HashSet::new());
    }
    let addresses = people
        .iter()
        .map(|c| c.address.as_str().to_string())
        .collect();
    let at = Expr::col((emails::Entity, emails::Column::ReceivedAt));
    let id = Expr::col((emails::Entity, emails::Column::Id));
    let since = Condition::any().add(at.clone().gt(start.received_at)).add(
        Condition::all()
            .add(at.eq(start.received_at))
            .add(id.gte(start.id)),
    );
    let query = involving(org_id, who, addresses, Some(since))
        .distinct()
        .expr_as(address_col(), Alias::new("address"))
        .to_owned();
    let rows = db
        .query_all(db.get_database_backend().build(&query))
        .await?;
    rows.iter().map(|r| r.try_get("", "address")).collect()
}

/// Unmatched emails in sight each of `people` takes part in (copies of a message once).
async fn counts(
    db: &impl ConnectionTrait,
    org_id: i64,
    who: Triager,
    people: &[Correspondent],
) -> Result<HashMap<String, u64>, DbErr> {
    let mut out = HashMap::new();
    for chunk in people.chunks(200) {
        let addresses = chunk
            .iter()
            .map(|c| c.address.as_str().to_string())
            .collect();
        let query = involving(org_id, who, addresses, None)
            .expr_as(address_col(), Alias::new("address"))
            .expr_as(
                Expr::cust("COUNT(DISTINCT emails.message_key)"),
                Alias::new("n"),
            )
            .group_by_col((
                email_participants::Entity,
                email_participants::Column::Address,
            ))
            .to_owned();
        for row in db
            .query_all(db.get_database_backend().build(&query))
            .await?
        {
            let n: i64 = row.try_get("", "n")?;
            out.insert(
                row.try_get::<String>("", "address")?,
                u64::try_from(n).unwrap_or(0),
            );
        }
    }
    Ok(out)
}

/// The unmatched emails in `who`'s sight that `address` takes part in, newest first.
pub async fn unmatched_of(
    db: &impl ConnectionTrait,
    org_id: i64,
    who: Triager,
    address: &EmailAddress,
) -> Result<Vec<i64>, DbErr> {
    let query = involving(org_id, who, vec![address.as_str().to_string()], None)
        .distinct()
        .expr_as(
            Expr::col((emails::Entity, emails::Column::Id)),
            Alias::new("id"),
        )
        .to_owned();
    let rows = db
        .query_all(db.get_database_backend().build(&query))
        .await?;
    rows.iter().map(|r| r.try_get("", "id")).collect()
}
