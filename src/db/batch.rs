//! Set-based statements over one page's keys, written so their plans never depend on table
//! statistics (a freshly created table that grows fast is never analyzed while autovacuum is
//! off): keys are bound as a `VALUES` list and each is looked up by its own correlated
//! sub-select, which both engines answer with one probe of the unique index whatever they
//! believe about the table's size; rows found are then changed by primary key. Lists are
//! padded to a power of two (repeating their last key) so pages of similar size share one
//! prepared statement, and chunked far below SQLite's limit of 32,766 bound values.
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, Value};

/// Bound values per statement: far below SQLite's 32,766 (PostgreSQL allows 65,535). A
/// prepared statement's memory grows with its values and each pooled SQLite connection caches
/// its statements: at 30,000 values a 100,000-message Gmail pass on SQLite peaked at 189 MiB
/// of heap, at 8,000 at 105 MiB (and ran faster).
pub const MAX_VALUES: usize = 8_000;

/// Keys per look-up statement (one bound value each, plus the scope).
pub const KEYS: usize = 4_096;

/// Rows per multi-row INSERT of `columns` bound values each.
pub fn rows_per_insert(columns: usize) -> usize {
    (MAX_VALUES / columns.max(1)).max(1)
}

/// Text bound per statement at most (bodies, search documents): a page's text is written in
/// statements of a few MiB, so memory does not follow the page's size.
pub const MAX_TEXT: usize = 4 << 20;

/// Split `items` into runs of at most `rows` items and [`MAX_TEXT`] bytes of text (`text`
/// measures an item; a larger item is a run of its own).
pub fn runs<T>(items: &[T], rows: usize, text: impl Fn(&T) -> usize) -> Vec<&[T]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        let size = text(item);
        if i > start && (i - start >= rows || bytes + size > MAX_TEXT) {
            out.push(&items[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < items.len() {
        out.push(&items[start..]);
    }
    out
}

/// `values` padded to a power of two (at least 4) by repeating the last one.
pub fn padded<V: Clone>(values: &[V]) -> Vec<V> {
    let mut out = values.to_vec();
    if let Some(last) = values.last() {
        let n = values.len().next_power_of_two().max(4);
        out.resize(n, last.clone());
    }
    out
}

/// `v(k) AS (VALUES (?), (?), ...)` with `n` rows: the head of a `WITH`.
pub fn keys_cte(n: usize) -> String {
    let mut out = String::from("v(k) AS (VALUES ");
    for i in 0..n {
        out.push_str(if i == 0 { "(?)" } else { ", (?)" });
    }
    out.push(')');
    out
}

/// `(?, ?, ...)` with `n` placeholders, for `IN`.
pub fn list(n: usize) -> String {
    let mut out = String::from("(");
    for i in 0..n {
        out.push_str(if i == 0 { "?" } else { ", ?" });
    }
    out.push(')');
    out
}

/// A statement from `?`-placeholder SQL, numbered for PostgreSQL.
pub fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let text = match backend {
        DbBackend::Postgres => {
            let mut out = String::with_capacity(sql.len() + 16);
            let mut n = 0;
            for c in sql.chars() {
                if c == '?' {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                } else {
                    out.push(c);
                }
            }
            out
        }
        _ => sql.to_string(),
    };
    Statement::from_sql_and_values(backend, text, values)
}

/// For each chunk of `keys`: `WITH v(k) AS (VALUES ...) <select>`, where `select` reads `v.k`
/// and binds `scope` first (its `?`s come after the keys'). The rows of every chunk.
pub async fn per_key(
    db: &impl ConnectionTrait,
    keys: &[String],
    select: &str,
    scope: &[Value],
) -> Result<Vec<QueryResult>, DbErr> {
    let backend = db.get_database_backend();
    let mut rows = Vec::new();
    for chunk in keys.chunks(KEYS) {
        let chunk = padded(chunk);
        let sql = format!("WITH {} {select}", keys_cte(chunk.len()));
        let mut values: Vec<Value> = chunk.into_iter().map(Value::from).collect();
        values.extend(scope.iter().cloned());
        rows.extend(db.query_all(statement(backend, &sql, values)).await?);
    }
    Ok(rows)
}

/// `UPDATE <table> SET <set> WHERE id IN (ids) <filter>`, `set` binding `set_values` and
/// `filter` `filter_values`; chunked. The rows changed.
pub async fn update_by_id(
    db: &impl ConnectionTrait,
    table: &str,
    (set, set_values): (&str, &[Value]),
    ids: &[i64],
    (filter, filter_values): (&str, &[Value]),
) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut total = 0;
    for chunk in ids.chunks(KEYS) {
        let chunk = padded(chunk);
        let sql = format!(
            "UPDATE {table} SET {set} WHERE id IN {} {filter}",
            list(chunk.len())
        );
        let mut values = set_values.to_vec();
        values.extend(chunk.into_iter().map(Value::from));
        values.extend(filter_values.iter().cloned());
        let res = db.execute(statement(backend, &sql, values)).await?;
        // Padding repeats ids, which match once: the count is right.
        total += res.rows_affected();
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_pad_to_powers_of_two() {
        assert_eq!(padded(&[1, 2, 3, 4, 5]), vec![1, 2, 3, 4, 5, 5, 5, 5]);
        assert_eq!(padded(&[7]), vec![7, 7, 7, 7]);
        assert!(padded::<i64>(&[]).is_empty());
        assert_eq!(keys_cte(2), "v(k) AS (VALUES (?), (?))");
        let sizes = [1usize, MAX_TEXT, 1, 1, 1];
        let split: Vec<usize> = runs(&sizes, 2, |s| *s).iter().map(|r| r.len()).collect();
        assert_eq!(split, vec![1, 1, 2, 1]);
        assert_eq!(list(3), "(?, ?, ?)");
        let s = statement(DbBackend::Postgres, "a = ? AND b IN (?, ?)", vec![]);
        assert_eq!(s.sql, "a = $1 AND b IN ($2, $3)");
    }
}
