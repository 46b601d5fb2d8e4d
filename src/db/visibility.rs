//! Visibility levels in the database: each mailbox's level (`mail_accounts.visibility`), the
//! organization's policy (`visibility_default` for new mailboxes, `visibility_max` no mailbox
//! may exceed), and the SQL that computes the level at which a reader sees one stored copy.
//! Private thread marks are in [`super::private_threads`]. Every change is audited.
use sea_orm::{ConnectionTrait, DbErr, Value};

use super::audit::{self, Entry};
use super::batch::statement;
use crate::domain::visibility::Level;

#[derive(Debug, thiserror::Error)]
pub enum VisibilityError {
    #[error("the organization allows at most {max}")]
    AboveMax { max: Level },
    #[error("the default cannot be above the maximum")]
    DefaultAboveMax,
    #[error("no such mailbox")]
    NoSuchMailbox,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The organization's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrgPolicy {
    /// The level a newly connected mailbox starts at.
    pub default: Level,
    /// No mailbox may be set above this.
    pub max: Level,
}

fn level(text: Option<String>) -> Level {
    text.and_then(|t| t.parse().ok()).unwrap_or(Level::Full)
}

async fn query_one(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Option<sea_orm::QueryResult>, DbErr> {
    db.query_one(statement(db.get_database_backend(), sql, values))
        .await
}

async fn execute(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<u64, DbErr> {
    Ok(db
        .execute(statement(db.get_database_backend(), sql, values))
        .await?
        .rows_affected())
}

pub async fn policy(db: &impl ConnectionTrait, org_id: i64) -> Result<OrgPolicy, DbErr> {
    let row = query_one(
        db,
        "SELECT visibility_default, visibility_max FROM organizations WHERE id = ?",
        vec![org_id.into()],
    )
    .await?;
    Ok(match row {
        Some(r) => OrgPolicy {
            default: level(r.try_get_by_index(0)?),
            max: level(r.try_get_by_index(1)?),
        },
        None => OrgPolicy::default(),
    })
}

/// Set the organization's policy (an admin's action). Lowering the maximum lowers every
/// mailbox above it, in one statement. Returns how many mailboxes were lowered.
pub async fn set_policy(
    db: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    new: OrgPolicy,
) -> Result<u64, VisibilityError> {
    if new.default > new.max {
        return Err(VisibilityError::DefaultAboveMax);
    }
    let old = policy(db, org_id).await?;
    execute(
        db,
        "UPDATE organizations SET visibility_default = ?, visibility_max = ? WHERE id = ?",
        vec![
            new.default.as_str().into(),
            new.max.as_str().into(),
            org_id.into(),
        ],
    )
    .await?;
    let above: Vec<Value> = Level::ALL
        .into_iter()
        .filter(|l| *l > new.max)
        .map(|l| l.as_str().into())
        .collect();
    let lowered = if above.is_empty() {
        0
    } else {
        let mut values = vec![new.max.as_str().into(), org_id.into()];
        let list = super::batch::list(above.len());
        values.extend(above);
        execute(
            db,
            &format!(
                "UPDATE mail_accounts SET visibility = ? WHERE organization_id = ? \
                 AND visibility IN {list}"
            ),
            values,
        )
        .await?
    };
    if old != new || lowered > 0 {
        audit::record(
            db,
            Entry::by_user(
                org_id,
                actor,
                "visibility.policy",
                "organization",
                org_id,
                format!(
                    "default {} -> {}, maximum {} -> {}; {lowered} mailbox(es) lowered",
                    old.default, new.default, old.max, new.max
                ),
            ),
        )
        .await?;
    }
    Ok(lowered)
}

/// A mailbox of the organization with its owner and level.
#[derive(Debug, Clone)]
pub struct MailboxLevel {
    pub account_id: i64,
    pub address: String,
    pub owner_user_id: Option<i64>,
    pub level: Level,
}

pub async fn mailbox(
    db: &impl ConnectionTrait,
    org_id: i64,
    account_id: i64,
) -> Result<Option<MailboxLevel>, DbErr> {
    let row = query_one(
        db,
        "SELECT address, owner_user_id, visibility FROM mail_accounts \
         WHERE id = ? AND organization_id = ?",
        vec![account_id.into(), org_id.into()],
    )
    .await?;
    row.map(|r| {
        Ok(MailboxLevel {
            account_id,
            address: r.try_get_by_index(0)?,
            owner_user_id: r.try_get_by_index(1)?,
            level: level(r.try_get_by_index(2)?),
        })
    })
    .transpose()
}

/// The levels of every mailbox of the organization, by account id.
pub async fn levels(
    db: &impl ConnectionTrait,
    org_id: i64,
) -> Result<std::collections::HashMap<i64, Level>, DbErr> {
    let rows = db
        .query_all(statement(
            db.get_database_backend(),
            "SELECT id, visibility FROM mail_accounts WHERE organization_id = ?",
            vec![org_id.into()],
        ))
        .await?;
    rows.into_iter()
        .map(|r| Ok((r.try_get_by_index(0)?, level(r.try_get_by_index(1)?))))
        .collect()
}

/// Set a mailbox's level (its owner's or an admin's action; the caller checks who may),
/// within the organization's maximum; audited.
pub async fn set_mailbox(
    db: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    account_id: i64,
    to: Level,
) -> Result<(), VisibilityError> {
    let current = mailbox(db, org_id, account_id)
        .await?
        .ok_or(VisibilityError::NoSuchMailbox)?;
    let max = policy(db, org_id).await?.max;
    if to > max {
        return Err(VisibilityError::AboveMax { max });
    }
    if current.level == to {
        return Ok(());
    }
    execute(
        db,
        "UPDATE mail_accounts SET visibility = ? WHERE id = ? AND organization_id = ?",
        vec![to.as_str().into(), account_id.into(), org_id.into()],
    )
    .await?;
    audit::record(
        db,
        Entry::by_user(
            org_id,
            actor,
            "mailbox.visibility",
            "mail_account",
            account_id,
            format!("{}: {} -> {}", current.address, current.level, to),
        ),
    )
    .await?;
    Ok(())
}

/// A new mailbox starts at the organization's default (called where mailboxes are created).
pub async fn apply_default(
    db: &impl ConnectionTrait,
    org_id: i64,
    account_id: i64,
) -> Result<(), DbErr> {
    execute(
        db,
        "UPDATE mail_accounts SET visibility = (SELECT o.visibility_default \
         FROM organizations o WHERE o.id = ?) WHERE id = ? AND organization_id = ?",
        vec![org_id.into(), account_id.into(), org_id.into()],
    )
    .await?;
    Ok(())
}

/// Does anything in the organization hide mail from colleagues (a mailbox below full or a
/// private thread)? When not, the per-message level checks are skipped. An SQL expression
/// over the organization id `org` (indexed look-ups, answered from the first row found).
pub fn restricted_sql(org: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM mail_accounts va WHERE va.organization_id = {org} \
         AND va.visibility <> 'full') OR EXISTS (SELECT 1 FROM private_threads vp \
         WHERE vp.organization_id = {org}))"
    )
}

