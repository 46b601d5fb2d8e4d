//! Bulk-seeded stored mail for re-association benchmarks and tests: set-based
//! `INSERT ... SELECT` over a generated series, so a million emails take seconds, not hours.
//!
//! Email `i` (1..=emails, kept in `size_bytes`) is from `u{i % 50}@benchco{i % domains}.com`
//! to `me@ourco.com`; emails 1..=heavy also copy `ops@heavyco.com`. With `businesses`, each
//! `benchco{k}.com` (k >= 1) belongs to a business "Bench k" and its mail is linked to it, as
//! ingest would have done; `benchco0.com` and `heavyco.com` belong to nobody.
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

/// What to seed.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub emails: u64,
    pub domains: u64,
    pub heavy: u64,
    pub businesses: bool,
}

const AT: &str = "2026-01-01T00:00:00+00:00";

pub(super) fn series(backend: DbBackend, n: u64) -> String {
    match backend {
        DbBackend::Postgres => format!("generate_series(1, {n}) AS s(i)"),
        _ => format!(
            "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) \
             SELECT i FROM s) AS s"
        ),
    }
}

fn at(backend: DbBackend) -> String {
    match backend {
        DbBackend::Postgres => format!("TIMESTAMPTZ '{AT}'"),
        _ => format!("'{AT}'"),
    }
}

pub(super) async fn run(db: &impl ConnectionTrait, sql: String) -> Result<u64, DbErr> {
    let stmt = Statement::from_string(db.get_database_backend(), sql);
    Ok(db.execute(stmt).await?.rows_affected())
}

/// Seed the plan into `org_id` under a new mailbox; returns the mailbox id.
pub async fn seed(db: &impl ConnectionTrait, org_id: i64, plan: Plan) -> Result<i64, DbErr> {
    let b = db.get_database_backend();
    let (t, d) = (at(b), plan.domains.max(1));
    let address = format!("bench-{}@ourco.com", uuid::Uuid::new_v4().simple());
    run(
        db,
        format!(
            "INSERT INTO mail_accounts (organization_id, provider, address, created_at, \
             updated_at) VALUES ({org_id}, 'google', '{address}', {t}, {t})"
        ),
    )
    .await?;
    let account: i64 = db
        .query_one(Statement::from_string(
            b,
            format!("SELECT id FROM mail_accounts WHERE address = '{address}'"),
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("bench mailbox".into()))?
        .try_get_by_index(0)?;
    run(
        db,
        format!(
            "INSERT INTO emails (organization_id, account_id, provider_message_id, message_key, \
             thread_key, subject, received_at, size_bytes, created_at, updated_at) \
             SELECT {org_id}, {account}, 'b' || CAST(i AS TEXT), \
             '<b' || CAST(i AS TEXT) || '@bench>', '<b' || CAST(i AS TEXT) || '@bench>', \
             'Bench mail ' || CAST(i AS TEXT), {t}, i, {t}, {t} FROM {}",
            series(b, plan.emails)
        ),
    )
    .await?;
    let mine = format!("FROM emails e WHERE e.account_id = {account}");
    run(
        db,
        format!(
            "INSERT INTO email_participants (organization_id, email_id, role, address, name, \
             domain, registrable) SELECT {org_id}, e.id, 'from', 'u' || CAST(e.size_bytes % 50 \
             AS TEXT) || '@benchco' || CAST(e.size_bytes % {d} AS TEXT) || '.com', '', \
             'benchco' || CAST(e.size_bytes % {d} AS TEXT) || '.com', 'benchco' || \
             CAST(e.size_bytes % {d} AS TEXT) || '.com' {mine}"
        ),
    )
    .await?;
    run(
        db,
        format!(
            "INSERT INTO email_participants (organization_id, email_id, role, address, name, \
             domain, registrable) SELECT {org_id}, e.id, 'to', 'me@ourco.com', '', \
             'ourco.com', 'ourco.com' {mine}"
        ),
    )
    .await?;
    run(
        db,
        format!(
            "INSERT INTO email_participants (organization_id, email_id, role, address, name, \
             domain, registrable) SELECT {org_id}, e.id, 'cc', 'ops@heavyco.com', '', \
             'heavyco.com', 'heavyco.com' {mine} AND e.size_bytes <= {}",
            plan.heavy
        ),
    )
    .await?;
    if plan.businesses && plan.domains > 1 {
        businesses(db, org_id, plan.domains - 1).await?;
        run(
            db,
            format!(
                "INSERT INTO email_links (organization_id, email_id, business_id, source, \
                 reason, tombstone, received_at, created_at) SELECT {org_id}, p.email_id, \
                 d.business_id, 'auto', 'domain', FALSE, {t}, {t} FROM email_participants p \
                 JOIN business_domains d ON d.organization_id = p.organization_id AND \
                 d.domain = p.domain JOIN emails e ON e.id = p.email_id \
                 WHERE p.organization_id = {org_id} AND e.account_id = {account}"
            ),
        )
        .await?;
    }
    Ok(account)
}

/// Businesses "Bench k" owning `benchco{k}.com`, k in 1..=n.
async fn businesses(db: &impl ConnectionTrait, org_id: i64, n: u64) -> Result<(), DbErr> {
    let b = db.get_database_backend();
    let t = at(b);
    run(
        db,
        format!(
            "INSERT INTO businesses (organization_id, name, notes, created_at, updated_at) \
             SELECT {org_id}, 'Bench ' || CAST(i AS TEXT), '', {t}, {t} FROM {}",
            series(b, n)
        ),
    )
    .await?;
    run(
        db,
        format!(
            "INSERT INTO business_domains (organization_id, business_id, domain) \
             SELECT {org_id}, id, 'benchco' || substr(name, 7) || '.com' FROM businesses \
             WHERE organization_id = {org_id} AND name LIKE 'Bench %'"
        ),
    )
    .await?;
    Ok(())
}
