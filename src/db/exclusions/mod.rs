//! Exclusion rules: the organization's (admins) and each user's own (their mailboxes only).
//! Listing and removing rules, the rules covering one mailbox for ingest (kept for a pass and
//! reloaded when a cheap stamp moves, like the directory), and the ledger entries of the
//! messages they keep out. Applying a rule (preview, purge of stored mail) is in [`apply`].
pub mod apply;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait, Value,
};

use std::collections::HashMap;

use super::audit::{self, Entry};
use super::directory::cache::PassDirectory;
use super::emails::Owner;
use super::entities::{exclusion_rules, sync_ledger};
use crate::domain::exclusions::{Exclusions, RuleKind, RuleValue};
use crate::domain::message::NormalizedMessage;
use crate::domain::stored::Folders;

/// The ledger reason of a message an exclusion rule keeps out.
pub const EXCLUDED: &str = "excluded";

/// Whose rules: the organization's, or one user's for their own mailboxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleScope {
    Organization,
    Personal(i64),
}

impl RuleScope {
    fn user_id(self) -> Option<i64> {
        match self {
            RuleScope::Organization => None,
            RuleScope::Personal(id) => Some(id),
        }
    }

    fn condition(self) -> Condition {
        match self {
            RuleScope::Organization => {
                Condition::all().add(exclusion_rules::Column::UserId.is_null())
            }
            RuleScope::Personal(id) => Condition::all().add(exclusion_rules::Column::UserId.eq(id)),
        }
    }