pub async fn restricted(db: &impl ConnectionTrait, org_id: i64) -> Result<bool, DbErr> {
    let sql = format!("SELECT CASE WHEN {} THEN 1 ELSE 0 END", restricted_sql("?"));
    let row = query_one(db, &sql, vec![org_id.into(), org_id.into()]).await?;
    Ok(match row {
        Some(r) => r.try_get_by_index::<i32>(0)? == 1,
        None => false,
    })
}

/// SQL: the mailbox `a` (an alias of `mail_accounts`) is the reader's own: they own it, or it
/// is an organization mailbox (no owner, synced through a connection) at their address, which
/// they see as its owner. Binds [`own_values`] (the reader's id twice), in that order.
pub fn own_sql(a: &str) -> String {
    format!(
        "({a}.owner_user_id = ? OR ({a}.owner_user_id IS NULL AND {a}.connection_id IS NOT NULL \
         AND LOWER({a}.address) = (SELECT LOWER(ou.email) FROM users ou WHERE ou.id = ? \
         AND ou.organization_id = {a}.organization_id)))"
    )
}

/// The values [`own_sql`] binds.
pub fn own_values(reader_user_id: i64) -> [Value; 2] {
    [reader_user_id.into(), reader_user_id.into()]
}

/// [`own_sql`] in Rust, for a mailbox already loaded: does `user` (id and address) see it as
/// its owner?
pub fn reads_as_owner(
    account: &crate::db::entities::mail_accounts::Model,
    user_id: i64,
    user_email: &str,
) -> bool {
    account.owner_user_id == Some(user_id)
        || (account.owner_user_id.is_none()
            && account.connection_id.is_some()
            && account.address.eq_ignore_ascii_case(user_email.trim()))
}

