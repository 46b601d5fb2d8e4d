//! Applying a rule to stored mail. **Preview** counts the stored emails a rule matches, per
//! mailbox, and shows examples from the viewer's own mailboxes only (an admin previewing an
//! organization rule sees counts of colleagues' mailboxes, never their subjects). **Apply**
//! saves the rule and deletes every matching stored copy in its scope as thoroughly as a purge
//! (bodies, participants, attachments, links and the search index go in cascade; readers' marks
//! of messages left with no copy), records each in the sync ledger as `excluded` with the rule,
//! and audits it, in one transaction.
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    Set, TransactionTrait, Value,
};

use super::{rule_value, ExclusionError, RuleScope};
use crate::db::audit::{self, Entry};
use crate::db::emails::Owner;
use crate::db::entities::{emails, exclusion_rules, user_email_states};
use crate::domain::domains::registrable;
use crate::domain::exclusions::{RuleKind, RuleValue};

/// Stored emails a rule matches in one mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxCount {
    pub account_id: i64,
    pub address: String,
    /// The owner's name or address; empty for an organization mailbox.
    pub owner: String,
    pub emails: u64,
}

/// One matching email of the viewer's own mailboxes.
#[derive(Debug, Clone)]
pub struct Example {
    pub email_id: i64,
    pub subject: String,
    pub sender: String,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct Preview {
    pub total: u64,
    pub mailboxes: Vec<MailboxCount>,
    pub examples: Vec<Example>,
}

/// What applying a rule removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    pub rule_id: i64,
    pub emails: u64,
}

/// `emails e` rows of the organization in `scope` with a participant `rule` matches: the
/// condition and its bound values (`?` placeholders).
fn matching(org_id: i64, scope: RuleScope, rule: &RuleValue) -> (String, Vec<Value>) {
    let mut values: Vec<Value> = vec![org_id.into(), org_id.into()];
    let who = match rule.kind {
        RuleKind::Address => {
            values.push(rule.value.clone().into());
            "p.address = ?"
        }
        RuleKind::Domain => {
            // Subdomains share the rule's registrable domain: its index narrows the scan.
            values.push(registrable(&rule.value).unwrap_or_default().into());
            values.push(rule.value.clone().into());
            values.push(format!("%.{}", rule.value).into());
            "p.registrable = ? AND (p.domain = ? OR p.domain LIKE ?)"
        }
    };
    let mut sql = format!(
        "e.organization_id = ? AND e.id IN (SELECT p.email_id FROM email_participants p \
         WHERE p.organization_id = ? AND {who})"
    );
    if let RuleScope::Personal(user) = scope {
        sql.push_str(
            " AND e.account_id IN (SELECT a.id FROM mail_accounts a \
             WHERE a.organization_id = ? AND a.owner_user_id = ?)",
        );
        values.push(org_id.into());
        values.push(user.into());
    }
    (sql, values)
}

async fn query(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
    let st = crate::db::batch::statement(db.get_database_backend(), sql, values);
    db.query_all(st).await
}

/// How many stored emails `rule` would remove in `scope`, per mailbox, and up to `examples`
/// of them from `viewer`'s own mailboxes.
pub async fn preview(
    db: &impl ConnectionTrait,
    org_id: i64,
    scope: RuleScope,
    rule: &RuleValue,
    (viewer, examples): (i64, u64),
) -> Result<Preview, DbErr> {
    let (cond, values) = matching(org_id, scope, rule);
    let sql = format!(
        "SELECT e.account_id AS account_id, COUNT(*) AS n FROM emails e WHERE {cond} \
         GROUP BY e.account_id"
    );
    let mut counts = Vec::new();
    for row in query(db, &sql, values.clone()).await? {
        let n: i64 = row.try_get("", "n")?;
        counts.push((
            row.try_get::<i64>("", "account_id")?,
            u64::try_from(n).unwrap_or(0),
        ));
    }
    let mut out = Preview::default();
    if !counts.is_empty() {
        let ids: Vec<String> = counts.iter().map(|(id, _)| id.to_string()).collect();
        let sql = format!(
            "SELECT a.id, a.address, COALESCE(NULLIF(u.name, ''), u.email, '') AS owner FROM mail_accounts a \
             LEFT JOIN users u ON u.id = a.owner_user_id \
             WHERE a.organization_id = ? AND a.id IN ({})",
            ids.join(", ")
        );
        let rows = query(db, &sql, vec![org_id.into()]).await?;
        for (id, n) in counts {
            let Some(row) = rows
                .iter()
                .find(|r| r.try_get::<i64>("", "id").ok() == Some(id))
            else {
                continue;
            };
            out.total += n;
            out.mailboxes.push(MailboxCount {
                account_id: id,
                address: row.try_get("", "address")?,
                owner: row.try_get("", "owner")?,
                emails: n,
            });
        }
        out.mailboxes
            .sort_by(|a, b| b.emails.cmp(&a.emails).then(a.address.cmp(&b.address)));
    }
    let sql = format!(
        "SELECT e.id, e.subject, e.sender_address, e.received_at FROM emails e WHERE {cond} \
         AND e.account_id IN (SELECT a.id FROM mail_accounts a WHERE a.organization_id = ? \
         AND a.owner_user_id = ?) ORDER BY e.received_at DESC, e.id DESC LIMIT {examples}"
    );
    let mut values = values;
    values.push(org_id.into());
    values.push(viewer.into());
    for row in query(db, &sql, values).await? {
        out.examples.push(Example {
            email_id: row.try_get("", "id")?,
            subject: row.try_get("", "subject")?,
            sender: row.try_get("", "sender_address")?,
            received_at: row.try_get("", "received_at")?,
        });
    }
    Ok(out)
}

