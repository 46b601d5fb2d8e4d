//! How a timeline page finds the threads that match a search on PostgreSQL: a bounded walk of
//! the scope's time index that tests each link's search row, switching to the matching emails
//! of the full-text index when the search turns out selective in this scope.
//!
//! - **Walk.** The scope's links newest first, each tested by a look-up of its email's search
//!   row (`db::search::matches`). Its cost is one look-up per walked link, so it suits a word
//!   that is common in the scope: for "invoice" (in about one email in eleven) a page of 25
//!   threads walks about 900 links. Each statement walks at most `budget` links and reports
//!   where it stopped, so a rare word never walks a heavy business's 20,000 links in one go.
//! - **Candidates.** When a walk reaches its budget having found few matches, the GIN index
//!   gives the organization's matching emails (at most [`CANDIDATE_CAP`] per wanted thread); the
//!   page's threads
//!   are then read from those emails alone (each with its link, by the unique link index),
//!   newest first. Its cost is one look-up per matching email of the organization, so it suits
//!   a word that is rare: a thread number or a name, which the walk would look for through
//!   every link. A word with more matches than the cap keeps the walk (the attempt costs the
//!   index scan once per page).
//!
//! Neither plan depends on statistics: the walk is the scope's index in order with a per-row
//! sub-select, the candidates a GIN bitmap scan (a materialized CTE, planned for every row, so
//! a `LIMIT` cannot tempt the planner into a sequential scan) followed by primary-key look-ups
//! of an explicit id list. SQLite keeps its FTS5 `MATCH` in the walk (`db::search::matches`).
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use super::sql::{from_where, keys, levels_apply, search_test, Drive, Sql, Within};
use super::{Cursor, Filters};
use crate::domain::search::SearchQuery;

/// Links the first walk statement may test, per wanted thread (1,040 for a page of 25); each
/// further walk doubles it up to [`MAX_BUDGET`] per thread. Literal in the statement, so a
/// page size has one prepared statement per budget.
const FIRST_BUDGET: usize = 40;
const MAX_BUDGET: usize = 640;
/// The most matching emails of an organization the candidate path reads, per wanted thread
/// (2,080 for a page of 25).
const CANDIDATE_CAP: usize = 80;
/// A word is rare in a scope when fewer than `RARE.0` of `RARE.1` walked links match (one in
/// about 53): then the organization's matching emails are tried. The same rate as half the
/// first batch (three matches per wanted thread) in the 80 links per thread the first walk
/// used to test, now told from a first walk half as long: a thread number costs a page 1,040
/// links before its candidates instead of 2,080, and a common word stops at its batch as
/// before.
const RARE: (usize, usize) = (3, 160);

/// One walked row: its thread and position, and whether it matches (a walk stopped by its
/// budget reports its last link, which may not).
pub struct Walked {
    pub key: String,
    pub at: Cursor,
    pub hit: bool,
}

/// A batch of rows in timeline order, and whether the scope has nothing after them.
pub struct Fetched {
    pub rows: Vec<Walked>,
    pub exhausted: bool,
}

enum Mode {
    Walk {
        budget: usize,
        tried_candidates: bool,
    },
    /// The organization's matching emails, as a PostgreSQL array literal.
    Candidates(String),
}

/// The search strategy of one page (see the module documentation).
pub struct SearchWalk<'a> {
    query: &'a SearchQuery,
    /// The page's other filters (the search is applied by the strategy).
    rest: Filters,
    want: usize,
    hits: usize,
    mode: Mode,
}

impl<'a> SearchWalk<'a> {
    pub fn new(filters: &Filters, query: &'a SearchQuery, want: usize) -> Self {
        Self {
            query,
            rest: Filters {
                search: None,
                ..filters.clone()
            },
            want,
            hits: 0,
            mode: Mode::Walk {
                budget: FIRST_BUDGET * want.max(1),
                tried_candidates: false,
            },
        }
    }