/// [`reads_as_owner`] for a user known by id only.
pub async fn reads_as_owner_id(
    db: &impl ConnectionTrait,
    account: &crate::db::entities::mail_accounts::Model,
    user_id: i64,
) -> Result<bool, DbErr> {
    if account.owner_user_id == Some(user_id) {
        return Ok(true);
    }
    if account.owner_user_id.is_some() || account.connection_id.is_none() {
        return Ok(false);
    }
    let row = query_one(
        db,
        "SELECT email FROM users WHERE id = ? AND organization_id = ?",
        vec![user_id.into(), account.organization_id.into()],
    )
    .await?;
    Ok(match row {
        Some(r) => reads_as_owner(account, user_id, &r.try_get_by_index::<String>(0)?),
        None => false,
    })
}

/// The rank (`0` private .. `3` full, see [`Level::rank`]) at which `reader` sees the stored
/// copy whose email id is the SQL expression `id`: 3 for the reader's own mailboxes (an
/// organization mailbox at their address included, [`own_sql`]), 0 when the owner marked its
/// thread private, else its mailbox's level. Bound values: the reader, twice.
/// A scalar sub-select: one look-up of the email, its mailbox and the owner's mark per row.
pub fn rank_sql(reader_user_id: i64, id: &str) -> (String, Vec<Value>) {
    (
        format!(
            "(SELECT CASE WHEN {own} THEN 3 \
             WHEN va.visibility = 'private' THEN 0 \
             WHEN EXISTS (SELECT 1 FROM private_threads vp WHERE vp.user_id = va.owner_user_id \
             AND vp.thread_key = vx.thread_key) THEN 0 \
             WHEN va.visibility = 'metadata' THEN 1 WHEN va.visibility = 'subject' THEN 2 \
             ELSE 3 END FROM emails vx, mail_accounts va \
             WHERE vx.id = {id} AND va.id = vx.account_id)",
            own = own_sql("va")
        ),
        own_values(reader_user_id).to_vec(),
    )
}

/// How a reader stands to one stored copy: whether it is in their own mailbox, the rank of
/// [`rank_sql`] (0 when the copy is private to its owner: a private mailbox or thread), and
/// whether it has a live link now (a colleague sees a copy above `private` only when linked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub own: bool,
    pub rank: i32,
    pub linked: bool,
}

impl Standing {
    /// May the reader see the copy now, or once it has a link?
    pub fn seen(self, with_a_link: bool) -> bool {
        self.own || (self.rank > 0 && (self.linked || with_a_link))
    }
}