/// Save `rule` in `scope` and remove the stored mail it matches (see the module docs).
pub async fn apply<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    scope: RuleScope,
    rule: &RuleValue,
) -> Result<Applied, ExclusionError> {
    let txn = crate::db::begin_write(db).await?;
    super::lock_rules(&txn, org_id, true).await?;
    if super::find(&txn, org_id, scope, &rule.value)
        .await?
        .is_some()
    {
        return Err(ExclusionError::Duplicate(rule.value.clone()));
    }
    let saved = exclusion_rules::ActiveModel {
        organization_id: Set(org_id),
        user_id: Set(scope.user_id()),
        kind: Set(rule.kind.as_str().to_string()),
        value: Set(rule.value.clone()),
        created_by: Set(actor),
        created_at: Set(crate::db::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let removed = purge_matching(&txn, org_id, scope, saved.id, &rule_value(&saved)).await?;
    audit::record(
        &txn,
        Entry {
            organization_id: org_id,
            actor_user_id: Some(actor),
            action: "exclusion.add",
            subject_kind: "exclusion_rule",
            subject_id: Some(saved.id),
            detail: format!(
                "{}: {removed} stored emails removed",
                scope.audit_label(saved.id, &rule.value)
            ),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Applied {
        rule_id: saved.id,
        emails: removed,
    })
}

/// Delete the stored copies `rule` matches in `scope`, each ledgered as excluded by `rule_id`;
/// readers' marks go with the last copy of a message. Returns the copies removed.
async fn purge_matching(
    db: &impl ConnectionTrait,
    org_id: i64,
    scope: RuleScope,
    rule_id: i64,
    rule: &RuleValue,
) -> Result<u64, DbErr> {
    let (cond, values) = matching(org_id, scope, rule);
    let sql = format!(
        "SELECT e.id, e.account_id, e.provider_message_id, e.message_key, e.folders \
         FROM emails e WHERE {cond}"
    );
    let mut copies: Vec<(i64, i64, String, String, String)> = Vec::new();
    for row in query(db, &sql, values).await? {
        copies.push((
            row.try_get("", "id")?,
            row.try_get("", "account_id")?,
            row.try_get("", "provider_message_id")?,
            row.try_get("", "message_key")?,
            row.try_get("", "folders")?,
        ));
    }
    let mut accounts: BTreeSet<i64> = copies.iter().map(|c| c.1).collect();
    for account in std::mem::take(&mut accounts) {
        let skips: Vec<(&str, i64, String)> = copies
            .iter()
            .filter(|c| c.1 == account)
            .map(|c| (c.2.as_str(), rule_id, c.4.clone()))
            .collect();
        let owner = Owner {
            organization_id: org_id,
            account_id: account,
        };
        super::record_excluded(db, owner, &skips).await?;
    }
    let mut removed = 0;
    for chunk in copies.chunks(500) {
        removed += emails::Entity::delete_many()
            .filter(emails::Column::OrganizationId.eq(org_id))
            .filter(emails::Column::Id.is_in(chunk.iter().map(|c| c.0)))
            .exec(db)
            .await?
            .rows_affected;
    }
    let keys: Vec<String> = copies
        .into_iter()
        .map(|c| c.3)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for chunk in keys.chunks(500) {
        let left: BTreeSet<String> = emails::Entity::find()
            .select_only()
            .column(emails::Column::MessageKey)
            .filter(emails::Column::OrganizationId.eq(org_id))
            .filter(emails::Column::MessageKey.is_in(chunk.iter().cloned()))
            .into_tuple::<String>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let gone: Vec<&String> = chunk.iter().filter(|k| !left.contains(*k)).collect();
        if gone.is_empty() {
            continue;
        }
        user_email_states::Entity::delete_many()
            .filter(user_email_states::Column::OrganizationId.eq(org_id))
            .filter(user_email_states::Column::MessageKey.is_in(gone.into_iter().cloned()))
            .exec(db)
            .await?;
    }
    Ok(removed)
}