    /// How many matching rows to ask for: at first three per wanted thread (a thread mostly
    /// matches with one to three of its messages), then as many as the threads still missing
    /// need at the rate of matching rows per thread seen so far, with a quarter to spare. Asking
    /// for far more than a page needs walks links for nothing (the old fixed batch of four per
    /// thread tested about 1,180 links for a page that needed 930).
    fn batch(&self, threads: usize, found: usize) -> usize {
        if self.hits == 0 || threads == 0 {
            return (self.want * 3).max(8);
        }
        let missing = self.want.saturating_sub(found).max(1);
        let per_thread = self.hits.div_ceil(threads);
        (missing * per_thread * 5 / 4).clamp(8, 5000)
    }

    /// The next rows after `position`; `threads` is how many distinct threads the walk has
    /// met so far, `found` how many of them the page lists (an earlier page showed the rest).
    pub async fn next(
        &mut self,
        db: &impl ConnectionTrait,
        w: Within<'_>,
        position: Option<Cursor>,
        threads: usize,
        found: usize,
    ) -> Result<Fetched, DbErr> {
        let batch = self.batch(threads, found);
        let fetched = match &mut self.mode {
            Mode::Candidates(ids) => {
                candidate_batch(db, w, &self.rest, self.query, ids, position, batch).await?
            }
            Mode::Walk {
                budget,
                tried_candidates,
            } => {
                let (fetched, cut) =
                    walk_batch(db, w, &self.rest, self.query, position, *budget, batch).await?;
                let hits = fetched.rows.iter().filter(|r| r.hit).count();
                if cut {
                    // Few matches in a whole budget of links: the word is rare here. If it is
                    // rare in the organization too, its matching emails are the cheaper path.
                    if !*tried_candidates && hits * RARE.1 < *budget * RARE.0 {
                        *tried_candidates = true;
                        let cap = CANDIDATE_CAP * self.want.max(1);
                        if let Some(ids) = candidates(db, w, self.query, cap).await? {
                            self.mode = Mode::Candidates(ids);
                        }
                    }
                    if let Mode::Walk { budget, .. } = &mut self.mode {
                        *budget = (*budget * 2).min(MAX_BUDGET * self.want.max(1));
                    }
                }
                fetched
            }
        };
        self.hits += fetched.rows.iter().filter(|r| r.hit).count();
        Ok(fetched)
    }
}

/// `position`'s keyset condition on the scope's keys.
fn after(sql: &mut Sql, at: &str, id: &str, position: Option<Cursor>) {
    if let Some(c) = position {
        sql.push(&format!(" AND {at} <= "))
            .bind(c.at)
            .push(&format!(" AND ({at} < "))
            .bind(c.at)
            .push(&format!(" OR {id} < "))
            .bind(c.email_id)
            .push(")");
    }
}

fn rows_of(rows: Vec<sea_orm::QueryResult>, with_hit: bool) -> Result<Vec<Walked>, DbErr> {
    rows.into_iter()
        .map(|row| {
            let at: DateTime<Utc> = row.try_get_by_index(1)?;
            Ok(Walked {
                key: row.try_get_by_index(0)?,
                at: Cursor {
                    at,
                    email_id: row.try_get_by_index(2)?,
                },
                hit: if with_hit {
                    row.try_get_by_index(3)?
                } else {
                    true
                },
            })
        })
        .collect()
}