/// [`Standing`] of `reader` to each of `ids` (emails of the organization; others are left out).
pub async fn standings(
    db: &impl ConnectionTrait,
    org_id: i64,
    reader_user_id: i64,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Standing>, DbErr> {
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for ids in ids.chunks(1_000) {
        let (rank, mut values) = rank_sql(reader_user_id, "e.id");
        let sql = format!(
            "SELECT e.id, CASE WHEN a.owner_user_id = ? THEN 1 ELSE 0 END, {rank}, \
             CASE WHEN EXISTS (SELECT 1 FROM email_links l WHERE l.email_id = e.id \
             AND l.organization_id = ? AND l.tombstone = ?) THEN 1 ELSE 0 END \
             FROM emails e, mail_accounts a WHERE a.id = e.account_id \
             AND e.organization_id = ? AND e.id IN {}",
            super::batch::list(ids.len())
        );
        values.extend([
            reader_user_id.into(),
            org_id.into(),
            false.into(),
            org_id.into(),
        ]);
        values.extend(ids.iter().map(|id| Value::from(*id)));
        let rows = db
            .query_all(statement(db.get_database_backend(), &sql, values))
            .await?;
        for r in rows {
            let standing = Standing {
                own: r.try_get_by_index::<i32>(1)? == 1,
                rank: r.try_get_by_index::<Option<i32>>(2)?.unwrap_or(0),
                linked: r.try_get_by_index::<i32>(3)? == 1,
            };
            out.insert(r.try_get_by_index::<i64>(0)?, standing);
        }
    }
    Ok(out)
}

/// The level at which `reader` sees the email `email_id`: None when it is not theirs to see
/// (neither in their own mailboxes nor linked, or private to them: a private copy does not
/// exist for colleagues, even when another copy of its message is shared). A message in
/// several mailboxes is seen at the most permissive level among the copies the reader may see
/// (their own, and the linked ones).
pub async fn email_level(
    db: &impl ConnectionTrait,
    org_id: i64,
    reader_user_id: i64,
    email_id: i64,
) -> Result<Option<Level>, DbErr> {
    let (rank, mut values) = rank_sql(reader_user_id, "c.id");
    let sql = format!(
        "SELECT c.id, {rank}, (SELECT CASE WHEN {own} THEN 1 ELSE 0 END FROM mail_accounts va \
         WHERE va.id = c.account_id), \
         CASE WHEN EXISTS (SELECT 1 FROM email_links l WHERE l.email_id = c.id \
         AND l.organization_id = ? AND l.tombstone = ?) THEN 1 ELSE 0 END \
         FROM emails c WHERE c.organization_id = ? AND c.message_key = \
         (SELECT x.message_key FROM emails x WHERE x.id = ? AND x.organization_id = ?)",
        own = own_sql("va")
    );
    values.extend(own_values(reader_user_id));
    values.extend([
        org_id.into(),
        false.into(),
        org_id.into(),
        email_id.into(),
        org_id.into(),
    ]);
    let rows = db
        .query_all(statement(db.get_database_backend(), &sql, values))
        .await?;
    let mut this_visible = false;
    let mut best: Option<Level> = None;
    for r in rows {
        let id: i64 = r.try_get_by_index(0)?;
        let rank: Option<i32> = r.try_get_by_index(1)?;
        let own = r.try_get_by_index::<Option<i32>>(2)? == Some(1);
        let linked = r.try_get_by_index::<i32>(3)? == 1;
        if !(own || linked) {
            continue;
        }
        let l = Level::from_rank(rank.unwrap_or(0).into());
        if id == email_id && l > Level::Private {
            this_visible = true;
        }
        best = best.max(Some(l));
    }
    Ok(best.filter(|_| this_visible))
}

/// The owner of the mailbox holding the email `email_id` of the organization: None when there
/// is no such email, `Some(None)` for an organization's mailbox.
pub async fn mailbox_owner(
    db: &impl ConnectionTrait,
    org_id: i64,
    email_id: i64,
) -> Result<Option<Option<i64>>, DbErr> {
    let row = query_one(
        db,
        "SELECT a.owner_user_id FROM emails e, mail_accounts a WHERE e.id = ? \
         AND e.organization_id = ? AND a.id = e.account_id",
        vec![email_id.into(), org_id.into()],
    )
    .await?;
    row.map(|r| r.try_get_by_index::<Option<i64>>(0))
        .transpose()
}
