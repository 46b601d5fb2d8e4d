//! Several small reads of one page in one statement, hence one round trip to the database: a
//! business page's header, its linked-mail panel and its timeline's settings each read a row or
//! a few, and on PostgreSQL a round trip costs more than such a read.
//!
//! Each part is a `SELECT` (a `UNION ALL` of several is fine) of four columns: a kind of the
//! part's own choosing (an integer literal), a number and two texts, the last three possibly
//! NULL. The parts' rows come back by part, in no particular order, and each part decodes them
//! into a named row type of its own ([`FromPartRow`]), matching the kinds it chose.
use sea_orm::{ConnectionTrait, DbErr, QueryResult};

use super::timeline::sql::Sql;

/// The statement being assembled.
#[derive(Debug, Default)]
pub struct Combined {
    sql: Sql,
    parts: usize,
}

/// Which part of a [`Combined`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartId(usize);

/// One row of a part as the statement returns it; only the part's [`FromPartRow`] reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartRow {
    /// The kind the part chose (the first column).
    pub kind: i64,
    /// The number column.
    pub number: Option<i64>,
    /// The first text column.
    pub text: Option<String>,
    /// The second text column.
    pub extra: Option<String>,
}

/// A part's own row type, decoded from the columns the part selected.
pub trait FromPartRow: Sized {
    /// None for a row of a kind the part does not produce.
    fn from_part_row(row: PartRow) -> Option<Self>;
}

impl PartRow {
    /// This row as the part's own row type.
    pub fn decode<T: FromPartRow>(self) -> Option<T> {
        T::from_part_row(self)
    }
}

/// A part's rows as its own row type.
pub fn decode<T: FromPartRow>(rows: Vec<PartRow>) -> Vec<T> {
    rows.into_iter().filter_map(T::from_part_row).collect()
}

impl Combined {
    /// Add a part: `select` appends its `SELECT` of the four columns.
    pub fn part(&mut self, select: impl FnOnce(&mut Sql)) -> PartId {
        let id = PartId(self.parts);
        if self.parts > 0 {
            self.sql.push(" UNION ALL ");
        }
        self.sql.push(&format!("SELECT {}, p.* FROM (", id.0));
        select(&mut self.sql);
        self.sql.push(") p");
        self.parts += 1;
        id
    }

    /// Run every part at once.
    pub async fn run(self, db: &impl ConnectionTrait) -> Result<Parts, DbErr> {
        let mut rows = vec![Vec::new(); self.parts];
        if self.parts == 0 {
            return Ok(Parts { rows });
        }
        for row in db
            .query_all(self.sql.build(db.get_database_backend()))
            .await?
        {
            // The part's index and its kind are integer literals (`integer` on PostgreSQL).
            let part: i32 = row.try_get_by_index(0)?;
            let Some(list) = usize::try_from(part).ok().and_then(|i| rows.get_mut(i)) else {
                continue;
            };
            list.push(PartRow {
                kind: row.try_get_by_index::<i32>(1)?.into(),
                number: number(&row, 2)?,
                text: row.try_get_by_index(3)?,
                extra: row.try_get_by_index(4)?,
            });
        }
        Ok(Parts { rows })
    }
}

/// The number column: `bigint` when any part puts an id or a count there (the parts today), but
/// PostgreSQL would type a column of literals and sums only as `integer`.
fn number(row: &QueryResult, i: usize) -> Result<Option<i64>, DbErr> {
    match row.try_get_by_index::<Option<i64>>(i) {
        Ok(n) => Ok(n),
        Err(_) => Ok(row.try_get_by_index::<Option<i32>>(i)?.map(i64::from)),
    }
}

/// The rows of a [`Combined`] read, by part.
#[derive(Debug)]
pub struct Parts {
    rows: Vec<Vec<PartRow>>,
}

impl Parts {
    /// The rows of part `id` (each part's rows can be taken once).
    pub fn take(&mut self, id: PartId) -> Vec<PartRow> {
        self.rows
            .get_mut(id.0)
            .map(std::mem::take)
            .unwrap_or_default()
    }
}

/// Run one part alone, for a caller that has nothing to read with it.
pub async fn one(
    db: &impl ConnectionTrait,
    select: impl FnOnce(&mut Sql),
) -> Result<Vec<PartRow>, DbErr> {
    let mut c = Combined::default();
    let id = c.part(select);
    Ok(c.run(db).await?.take(id))
}