/// Up to `batch` matching rows among the next `budget` links of the scope after `position`,
/// and whether the walk stopped at its budget (then its last link comes last, matching or
/// not, so the next walk starts after it). The inner walk reads the scope's index in order and
/// numbers its rows; the outer one tests them in that order and stops at `batch` matches.
async fn walk_batch(
    db: &impl ConnectionTrait,
    w: Within<'_>,
    rest: &Filters,
    query: &SearchQuery,
    position: Option<Cursor>,
    budget: usize,
    batch: usize,
) -> Result<(Fetched, bool), DbErr> {
    let k = keys(w.scope);
    // The reader's own search test (by level, when levels apply), as every timeline search.
    let (test, values) = search_test(w, query, "w.i");
    let mut sql = Sql::default();
    // An email without a search row matches nothing (the sub-select is NULL).
    sql.push(&format!(
        "SELECT w.t, w.a, w.i, CASE WHEN w.n = {budget} THEN COALESCE("
    ))
    .splice(&test, values.clone())
    .push(&format!(
        ", FALSE) ELSE TRUE END, w.n FROM (SELECT {} AS t, {} AS a, {} AS i, \
         row_number() OVER (ORDER BY {} DESC, {} DESC) AS n",
        k.thread, k.at, k.id, k.at, k.id
    ));
    from_where(&mut sql, w, Drive::Time, Some(rest));
    after(&mut sql, k.at, k.id, position);
    sql.push(&format!(
        " ORDER BY {} DESC, {} DESC LIMIT {budget}) w WHERE w.n = {budget} OR ",
        k.at, k.id
    ))
    .splice(&test, values)
    .push(" ORDER BY w.a DESC, w.i DESC LIMIT ")
    .bind(i64::try_from(batch).unwrap_or(i64::MAX));
    let rows = db.query_all(sql.build(w.backend)).await?;
    // Stopped by the budget when its last link came back (it always does, matching or not).
    let cut = match rows.last() {
        Some(row) => row.try_get_by_index::<i64>(4)? == i64::try_from(budget).unwrap_or(i64::MAX),
        None => false,
    };
    let walked = rows_of(rows, true)?;
    let exhausted = !cut && walked.len() < batch;
    Ok((
        Fetched {
            rows: walked,
            exhausted,
        },
        cut,
    ))
}

/// The organization's emails that match `query`, as an array literal, when there are at most
/// `cap` of them.
async fn candidates(
    db: &impl ConnectionTrait,
    w: Within<'_>,
    query: &SearchQuery,
    cap: usize,
) -> Result<Option<String>, DbErr> {
    let mut sql = Sql::default();
    sql.push(
        "WITH c AS MATERIALIZED (SELECT s.email_id FROM email_search s \
         WHERE s.organization_id = ",
    )
    .bind(w.reader.organization_id)
    .push(" AND s.document @@ to_tsquery('simple', ")
    .bind(query.tsquery())
    .push(&format!(")) SELECT c.email_id FROM c LIMIT {}", cap + 1));
    let rows = db.query_all(sql.build(w.backend)).await?;
    if rows.len() > cap {
        return Ok(None);
    }
    let mut ids = Vec::with_capacity(rows.len());
    for row in rows {
        ids.push(row.try_get_by_index::<i64>(0)?.to_string());
    }
    Ok(Some(format!("{{{}}}", ids.join(","))))
}

/// Up to `batch` of the scope's rows after `position` among the emails `ids`, newest first:
/// each email by its primary key, then its link (a look-up), sorted.
async fn candidate_batch(
    db: &impl ConnectionTrait,
    w: Within<'_>,
    rest: &Filters,
    query: &SearchQuery,
    ids: &str,
    position: Option<Cursor>,
    batch: usize,
) -> Result<Fetched, DbErr> {
    let k = keys(w.scope);
    let mut sql = Sql::default();
    sql.push(&format!("SELECT e.thread_key, {}, {}", k.at, k.id));
    from_where(&mut sql, w, Drive::Emails, Some(rest));
    sql.push(" AND e.id = ANY(CAST(")
        .bind(ids.to_string())
        .push(" AS BIGINT[]))");
    // The candidates matched the words in any field; a colleague's level may allow fewer.
    if levels_apply(w) {
        let (test, values) = search_test(w, query, k.id);
        sql.push(" AND ").splice(&test, values);
    }
    after(&mut sql, k.at, k.id, position);
    sql.push(&format!(" ORDER BY {} DESC, {} DESC LIMIT ", k.at, k.id))
        .bind(i64::try_from(batch).unwrap_or(i64::MAX));
    let rows = rows_of(db.query_all(sql.build(w.backend)).await?, false)?;
    let exhausted = rows.len() < batch;
    Ok(Fetched { rows, exhausted })
}
