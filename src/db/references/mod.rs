//! Reference rules and the references they find: the rules (audited edits), the matches of a
//! page of new mail written in its transaction ([`match_new`], a few set-based statements per
//! page), and the set-based write every path shares ([`write`]). Reading references for a
//! page is in [`read`]; the retroactive apply's chunks and the preview are in [`apply`].
pub mod apply;
pub mod read;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, TransactionTrait, Value,
};

use super::audit::{self, Entry};
use super::entities::reference_rules;
use crate::domain::message::NormalizedMessage;
use crate::domain::references::{self as rules, Found, Pattern, RuleName, UrlTemplate};

#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error("A rule named {0} exists already.")]
    Duplicate(String),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A rule as typed in the form, parsed.
#[derive(Debug, Clone)]
pub struct RuleInput {
    pub name: RuleName,
    pub pattern: Pattern,
    pub url: Option<UrlTemplate>,
}

/// A stored rule, compiled.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub id: i64,
    pub pattern: Pattern,
}

/// The organization's rules, by name.
pub async fn list(
    db: &impl ConnectionTrait,
    org_id: i64,
) -> Result<Vec<reference_rules::Model>, DbErr> {
    reference_rules::Entity::find()
        .filter(reference_rules::Column::OrganizationId.eq(org_id))
        .order_by_asc(reference_rules::Column::Name)
        .all(db)
        .await
}

/// The organization's rule `id`.
pub async fn find(
    db: &impl ConnectionTrait,
    org_id: i64,
    id: i64,
) -> Result<Option<reference_rules::Model>, DbErr> {
    reference_rules::Entity::find_by_id(id)
        .filter(reference_rules::Column::OrganizationId.eq(org_id))
        .one(db)
        .await
}

/// The organization's rule named `name`.
pub async fn by_name(
    db: &impl ConnectionTrait,
    org_id: i64,
    name: &str,
) -> Result<Option<reference_rules::Model>, DbErr> {
    reference_rules::Entity::find()
        .filter(reference_rules::Column::OrganizationId.eq(org_id))
        .filter(reference_rules::Column::Name.eq(name))
        .one(db)
        .await
}

/// Save a new rule (`id` None) or change rule `id`, audited, in the caller's transaction.
/// Matches are (re)written by the apply job the caller queues.
pub async fn save(
    db: &impl ConnectionTrait,
    org_id: i64,
    actor: i64,
    id: Option<i64>,
    input: &RuleInput,
) -> Result<reference_rules::Model, ReferenceError> {
    let name = input.name.as_str();
    if let Some(other) = by_name(db, org_id, name).await? {
        if Some(other.id) != id {
            return Err(ReferenceError::Duplicate(name.to_string()));
        }
    }
    let now = super::now();
    let url = input.url.as_ref().map(|u| u.as_str().to_string());
    let (saved, action) = match id {
        None => {
            let row = reference_rules::ActiveModel {
                organization_id: Set(org_id),
                name: Set(name.to_string()),
                pattern: Set(input.pattern.as_str().to_string()),
                url_template: Set(url),
                created_by: Set(actor),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            };
            (row.insert(db).await?, "reference_rule.create")
        }
        Some(id) => {
            let old = find(db, org_id, id)
                .await?
                .ok_or(ReferenceError::NotFound)?;
            let mut row: reference_rules::ActiveModel = old.into();
            row.name = Set(name.to_string());
            row.pattern = Set(input.pattern.as_str().to_string());
            row.url_template = Set(url);
            row.updated_at = Set(now);
            (row.update(db).await?, "reference_rule.update")
        }
    };
    audit::record(
        db,
        Entry {
            organization_id: org_id,
            actor_user_id: Some(actor),
            action,
            subject_kind: "reference_rule",
            subject_id: Some(saved.id),
            detail: format!("{}: {}", saved.name, saved.pattern),
        },
    )
    .await?;
    Ok(saved)
}

