//! Stored mail for the timeline benchmark, seeded set-based (`INSERT ... SELECT` over a generated
//! series) so a million emails take a minute or two, not hours.
//!
//! Row `i` (1..=emails, kept in `size_bytes`) is message `m`: `i` itself, or for every tenth row
//! a copy of message `i - 1` in a colleague's mailbox (same Message-ID, thread and time, so a
//! timeline must show it once). Messages come in threads of three (`t = (m + 2) / 3`), one a
//! minute from 2024-12-01 on, alternately from a customer and from a colleague. Every 49th
//! thread belongs to the heavy business "Bench 0" (about 2% of all mail; 49, not 50, so its
//! messages fall evenly under the rules that go by tens and threes, such as copies and read
//! marks); the rest are spread over the other businesses. Each email is linked to its business as ingest would link it; the
//! reader has read two messages in three and starred one in 29; one in seven has attachments.
use std::fmt::Write;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

use super::seed::{run, series};

/// What to seed.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub emails: u64,
    pub businesses: u64,
}

/// The ids the seed made.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// Business `k` ("Bench k") has id `first_business + k`; business 0 is the heavy one.
    pub first_business: i64,
    pub businesses: u64,
}

/// Mailboxes of the organization, one per colleague (the reader owns the first).
pub const MAILBOXES: usize = 8;

const SUBJECTS: [&str; 12] = [
    "Renewal quote",
    "Invoice question",
    "Shipment delayed",
    "Meeting notes",
    "Proposal draft",
    "Support ticket",
    "Contract review",
    "Order confirmation",
    "Pricing update",
    "Onboarding plan",
    "Security questionnaire",
    "Quarterly review",
];

const SNIPPETS: [&str; 8] = [
    "Thanks for the quick reply, attached is the updated version we discussed on the call.",
    "Could you confirm the delivery date before Friday? Our warehouse needs two days notice.",
    "Following up on last week: legal approved the changes, we can sign this month.",
    "The invoice total does not match the purchase order, can you check line three?",
    "Great meeting today. Summary and next steps below, please add anything I missed.",
    "We are seeing the error again since this morning, screenshots attached.",
    "Happy to move forward with the annual plan if the discount still applies.",
    "Please find the signed copy attached. Let me know when the account is ready.",
];

/// `CASE {expr} % n WHEN 0 THEN 'a' ... END` over `words`.
fn pick(expr: &str, words: &[&str]) -> String {
    let mut s = format!("CASE {expr} % {} ", words.len());
    for (i, w) in words.iter().enumerate() {
        let _ = write!(s, "WHEN {i} THEN '{}' ", w.replace('\'', "''"));
    }
    s.push_str("END");
    s
}

/// The minute of message `m` as a timestamp.
fn minute(backend: DbBackend, m: &str) -> String {
    match backend {
        DbBackend::Postgres => {
            format!("TIMESTAMPTZ '2024-12-01T00:00:00+00:00' + {m} * INTERVAL '1 minute'")
        }
        _ => format!(
            "strftime('%Y-%m-%dT%H:%M:%S+00:00', '2024-12-01 00:00:00', '+' || {m} || ' minutes')"
        ),
    }
}

/// The business index `k` of thread `t` (0 is the heavy business).
fn business_of(t: &str, businesses: u64) -> String {
    let others = businesses.saturating_sub(1).max(1);
    format!("CASE WHEN {t} % 49 = 0 THEN 0 ELSE 1 + ({t} * 7919) % {others} END")
}