    /// How the audit names a rule: an organization rule by its value; a personal rule only by
    /// its id (which correspondents a user keeps private is theirs, not the admins').
    fn audit_label(self, id: i64, value: &str) -> String {
        match self {
            RuleScope::Organization => format!("organization rule {value}"),
            RuleScope::Personal(_) => format!("personal rule #{id}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExclusionError {
    #[error("{0} is already excluded")]
    Duplicate(String),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The rules of `scope`, by value.
pub async fn list(
    db: &impl ConnectionTrait,
    org_id: i64,
    scope: RuleScope,
) -> Result<Vec<exclusion_rules::Model>, DbErr> {
    exclusion_rules::Entity::find()
        .filter(exclusion_rules::Column::OrganizationId.eq(org_id))
        .filter(scope.condition())
        .order_by_asc(exclusion_rules::Column::Value)
        .all(db)
        .await
}

/// The rule of `scope` with `value`, if there is one.
pub async fn find(
    db: &impl ConnectionTrait,
    org_id: i64,
    scope: RuleScope,
    value: &str,
) -> Result<Option<exclusion_rules::Model>, DbErr> {
    exclusion_rules::Entity::find()
        .filter(exclusion_rules::Column::OrganizationId.eq(org_id))
        .filter(scope.condition())
        .filter(exclusion_rules::Column::Value.eq(value))
        .one(db)
        .await
}

fn rule_value(m: &exclusion_rules::Model) -> RuleValue {
    RuleValue {
        kind: RuleKind::from_setting(&m.kind),
        value: m.value.clone(),
    }
}

/// Remove the rule `id` of `scope` (audited). Future mail is no longer excluded, and the
/// ledger forgets the messages it kept out, so a resync fetches them again.
pub async fn remove<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    scope: RuleScope,
    id: i64,
) -> Result<exclusion_rules::Model, ExclusionError> {
    let txn = super::begin_write(db).await?;
    let rule = exclusion_rules::Entity::find_by_id(id)
        .filter(exclusion_rules::Column::OrganizationId.eq(org_id))
        .filter(scope.condition())
        .one(&txn)
        .await?
        .ok_or(ExclusionError::NotFound)?;
    exclusion_rules::Entity::delete_by_id(id).exec(&txn).await?;
    let forgotten = sync_ledger::Entity::delete_many()
        .filter(sync_ledger::Column::OrganizationId.eq(org_id))
        .filter(sync_ledger::Column::ExclusionRuleId.eq(id))
        .filter(sync_ledger::Column::Reason.eq(EXCLUDED))
        .exec(&txn)
        .await?
        .rows_affected;
    audit::record(
        &txn,
        Entry {
            organization_id: org_id,
            actor_user_id: Some(actor),
            action: "exclusion.remove",
            subject_kind: "exclusion_rule",
            subject_id: Some(id),
            detail: format!(
                "{}: {forgotten} ledger entries forgotten",
                scope.audit_label(id, &rule.value)
            ),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(rule)
}

/// The rules covering mailbox `account_id`: the organization's and its owner's.
pub async fn for_mailbox(
    db: &impl ConnectionTrait,
    org_id: i64,
    account_id: i64,
) -> Result<Exclusions, DbErr> {
    let sql = "SELECT r.id, r.kind, r.value FROM exclusion_rules r WHERE r.organization_id = ? \
               AND (r.user_id IS NULL OR r.user_id = \
               (SELECT a.owner_user_id FROM mail_accounts a WHERE a.id = ?))";
    let st = super::batch::statement(
        db.get_database_backend(),
        sql,
        vec![org_id.into(), account_id.into()],
    );
    let mut rules = Vec::new();
    for row in db.query_all(st).await? {
        let kind: String = row.try_get("", "kind")?;
        rules.push((
            row.try_get::<i64>("", "id")?,
            RuleValue {
                kind: RuleKind::from_setting(&kind),
                value: row.try_get("", "value")?,
            },
        ));
    }
    Ok(Exclusions::new(rules))
}

/// One pass's exclusion rules for one mailbox: read again only when the organization's rules
/// changed (their count and highest id, one cheap statement per page).
pub struct PassExclusions {
    organization_id: i64,
    account_id: i64,
    loaded: Option<((i64, i64), Exclusions)>,
}

impl PassExclusions {
    pub fn new(organization_id: i64, account_id: i64) -> Self {
        Self {
            organization_id,
            account_id,
            loaded: None,
        }
    }

    /// Called in the page's transaction: on PostgreSQL it first takes the organization's rules
    /// lock shared (see [`lock_rules`]).
    pub async fn current(&mut self, db: &impl ConnectionTrait) -> Result<&Exclusions, DbErr> {
        lock_rules(db, self.organization_id, false).await?;
        let sql = "SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS top FROM exclusion_rules \
                   WHERE organization_id = ?";
        let st = super::batch::statement(
            db.get_database_backend(),
            sql,
            vec![Value::from(self.organization_id)],
        );
        let row = db
            .query_one(st)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("exclusion stamp".into()))?;
        let stamp = (row.try_get::<i64>("", "n")?, row.try_get::<i64>("", "top")?);
        if self.loaded.as_ref().is_none_or(|(s, _)| *s != stamp) {
            let rules = for_mailbox(db, self.organization_id, self.account_id).await?;
            self.loaded = Some((stamp, rules));
        }
        Ok(&self.loaded.as_ref().expect("loaded above").1)
    }
}

/// Of a page's `messages` (by provider id), remove the new ones (not in `stored`) a rule
/// covering the mailbox matches, ledgered as excluded; how many. The rules (kept by the pass's
/// `directory`) are only read for a page with new messages.
pub(crate) async fn keep_out(
    db: &impl ConnectionTrait,
    owner: Owner,
    directory: &mut PassDirectory,
    messages: &mut HashMap<&str, &NormalizedMessage>,
    stored: &HashMap<String, i64>,
) -> Result<u64, DbErr> {
    if messages.keys().all(|pid| stored.contains_key(*pid)) {
        return Ok(0);
    }
    let rules = directory.exclusions(db).await?;
    let excluded: Vec<(&str, i64, String)> = messages
        .iter()
        .filter(|(pid, _)| !stored.contains_key(**pid))
        .filter_map(|(pid, m)| {
            let rule = rules.matching(m.participants.iter().map(|p| &p.address))?;
            Some((*pid, rule, Folders::from_labels(&m.folders).to_json()))
        })
        .collect();
    if excluded.is_empty() {
        return Ok(0);
    }
    record_excluded(db, owner, &excluded).await?;
    for (pid, _, _) in &excluded {
        messages.remove(pid);
    }
    Ok(excluded.len() as u64)
}

/// Advisory-lock namespace of the rules lock ("EXCL").
const LOCK_SPACE: i32 = 0x4558_434c;

/// PostgreSQL: lock the organization's rules until the transaction ends, shared for a page of
/// ingest, exclusive for applying a rule. A page committing while a rule is applied is then
/// either seen (and purged) by it, or waits and reads the rule. SQLite serializes writing
/// transactions anyway.
pub(crate) async fn lock_rules(
    db: &impl ConnectionTrait,
    org_id: i64,
    exclusive: bool,
) -> Result<(), DbErr> {
    if !super::is_postgres(db) {
        return Ok(());
    }
    let f = if exclusive {
        "pg_advisory_xact_lock"
    } else {
        "pg_advisory_xact_lock_shared"
    };
    // Organizations beyond 2^31 share a key now and then: they only wait for each other.
    let key = (org_id & 0x7fff_ffff) as i32;
    let st = super::batch::statement(
        db.get_database_backend(),
        &format!("SELECT {f}(?, ?)::text"),
        vec![LOCK_SPACE.into(), key.into()],
    );
    db.execute(st).await?;
    Ok(())
}

/// Record messages of one mailbox kept out by rules: `(provider id, rule id, folders)` with
/// the folders (JSON, as `emails.folders`) the message is in, which reconciliation counts it
/// under. An entry already there takes the new reason (the latest wins, as for every skip).
pub async fn record_excluded(
    db: &impl ConnectionTrait,
    owner: Owner,
    skips: &[(&str, i64, String)],
) -> Result<(), DbErr> {
    let now = super::now();
    for chunk in skips.chunks(super::batch::rows_per_insert(8)) {
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 8);
        let rows: Vec<&str> = chunk
            .iter()
            .map(|(pid, rule, folders)| {
                values.extend([
                    owner.organization_id.into(),
                    owner.account_id.into(),
                    (*pid).into(),
                    EXCLUDED.into(),
                    format!("excluded by rule {rule}").into(),
                    now.into(),
                    (*rule).into(),
                    folders.clone().into(),
                ]);
                "(?, ?, ?, ?, ?, ?, ?, ?)"
            })
            .collect();
        let sql = format!(
            "INSERT INTO sync_ledger (organization_id, account_id, provider_message_id, reason, \
             detail, created_at, exclusion_rule_id, folders) VALUES {} \
             ON CONFLICT (account_id, provider_message_id) DO UPDATE SET \
             reason = excluded.reason, detail = excluded.detail, \
             exclusion_rule_id = excluded.exclusion_rule_id, folders = excluded.folders",
            rows.join(", ")
        );
        let st = super::batch::statement(db.get_database_backend(), &sql, values);
        db.execute(st).await?;
    }
    Ok(())
}