/// Delete rule `id` and every reference it found (cascades), audited.
pub async fn remove<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    org_id: i64,
    actor: i64,
    id: i64,
) -> Result<reference_rules::Model, ReferenceError> {
    let txn = super::begin_write(db).await?;
    let rule = find(&txn, org_id, id)
        .await?
        .ok_or(ReferenceError::NotFound)?;
    // Explicit, so the rows go whatever the engine does with foreign keys.
    let values = "SELECT v.id FROM reference_values v WHERE v.rule_id = ?";
    for sql in [
        format!("DELETE FROM email_references WHERE reference_id IN ({values})"),
        "DELETE FROM reference_values WHERE rule_id = ?".to_string(),
        "DELETE FROM reference_rules WHERE id = ?".to_string(),
    ] {
        let st = super::batch::statement(txn.get_database_backend(), &sql, vec![id.into()]);
        txn.execute(st).await?;
    }
    super::jobs::remove(&txn, crate::domain::job::JobKind::ApplyReferences, id).await?;
    audit::record(
        &txn,
        Entry {
            organization_id: org_id,
            actor_user_id: Some(actor),
            action: "reference_rule.remove",
            subject_kind: "reference_rule",
            subject_id: Some(id),
            detail: format!("{}: {}", rule.name, rule.pattern),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(rule)
}

/// The organization's rules, compiled (a stored pattern that no longer compiles is skipped).
pub async fn compiled(db: &impl ConnectionTrait, org_id: i64) -> Result<Vec<Compiled>, DbErr> {
    let st = super::batch::statement(
        db.get_database_backend(),
        "SELECT id, pattern FROM reference_rules WHERE organization_id = ? ORDER BY id",
        vec![org_id.into()],
    );
    let mut out = Vec::new();
    for row in db.query_all(st).await? {
        let pattern: String = row.try_get("", "pattern")?;
        if let Ok(pattern) = Pattern::parse(&pattern) {
            out.push(Compiled {
                id: row.try_get("", "id")?,
                pattern,
            });
        }
    }
    Ok(out)
}

/// One email's text as the rules read it.
pub struct EmailText<'a> {
    pub email_id: i64,
    pub subject: &'a str,
    pub body: &'a str,
}

/// The references `rules` find in `emails`: `(email id, rule id, found)`.
pub fn find_all(rules: &[Compiled], emails: &[EmailText<'_>]) -> Vec<(i64, i64, Found)> {
    let mut out = Vec::new();
    for e in emails {
        for r in rules {
            for f in rules::find(&r.pattern, e.subject, e.body) {
                out.push((e.email_id, r.id, f));
            }
        }
    }
    out
}

/// The references of a page of new mail, written in the page's transaction: one statement
/// for the rules, and only when some rule matched, two set-based writes.
pub(crate) async fn match_new(
    db: &impl ConnectionTrait,
    org_id: i64,
    emails: &[EmailText<'_>],
) -> Result<u64, DbErr> {
    if emails.is_empty() {
        return Ok(0);
    }
    let rules = compiled(db, org_id).await?;
    if rules.is_empty() {
        return Ok(0);
    }
    write(db, org_id, &find_all(&rules, emails)).await
}

/// [`match_new`] for a page's new messages, `(email id, message)`.
pub(crate) async fn match_messages(
    db: &impl ConnectionTrait,
    org_id: i64,
    fresh: &[(i64, &NormalizedMessage)],
) -> Result<u64, DbErr> {
    let bodies: Vec<_> = fresh
        .iter()
        .map(|(_, m)| rules::body_text(m.body_text.as_deref(), m.body_html.as_deref()))
        .collect();
    let texts: Vec<EmailText<'_>> = fresh
        .iter()
        .zip(&bodies)
        .map(|((id, m), body)| EmailText {
            email_id: *id,
            subject: &m.subject,
            body,
        })
        .collect();
    match_new(db, org_id, &texts).await
}

/// Store `found` (`(email id, rule id, found)`): the values (created when new, in one
/// statement per chunk that returns their ids), then the emails' matches (a match already
/// there takes the new places). Returns the matches written.
pub async fn write(
    db: &impl ConnectionTrait,
    org_id: i64,
    found: &[(i64, i64, Found)],
) -> Result<u64, DbErr> {
    if found.is_empty() {
        return Ok(0);
    }
    let backend = db.get_database_backend();
    let mut distinct: Vec<(i64, &str)> = found
        .iter()
        .map(|(_, r, f)| (*r, f.value.as_str()))
        .collect();
    distinct.sort_unstable();
    distinct.dedup();
    let mut ids = std::collections::HashMap::new();
    for chunk in distinct.chunks(super::batch::rows_per_insert(3)) {
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 3);
        for (rule, value) in chunk {
            values.extend([org_id.into(), (*rule).into(), (*value).into()]);
        }
        let sql = format!(
            "INSERT INTO reference_values (organization_id, rule_id, value) VALUES {} \
             ON CONFLICT (rule_id, value) DO UPDATE SET value = excluded.value \
             RETURNING id, rule_id, value",
            vec!["(?, ?, ?)"; chunk.len()].join(", ")
        );
        let st = super::batch::statement(backend, &sql, values);
        for row in db.query_all(st).await? {
            let key: (i64, String) = (row.try_get("", "rule_id")?, row.try_get("", "value")?);
            ids.insert(key, row.try_get::<i64>("", "id")?);
        }
    }
    let rows: Vec<(i64, i64, bool, bool)> = found
        .iter()
        .filter_map(|(email, rule, f)| {
            let id = *ids.get(&(*rule, f.value.clone()))?;
            Some((id, *email, f.in_subject, f.in_body))
        })
        .collect();
    for chunk in rows.chunks(super::batch::rows_per_insert(5)) {
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 5);
        for (reference, email, subject, body) in chunk {
            values.extend([
                org_id.into(),
                (*reference).into(),
                (*email).into(),
                (*subject).into(),
                (*body).into(),
            ]);
        }
        let sql = format!(
            "INSERT INTO email_references (organization_id, reference_id, email_id, in_subject, \
             in_body) VALUES {} ON CONFLICT (reference_id, email_id) DO UPDATE SET \
             in_subject = excluded.in_subject, in_body = excluded.in_body",
            vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ")
        );
        db.execute(super::batch::statement(backend, &sql, values))
            .await?;
    }
    Ok(rows.len() as u64)
}