/// Seed the plan into `org_id`: businesses, emails in `mailboxes` (the reader's first),
/// participants, links, the reader's marks and the search index.
pub async fn seed(
    db: &impl ConnectionTrait,
    org_id: i64,
    reader: i64,
    mailboxes: &[i64],
    plan: Plan,
    progress: impl Fn(&str),
) -> Result<Seeded, DbErr> {
    let b = db.get_database_backend();
    let n = plan.businesses.max(2);
    let now = minute(b, "0");
    progress("businesses");
    run(
        db,
        format!(
            "INSERT INTO businesses (organization_id, name, notes, created_at, updated_at) \
             SELECT {org_id}, 'Bench ' || CAST(i - 1 AS TEXT), '', {now}, {now} FROM {}",
            series(b, n)
        ),
    )
    .await?;
    let (first, count) = business_range(db, org_id).await?;
    if u64::try_from(count).ok() != Some(n) {
        return Err(DbErr::Custom(format!(
            "expected {n} bench businesses, found {count}"
        )));
    }
    run(
        db,
        format!(
            "INSERT INTO business_domains (organization_id, business_id, domain) \
             SELECT {org_id}, id, 'benchco' || CAST(id - {first} AS TEXT) || '.com' \
             FROM businesses WHERE organization_id = {org_id}"
        ),
    )
    .await?;

    progress("emails");
    let m = "(CAST(i AS BIGINT) - CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END)";
    let slots = mailboxes.len() as u64;
    let mut account = String::from("CASE ");
    for (slot, id) in mailboxes.iter().enumerate() {
        let _ = write!(account, "WHEN a = {slot} THEN {id} ");
    }
    account.push_str("END");
    let subject = pick("t", &SUBJECTS);
    let snippet = pick("m", &SNIPPETS);
    run(
        db,
        format!(
            "INSERT INTO emails (organization_id, account_id, provider_message_id, message_id, \
             message_key, thread_key, subject, snippet, sent_at, received_at, has_attachments, \
             size_bytes, created_at, updated_at) \
             SELECT {org_id}, {account}, 'b' || CAST(i AS TEXT), '<m' || CAST(m AS TEXT) || \
             '@bench>', '<m' || CAST(m AS TEXT) || '@bench>', '<m' || CAST(3 * t - 2 AS TEXT) \
             || '@bench>', CASE WHEN m % 3 = 1 THEN '' ELSE 'Re: ' END || {subject} || ' #' || \
             CAST(t AS TEXT), {snippet}, {at}, {at}, m % 7 = 0, i, {at}, {at} \
             FROM (SELECT i, m, (m + 2) / 3 AS t, CASE WHEN i % 10 = 0 THEN (m % {slots} + 1) \
             % {slots} ELSE m % {slots} END AS a FROM (SELECT i, {m} AS m FROM {}) x) y",
            series(b, plan.emails),
            at = minute(b, "m"),
        ),
    )
    .await?;

    // Each stored email with its message, thread and business.
    let k = business_of("t", n);
    let rows = format!(
        "(SELECT id, received_at, message_key, i, m, t, {k} AS k FROM (SELECT id, received_at, \
         message_key, i, m, (m + 2) / 3 AS t FROM (SELECT e.id, e.received_at, e.message_key, \
         e.size_bytes AS i, e.size_bytes - CASE WHEN e.size_bytes % 10 = 0 THEN 1 ELSE 0 END AS m FROM emails e \
         WHERE e.organization_id = {org_id}) x) y) r"
    );
    progress("participants");
    let customer = "'contact' || CAST(t % 7 AS TEXT) || '@benchco' || CAST(k AS TEXT) || '.com'";
    let customer_name = "'Customer ' || CAST(t % 7 AS TEXT) || ' of Bench ' || CAST(k AS TEXT)";
    let colleague = format!("'user' || CAST(m % {slots} AS TEXT) || '@ourco.com'");
    let colleague_name = format!("'Colleague ' || CAST(m % {slots} AS TEXT)");
    let customer_domain = "'benchco' || CAST(k AS TEXT) || '.com'";
    for (role, inbound) in [("from", true), ("to", false)] {
        let (ca, cn, cd) = (customer, customer_name, customer_domain);
        let (oa, on, od) = (colleague.as_str(), colleague_name.as_str(), "'ourco.com'");
        // Inbound messages (odd m) are from the customer to the colleague; outbound the reverse.
        let side = |c: &str, o: &str| {
            if inbound {
                format!("CASE WHEN m % 2 = 1 THEN {c} ELSE {o} END")
            } else {
                format!("CASE WHEN m % 2 = 1 THEN {o} ELSE {c} END")
            }
        };
        let (addr, name, domain) = (side(ca, oa), side(cn, on), side(cd, od));
        run(
            db,
            format!(
                "INSERT INTO email_participants (organization_id, email_id, role, address, name, \
                 domain, registrable) SELECT {org_id}, id, '{role}', {addr}, {name}, {domain}, \
                 {domain} FROM {rows}"
            ),
        )
        .await?;
    }

    progress("senders");
    run(
        db,
        format!(
            "UPDATE emails SET sender_name = p.name, sender_address = p.address \
             FROM email_participants p WHERE p.email_id = emails.id AND p.role = 'from' \
             AND emails.organization_id = {org_id}"
        ),
    )
    .await?;

    progress("links");
    run(
        db,
        format!(
            "INSERT INTO email_links (organization_id, email_id, business_id, source, reason, \
             tombstone, received_at, created_at) SELECT {org_id}, id, {first} + k, 'auto', \
             'domain', FALSE, received_at, received_at FROM {rows}"
        ),
    )
    .await?;

    progress("read and starred marks");
    run(
        db,
        format!(
            "INSERT INTO user_email_states (organization_id, user_id, message_key, read_at, \
             starred_at) SELECT {org_id}, {reader}, message_key, CASE WHEN m % 3 <> 0 THEN \
             received_at END, CASE WHEN m % 29 = 0 THEN received_at END FROM {rows} \
             WHERE i % 10 <> 0 AND (m % 3 <> 0 OR m % 29 = 0)"
        ),
    )
    .await?;

    progress("search index");
    threadline::db::search::rebuild(db).await?;
    Ok(Seeded {
        first_business: first,
        businesses: n,
    })
}

/// The lowest business id of the organization and how many it has (ids must be contiguous).
pub async fn business_range(db: &impl ConnectionTrait, org_id: i64) -> Result<(i64, i64), DbErr> {
    let row = db
        .query_one(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), -1), COUNT(*) FROM businesses \
                 WHERE organization_id = {org_id}"
            ),
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("bench businesses".into()))?;
    let (min, max, count): (i64, i64, i64) = (
        row.try_get_by_index(0)?,
        row.try_get_by_index(1)?,
        row.try_get_by_index(2)?,
    );
    if max - min + 1 != count {
        return Err(DbErr::Custom(
            "bench business ids are not contiguous".into(),
        ));
    }
    Ok((min, count))
}
